// The argument rules of the kernels that move data by an index tensor (gather, scatter,
// scatter_add, scatter_reduce, index_select, index_add, index_copy) and their per-element
// arithmetic, shared by the CPU and CUDA kernels: both accept the same arguments, raise the
// same errors and combine values with the same expressions.
#pragma once
#include <algorithm>
#include <string_view>
#include <type_traits>

#include "vt/dtype.h"
#include "vt/host_device.h"
#include "vt/tensor.h"

namespace vt::index_rules {

inline void check_index_dtype(const Tensor& index, const char* op) {
  VT_CHECK(index.dtype() == ScalarType::Int64, op, "(): Expected dtype int64 for index");
}

// Index tensors do not wrap negative values (unlike Python indexing), as in torch. torch
// raises RuntimeError from gather/scatter and IndexError from index_select/index_add.
inline int64_t checked_index(int64_t i, int64_t size, int64_t dim, const char* op, ErrorKind kind = ErrorKind::Runtime) {
  VT_CHECK_KIND(i >= 0 && i < size, kind, op, "(): index ", i, " is out of bounds for dimension ", dim, " with size ", size);
  return i;
}

// The size of `dim` that indices address: 1 for a 0-dim tensor.
inline int64_t indexed_size(const Tensor& self, int64_t d) { return self.dim() == 0 ? 1 : self.sizes()[d]; }

// Returns the wrapped dim.
inline int64_t check_gather(const Tensor& self, int64_t dim, const Tensor& index) {
  check_index_dtype(index, "gather");
  int64_t d = wrap_dim(dim, self.dim());
  VT_CHECK(index.dim() == self.dim() || (self.dim() == 0 && index.dim() <= 1),
           "Index tensor must have the same number of dimensions as input tensor");
  for (int64_t k = 0; k < index.dim(); ++k) {
    VT_CHECK(k == d || index.sizes()[k] <= self.sizes()[k], "Size does not match at dimension ", k,
             " expected index ", shape_str(index.sizes()), " to be no larger than self ", shape_str(self.sizes()),
             " apart from dimension ", d);
  }
  return d;
}

enum class ScatterMode { Assign, Sum, Prod, Mean, Amax, Amin };

inline ScatterMode scatter_mode(std::string_view reduce) {
  if (reduce == "sum") return ScatterMode::Sum;
  if (reduce == "prod") return ScatterMode::Prod;
  if (reduce == "mean") return ScatterMode::Mean;
  if (reduce == "amax" || reduce == "max") return ScatterMode::Amax;  // torch takes max/min too
  if (reduce == "amin" || reduce == "min") return ScatterMode::Amin;
  fail(ErrorKind::Runtime, "reduce argument must be either sum, prod, mean, amax or amin, got ", reduce);
}

inline void check_scatter_add_dtype(const Tensor& self) {
  VT_CHECK(self.dtype() != ScalarType::Bool, "scatter_add(): \"scatter_add\" not implemented for 'Bool'");
}

// Returns the wrapped dim.
inline int64_t check_scatter(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src, const char* op) {
  check_index_dtype(index, op);
  int64_t d = wrap_dim(dim, self.dim());
  VT_CHECK(src.dtype() == self.dtype(), op, "(): Expected self.dtype to be equal to src.dtype");
  VT_CHECK(index.dim() == self.dim() && (src.dim() == self.dim() || index.numel() == 0),
           "Index tensor must have the same number of dimensions as self tensor");
  for (int64_t k = 0; k < index.dim(); ++k) {
    // Every index position must exist in src, and (off `dim`) in self: no read or write past them.
    VT_CHECK(index.sizes()[k] <= src.sizes()[k] && (k == d || index.sizes()[k] <= self.sizes()[k]),
             "Expected index ", shape_str(index.sizes()), " to be no larger than self ", shape_str(self.sizes()),
             " apart from dimension ", d, " and to be no larger size than src ", shape_str(src.sizes()));
  }
  return d;
}

// The value of an element after `b` is scattered into it (`a`, in the compute type).
template <class T>
VT_HOST_DEVICE compute_t<T> scatter_combine(ScatterMode mode, compute_t<T> a, compute_t<T> b) {
  switch (mode) {
    case ScatterMode::Assign: return b;
    case ScatterMode::Sum: case ScatterMode::Mean:
      if constexpr (std::is_same_v<T, bool>) return a || b; else return a + b;
    case ScatterMode::Prod:
      if constexpr (std::is_same_v<T, bool>) return a && b; else return a * b;
    case ScatterMode::Amax: return (b > a || b != b) ? b : a;  // NaN propagates
    case ScatterMode::Amin: return (b < a || b != b) ? b : a;
  }
  return b;
}

// reduce='mean': the sum of `count` values divided by the count (integers floored, as torch).
template <class T>
VT_HOST_DEVICE T scatter_mean(T sum, int64_t count) {
  using C = compute_t<T>;
  if (count <= 1) return sum;
  if constexpr (std::is_floating_point_v<C>) {
    return static_cast<T>(static_cast<C>(sum) / static_cast<C>(count));
  } else if constexpr (!std::is_same_v<T, bool>) {
    C q = static_cast<C>(sum / static_cast<C>(count));
    if ((sum % static_cast<C>(count) != 0) && ((sum < 0) != (count < 0))) --q;
    return static_cast<T>(q);
  }
  return sum;
}

// Returns the wrapped dim.
inline int64_t check_index_select(const Tensor& self, int64_t dim, const Tensor& index) {
  VT_CHECK(index.dtype() == ScalarType::Int64 || index.dtype() == ScalarType::Int32,
           "index_select(): Expected dtype int32/int64 for index");
  VT_CHECK(index.dim() <= 1, "index_select(): Index is supposed to be a vector");
  return wrap_dim(dim, self.dim());
}

// Returns the wrapped dim.
inline int64_t check_index_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source) {
  VT_CHECK_INDEX(index.dim() <= 1, "index_add_(): Index is supposed to be a vector");
  VT_CHECK(index.dtype() == ScalarType::Int64 || index.dtype() == ScalarType::Int32,
           "index_add_(): Expected dtype int32/int64 for index");
  VT_CHECK(source.dtype() == self.dtype(), "index_add_(): self (", dtype_short_name(self.dtype()), ") and source (",
           dtype_short_name(source.dtype()), ") must have the same scalar type");
  int64_t d = wrap_dim(dim, self.dim());
  // A 0-dim source is expanded to self's slices, or (self 0-dim too) is one slice.
  VT_CHECK(source.dim() == 0 ? self.dim() > 0 || index.numel() <= 1 : source.size(d) == index.numel(),
           "index_add_(): Number of indices (", index.numel(), ") should be equal to source.size(dim) (",
           source.dim() == 0 ? 1 : source.size(d), ")");
  // The kernels read source as self's slices: a source of other dims would be read past its end.
  VT_CHECK(source.dim() == 0 || source.dim() == std::max<int64_t>(self.dim(), 1), "index_add_(): source and self ",
           "must match in every dimension but ", d, ": self ", shape_str(self.sizes()), ", source ",
           shape_str(source.sizes()));
  for (int64_t k = 0; k < source.dim(); ++k) {
    VT_CHECK(k == d || source.sizes()[k] == self.sizes()[k], "index_add_(): source and self must match in every ",
             "dimension but ", d, ": self ", shape_str(self.sizes()), ", source ", shape_str(source.sizes()));
  }
  return d;
}

