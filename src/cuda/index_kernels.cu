// CUDA kernels of the ops that move data by an index tensor: gather, scatter (scatter.src,
// scatter_add, scatter_reduce.two), index_select, index_add, index_copy, and nonzero. The
// argument rules and the element arithmetic are the CPU's (src/ops/index_rules.h).
//
// Index bounds. The CPU kernels raise at the first index out of range; a kernel cannot
// raise, and torch's device-side assert would leave the context unusable. So each index
// tensor is validated before it is used: a small kernel finds the first (row-major) position
// holding an index out of range, and its 8-byte answer is copied to the host. That costs one
// device->host sync per op; a bad index then raises the CPU's error, naming the same value.
//
// Duplicate indices. Reductions (scatter_add, scatter_reduce, index_add) combine with
// atomics, so a floating-point sum's order, and its rounding, varies from run to run, as in
// torch's CUDA kernels. Plain writes (scatter, index_copy) keep the CPU's "the last write
// wins": a first pass elects, for each target, the last position writing it.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <type_traits>

#include "src/cuda/cuda_check.h"
#include "src/ops/index_rules.h"
#include "vt/cuda.h"
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt::cuda {
namespace {

using namespace index_rules;

constexpr int kThreads = 256;
constexpr int kMaxDims = 25;  // dimensions left after merging, as torch's MAX_DIMS

unsigned blocks_for(int64_t n) {
  // Grid-stride loops cover what this many blocks do not.
  return static_cast<unsigned>(std::clamp<int64_t>((n + kThreads - 1) / kThreads, 1, int64_t{1} << 16));
}

cudaStream_t stream_of(const Tensor& t) { return static_cast<cudaStream_t>(current_stream(t.device().index).handle()); }

#define VT_GRID_STRIDE_LOOP(i, n) \
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < (n); i += int64_t{gridDim.x} * blockDim.x)

// ---- devices

// The dispatcher picks these kernels when any tensor argument is on a GPU: self must be, and
// every data tensor on its device. An index tensor may come from the CPU, as torch allows for
// indexing (x_cuda[cpu_mask] reaches index_select with CPU positions), and is copied over.
void check_same_device(const Tensor& self, const Tensor& other) {
  VT_CHECK(self.device().is_cuda() && other.device() == self.device(),
           "Expected all tensors to be on the same device, but found at least two devices, ", self.device().str(),
           " and ", other.device().str(), "!");
}
Tensor index_on_device(const Tensor& self, const Tensor& index) {
  if (index.device().is_cpu() && self.device().is_cuda()) return to(index, std::nullopt, self.device());
  check_same_device(self, index);
  return index;
}

// One value from device memory; waits for the stream's work so far.
template <class T>
T read_back(const T* device_ptr, const Tensor& on) {
  T value;
  VT_CUDA_CHECK(cudaMemcpyAsync(&value, device_ptr, sizeof(T), cudaMemcpyDeviceToHost, stream_of(on)));
  VT_CUDA_CHECK(cudaStreamSynchronize(stream_of(on)));
  return value;
}

// ---- strided walks

// Element offsets into N operands for a row-major walk over a shape.
template <int N>
struct Walk {
  int dims = 0;
  int64_t sizes[kMaxDims];
  int64_t strides[kMaxDims][N];  // in elements

  __device__ void offsets(int64_t linear, int64_t (&out)[N]) const {
#pragma unroll
    for (int k = 0; k < N; ++k) out[k] = 0;
    for (int d = dims - 1; d >= 0; --d) {
      const int64_t i = linear % sizes[d];
      linear /= sizes[d];
#pragma unroll
      for (int k = 0; k < N; ++k) out[k] += i * strides[d][k];
    }
  }
};

// The walk over `sizes`, operand k having strides[k]; size-1 dimensions are dropped and
// neighbours that are row-major in every operand merged.
template <int N>
Walk<N> make_walk(IntArrayRef sizes, const std::array<DimVector, N>& strides, const char* op) {
  Walk<N> walk;
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == 1) continue;
    if (walk.dims > 0) {
      const int last = walk.dims - 1;
      bool mergeable = true;
      for (int k = 0; k < N; ++k) mergeable = mergeable && walk.strides[last][k] == strides[k][d] * sizes[d];
      if (mergeable) {
        walk.sizes[last] *= sizes[d];
        for (int k = 0; k < N; ++k) walk.strides[last][k] = strides[k][d];
        continue;
      }
    }
    VT_CHECK_KIND(walk.dims < kMaxDims, ErrorKind::NotImplemented, op, "(): CUDA tensors with more than ", kMaxDims,
                  " non-mergeable dimensions are not supported");
    walk.sizes[walk.dims] = sizes[d];
    for (int k = 0; k < N; ++k) walk.strides[walk.dims][k] = strides[k][d];
    ++walk.dims;
  }
  return walk;
}

