// CUDA kernels of prod (a reduction, through reduce.cuh) and of the scans along one dim
// (cumsum, cumprod). Dtype rules and structure are the CPU's (src/cpu/scan_kernels.cpp); sums
// and products accumulate as the CUDA reductions do (float for the 16- and 32-bit floats,
// double for float64, int64 for integers).
//
// A scan reads its input as [batches, n, cols] (contiguous) and scans along n. A warp walks
// each line when cols is 1 (32 consecutive elements per step, a shuffle scan across the
// lanes), a thread walks each column otherwise (neighbouring threads read neighbouring
// columns). Lines too few to fill the GPU are cut into chunks: a first pass writes each
// chunk's total, the totals are scanned (the same scan, one level smaller), and the second
// pass starts each chunk from the total of the chunks before it.
#include "src/cuda/reduce.cuh"
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt::cuda {
namespace {

using reduction::ceil_div;
using reduction::from_acc;
using reduction::kBlock;
using reduction::LaunchContext;
using reduction::ProdOp;
using reduction::SumOp;
using reduction::to_acc;

struct ScanPlan {
  int64_t batches = 1, n = 0, cols = 1;
  int64_t chunks = 1, chunk_len = 0;
};

// Loads issued before the dependent combining starts: pieces of 32 elements (lines) or rows
// (columns).
constexpr int kPieces = 4;

// One warp per (batch, chunk) of lines (cols == 1). kTotals: write the chunk's total to
// chunk_acc[batch][chunk]; otherwise write the inclusive scan, starting from
// chunk_acc[batch][chunk - 1] (the scanned totals) when there are chunks. x and y may alias.
template <class Op, class Src, class Dst, bool kTotals>
__global__ void __launch_bounds__(kBlock) scan_rows(Op op, const Src* x, Dst* y, ScanPlan p,
                                                    typename Op::Acc* chunk_acc) {
  using Acc = typename Op::Acc;
  const int64_t task = (int64_t{blockIdx.x} * kBlock + threadIdx.x) / 32;
  const int lane = static_cast<int>(threadIdx.x % 32);
  if (task >= p.batches * p.chunks) return;  // the whole warp
  const int64_t batch = task / p.chunks, chunk = task % p.chunks;
  const int64_t begin = chunk * p.chunk_len, end = std::min(p.n, begin + p.chunk_len);
  const Src* in = x + batch * p.n;
  if constexpr (kTotals) {
    Acc acc = op.identity();
    for (int64_t base = begin; base < end; base += 32 * kPieces) {
      Src v[kPieces] = {};
#pragma unroll
      for (int q = 0; q < kPieces; ++q) {
        const int64_t i = base + q * 32 + lane;
        if (i < end) v[q] = in[i];
      }
#pragma unroll
      for (int q = 0; q < kPieces; ++q) {
        const int64_t i = base + q * 32 + lane;
        if (i < end) acc = op.combine(acc, to_acc(op, v[q], i));
      }
    }
    for (int offset = 16; offset > 0; offset /= 2) acc = op.combine(acc, reduction::shfl_down(acc, offset));
    if (lane == 0) chunk_acc[task] = acc;
  } else {
    Dst* out = y + batch * p.n;
    Acc carry = chunk > 0 && chunk_acc ? chunk_acc[task - 1] : op.identity();
    for (int64_t base = begin; base < end; base += 32 * kPieces) {
      Acc v[kPieces];
#pragma unroll
      for (int q = 0; q < kPieces; ++q) {
        const int64_t i = base + q * 32 + lane;
        v[q] = i < end ? to_acc(op, in[i], i) : op.identity();
      }
#pragma unroll
      for (int q = 0; q < kPieces; ++q) {
        for (int offset = 1; offset < 32; offset *= 2) {
          const Acc before = reduction::shfl_up(v[q], offset);
          if (lane >= offset) v[q] = op.combine(before, v[q]);
        }
        v[q] = op.combine(carry, v[q]);
        const int64_t i = base + q * 32 + lane;
        if (i < end) out[i] = from_acc<Dst>(v[q]);
        carry = reduction::shfl_from(v[q], 31);
      }
    }
  }
}

// One thread per (batch, chunk, col) of columns (cols > 1); chunk_acc is [batch][chunk][col],
// otherwise as scan_rows.
template <class Op, class Src, class Dst, bool kTotals>
__global__ void __launch_bounds__(kBlock) scan_columns(Op op, const Src* x, Dst* y, ScanPlan p,
                                                       typename Op::Acc* chunk_acc) {
  using Acc = typename Op::Acc;
  const int64_t t = int64_t{blockIdx.x} * kBlock + threadIdx.x;
  if (t >= p.batches * p.chunks * p.cols) return;
  const int64_t col = t % p.cols, task = t / p.cols;
  const int64_t batch = task / p.chunks, chunk = task % p.chunks;
  const int64_t begin = chunk * p.chunk_len, end = std::min(p.n, begin + p.chunk_len);
  const Src* in = x + batch * p.n * p.cols + col;
  Acc acc = !kTotals && chunk > 0 && chunk_acc ? chunk_acc[(task - 1) * p.cols + col] : op.identity();
  for (int64_t r = begin; r < end; r += kPieces) {
    Src v[kPieces] = {};
#pragma unroll
    for (int q = 0; q < kPieces; ++q) {
      if (r + q < end) v[q] = in[(r + q) * p.cols];
    }
#pragma unroll
    for (int q = 0; q < kPieces; ++q) {
      if (r + q < end) {
        acc = op.combine(acc, to_acc(op, v[q], r + q));
        if constexpr (!kTotals) y[(batch * p.n + r + q) * p.cols + col] = from_acc<Dst>(acc);
      }
    }
  }
  if constexpr (kTotals) chunk_acc[task * p.cols + col] = acc;
}

template <bool kTotals, class Op, class Src, class Dst>
void launch_scan(const Op& op, const Src* x, Dst* y, const ScanPlan& p, typename Op::Acc* chunk_acc,
                 const LaunchContext& ctx) {
  if (p.cols == 1) {
    const int64_t blocks = ceil_div(p.batches * p.chunks * 32, kBlock);
    scan_rows<Op, Src, Dst, kTotals><<<reduction::grid_for(blocks), kBlock, 0, ctx.stream>>>(op, x, y, p, chunk_acc);
  } else {
    const int64_t blocks = ceil_div(p.batches * p.chunks * p.cols, kBlock);
    scan_columns<Op, Src, Dst, kTotals><<<reduction::grid_for(blocks), kBlock, 0, ctx.stream>>>(op, x, y, p, chunk_acc);
  }
  VT_CUDA_CHECK(cudaGetLastError());
}

// y = the inclusive scan of x along n, x and y [batches, n, cols] contiguous (they may alias).
template <class Op, class Src, class Dst>
void scan_lines(const Op& op, const Src* x, Dst* y, int64_t batches, int64_t n, int64_t cols, const LaunchContext& ctx) {
  using Acc = typename Op::Acc;
  ScanPlan p;
  p.batches = batches;
  p.n = n;
  p.cols = cols;
  // A warp per line of a row scan, a thread per column: cut the lines into chunks until the
  // walkers fill the GPU, each chunk a few loads long.
  const int64_t resident = int64_t{ctx.multiprocessors} * ctx.threads_per_multiprocessor;
  const int64_t walkers = batches * cols * (cols == 1 ? 32 : 1);
  const int64_t min_chunk = (cols == 1 ? 32 : 1) * kPieces * 4;
  if (walkers < resident) p.chunks = std::clamp<int64_t>(resident / walkers, 1, std::max<int64_t>(n / min_chunk, 1));
  p.chunk_len = ceil_div(n, p.chunks);
  p.chunks = ceil_div(n, p.chunk_len);
  Tensor totals;
  Acc* chunk_acc = nullptr;
  if (p.chunks > 1) {
    totals = reduction::workspace<Acc>(ctx, batches * p.chunks * cols);
    chunk_acc = static_cast<Acc*>(totals.data_ptr());
    launch_scan<true>(op, x, static_cast<Acc*>(nullptr), p, chunk_acc, ctx);
    scan_lines(op, static_cast<const Acc*>(chunk_acc), chunk_acc, batches, p.chunks, cols, ctx);
  }
  launch_scan<false>(op, x, y, p, chunk_acc, ctx);
}

Tensor scan(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype, bool product, const char* op) {
  // Integer and bool inputs scan in int64, as torch does.
  ScalarType type = reduce::sum_result_dtype(self, dtype);
  Tensor input = to(self, type);
  Tensor out = empty_tensor(self.sizes(), type, self.device());
  if (self.dim() == 0) {
    wrap_dim(dim, 1);
    copy_(out, input);
    return out;
  }
  int64_t d = wrap_dim(dim, self.dim());
  if (self.numel() == 0) return out;
  input = contiguous(input);
  int64_t batches = 1, cols = 1;
  for (int64_t k = 0; k < d; ++k) batches *= self.sizes()[k];
  for (int64_t k = d + 1; k < self.dim(); ++k) cols *= self.sizes()[k];
  DeviceGuard guard(self.device().index);
  const LaunchContext ctx = reduction::launch_context(self);
  dispatch_numeric_types(type, op, [&](auto tag) {
    using T = decltype(tag);
    if (product) scan_lines(ProdOp<T>{}, input.data<T>(), out.data<T>(), batches, self.sizes()[d], cols, ctx);
    else scan_lines(SumOp<T>{}, input.data<T>(), out.data<T>(), batches, self.sizes()[d], cols, ctx);
  });
  return out;
}

Tensor cumsum_cuda(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype) {
  return scan(self, dim, dtype, false, "cumsum");
}
Tensor cumprod_cuda(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype) {
  return scan(self, dim, dtype, true, "cumprod");
}

// prod over one dim (or all of them when dim is empty): integers and bool give int64.
Tensor prod_over(const Tensor& self, std::optional<int64_t> dim, bool keepdim, std::optional<ScalarType> dtype) {
  ScalarType type = reduce::sum_result_dtype(self, dtype);
  Tensor input = to(self, type);
  OptionalDims dims;
  if (dim) dims = std::vector<int64_t>{*dim};
  reduce::ReductionShape shape = reduce::reduction_shape(self, dims, keepdim);
  Tensor out = empty_tensor(shape.kept_shape, type, self.device());
  dispatch_numeric_types(type, "prod", [&](auto tag) {
    using T = decltype(tag);
    reduction::run_reduction<T>(ProdOp<T>{out.data<T>()}, input, shape);
  });
  return reshape(out, shape.result_shape);
}

Tensor prod_dim_cuda(const Tensor& self, int64_t dim, bool keepdim, std::optional<ScalarType> dtype) {
  return prod_over(self, dim, keepdim, dtype);
}
Tensor prod_cuda(const Tensor& self, std::optional<ScalarType> dtype) { return prod_over(self, std::nullopt, false, dtype); }

}  // namespace

VT_REGISTRATION(scan_cuda) {
  register_kernel("cumsum", DispatchKey::CUDA, &cumsum_cuda);
  register_kernel("cumprod", DispatchKey::CUDA, &cumprod_cuda);
  register_kernel("prod", DispatchKey::CUDA, &prod_cuda);
  register_kernel("prod.dim_int", DispatchKey::CUDA, &prod_dim_cuda);
}

}  // namespace vt::cuda
