// The CUDA reduction machinery shared by reduce_kernels.cu (sum, mean, max, min, amax, amin,
// argmax, argmin) and scan_kernels.cu (prod, and the chunk totals of cumsum and cumprod).
//
// An op is a struct with an accumulator type `Acc`, `identity()`, `map(x, index)` (an input
// element, and its position along the reduced elements, into an Acc), `combine(a, b)` and
// `write(i, acc)` (the i-th result). A reduction takes one of two shapes, chosen from the input's
// layout without copying it when the layout allows:
//   - rows: each result reduces one contiguous row. A row is read by a group of 1-32 lanes of a
//     warp with 16-byte loads, several in flight per thread; when there are too few rows to fill
//     the GPU, rows are cut into segments whose partial results a second kernel folds.
//   - columns: [batches, rows, cols] with the rows reduced and cols contiguous (reducing the
//     leading or middle dims of a contiguous tensor). Threads own columns (16 bytes of them) and
//     walk rows, so each warp reads whole cache lines; blocks split the rows when the columns
//     alone cannot fill the GPU, and the partials are folded by the same kernel.
// No atomics: every result combines its elements in an order fixed by the shapes alone, so the
// same input gives the same bits on every run. bench/bench_cuda.py measures the bandwidth of
// the full, last-dim and first-dim sums and amax against the device-to-device copy.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "src/cuda/cuda_check.h"
#include "src/cuda/loops.cuh"
#include "src/ops/reduce_rules.h"
#include "vt/cuda.h"
#include "vt/dtype.h"

