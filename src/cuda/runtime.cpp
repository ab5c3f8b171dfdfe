// Devices, streams and events through the CUDA runtime API.
#include <cuda_runtime_api.h>

#include <array>
#include <cstdio>
#include <mutex>
#include <vector>

#include "src/cuda/cuda_check.h"
#include "vt/cuda.h"

namespace vt::cuda {

bool is_built() { return true; }

int device_count() {
  // Asked once: the answer cannot change while the process runs, and the query is slow.
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();  // clear the sticky error: "no driver" is an answer, not a failure
      return 0;
    }
    return n;
  }();
  return count;
}

namespace {

constexpr int kMaxDevices = 64;

void check_device_index(int device) {
  const int count = device_count();
  VT_CHECK(count > 0, "CUDA error: no CUDA-capable device is detected (vibetensor.cuda.is_available() is False)");
  VT_CHECK_VALUE(device >= 0 && device < count, "Invalid device ordinal ", device, ": this machine has ", count,
                 " CUDA device", count == 1 ? "" : "s");
}

// The current stream of each device, per thread; null entries mean the default stream.
thread_local std::array<void*, kMaxDevices> t_current_streams{};

}  // namespace

int resolve_device(int device) {
  if (device < 0) return current_device();
  check_device_index(device);
  return device;
}

// The driver's current device, asked each time (cudaGetDevice reads the runtime's
// thread-local state): a copy kept here would go stale when another library in the process,
// such as PyTorch, changes it.
int current_device() {
  check_device_index(0);
  int device = 0;
  VT_CUDA_CHECK(cudaGetDevice(&device));
  return device;
}

void set_device(int device) {
  check_device_index(device);
  int current = 0;
  VT_CUDA_CHECK(cudaGetDevice(&current));
  if (device != current) VT_CUDA_CHECK(cudaSetDevice(device));
}

DeviceProperties device_properties(int device) {
  device = resolve_device(device);
  cudaDeviceProp prop{};
  VT_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  DeviceProperties out;
  out.name = prop.name;
  out.major = prop.major;
  out.minor = prop.minor;
  out.total_memory = prop.totalGlobalMem;
  out.multi_processor_count = prop.multiProcessorCount;
  out.l2_cache_size = prop.l2CacheSize;
  out.warp_size = prop.warpSize;
  out.max_threads_per_multi_processor = prop.maxThreadsPerMultiProcessor;
  char uuid[64];
  const auto* b = reinterpret_cast<const unsigned char*>(prop.uuid.bytes);
  std::snprintf(uuid, sizeof uuid, "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  out.uuid = uuid;
  return out;
}

void synchronize(int device) {
  DeviceGuard guard(resolve_device(device));
  VT_CUDA_CHECK(cudaDeviceSynchronize());
}

DeviceGuard::DeviceGuard(int device) : previous_(current_device()) { set_device(device); }
DeviceGuard::~DeviceGuard() { set_device(previous_); }

// ---- streams

Stream Stream::create(int device, int priority) {
  device = resolve_device(device);
  DeviceGuard guard(device);
  int least = 0, greatest = 0;
  VT_CUDA_CHECK(cudaDeviceGetStreamPriorityRange(&least, &greatest));
  // Clamp into the device's range, as torch does (its priorities are 0 and negative).
  priority = std::max(greatest, std::min(least, priority));
  cudaStream_t handle = nullptr;
  VT_CUDA_CHECK(cudaStreamCreateWithPriority(&handle, cudaStreamNonBlocking, priority));
  return Stream(device, handle);
}

bool Stream::query() const {
  DeviceGuard guard(device_);
  return VT_CUDA_READY(cudaStreamQuery(static_cast<cudaStream_t>(handle_)));
}

void Stream::synchronize() const {
  DeviceGuard guard(device_);
  VT_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(handle_)));
}

int Stream::priority() const {
  DeviceGuard guard(device_);
  int priority = 0;
  VT_CUDA_CHECK(cudaStreamGetPriority(static_cast<cudaStream_t>(handle_), &priority));
  return priority;
}

void Stream::wait_stream(const Stream& other) const {
  if (other == *this) return;
  Event marker;
  marker.record(other);
  marker.wait(*this);
}

Stream default_stream(int device) { return Stream(resolve_device(device), nullptr); }

Stream current_stream(int device) {
  device = resolve_device(device);
  return Stream(device, t_current_streams[device]);
}

void set_current_stream(const Stream& stream) {
  check_device_index(stream.device());
  t_current_streams[stream.device()] = stream.handle();
}

StreamGuard::StreamGuard(const Stream& stream)
    : previous_device_(current_device()), previous_stream_(current_stream(stream.device())) {
  set_device(stream.device());
  set_current_stream(stream);
}

StreamGuard::~StreamGuard() {
  set_current_stream(previous_stream_);
  set_device(previous_device_);
}

// ---- events

struct Event::State {
  unsigned flags;
  cudaEvent_t event = nullptr;
  int device = -1;
  bool recorded = false;
  ~State() {
    if (event) {
      DeviceGuard guard(device);
      cudaEventDestroy(event);  // no throw from a destructor; a failure here leaks one event
    }
  }
};

Event::Event(bool enable_timing, bool blocking, bool interprocess) : state_(std::make_shared<State>()) {
  state_->flags = (enable_timing ? cudaEventDefault : cudaEventDisableTiming) | (blocking ? cudaEventBlockingSync : 0) |
                  (interprocess ? cudaEventInterprocess : 0);
}

void Event::record(const Stream& stream) {
  DeviceGuard guard(stream.device());
  if (!state_->event) {
    VT_CUDA_CHECK(cudaEventCreateWithFlags(&state_->event, state_->flags));
    state_->device = stream.device();
  }
  VT_CHECK(state_->device == stream.device(), "Event device ", state_->device, " does not match recording stream's device ",
           stream.device(), ".");
  VT_CUDA_CHECK(cudaEventRecord(state_->event, static_cast<cudaStream_t>(stream.handle())));
  state_->recorded = true;
}

void Event::wait(const Stream& stream) const {
  if (!state_->event) return;  // torch: waiting on an unrecorded event is a no-op
  DeviceGuard guard(stream.device());
  VT_CUDA_CHECK(cudaStreamWaitEvent(static_cast<cudaStream_t>(stream.handle()), state_->event, 0));
}

bool Event::query() const {
  if (!state_->event) return true;
  DeviceGuard guard(state_->device);
  return VT_CUDA_READY(cudaEventQuery(state_->event));
}

void Event::synchronize() const {
  if (!state_->event) return;
  DeviceGuard guard(state_->device);
  VT_CUDA_CHECK(cudaEventSynchronize(state_->event));
}

float Event::elapsed_time(const Event& end) const {
  VT_CHECK(state_->recorded && end.state_->recorded,
           "elapsed_time(): both events must be recorded before calculating elapsed time.");
  VT_CHECK((state_->flags & cudaEventDisableTiming) == 0 && (end.state_->flags & cudaEventDisableTiming) == 0,
           "elapsed_time(): both events must be created with enable_timing=True.");
  DeviceGuard guard(state_->device);
  float ms = 0;
  VT_CUDA_CHECK(cudaEventElapsedTime(&ms, state_->event, end.state_->event));
  return ms;
}

bool Event::is_created() const { return state_->event != nullptr; }
void* Event::handle() const { return state_->event; }

}  // namespace vt::cuda
