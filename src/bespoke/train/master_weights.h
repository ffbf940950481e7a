// The weights training holds in fp32: the parameters themselves, or, for bf16 training, fp32
// masters that the optimizer updates and then copies into the bf16 parameters. Gradients end
// up on the masters, summed in fp32 over micro-batches (and the head's over the loss's chunks):
// a bf16 running sum would drop what a late addition brings below its 8-bit mantissa.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace bespoke::train {

class MasterWeights {
 public:
  // Takes `param` (named `name`) and returns its master. A frozen parameter is its own master,
  // in its own dtype, and never gets a gradient: checkpoints keep only what trains.
  torch::Tensor add(const std::string& name, const torch::Tensor& param, bool frozen);

  // After each micro-batch's backward: moves the bf16 parameters' gradients into their masters'.
  void accumulate_grads();
  // Before the optimizer step: every trainable master has a gradient, zeros where no path led
  // to it (a rank's all-reduce needs the same tensors on every rank).
  void finish_grads();
  // After the step: the masters' values into the parameters, and no gradients left anywhere.
  void publish();

  const std::vector<std::string>& names() const { return names_; }
  const std::vector<torch::Tensor>& masters() const { return masters_; }
  // The trainable masters, in the model's order.
  const std::vector<torch::Tensor>& trainable() const { return trainable_; }
  bool frozen(size_t i) const { return frozen_[i]; }

 private:
  std::vector<std::string> names_;
  std::vector<torch::Tensor> params_, masters_;  // masters_[i] is params_[i] when it is fp32
  std::vector<torch::Tensor> trainable_;
  std::vector<bool> frozen_;
};

}  // namespace bespoke::train