// t's strides over `dims` dimensions: 0 past t's own (a 0-dim self) and at `zero_dim`, whose
// offset comes from an index instead.
DimVector strides_of(const Tensor& t, int64_t dims, int64_t zero_dim = -1) {
  DimVector strides(static_cast<size_t>(dims), 0);
  for (int64_t k = 0; k < std::min(dims, t.dim()); ++k) strides[k] = k == zero_dim ? 0 : t.strides()[k];
  return strides;
}

// ---- index validation (see the top of the file)

__global__ void find_first_bad_index(const int64_t* index, Walk<1> walk, int64_t n, int64_t size,
                                     unsigned long long* first_bad) {
  VT_GRID_STRIDE_LOOP(k, n) {
    int64_t offset[1];
    walk.offsets(k, offset);
    const int64_t i = index[offset[0]];
    if (i < 0 || i >= size) atomicMin(first_bad, static_cast<unsigned long long>(k));
  }
}

// Raises the CPU's error for the first index of `index` outside [0, size).
void check_indices(const Tensor& index, int64_t size, int64_t dim, const char* op, ErrorKind kind) {
  const int64_t n = index.numel();
  if (n == 0) return;
  Tensor first_bad = empty(std::vector<int64_t>{1}, ScalarType::Int64, index.device());
  auto* answer = static_cast<unsigned long long*>(first_bad.data_ptr());
  VT_CUDA_CHECK(cudaMemsetAsync(answer, 0xff, sizeof(*answer), stream_of(index)));  // "none"
  const Walk<1> walk = make_walk<1>(index.sizes(), {DimVector(index.strides())}, op);
  find_first_bad_index<<<blocks_for(n), kThreads, 0, stream_of(index)>>>(index.data<int64_t>(), walk, n, size, answer);
  VT_CUDA_CHECK(cudaGetLastError());
  const unsigned long long bad = read_back(answer, index);
  if (bad == ~0ull) return;
  int64_t offset = 0, rest = static_cast<int64_t>(bad);
  for (int64_t d = index.dim() - 1; d >= 0; --d) {
    offset += rest % index.sizes()[d] * index.strides()[d];
    rest /= index.sizes()[d];
  }
  checked_index(read_back(index.data<int64_t>() + offset, index), size, dim, op, kind);
}

// ---- atomics

// The type that moves an element's bytes.
template <class Fn>
void dispatch_bits(size_t size, Fn&& fn) {
  switch (size) {
    case 1: return fn(uint8_t{});
    case 2: return fn(uint16_t{});
    case 4: return fn(uint32_t{});
    default: return fn(uint64_t{});
  }
}

// *address = f(*address), atomically, for elements of any size: a compare-and-swap loop,
// on the aligned 32-bit word that holds an element of 1 or 2 bytes.
template <class T, class F>
__device__ void atomic_update(T* address, F f) {
  if constexpr (sizeof(T) >= 4) {
    using Word = std::conditional_t<sizeof(T) == 8, unsigned long long, unsigned int>;
    Word* word = reinterpret_cast<Word*>(address);
    Word old = *word, assumed;
    do {
      assumed = old;
      T value;
      memcpy(&value, &assumed, sizeof(T));
      const T next = f(value);
      Word bits;
      memcpy(&bits, &next, sizeof(T));
      old = atomicCAS(word, assumed, bits);
    } while (old != assumed);
  } else {
    const auto at = reinterpret_cast<uintptr_t>(address);
    unsigned int* word = reinterpret_cast<unsigned int*>(at & ~uintptr_t{3});
    const unsigned int shift = static_cast<unsigned int>(at & 3) * 8;
    const unsigned int mask = ((1u << (8 * sizeof(T))) - 1) << shift;
    unsigned int old = *word, assumed;
    do {
      assumed = old;
      const unsigned int current = (assumed & mask) >> shift;
      T value;
      memcpy(&value, &current, sizeof(T));  // the low bytes (little-endian)
      const T next = f(value);
      unsigned int bits = 0;
      memcpy(&bits, &next, sizeof(T));
      old = atomicCAS(word, assumed, (assumed & ~mask) | (bits << shift));
    } while (old != assumed);
  }
}

