#define USE_C10D_GLOO
#include "bespoke/train/distributed.h"

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "bespoke/core/error.h"

extern char** environ;

namespace bespoke::train {

struct DataParallel::Group {
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
};

namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  try {
    return std::stoi(v);
  } catch (const std::exception&) {
    fail(ErrorKind::kUsage, std::string(name) + "='" + v + "' is not an integer");
  }
}

}  // namespace

DataParallel DataParallel::from_env() {
  const int world = env_int("WORLD_SIZE", 1), rank = env_int("RANK", 0);
  if (world <= 1) return DataParallel(0, 1, nullptr);
  if (rank < 0 || rank >= world) fail(ErrorKind::kUsage, "RANK must be in [0, WORLD_SIZE)");
  const char* addr = std::getenv("MASTER_ADDR");
  const int port = env_int("MASTER_PORT", -1);
  if (!addr || port <= 0 || port > 65535) fail(ErrorKind::kUsage, "WORLD_SIZE > 1 needs MASTER_ADDR and MASTER_PORT");
  c10d::TCPStoreOptions store_options;
  store_options.port = uint16_t(port);
  store_options.isServer = rank == 0;
  store_options.numWorkers = world;
  auto store = c10::make_intrusive<c10d::TCPStore>(addr, store_options);
  auto options = c10d::ProcessGroupGloo::Options::create();
  const std::string host = addr;
  options->devices.push_back(host == "127.0.0.1" || host == "localhost"
                                 ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                 : c10d::ProcessGroupGloo::createDefaultDevice());
  auto group = std::make_shared<Group>();
  group->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, options);
  return DataParallel(rank, world, group);
}

void DataParallel::average(const std::vector<torch::Tensor>& tensors) {
  if (!group_ || tensors.empty()) return;
  std::vector<torch::Tensor> parts;
  for (const torch::Tensor& t : tensors) parts.push_back(t.reshape(-1));
  std::vector<torch::Tensor> flat = {torch::cat(parts)};
  group_->gloo->allreduce(flat)->wait();
  flat[0].div_(world_);
  int64_t offset = 0;
  for (const torch::Tensor& t : tensors) {
    t.copy_(flat[0].narrow(0, offset, t.numel()).view_as(t));
    offset += t.numel();
  }
}

double DataParallel::sum(double value) {
  if (!group_) return value;
  std::vector<torch::Tensor> t = {torch::tensor({value}, torch::kFloat64)};
  group_->gloo->allreduce(t)->wait();
  return t[0].item<double>();
}

void DataParallel::barrier() {
  if (group_) group_->gloo->barrier()->wait();
}

namespace {

std::vector<pid_t> children;

void forward_signal(int sig) {
  for (pid_t p : children) ::kill(p, sig);
}

// A port the kernel reports free right now (the TCPStore binds it a moment later).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    fail(ErrorKind::kIo, "cannot find a free local port for the process group");
  const int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

}  // namespace

int launch_local(int n, const std::vector<std::string>& argv) {
  const std::string port = std::to_string(free_port());
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (int rank = 0; rank < n; ++rank) {
    std::vector<std::string> env = {"RANK=" + std::to_string(rank), "WORLD_SIZE=" + std::to_string(n),
                                    "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + port};
    for (char** e = environ; *e; ++e) {
      const std::string kv = *e;
      if (kv.rfind("RANK=", 0) && kv.rfind("WORLD_SIZE=", 0) && kv.rfind("MASTER_ADDR=", 0) && kv.rfind("MASTER_PORT=", 0))
        env.push_back(kv);
    }
    std::vector<char*> envp;
    for (std::string& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t pid = 0;
    if (::posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), envp.data()) != 0)
      fail(ErrorKind::kIo, "cannot start " + argv[0]);
    children.push_back(pid);
  }
  ::signal(SIGINT, forward_signal);
  ::signal(SIGTERM, forward_signal);
  int result = 0;
  for (pid_t p : children) {
    int status = 0;
    while (::waitpid(p, &status, 0) < 0 && errno == EINTR) {
    }
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (result == 0) result = code;
  }
  return result;
}

}  // namespace bespoke::train
