// The CUDA runtime of a build without the CUDA backend: there are no devices.
#include "vt/cuda.h"

namespace vt::cuda {

bool is_built() { return false; }
int device_count() { return 0; }

}  // namespace vt::cuda