// *address += value, with the hardware's atomic add where the type has one (the result is the
// CPU's T(C(target) + value) whenever `value` is exact in T); false where it has none.
template <class T>
__device__ bool hardware_atomic_add(T* address, T value) {
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, int32_t>) {
    atomicAdd(address, value);
  } else if constexpr (std::is_same_v<T, int64_t>) {
    atomicAdd(reinterpret_cast<unsigned long long*>(address), static_cast<unsigned long long>(value));  // wraps
  } else if constexpr (std::is_same_v<T, Half>) {
    atomicAdd(reinterpret_cast<__half*>(address), __ushort_as_half(value.bits));
  } else if constexpr (std::is_same_v<T, BFloat16>) {
    atomicAdd(reinterpret_cast<__nv_bfloat16*>(address), __ushort_as_bfloat16(value.bits));
  } else {
    return false;
  }
  return true;
}

// ---- gather

template <class E>
__global__ void gather_kernel(E* out, const E* self, const int64_t* index, Walk<2> walk, int64_t self_stride,
                              int64_t n) {
  VT_GRID_STRIDE_LOOP(k, n) {
    int64_t offset[2];  // index, self apart from `dim`
    walk.offsets(k, offset);
    out[k] = self[offset[1] + index[offset[0]] * self_stride];
  }
}

Tensor gather_cuda(const Tensor& self, int64_t dim, const Tensor& index) {
  const int64_t d = check_gather(self, dim, index);
  const Tensor idx = index_on_device(self, index);
  DeviceGuard guard(self.device().index);
  Tensor out = empty(index.sizes(), self.dtype(), self.device());
  const int64_t n = out.numel();
  if (n == 0) return out;
  check_indices(idx, indexed_size(self, d), d, "gather", ErrorKind::Runtime);
  const Walk<2> walk = make_walk<2>(idx.sizes(), {DimVector(idx.strides()), strides_of(self, idx.dim(), d)}, "gather");
  const int64_t self_stride = self.dim() == 0 ? 0 : self.strides()[d];
  dispatch_bits(self.itemsize(), [&](auto tag) {
    using E = decltype(tag);
    gather_kernel<E><<<blocks_for(n), kThreads, 0, stream_of(self)>>>(
        out.data<E>(), self.data<E>(), idx.data<int64_t>(), walk, self_stride, n);
  });
  VT_CUDA_CHECK(cudaGetLastError());
  return out;
}

// ---- scatter

// Operands of a scatter walk over the index tensor: index, src, and out apart from `dim`.
struct ScatterArgs {
  const int64_t* index;
  Walk<3> walk;
  int64_t out_stride;  // of `dim`
  int64_t n;

  __device__ void at(int64_t k, int64_t& source, int64_t& target) const {
    int64_t offset[3];
    walk.offsets(k, offset);
    source = offset[1];
    target = offset[2] + index[offset[0]] * out_stride;
  }
};

// "Last write wins": each target keeps the largest position k that writes it.
__global__ void elect_last_writer(ScatterArgs args, long long* winner) {
  VT_GRID_STRIDE_LOOP(k, args.n) {
    int64_t source, target;
    args.at(k, source, target);
    atomicMax(winner + target, static_cast<long long>(k));
  }
}

template <class E>
__global__ void scatter_assign_kernel(ScatterArgs args, E* out, const E* src, const long long* winner) {
  VT_GRID_STRIDE_LOOP(k, args.n) {
    int64_t source, target;
    args.at(k, source, target);
    if (winner[target] == k) out[target] = src[source];
  }
}

