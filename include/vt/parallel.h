// Intra-op parallelism for large tensors: a fixed pool of worker threads. Small work runs
// inline on the calling thread, so per-op overhead stays that of a plain loop.
#pragma once
#include <cstdint>
#include <functional>

namespace vt {

// Elements below which an elementwise loop runs on one thread (torch's value).
constexpr int64_t kGrainSize = 32768;

int num_threads();
void set_num_threads(int n);
// Calls fn(chunk_begin, chunk_end) over disjoint chunks covering [begin, end), in parallel
// when the range is larger than `grain`. Nested calls run serially.
void parallel_for(int64_t begin, int64_t end, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace vt
