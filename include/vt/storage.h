// Storage: a refcounted block of device memory that tensors view. The memory comes from a
// pluggable Allocator; the version counter lives here so every view of the block shares it.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "vt/device.h"
#include "vt/intrusive_ptr.h"

namespace vt {

// A pointer to memory plus how to give it back. `context` is what the deleter receives:
// an allocator's bookkeeping, or a foreign owner (a numpy array, a DLPack capsule).
struct DataPtr {
  void* data = nullptr;
  void* context = nullptr;
  void (*deleter)(void* context) = nullptr;
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual DataPtr allocate(size_t nbytes) = 0;
};

// The CPU allocator: 64-byte aligned, so vector loads never straddle a cache line.
Allocator* cpu_allocator();
// Replaces the CPU allocator (tests, instrumentation). Returns the previous one.
Allocator* set_cpu_allocator(Allocator* allocator);
constexpr size_t kCpuAlignment = 64;

class StorageImpl : public RefCounted {
 public:
  StorageImpl(DataPtr data_ptr, size_t nbytes, Device device, Allocator* allocator)
      : data_ptr_(data_ptr), nbytes_(nbytes), device_(device), allocator_(allocator) {}
  ~StorageImpl() override {
    if (data_ptr_.deleter) data_ptr_.deleter(data_ptr_.context);
  }

  void* data() const { return data_ptr_.data; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  Allocator* allocator() const { return allocator_; }  // null for foreign memory
  bool resizable() const { return allocator_ != nullptr; }
  // Grows the block (contents are kept); used when an `out=` tensor must be resized.
  void resize(size_t nbytes);

  // Bumped by every in-place write through any view of this storage; autograd compares it
  // with the version it saved.
  uint64_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  DataPtr data_ptr_;
  size_t nbytes_;
  Device device_;
  Allocator* allocator_;
  std::atomic<uint64_t> version_{0};
};

using Storage = IntrusivePtr<StorageImpl>;

// New storage of `nbytes` from the device's allocator.
Storage make_storage(size_t nbytes, Device device);

}  // namespace vt
