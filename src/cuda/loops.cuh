// CUDA elementwise loops. An op is a functor with a `__host__ __device__` call operator over
// scalar values (a plain struct, since nvcc cannot pass lambdas defined inside our generic
// dtype-dispatch lambdas to a kernel); gpu_kernel(iter, op) runs it over a TensorIterator on
// the current stream of the operands' device:
//   - operands that are contiguous (or one value broadcast to all) take the vectorized
//     kernel: every thread moves 16 bytes per operand per load, several loads in flight;
//   - anything else takes the strided kernel, which turns a linear index into byte offsets.
// A 0-dim CPU input (a Python number) travels in the kernel's parameters.
#pragma once
#include <cuda/std/tuple>
#include <cuda_runtime.h>

#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

#include "src/cuda/cuda_check.h"
#include "vt/cuda.h"
#include "vt/tensor_iterator.h"

namespace vt::cuda {

template <class F>
struct FunctorTraits : FunctorTraits<decltype(&F::operator())> {};
template <class C, class R, class... A>
struct FunctorTraits<R (C::*)(A...) const> {
  using result = R;
  using args = std::tuple<A...>;
  static constexpr int arity = sizeof...(A);
};
template <class F, size_t I>
using functor_arg_t = std::tuple_element_t<I, typename FunctorTraits<F>::args>;

inline cudaStream_t current_cuda_stream(int device) {
  return static_cast<cudaStream_t>(current_stream(device).handle());
}

namespace detail {

constexpr int kThreads = 256;
// Each thread handles kElementsPerThread elements (at least one 16-byte vector per operand),
// loaded before any is used so that several loads are in flight.
constexpr int kElementsPerThread = 8;
constexpr int kMaxDims = 16;         // dimensions left after the iterator merged what it could

template <int N>
struct Operands {
  char* data[N];
  uint64_t host_scalar[N];  // the bytes of a 0-dim CPU input
  uint32_t host_scalar_mask = 0;
};

template <class T, int N>
__device__ __forceinline__ T load_at(const Operands<N>& ops, int i, int64_t byte_offset) {
  if (ops.host_scalar_mask & (1u << i)) {
    T value;
    memcpy(&value, &ops.host_scalar[i], sizeof(T));
    return value;
  }
  return *reinterpret_cast<const T*>(ops.data[i] + byte_offset);
}

template <class T, int V>
struct alignas(sizeof(T) * V) Vec {
  T v[V];
};

// Input i as V values at element `index`: a vector load, or V copies of a broadcast value.
template <class T, int V, int N>
__device__ __forceinline__ Vec<T, V> load_vec(const Operands<N>& ops, uint32_t broadcast_mask, int i, int64_t index) {
  Vec<T, V> out;
  if (broadcast_mask & (1u << i)) {
    const T value = load_at<T>(ops, i, 0);
#pragma unroll
    for (int k = 0; k < V; ++k) out.v[k] = value;
  } else {
    out = reinterpret_cast<const Vec<T, V>*>(ops.data[i])[index / V];
  }
  return out;
}

// Inputs are operands 1..arity; operand 0 is the output.
template <int V>
constexpr int unroll_for() {
  return V >= kElementsPerThread ? 1 : kElementsPerThread / V;
}

template <int V, class Op, size_t... I>
__global__ void __launch_bounds__(kThreads) vectorized_kernel(Op op, Operands<sizeof...(I) + 1> ops,
                                                               uint32_t broadcast_mask, int64_t n,
                                                               std::index_sequence<I...>) {
  using R = typename FunctorTraits<Op>::result;
  constexpr int kUnroll = unroll_for<V>();
  constexpr int64_t kBlockWork = int64_t{kThreads} * V * kUnroll;
  const int64_t block_start = int64_t{blockIdx.x} * kBlockWork;
  R* out = reinterpret_cast<R*>(ops.data[0]);
  if (block_start + kBlockWork <= n) {
    ::cuda::std::tuple<Vec<functor_arg_t<Op, I>, V>...> in[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t index = block_start + (int64_t{u} * kThreads + threadIdx.x) * V;
      in[u] = ::cuda::std::make_tuple(load_vec<functor_arg_t<Op, I>, V>(ops, broadcast_mask, I + 1, index)...);
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t index = block_start + (int64_t{u} * kThreads + threadIdx.x) * V;
      Vec<R, V> result;
#pragma unroll
      for (int k = 0; k < V; ++k) result.v[k] = op(::cuda::std::get<I>(in[u]).v[k]...);
      reinterpret_cast<Vec<R, V>*>(out)[index / V] = result;
    }
    return;
  }
  // The last block: one element at a time.
  for (int64_t index = block_start + threadIdx.x; index < n; index += kThreads) {
    out[index] = op(load_at<functor_arg_t<Op, I>>(
        ops, I + 1, (broadcast_mask & (1u << (I + 1))) ? 0 : index * int64_t{sizeof(functor_arg_t<Op, I>)})...);
  }
}

template <int N>
struct OffsetCalculator {
  int dims = 0;
  int64_t sizes[kMaxDims];
  int64_t strides[kMaxDims][N];  // bytes