namespace vt::cuda::reduction {

constexpr int kBlock = 256;     // threads of the main kernels' blocks
constexpr int kMaxBlock = 1024; // the folding launch may use more

// Sums and products accumulate in float for the 16- and 32-bit floats (as torch's CUDA kernels
// do), in double for float64 and in int64 for integers and bool.
template <class T>
using acc_t = std::conditional_t<std::is_same_v<T, double>, double,
                                 std::conditional_t<std::is_floating_point_v<compute_t<T>>, float, int64_t>>;

template <class C>
VT_HOST_DEVICE constexpr C lowest_value() {
  if constexpr (std::is_floating_point_v<C>) return -std::numeric_limits<C>::infinity();
  else return std::numeric_limits<C>::lowest();
}
template <class C>
VT_HOST_DEVICE constexpr C highest_value() {
  if constexpr (std::is_floating_point_v<C>) return std::numeric_limits<C>::infinity();
  else return std::numeric_limits<C>::max();
}

// Integer accumulators wrap on overflow (as the CPU's do in practice) without signed-overflow UB.
template <class A>
__device__ __forceinline__ A wrapping_add(A a, A b) {
  if constexpr (std::is_integral_v<A>) return static_cast<A>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
  else return a + b;
}
template <class A>
__device__ __forceinline__ A wrapping_mul(A a, A b) {
  if constexpr (std::is_integral_v<A>) return static_cast<A>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
  else return a * b;
}

// A result of type T from an accumulator, rounding once (as the CPU kernels do).
template <class T, class A>
__device__ __forceinline__ T from_acc(A a) {
  if constexpr (std::is_same_v<T, A>) return a;
  else return static_cast<T>(static_cast<compute_t<T>>(a));
}

// sum and mean (mean divides by `count` when writing), and the running sums of cumsum.
template <class T>
struct SumOp {
  using Acc = acc_t<T>;
  T* out = nullptr;
  bool mean = false;
  double count = 1;
  __device__ Acc identity() const { return Acc(0); }
  __device__ Acc map(T x, int64_t) const { return static_cast<Acc>(static_cast<compute_t<T>>(x)); }
  __device__ Acc combine(Acc a, Acc b) const { return wrapping_add(a, b); }
  __device__ void write(int64_t i, Acc total) const {
    if (mean) out[i] = static_cast<T>(static_cast<compute_t<T>>(static_cast<double>(total) / count));
    else out[i] = from_acc<T>(total);
  }
};

// prod, and the running products of cumprod.
template <class T>
struct ProdOp {
  using Acc = acc_t<T>;
  T* out = nullptr;
  __device__ Acc identity() const { return Acc(1); }
  __device__ Acc map(T x, int64_t) const { return static_cast<Acc>(static_cast<compute_t<T>>(x)); }
  __device__ Acc combine(Acc a, Acc b) const { return wrapping_mul(a, b); }
  __device__ void write(int64_t i, Acc total) const { out[i] = from_acc<T>(total); }
};

// An input element (or, when folding partial results, an accumulator) as an accumulator.
template <class Op, class Src>
__device__ __forceinline__ typename Op::Acc to_acc(const Op& op, Src v, int64_t index) {
  if constexpr (std::is_same_v<Src, typename Op::Acc>) return v;  // every op maps an Acc-typed input to itself
  else return op.map(v, index);
}

// Shuffles move 32-bit words, so any accumulator (a value with its index too) can travel.
template <class V, class Shuffle>
__device__ __forceinline__ V shuffle_words(V v, Shuffle shuffle) {
  constexpr int kWords = (sizeof(V) + 3) / 4;
  unsigned words[kWords] = {};
  memcpy(words, &v, sizeof(V));
#pragma unroll
  for (int i = 0; i < kWords; ++i) words[i] = shuffle(words[i]);
  memcpy(&v, words, sizeof(V));
  return v;
}
template <class V>
__device__ __forceinline__ V shfl_down(V v, int offset, int width = 32) {
  return shuffle_words(v, [=](unsigned w) { return __shfl_down_sync(0xffffffffu, w, offset, width); });
}
// The accumulator of the arg reductions: a value and its index, shuffled member by member.
template <class C>
struct ValueIndex {
  C value;
  int64_t index;
};
template <class C>
__device__ __forceinline__ ValueIndex<C> shfl_down(ValueIndex<C> a, int offset, int width = 32) {
  return {shfl_down(a.value, offset, width), shfl_down(a.index, offset, width)};
}
template <class V>
__device__ __forceinline__ V shfl_up(V v, int offset) {
  return shuffle_words(v, [=](unsigned w) { return __shfl_up_sync(0xffffffffu, w, offset); });
}
template <class V>
__device__ __forceinline__ V shfl_from(V v, int lane) {
  return shuffle_words(v, [=](unsigned w) { return __shfl_sync(0xffffffffu, w, lane); });
}

template <class T, int V>
struct alignas(sizeof(T) * V) Pack {
  T v[V];
};

// 16 bytes per load, and enough loads in flight per thread (64 bytes for 4- and 8-byte types)
// to cover the memory latency; 1- and 2-byte types unroll less to keep the code small.
template <class T>
constexpr int kVecWidth = static_cast<int>(16 / sizeof(T));
template <int V>
constexpr int kLoadsInFlight = V >= 16 ? 1 : V >= 8 ? 2 : 4;
// Independent accumulators per thread: up to one per element of a load, at most 64 bytes of
// them (an int64 sum of bytes or an arg reduction would otherwise spill).
template <class Acc, int V>
constexpr int kAccumulators = std::min<int>(V, std::max<int>(1, 64 / static_cast<int>(sizeof(Acc))));

// ---- rows

struct RowPlan {
  int64_t rows = 0, inner = 0, row_stride = 0;  // elements
  int64_t segments = 1, segment_len = 0;        // each row cut into `segments` pieces
  int lanes = 32;                               // threads reading one segment (a power of two <= 32)
};

// The lanes of a group reduce elements [begin, end) of `row`: scalar loads up to a 16-byte
// boundary, then aligned vector loads, then the scalar tail.
template <class Op, class T>
__device__ __forceinline__ typename Op::Acc accumulate_row(const Op& op, const T* __restrict__ row, int64_t begin,
                                                           int64_t end, int lane, int lanes) {
  using Acc = typename Op::Acc;
  constexpr int V = kVecWidth<T>;
  constexpr int U = kLoadsInFlight<V>;
  constexpr int P = kAccumulators<Acc, V>;
  Acc acc = op.identity();
  const int misaligned = static_cast<int>(reinterpret_cast<uintptr_t>(row + begin) % 16 / sizeof(T));
  const int64_t body = misaligned == 0 ? begin : std::min(end, begin + (V - misaligned));
  for (int64_t j = begin + lane; j < body; j += lanes) acc = op.combine(acc, op.map(row[j], j));
  const int64_t vectors = (end - body) / V;
  const Pack<T, V>* packs = reinterpret_cast<const Pack<T, V>*>(row + body);
  Acc part[P];
#pragma unroll
  for (int k = 0; k < P; ++k) part[k] = op.identity();
  int64_t i = lane;
  for (; i + (U - 1) * lanes < vectors; i += U * lanes) {
    Pack<T, V> in[U];
#pragma unroll
    for (int u = 0; u < U; ++u) in[u] = packs[i + u * lanes];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int64_t first = body + (i + u * lanes) * V;
#pragma unroll
      for (int k = 0; k < V; ++k) part[k % P] = op.combine(part[k % P], op.map(in[u].v[k], first + k));
    }
  }
  for (; i < vectors; i += lanes) {
    const Pack<T, V> in = packs[i];
#pragma unroll
    for (int k = 0; k < V; ++k) part[k % P] = op.combine(part[k % P], op.map(in.v[k], body + i * V + k));
  }
  for (int64_t j = body + vectors * V + lane; j < end; j += lanes) acc = op.combine(acc, op.map(row[j], j));
#pragma unroll
  for (int k = 0; k < P; ++k) acc = op.combine(acc, part[k]);
  return acc;
}

