// The caching allocator's bookkeeping: segments (raw allocations) cut into blocks, a free
// set searched best-fit, deferred frees for blocks other streams used, private pools and the
// torch-style statistics. Plain C++: the device is reached only through MemoryBackend.
#include "src/cuda/caching_allocator.h"
#include "src/cuda/caching_allocator_blocks.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>
#include <utility>

#include "vt/error.h"

namespace vt::cuda {

void StatCounter::increase(int64_t amount) {
  current += amount;
  peak = std::max(peak, current);
  allocated += amount;
}

void StatCounter::decrease(int64_t amount) {
  current -= amount;
  freed += amount;
}

using namespace allocator_detail;  // Block, Segment and the size rules, private to this file

namespace {

// "2.00 GiB", as torch prints sizes in its messages.
std::string format_size(size_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " bytes";
  const char* units[] = {"KiB", "MiB", "GiB"};
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  for (; value >= 1024 && unit < 2; ++unit) value /= 1024;
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f %s", value, units[unit]);
  return text;
}

using Recorder = std::function<std::shared_ptr<const std::string>()>;

}  // namespace

struct CachingAllocator::Impl {
  int device;
  std::unique_ptr<MemoryBackend> backend;
  mutable std::mutex mutex;
  AllocatorStats stats;

  std::map<uintptr_t, std::unique_ptr<Segment>> segments;  // by address, for snapshots
  std::set<Block*, FreeOrder> free_blocks;
  std::unordered_map<void*, Block*> allocated;  // handed out, by pointer
  std::vector<Block*> pending_frees;            // freed, waiting for other streams' markers
  std::vector<Block*> frees_after_capture;      // freed during a capture, used by other streams

  // Private pools in use, with how many captures share each; a pool absent here is released.
  std::unordered_map<PoolId, int> pool_use_count;
  std::unordered_map<StreamHandle, PoolId> stream_pool;  // streams allocating to a pool

  size_t allowed_bytes = SIZE_MAX;  // reserved-memory cap from set_memory_fraction
  double fraction = 1.0;
  bool fraction_set = false;

  // The recorder may run Python code (which takes the GIL), so it is called outside `mutex`;
  // the flag keeps allocations that record nothing from taking the lock twice.
  std::atomic<bool> recording{false};
  std::shared_ptr<const Recorder> recorder;

  Impl(int device_index, std::unique_ptr<MemoryBackend> b) : device(device_index), backend(std::move(b)) {}

  // Applies `change` to a counter of "all" and of the block's pool kind.
  void update(StatCounter PoolStats::*counter, bool is_small, int64_t change) {
    for (PoolStats* pool : {&stats.all, is_small ? &stats.small_pool : &stats.large_pool}) {
      if (change >= 0) {
        (pool->*counter).increase(change);
      } else {
        (pool->*counter).decrease(-change);
      }
    }
  }

  // A free block is an "inactive split" while it shares its segment with other blocks:
  // memory the cache holds but cannot return.
  void count_inactive_split(const Block* b, int sign) {
    if (!b->is_split()) return;
    update(&PoolStats::inactive_split, b->segment->is_small, sign);
    update(&PoolStats::inactive_split_bytes, b->segment->is_small, sign * static_cast<int64_t>(b->size));
  }

  static bool wholly_free(const Segment* s) {
    return s->first->state == BlockState::Free && s->first->next == nullptr;
  }

  bool capture_underway() const { return !stream_pool.empty(); }

  PoolId pool_of(StreamHandle stream) const {
    if (!capture_underway()) return 0;
    if (auto it = stream_pool.find(stream); it != stream_pool.end()) return it->second;
    // A stream that joined a capture (the backward of ops recorded on it, say) allocates to
    // that capture's pool: its memory is part of the graph.
    const uint64_t id = backend->capture_id(stream);
    if (id == 0) return 0;
    for (const auto& [capturing, pool] : stream_pool) {
      if (backend->capture_id(capturing) == id) return pool;
    }
    return 0;
  }

  bool is_released(PoolId pool) const { return pool != 0 && !pool_use_count.contains(pool); }