  __device__ __forceinline__ void offsets(int64_t linear, int64_t (&out)[N]) const {
#pragma unroll
    for (int op = 0; op < N; ++op) out[op] = 0;
    for (int d = 0; d < dims; ++d) {
      const int64_t i = linear % sizes[d];
      linear /= sizes[d];
#pragma unroll
      for (int op = 0; op < N; ++op) out[op] += i * strides[d][op];
    }
  }
};

template <class Op, size_t... I>
__global__ void __launch_bounds__(kThreads) strided_kernel(Op op, Operands<sizeof...(I) + 1> ops,
                                                            OffsetCalculator<sizeof...(I) + 1> calc, int64_t n,
                                                            std::index_sequence<I...>) {
  using R = typename FunctorTraits<Op>::result;
  const int64_t index = int64_t{blockIdx.x} * kThreads + threadIdx.x;
  if (index >= n) return;
  int64_t offset[sizeof...(I) + 1];
  calc.offsets(index, offset);
  *reinterpret_cast<R*>(ops.data[0] + offset[0]) = op(load_at<functor_arg_t<Op, I>>(ops, I + 1, offset[I + 1])...);
}

template <class T>
constexpr int elements_per_16_bytes() {
  return static_cast<int>(16 / sizeof(T));
}

inline unsigned grid_size(int64_t n, int64_t per_block) { return static_cast<unsigned>((n + per_block - 1) / per_block); }

}  // namespace detail

template <class Op>
void gpu_kernel(TensorIterator& iter, const Op& op) {
  using Traits = FunctorTraits<Op>;
  using R = typename Traits::result;
  constexpr int kArity = Traits::arity;
  constexpr int N = kArity + 1;
  constexpr auto seq = std::make_index_sequence<kArity>{};
  VT_CHECK(iter.num_operands() == N, "gpu_kernel: the iterator has ", iter.num_operands(),
           " operands but the op takes ", kArity, " inputs");
  const int64_t n = iter.numel();
  if (n == 0) {
    iter.finish();
    return;
  }
  const int device = iter.operand(0).device().index;
  DeviceGuard guard(device);

  // The element size of each operand, and the widest: V elements of it fill 16 bytes.
  int64_t element_size[N];
  element_size[0] = sizeof(R);
  [&]<size_t... I>(std::index_sequence<I...>) { ((element_size[I + 1] = sizeof(functor_arg_t<Op, I>)), ...); }(seq);
  constexpr int V = [] {
    size_t widest = sizeof(R);
    [&]<size_t... I>(std::index_sequence<I...>) { ((widest = std::max(widest, sizeof(functor_arg_t<Op, I>))), ...); }(
        std::make_index_sequence<kArity>{});
    return static_cast<int>(16 / widest);
  }();

  detail::Operands<N> ops;
  for (int i = 0; i < N; ++i) {
    const Tensor& t = iter.operand(i);
    ops.host_scalar[i] = 0;
    if (t.device().is_cpu()) {
      VT_CHECK(i > 0 && t.numel() == 1, "gpu_kernel: operand ", i, " is on the CPU");
      std::memcpy(&ops.host_scalar[i], t.data_ptr(), static_cast<size_t>(element_size[i]));
      ops.host_scalar_mask |= 1u << i;
      ops.data[i] = nullptr;
    } else {
      ops.data[i] = static_cast<char*>(t.data_ptr());
    }
  }

  const IntArrayRef shape = iter.shape();
  const int dims = static_cast<int>(shape.size());
  // The vectorized kernel: one dimension (or none), the output and every input either dense
  // or a single broadcast value, and the dense ones aligned to a whole vector.
  bool vectorizable = dims <= 1;
  uint32_t broadcast_mask = 0;
  for (int i = 0; i < N && vectorizable; ++i) {
    const int64_t stride = dims == 0 ? 0 : iter.strides(i)[0];
    const bool host_scalar = ops.host_scalar_mask & (1u << i);
    if (i > 0 && (host_scalar || stride == 0)) {
      broadcast_mask |= 1u << i;
    } else {
      vectorizable = stride == element_size[i] || (dims == 0 && i == 0);
      vectorizable = vectorizable && reinterpret_cast<uintptr_t>(ops.data[i]) % (element_size[i] * V) == 0;
    }
  }
  const cudaStream_t stream = current_cuda_stream(device);
  if (vectorizable) {
    constexpr int64_t kBlockWork = int64_t{detail::kThreads} * V * detail::unroll_for<V>();
    detail::vectorized_kernel<V><<<detail::grid_size(n, kBlockWork), detail::kThreads, 0, stream>>>(
        op, ops, broadcast_mask, n, seq);
  } else {
    detail::OffsetCalculator<N> calc;
    VT_CHECK_KIND(dims <= detail::kMaxDims, ErrorKind::NotImplemented, iter.operand(0).dim(),
                  "-dimensional CUDA elementwise op whose dimensions cannot be merged below ", detail::kMaxDims);
    calc.dims = dims;
    for (int d = 0; d < dims; ++d) {
      calc.sizes[d] = shape[d];
      for (int i = 0; i < N; ++i) calc.strides[d][i] = iter.strides(i)[d];
    }
    detail::strided_kernel<<<detail::grid_size(n, detail::kThreads), detail::kThreads, 0, stream>>>(op, ops, calc, n,
                                                                                                    seq);
  }
  VT_CUDA_CHECK(cudaGetLastError());
  iter.finish();
}

}  // namespace vt::cuda