// One group of `lanes` threads per (row, segment): the row's result, or the segment's partial.
template <class Op, class T>
__global__ void __launch_bounds__(kBlock) reduce_rows(Op op, const T* __restrict__ x, RowPlan p,
                                                      typename Op::Acc* __restrict__ partial) {
  using Acc = typename Op::Acc;
  const int64_t task = (int64_t{blockIdx.x} * kBlock + threadIdx.x) / p.lanes;
  const int lane = static_cast<int>(threadIdx.x % p.lanes);
  const bool active = task < p.rows * p.segments;
  Acc acc = op.identity();
  if (active) {
    const int64_t row = task / p.segments, segment = task % p.segments;
    const int64_t begin = segment * p.segment_len, end = std::min(p.inner, begin + p.segment_len);
    acc = accumulate_row(op, x + row * p.row_stride, begin, end, lane, p.lanes);
  }
  // Every lane takes part in the shuffles, active or not.
  for (int offset = p.lanes / 2; offset > 0; offset /= 2) acc = op.combine(acc, shfl_down(acc, offset, p.lanes));
  if (active && lane == 0) {
    if (p.segments == 1) op.write(task, acc);
    else partial[task] = acc;
  }
}

// ---- columns

struct ColumnPlan {
  int64_t batches = 1, rows = 0, cols = 0;                      // [batches, rows, cols], reducing rows
  int64_t batch_stride = 0, row_stride = 0, col_stride = 1;     // elements
  int64_t splits = 1, rows_per_split = 0;                       // row ranges reduced by separate blocks
  int64_t col_tiles = 1;                                        // blocks across the columns of a batch
};

// A block of (bx, by) threads: bx threads across columns (V contiguous columns each), by across
// rows; grid.x enumerates (batch, split, column tile). Src is the input type, or the
// accumulator when folding partials. The partials of split s go to partial[s][batch][col].
template <class Op, class Src, int V>
__global__ void __launch_bounds__(kMaxBlock, 1) reduce_columns(Op op, const Src* __restrict__ x, ColumnPlan p,
                                                            typename Op::Acc* __restrict__ partial) {
  using Acc = typename Op::Acc;
  constexpr int U = kLoadsInFlight<V>;
  extern __shared__ __align__(16) unsigned char shared_bytes[];
  Acc* shared = reinterpret_cast<Acc*>(shared_bytes);
  const int bx = blockDim.x, by = blockDim.y, tx = threadIdx.x, ty = threadIdx.y;
  const int64_t tile = blockIdx.x % p.col_tiles, rest = blockIdx.x / p.col_tiles;
  const int64_t split = rest % p.splits, batch = rest / p.splits;
  const int64_t col = (tile * bx + tx) * V;
  const bool active = col < p.cols;
  const int64_t begin = split * p.rows_per_split, end = std::min(p.rows, begin + p.rows_per_split);

  Acc part[V];
#pragma unroll
  for (int k = 0; k < V; ++k) part[k] = op.identity();
  if (active) {
    const Src* base = x + batch * p.batch_stride + col * p.col_stride;
    auto load = [&](int64_t r) {
      if constexpr (V == 1) return Pack<Src, 1>{{base[r * p.row_stride]}};
      else return *reinterpret_cast<const Pack<Src, V>*>(base + r * p.row_stride);  // col_stride is 1
    };
    int64_t r = begin + ty;
    for (; r + (U - 1) * by < end; r += U * by) {
      Pack<Src, V> in[U];
#pragma unroll
      for (int u = 0; u < U; ++u) in[u] = load(r + u * by);
#pragma unroll
      for (int u = 0; u < U; ++u) {
#pragma unroll
        for (int k = 0; k < V; ++k) part[k] = op.combine(part[k], to_acc(op, in[u].v[k], r + u * by));
      }
    }
    for (; r < end; r += by) {
      const Pack<Src, V> in = load(r);
#pragma unroll
      for (int k = 0; k < V; ++k) part[k] = op.combine(part[k], to_acc(op, in.v[k], r));
    }
  }

  // The threads of one column: the rows within a warp by shuffles, then the warps through
  // shared memory. Lane l of warp w holds row l / bx (bx divides 32) of that warp.
  const int linear = ty * bx + tx, lane = linear % 32, warp = linear / 32, warps = bx * by / 32;
#pragma unroll
  for (int k = 0; k < V; ++k) {
    Acc a = part[k];
    for (int offset = 16; offset >= bx; offset /= 2) a = op.combine(a, shfl_down(a, offset));
    if (warps > 1) {
      if (lane < bx) shared[warp * bx + lane] = a;
      __syncthreads();
      if (warp == 0 && lane < bx) {
        for (int w = 1; w < warps; ++w) a = op.combine(a, shared[w * bx + lane]);
      }
      __syncthreads();
    }
    part[k] = a;
  }
  if (warp == 0 && lane < bx && active) {  // ty == 0, tx == lane
#pragma unroll
    for (int k = 0; k < V; ++k) {
      const int64_t out = batch * p.cols + col + k;
      if (p.splits == 1) op.write(out, part[k]);
      else partial[split * p.batches * p.cols + out] = part[k];
    }
  }
}

