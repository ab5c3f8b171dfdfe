// CUDA softmax and log_softmax along one dim, forward and backward, with the semantics of the
// CPU kernels (src/cpu/softmax_kernels.cpp): 16-bit types compute in float and round once,
// float64 in double; the result is contiguous, in the input's dtype (half_to_float is ignored,
// as on the CPU). The input is made contiguous and seen as [outer, n, inner], the softmax
// along n:
//   - inner == 1, n <= 1024: a warp per row (a power-of-two slice of one for rows of up to 16),
//     holding the row in registers, so that it is read once;
//   - inner == 1, longer rows: a block per row, reading the row once per pass;
//   - inner > 1: threads own an inner index and walk n, adjacent threads reading adjacent
//     elements; when there are few such columns, several threads split each one's walk.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "src/cuda/loops.cuh"
#include "src/cuda/row_kernels.cuh"
#include "src/ops/softmax_rules.h"
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt::cuda {
namespace {

template <class A>
__device__ __forceinline__ A minus_infinity() {
  return -std::numeric_limits<A>::infinity();
}

// The input as [outer, n, inner].
struct Geometry {
  int64_t outer, n, inner;
};

Geometry geometry(const Tensor& t, int64_t d) {
  if (t.dim() == 0) return {1, 1, 1};
  int64_t inner = 1;
  for (int64_t k = d + 1; k < t.dim(); ++k) inner *= t.size(k);
  const int64_t n = t.size(d);
  return {n * inner == 0 ? 0 : t.numel() / (n * inner), n, inner};
}

// ---- a warp per row: rows of n <= width * E elements, `width` lanes per row (a power of
// two up to 32), element k * width + lane in register k of its lane.

constexpr int kWarpBlock = 128;
constexpr int kMaxWarpRow = 1024;

template <class T, int E>
__global__ void __launch_bounds__(kWarpBlock) softmax_warp_forward(const T* x, T* y, int64_t rows, int n, int width,
                                                                    bool log) {
  using A = compute_t<T>;
  const int64_t thread = int64_t{blockIdx.x} * kWarpBlock + threadIdx.x;
  const int64_t row = thread / width;
  const int lane = static_cast<int>(thread % width);
  const bool active = row < rows;  // lanes past the last row still join the shuffles
  const T* in = x + (active ? row : 0) * n;
  A v[E];
  A max = minus_infinity<A>();
#pragma unroll
  for (int k = 0; k < E; ++k) {
    const int i = k * width + lane;
    v[k] = active && i < n ? static_cast<A>(in[i]) : minus_infinity<A>();
    max = MaxOp{}(max, v[k]);
  }
  max = warp_reduce(max, MaxOp{}, width);
  A sum = 0;
#pragma unroll
  for (int k = 0; k < E; ++k) {
    if (k * width + lane < n) {  // not by exp(-inf) = 0: a row of -inf has max -inf, and is NaN
      const A e = std::exp(v[k] - max);
      sum += e;
      if (!log) v[k] = e;
    }
  }
  sum = warp_reduce(sum, SumOp{}, width);
  if (!active) return;
  // (x - max) - log(sum), in that order: max + log(sum) would round away log(sum)'s digits.
  const A scale = log ? std::log(sum) : A(1) / sum;
  T* out = y + row * n;
#pragma unroll
  for (int k = 0; k < E; ++k) {
    const int i = k * width + lane;
    if (i < n) out[i] = static_cast<T>(log ? (v[k] - max) - scale : v[k] * scale);
  }
}

// softmax: gx = y * (g - sum(g * y)); log_softmax: gx = g - exp(y) * sum(g).
template <class T, int E>
__global__ void __launch_bounds__(kWarpBlock) softmax_warp_backward(const T* g, const T* y, T* gx, int64_t rows, int n,
                                                                     int width, bool log) {
  using A = compute_t<T>;
  const int64_t thread = int64_t{blockIdx.x} * kWarpBlock + threadIdx.x;
  const int64_t row = thread / width;
  const int lane = static_cast<int>(thread % width);
  const bool active = row < rows;
  const int64_t offset = (active ? row : 0) * n;
  A gv[E], yv[E];
  A sum = 0;
#pragma unroll
  for (int k = 0; k < E; ++k) {
    const int i = k * width + lane;
    const bool inside = active && i < n;
    gv[k] = inside ? static_cast<A>(g[offset + i]) : A(0);
    yv[k] = inside ? static_cast<A>(y[offset + i]) : A(0);
    sum += log ? gv[k] : gv[k] * yv[k];
  }
  sum = warp_reduce(sum, SumOp{}, width);
  if (!active) return;
#pragma unroll
  for (int k = 0; k < E; ++k) {
    const int i = k * width + lane;
    if (i < n) gx[offset + i] = static_cast<T>(log ? gv[k] - std::exp(yv[k]) * sum : yv[k] * (gv[k] - sum));
  }
}

// Calls fn(std::integral_constant<int, E>{}) for E = per_lane, a power of two up to 32.
template <class Fn>
void with_elements_per_lane(int per_lane, Fn&& fn) {
  switch (per_lane) {
    case 1: return fn(std::integral_constant<int, 1>{});
    case 2: return fn(std::integral_constant<int, 2>{});
    case 4: return fn(std::integral_constant<int, 4>{});
    case 8: return fn(std::integral_constant<int, 8>{});
    case 16: return fn(std::integral_constant<int, 16>{});
    case 32: return fn(std::integral_constant<int, 32>{});
    default: fail(ErrorKind::Runtime, "softmax: ", per_lane, " elements per lane");
  }
}

struct WarpLaunch {
  int width, per_lane;
  unsigned blocks;
};
WarpLaunch warp_launch(const Geometry& g) {
  const int width = static_cast<int>(std::min<int64_t>(32, next_power_of_two(g.n)));
  return {width, static_cast<int>(next_power_of_two(ceil_div(g.n, width))),
          static_cast<unsigned>(ceil_div(g.outer * width, kWarpBlock))};
}

// ---- a block per row (blockDim.x threads, a multiple of 32)

template <class T>
__global__ void __launch_bounds__(1024) softmax_block_forward(const T* x, T* y, int64_t n, bool log) {
  using A = compute_t<T>;
  __shared__ A scratch[32];
  const T* in = x + int64_t{blockIdx.x} * n;
  A max = minus_infinity<A>();
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) max = MaxOp{}(max, static_cast<A>(in[i]));
  max = row_reduce(max, MaxOp{}, scratch);
  A sum = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) sum += std::exp(static_cast<A>(in[i]) - max);
  sum = row_reduce(sum, SumOp{}, scratch);
  const A scale = log ? std::log(sum) : A(1) / sum;
  T* out = y + int64_t{blockIdx.x} * n;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const A v = static_cast<A>(in[i]) - max;
    out[i] = static_cast<T>(log ? v - scale : std::exp(v) * scale);
  }
}

