// VT_CUDA_CHECK(call): a failed CUDA runtime call becomes a vt::Error naming the call and the
// driver's message (out of memory as ErrorKind::OutOfMemory), with the sticky error cleared.
// VT_CUDA_READY(query): for cudaStreamQuery/cudaEventQuery, whose "not ready" is an answer.
// VT_CUBLAS_CHECK(call): VT_CUDA_CHECK for cuBLASLt calls (in files that include <cublasLt.h>).
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
                 __LINE__, ")", ::vt::cuda::capture_error_hint(vt_cuda_status));                       \
    }                                                                                                   \
  } while (0)

namespace vt::cuda {
// For the errors a CUDA graph capture causes, a sentence saying so; "" otherwise.
inline const char* capture_error_hint(cudaError_t status) {
  switch (status) {
    case cudaErrorStreamCaptureUnsupported:
    case cudaErrorStreamCaptureInvalidated:
    case cudaErrorStreamCaptureImplicit:
    case cudaErrorStreamCaptureUnjoined:
    case cudaErrorStreamCaptureIsolation:
    case cudaErrorStreamCaptureWrongThread:
      return ". This operation is not allowed while a CUDA graph capture is in progress (a synchronize, a copy "
             "between the device and pageable host memory, or a value read back with item() or tolist()).";
    default:
      return "";
  }
}
}  // namespace vt::cuda

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

#define VT_CUBLAS_CHECK(call)                                                                           \
  do {                                                                                                  \
    const cublasStatus_t vt_cublas_status = (call);                                                     \
    if (vt_cublas_status != CUBLAS_STATUS_SUCCESS) [[unlikely]] {                                       \
      cudaGetLastError();                                                                               \
      ::vt::fail(vt_cublas_status == CUBLAS_STATUS_ALLOC_FAILED ? ::vt::ErrorKind::OutOfMemory          \
                                                                : ::vt::ErrorKind::Runtime,             \
                 "cuBLAS error: ", cublasLtGetStatusName(vt_cublas_status), ", ",                       \
                 cublasLtGetStatusString(vt_cublas_status), " (", #call, " at ", __FILE__, ":", __LINE__, \
                 ")");                                                                                  \
    }                                                                                                   \
  } while (0)