// ---- launching

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int power_of_two_at_least(int64_t n) {
  int p = 1;
  while (p < n && p < (1 << 30)) p *= 2;
  return p;
}

struct LaunchContext {
  Device device;
  cudaStream_t stream;
  int multiprocessors;
  int threads_per_multiprocessor;
};

inline LaunchContext launch_context(const Tensor& t) {
  const int index = t.device().index;
  int multiprocessors = 0, threads = 0;
  VT_CUDA_CHECK(cudaDeviceGetAttribute(&multiprocessors, cudaDevAttrMultiProcessorCount, index));
  VT_CUDA_CHECK(cudaDeviceGetAttribute(&threads, cudaDevAttrMaxThreadsPerMultiProcessor, index));
  return {t.device(), current_cuda_stream(index), multiprocessors, threads};
}

// Scratch memory on the device, from the caching allocator on the current stream: freeing it
// once the kernels are queued is safe, since a later user of the block queues after them.
template <class A>
Tensor workspace(const LaunchContext& ctx, int64_t count) {
  return empty_tensor(std::vector<int64_t>{count * static_cast<int64_t>(sizeof(A))}, ScalarType::UInt8, ctx.device);
}

template <class Kernel>
int blocks_per_multiprocessor(Kernel kernel, int threads, size_t shared_bytes) {
  int blocks = 0;
  VT_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, kernel, threads, shared_bytes));
  return std::max(blocks, 1);
}

inline unsigned grid_for(int64_t blocks) {
  VT_CHECK_KIND(blocks < (int64_t{1} << 31), ErrorKind::NotImplemented, "CUDA reduction: too many blocks (", blocks, ")");
  return static_cast<unsigned>(blocks);
}

// Folds partial[o * output_stride + s * count_stride] over s < count into op.write(o).
template <class Op>
void fold_partials(const Op& op, const typename Op::Acc* partial, int64_t outputs, int64_t count,
                   int64_t output_stride, int64_t count_stride, const LaunchContext& ctx) {
  using Acc = typename Op::Acc;
  const int bx = std::min(32, power_of_two_at_least(outputs));
  const int by = std::clamp(power_of_two_at_least(count), 32 / bx, kMaxBlock / bx);
  ColumnPlan p;
  p.rows = count;
  p.cols = outputs;
  p.row_stride = count_stride;
  p.col_stride = output_stride;
  p.rows_per_split = count;
  p.col_tiles = ceil_div(outputs, bx);
  const size_t shared = static_cast<size_t>(bx * by / 32 * bx) * sizeof(Acc);
  reduce_columns<Op, Acc, 1><<<grid_for(p.col_tiles), dim3(bx, by), shared, ctx.stream>>>(op, partial, p, nullptr);
  VT_CUDA_CHECK(cudaGetLastError());
}

