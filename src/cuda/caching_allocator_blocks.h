// The allocator's vocabulary: the size rules, segments (raw allocations) cut into blocks,
// and the order of the free set. Private to caching_allocator.cpp; the policy lives there.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "src/cuda/caching_allocator.h"

namespace vt::cuda::allocator_detail {

constexpr size_t kMinBlockSize = 512;            // granularity of every block
constexpr size_t kSmallSize = 1 << 20;           // rounded requests up to this use the small pool
constexpr size_t kSmallSegment = 2 << 20;        // the small pool's segment size
constexpr size_t kLargeSegment = 20 << 20;       // segment for large requests under kMinLargeAlloc
constexpr size_t kMinLargeAlloc = 10 << 20;      // from here a request gets a segment of its own
constexpr size_t kSegmentRounding = 2 << 20;     // such segments are rounded to this
constexpr size_t kLargeSplitRemainder = 1 << 20; // a large block is split only above this
// Beyond this a request cannot be rounded without overflow; no device has that much anyway.
constexpr size_t kMaxRequest = SIZE_MAX / 2;

inline size_t round_up(size_t n, size_t multiple) { return (n + multiple - 1) / multiple * multiple; }

inline size_t segment_size_for(size_t rounded) {
  if (rounded <= kSmallSize) return kSmallSegment;
  if (rounded < kMinLargeAlloc) return kLargeSegment;
  return round_up(rounded, kSegmentRounding);
}

enum class BlockState { Free, Allocated, PendingFree };

struct Block;

// One raw allocation from the backend. Its first block never changes (merges keep the lower
// block), so the segment can point at it.
struct Segment {
  char* base;
  size_t size;
  StreamHandle stream;
  bool is_small;
  PoolId pool;
  Block* first = nullptr;
};

// A piece of a segment, linked to its neighbours so a freed block can merge with them.
struct Block {
  Block(Segment* s, char* p, size_t n) : segment(s), ptr(p), size(n) {}
  Segment* segment;
  char* ptr;
  size_t size;
  BlockState state = BlockState::Free;
  size_t requested = 0;  // the caller's nbytes while allocated
  Block* prev = nullptr;
  Block* next = nullptr;
  std::vector<StreamHandle> used_by;  // other streams from record_stream
  std::vector<void*> markers;         // recorded on used_by at free time, while PendingFree
  std::shared_ptr<const std::string> history;

  bool is_split() const { return prev != nullptr || next != nullptr; }
};

// Free blocks ordered so that lower_bound on (kind, pool, stream, size) finds the best fit:
// the smallest block that is large enough among those the request may use.
using FreeKey = std::tuple<bool, PoolId, uintptr_t, size_t, uintptr_t>;

inline FreeKey free_key(const Block* b) {
  const Segment* s = b->segment;
  return {s->is_small, s->pool, reinterpret_cast<uintptr_t>(s->stream), b->size,
          reinterpret_cast<uintptr_t>(b->ptr)};
}

struct FreeOrder {
  using is_transparent = void;
  bool operator()(const Block* a, const Block* b) const { return free_key(a) < free_key(b); }
  bool operator()(const FreeKey& a, const Block* b) const { return a < free_key(b); }
  bool operator()(const Block* a, const FreeKey& b) const { return free_key(a) < b; }
};

}  // namespace vt::cuda::allocator_detail
