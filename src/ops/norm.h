// Shared by the normalization ops (src/ops/norm.cpp, src/ops/loss.cpp).
#pragma once
#include <vector>

#include "vt/tensor.h"

namespace vt {

// The trailing dims that `normalized_shape` names, checked against the input's shape (torch's
// error text when they differ).
std::vector<int64_t> normalized_dims(const Tensor& input, IntArrayRef normalized_shape, const char* op);

}  // namespace vt
