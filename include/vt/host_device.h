// VT_HOST_DEVICE marks the small functions that CUDA kernels share with the CPU (scalar math,
// 16-bit float conversions, Philox): host and device functions under nvcc, plain C++ otherwise.
#pragma once

#ifdef __CUDACC__
#define VT_HOST_DEVICE __host__ __device__
#else
#define VT_HOST_DEVICE
#endif
