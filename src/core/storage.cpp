// Storage and the default CPU allocator.
#include "vt/storage.h"

#include <atomic>
#include <map>
#include <mutex>
#include <cstdlib>
#include <cstring>
#include <new>

#include "vt/cuda.h"
#include "vt/error.h"

namespace vt {

namespace {

// Large blocks are kept after free and handed out again for the same size: a fresh 64 MiB
// block costs 16k page faults on first touch, which is most of the time of a large
// elementwise op. The cache is bounded; small blocks go straight to malloc, which reuses
// them well already.
class LargeBlockCache {
 public:
  static constexpr size_t kMinBlock = size_t{1} << 16;  // 64 KiB: malloc would mmap and fault these anew
  static constexpr size_t kLimit = size_t{1} << 30;     // at most 1 GiB kept

  void* take(size_t nbytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = blocks_.find(nbytes);
    if (it == blocks_.end()) return nullptr;
    void* data = it->second;
    blocks_.erase(it);
    cached_ -= nbytes;
    return data;
  }
  // Returns false when the block should be freed instead.
  bool keep(void* data, size_t nbytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (cached_ + nbytes > kLimit) return false;
    blocks_.emplace(nbytes, data);
    cached_ += nbytes;
    return true;
  }

 private:
  std::mutex mutex_;
  std::multimap<size_t, void*> blocks_;
  size_t cached_ = 0;
};

LargeBlockCache& large_blocks() {
  static LargeBlockCache* cache = new LargeBlockCache();  // outlives every tensor
  return *cache;
}

struct LargeBlock {
  void* data;
  size_t nbytes;
};

void release_large_block(void* context) {
  auto* block = static_cast<LargeBlock*>(context);
  if (!large_blocks().keep(block->data, block->nbytes)) std::free(block->data);
  delete block;
}

class AlignedCpuAllocator final : public Allocator {
 public:
  DataPtr allocate(size_t nbytes) override {
    if (nbytes == 0) return {};
    // aligned_alloc wants a multiple of the alignment.
    size_t rounded = (nbytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
    if (rounded < LargeBlockCache::kMinBlock) {
      void* data = std::aligned_alloc(kCpuAlignment, rounded);
      VT_CHECK(data != nullptr, "CPU out of memory: tried to allocate ", nbytes, " bytes");
      return {data, data, &std::free};
    }
    void* data = large_blocks().take(rounded);
    if (!data) data = std::aligned_alloc(kCpuAlignment, rounded);
    VT_CHECK(data != nullptr, "CPU out of memory: tried to allocate ", nbytes, " bytes");
    return {data, new LargeBlock{data, rounded}, &release_large_block};
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
  if (device.is_cuda()) {
    // "cuda" means the current device; storage always names its device.
    device = Device(DeviceType::CUDA, cuda::resolve_device(device.index));
    Allocator* allocator = cuda::device_allocator(device.index);
    return Storage::make(allocator->allocate(nbytes), nbytes, device, allocator);
  }
  Allocator* allocator = cpu_allocator();
  return Storage::make(allocator->allocate(nbytes), nbytes, device, allocator);
}

void StorageImpl::resize(size_t nbytes) {
  if (nbytes <= nbytes_) return;
  VT_CHECK(allocator_ != nullptr,
           "Trying to resize storage that is not resizable (it wraps memory vibetensor does not own)");
  DataPtr fresh = allocator_->allocate(nbytes);
  if (nbytes_ > 0 && device_.is_cuda()) {
    cuda::copy_device_bytes(fresh.data, data_ptr_.data, nbytes_, device_.index);
  } else if (nbytes_ > 0) {
    std::memcpy(fresh.data, data_ptr_.data, nbytes_);
  }
  if (data_ptr_.deleter) data_ptr_.deleter(data_ptr_.context);
  data_ptr_ = fresh;
  nbytes_ = nbytes;
}

}  // namespace vt
