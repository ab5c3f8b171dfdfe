// CUDA kernels of layer normalization (schemas in src/ops/norm.cpp) with the CPU kernels'
// semantics (src/cpu/norm_kernels.cpp): the statistics in two passes (the mean, then the mean
// square about it: no cancellation for rows far from zero), in float (double for float64);
// mean and rstd in the input's dtype, the parameters converted to it. Rows of up to 1024
// elements take a warp each, longer rows a block.
// The backward writes grad_input row by row. The weight and bias gradients are sums over all
// rows, formed without atomics so that every run gives the same bits: blocks sum chunks of
// rows in double (as the CPU does) into a buffer, then one thread per column adds the chunks
// in order.
#include <algorithm>
#include <array>
#include <cmath>
#include <tuple>

#include "src/cuda/loops.cuh"
#include "src/cuda/row_kernels.cuh"
#include "src/ops/norm.h"
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt::cuda {
namespace {

// ---- rows: blockDim.x threads per row; blockDim.y rows per block when each has one warp.

constexpr int kMaxWarpRow = 1024;
constexpr int kRowsPerWarpBlock = 4;
constexpr int kMaxRowThreads = 512;

struct RowLaunch {
  dim3 grid, block;
};
RowLaunch row_launch(int64_t rows, int64_t n) {
  if (n <= kMaxWarpRow) {
    return {dim3(static_cast<unsigned>(ceil_div(rows, kRowsPerWarpBlock))), dim3(32, kRowsPerWarpBlock)};
  }
  const int64_t threads = std::clamp<int64_t>(next_power_of_two(ceil_div(n, 8)), 64, kMaxRowThreads);
  return {dim3(static_cast<unsigned>(rows)), dim3(static_cast<unsigned>(threads))};
}

// w and b may be null.
template <class T>
__global__ void __launch_bounds__(kMaxRowThreads) layer_norm_forward(const T* x, const T* w, const T* b, T* y,
                                                                     T* means, T* rstds, int64_t rows, int64_t n,
                                                                     compute_t<T> eps) {
  using A = compute_t<T>;
  __shared__ A scratch[32];
  const int64_t row = int64_t{blockIdx.x} * blockDim.y + threadIdx.y;
  // A whole warp leaves: blocks of several rows reduce within warps, without barriers.
  if (row >= rows) return;
  const T* in = x + row * n;
  A sum = 0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) sum += static_cast<A>(in[j]);
  const A mu = row_reduce(sum, SumOp{}, scratch) / static_cast<A>(n);
  A squares = 0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    const A d = static_cast<A>(in[j]) - mu;
    squares += d * d;
  }
  const A inv_std = A(1) / std::sqrt(row_reduce(squares, SumOp{}, scratch) / static_cast<A>(n) + eps);
  T* out = y + row * n;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    A v = (static_cast<A>(in[j]) - mu) * inv_std;
    if (w) v *= static_cast<A>(w[j]);
    if (b) v += static_cast<A>(b[j]);
    out[j] = static_cast<T>(v);
  }
  if (threadIdx.x == 0) {
    means[row] = static_cast<T>(mu);
    rstds[row] = static_cast<T>(inv_std);
  }
}

// dx = rstd * (g w - mean(g w) - xhat * mean(g w xhat)), xhat = (x - mean) * rstd; w may be null.
template <class T>
__global__ void __launch_bounds__(kMaxRowThreads) layer_norm_backward_input(const T* g, const T* x, const T* w,
                                                                            const T* means, const T* rstds, T* dx,
                                                                            int64_t rows, int64_t n) {
  using A = compute_t<T>;
  __shared__ A scratch[32];
  const int64_t row = int64_t{blockIdx.x} * blockDim.y + threadIdx.y;
  if (row >= rows) return;
  const T* g_row = g + row * n;
  const T* x_row = x + row * n;
  const A mu = static_cast<A>(means[row]), inv_std = static_cast<A>(rstds[row]);
  A sum_gw = 0, sum_gw_xhat = 0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    const A xhat = (static_cast<A>(x_row[j]) - mu) * inv_std;
    const A gw = w ? static_cast<A>(g_row[j]) * static_cast<A>(w[j]) : static_cast<A>(g_row[j]);
    sum_gw += gw;
    sum_gw_xhat += gw * xhat;
  }
  const A mean_gw = row_reduce(sum_gw, SumOp{}, scratch) / static_cast<A>(n);
  const A mean_gw_xhat = row_reduce(sum_gw_xhat, SumOp{}, scratch) / static_cast<A>(n);
  T* dx_row = dx + row * n;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    const A xhat = (static_cast<A>(x_row[j]) - mu) * inv_std;
    const A gw = w ? static_cast<A>(g_row[j]) * static_cast<A>(w[j]) : static_cast<A>(g_row[j]);
    dx_row[j] = static_cast<T>(inv_std * (gw - mean_gw - xhat * mean_gw_xhat));
  }
}

