// The argument rules of the softmax kernels (`_softmax`, `_log_softmax` and their backward),
// shared by every backend.
#pragma once
#include <algorithm>

#include "vt/dtype.h"
#include "vt/tensor.h"

namespace vt::softmax_rules {

// The dim the softmax runs along; a 0-dim tensor is one row of one element.
inline int64_t softmax_dim(const Tensor& self, int64_t dim) { return wrap_dim(dim, std::max<int64_t>(self.dim(), 1)); }

// The forward computes in floating types only (torch's message names its CPU kernel).
inline void check_input_dtype(const Tensor& self, bool log) {
  VT_CHECK_KIND(is_floating_point(self.dtype()), ErrorKind::NotImplemented, "\"", log ? "log_softmax" : "softmax",
                "_lastdim_kernel_impl\" not implemented for '", dtype_short_name(self.dtype()), "'");
}

// Rows compute in double for float64, else in float (16-bit types, and the backward's
// non-floating gradients, which are converted).
inline ScalarType compute_type(ScalarType type) {
  return type == ScalarType::Float64 ? ScalarType::Float64 : ScalarType::Float32;
}

}  // namespace vt::softmax_rules
