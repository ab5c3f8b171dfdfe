// The CUDA runtime as the core and the frontends see it: devices, streams, events and device
// memory, with no CUDA header in sight (streams and events are opaque handles). A build
// without CUDA answers "no devices" and raises a clear error for everything else; a CUDA
// build asks the driver, so it also answers "no devices" on a machine without a GPU.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "vt/storage.h"
#include "vt/tensor.h"

namespace vt::cuda {

// Whether this build has the CUDA backend compiled in.
bool is_built();
// Number of usable CUDA devices (0 when none, or when the driver is missing).
int device_count();
inline bool is_available() { return device_count() > 0; }

// The calling thread's current device (0 until set_device), and setting it. Both fail with a
// clear error when there is no device or the index is out of range.
int current_device();
void set_device(int device);
// `device` itself, or the current device for -1; checked against device_count().
int resolve_device(int device);

struct DeviceProperties {
  std::string name;
  int major = 0, minor = 0;  // compute capability
  size_t total_memory = 0;
  int multi_processor_count = 0;
  int l2_cache_size = 0;
  int warp_size = 0;
  int max_threads_per_multi_processor = 0;
  std::string uuid;  // "GPU-xxxxxxxx-xxxx-..."
};
DeviceProperties device_properties(int device);

// Waits until every queued operation on the device has completed.
void synchronize(int device = -1);

// Settings of the matrix products on CUDA (torch.backends.cuda.matmul), kept in every build:
// whether float32 products may round their inputs to TF32 for the tensor cores (off by
// default, as in torch), and whether float16/bfloat16 products may reduce split-K partial
// sums in their own precision rather than in float32 (on by default, as in torch).
enum class MatmulFlag { AllowTF32, AllowFP16ReducedPrecisionReduction, AllowBF16ReducedPrecisionReduction };
bool matmul_flag(MatmulFlag flag);
void set_matmul_flag(MatmulFlag flag, bool value);

// Settings of the cuDNN convolutions (torch.backends.cudnn), kept in every build: whether
// cuDNN runs them at all, whether float32 ones may use TF32 (on by default, as in torch),
// whether each new shape benchmarks the algorithms instead of asking cuDNN's heuristics, and
// whether only deterministic algorithms may be chosen.
enum class CudnnFlag { Enabled, AllowTF32, Benchmark, Deterministic };
bool cudnn_flag(CudnnFlag flag);
void set_cudnn_flag(CudnnFlag flag, bool value);
// The version of the cuDNN the build uses (90000 + 100 * minor + patch for 9.x), 0 without one.
int cudnn_version();

// A queue of work on one device: a value type over the cudaStream_t handle. The default
// stream of a device is the legacy null stream (handle 0), as in PyTorch.
class Stream {
 public:
  Stream(int device, void* handle) : device_(device), handle_(handle) {}
  // A new stream on `device` (-1: current); lower priority numbers run first (torch: -1 high,
  // 0 low). Streams live for the whole process, like PyTorch's pooled streams.
  static Stream create(int device = -1, int priority = 0);

  int device() const { return device_; }
  void* handle() const { return handle_; }
  bool query() const;        // true when all its queued work has completed
  void synchronize() const;  // waits for all its queued work
  int priority() const;
  // This stream's later work waits for the work queued on `other` so far.
  void wait_stream(const Stream& other) const;
  bool operator==(const Stream& other) const { return device_ == other.device_ && handle_ == other.handle_; }

 private:
  int device_;
  void* handle_;
};

Stream default_stream(int device = -1);
// The calling thread's current stream on `device` (-1: current device); the default stream
// until set_current_stream.
Stream current_stream(int device = -1);
void set_current_stream(const Stream& stream);
// Sets the current device and its current stream for a scope, and puts both back.
class StreamGuard {
 public:
  explicit StreamGuard(const Stream& stream);
  ~StreamGuard();
  StreamGuard(const StreamGuard&) = delete;
  StreamGuard& operator=(const StreamGuard&) = delete;

 private:
  int previous_device_;
  Stream previous_stream_;
};
// Sets the current device for a scope.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_;
};

// A marker in a stream's work (cudaEvent_t); created lazily on first record, on the device
// of that stream. Shared ownership: copies refer to the same event.
class Event {
 public:
  explicit Event(bool enable_timing = false, bool blocking = false, bool interprocess = false);
  void record(const Stream& stream);
  // `stream`'s later work waits until this event's work has completed (no host wait).
  void wait(const Stream& stream) const;
  bool query() const;  // true when recorded work has completed (or never recorded)
  void synchronize() const;
  // Milliseconds between this event and `end`; both recorded, completed and timing-enabled.
  float elapsed_time(const Event& end) const;
  bool is_created() const;
  void* handle() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Device memory: the allocator behind CUDA storage (stream-ordered caching allocator, per
// device, on the current stream of that device), and page-locked host memory.
Allocator* device_allocator(int device);
Allocator* pinned_host_allocator();
// Copies nbytes within `device`'s memory, queued on its current stream.
void copy_device_bytes(void* dst, const void* src, size_t nbytes, int device);
// A copy of a CPU tensor in page-locked memory (transfers from it can run asynchronously).
Tensor pin_memory(const Tensor& self);
// Whether `ptr` is page-locked host memory (from pinned_host_allocator or registered).
bool is_pinned(const void* ptr);
// The storage's block is also used by `stream`: it is reused only after that stream's work
// queued by the time the storage is freed has completed.
void record_stream(const Storage& storage, const Stream& stream);

}  // namespace vt::cuda
