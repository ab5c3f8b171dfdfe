// The stream-ordered caching allocator for device memory (the design of PyTorch's
// CUDACachingAllocator, written anew). It holds no CUDA types: the device's raw memory and
// its stream markers come through a MemoryBackend, so the caching logic is built and tested
// on machines without a GPU against a fake backend (tests/cpp/test_caching_allocator.cpp).
//
// - Requests are rounded up to 512 bytes. Requests of at most 1 MiB come from the small
//   pool, carved out of 2 MiB segments; larger ones from the large pool, carved out of 20 MiB
//   segments (requests under 10 MiB) or segments of the request rounded up to 2 MiB.
// - A free block is split when the remainder is worth keeping (any remainder in the small
//   pool; more than 1 MiB in the large pool) and merged with free neighbours of the same
//   segment when freed, so a segment that is wholly free again is one block.
// - Every block belongs to the stream it was allocated on and is reused only by requests on
//   that stream: work queued on one stream runs in order, so a block freed on the host can be
//   handed out again at once. A block that other streams used (record_stream) waits until
//   markers recorded on those streams at free time have completed.
// - In steady state no raw allocation happens. When the backend runs out, the allocator
//   frees its cached free segments and retries; then it raises ErrorKind::OutOfMemory with
//   the numbers.
// - Blocks can be steered into a private pool (a CUDA graph's memory) while a capture runs on
//   a stream, or on a stream that joined that capture; a private pool's blocks are only reused
//   by allocations into that pool. While a capture is underway no marker is queried (that
//   would break the capture), and a block other streams used waits until the capture ends
//   before its markers are recorded, as in torch.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace vt::cuda {

using StreamHandle = void*;  // a cudaStream_t (nullptr: the legacy default stream)
using PoolId = uint64_t;     // 0: the allocator's own pools; others: private pools

// Raw device memory and stream markers for one device.
class MemoryBackend {
 public:
  virtual ~MemoryBackend() = default;
  // `nbytes` of device memory, or nullptr when the device has no room (no exception).
  virtual void* raw_allocate(size_t nbytes) = 0;
  virtual void raw_free(void* ptr) = 0;
  // A marker of the work queued on `stream` so far, and whether that work has completed.
  virtual void* record_marker(StreamHandle stream) = 0;
  virtual bool marker_done(void* marker) = 0;
  virtual void destroy_marker(void* marker) = 0;
  // Waits for all work on the device (before memory goes back to the driver).
  virtual void synchronize() = 0;
  // The id of the graph capture `stream` takes part in, 0 for none. A stream that waited on
  // a capturing stream's work has joined its capture and reports the same id.
  virtual uint64_t capture_id(StreamHandle /*stream*/) { return 0; }
  virtual size_t total_memory() = 0;
};

// One counter in the four forms torch reports (".current", ".peak", ".allocated", ".freed").
struct StatCounter {
  int64_t current = 0, peak = 0, allocated = 0, freed = 0;
  void increase(int64_t amount);
  void decrease(int64_t amount);
};

// Counters for the whole allocator ("all") and per pool kind; the names follow torch's
// memory_stats() keys (allocated_bytes, reserved_bytes, active_bytes, inactive_split_bytes,
// requested_bytes, allocation, segment, active, inactive_split).
struct PoolStats {
  StatCounter allocated_bytes, reserved_bytes, active_bytes, inactive_split_bytes, requested_bytes;
  StatCounter allocation, segment, active, inactive_split;
};
struct AllocatorStats {
  PoolStats all, small_pool, large_pool;
  int64_t num_alloc_retries = 0, num_ooms = 0, num_sync_all_streams = 0;
  int64_t num_device_alloc = 0, num_device_free = 0;
  int64_t max_split_size = -1;  // torch's key; this allocator does not cap splits
};

// memory_snapshot(): every segment with its blocks, in address order.
struct BlockSnapshot {
  uintptr_t address;
  size_t size;            // bytes of the block
  size_t requested_size;  // bytes asked for (0 when free)
  bool allocated;
  std::shared_ptr<const std::string> history;  // where it was allocated, when recording
};
struct SegmentSnapshot {
  uintptr_t address;
  size_t total_size, allocated_size;
  StreamHandle stream;
  bool is_small;  // small pool (2 MiB segments) or large pool
  PoolId pool;
  std::vector<BlockSnapshot> blocks;
};

class CachingAllocator {
 public:
  CachingAllocator(int device, std::unique_ptr<MemoryBackend> backend);
  ~CachingAllocator();  // frees nothing it handed out: those pointers may still be in use
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // Device memory for work on `stream`; nullptr for 0 bytes. Throws Error(OutOfMemory) with
  // the device's numbers when even an emptied cache cannot serve it.
  void* allocate(size_t nbytes, StreamHandle stream);
  // Returns a pointer from allocate(); throws (Value) for one it did not hand out.
  void free(void* ptr);
  // The block of `ptr` is also used by `stream`: on free it is reused only after that
  // stream's work queued by then has completed.
  void record_stream(void* ptr, StreamHandle stream);

  // Returns every wholly free segment of the default pools to the backend (after a
  // synchronize, so no queued work still uses it).
  void empty_cache();
  // Caps reserved memory at fraction * total_memory (0 < fraction <= 1); requests beyond it
  // fail as out of memory.
  void set_memory_fraction(double fraction);

  AllocatorStats stats() const;
  void reset_peak_stats();         // peaks become the current values
  void reset_accumulated_stats();  // allocated/freed counts and retries/ooms go to 0
  std::vector<SegmentSnapshot> snapshot() const;

  // Where each allocation came from, kept while set (a Python or C++ stack as text); null
  // turns recording off.
  void set_history_recorder(std::function<std::shared_ptr<const std::string>()> recorder);

  // While set, allocations on `stream` go to private pool `pool` (created on first use);
  // end_allocate_to_pool stops that for the stream. release_pool drops the pool: its blocks
  // return to the default pools' reach once freed, and its free segments go to the backend
  // on the next empty_cache.
  void begin_allocate_to_pool(PoolId pool, StreamHandle stream);
  void end_allocate_to_pool(StreamHandle stream);
  void release_pool(PoolId pool);

  int device() const { return device_; }

 private:
  struct Impl;
  int device_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vt::cuda