// Each row's lanes should have a few vector loads to issue before a segment ends.
constexpr int64_t kMinLoadsPerLane = 2;

template <class Op, class T>
void launch_rows(const Op& op, const T* x, int64_t rows, int64_t inner, int64_t row_stride, const LaunchContext& ctx) {
  using Acc = typename Op::Acc;
  constexpr int64_t kElementsPerLoad = kVecWidth<T> * kLoadsInFlight<kVecWidth<T>>;
  RowPlan p;
  p.rows = rows;
  p.inner = inner;
  p.row_stride = row_stride;
  p.lanes = std::min(32, power_of_two_at_least(ceil_div(inner, kElementsPerLoad)));
  // Rows too few to fill the GPU are cut into segments until the (row, segment) groups fill it
  // once: one wave of equal work, with no tail of stragglers.
  static const int occupancy = blocks_per_multiprocessor(reduce_rows<Op, T>, kBlock, 0);
  const int64_t resident_groups = int64_t{occupancy} * ctx.multiprocessors * kBlock / p.lanes;
  if (rows < resident_groups) {
    const int64_t longest = inner / (p.lanes * kElementsPerLoad * kMinLoadsPerLane);
    p.segments = std::clamp<int64_t>(resident_groups / rows, 1, std::max<int64_t>(longest, 1));
  }
  p.segment_len = ceil_div(ceil_div(inner, p.segments), kVecWidth<T>) * kVecWidth<T>;  // keeps segments aligned
  p.segments = inner == 0 ? 1 : ceil_div(inner, p.segment_len);
  Tensor partial;
  if (p.segments > 1) partial = workspace<Acc>(ctx, rows * p.segments);
  Acc* partial_data = p.segments > 1 ? static_cast<Acc*>(partial.data_ptr()) : nullptr;
  const int64_t blocks = ceil_div(rows * p.segments * p.lanes, kBlock);
  reduce_rows<Op, T><<<grid_for(blocks), kBlock, 0, ctx.stream>>>(op, x, p, partial_data);
  VT_CUDA_CHECK(cudaGetLastError());
  if (p.segments > 1) fold_partials(op, partial_data, rows, p.segments, p.segments, 1, ctx);
}

// Each thread should walk a few rows before its split ends.
constexpr int64_t kMinRowsPerThread = 8;

template <class Op, class T, int V>
void launch_columns_of_width(const Op& op, const T* x, int64_t batches, int64_t rows, int64_t cols,
                             const LaunchContext& ctx) {
  using Acc = typename Op::Acc;
  ColumnPlan p;
  p.batches = batches;
  p.rows = rows;
  p.cols = cols;
  p.batch_stride = rows * cols;
  p.row_stride = cols;
  const int bx = std::min(32, power_of_two_at_least(ceil_div(cols, V)));
  const int by = kBlock / bx;
  p.col_tiles = ceil_div(ceil_div(cols, V), bx);
  const size_t shared = static_cast<size_t>(kBlock / 32 * bx) * sizeof(Acc);
  static const int occupancy = blocks_per_multiprocessor(reduce_columns<Op, T, V>, kBlock, kBlock / 32 * 32 * sizeof(Acc));
  const int64_t resident_blocks = int64_t{occupancy} * ctx.multiprocessors;
  const int64_t blocks_per_split = batches * p.col_tiles;
  if (blocks_per_split < resident_blocks) {
    p.splits = std::clamp<int64_t>(resident_blocks / blocks_per_split, 1, std::max<int64_t>(rows / (by * kMinRowsPerThread), 1));
  }
  p.rows_per_split = ceil_div(rows, p.splits);
  p.splits = ceil_div(rows, p.rows_per_split);
  Tensor partial;
  if (p.splits > 1) partial = workspace<Acc>(ctx, p.splits * batches * cols);
  Acc* partial_data = p.splits > 1 ? static_cast<Acc*>(partial.data_ptr()) : nullptr;
  reduce_columns<Op, T, V><<<grid_for(blocks_per_split * p.splits), dim3(bx, by), shared, ctx.stream>>>(op, x, p,
                                                                                                        partial_data);
  VT_CUDA_CHECK(cudaGetLastError());
  if (p.splits > 1) fold_partials(op, partial_data, batches * cols, p.splits, 1, batches * cols, ctx);
}