  // Best fit: the smallest free block of the request's kind, pool and stream that is large
  // enough (it stays in the free set until take_block).
  Block* find_free_block(bool is_small, PoolId pool, StreamHandle stream, size_t size) const {
    auto stream_key = reinterpret_cast<uintptr_t>(stream);
    auto it = free_blocks.lower_bound(FreeKey{is_small, pool, stream_key, size, 0});
    if (it == free_blocks.end()) return nullptr;
    const Segment* s = (*it)->segment;
    bool usable = s->is_small == is_small && s->pool == pool && s->stream == stream;
    return usable ? *it : nullptr;
  }

  // Takes free block `b` out of the free set and the inactive-split count, before it changes.
  void unlist(Block* b) {
    free_blocks.erase(b);
    count_inactive_split(b, -1);
  }
  void list(Block* b) {
    count_inactive_split(b, +1);
    free_blocks.insert(b);
  }

  // Joins `b->next` into `b`. The lower block survives, so a segment's first block never dies.
  static void join_next(Block* b) {
    Block* next = b->next;
    b->size += next->size;
    b->next = next->next;
    if (next->next != nullptr) next->next->prev = b;
    delete next;
  }

  bool over_cap(size_t size) const {
    auto reserved = static_cast<size_t>(stats.all.reserved_bytes.current);
    return size > allowed_bytes || reserved > allowed_bytes - size;
  }

  // The backend's memory, or nullptr when the device (or the fraction cap) has no room.
  void* raw_allocate(size_t size) {
    if (over_cap(size)) return nullptr;
    void* ptr = backend->raw_allocate(size);
    if (ptr != nullptr) stats.num_device_alloc++;
    return ptr;
  }

  Block* new_segment(void* ptr, size_t size, bool is_small, PoolId pool, StreamHandle stream) {
    auto segment = std::make_unique<Segment>(Segment{static_cast<char*>(ptr), size, stream, is_small, pool});
    segment->first = new Block{segment.get(), segment->base, size};
    Block* block = segment->first;
    segments.emplace(reinterpret_cast<uintptr_t>(ptr), std::move(segment));
    update(&PoolStats::reserved_bytes, is_small, static_cast<int64_t>(size));
    update(&PoolStats::segment, is_small, 1);
    return block;
  }

  // Precondition: wholly free. The caller has synchronized the device.
  void release_segment(Segment* s) {
    unlist(s->first);
    backend->raw_free(s->base);
    stats.num_device_free++;
    update(&PoolStats::reserved_bytes, s->is_small, -static_cast<int64_t>(s->size));
    update(&PoolStats::segment, s->is_small, -1);
    delete s->first;
    segments.erase(reinterpret_cast<uintptr_t>(s->base));
  }

  // Returns every wholly free segment of the default pools (released private pools hand
  // their segments over to pool 0 as they become free, see free_block).
  void release_free_segments() {
    std::vector<Segment*> victims;
    for (auto& [address, segment] : segments) {
      if (segment->pool == 0 && wholly_free(segment.get())) victims.push_back(segment.get());
    }
    for (Segment* s : victims) release_segment(s);
  }

  void synchronize() {
    backend->synchronize();
    stats.num_sync_all_streams++;
  }

  // Hands a wholly free segment of a released private pool to the default pool, where the
  // next request on its stream or empty_cache can use it.
  void adopt_if_released(Block* b) {
    Segment* s = b->segment;
    if (!is_released(s->pool) || !wholly_free(s)) return;
    free_blocks.erase(b);
    s->pool = 0;
    free_blocks.insert(b);
  }

  // Makes `b` (allocated or pending, not in the free set) free, merged with free neighbours.
  void free_block(Block* b) {
    bool is_small = b->segment->is_small;
    update(&PoolStats::active, is_small, -1);
    update(&PoolStats::active_bytes, is_small, -static_cast<int64_t>(b->size));
    b->state = BlockState::Free;
    b->requested = 0;
    b->used_by.clear();
    b->history.reset();

    if (b->prev != nullptr && b->prev->state == BlockState::Free) {
      b = b->prev;
      unlist(b);
      join_next(b);
    }
    if (b->next != nullptr && b->next->state == BlockState::Free) {
      unlist(b->next);
      join_next(b);
    }
    list(b);
    adopt_if_released(b);
  }