// ---- the weight and bias gradients: sum over rows of g * xhat and of g.

constexpr int kColumnTile = 32;  // columns per block, one per threadIdx.x
constexpr int kColumnRows = 8;   // threadIdx.y: rows of a chunk walked in parallel

// Block (x, chunk) sums rows [chunk * rows_per_chunk, ...) of its columns into
// partials[chunk * n + column]; either partials pointer may be null (not wanted).
template <class T>
__global__ void __launch_bounds__(kColumnTile * kColumnRows)
    layer_norm_column_partials(const T* g, const T* x, const T* means, const T* rstds, double* weight_partials,
                               double* bias_partials, int64_t rows, int64_t n, int64_t rows_per_chunk) {
  using A = compute_t<T>;
  __shared__ double scratch[kColumnTile * kColumnRows];
  const int64_t column = int64_t{blockIdx.x} * kColumnTile + threadIdx.x;
  const int64_t first = int64_t{blockIdx.y} * rows_per_chunk;
  const int64_t last = std::min(rows, first + rows_per_chunk);
  double weight_sum = 0, bias_sum = 0;
  if (column < n) {
    for (int64_t r = first + threadIdx.y; r < last; r += kColumnRows) {
      const A gv = static_cast<A>(g[r * n + column]);
      if (weight_partials) {
        const A xhat = (static_cast<A>(x[r * n + column]) - static_cast<A>(means[r])) * static_cast<A>(rstds[r]);
        weight_sum += static_cast<double>(gv * xhat);
      }
      bias_sum += static_cast<double>(gv);
    }
  }
  const int64_t slot = int64_t{blockIdx.y} * n + column;
  const bool writer = threadIdx.y == 0 && column < n;
  if (weight_partials) {
    weight_sum = column_reduce(weight_sum, SumOp{}, scratch);
    if (writer) weight_partials[slot] = weight_sum;
  }
  if (bias_partials) {
    bias_sum = column_reduce(bias_sum, SumOp{}, scratch);
    if (writer) bias_partials[slot] = bias_sum;
  }
}

template <class T>
__global__ void __launch_bounds__(256) layer_norm_column_sums(const double* partials, T* out, int64_t chunks,
                                                              int64_t n) {
  const int64_t column = int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  if (column >= n) return;
  double sum = 0;
  for (int64_t c = 0; c < chunks; ++c) sum += partials[c * n + column];
  out[column] = static_cast<T>(static_cast<compute_t<T>>(sum));
}

// Enough chunks that the column blocks fill the GPU, each chunk still many rows long.
int64_t column_chunks(int64_t rows, int64_t n) {
  return std::max<int64_t>(1, std::min(ceil_div(rows, 64), ceil_div(1024, ceil_div(n, kColumnTile))));
}

// ---- host side

std::tuple<Tensor, Tensor, Tensor> native_layer_norm_cuda(const Tensor& input_in, IntArrayRef normalized_shape,
                                                          const std::optional<Tensor>& weight_in,
                                                          const std::optional<Tensor>& bias_in, double eps) {
  normalized_dims(input_in, normalized_shape, "native_layer_norm");
  check_same_device({&input_in, optional_tensor(weight_in), optional_tensor(bias_in)});
  Tensor input = contiguous(input_in);
  Tensor weight = layer_norm_parameter(weight_in, "weight", input, normalized_shape, "CUDA");
  Tensor bias = layer_norm_parameter(bias_in, "bias", input, normalized_shape, "CUDA");
  auto [rows, inner] = layer_norm_shape(input, normalized_shape);
  Tensor out = empty_like(input);
  DimVector stats_shape = layer_norm_statistics_shape(input, normalized_shape);
  Tensor mean = empty(stats_shape, input.dtype(), input.device());
  Tensor rstd = empty(stats_shape, input.dtype(), input.device());
  const int device = input.device().index;
  DeviceGuard guard(device);
  dispatch_floating_types(input.dtype(), "native_layer_norm", [&](auto tag) {
    using T = decltype(tag);
    if (rows == 0) return;
    const RowLaunch l = row_launch(rows, inner);
    layer_norm_forward<T><<<l.grid, l.block, 0, current_cuda_stream(device)>>>(
        input.data<T>(), weight.defined() ? weight.data<T>() : nullptr, bias.defined() ? bias.data<T>() : nullptr,
        out.data<T>(), mean.data<T>(), rstd.data<T>(), rows, inner, static_cast<compute_t<T>>(eps));
    VT_CUDA_CHECK(cudaGetLastError());
  });
  return {out, mean, rstd};
}

