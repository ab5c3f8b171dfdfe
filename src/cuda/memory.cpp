// Device memory for CUDA storage: one caching allocator per device over cudaMalloc/cudaFree,
// serving each request on the device's current stream; and page-locked host memory.
#include <cuda_runtime_api.h>

#include <memory>
#include <vector>

#include "src/cuda/caching_allocator.h"
#include "src/cuda/cuda_check.h"
#include "src/cuda/memory.h"
#include "vt/cuda.h"
#include "vt/ops.h"
#include "vt/tensor_impl.h"

namespace vt::cuda {
namespace {

class CudaMemoryBackend final : public MemoryBackend {
 public:
  explicit CudaMemoryBackend(int device) : device_(device) {}

  void* raw_allocate(size_t nbytes) override {
    DeviceGuard guard(device_);
    void* ptr = nullptr;
    // While a graph is being captured in global mode, cudaMalloc counts as unsafe and fails;
    // the allocator's private pools make it safe, so this thread relaxes the mode around it.
    cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
    VT_CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
    const cudaError_t status = cudaMalloc(&ptr, nbytes);
    VT_CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      return nullptr;
    }
    VT_CUDA_CHECK(status);
    return ptr;
  }
  void raw_free(void* ptr) override {
    DeviceGuard guard(device_);
    VT_CUDA_CHECK(cudaFree(ptr));
  }
  void* record_marker(StreamHandle stream) override {
    DeviceGuard guard(device_);
    cudaEvent_t event = nullptr;
    VT_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
    VT_CUDA_CHECK(cudaEventRecord(event, static_cast<cudaStream_t>(stream)));
    return event;
  }
  bool marker_done(void* marker) override {
    DeviceGuard guard(device_);
    return VT_CUDA_READY(cudaEventQuery(static_cast<cudaEvent_t>(marker)));
  }
  void destroy_marker(void* marker) override {
    DeviceGuard guard(device_);
    VT_CUDA_CHECK(cudaEventDestroy(static_cast<cudaEvent_t>(marker)));
  }
  void synchronize() override {
    DeviceGuard guard(device_);
    VT_CUDA_CHECK(cudaDeviceSynchronize());
  }
  uint64_t capture_id(StreamHandle stream) override {
    if (stream == nullptr) return 0;  // the legacy stream never takes part in a capture
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    unsigned long long id = 0;
    VT_CUDA_CHECK(cudaStreamGetCaptureInfo(static_cast<cudaStream_t>(stream), &status, &id));
    return status == cudaStreamCaptureStatusActive ? id : 0;
  }
  size_t total_memory() override {
    DeviceGuard guard(device_);
    size_t free_bytes = 0, total = 0;
    VT_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total));
    return total;
  }

 private:
  int device_;
};

struct DeviceBlock {
  CachingAllocator* allocator;
  void* ptr;
};

void free_device_block(void* context) {
  auto* block = static_cast<DeviceBlock*>(context);
  block->allocator->free(block->ptr);
  delete block;
}

// The vt::Allocator of one device: storage memory on the device's current stream.
class DeviceStorageAllocator final : public Allocator {
 public:
  DeviceStorageAllocator(int device, CachingAllocator& cache) : device_(device), cache_(cache) {}
  DataPtr allocate(size_t nbytes) override {
    if (nbytes == 0) return {};
    void* ptr = cache_.allocate(nbytes, current_stream(device_).handle());
    return {ptr, new DeviceBlock{&cache_, ptr}, &free_device_block};
  }

 private:
  int device_;
  CachingAllocator& cache_;
};

// Page-locked host memory straight from the driver (cudaHostAlloc).
class PinnedHostAllocator final : public Allocator {
 public:
  DataPtr allocate(size_t nbytes) override {
    if (nbytes == 0) return {};
    VT_CHECK(device_count() > 0, "pin_memory(): no CUDA device is available to pin memory for");
    void* ptr = nullptr;
    VT_CUDA_CHECK(cudaHostAlloc(&ptr, nbytes, cudaHostAllocDefault));
    return {ptr, ptr, &free_pinned};
  }

 private:
  static void free_pinned(void* ptr) { cudaFreeHost(ptr); }
};

// Each device's caching allocator and the storage allocator over it, made once for all
// devices on first use (no lock on the allocation path after that). Leaked on purpose:
// tensors freed during interpreter shutdown still return their blocks.
struct DeviceMemory {
  CachingAllocator cache;
  DeviceStorageAllocator storage;
  explicit DeviceMemory(int device)
      : cache(device, std::make_unique<CudaMemoryBackend>(device)), storage(device, cache) {}
};

DeviceMemory& device_memory(int device) {
  static const std::vector<DeviceMemory*>* all = [] {
    auto* devices = new std::vector<DeviceMemory*>();
    for (int d = 0; d < device_count(); ++d) devices->push_back(new DeviceMemory(d));
    return devices;
  }();
  return *(*all)[resolve_device(device)];
}

}  // namespace

CachingAllocator& caching_allocator(int device) { return device_memory(device).cache; }

Allocator* device_allocator(int device) { return &device_memory(device).storage; }

Allocator* pinned_host_allocator() {
  static PinnedHostAllocator* allocator = new PinnedHostAllocator();
  return allocator;
}

Tensor pin_memory(const Tensor& self) {
  VT_CHECK(self.device().is_cpu(), "pin_memory(): cannot pin '", self.device().str(), "' memory: only CPU tensors can be pinned");
  Allocator* allocator = pinned_host_allocator();
  const size_t nbytes = static_cast<size_t>(self.numel()) * itemsize(self.dtype());
  Storage storage = Storage::make(allocator->allocate(nbytes), nbytes, Device(), allocator);
  Tensor pinned(IntrusivePtr<TensorImpl>::make(storage, self.dtype(), self.sizes(), contiguous_strides(self.sizes()), 0));
  return copy_(pinned, self);
}

bool is_pinned(const void* ptr) {
  if (ptr == nullptr || device_count() == 0) return false;
  cudaPointerAttributes attributes{};
  if (cudaPointerGetAttributes(&attributes, ptr) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return attributes.type == cudaMemoryTypeHost;
}

void copy_device_bytes(void* dst, const void* src, size_t nbytes, int device) {
  DeviceGuard guard(device);
  VT_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToDevice,
                                static_cast<cudaStream_t>(current_stream(device).handle())));
}

void record_stream(const Storage& storage, const Stream& stream) {
  VT_CHECK(storage->device().is_cuda(), "record_stream(): the tensor is not on a CUDA device");
  // Memory from elsewhere (DLPack) is not the allocator's: its owner decides when it is freed.
  if (storage->data() == nullptr || storage->allocator() == nullptr) return;
  caching_allocator(storage->device().index).record_stream(storage->data(), stream.handle());
}

}  // namespace vt::cuda