  // Frees the pending blocks whose markers have all completed.
  void process_pending_frees() {
    if (pending_frees.empty()) return;  // the common case, on every allocate
    if (capture_underway()) return;     // querying a marker would invalidate the capture
    auto ready = [&](Block* b) {
      for (void* marker : b->markers) {
        if (!backend->marker_done(marker)) return false;
      }
      return true;
    };
    std::vector<Block*> still_pending;
    for (Block* b : pending_frees) {
      if (!ready(b)) {
        still_pending.push_back(b);
        continue;
      }
      for (void* marker : b->markers) backend->destroy_marker(marker);
      b->markers.clear();
      free_block(b);
    }
    pending_frees = std::move(still_pending);
  }

  // Hands out `size` bytes of free block `b`, splitting off the rest when it is worth keeping.
  void* take_block(Block* b, size_t size, size_t nbytes, std::shared_ptr<const std::string> history) {
    bool is_small = b->segment->is_small;
    unlist(b);
    size_t remainder = b->size - size;
    bool split = is_small ? remainder >= kMinBlockSize : remainder > kLargeSplitRemainder;
    if (split) {
      auto* rest = new Block{b->segment, b->ptr + size, remainder};
      rest->prev = b;
      rest->next = b->next;
      if (b->next != nullptr) b->next->prev = rest;
      b->next = rest;
      b->size = size;
      list(rest);
    }
    b->state = BlockState::Allocated;
    b->requested = nbytes;
    b->history = std::move(history);
    update(&PoolStats::allocated_bytes, is_small, static_cast<int64_t>(b->size));
    update(&PoolStats::requested_bytes, is_small, static_cast<int64_t>(nbytes));
    update(&PoolStats::allocation, is_small, 1);
    update(&PoolStats::active, is_small, 1);
    update(&PoolStats::active_bytes, is_small, static_cast<int64_t>(b->size));
    allocated.emplace(b->ptr, b);
    return b->ptr;
  }

  [[noreturn]] void fail_out_of_memory(size_t nbytes, size_t segment_size) {
    stats.num_ooms++;
    size_t total = backend->total_memory();
    auto reserved = static_cast<size_t>(stats.all.reserved_bytes.current);
    auto in_use = static_cast<size_t>(stats.all.allocated_bytes.current);
    std::string cap;
    if (fraction_set && over_cap(segment_size)) {
      cap = detail::str_cat(" This allocator may reserve at most ", format_size(allowed_bytes),
                            " (set_memory_fraction(", fraction, ")): the allowed memory fraction was exceeded.");
    }
    size_t free_bytes = total > reserved ? total - reserved : 0;
    fail(ErrorKind::OutOfMemory, "CUDA out of memory. Tried to allocate ", format_size(nbytes), ". GPU ", device,
         " has a total capacity of ", format_size(total), " of which ", format_size(free_bytes),
         " is free (as far as this allocator knows: total minus reserved).", cap, " Of the allocated memory ",
         format_size(in_use), " is allocated by vibetensor, and ", format_size(reserved - in_use),
         " is reserved by vibetensor but unallocated.");
  }

  void* allocate(size_t nbytes, StreamHandle stream, std::shared_ptr<const std::string> history) {
    if (nbytes > kMaxRequest) fail_out_of_memory(nbytes, SIZE_MAX);
    process_pending_frees();
    size_t size = round_up(nbytes, kMinBlockSize);
    bool is_small = size <= kSmallSize;
    PoolId pool = pool_of(stream);
    if (Block* b = find_free_block(is_small, pool, stream, size)) return take_block(b, size, nbytes, history);

    size_t segment_size = segment_size_for(size);
    void* ptr = raw_allocate(segment_size);
    if (ptr == nullptr && !capture_underway()) {
      // Out of room: give back what the cache holds (after the device stops using it) and
      // retry. Pending frees complete after the synchronize and may now fit the request.
      // (Not during a capture: a synchronize would invalidate it.)
      synchronize();
      process_pending_frees();
      release_free_segments();
      stats.num_alloc_retries++;
      if (Block* b = find_free_block(is_small, pool, stream, size)) return take_block(b, size, nbytes, history);
      ptr = raw_allocate(segment_size);
    }
    if (ptr == nullptr) fail_out_of_memory(nbytes, segment_size);
    return take_block(new_segment(ptr, segment_size, is_small, pool, stream), size, nbytes, history);
  }

