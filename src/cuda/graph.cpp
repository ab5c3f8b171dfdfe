// CUDA graph capture and replay through the runtime API, with the caching allocator steering
// the captured allocations into the graph's private pool.
#include "vt/cuda_graph.h"

#include <cuda_runtime_api.h>

#include <atomic>

#include "src/cuda/cuda_check.h"
#include "src/cuda/memory.h"
#include "vt/cuda.h"

namespace vt::cuda {

MempoolId graph_pool_handle() {
  static std::atomic<MempoolId> next{1};
  return next.fetch_add(1);
}

bool is_current_stream_capturing() {
  if (device_count() == 0) return false;
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  VT_CUDA_CHECK(cudaStreamIsCapturing(static_cast<cudaStream_t>(current_stream().handle()), &status));
  return status == cudaStreamCaptureStatusActive;
}

CUDAGraph::~CUDAGraph() {
  try {
    reset();
  } catch (...) {  // a destructor must not throw; the driver has already reported the error
  }
}

void CUDAGraph::capture_begin(MempoolId pool) {
  VT_CHECK(!capturing_, "CUDAGraph.capture_begin(): this graph is already capturing");
  VT_CHECK(exec_ == nullptr, "CUDAGraph.capture_begin(): this graph already holds a capture; call reset() first");
  device_ = current_device();
  const Stream stream = current_stream(device_);
  VT_CHECK(stream.handle() != nullptr,
           "CUDA graphs must be captured on a non-default stream (use vibetensor.cuda.graph(), or capture inside "
           "`with vibetensor.cuda.stream(s):`)");
  capture_stream_ = stream.handle();
  pool_ = pool != 0 ? pool : graph_pool_handle();
  CachingAllocator& allocator = caching_allocator(device_);
  allocator.begin_allocate_to_pool(pool_, capture_stream_);
  holds_pool_ = true;
  // Global mode, as torch's default: a call anywhere in the process that could break the
  // capture (a synchronize, a copy to pageable host memory) fails instead of corrupting it.
  const cudaError_t status =
      cudaStreamBeginCapture(static_cast<cudaStream_t>(capture_stream_), cudaStreamCaptureModeGlobal);
  if (status != cudaSuccess) {
    allocator.end_allocate_to_pool(capture_stream_);
    VT_CUDA_CHECK(status);
  }
  capturing_ = true;
}

void CUDAGraph::capture_end() {
  VT_CHECK(capturing_, "CUDAGraph.capture_end(): capture_begin() was not called");
  DeviceGuard guard(device_);
  cudaGraph_t graph = nullptr;
  const cudaError_t status = cudaStreamEndCapture(static_cast<cudaStream_t>(capture_stream_), &graph);
  capturing_ = false;
  caching_allocator(device_).end_allocate_to_pool(capture_stream_);
  if (status != cudaSuccess) {
    cudaGetLastError();
    if (graph) cudaGraphDestroy(graph);
    fail(ErrorKind::Runtime, "CUDA graph capture failed: ", cudaGetErrorString(status),
         ". An operation that is not allowed during capture ran on the capturing stream or elsewhere in the "
         "process (a synchronize, a copy between the device and pageable host memory, reading a value with "
         "item() or tolist()).");
  }
  graph_ = graph;
  cudaGraphExec_t exec = nullptr;
  VT_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  exec_ = exec;
}

void CUDAGraph::replay() {
  VT_CHECK(exec_ != nullptr, "CUDAGraph.replay(): nothing was captured (call capture_begin() and capture_end())");
  DeviceGuard guard(device_);
  VT_CUDA_CHECK(cudaGraphLaunch(static_cast<cudaGraphExec_t>(exec_),
                                static_cast<cudaStream_t>(current_stream(device_).handle())));
}

void CUDAGraph::reset() {
  VT_CHECK(!capturing_, "CUDAGraph.reset(): the graph is still capturing");
  if (device_ < 0) return;
  DeviceGuard guard(device_);
  if (exec_) VT_CUDA_CHECK(cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(exec_)));
  if (graph_) VT_CUDA_CHECK(cudaGraphDestroy(static_cast<cudaGraph_t>(graph_)));
  exec_ = graph_ = nullptr;
  if (holds_pool_) {
    // Replays may still be queued: the pool's memory is handed back only after they ran.
    VT_CUDA_CHECK(cudaDeviceSynchronize());
    caching_allocator(device_).release_pool(pool_);
    holds_pool_ = false;
  }
}

}  // namespace vt::cuda
