#include "bespoke/model/linear.h"

namespace bespoke::model {

LinearImpl::LinearImpl(int64_t in, int64_t out, bool with_bias, const torch::TensorOptions& options)
    : weight(register_parameter("weight", torch::empty({out, in}, options))) {
  if (with_bias) bias = register_parameter("bias", torch::empty({out}, options));
}

EmbeddingImpl::EmbeddingImpl(int64_t rows, int64_t dim, const torch::TensorOptions& options)
    : weight(register_parameter("weight", torch::empty({rows, dim}, options))) {}

}  // namespace bespoke::model