  Block* allocated_block(void* ptr, const char* op) {
    auto it = allocated.find(ptr);
    VT_CHECK_VALUE(it != allocated.end(), op, "(): pointer ", ptr, " was not allocated by this allocator");
    return it->second;
  }

  void free(void* ptr) {
    Block* b = allocated_block(ptr, "free");
    allocated.erase(ptr);
    bool is_small = b->segment->is_small;
    update(&PoolStats::allocated_bytes, is_small, -static_cast<int64_t>(b->size));
    update(&PoolStats::requested_bytes, is_small, -static_cast<int64_t>(b->requested));
    update(&PoolStats::allocation, is_small, -1);
    if (b->used_by.empty()) {
      free_block(b);
      return;
    }
    b->state = BlockState::PendingFree;
    if (capture_underway()) {
      frees_after_capture.push_back(b);  // its markers are recorded when the capture ends
      return;
    }
    // Other streams may still have work queued on this memory: reuse waits for it.
    for (StreamHandle other : b->used_by) b->markers.push_back(backend->record_marker(other));
    pending_frees.push_back(b);
  }

  // After the last capture ends: the blocks freed during captures wait for their streams.
  void record_frees_after_capture() {
    if (capture_underway()) return;
    for (Block* b : frees_after_capture) {
      for (StreamHandle other : b->used_by) b->markers.push_back(backend->record_marker(other));
      pending_frees.push_back(b);
    }
    frees_after_capture.clear();
  }

  void record_stream(void* ptr, StreamHandle stream) {
    Block* b = allocated_block(ptr, "record_stream");
    // The block's own stream is ordered already; each other stream needs one marker.
    if (stream == b->segment->stream) return;
    if (std::find(b->used_by.begin(), b->used_by.end(), stream) == b->used_by.end()) b->used_by.push_back(stream);
  }

  std::vector<SegmentSnapshot> snapshot() const {
    std::vector<SegmentSnapshot> result;
    for (const auto& [address, s] : segments) {
      SegmentSnapshot seg{address, s->size, 0, s->stream, s->is_small, s->pool, {}};
      for (const Block* b = s->first; b != nullptr; b = b->next) {
        bool is_allocated = b->state == BlockState::Allocated;
        if (is_allocated) seg.allocated_size += b->size;
        seg.blocks.push_back(BlockSnapshot{reinterpret_cast<uintptr_t>(b->ptr), b->size,
                                           is_allocated ? b->requested : 0, is_allocated, b->history});
      }
      result.push_back(std::move(seg));
    }
    return result;
  }