template <class T>
__global__ void __launch_bounds__(1024) softmax_block_backward(const T* g, const T* y, T* gx, int64_t n, bool log) {
  using A = compute_t<T>;
  __shared__ A scratch[32];
  const int64_t offset = int64_t{blockIdx.x} * n;
  A sum = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const A gv = static_cast<A>(g[offset + i]);
    sum += log ? gv : gv * static_cast<A>(y[offset + i]);
  }
  sum = row_reduce(sum, SumOp{}, scratch);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const A gv = static_cast<A>(g[offset + i]), yv = static_cast<A>(y[offset + i]);
    gx[offset + i] = static_cast<T>(log ? gv - std::exp(yv) * sum : yv * (gv - sum));
  }
}

// Enough threads that each walks a few elements, at most 1024.
int block_threads(int64_t n) { return static_cast<int>(std::clamp<int64_t>(next_power_of_two(ceil_div(n, 8)), 128, 1024)); }

// ---- along a dim other than the last: thread (x, y) of a block owns inner index
// blockIdx.x * blockDim.x + x and walks elements y, y + blockDim.y, ... of n; block rows
// blockIdx.y, + gridDim.y, ... of outer. The scratch is blockDim.x * blockDim.y values.

template <class T>
__global__ void __launch_bounds__(256) softmax_strided_forward(const T* x, T* y, int64_t outer, int64_t n,
                                                                int64_t inner, bool log) {
  using A = compute_t<T>;
  extern __shared__ __align__(sizeof(double)) unsigned char shared[];
  A* scratch = reinterpret_cast<A*>(shared);
  const int64_t column = int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  const bool active = column < inner;  // the others still join the reductions
  for (int64_t o = blockIdx.y; o < outer; o += gridDim.y) {
    const int64_t base = o * n * inner + column;
    A max = minus_infinity<A>();
    if (active) {
      for (int64_t k = threadIdx.y; k < n; k += blockDim.y) max = MaxOp{}(max, static_cast<A>(x[base + k * inner]));
    }
    max = column_reduce(max, MaxOp{}, scratch);
    A sum = 0;
    if (active) {
      for (int64_t k = threadIdx.y; k < n; k += blockDim.y) sum += std::exp(static_cast<A>(x[base + k * inner]) - max);
    }
    sum = column_reduce(sum, SumOp{}, scratch);
    if (!active) continue;
    const A scale = log ? std::log(sum) : A(1) / sum;
    for (int64_t k = threadIdx.y; k < n; k += blockDim.y) {
      const A v = static_cast<A>(x[base + k * inner]) - max;
      y[base + k * inner] = static_cast<T>(log ? v - scale : std::exp(v) * scale);
    }
  }
}

