// The one-group conv2d kernels that every backend can fall back on (src/ops/conv.cpp): the
// forward as one matrix product over im2col's columns, and the gradients of the input, the
// weight and the bias from mm and col2im. The CPU's forward and cuDNN's take over where they
// can and call these for the rest.
#pragma once
#include <array>
#include <optional>
#include <tuple>

#include "vt/tensor.h"

namespace vt::conv {

Tensor conv2d_dense_decomposed(const Tensor& x, const Tensor& weight, const std::optional<Tensor>& bias,
                               IntArrayRef stride, IntArrayRef padding, IntArrayRef dilation);

// (grad of x, grad of weight, grad of bias), each only where output_mask asks for it.
std::tuple<Tensor, Tensor, Tensor> conv2d_dense_backward_decomposed(const Tensor& grad_output, const Tensor& x,
                                                                   const Tensor& weight, IntArrayRef stride,
                                                                   IntArrayRef padding, IntArrayRef dilation,
                                                                   std::array<bool, 3> output_mask);

}  // namespace vt::conv