std::tuple<Tensor, Tensor, Tensor> native_layer_norm_backward_cuda(
    const Tensor& grad_out_in, const Tensor& input_in, IntArrayRef normalized_shape, const Tensor& mean_in,
    const Tensor& rstd_in, const std::optional<Tensor>& weight_in, const std::optional<Tensor>& bias_in,
    std::array<bool, 3> output_mask) {
  check_same_device({&input_in, &grad_out_in, &mean_in, &rstd_in, optional_tensor(weight_in), optional_tensor(bias_in)});
  Tensor input = contiguous(input_in);
  Tensor weight = layer_norm_parameter(weight_in, "weight", input, normalized_shape, "CUDA");
  const LayerNormShape shape = layer_norm_shape(input, normalized_shape);
  check_layer_norm_backward(grad_out_in, input, mean_in, rstd_in, shape);
  auto [rows, inner] = shape;
  // The kernels read every operand in the input's dtype, as the CPU's do.
  const ScalarType type = input.dtype();
  Tensor grad_out = contiguous(to(grad_out_in, type));
  Tensor mean = contiguous(to(mean_in, type)), rstd = contiguous(to(rstd_in, type));
  const bool want_weight = output_mask[1] && weight.defined(), want_bias = output_mask[2];
  Tensor grad_input = output_mask[0] ? empty_like(input) : Tensor();
  Tensor grad_weight = want_weight ? empty(normalized_shape, type, input.device()) : Tensor();
  Tensor grad_bias = want_bias ? empty(normalized_shape, type, input.device()) : Tensor();
  const int device = input.device().index;
  DeviceGuard guard(device);
  const cudaStream_t stream = current_cuda_stream(device);
  dispatch_floating_types(type, "native_layer_norm_backward", [&](auto tag) {
    using T = decltype(tag);
    if (output_mask[0] && rows > 0) {
      const RowLaunch l = row_launch(rows, inner);
      layer_norm_backward_input<T><<<l.grid, l.block, 0, stream>>>(
          grad_out.data<T>(), input.data<T>(), weight.defined() ? weight.data<T>() : nullptr, mean.data<T>(),
          rstd.data<T>(), grad_input.data<T>(), rows, inner);
      VT_CUDA_CHECK(cudaGetLastError());
    }
    if (!(want_weight || want_bias) || inner == 0) return;
    // With no rows the sums are zeros: one empty chunk.
    const int64_t chunks = column_chunks(rows, inner);
    const int64_t rows_per_chunk = ceil_div(rows, chunks);
    const std::array<int64_t, 2> partials_shape{chunks, inner};
    Tensor weight_partials = want_weight ? empty(partials_shape, ScalarType::Float64, input.device()) : Tensor();
    Tensor bias_partials = want_bias ? empty(partials_shape, ScalarType::Float64, input.device()) : Tensor();
    const dim3 grid(static_cast<unsigned>(ceil_div(inner, kColumnTile)), static_cast<unsigned>(chunks));
    layer_norm_column_partials<T><<<grid, dim3(kColumnTile, kColumnRows), 0, stream>>>(
        grad_out.data<T>(), input.data<T>(), mean.data<T>(), rstd.data<T>(),
        want_weight ? weight_partials.data<double>() : nullptr, want_bias ? bias_partials.data<double>() : nullptr,
        rows, inner, rows_per_chunk);
    VT_CUDA_CHECK(cudaGetLastError());
    const unsigned blocks = static_cast<unsigned>(ceil_div(inner, 256));
    if (want_weight) {
      layer_norm_column_sums<T><<<blocks, 256, 0, stream>>>(weight_partials.data<double>(), grad_weight.data<T>(),
                                                            chunks, inner);
      VT_CUDA_CHECK(cudaGetLastError());
    }
    if (want_bias) {
      layer_norm_column_sums<T><<<blocks, 256, 0, stream>>>(bias_partials.data<double>(), grad_bias.data<T>(), chunks,
                                                            inner);
      VT_CUDA_CHECK(cudaGetLastError());
    }
  });
  return {grad_input, grad_weight, grad_bias};
}

}  // namespace

VT_REGISTRATION(norm_cuda) {
  register_kernel("native_layer_norm", DispatchKey::CUDA, &native_layer_norm_cuda);
  register_kernel("native_layer_norm_backward", DispatchKey::CUDA, &native_layer_norm_backward_cuda);
}

}  // namespace vt::cuda
