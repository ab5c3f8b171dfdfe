// CUDA kernels of the reductions: sum, mean, max, min (with and without dim), argmax, argmin,
// amax and amin. The argument checks, result shapes and dtypes are the CPU's
// (src/ops/reduce_rules.h) and so is each op's structure (src/cpu/reduce_kernels.cpp); the
// kernels are in reduce.cuh. Differences from the CPU: float32, float16 and bfloat16 sums
// accumulate in float (as torch's CUDA kernels), so they differ from the CPU's double sums by
// rounding; and amax/amin/max()/min() may return the other zero when -0.0 and 0.0 tie (the
// CPU returns the first).
#include "src/cuda/reduce.cuh"
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt::cuda {
namespace {

using reduce::ReductionShape;
using reduction::run_reduction;
using reduction::SumOp;
using reduction::ValueIndex;

Tensor sum_mean(const Tensor& self, const OptionalDims& dims, bool keepdim, ScalarType out_type, bool is_mean,
                std::string_view name) {
  ReductionShape shape = reduce::reduction_shape(self, dims, keepdim);
  // mean(dtype=) of a floating input accumulates the input itself and rounds once at the end
  // (torch does the same); sum(dtype=) converts the input first, as torch documents.
  if (is_mean && self.dtype() != out_type && is_floating_point(self.dtype())) {
    return to(sum_mean(self, dims, keepdim, self.dtype(), true, name), out_type);
  }
  Tensor input = self.dtype() == out_type ? self : to(self, out_type);
  Tensor out = empty_tensor(shape.kept_shape, out_type, self.device());
  dispatch_all_types(out_type, name, [&](auto tag) {
    using T = decltype(tag);
    run_reduction<T>(SumOp<T>{out.data<T>(), is_mean, static_cast<double>(shape.inner)}, input, shape);
  });
  return keepdim ? out : make_alias(out, shape.result_shape, contiguous_strides(shape.result_shape), 0);
}

Tensor sum_cuda(const Tensor& self, OptionalDims dims, bool keepdim, std::optional<ScalarType> dtype) {
  return sum_mean(self, dims, keepdim, reduce::sum_result_dtype(self, dtype), false, "sum");
}
Tensor mean_cuda(const Tensor& self, OptionalDims dims, bool keepdim, std::optional<ScalarType> dtype) {
  return sum_mean(self, dims, keepdim, reduce::mean_result_dtype(self, dtype), true, "mean");
}

// The extreme value alone (amax, amin, max(), min()); NaN wins.
template <class T, bool IsMax>
struct ExtremeOp {
  using Acc = compute_t<T>;
  T* out;
  __device__ Acc identity() const { return IsMax ? reduction::lowest_value<Acc>() : reduction::highest_value<Acc>(); }
  __device__ Acc map(T x, int64_t) const { return static_cast<Acc>(x); }
  __device__ Acc combine(Acc a, Acc b) const { return (IsMax ? b > a : b < a) || b != b ? b : a; }
  __device__ void write(int64_t i, Acc a) const { out[i] = static_cast<T>(a); }
};

// The extreme value and its index (max.dim, min.dim, argmax, argmin), as the CPU picks them: a
// NaN wins, and of equal values (or NaNs) the first. Comparing indices makes the combination
// independent of the order the kernels combine in.
template <class T, bool IsMax>
struct ArgExtremeOp {
  using C = compute_t<T>;
  using Acc = ValueIndex<C>;
  T* values;  // null for argmax/argmin
  int64_t* indices;
  __device__ Acc identity() const {
    return {IsMax ? reduction::lowest_value<C>() : reduction::highest_value<C>(), std::numeric_limits<int64_t>::max()};
  }
  __device__ Acc map(T x, int64_t index) const { return {static_cast<C>(x), index}; }
  __device__ Acc combine(Acc a, Acc b) const {
    // One select per member, not branches: branches over the struct made ptxas spill.
    const bool a_nan = a.value != a.value, b_nan = b.value != b.value;
    const bool b_further = IsMax ? b.value > a.value : b.value < a.value;
    const bool a_further = IsMax ? a.value > b.value : a.value < b.value;
    const bool take_b = a_nan != b_nan ? b_nan : b_further || (!a_further && b.index < a.index);
    return {take_b ? b.value : a.value, take_b ? b.index : a.index};
  }
  __device__ void write(int64_t i, Acc a) const {
    if (values) values[i] = static_cast<T>(a.value);
    indices[i] = a.index;
  }
};

template <bool IsMax>
Tensor extreme_all(const Tensor& self) {
  const char* name = IsMax ? "max" : "min";
  reduce::check_extreme_all(self, name);
  ReductionShape shape = reduce::reduction_shape(self, std::nullopt, false);
  Tensor values = empty_tensor(shape.kept_shape, self.dtype(), self.device());
  dispatch_all_types(self.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    run_reduction<T>(ExtremeOp<T, IsMax>{values.data<T>()}, self, shape);
  });
  return make_alias(values, {}, {}, 0);
}

template <bool IsMax>
std::tuple<Tensor, Tensor> extreme_dim(const Tensor& self, int64_t dim, bool keepdim) {
  const char* name = IsMax ? "max" : "min";
  reduce::check_extreme_dim(self, dim, name);
  ReductionShape shape = reduce::reduction_shape(self, std::vector<int64_t>{dim}, keepdim);
  Tensor values = empty_tensor(shape.kept_shape, self.dtype(), self.device());
  Tensor indices = empty_tensor(shape.kept_shape, ScalarType::Int64, self.device());
  dispatch_all_types(self.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    run_reduction<T>(ArgExtremeOp<T, IsMax>{values.data<T>(), indices.data<int64_t>()}, self, shape);
  });
  if (keepdim) return {values, indices};
  DimVector strides = contiguous_strides(shape.result_shape);
  return {make_alias(values, shape.result_shape, strides, 0), make_alias(indices, shape.result_shape, strides, 0)};
}

