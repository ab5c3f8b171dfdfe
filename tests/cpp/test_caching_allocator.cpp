// The caching allocator against a fake device: host memory with a byte capacity (to run out
// on purpose), counters of raw calls, and stream markers whose completion the test decides.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "src/cuda/caching_allocator.h"
#include "vt/error.h"

namespace {

using vt::cuda::CachingAllocator;
using vt::cuda::SegmentSnapshot;
using vt::cuda::StreamHandle;

constexpr size_t KiB = 1024;
constexpr size_t MiB = 1024 * KiB;
constexpr size_t GiB = 1024 * MiB;

StreamHandle stream(uintptr_t id) { return reinterpret_cast<StreamHandle>(id); }
const StreamHandle s1 = stream(1);
const StreamHandle s2 = stream(2);

struct FakeMarker {
  StreamHandle stream;
  bool done = false;
};

// What the device did, kept by the test while the allocator owns the backend.
struct FakeDevice {
  explicit FakeDevice(size_t bytes) : capacity(bytes) {}
  size_t capacity;
  size_t used = 0;
  int raw_allocs = 0, raw_frees = 0, failed_allocs = 0, syncs = 0;
  std::map<void*, size_t> live;
  std::vector<std::unique_ptr<FakeMarker>> markers;
  int live_markers = 0, marker_queries = 0;
  std::map<StreamHandle, uint64_t> capture_ids;  // streams taking part in a capture

  void complete_markers(StreamHandle s) {
    for (auto& m : markers) {
      if (m->stream == s) m->done = true;
    }
  }
  ~FakeDevice() {
    for (auto& [ptr, size] : live) std::free(ptr);
  }
};

class FakeBackend : public vt::cuda::MemoryBackend {
 public:
  explicit FakeBackend(std::shared_ptr<FakeDevice> device) : device_(std::move(device)) {}
  void* raw_allocate(size_t nbytes) override {
    if (device_->used + nbytes > device_->capacity) {
      device_->failed_allocs++;
      return nullptr;
    }
    void* ptr = std::aligned_alloc(512, nbytes);
    device_->used += nbytes;
    device_->raw_allocs++;
    device_->live[ptr] = nbytes;
    return ptr;
  }
  void raw_free(void* ptr) override {
    auto it = device_->live.find(ptr);
    ASSERT_NE(it, device_->live.end()) << "raw_free of memory the device did not hand out";
    device_->used -= it->second;
    device_->raw_frees++;
    device_->live.erase(it);
    std::free(ptr);
  }
  void* record_marker(StreamHandle stream) override {
    device_->markers.push_back(std::make_unique<FakeMarker>(FakeMarker{stream}));
    device_->live_markers++;
    return device_->markers.back().get();
  }
  bool marker_done(void* marker) override {
    device_->marker_queries++;
    return static_cast<FakeMarker*>(marker)->done;
  }
  void destroy_marker(void* marker) override { device_->live_markers--; }
  // A real synchronize completes the work every marker waits for.
  void synchronize() override {
    device_->syncs++;
    for (auto& m : device_->markers) m->done = true;
  }
  size_t total_memory() override { return device_->capacity; }
  uint64_t capture_id(StreamHandle stream) override {
    auto it = device_->capture_ids.find(stream);
    return it == device_->capture_ids.end() ? 0 : it->second;
  }

 private:
  std::shared_ptr<FakeDevice> device_;
};

class CachingAllocatorTest : public ::testing::Test {
 protected:
  void make(size_t capacity) {
    device = std::make_shared<FakeDevice>(capacity);
    alloc = std::make_unique<CachingAllocator>(0, std::make_unique<FakeBackend>(device));
  }
  void SetUp() override { make(1 * GiB); }
  SegmentSnapshot only_segment() {
    auto segments = alloc->snapshot();
    EXPECT_EQ(segments.size(), 1u);
    return segments.empty() ? SegmentSnapshot{} : segments[0];
  }

