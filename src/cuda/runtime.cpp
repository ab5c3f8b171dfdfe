// Device discovery through the CUDA runtime.
#include <cuda_runtime_api.h>

#include "vt/cuda.h"

namespace vt::cuda {

bool is_built() { return true; }

int device_count() {
  // Asked once: the answer cannot change while the process runs, and the query is slow.
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();  // clear the sticky error: "no driver" is an answer, not a failure
      return 0;
    }
    return n;
  }();
  return count;
}

}  // namespace vt::cuda