// Vector loads need every row's columns aligned. A thread keeps an accumulator per column it
// owns, so wide accumulators (int64 sums of bytes, values with indices) take narrower loads.
template <class Op, class T>
void launch_columns(const Op& op, const T* x, int64_t batches, int64_t rows, int64_t cols, const LaunchContext& ctx) {
  constexpr int V = kAccumulators<typename Op::Acc, kVecWidth<T>>;
  if (cols % V == 0 && reinterpret_cast<uintptr_t>(x) % (V * sizeof(T)) == 0) {
    launch_columns_of_width<Op, T, V>(op, x, batches, rows, cols, ctx);
  } else {
    launch_columns_of_width<Op, T, 1>(op, x, batches, rows, cols, ctx);
  }
}

// ---- the layout

// How the kernels read the input: rows (`outer` rows of `inner` contiguous elements,
// `row_stride` apart) or columns ([batches, rows, cols] contiguous, reducing rows).
struct Layout {
  bool columns = false;
  Tensor data;  // the input, or the copy of it that the kernels read
  int64_t outer = 1, inner = 1, row_stride = 1;
  int64_t batches = 1, rows = 1, cols = 1;
};

// A dense input (a permutation of a contiguous layout) is read in place when, taken in memory
// order and with neighbouring dims of the same kind merged, it is [reduced], [kept, reduced],
// [reduced, kept] or [kept, reduced, kept], and its kept dims are in the results' order (so the
// contiguous results follow memory order). Anything else is first copied into rows
// (reduce::as_rows, as the CPU kernels do).
inline Layout reduction_layout(const Tensor& input, const reduce::ReductionShape& shape) {
  Layout layout;
  layout.data = input;
  layout.outer = shape.outer;
  layout.inner = shape.inner;
  layout.row_stride = shape.inner;
  if (shape.outer == 0 || shape.inner == 0) return layout;  // nothing is read

  struct Dim {
    int64_t size, stride;
    bool reduced;
    int64_t index;
  };
  std::vector<Dim> dims;
  for (int64_t d = 0; d < input.dim(); ++d) {
    if (input.sizes()[d] != 1) dims.push_back({input.sizes()[d], input.strides()[d], shape.reduced[d], d});
  }
  std::stable_sort(dims.begin(), dims.end(), [](const Dim& a, const Dim& b) { return a.stride > b.stride; });
  bool in_place = true;
  int64_t expected_stride = 1;
  for (auto it = dims.rbegin(); it != dims.rend(); ++it) {
    in_place = in_place && it->stride == expected_stride;
    expected_stride *= it->size;
  }
  int64_t last_kept = -1;
  for (const Dim& d : dims) {
    if (d.reduced) continue;
    in_place = in_place && d.index > last_kept;
    last_kept = d.index;
  }
  std::vector<std::pair<bool, int64_t>> groups;  // (reduced, size), outermost first
  for (const Dim& d : dims) {
    if (!groups.empty() && groups.back().first == d.reduced) groups.back().second *= d.size;
    else groups.emplace_back(d.reduced, d.size);
  }
  if (in_place && groups.empty()) return layout;  // one element
  if (in_place && groups.back().first && groups.size() <= 2) return layout;  // [reduced] or [kept, reduced]
  if (in_place && !groups.back().first && groups.size() == 1) {
    layout.inner = 1;  // nothing reduced but dims of size 1: each result is one element
    layout.row_stride = 1;
    return layout;
  }
  if (in_place && !groups.back().first && groups.size() <= 3 && groups[groups.size() - 2].first) {
    layout.columns = true;
    layout.cols = groups.back().second;
    layout.rows = groups[groups.size() - 2].second;
    layout.batches = groups.size() == 3 ? groups[0].second : 1;
    return layout;
  }
  layout.data = reduce::as_rows(input, shape);
  layout.row_stride = layout.data.strides()[0];
  return layout;
}

// Runs `op` over `input` (already of the op's input type T) for the results of `shape`.
template <class T, class Op>
void run_reduction(const Op& op, const Tensor& input, const reduce::ReductionShape& shape) {
  if (shape.outer == 0) return;
  DeviceGuard guard(input.device().index);
  const LaunchContext ctx = launch_context(input);
  const Layout layout = reduction_layout(input, shape);
  const T* x = static_cast<const T*>(layout.data.data_ptr());
  if (layout.columns) launch_columns(op, x, layout.batches, layout.rows, layout.cols, ctx);
  else launch_rows(op, x, layout.outer, layout.inner, layout.row_stride, ctx);
}

}  // namespace vt::cuda::reduction