// The value that combines with the first scattered value into that value (include_self=False).
template <class T>
__device__ compute_t<T> scatter_identity(ScatterMode mode) {
  using C = compute_t<T>;
  using Limits = std::numeric_limits<C>;
  if constexpr (std::is_same_v<T, bool>) {
    return mode == ScatterMode::Prod || mode == ScatterMode::Amin;
  } else {
    switch (mode) {
      case ScatterMode::Prod: return C(1);
      case ScatterMode::Amax: return Limits::has_infinity ? -Limits::infinity() : Limits::lowest();
      case ScatterMode::Amin: return Limits::has_infinity ? Limits::infinity() : Limits::max();
      default: return std::is_floating_point_v<C> ? C(-0.0) : C(0);  // -0.0 + x is x, also for x = -0.0
    }
  }
}

template <class T>
__global__ void scatter_identity_kernel(ScatterArgs args, T* out, ScatterMode mode) {
  VT_GRID_STRIDE_LOOP(k, args.n) {
    int64_t source, target;
    args.at(k, source, target);
    out[target] = static_cast<T>(scatter_identity<T>(mode));  // duplicates store the same value
  }
}

template <class T>
__global__ void scatter_reduce_kernel(ScatterArgs args, T* out, const T* src, ScatterMode mode,
                                      unsigned long long* counts) {
  using C = compute_t<T>;
  VT_GRID_STRIDE_LOOP(k, args.n) {
    int64_t source, target;
    args.at(k, source, target);
    const T value = src[source];
    const bool summed = mode == ScatterMode::Sum || mode == ScatterMode::Mean;
    if (!(summed && hardware_atomic_add(out + target, value))) {
      atomic_update(out + target, [&](T old) {
        return static_cast<T>(scatter_combine<T>(mode, static_cast<C>(old), static_cast<C>(value)));
      });
    }
    if (counts) atomicAdd(counts + target, 1ull);
  }
}

template <class T>
__global__ void scatter_mean_kernel(T* out, const int64_t* counts, int64_t n) {
  VT_GRID_STRIDE_LOOP(k, n) out[k] = scatter_mean(out[k], counts[k]);
}

Tensor scatter_cuda(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src, ScatterMode mode,
                    bool include_self, const char* op) {
  const int64_t d = check_scatter(self, dim, index, src, op);
  check_same_device(self, src);
  const Tensor idx = index_on_device(self, index);
  DeviceGuard guard(self.device().index);
  Tensor out = contiguous(clone(self));
  const int64_t n = idx.numel();
  if (n == 0) return out;
  check_indices(idx, indexed_size(self, d), d, op, ErrorKind::Runtime);
  const cudaStream_t stream = stream_of(self);
  ScatterArgs args{idx.data<int64_t>(),
                   make_walk<3>(idx.sizes(), {DimVector(idx.strides()), DimVector(src.strides()),
                                              strides_of(out, idx.dim(), d)}, op),
                   self.dim() == 0 ? 0 : out.strides()[d], n};
  if (mode == ScatterMode::Assign) {
    Tensor winner = empty(std::vector<int64_t>{out.numel()}, ScalarType::Int64, self.device());
    VT_CUDA_CHECK(cudaMemsetAsync(winner.data_ptr(), 0xff, winner.numel() * sizeof(int64_t), stream));  // -1
    auto* winners = static_cast<long long*>(winner.data_ptr());
    elect_last_writer<<<blocks_for(n), kThreads, 0, stream>>>(args, winners);
    VT_CUDA_CHECK(cudaGetLastError());
    dispatch_bits(self.itemsize(), [&](auto tag) {
      using E = decltype(tag);
      scatter_assign_kernel<E><<<blocks_for(n), kThreads, 0, stream>>>(args, out.data<E>(), src.data<E>(), winners);
    });
    VT_CUDA_CHECK(cudaGetLastError());
    return out;
  }
  // reduce='mean' counts the values of each element (self's own with include_self).
  Tensor counts;
  if (mode == ScatterMode::Mean) {
    counts = full(std::vector<int64_t>{out.numel()}, include_self ? 1 : 0, ScalarType::Int64, self.device());
  }
  dispatch_all_types(self.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    if (!include_self) {
      scatter_identity_kernel<T><<<blocks_for(n), kThreads, 0, stream>>>(args, out.data<T>(), mode);
      VT_CUDA_CHECK(cudaGetLastError());
    }
    auto* count_data = counts.defined() ? static_cast<unsigned long long*>(counts.data_ptr()) : nullptr;
    scatter_reduce_kernel<T><<<blocks_for(n), kThreads, 0, stream>>>(args, out.data<T>(), src.data<T>(), mode,
                                                                     count_data);
    VT_CUDA_CHECK(cudaGetLastError());
    if (counts.defined()) {
      scatter_mean_kernel<T><<<blocks_for(out.numel()), kThreads, 0, stream>>>(out.data<T>(), counts.data<int64_t>(),
                                                                              out.numel());
      VT_CUDA_CHECK(cudaGetLastError());
    }
  });
  return out;
}

