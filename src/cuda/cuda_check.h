// VT_CUDA_CHECK(call): a failed CUDA runtime call becomes a vt::Error naming the call and the
// driver's message (out of memory as ErrorKind::OutOfMemory), with the sticky error cleared.
// VT_CUDA_READY(query): for cudaStreamQuery/cudaEventQuery, whose "not ready" is an answer.
#pragma once
#include <cuda_runtime_api.h>

#include "vt/error.h"

#define VT_CUDA_CHECK(call)                                                                             \
  do {                                                                                                  \
    const cudaError_t vt_cuda_status = (call);                                                          \
    if (vt_cuda_status != cudaSuccess) [[unlikely]] {                                                   \
      cudaGetLastError();                                                                               \
      ::vt::fail(vt_cuda_status == cudaErrorMemoryAllocation ? ::vt::ErrorKind::OutOfMemory             \
                                                             : ::vt::ErrorKind::Runtime,                \
                 "CUDA error: ", cudaGetErrorString(vt_cuda_status), " (", #call, " at ", __FILE__, ":", \
                 __LINE__, ")");                                                                        \
    }                                                                                                   \
  } while (0)

#define VT_CUDA_READY(query)                                            \
  [&] {                                                                 \
    const cudaError_t vt_cuda_query_status = (query);                   \
    if (vt_cuda_query_status == cudaErrorNotReady) {                    \
      cudaGetLastError();                                               \
      return false;                                                     \
    }                                                                   \
    VT_CUDA_CHECK(vt_cuda_query_status);                                \
    return true;                                                        \
  }()
