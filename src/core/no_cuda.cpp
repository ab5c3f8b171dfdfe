// The CUDA runtime of a build without the CUDA backend: there are no devices, and everything
// that needs one says so.
#include "src/cuda/memory.h"
#include "vt/cuda.h"
#include "vt/cuda_graph.h"
#include "vt/error.h"

namespace vt::cuda {
namespace {
[[noreturn]] void no_cuda() {
  fail(ErrorKind::Runtime, "vibetensor was built without CUDA support (the CUDA toolkit was not found at build time)");
}
}  // namespace

bool is_built() { return false; }
int device_count() { return 0; }
int current_device() { no_cuda(); }
void set_device(int) { no_cuda(); }
int resolve_device(int) { no_cuda(); }
DeviceProperties device_properties(int) { no_cuda(); }
void synchronize(int) { no_cuda(); }

Stream Stream::create(int, int) { no_cuda(); }
bool Stream::query() const { no_cuda(); }
void Stream::synchronize() const { no_cuda(); }
int Stream::priority() const { no_cuda(); }
void Stream::wait_stream(const Stream&) const { no_cuda(); }
Stream default_stream(int) { no_cuda(); }
Stream current_stream(int) { no_cuda(); }
void set_current_stream(const Stream&) { no_cuda(); }
StreamGuard::StreamGuard(const Stream&) : previous_device_(0), previous_stream_(0, nullptr) { no_cuda(); }
StreamGuard::~StreamGuard() = default;
DeviceGuard::DeviceGuard(int) : previous_(0) { no_cuda(); }
DeviceGuard::~DeviceGuard() = default;

struct Event::State {};
Event::Event(bool, bool, bool) { no_cuda(); }
void Event::record(const Stream&) { no_cuda(); }
void Event::wait(const Stream&) const { no_cuda(); }
bool Event::query() const { no_cuda(); }
void Event::synchronize() const { no_cuda(); }
float Event::elapsed_time(const Event&) const { no_cuda(); }
bool Event::is_created() const { no_cuda(); }
void* Event::handle() const { no_cuda(); }

CachingAllocator& caching_allocator(int) { no_cuda(); }
Allocator* device_allocator(int) { no_cuda(); }
Allocator* pinned_host_allocator() { no_cuda(); }
void copy_device_bytes(void*, const void*, size_t, int) { no_cuda(); }
Tensor pin_memory(const Tensor&) { no_cuda(); }
bool is_pinned(const void*) { return false; }
int cudnn_version() { return 0; }
void record_stream(const Storage&, const Stream&) { no_cuda(); }

MempoolId graph_pool_handle() { no_cuda(); }
bool is_current_stream_capturing() { return false; }
CUDAGraph::~CUDAGraph() = default;
void CUDAGraph::capture_begin(MempoolId) { no_cuda(); }
void CUDAGraph::capture_end() { no_cuda(); }
void CUDAGraph::replay() { no_cuda(); }
void CUDAGraph::reset() {}

}  // namespace vt::cuda
