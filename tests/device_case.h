// One device and dtype as a parameterised case of its own, so that a CUDA case on a machine
// without a GPU is reported as skipped rather than passed.
#pragma once

#include <torch/torch.h>

#include <ostream>
#include <string>

namespace bespoke::test {

struct DeviceCase {
  torch::Device device;
  torch::Dtype dtype;
};

inline std::ostream& operator<<(std::ostream& out, const DeviceCase& c) { return out << c.device << " " << c.dtype; }

// The case's test name: "cpu_Float".
inline std::string device_case_name(const DeviceCase& c) { return c.device.str() + "_" + c10::toString(c.dtype); }

}  // namespace bespoke::test