Tensor scatter_add_cuda(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  check_scatter_add_dtype(self);
  return scatter_cuda(self, dim, index, src, ScatterMode::Sum, true, "scatter_add");
}
Tensor scatter_src_cuda(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  return scatter_cuda(self, dim, index, src, ScatterMode::Assign, true, "scatter");
}
Tensor scatter_reduce_cuda(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src,
                           std::string_view reduce, bool include_self) {
  return scatter_cuda(self, dim, index, src, scatter_mode(reduce), include_self, "scatter_reduce");
}

// ---- index_select and index_add: contiguous tensors as [outer, size, inner] around `dim`

struct Slabs {
  int64_t outer = 1, size = 1, inner = 1;
};
Slabs slabs_of(IntArrayRef sizes, int64_t d) {
  Slabs s;
  if (sizes.empty()) return s;
  for (int64_t k = 0; k < d; ++k) s.outer *= sizes[k];
  s.size = sizes[d];
  for (size_t k = d + 1; k < sizes.size(); ++k) s.inner *= sizes[k];
  return s;
}

// The positions as a contiguous int64 vector on self's device.
Tensor flat_positions(const Tensor& self, const Tensor& index) {
  return contiguous(to(reshape(index_on_device(self, index), std::vector<int64_t>{-1}), ScalarType::Int64));
}

// Moves rows of `units` U-sized units: out[o, k, :] = in[o, ids[k], :].
template <class U>
__global__ void index_select_kernel(U* out, const U* in, const int64_t* ids, int64_t n, int64_t size, int64_t units,
                                    int64_t total) {
  VT_GRID_STRIDE_LOOP(r, total) {
    const int64_t j = r % units, row = r / units;
    const int64_t k = row % n, o = row / n;
    out[r] = in[(o * size + ids[k]) * units + j];
  }
}

Tensor index_select_cuda(const Tensor& self, int64_t dim, const Tensor& index) {
  const int64_t d = check_index_select(self, dim, index);
  const Tensor idx = flat_positions(self, index);
  DeviceGuard guard(self.device().index);
  check_indices(idx, indexed_size(self, d), d, "index_select", ErrorKind::Index);
  if (self.dim() == 0) return clone(self);
  const Tensor input = contiguous(self);
  DimVector shape(self.sizes());
  shape[d] = idx.numel();
  Tensor out = empty(shape, self.dtype(), self.device());
  if (out.numel() == 0) return out;
  const Slabs in = slabs_of(input.sizes(), d);
  const int64_t n = idx.numel(), bytes = in.inner * static_cast<int64_t>(self.itemsize());
  // Rows move in the widest unit (up to 16 bytes) that divides them and both addresses.
  const auto alignment = reinterpret_cast<uintptr_t>(input.data_ptr()) | reinterpret_cast<uintptr_t>(out.data_ptr());
  int64_t unit = 16;
  while (bytes % unit != 0 || alignment % unit != 0) unit /= 2;
  auto launch = [&](auto tag) {
    using U = decltype(tag);
    const int64_t units = bytes / unit, total = in.outer * n * units;
    index_select_kernel<U><<<blocks_for(total), kThreads, 0, stream_of(self)>>>(
        static_cast<U*>(out.data_ptr()), static_cast<const U*>(input.data_ptr()), idx.data<int64_t>(), n, in.size,
        units, total);
  };
  if (unit == 16) launch(uint4{});
  else dispatch_bits(static_cast<size_t>(unit), launch);
  VT_CUDA_CHECK(cudaGetLastError());
  return out;
}