template <class T>
__global__ void __launch_bounds__(256) softmax_strided_backward(const T* g, const T* y, T* gx, int64_t outer,
                                                                 int64_t n, int64_t inner, bool log) {
  using A = compute_t<T>;
  extern __shared__ __align__(sizeof(double)) unsigned char shared[];
  A* scratch = reinterpret_cast<A*>(shared);
  const int64_t column = int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  const bool active = column < inner;
  for (int64_t o = blockIdx.y; o < outer; o += gridDim.y) {
    const int64_t base = o * n * inner + column;
    A sum = 0;
    if (active) {
      for (int64_t k = threadIdx.y; k < n; k += blockDim.y) {
        const A gv = static_cast<A>(g[base + k * inner]);
        sum += log ? gv : gv * static_cast<A>(y[base + k * inner]);
      }
    }
    sum = column_reduce(sum, SumOp{}, scratch);
    if (!active) continue;
    for (int64_t k = threadIdx.y; k < n; k += blockDim.y) {
      const A gv = static_cast<A>(g[base + k * inner]), yv = static_cast<A>(y[base + k * inner]);
      gx[base + k * inner] = static_cast<T>(log ? gv - std::exp(yv) * sum : yv * (gv - sum));
    }
  }
}

struct StridedLaunch {
  dim3 grid, block;
  size_t scratch_bytes;
};
StridedLaunch strided_launch(const Geometry& g, size_t value_size) {
  const int x = static_cast<int>(std::min<int64_t>(32, next_power_of_two(g.inner)));
  // Split the walks along n only while the columns alone leave the GPU idle.
  int y = 1;
  while (2 * x * y <= 256 && 2 * y <= g.n && g.outer * g.inner * y < (int64_t{1} << 16)) y *= 2;
  const dim3 grid(static_cast<unsigned>(ceil_div(g.inner, x)), static_cast<unsigned>(std::min<int64_t>(g.outer, 65535)));
  return {grid, dim3(x, y), y == 1 ? 0 : value_size * x * y};
}

// ---- host side

