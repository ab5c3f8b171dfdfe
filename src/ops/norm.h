// Shared by the normalization ops (src/ops/norm.cpp, src/ops/loss.cpp) and the backends' layer
// norm kernels (src/cpu/norm_kernels.cpp, src/cuda/norm_kernels.cu).
#pragma once
#include <optional>
#include <vector>

#include "vt/tensor.h"

namespace vt {

// The trailing dims that `normalized_shape` names, checked against the input's shape (torch's
// error text when they differ).
std::vector<int64_t> normalized_dims(const Tensor& input, IntArrayRef normalized_shape, const char* op);

// A layer norm's input as rows of `inner` elements: the normalized trailing dims flattened.
struct LayerNormShape {
  int64_t rows;
  int64_t inner;
};
LayerNormShape layer_norm_shape(const Tensor& input, IntArrayRef normalized_shape);

// The shape of mean and rstd: the batch dims, then a 1 per normalized dim (torch's layout).
DimVector layer_norm_statistics_shape(const Tensor& input, IntArrayRef normalized_shape);

// A weight or bias checked against torch's rules and made dense in the input's dtype (undefined
// when absent). Like torch on the CPU, 16-bit inputs accept float32 parameters; other mixes are
// refused, the message naming `backend` ("CPU").
Tensor layer_norm_parameter(const std::optional<Tensor>& t, const char* name, const Tensor& input,
                            IntArrayRef normalized_shape, const char* backend);

// native_layer_norm_backward: grad_out, mean and rstd fit the input's `shape`.
void check_layer_norm_backward(const Tensor& grad_out, const Tensor& input, const Tensor& mean, const Tensor& rstd,
                               const LayerNormShape& shape);

}  // namespace vt