// argmax/argmin write only the indices (the CPU computes the values too and drops them).
template <bool IsMax>
Tensor arg_extreme_dim(const Tensor& self, int64_t dim, bool keepdim, const char* name) {
  ReductionShape shape = reduce::reduction_shape(self, std::vector<int64_t>{dim}, keepdim);
  Tensor indices = empty_tensor(shape.kept_shape, ScalarType::Int64, self.device());
  dispatch_all_types(self.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    run_reduction<T>(ArgExtremeOp<T, IsMax>{nullptr, indices.data<int64_t>()}, self, shape);
  });
  return keepdim ? indices : make_alias(indices, shape.result_shape, contiguous_strides(shape.result_shape), 0);
}

template <bool IsMax>
Tensor arg_extreme(const Tensor& self, std::optional<int64_t> dim, bool keepdim) {
  const char* name = IsMax ? "argmax" : "argmin";
  reduce::check_arg_extreme(self, dim, name);
  if (dim) return arg_extreme_dim<IsMax>(self, *dim, keepdim, name);
  Tensor flat = reshape(self, std::vector<int64_t>{-1});
  Tensor index = arg_extreme_dim<IsMax>(flat, 0, false, name);
  if (!keepdim) return index;
  DimVector ones(self.dim(), 1);
  return make_alias(index, ones, contiguous_strides(ones), 0);
}

// amax/amin: the extreme value over several dims (no indices).
template <bool IsMax>
Tensor extreme_over_dims(const Tensor& self, OptionalDims dims, bool keepdim) {
  const char* name = IsMax ? "amax" : "amin";
  ReductionShape shape = reduce::reduction_shape(self, dims, keepdim);
  reduce::check_amax_amin(self, shape, name);
  Tensor values = empty_tensor(shape.kept_shape, self.dtype(), self.device());
  dispatch_all_types(self.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    run_reduction<T>(ExtremeOp<T, IsMax>{values.data<T>()}, self, shape);
  });
  return keepdim ? values : make_alias(values, shape.result_shape, contiguous_strides(shape.result_shape), 0);
}

}  // namespace

VT_REGISTRATION(reduce_cuda) {
  register_kernel("amax", DispatchKey::CUDA, &extreme_over_dims<true>);
  register_kernel("amin", DispatchKey::CUDA, &extreme_over_dims<false>);
  register_kernel("sum.dim_IntList", DispatchKey::CUDA, &sum_cuda);
  register_kernel("mean.dim", DispatchKey::CUDA, &mean_cuda);
  register_kernel("max", DispatchKey::CUDA, &extreme_all<true>);
  register_kernel("min", DispatchKey::CUDA, &extreme_all<false>);
  register_kernel("max.dim", DispatchKey::CUDA, &extreme_dim<true>);
  register_kernel("min.dim", DispatchKey::CUDA, &extreme_dim<false>);
  register_kernel("argmax", DispatchKey::CUDA, &arg_extreme<true>);
  register_kernel("argmin", DispatchKey::CUDA, &arg_extreme<false>);
}

}  // namespace vt::cuda
