// CUDA graphs: record the kernels a stretch of code queues on a stream once, then replay them
// with one launch. Memory allocated while capturing comes from a private pool of the caching
// allocator that lives as long as the graph (graphs may share a pool), so the addresses baked
// into the graph stay valid and belong to nobody else.
#pragma once
#include <cstdint>

namespace vt::cuda {

using MempoolId = uint64_t;  // 0: none given (capture_begin makes a new pool)

// A fresh id for a pool that several graphs can share (torch.cuda.graph_pool_handle()).
MempoolId graph_pool_handle();

// Whether the current stream of the current device is being captured.
bool is_current_stream_capturing();

class CUDAGraph {
 public:
  CUDAGraph() = default;
  ~CUDAGraph();
  CUDAGraph(const CUDAGraph&) = delete;
  CUDAGraph& operator=(const CUDAGraph&) = delete;

  // Starts capturing the current stream (not the default stream: legacy-stream work cannot be
  // captured). Allocations on that stream go to `pool` (a new pool when 0).
  void capture_begin(MempoolId pool = 0);
  // Ends the capture and instantiates the graph. After an error inside the capture, it ends
  // the capture, drops what was recorded and raises.
  void capture_end();
  // Launches the graph on the current stream.
  void replay();
  // Frees the graph and gives up its pool.
  void reset();
  MempoolId pool() const { return pool_; }

 private:
  void* graph_ = nullptr;  // cudaGraph_t
  void* exec_ = nullptr;   // cudaGraphExec_t
  void* capture_stream_ = nullptr;
  int device_ = -1;
  MempoolId pool_ = 0;
  bool capturing_ = false;
  bool holds_pool_ = false;
};

}  // namespace vt::cuda
