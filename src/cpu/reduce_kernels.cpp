// CPU reductions. The input is laid out as rows ([results, reduced elements], each row
// contiguous, copying only when the layout demands it); a row reduces with independent
// accumulator lanes the compiler vectorizes. Reducing leading dims of a contiguous tensor
// (a bias gradient, a batch mean) instead adds whole rows into the result.
#include <cmath>
#include <limits>
#include <numeric>

#include "src/ops/reduce_rules.h"
#include "src/cpu/vec_math.h"
#include "vt/dispatch.h"
#include "vt/parallel.h"

namespace vt::cpu {
namespace {

using reduce::as_rows;
using reduce::ReductionShape;

// Accumulator types: int64 for integers, double for every floating type (vectorized lanes
// of double keep a float32 sum of millions of elements accurate, and the sum stays
// memory-bound).
template <class T> using block_acc_t = std::conditional_t<std::is_floating_point_v<compute_t<T>>, double, int64_t>;
template <class T> using total_acc_t = std::conditional_t<std::is_floating_point_v<compute_t<T>>, double, int64_t>;

template <class T>
total_acc_t<T> sum_row(const T* x, int64_t n) {
  using Block = block_acc_t<T>;
  constexpr int kLanes = 8;
  constexpr int64_t kBlock = 2048;  // float lanes stay accurate within a block
  total_acc_t<T> total = 0;
  for (int64_t start = 0; start < n; start += kBlock) {
    int64_t end = std::min(n, start + kBlock);
    Block lanes[kLanes] = {};
    int64_t i = start;
    for (; i + kLanes <= end; i += kLanes) {
      for (int k = 0; k < kLanes; ++k) lanes[k] += static_cast<Block>(static_cast<compute_t<T>>(x[i + k]));
    }
    Block block = 0;
    for (; i < end; ++i) block += static_cast<Block>(static_cast<compute_t<T>>(x[i]));
    for (int k = 0; k < kLanes; ++k) block += lanes[k];
    total += block;
  }
  return total;
}

// acc[j - lo] += sum over the rows of x[r * width + j] for float32 input: blocks of 32 rows add
// up in float (vector adds, no conversions), and each block's sums go into the double
// accumulators.
VT_MULTIVERSION void add_float_rows(const float* x, int64_t rows, int64_t width, int64_t lo, int64_t hi,
                                    double* acc) {
  constexpr int64_t kRowBlock = 32;
  std::vector<float> partial(hi - lo);
  float* __restrict block = partial.data();
  for (int64_t r0 = 0; r0 < rows; r0 += kRowBlock) {
    std::fill(partial.begin(), partial.end(), 0.0f);
    for (int64_t r = r0; r < std::min(rows, r0 + kRowBlock); ++r) {
      const float* __restrict row = x + r * width + lo;
      for (int64_t j = 0; j < hi - lo; ++j) block[j] += row[j];
    }
    for (int64_t j = 0; j < hi - lo; ++j) acc[j] += block[j];
  }
}

// float32 rows: eight float lanes per block of 256 elements (vector adds, no conversions),
// each block's sum added in double; as accurate as torch's cascade sum (test_reduce.py).
VT_MULTIVERSION double sum_float_row(const float* x, int64_t n) {
  constexpr int64_t kBlock = 256;
  double total = 0;
  for (int64_t start = 0; start < n; start += kBlock) {
    const int64_t end = std::min(n, start + kBlock);
    f8 lanes = splat(0.0f);
    int64_t i = start;
    for (; i + kLanes <= end; i += kLanes) lanes += load(x + i);
    float block = lane_sum(lanes);
    for (; i < end; ++i) block += x[i];
    total += block;
  }
  return total;
}
template <>
double sum_row<float>(const float* x, int64_t n) {
  return sum_float_row(x, n);
}

// The reduced dims are exactly the leading ones of a contiguous tensor: add rows together.
bool reduces_leading_dims(const Tensor& self, const ReductionShape& shape) {
  if (!self.is_contiguous() || shape.inner <= 1 || shape.outer <= 1) return false;
  bool seen_kept = false;
  for (bool r : shape.reduced) {
    if (!r) seen_kept = true;
    else if (seen_kept) return false;
  }
  return true;
}

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
    using Total = total_acc_t<T>;
    T* result = out.data<T>();
    auto finish = [&](Total total) -> T {
      if (is_mean) return static_cast<T>(static_cast<compute_t<T>>(static_cast<double>(total) / static_cast<double>(shape.inner)));
      return static_cast<T>(static_cast<compute_t<T>>(total));
    };
    if (reduces_leading_dims(input, shape)) {
      const T* x = input.data<T>();
      int64_t width = shape.outer;
      parallel_for(0, width, std::max<int64_t>(1, kGrainSize / shape.inner), [&](int64_t lo, int64_t hi) {
        std::vector<block_acc_t<T>> acc(hi - lo, 0);
        if constexpr (std::is_same_v<T, float>) {
          add_float_rows(x, shape.inner, width, lo, hi, acc.data());
        } else {
          for (int64_t r = 0; r < shape.inner; ++r) {
            const T* row = x + r * width;
            for (int64_t j = lo; j < hi; ++j) acc[j - lo] += static_cast<block_acc_t<T>>(static_cast<compute_t<T>>(row[j]));
          }
        }
        for (int64_t j = lo; j < hi; ++j) result[j] = finish(static_cast<Total>(acc[j - lo]));
      });
      return;
    }
    Tensor rows = as_rows(input, shape);
    const T* x = rows.data<T>();
    int64_t row_stride = rows.strides()[0];
    if (shape.outer == 1 && shape.inner >= 2 * kGrainSize) {
      // One long row: partial sums in parallel.
      int64_t chunks = num_threads();
      std::vector<Total> partial(chunks, 0);
      int64_t chunk = (shape.inner + chunks - 1) / chunks;
      parallel_for(0, chunks, 1, [&](int64_t lo, int64_t hi) {
        for (int64_t c = lo; c < hi; ++c) {
          int64_t begin = c * chunk, end = std::min(shape.inner, begin + chunk);
          if (begin < end) partial[c] = sum_row(x + begin, end - begin);
        }
      });
      result[0] = finish(std::accumulate(partial.begin(), partial.end(), Total(0)));
      return;
    }
    parallel_for(0, shape.outer, std::max<int64_t>(1, kGrainSize / std::max<int64_t>(shape.inner, 1)), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) result[r] = finish(sum_row(x + r * row_stride, shape.inner));
    });
  });
  return keepdim ? out : make_alias(out, shape.result_shape, contiguous_strides(shape.result_shape), 0);
}

