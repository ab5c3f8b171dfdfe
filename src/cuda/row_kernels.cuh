// Shared by the CUDA kernels that reduce along rows (softmax, layer norm): reductions across
// the threads of a warp or a block, each thread receiving the result, and the device check of
// their operands. The reductions combine in a fixed order, so a result does not depend on
// timing: the same input gives the same bits on every run.
#pragma once
#include <cuda_runtime.h>

#include <initializer_list>
#include <optional>

#include "vt/tensor.h"

namespace vt::cuda {

struct SumOp {
  template <class A>
  __device__ __forceinline__ A operator()(A a, A b) const { return a + b; }
};
// A NaN wins, so that a row holding one is NaN throughout (as the CPU's double path has it).
struct MaxOp {
  template <class A>
  __device__ __forceinline__ A operator()(A a, A b) const { return (a > b || a != a) ? a : b; }
};

// Over `width` consecutive lanes (a power of two up to 32); every lane of the warp must call it.
template <class A, class Op>
__device__ __forceinline__ A warp_reduce(A value, Op op, int width = 32) {
  for (int offset = width / 2; offset > 0; offset /= 2) value = op(value, __shfl_xor_sync(0xffffffffu, value, offset, width));
  return value;
}

// Over the blockDim.x threads of a row (a multiple of 32, the block one row high, or exactly
// one warp per row). `scratch` holds 32 values; every thread of the block must call it.
template <class A, class Op>
__device__ __forceinline__ A row_reduce(A value, Op op, A* scratch) {
  value = warp_reduce(value, op);
  if (blockDim.x <= 32) return value;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  __syncthreads();  // an earlier reduction has finished reading the scratch
  if (lane == 0) scratch[warp] = value;
  __syncthreads();
  value = scratch[0];
  for (int w = 1; w < static_cast<int>(blockDim.x / 32); ++w) value = op(value, scratch[w]);
  return value;
}

// Over threadIdx.y for each threadIdx.x (a column of the block); `scratch` holds
// blockDim.x * blockDim.y values. Every thread of the block must call it.
template <class A, class Op>
__device__ __forceinline__ A column_reduce(A value, Op op, A* scratch) {
  if (blockDim.y == 1) return value;
  __syncthreads();
  scratch[threadIdx.y * blockDim.x + threadIdx.x] = value;
  __syncthreads();
  value = scratch[threadIdx.x];
  for (unsigned y = 1; y < blockDim.y; ++y) value = op(value, scratch[y * blockDim.x + threadIdx.x]);
  return value;
}

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int64_t next_power_of_two(int64_t n) {
  int64_t p = 1;
  while (p < n) p *= 2;
  return p;
}

// The dispatcher picks the CUDA kernel when any tensor argument is on a GPU: all of them must
// be there before their pointers reach a kernel. Null and undefined entries (absent optional
// arguments) are skipped; the first entry is defined.
inline void check_same_device(std::initializer_list<const Tensor*> tensors) {
  const Tensor& first = **tensors.begin();
  for (const Tensor* t : tensors) {
    if (!t || !t->defined()) continue;
    VT_CHECK(t->device() == first.device(), "Expected all tensors to be on the same device, but found at least two devices, ",
             first.device().str(), " and ", t->device().str(), "!");
  }
}

inline const Tensor* optional_tensor(const std::optional<Tensor>& t) { return t ? &*t : nullptr; }

}  // namespace vt::cuda
