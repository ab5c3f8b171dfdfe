// Storage and the default CPU allocator.
#include "vt/storage.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include "vt/error.h"

namespace vt {

namespace {
class AlignedCpuAllocator final : public Allocator {
 public:
  DataPtr allocate(size_t nbytes) override {
    if (nbytes == 0) return {};
    // aligned_alloc wants a multiple of the alignment.
    size_t rounded = (nbytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
    void* data = std::aligned_alloc(kCpuAlignment, rounded);
    VT_CHECK(data != nullptr, "CPU out of memory: tried to allocate ", nbytes, " bytes");
    return {data, data, &std::free};
  }
};

AlignedCpuAllocator g_default_cpu_allocator;
std::atomic<Allocator*> g_cpu_allocator{&g_default_cpu_allocator};
}  // namespace

Allocator* cpu_allocator() { return g_cpu_allocator.load(std::memory_order_acquire); }
Allocator* set_cpu_allocator(Allocator* allocator) {
  return g_cpu_allocator.exchange(allocator ? allocator : &g_default_cpu_allocator);
}

Storage make_storage(size_t nbytes, Device device) {
  VT_CHECK(device.is_cpu(), "no allocator for device ", device.str(),
           ": this build of vibetensor has no CUDA support");
  Allocator* allocator = cpu_allocator();
  return Storage::make(allocator->allocate(nbytes), nbytes, device, allocator);
}

void StorageImpl::resize(size_t nbytes) {
  if (nbytes <= nbytes_) return;
  VT_CHECK(allocator_ != nullptr,
           "Trying to resize storage that is not resizable (it wraps memory vibetensor does not own)");
  DataPtr fresh = allocator_->allocate(nbytes);
  if (nbytes_ > 0) std::memcpy(fresh.data, data_ptr_.data, nbytes_);
  if (data_ptr_.deleter) data_ptr_.deleter(data_ptr_.context);
  data_ptr_ = fresh;
  nbytes_ = nbytes;
}

}  // namespace vt