// out[o, ids[k], j] += scale * values[o, k, j]. `exact`: values times scale are exact in T, so
// the hardware's atomic add gives the CPU's single rounding.
template <class T>
__global__ void index_add_kernel(T* out, const T* values, const int64_t* ids, int64_t n, int64_t size, int64_t inner,
                                 int64_t total, compute_t<T> scale, bool exact) {
  VT_GRID_STRIDE_LOOP(r, total) {
    const int64_t j = r % inner, row = r / inner;
    const int64_t k = row % n, o = row / n;
    T* target = out + (o * size + ids[k]) * inner + j;
    const T piece = values[r];
    if (exact && hardware_atomic_add(target, static_cast<T>(scale * static_cast<compute_t<T>>(piece)))) continue;
    atomic_update(target, [&](T old) { return index_add_element(old, scale, piece); });
  }
}

Tensor index_add_cuda(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha) {
  const int64_t d = check_index_add(self, dim, index, source);
  check_same_device(self, source);
  DeviceGuard guard(self.device().index);
  const Tensor idx = flat_positions(self, index);
  check_indices(idx, indexed_size(self, d), d, "index_add", index_add_error_kind(self));
  Tensor out = contiguous(clone(self));
  const int64_t n = idx.numel();
  DimVector source_shape(self.sizes());
  if (self.dim() > 0) source_shape[d] = n;
  const Tensor values = contiguous(source.dim() == 0 && self.dim() > 0 ? expand(source, source_shape) : source);
  const Slabs dst = slabs_of(out.sizes(), d);
  const int64_t total = dst.outer * n * dst.inner;
  if (total == 0) return out;
  dispatch_all_types(self.dtype(), "index_add", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    const C scale = index_add_scale<T>(alpha);
    // Floats round scale * value to C before the add, like the CPU; 16-bit floats add in float,
    // so their products must be exact in T: scale 1. Integers wrap either way.
    const bool exact = !std::is_same_v<C, float> || std::is_same_v<T, float> || scale == C(1);
    index_add_kernel<T><<<blocks_for(total), kThreads, 0, stream_of(self)>>>(
        out.data<T>(), values.data<T>(), idx.data<int64_t>(), n, dst.size, dst.inner, total, scale, exact);
  });
  VT_CUDA_CHECK(cudaGetLastError());
  return out;
}

// ---- index_copy

// `source` as slices shaped like self's (self's sizes with `n` at `d`), each broadcast as
// the CPU's copy_ broadcasts a slice of source into a slice of self (right-aligned).
Tensor source_slices(const Tensor& source, IntArrayRef self_sizes, int64_t d, int64_t n) {
  DimVector shape(self_sizes);
  shape[d] = n;
  if (source.dim() == 0) return expand(source, shape);
  // Move `d` last, broadcast the rest against self's slice, move it back.
  std::vector<int64_t> to_last, back;
  DimVector last_shape;
  for (int64_t k = 0; k < source.dim(); ++k) {
    if (k != d) to_last.push_back(k);
  }
  to_last.push_back(d);
  for (int64_t k = 0; k < static_cast<int64_t>(shape.size()); ++k) {
    if (k != d) last_shape.push_back(shape[k]);
  }
  last_shape.push_back(n);
  const int64_t dims = static_cast<int64_t>(shape.size());
  for (int64_t k = 0; k < dims; ++k) back.push_back(k < d ? k : k == d ? dims - 1 : k - 1);
  return permute(expand(permute(source, to_last), last_shape), back);
}

__global__ void elect_last_copy(const int64_t* ids, int64_t n, long long* winner) {
  VT_GRID_STRIDE_LOOP(k, n) atomicMax(winner + ids[k], static_cast<long long>(k));
}

// Walks the source slices: operands source, out apart from `dim`, and the position k (an
// operand of stride 1 along `dim`).
template <class E>
__global__ void index_copy_kernel(E* out, const E* source, const int64_t* ids, Walk<3> walk, int64_t out_stride,
                                  const long long* winner, int64_t total) {
  VT_GRID_STRIDE_LOOP(r, total) {
    int64_t offset[3];
    walk.offsets(r, offset);
    const int64_t k = offset[2], i = ids[k];
    if (winner[i] == k) out[offset[1] + i * out_stride] = source[offset[0]];
  }
}

