// Data parallelism across processes: each rank runs the same model on its share of the global
// batch, and gradients are averaged with an all-reduce (torch c10d: NCCL for CUDA where libtorch
// has it, Gloo otherwise). Rendezvous is torchrun's: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT,
// with a TCPStore on rank 0; on CUDA each rank takes GPU LOCAL_RANK.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace bespoke::train {

class DataParallel {
 public:
  // One process (rank 0 of 1) when WORLD_SIZE is unset or 1; otherwise joins the group named
  // by the environment, training on `device` ("cpu" or "cuda"). Throws Error(kUsage) for an
  // incomplete or inconsistent environment.
  static DataParallel from_env(const std::string& device);
  // Joins (rank 0 creates) the group of `world` processes that rendezvous at addr:port.
  static DataParallel join(int rank, int world, const std::string& addr, int port, const torch::Device& device);

  // The device this rank trains on: on CUDA, its own GPU.
  const torch::Device& device() const { return device_; }
  // "nccl", "gloo", or "none" for a single process.
  std::string backend() const;

  int rank() const { return rank_; }
  int world() const { return world_; }
  bool leader() const { return rank_ == 0; }

  // Replaces each tensor by its mean over the ranks: one all-reduce per bucket of consecutive
  // tensors up to `bucket_bytes` (a larger tensor is a bucket of its own, reduced in place), so
  // a 1-2B model's gradients are never copied all at once.
  void average(const std::vector<torch::Tensor>& tensors, int64_t bucket_bytes = int64_t(64) << 20);
  double sum(double value);
  void barrier();

 private:
  struct Group;
  DataParallel(int rank, int world, torch::Device device, std::shared_ptr<Group> group)
      : rank_(rank), world_(world), device_(device), group_(std::move(group)) {}
  int rank_ = 0, world_ = 1;
  torch::Device device_;
  std::shared_ptr<Group> group_;  // null for a single process
};

// A loopback port the kernel reports free right now (a TCPStore binds it a moment later).
int free_port();

// Runs `argv` as `n` processes (RANK and LOCAL_RANK 0..n-1, WORLD_SIZE n, MASTER_ADDR 127.0.0.1, a free
// MASTER_PORT), forwarding SIGINT/SIGTERM to them. The first to fail stops the others (SIGTERM,
// then SIGKILL 20 s later). Returns the first non-zero exit code, or 0.
int launch_local(int n, const std::vector<std::string>& argv);

}  // namespace bespoke::train
