#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO  // Debian's libtorch has Gloo, but its CMake targets do not all say so
#endif
#include "bespoke/train/distributed.h"

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <torch/version.h>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef BESPOKE_NCCL  // CMake: libtorch has NCCL and its headers compile here
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "bespoke/core/error.h"

extern char** environ;

namespace bespoke::train {

#if TORCH_VERSION_MAJOR >= 2
using Collectives = c10d::Backend;
#else
using Collectives = c10d::ProcessGroup;
#endif

struct DataParallel::Group {
  c10::intrusive_ptr<Collectives> collectives;
  std::string name;
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

DataParallel DataParallel::from_env(const std::string& device) {
  const int world = env_int("WORLD_SIZE", 1), rank = env_int("RANK", 0);
  torch::Device on(device);
  if (world <= 1) return DataParallel(0, 1, on, nullptr);
  if (rank < 0 || rank >= world) fail(ErrorKind::kUsage, "RANK must be in [0, WORLD_SIZE)");
  const char* addr = std::getenv("MASTER_ADDR");
  const int port = env_int("MASTER_PORT", -1);
  if (!addr || port <= 0 || port > 65535) fail(ErrorKind::kUsage, "WORLD_SIZE > 1 needs MASTER_ADDR and MASTER_PORT");
  if (on.is_cuda() && !on.has_index()) {
    const int local = env_int("LOCAL_RANK", rank), gpus = int(torch::cuda::device_count());
    if (local < 0 || local >= gpus)
      fail(ErrorKind::kUsage,
           "LOCAL_RANK " + std::to_string(local) + " has no GPU: this machine has " + std::to_string(gpus));
    on = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local));
  }
  return join(rank, world, addr, port, on);
}

DataParallel DataParallel::join(int rank, int world, const std::string& addr, int port, const torch::Device& device) {
  c10d::TCPStoreOptions store_options;
  store_options.port = uint16_t(port);
  store_options.isServer = rank == 0;
  store_options.numWorkers = world;
  auto store = c10::make_intrusive<c10d::TCPStore>(addr, store_options);
  auto group = std::make_shared<Group>();
#ifdef BESPOKE_NCCL
  if (device.is_cuda()) {
    group->collectives = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world);
    group->name = "nccl";
    return DataParallel(rank, world, device, group);
  }
#endif
  auto options = c10d::ProcessGroupGloo::Options::create();
  options->devices.push_back(addr == "127.0.0.1" || addr == "localhost"
                                 ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                 : c10d::ProcessGroupGloo::createDefaultDevice());
  group->collectives = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, options);
  group->name = "gloo";
  return DataParallel(rank, world, device, group);
}

std::string DataParallel::backend() const {
  return group_ ? group_->name : "none";
}

void DataParallel::average(const std::vector<torch::Tensor>& tensors, int64_t bucket_bytes) {
  if (!group_) return;
  for (size_t begin = 0, end = 0; begin < tensors.size(); begin = end) {
    int64_t bytes = 0;
    for (end = begin; end < tensors.size() && (end == begin || bytes + tensors[end].nbytes() <= size_t(bucket_bytes));
         ++end)
      bytes += tensors[end].nbytes();
    if (end == begin + 1 && tensors[begin].is_contiguous()) {
      std::vector<torch::Tensor> one = {tensors[begin]};
      group_->collectives->allreduce(one)->wait();
      tensors[begin].div_(world_);
      continue;
    }
    std::vector<torch::Tensor> parts;
    for (size_t i = begin; i < end; ++i) parts.push_back(tensors[i].reshape(-1));
    std::vector<torch::Tensor> flat = {torch::cat(parts)};
    group_->collectives->allreduce(flat)->wait();
    flat[0].div_(world_);
    int64_t offset = 0;
    for (size_t i = begin; i < end; ++i) {
      tensors[i].copy_(flat[0].narrow(0, offset, tensors[i].numel()).view_as(tensors[i]));
      offset += tensors[i].numel();
    }
  }
}

double DataParallel::sum(double value) {
  if (!group_) return value;
  // NCCL reduces only device tensors; Gloo's host path needs no copies.
  const torch::Device where = backend() == "nccl" ? device_ : torch::Device(torch::kCPU);
  std::vector<torch::Tensor> t = {torch::tensor({value}, torch::kFloat64).to(where)};
  group_->collectives->allreduce(t)->wait();
  return t[0].item<double>();
}

void DataParallel::barrier() {
  if (group_) group_->collectives->barrier()->wait();
}

namespace {

std::vector<pid_t> children;

// Reaped workers are 0 in `children`: their pids may belong to someone else by now.
void forward_signal(int sig) {
  for (pid_t p : children)
    if (p > 0) ::kill(p, sig);
}

}  // namespace

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

int launch_local(int n, const std::vector<std::string>& argv) {
  children.clear();
  const std::string port = std::to_string(free_port());
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (int rank = 0; rank < n; ++rank) {
    std::vector<std::string> env = {"RANK=" + std::to_string(rank), "LOCAL_RANK=" + std::to_string(rank),
                                    "WORLD_SIZE=" + std::to_string(n), "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + port};
    for (char** e = environ; *e; ++e) {
      const std::string kv = *e;
      bool ours = false;
      for (const char* name : {"RANK=", "LOCAL_RANK=", "WORLD_SIZE=", "MASTER_ADDR=", "MASTER_PORT="})
        ours = ours || kv.rfind(name, 0) == 0;
      if (!ours) env.push_back(kv);
    }
    std::vector<char*> envp;
    for (std::string& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t pid = 0;
    if (::posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), envp.data()) != 0)
      fail(ErrorKind::kIo, "cannot start " + argv[0]);
    children.push_back(pid);
  }
  const auto old_int = ::signal(SIGINT, forward_signal), old_term = ::signal(SIGTERM, forward_signal);
  // The first worker to fail stops the rest: they would otherwise wait for it in an all-reduce
  // until the collective's timeout. SIGTERM, then SIGKILL after a grace period for those blocked
  // in a collective, who cannot act on it.
  int result = 0;
  size_t running = children.size();
  bool stopping = false;
  std::chrono::steady_clock::time_point grace_ends;
  while (running > 0) {
    int status = 0;
    const pid_t done = ::waitpid(-1, &status, stopping ? WNOHANG : 0);
    if (done < 0 && errno == EINTR) continue;
    if (done < 0) {  // no children left to wait for, though some workers were not seen to end
      result = result != 0 ? result : 1;
      break;
    }
    if (done == 0) {  // in a failure's grace period, and no worker has ended since
      if (std::chrono::steady_clock::now() < grace_ends) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      } else {
        forward_signal(SIGKILL);
        stopping = false;
      }
      continue;
    }
    const auto worker = std::find(children.begin(), children.end(), done);
    if (worker == children.end()) continue;  // some other child of this process
    *worker = 0;
    --running;
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code != 0 && result == 0) {
      result = code;
      forward_signal(SIGTERM);
      stopping = true;
      grace_ends = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    }
  }
  ::signal(SIGINT, old_int);
  ::signal(SIGTERM, old_term);
  return result;
}

}  // namespace bespoke::train