Tensor index_copy_cuda(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source) {
  const int64_t d = check_index_copy(self, dim, index, source);
  check_same_device(self, source);
  DeviceGuard guard(self.device().index);
  const Tensor idx = contiguous(reshape(index_on_device(self, index), std::vector<int64_t>{-1}));
  Tensor out = clone(self);
  const int64_t size = indexed_size(self, d), n = idx.numel();
  check_indices(idx, size, d, "index_copy", ErrorKind::Index);
  if (n == 0) return out;
  const Tensor target = self.dim() == 0 ? view(out, std::vector<int64_t>{1}) : out;
  const Tensor values = source_slices(source, target.sizes(), d, n);
  const int64_t total = values.numel();
  if (total == 0) return out;
  const cudaStream_t stream = stream_of(self);
  Tensor winner = empty(std::vector<int64_t>{size}, ScalarType::Int64, self.device());
  VT_CUDA_CHECK(cudaMemsetAsync(winner.data_ptr(), 0xff, size * sizeof(int64_t), stream));  // -1
  auto* winners = static_cast<long long*>(winner.data_ptr());
  elect_last_copy<<<blocks_for(n), kThreads, 0, stream>>>(idx.data<int64_t>(), n, winners);
  VT_CUDA_CHECK(cudaGetLastError());
  DimVector position(values.dim(), 0);
  position[d] = 1;
  const Walk<3> walk = make_walk<3>(
      values.sizes(), {DimVector(values.strides()), strides_of(target, target.dim(), d), position}, "index_copy");
  dispatch_bits(self.itemsize(), [&](auto tag) {
    using E = decltype(tag);
    index_copy_kernel<E><<<blocks_for(total), kThreads, 0, stream>>>(
        target.data<E>(), values.data<E>(), idx.data<int64_t>(), walk, target.strides()[d], winners, total);
  });
  VT_CUDA_CHECK(cudaGetLastError());
  return out;
}

// ---- nonzero: count per tile, scan the counts, copy the total to the host (one sync, as in
// torch), then each tile writes its rows from its offset, in row-major order.

constexpr int kRounds = 8;  // a tile is kRounds rounds of kThreads consecutive elements
constexpr int64_t kTile = int64_t{kThreads} * kRounds;
constexpr int kScanThreads = 1024;

template <class T>
__device__ bool is_nonzero(const T* x, int64_t e, int64_t n) {
  return e < n && static_cast<compute_t<T>>(x[e]) != compute_t<T>(0);
}

// This thread's rank among the block's threads whose flag is set, and their number. Every
// thread of the block calls it.
__device__ int block_rank(bool flag, int& total) {
  __shared__ int warp_counts[kThreads / 32];
  const unsigned int ballot = __ballot_sync(0xffffffffu, flag);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) warp_counts[warp] = __popc(ballot);
  __syncthreads();
  int before = 0;
  total = 0;
  for (int w = 0; w < kThreads / 32; ++w) {
    before += w < warp ? warp_counts[w] : 0;
    total += warp_counts[w];
  }
  __syncthreads();  // warp_counts is reused by the next call
  return before + __popc(ballot & ((1u << lane) - 1));
}

template <class T>
__global__ void __launch_bounds__(kThreads) count_tiles(const T* x, int64_t n, int64_t* counts) {
  int64_t count = 0;
  for (int round = 0; round < kRounds; ++round) {
    int total;
    block_rank(is_nonzero(x, blockIdx.x * kTile + round * kThreads + threadIdx.x, n), total);
    count += total;
  }
  if (threadIdx.x == 0) counts[blockIdx.x] = count;
}

