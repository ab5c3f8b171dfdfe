// Storage: alignment, pluggable allocators, shared version counter.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>

#include "vt/ops.h"

namespace {
class CountingAllocator : public vt::Allocator {
 public:
  vt::DataPtr allocate(size_t nbytes) override {
    ++allocations;
    void* p = std::malloc(nbytes ? nbytes : 1);
    return {p, p, &std::free};
  }
  int allocations = 0;
};
}  // namespace

TEST(Storage, CpuAllocationsAre64ByteAligned) {
  for (int64_t n : {1, 3, 17, 1000}) {
    vt::Tensor t = vt::empty({&n, 1}, vt::ScalarType::Int8);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data_ptr()) % 64, 0u);
  }
}

TEST(Storage, AllocatorIsPluggable) {
  CountingAllocator counting;
  vt::Allocator* previous = vt::set_cpu_allocator(&counting);
  {
    vt::Tensor t = vt::zeros(std::vector<int64_t>{4, 4}, vt::ScalarType::Float32);
    EXPECT_EQ(counting.allocations, 1);
  }
  vt::set_cpu_allocator(previous);
}

TEST(Storage, ViewsShareTheVersionCounter) {
  vt::Tensor base = vt::zeros(std::vector<int64_t>{3, 4}, vt::ScalarType::Float32);
  vt::Tensor row = vt::select(base, 0, 1);
  uint64_t before = base.version();
  vt::add_(row, vt::scalar_to_tensor(1.0));
  EXPECT_GT(base.version(), before);
  EXPECT_EQ(base.version(), row.version());
  EXPECT_EQ(vt::sum(base).item().to_double(), 4.0);
}

TEST(Storage, ReleasesMemoryWithTheLastReference) {
  CountingAllocator counting;
  vt::Allocator* previous = vt::set_cpu_allocator(&counting);
  vt::Tensor view;
  {
    vt::Tensor base = vt::ones(std::vector<int64_t>{8}, vt::ScalarType::Float32);
    view = vt::narrow(base, 0, 2, 3);
  }
  EXPECT_EQ(vt::sum(view).item().to_double(), 3.0);
  view = vt::Tensor();
  vt::set_cpu_allocator(previous);
}
