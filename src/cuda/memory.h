// The caching allocator of each device (CUDA builds only), for the frontends' memory
// statistics, snapshots and cache control.
#pragma once
#include "src/cuda/caching_allocator.h"

namespace vt::cuda {

// The allocator of `device` (-1: the current device), created on first use.
CachingAllocator& caching_allocator(int device);

}  // namespace vt::cuda