// In one block: counts[t] becomes the number of nonzeros before tile t, counts[tiles] the total.
__global__ void __launch_bounds__(kScanThreads) scan_tiles(int64_t* counts, int64_t tiles) {
  __shared__ int64_t warp_sums[kScanThreads / 32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  int64_t carry = 0;
  for (int64_t base = 0; base < tiles; base += kScanThreads) {
    const int64_t t = base + threadIdx.x;
    const int64_t value = t < tiles ? counts[t] : 0;
    int64_t inclusive = value;
    for (int step = 1; step < 32; step *= 2) {
      const int64_t other = __shfl_up_sync(0xffffffffu, inclusive, step);
      if (lane >= step) inclusive += other;
    }
    if (lane == 31) warp_sums[warp] = inclusive;
    __syncthreads();
    if (warp == 0) {
      int64_t sum = warp_sums[lane];
      for (int step = 1; step < 32; step *= 2) {
        const int64_t other = __shfl_up_sync(0xffffffffu, sum, step);
        if (lane >= step) sum += other;
      }
      warp_sums[lane] = sum;
    }
    __syncthreads();
    if (t < tiles) counts[t] = carry + inclusive - value + (warp > 0 ? warp_sums[warp - 1] : 0);
    carry += warp_sums[kScanThreads / 32 - 1];
    __syncthreads();  // warp_sums is rewritten by the next chunk
  }
  if (threadIdx.x == 0) counts[tiles] = carry;
}

struct Shape {
  int dims;
  int64_t sizes[kMaxDims];
};

template <class T>
__global__ void __launch_bounds__(kThreads) write_tiles(const T* x, int64_t n, const int64_t* offsets, Shape shape,
                                                         int64_t* out) {
  int64_t row = offsets[blockIdx.x];
  for (int round = 0; round < kRounds; ++round) {
    const int64_t e = blockIdx.x * kTile + round * kThreads + threadIdx.x;
    const bool flag = is_nonzero(x, e, n);
    int total;
    const int rank = block_rank(flag, total);
    if (flag) {
      int64_t* coordinates = out + (row + rank) * shape.dims;
      int64_t rest = e;
      for (int d = shape.dims - 1; d >= 0; --d) {
        coordinates[d] = rest % shape.sizes[d];
        rest /= shape.sizes[d];
      }
    }
    row += total;
  }
}

Tensor nonzero_cuda(const Tensor& self) {
  DeviceGuard guard(self.device().index);
  const Tensor input = contiguous(self);
  const int64_t n = input.numel(), ndim = self.dim();
  if (n == 0) return empty(std::vector<int64_t>{0, ndim}, ScalarType::Int64, self.device());
  VT_CHECK_KIND(ndim <= kMaxDims, ErrorKind::NotImplemented, "nonzero(): CUDA tensors with more than ", kMaxDims,
                " dimensions are not supported");
  const cudaStream_t stream = stream_of(self);
  const int64_t tiles = (n + kTile - 1) / kTile;
  Tensor counts = empty(std::vector<int64_t>{tiles + 1}, ScalarType::Int64, self.device());
  Tensor out;
  dispatch_all_types(self.dtype(), "nonzero", [&](auto tag) {
    using T = decltype(tag);
    count_tiles<T><<<static_cast<unsigned>(tiles), kThreads, 0, stream>>>(input.data<T>(), n, counts.data<int64_t>());
    VT_CUDA_CHECK(cudaGetLastError());
    scan_tiles<<<1, kScanThreads, 0, stream>>>(counts.data<int64_t>(), tiles);
    VT_CUDA_CHECK(cudaGetLastError());
    const int64_t count = read_back(counts.data<int64_t>() + tiles, self);
    out = empty(std::vector<int64_t>{count, ndim}, ScalarType::Int64, self.device());
    if (count == 0 || ndim == 0) return;
    Shape shape{static_cast<int>(ndim), {}};
    for (int64_t d = 0; d < ndim; ++d) shape.sizes[d] = input.sizes()[d];
    write_tiles<T><<<static_cast<unsigned>(tiles), kThreads, 0, stream>>>(input.data<T>(), n, counts.data<int64_t>(),
                                                                          shape, out.data<int64_t>());
    VT_CUDA_CHECK(cudaGetLastError());
  });
  return out;
}

}  // namespace

VT_REGISTRATION(index_cuda) {
  register_kernel("gather", DispatchKey::CUDA, &gather_cuda);
  register_kernel("scatter_add", DispatchKey::CUDA, &scatter_add_cuda);
  register_kernel("scatter.src", DispatchKey::CUDA, &scatter_src_cuda);
  register_kernel("scatter_reduce.two", DispatchKey::CUDA, &scatter_reduce_cuda);
  register_kernel("nonzero", DispatchKey::CUDA, &nonzero_cuda);
  register_kernel("index_copy", DispatchKey::CUDA, &index_copy_cuda);
  register_kernel("index_select", DispatchKey::CUDA, &index_select_cuda);
  register_kernel("index_add", DispatchKey::CUDA, &index_add_cuda);
}

}  // namespace vt::cuda