  std::shared_ptr<FakeDevice> device;
  std::unique_ptr<CachingAllocator> alloc;
};

TEST_F(CachingAllocatorTest, RoundsTo512AndPicksThePoolBySize) {
  void* tiny = alloc->allocate(1, s1);
  void* one_mib = alloc->allocate(1 * MiB, s1);
  void* over_mib = alloc->allocate(1 * MiB + 1, s1);
  void* big = alloc->allocate(11 * MiB + 1, s2);  // on s1 it would fit in over_mib's segment
  auto segments = alloc->snapshot();
  ASSERT_EQ(segments.size(), 3u);
  std::map<size_t, SegmentSnapshot> by_size;
  for (auto& s : segments) by_size[s.total_size] = s;
  ASSERT_TRUE(by_size.count(2 * MiB) && by_size.count(20 * MiB) && by_size.count(12 * MiB));
  EXPECT_TRUE(by_size[2 * MiB].is_small);
  EXPECT_FALSE(by_size[20 * MiB].is_small);
  EXPECT_FALSE(by_size[12 * MiB].is_small);
  // The small segment: 512, then 1 MiB, then the rest, free.
  auto& small = by_size[2 * MiB].blocks;
  ASSERT_EQ(small.size(), 3u);
  EXPECT_EQ(small[0].size, 512u);
  EXPECT_EQ(small[0].requested_size, 1u);
  EXPECT_EQ(small[1].size, 1 * MiB);
  EXPECT_EQ(small[2].size, 1 * MiB - 512);
  EXPECT_FALSE(small[2].allocated);
  EXPECT_EQ(by_size[20 * MiB].blocks[0].size, 1 * MiB + 512);
  EXPECT_EQ(by_size[12 * MiB].blocks.size(), 1u);  // 12 MiB - (11 MiB + 512) is not worth a block
  auto stats = alloc->stats();
  EXPECT_EQ(stats.small_pool.allocated_bytes.current, int64_t(512 + 1 * MiB));
  EXPECT_EQ(stats.large_pool.allocated_bytes.current, int64_t(1 * MiB + 512 + 12 * MiB));
  EXPECT_EQ(device->raw_allocs, 3);
  for (void* p : {tiny, one_mib, over_mib, big}) alloc->free(p);
}

TEST_F(CachingAllocatorTest, LargeBlocksAreSplitOnlyAboveOneMiB) {
  void* a = alloc->allocate(2 * MiB, s1);  // 20 MiB segment: 18 MiB remain, split off
  void* b = alloc->allocate(17 * MiB + 512 * KiB, s1);  // takes the 18 MiB block whole
  auto seg = only_segment();
  ASSERT_EQ(seg.blocks.size(), 2u);
  EXPECT_EQ(seg.blocks[1].size, 18 * MiB);
  EXPECT_EQ(seg.blocks[1].requested_size, 17 * MiB + 512 * KiB);
  EXPECT_EQ(seg.allocated_size, 20 * MiB);
  alloc->free(a);
  alloc->free(b);
}

TEST_F(CachingAllocatorTest, ZeroBytesAndNullptr) {
  EXPECT_EQ(alloc->allocate(0, s1), nullptr);
  alloc->free(nullptr);
  alloc->record_stream(nullptr, s2);
  EXPECT_EQ(device->raw_allocs, 0);
  EXPECT_EQ(alloc->stats().all.allocation.allocated, 0);
}

TEST_F(CachingAllocatorTest, ReusesAFreedBlockOnTheSameStream) {
  void* a = alloc->allocate(4000, s1);
  alloc->free(a);
  void* b = alloc->allocate(3900, s1);
  EXPECT_EQ(a, b);
  EXPECT_EQ(device->raw_allocs, 1);
  alloc->free(b);
}

TEST_F(CachingAllocatorTest, SteadyStateMakesNoRawCalls) {
  const size_t sizes[] = {100, 4000, 600 * KiB, 3 * MiB, 25 * MiB, 512, 1 * MiB + 7};
  auto cycle = [&](int i) {
    std::vector<void*> live;
    for (size_t k = 0; k < std::size(sizes); ++k) live.push_back(alloc->allocate(sizes[(k + i) % 7], s1));
    // Free in an order that changes every cycle, so blocks merge differently.
    for (size_t k = 0; k < live.size(); ++k) alloc->free(live[(k * 3 + i) % live.size()]);
  };
  cycle(0);
  int raw_after_warmup = device->raw_allocs;
  for (int i = 0; i < 1000; ++i) cycle(i);
  EXPECT_EQ(device->raw_allocs, raw_after_warmup);
  EXPECT_EQ(device->raw_frees, 0);
  EXPECT_EQ(alloc->stats().all.allocated_bytes.current, 0);
  EXPECT_EQ(alloc->stats().all.allocation.allocated, 1001 * 7);
}

TEST_F(CachingAllocatorTest, DoesNotReuseAcrossStreams) {
  void* a = alloc->allocate(4000, s2);
  alloc->free(a);
  void* b = alloc->allocate(4000, s1);
  EXPECT_NE(a, b);
  alloc->free(b);
  void* c = alloc->allocate(4000, s2);
  EXPECT_EQ(a, c);
  EXPECT_EQ(device->raw_allocs, 2);
  auto segments = alloc->snapshot();
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_NE(segments[0].stream, segments[1].stream);
  alloc->free(c);
}

// Three neighbours freed in every order: the segment ends as one free block.
TEST_F(CachingAllocatorTest, SplitsAndCoalescesInAnyOrder) {
  const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  for (const auto& order : orders) {
    void* p[3];
    for (void*& q : p) q = alloc->allocate(1000, s1);
    EXPECT_EQ(static_cast<char*>(p[1]), static_cast<char*>(p[0]) + 1024);
    EXPECT_EQ(static_cast<char*>(p[2]), static_cast<char*>(p[1]) + 1024);
    EXPECT_EQ(only_segment().blocks.size(), 4u);  // three blocks and the free rest
    for (int i : order) alloc->free(p[i]);
    auto seg = only_segment();
    ASSERT_EQ(seg.blocks.size(), 1u) << order[0] << order[1] << order[2];
    EXPECT_EQ(seg.blocks[0].size, 2 * MiB);
    EXPECT_FALSE(seg.blocks[0].allocated);
    EXPECT_EQ(seg.allocated_size, 0u);
    EXPECT_EQ(alloc->stats().all.inactive_split.current, 0);
  }
  EXPECT_EQ(device->raw_allocs, 1);
}

TEST_F(CachingAllocatorTest, InactiveSplitCountsFreeBlocksOfPartlyUsedSegments) {
  void* a = alloc->allocate(1000, s1);
  void* b = alloc->allocate(1000, s1);
  void* c = alloc->allocate(1000, s1);
  auto stats = alloc->stats();
  EXPECT_EQ(stats.small_pool.inactive_split.current, 1);  // the tail
  EXPECT_EQ(stats.small_pool.inactive_split_bytes.current, int64_t(2 * MiB - 3 * KiB));
  alloc->free(b);  // a hole between a and c
  stats = alloc->stats();
  EXPECT_EQ(stats.all.inactive_split.current, 2);
  EXPECT_EQ(stats.all.inactive_split_bytes.current, int64_t(2 * MiB - 2 * KiB));
  alloc->free(c);  // the hole, c and the tail become one block
  stats = alloc->stats();
  EXPECT_EQ(stats.all.inactive_split.current, 1);
  EXPECT_EQ(stats.all.inactive_split_bytes.current, int64_t(2 * MiB - 1 * KiB));
  alloc->free(a);
  stats = alloc->stats();
  EXPECT_EQ(stats.all.inactive_split.current, 0);
  EXPECT_EQ(stats.all.inactive_split_bytes.current, 0);
  EXPECT_EQ(stats.all.inactive_split.peak, 2);
}

TEST_F(CachingAllocatorTest, RecordStreamDelaysReuseUntilTheMarkerCompletes) {
  void* a = alloc->allocate(4000, s1);
  alloc->record_stream(a, s2);
  alloc->record_stream(a, s2);  // once per stream is enough
  alloc->free(a);
  EXPECT_EQ(device->markers.size(), 1u);
  auto stats = alloc->stats();
  EXPECT_EQ(stats.all.allocated_bytes.current, 0);
  EXPECT_EQ(stats.all.active_bytes.current, 4096);  // pending: still active
  EXPECT_EQ(stats.all.active.current, 1);

  void* b = alloc->allocate(4000, s1);
  EXPECT_NE(a, b);  // s2 may still be reading a
  alloc->free(b);
  device->complete_markers(s2);
  void* c = alloc->allocate(4000, s1);
  EXPECT_EQ(a, c);
  EXPECT_EQ(device->live_markers, 0);
  EXPECT_EQ(alloc->stats().all.active.current, 1);
  EXPECT_EQ(device->raw_allocs, 1);
  alloc->free(c);
}

TEST_F(CachingAllocatorTest, RecordStreamOnTheOwnStreamRecordsNothing) {
  void* a = alloc->allocate(4000, s1);
  alloc->record_stream(a, s1);
  alloc->free(a);
  EXPECT_TRUE(device->markers.empty());
  EXPECT_EQ(alloc->allocate(4000, s1), a);
  alloc->free(a);
}

TEST_F(CachingAllocatorTest, EmptyCacheCompletesPendingFrees) {
  void* a = alloc->allocate(4000, s1);
  alloc->record_stream(a, s2);
  alloc->free(a);
  alloc->empty_cache();  // synchronizes: the marker is done, the block free, its segment returned
  EXPECT_EQ(device->live_markers, 0);
  EXPECT_EQ(device->raw_frees, 1);
  EXPECT_TRUE(alloc->snapshot().empty());
  EXPECT_EQ(alloc->stats().all.active_bytes.current, 0);
}

TEST_F(CachingAllocatorTest, OutOfMemoryReleasesCachedSegmentsAndRetries) {
  make(30 * MiB);
  void* a = alloc->allocate(5 * MiB, s1);  // a 20 MiB segment
  alloc->free(a);                          // cached on s1
  void* b = alloc->allocate(5 * MiB, s2);  // 20 more do not fit until s1's cache goes
  ASSERT_NE(b, nullptr);
  auto stats = alloc->stats();
  EXPECT_EQ(stats.num_alloc_retries, 1);
  EXPECT_EQ(stats.num_ooms, 0);
  EXPECT_EQ(stats.num_device_alloc, 2);
  EXPECT_EQ(stats.num_device_free, 1);
  EXPECT_EQ(stats.num_sync_all_streams, 1);
  EXPECT_EQ(device->failed_allocs, 1);
  EXPECT_EQ(device->syncs, 1);
  EXPECT_EQ(stats.all.reserved_bytes.current, int64_t(20 * MiB));
  EXPECT_EQ(only_segment().stream, s2);
  alloc->free(b);
}

// Out of room, the allocator synchronizes: a block that waited for another stream is then
// free and serves the request, even though its segment stays in use.
TEST_F(CachingAllocatorTest, OutOfMemoryPathCompletesPendingFrees) {
  make(20 * MiB);
  void* a = alloc->allocate(9 * MiB, s1);
  void* b = alloc->allocate(9 * MiB, s1);  // same 20 MiB segment; 2 MiB stay free
  alloc->record_stream(a, s2);
  alloc->free(a);  // pending: s2's marker has not completed
  void* c = alloc->allocate(9 * MiB, s1);
  EXPECT_EQ(c, a);
  EXPECT_EQ(device->raw_allocs, 1);
  EXPECT_EQ(alloc->stats().num_alloc_retries, 1);
  EXPECT_EQ(device->live_markers, 0);
  alloc->free(b);
  alloc->free(c);
}

TEST_F(CachingAllocatorTest, RunningOutDuringACaptureRaisesWithoutSynchronizing) {
  // A synchronize would invalidate the capture: the cache is not emptied, the error comes at once.
  make(30 * MiB);
  alloc->begin_allocate_to_pool(7, s1);
  try {
    alloc->allocate(2 * GiB, s1);
    FAIL() << "expected an OutOfMemory error";
  } catch (const vt::Error& e) {
    EXPECT_EQ(e.kind(), vt::ErrorKind::OutOfMemory);
  }
  EXPECT_THROW(alloc->empty_cache(), vt::Error);
  EXPECT_EQ(device->syncs, 0);
  EXPECT_EQ(alloc->stats().num_alloc_retries, 0);
  alloc->end_allocate_to_pool(s1);
  alloc->empty_cache();  // allowed again
  alloc->release_pool(7);
}

TEST_F(CachingAllocatorTest, HopelessRequestRaisesOutOfMemory) {
  make(30 * MiB);
  void* live = alloc->allocate(3 * MiB, s1);
  try {
    alloc->allocate(2 * GiB, s1);
    FAIL() << "expected an OutOfMemory error";
  } catch (const vt::Error& e) {
    EXPECT_EQ(e.kind(), vt::ErrorKind::OutOfMemory);
    std::string message = e.what();
    EXPECT_NE(message.find("CUDA out of memory"), std::string::npos) << message;
    EXPECT_NE(message.find("Tried to allocate 2.00 GiB"), std::string::npos) << message;
    EXPECT_NE(message.find("total capacity of 30.00 MiB of which 10.00 MiB is free"), std::string::npos) << message;
    EXPECT_NE(message.find("3.00 MiB is allocated by vibetensor"), std::string::npos) << message;
    EXPECT_NE(message.find("17.00 MiB is reserved by vibetensor but unallocated"), std::string::npos) << message;
  }
  auto stats = alloc->stats();
  EXPECT_EQ(stats.num_ooms, 1);
  EXPECT_EQ(stats.num_alloc_retries, 1);
  EXPECT_EQ(stats.all.allocated_bytes.current, int64_t(3 * MiB));  // the failure changed nothing
  EXPECT_THROW(alloc->allocate(SIZE_MAX, s1), vt::Error);  // too large even to round
  EXPECT_EQ(alloc->stats().num_ooms, 2);
  alloc->free(live);
}

TEST_F(CachingAllocatorTest, MemoryFractionCapsReservedMemory) {
  make(100 * MiB);
  alloc->set_memory_fraction(0.5);  // 50 MiB
  void* a = alloc->allocate(40 * MiB, s1);
  try {
    alloc->allocate(20 * MiB, s1);
    FAIL() << "expected an OutOfMemory error";
  } catch (const vt::Error& e) {
    EXPECT_EQ(e.kind(), vt::ErrorKind::OutOfMemory);
    std::string message = e.what();
    EXPECT_NE(message.find("out of memory"), std::string::npos) << message;
    EXPECT_NE(message.find("allowed memory fraction was exceeded"), std::string::npos) << message;
    EXPECT_NE(message.find("at most 50.00 MiB"), std::string::npos) << message;
  }
  EXPECT_EQ(device->failed_allocs, 0);  // the cap refused it before the device was asked
  EXPECT_EQ(device->raw_allocs, 1);
  void* b = alloc->allocate(10 * MiB, s1);  // exactly up to the cap
  EXPECT_EQ(alloc->stats().all.reserved_bytes.current, int64_t(50 * MiB));
  alloc->set_memory_fraction(1.0);
  void* c = alloc->allocate(20 * MiB, s1);
  for (void* p : {a, b, c}) alloc->free(p);
}

TEST_F(CachingAllocatorTest, RejectsFractionsOutsideZeroToOne) {
  for (double bad : {0.0, -0.5, 1.5, std::nan("")}) {
    try {
      alloc->set_memory_fraction(bad);
      FAIL() << bad;
    } catch (const vt::Error& e) {
      EXPECT_EQ(e.kind(), vt::ErrorKind::Value);
      EXPECT_NE(std::string(e.what()).find("fraction"), std::string::npos);
    }
  }
}

TEST_F(CachingAllocatorTest, StatsFollowEveryOperation) {
  void* small = alloc->allocate(1000, s1);      // 1024 of a 2 MiB segment
  void* large = alloc->allocate(3 * MiB, s1);   // 3 MiB of a 20 MiB segment
  auto stats = alloc->stats();
  EXPECT_EQ(stats.all.allocated_bytes.current, int64_t(1024 + 3 * MiB));
  EXPECT_EQ(stats.small_pool.allocated_bytes.current, 1024);
  EXPECT_EQ(stats.large_pool.allocated_bytes.current, int64_t(3 * MiB));
  EXPECT_EQ(stats.all.requested_bytes.current, int64_t(1000 + 3 * MiB));
  EXPECT_EQ(stats.small_pool.requested_bytes.current, 1000);
  EXPECT_EQ(stats.all.reserved_bytes.current, int64_t(22 * MiB));
  EXPECT_EQ(stats.small_pool.reserved_bytes.current, int64_t(2 * MiB));
  EXPECT_EQ(stats.all.active_bytes.current, int64_t(1024 + 3 * MiB));
  EXPECT_EQ(stats.all.allocation.current, 2);
  EXPECT_EQ(stats.all.active.current, 2);
  EXPECT_EQ(stats.all.segment.current, 2);
  EXPECT_EQ(stats.large_pool.segment.current, 1);
  EXPECT_EQ(stats.num_device_alloc, 2);
  EXPECT_EQ(stats.max_split_size, -1);

  alloc->free(large);
  stats = alloc->stats();
  EXPECT_EQ(stats.all.allocated_bytes.current, 1024);
  EXPECT_EQ(stats.all.allocated_bytes.peak, int64_t(1024 + 3 * MiB));
  EXPECT_EQ(stats.all.allocated_bytes.allocated, int64_t(1024 + 3 * MiB));
  EXPECT_EQ(stats.all.allocated_bytes.freed, int64_t(3 * MiB));
  EXPECT_EQ(stats.all.requested_bytes.current, 1000);
  EXPECT_EQ(stats.all.reserved_bytes.current, int64_t(22 * MiB));  // cached, still reserved
  EXPECT_EQ(stats.all.allocation.current, 1);
  EXPECT_EQ(stats.all.allocation.peak, 2);

  alloc->reset_peak_stats();
  stats = alloc->stats();
  EXPECT_EQ(stats.all.allocated_bytes.peak, 1024);
  EXPECT_EQ(stats.all.allocation.peak, 1);
  EXPECT_EQ(stats.large_pool.reserved_bytes.peak, int64_t(20 * MiB));

  alloc->empty_cache();
  stats = alloc->stats();
  EXPECT_EQ(stats.all.reserved_bytes.current, int64_t(2 * MiB));
  EXPECT_EQ(stats.all.segment.current, 1);
  EXPECT_EQ(stats.num_device_free, 1);
  EXPECT_EQ(stats.num_sync_all_streams, 1);

  alloc->reset_accumulated_stats();
  stats = alloc->stats();
  EXPECT_EQ(stats.all.allocated_bytes.allocated, 0);
  EXPECT_EQ(stats.all.allocated_bytes.freed, 0);
  EXPECT_EQ(stats.all.reserved_bytes.freed, 0);
  EXPECT_EQ(stats.large_pool.segment.freed, 0);
  EXPECT_EQ(stats.num_device_alloc, 0);
  EXPECT_EQ(stats.num_device_free, 0);
  EXPECT_EQ(stats.num_sync_all_streams, 0);
  EXPECT_EQ(stats.all.allocated_bytes.current, 1024);  // currents stay
  EXPECT_EQ(stats.all.allocated_bytes.peak, 1024);
  alloc->free(small);
  EXPECT_EQ(alloc->stats().all.allocated_bytes.freed, 1024);
}

TEST_F(CachingAllocatorTest, SnapshotListsBlocksWithTheirHistory) {
  int calls = 0;
  alloc->set_history_recorder([&] { return std::make_shared<const std::string>("alloc #" + std::to_string(++calls)); });
  void* a = alloc->allocate(1000, s1);
  void* b = alloc->allocate(2000, s1);
  alloc->set_history_recorder(nullptr);
  void* c = alloc->allocate(3000, s1);
  alloc->free(b);
  auto seg = only_segment();
  EXPECT_EQ(seg.address, reinterpret_cast<uintptr_t>(a));
  EXPECT_EQ(seg.total_size, 2 * MiB);
  EXPECT_EQ(seg.allocated_size, 1024u + 3072u);
  EXPECT_EQ(seg.stream, s1);
  EXPECT_TRUE(seg.is_small);
  EXPECT_EQ(seg.pool, 0u);
  ASSERT_EQ(seg.blocks.size(), 4u);
  EXPECT_EQ(seg.blocks[0].address, reinterpret_cast<uintptr_t>(a));
  ASSERT_TRUE(seg.blocks[0].history);
  EXPECT_EQ(*seg.blocks[0].history, "alloc #1");
  EXPECT_EQ(seg.blocks[0].requested_size, 1000u);
  EXPECT_FALSE(seg.blocks[1].allocated);  // b, freed: no history, no request
  EXPECT_EQ(seg.blocks[1].size, 2048u);
  EXPECT_EQ(seg.blocks[1].requested_size, 0u);
  EXPECT_FALSE(seg.blocks[1].history);
  EXPECT_EQ(seg.blocks[2].address, reinterpret_cast<uintptr_t>(c));
  EXPECT_TRUE(seg.blocks[2].allocated);
  EXPECT_FALSE(seg.blocks[2].history);  // recorded after the recorder was turned off
  EXPECT_EQ(seg.blocks[3].address, reinterpret_cast<uintptr_t>(c) + 3072);
  EXPECT_EQ(calls, 2);

  void* other = alloc->allocate(5 * MiB, s2);
  auto segments = alloc->snapshot();
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_LT(segments[0].address, segments[1].address);
  for (void* p : {a, c, other}) alloc->free(p);
}

TEST_F(CachingAllocatorTest, EmptyCacheReturnsOnlyWhollyFreeSegments) {
  void* keep = alloc->allocate(1000, s1);
  void* gone = alloc->allocate(1000, s1);
  void* large = alloc->allocate(5 * MiB, s1);
  void* other = alloc->allocate(1000, s2);
  alloc->free(gone);
  alloc->free(large);
  alloc->free(other);
  alloc->empty_cache();
  EXPECT_EQ(device->raw_frees, 2);  // the large and s2's segments
  auto seg = only_segment();
  EXPECT_EQ(seg.address, reinterpret_cast<uintptr_t>(keep));
  EXPECT_EQ(seg.allocated_size, 1024u);
  alloc->free(keep);
  alloc->empty_cache();
  EXPECT_TRUE(alloc->snapshot().empty());
  EXPECT_EQ(device->used, 0u);
}

TEST_F(CachingAllocatorTest, AStreamThatJoinedACaptureAllocatesToItsPool) {
  alloc->begin_allocate_to_pool(7, s1);
  device->capture_ids = {{s1, 42}, {s2, 42}};  // s2 waited on s1's captured work
  void* joined = alloc->allocate(1000, s2);
  device->capture_ids[s2] = 43;  // another capture's stream keeps to its own memory
  void* other = alloc->allocate(1000, s2);
  device->capture_ids.clear();
  alloc->end_allocate_to_pool(s1);
  for (const auto& segment : alloc->snapshot()) {
    const bool holds_joined = segment.address == reinterpret_cast<uintptr_t>(joined);
    EXPECT_EQ(segment.pool, holds_joined ? 7u : 0u);
    EXPECT_EQ(segment.stream, s2);
  }
  alloc->free(joined);
  alloc->free(other);
  alloc->release_pool(7);
}

TEST_F(CachingAllocatorTest, ABlockFreedDuringACaptureWaitsForItsStreamsAfterTheCapture) {
  void* anchor = alloc->allocate(1000, s1);  // a pending free from before the capture
  alloc->record_stream(anchor, s2);
  alloc->free(anchor);
  alloc->begin_allocate_to_pool(7, s1);
  void* captured = alloc->allocate(1000, s1);
  alloc->record_stream(captured, s2);
  const int markers_before = device->live_markers;
  alloc->free(captured);
  void* next = alloc->allocate(1000, s1);  // no marker is recorded or queried mid-capture
  EXPECT_NE(next, captured);
  EXPECT_EQ(device->live_markers, markers_before);
  EXPECT_EQ(device->marker_queries, 0);
  alloc->free(next);
  alloc->end_allocate_to_pool(s1);
  EXPECT_EQ(device->live_markers, markers_before + 1);  // recorded on s2 once the capture ended
  // Two blocks from the pool, after an allocation outside a capture has processed pending frees.
  auto pool_blocks = [&] {
    alloc->free(alloc->allocate(1000, s1));
    alloc->begin_allocate_to_pool(7, s1);
    std::set<void*> taken{alloc->allocate(1000, s1), alloc->allocate(1000, s1)};
    alloc->end_allocate_to_pool(s1);
    for (void* p : taken) alloc->free(p);
    return taken;
  };
  EXPECT_FALSE(pool_blocks().contains(captured));  // s2 has not finished with it
  device->complete_markers(s2);
  EXPECT_TRUE(pool_blocks().contains(captured));
}

TEST_F(CachingAllocatorTest, PrivatePoolsKeepTheirBlocks) {
  void* anchor = alloc->allocate(1000, s1);  // keeps the default small segment alive
  alloc->begin_allocate_to_pool(7, s1);
  void* captured = alloc->allocate(1000, s1);
  alloc->end_allocate_to_pool(s1);
  EXPECT_NE(captured, static_cast<char*>(anchor) + 1024);  // not from the default segment
  EXPECT_EQ(device->raw_allocs, 2);
  auto segments = alloc->snapshot();
  ASSERT_EQ(segments.size(), 2u);
  for (auto& s : segments) {
    bool holds_captured = s.address == reinterpret_cast<uintptr_t>(captured);
    EXPECT_EQ(s.pool, holds_captured ? 7u : 0u);
  }

  alloc->free(captured);
  void* outside = alloc->allocate(1000, s1);  // the default pool does not see the pool's block
  EXPECT_NE(outside, captured);
  alloc->free(outside);
  alloc->begin_allocate_to_pool(7, s1);  // a replay-like second use of the pool reuses it
  void* again = alloc->allocate(1000, s1);
  alloc->end_allocate_to_pool(s1);
  EXPECT_EQ(again, captured);
  alloc->free(again);

  alloc->begin_allocate_to_pool(7, s1);
  void* large_captured = alloc->allocate(5 * MiB, s1);
  alloc->end_allocate_to_pool(s1);
  alloc->free(large_captured);
  void* large_outside = alloc->allocate(5 * MiB, s1);  // no default large segment yet: a new one
  EXPECT_NE(large_outside, large_captured);
  EXPECT_EQ(device->raw_allocs, 4);
  alloc->free(large_outside);
  alloc->empty_cache();  // returns the default large segment; the pool's two stay
  EXPECT_EQ(device->raw_frees, 1);

  alloc->release_pool(7);  // three begins: three users, as graphs sharing the pool
  alloc->release_pool(7);
  alloc->empty_cache();
  EXPECT_EQ(device->raw_frees, 1);
  alloc->release_pool(7);
  alloc->empty_cache();
  EXPECT_EQ(device->raw_frees, 3);
  segments = alloc->snapshot();
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_EQ(segments[0].address, reinterpret_cast<uintptr_t>(anchor));
  alloc->free(anchor);
}

TEST_F(CachingAllocatorTest, ReleasedPoolReturnsSegmentsFreedLater) {
  alloc->begin_allocate_to_pool(3, s1);
  void* a = alloc->allocate(5 * MiB, s1);
  alloc->end_allocate_to_pool(s1);
  alloc->release_pool(3);  // while a is still live
  alloc->empty_cache();
  EXPECT_EQ(device->raw_frees, 0);
  alloc->free(a);
  EXPECT_EQ(only_segment().pool, 0u);  // handed to the default pool once wholly free
  alloc->empty_cache();
  EXPECT_EQ(device->raw_frees, 1);
  EXPECT_TRUE(alloc->snapshot().empty());
}

TEST_F(CachingAllocatorTest, PoolMisuseIsAValueError) {
  auto expect_value_error = [](auto f) {
    try {
      f();
      ADD_FAILURE() << "expected an error";
    } catch (const vt::Error& e) {
      EXPECT_EQ(e.kind(), vt::ErrorKind::Value) << e.what();
    }
  };
  expect_value_error([&] { alloc->begin_allocate_to_pool(0, s1); });
  expect_value_error([&] { alloc->end_allocate_to_pool(s1); });
  expect_value_error([&] { alloc->release_pool(9); });
  alloc->begin_allocate_to_pool(9, s1);
  expect_value_error([&] { alloc->begin_allocate_to_pool(10, s1); });
  expect_value_error([&] { alloc->release_pool(9); });  // still being allocated to
  alloc->end_allocate_to_pool(s1);
  alloc->release_pool(9);
}

TEST_F(CachingAllocatorTest, FreeOfAnUnknownPointerIsAValueError) {
  int local = 0;
  try {
    alloc->free(&local);
    FAIL() << "expected an error";
  } catch (const vt::Error& e) {
    EXPECT_EQ(e.kind(), vt::ErrorKind::Value);
    EXPECT_NE(std::string(e.what()).find("was not allocated by this allocator"), std::string::npos);
  }
  void* a = alloc->allocate(100, s1);
  alloc->free(a);
  EXPECT_THROW(alloc->free(a), vt::Error);  // double free
  EXPECT_THROW(alloc->record_stream(a, s2), vt::Error);
}

TEST_F(CachingAllocatorTest, DestructorFreesOnlyCachedSegments) {
  void* live = alloc->allocate(1000, s1);
  void* cached = alloc->allocate(5 * MiB, s1);
  alloc->free(cached);
  alloc.reset();
  EXPECT_EQ(device->raw_frees, 1);
  EXPECT_EQ(device->live.count(live), 1u);  // still handed out: left to the device
}

TEST_F(CachingAllocatorTest, ThreadsAllocatingConcurrentlyKeepTheBooks) {
  std::vector<std::thread> threads;
  for (uintptr_t t = 1; t <= 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 500; ++i) {
        void* a = alloc->allocate(512 * (i % 7 + 1), stream(t));
        void* b = alloc->allocate(2 * MiB + 512 * i, stream(t % 2));
        alloc->free(a);
        alloc->free(b);
      }
    });
  }
  for (auto& t : threads) t.join();
  auto stats = alloc->stats();
  EXPECT_EQ(stats.all.allocation.current, 0);
  EXPECT_EQ(stats.all.allocation.allocated, 4000);
  EXPECT_EQ(stats.all.active_bytes.current, 0);
  alloc->empty_cache();
  EXPECT_EQ(device->used, 0u);
}

}  // namespace