Tensor sum_cpu(const Tensor& self, OptionalDims dims, bool keepdim, std::optional<ScalarType> dtype) {
  return sum_mean(self, dims, keepdim, reduce::sum_result_dtype(self, dtype), false, "sum");
}
Tensor mean_cpu(const Tensor& self, OptionalDims dims, bool keepdim, std::optional<ScalarType> dtype) {
  return sum_mean(self, dims, keepdim, reduce::mean_result_dtype(self, dtype), true, "mean");
}

// Index of the max (or min) in a row; NaN wins, and the first of equal values wins.
template <bool IsMax, class T>
int64_t extreme_index(const T* x, int64_t n) {
  using C = compute_t<T>;
  int64_t best = 0;
  C best_value = static_cast<C>(x[0]);
  if (best_value != best_value) return 0;
  for (int64_t i = 1; i < n; ++i) {
    C v = static_cast<C>(x[i]);
    if (v != v) return i;
    if (IsMax ? v > best_value : v < best_value) {
      best_value = v;
      best = i;
    }
  }
  return best;
}

// Writes values and/or indices of the extreme element of each row.
template <bool IsMax>
void extreme_rows(const Tensor& input, const ReductionShape& shape, const Tensor& values, const Tensor& indices,
                  std::string_view name) {
  Tensor rows = as_rows(input, shape);
  dispatch_all_types(input.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    const T* x = rows.data<T>();
    int64_t row_stride = rows.strides()[0];
    T* value_out = values.defined() ? values.data<T>() : nullptr;
    int64_t* index_out = indices.defined() ? indices.data<int64_t>() : nullptr;
    parallel_for(0, shape.outer, std::max<int64_t>(1, kGrainSize / shape.inner), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const T* row = x + r * row_stride;
        int64_t i = extreme_index<IsMax>(row, shape.inner);
        if (value_out) value_out[r] = row[i];
        if (index_out) index_out[r] = i;
      }
    });
  });
}