template <class T>
void launch_forward(const T* x, T* y, const Geometry& g, bool log, cudaStream_t stream) {
  using A = compute_t<T>;
  if (g.inner == 1 && g.n <= kMaxWarpRow) {
    const WarpLaunch l = warp_launch(g);
    with_elements_per_lane(l.per_lane, [&](auto e) {
      softmax_warp_forward<T, decltype(e)::value>
          <<<l.blocks, kWarpBlock, 0, stream>>>(x, y, g.outer, static_cast<int>(g.n), l.width, log);
    });
  } else if (g.inner == 1) {
    softmax_block_forward<T><<<static_cast<unsigned>(g.outer), block_threads(g.n), 0, stream>>>(x, y, g.n, log);
  } else {
    const StridedLaunch l = strided_launch(g, sizeof(A));
    softmax_strided_forward<T><<<l.grid, l.block, l.scratch_bytes, stream>>>(x, y, g.outer, g.n, g.inner, log);
  }
  VT_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void launch_backward(const T* grad, const T* y, T* gx, const Geometry& g, bool log, cudaStream_t stream) {
  using A = compute_t<T>;
  if (g.inner == 1 && g.n <= kMaxWarpRow) {
    const WarpLaunch l = warp_launch(g);
    with_elements_per_lane(l.per_lane, [&](auto e) {
      softmax_warp_backward<T, decltype(e)::value>
          <<<l.blocks, kWarpBlock, 0, stream>>>(grad, y, gx, g.outer, static_cast<int>(g.n), l.width, log);
    });
  } else if (g.inner == 1) {
    softmax_block_backward<T><<<static_cast<unsigned>(g.outer), block_threads(g.n), 0, stream>>>(grad, y, gx, g.n, log);
  } else {
    const StridedLaunch l = strided_launch(g, sizeof(A));
    softmax_strided_backward<T><<<l.grid, l.block, l.scratch_bytes, stream>>>(grad, y, gx, g.outer, g.n, g.inner, log);
  }
  VT_CUDA_CHECK(cudaGetLastError());
}

Tensor softmax_forward(const Tensor& self, int64_t dim, bool log) {
  softmax_rules::check_input_dtype(self, log);
  const int64_t d = softmax_rules::softmax_dim(self, dim);
  Tensor x = contiguous(self);
  Tensor out = empty(x.sizes(), x.dtype(), x.device());
  const Geometry g = geometry(x, d);
  if (g.outer == 0) return out;
  DeviceGuard guard(x.device().index);
  const cudaStream_t stream = current_cuda_stream(x.device().index);
  dispatch_floating_types(x.dtype(), log ? "log_softmax" : "softmax", [&](auto tag) {
    using T = decltype(tag);
    launch_forward<T>(x.data<T>(), out.data<T>(), g, log, stream);
  });
  return out;
}

Tensor softmax_backward(const Tensor& grad_output, const Tensor& output, int64_t dim, bool log) {
  const char* name = log ? "_log_softmax_backward_data" : "_softmax_backward_data";
  check_same_device({&grad_output, &output});
  VT_CHECK(std::ranges::equal(grad_output.sizes(), output.sizes()), name, "(): grad_output of shape ",
           shape_str(grad_output.sizes()), " does not match output of shape ", shape_str(output.sizes()));
  const int64_t d = softmax_rules::softmax_dim(grad_output, dim);
  // As on the CPU: the result has grad_output's dtype; operands of other or mixed dtypes are
  // computed in float (double for float64).
  const ScalarType type = grad_output.dtype();
  const ScalarType work =
      is_floating_point(type) && output.dtype() == type ? type : softmax_rules::compute_type(type);
  Tensor g = contiguous(to(grad_output, work)), y = contiguous(to(output, work));
  Tensor gx = empty(g.sizes(), work, g.device());
  const Geometry geo = geometry(g, d);
  if (geo.outer > 0) {
    DeviceGuard guard(g.device().index);
    const cudaStream_t stream = current_cuda_stream(g.device().index);
    dispatch_floating_types(work, name, [&](auto tag) {
      using T = decltype(tag);
      launch_backward<T>(g.data<T>(), y.data<T>(), gx.data<T>(), geo, log, stream);
    });
  }
  return to(gx, type);
}

Tensor softmax_cuda(const Tensor& self, int64_t dim, bool) { return softmax_forward(self, dim, false); }
Tensor log_softmax_cuda(const Tensor& self, int64_t dim, bool) { return softmax_forward(self, dim, true); }
Tensor softmax_backward_cuda(const Tensor& g, const Tensor& out, int64_t dim, ScalarType) {
  return softmax_backward(g, out, dim, false);
}
Tensor log_softmax_backward_cuda(const Tensor& g, const Tensor& out, int64_t dim, ScalarType) {
  return softmax_backward(g, out, dim, true);
}

}  // namespace

VT_REGISTRATION(softmax_cuda) {
  register_kernel("_softmax", DispatchKey::CUDA, &softmax_cuda);
  register_kernel("_log_softmax", DispatchKey::CUDA, &log_softmax_cuda);
  register_kernel("_softmax_backward_data", DispatchKey::CUDA, &softmax_backward_cuda);
  register_kernel("_log_softmax_backward_data", DispatchKey::CUDA, &log_softmax_backward_cuda);
}

}  // namespace vt::cuda