  ~Impl() {
    // Best effort: the backend may fail while the process shuts down, and a destructor
    // must not throw. Memory still handed out is left alone; it may still be in use.
    try {
      for (Block* b : pending_frees) {
        for (void* marker : b->markers) backend->destroy_marker(marker);
      }
      bool any_free = std::any_of(segments.begin(), segments.end(),
                                  [](const auto& entry) { return wholly_free(entry.second.get()); });
      if (any_free) backend->synchronize();
      for (auto& [address, s] : segments) {
        if (wholly_free(s.get())) backend->raw_free(s->base);
      }
    } catch (...) {
    }
    for (auto& [address, s] : segments) {
      for (Block* b = s->first; b != nullptr;) delete std::exchange(b, b->next);
    }
  }
};

CachingAllocator::CachingAllocator(int device, std::unique_ptr<MemoryBackend> backend)
    : device_(device), impl_(std::make_unique<Impl>(device, std::move(backend))) {}

CachingAllocator::~CachingAllocator() = default;

void* CachingAllocator::allocate(size_t nbytes, StreamHandle stream) {
  if (nbytes == 0) return nullptr;
  std::shared_ptr<const std::string> history;
  if (impl_->recording.load(std::memory_order_relaxed)) {
    std::shared_ptr<const Recorder> recorder;
    {
      std::lock_guard<std::mutex> lock(impl_->mutex);
      recorder = impl_->recorder;
    }
    if (recorder) history = (*recorder)();
  }
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->allocate(nbytes, stream, std::move(history));
}

void CachingAllocator::free(void* ptr) {
  if (ptr == nullptr) return;
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->free(ptr);
}

void CachingAllocator::record_stream(void* ptr, StreamHandle stream) {
  if (ptr == nullptr) return;
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->record_stream(ptr, stream);
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  VT_CHECK(!impl_->capture_underway(), "empty_cache(): not allowed while a CUDA graph capture is underway (its "
           "synchronize would invalidate the capture)");
  impl_->synchronize();
  impl_->process_pending_frees();
  impl_->release_free_segments();
}

void CachingAllocator::set_memory_fraction(double fraction) {
  VT_CHECK_VALUE(fraction > 0.0 && fraction <= 1.0,
                 "set_memory_fraction(): fraction must be in (0, 1], got ", fraction);
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->fraction = fraction;
  impl_->fraction_set = true;
  impl_->allowed_bytes = static_cast<size_t>(fraction * static_cast<double>(impl_->backend->total_memory()));
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->stats;
}

namespace {
template <class F>
void for_each_counter(AllocatorStats& stats, F f) {
  for (PoolStats* pool : {&stats.all, &stats.small_pool, &stats.large_pool}) {
    for (StatCounter* c : {&pool->allocated_bytes, &pool->reserved_bytes, &pool->active_bytes,
                           &pool->inactive_split_bytes, &pool->requested_bytes, &pool->allocation,
                           &pool->segment, &pool->active, &pool->inactive_split}) {
      f(*c);
    }
  }
}
}  // namespace

void CachingAllocator::reset_peak_stats() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  for_each_counter(impl_->stats, [](StatCounter& c) { c.peak = c.current; });
}

void CachingAllocator::reset_accumulated_stats() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  AllocatorStats& s = impl_->stats;
  for_each_counter(s, [](StatCounter& c) { c.allocated = c.freed = 0; });
  s.num_alloc_retries = s.num_ooms = s.num_sync_all_streams = 0;
  s.num_device_alloc = s.num_device_free = 0;
}

std::vector<SegmentSnapshot> CachingAllocator::snapshot() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->snapshot();
}

void CachingAllocator::set_history_recorder(std::function<std::shared_ptr<const std::string>()> recorder) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  bool on = static_cast<bool>(recorder);
  impl_->recorder = on ? std::make_shared<const Recorder>(std::move(recorder)) : nullptr;
  impl_->recording.store(on, std::memory_order_relaxed);
}

void CachingAllocator::begin_allocate_to_pool(PoolId pool, StreamHandle stream) {
  VT_CHECK_VALUE(pool != 0, "begin_allocate_to_pool(): pool 0 is the default pool, not a private one");
  std::lock_guard<std::mutex> lock(impl_->mutex);
  VT_CHECK_VALUE(!impl_->stream_pool.contains(stream), "begin_allocate_to_pool(): stream ", stream,
                 " already allocates to pool ", impl_->pool_of(stream));
  impl_->stream_pool[stream] = pool;
  impl_->pool_use_count[pool]++;  // graphs that share a pool id share the pool
}

void CachingAllocator::end_allocate_to_pool(StreamHandle stream) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  VT_CHECK_VALUE(impl_->stream_pool.erase(stream) == 1, "end_allocate_to_pool(): stream ", stream,
                 " does not allocate to a private pool");
  impl_->record_frees_after_capture();
}

void CachingAllocator::release_pool(PoolId pool) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  auto it = impl_->pool_use_count.find(pool);
  VT_CHECK_VALUE(it != impl_->pool_use_count.end(), "release_pool(): pool ", pool, " is not in use");
  if (it->second > 1) {
    it->second--;  // another graph still uses it
    return;
  }
  for (const auto& [stream, target] : impl_->stream_pool) {
    VT_CHECK_VALUE(target != pool, "release_pool(): pool ", pool, " is still allocated to on stream ", stream,
                   " (call end_allocate_to_pool first)");
  }
  impl_->pool_use_count.erase(it);
  for (auto& [address, s] : impl_->segments) {
    if (s->pool == pool) impl_->adopt_if_released(s->first);
  }
}

}  // namespace vt::cuda