template <bool IsMax>
Tensor extreme_all(const Tensor& self) {
  const char* name = IsMax ? "max" : "min";
  reduce::check_extreme_all(self, name);
  ReductionShape shape = reduce::reduction_shape(self, std::nullopt, false);
  Tensor values = empty_tensor(shape.kept_shape, self.dtype(), self.device());
  extreme_rows<IsMax>(self, shape, values, Tensor(), name);
  return make_alias(values, {}, {}, 0);
}

template <bool IsMax>
std::tuple<Tensor, Tensor> extreme_dim(const Tensor& self, int64_t dim, bool keepdim) {
  const char* name = IsMax ? "max" : "min";
  reduce::check_extreme_dim(self, dim, name);
  ReductionShape shape = reduce::reduction_shape(self, std::vector<int64_t>{dim}, keepdim);
  Tensor values = empty_tensor(shape.kept_shape, self.dtype(), self.device());
  Tensor indices = empty_tensor(shape.kept_shape, ScalarType::Int64, self.device());
  if (shape.outer > 0) extreme_rows<IsMax>(self, shape, values, indices, name);
  if (keepdim) return {values, indices};
  DimVector strides = contiguous_strides(shape.result_shape);
  return {make_alias(values, shape.result_shape, strides, 0), make_alias(indices, shape.result_shape, strides, 0)};
}

template <bool IsMax>
Tensor arg_extreme(const Tensor& self, std::optional<int64_t> dim, bool keepdim) {
  const char* name = IsMax ? "argmax" : "argmin";
  reduce::check_arg_extreme(self, dim, name);
  if (dim) return std::get<1>(extreme_dim<IsMax>(self, *dim, keepdim));
  Tensor flat = reshape(self, std::vector<int64_t>{-1});
  Tensor index = std::get<1>(extreme_dim<IsMax>(flat, 0, false));
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
  if (shape.outer > 0) extreme_rows<IsMax>(self, shape, values, Tensor(), name);
  return keepdim ? values : make_alias(values, shape.result_shape, contiguous_strides(shape.result_shape), 0);
}

}  // namespace

VT_REGISTRATION(reduce_cpu) {
  register_kernel("amax", DispatchKey::CPU, &extreme_over_dims<true>);
  register_kernel("amin", DispatchKey::CPU, &extreme_over_dims<false>);
  register_kernel("sum.dim_IntList", DispatchKey::CPU, &sum_cpu);
  register_kernel("mean.dim", DispatchKey::CPU, &mean_cpu);
  register_kernel("max", DispatchKey::CPU, &extreme_all<true>);
  register_kernel("min", DispatchKey::CPU, &extreme_all<false>);
  register_kernel("max.dim", DispatchKey::CPU, &extreme_dim<true>);
  register_kernel("min.dim", DispatchKey::CPU, &extreme_dim<false>);
  register_kernel("argmax", DispatchKey::CPU, &arg_extreme<true>);
  register_kernel("argmin", DispatchKey::CPU, &arg_extreme<false>);
}

}  // namespace vt::cpu
