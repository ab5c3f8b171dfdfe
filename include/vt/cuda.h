// The CUDA runtime as the core sees it. A build without CUDA answers "no devices"; a CUDA
// build asks the driver (so it also answers "no devices" on a machine without a GPU).
#pragma once

namespace vt::cuda {

// Whether this build has the CUDA backend compiled in.
bool is_built();
// Number of usable CUDA devices (0 when none, or when the driver is missing).
int device_count();
inline bool is_available() { return device_count() > 0; }

}  // namespace vt::cuda