// torch raises IndexError from index_add on a vector, RuntimeError otherwise.
inline ErrorKind index_add_error_kind(const Tensor& self) {
  return self.dim() <= 1 ? ErrorKind::Index : ErrorKind::Runtime;
}

// alpha converts to the dtype, as torch does (1.5 adds an int64 source once).
template <class T>
compute_t<T> index_add_scale(const Scalar& alpha) {
  using C = compute_t<T>;
  if constexpr (std::is_same_v<C, bool>) return alpha.to_double() != 0;
  else if constexpr (std::is_integral_v<C>) return static_cast<C>(alpha.to_int());
  else return static_cast<C>(alpha.to_double());
}

template <class T>
VT_HOST_DEVICE T index_add_element(T target, compute_t<T> scale, T piece) {
  using C = compute_t<T>;
  return static_cast<T>(static_cast<C>(target) + scale * static_cast<C>(piece));
}

// Returns the wrapped dim.
inline int64_t check_index_copy(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source) {
  VT_CHECK(index.dtype() == ScalarType::Int64, "index_copy_(): Expected a long tensor for index, but got ",
           dtype_short_name(index.dtype()));
  VT_CHECK(source.dtype() == self.dtype(), "index_copy_(): self and source expected to have the same dtype, but got ",
           "(self) ", dtype_short_name(self.dtype()), " and (source) ", dtype_short_name(source.dtype()));
  VT_CHECK_INDEX(index.dim() <= 1, "index_copy_(): Index should have dimension 1 or 0 (got ", index.dim(), ")");
  int64_t d = wrap_dim(dim, self.dim());
  VT_CHECK_INDEX(source.dim() == 0 || source.size(d) == index.numel(), "index_copy_(): Number of indices (",
                 index.numel(), ") should be equal to source.size(dim) (", source.dim() == 0 ? 1 : source.size(d),
                 ")");
  for (int64_t k = 0; k < source.dim(); ++k) {
    VT_CHECK(k == d || source.sizes()[k] == self.sizes()[k], "index_copy_(): Source/destination tensor must have ",
             "same slice shapes. Destination slice shape: ", shape_str(self.sizes()), ", source slice shape: ",
             shape_str(source.sizes()), " (they differ in dimension ", k, ")");
  }
  return d;
}

}  // namespace vt::index_rules
