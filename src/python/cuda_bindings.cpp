// vibetensor._C's CUDA runtime: devices, streams, events, memory statistics and snapshots,
// and the Tensor methods that move memory (cuda, pin_memory, record_stream). The Python
// package (vibetensor/cuda) builds torch's API on these.
#include <nanobind/stl/function.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>

#include "src/cuda/memory.h"
#include "src/python/bindings.h"
#include "vt/cuda.h"
#include "vt/cuda_graph.h"

namespace vt::python {
namespace {

nb::dict stats_dict(const cuda::AllocatorStats& stats) {
  nb::dict out;
  auto put_counter = [&](const std::string& name, const std::string& pool, const cuda::StatCounter& c) {
    const std::string prefix = name + "." + pool + ".";
    out[(prefix + "current").c_str()] = c.current;
    out[(prefix + "peak").c_str()] = c.peak;
    out[(prefix + "allocated").c_str()] = c.allocated;
    out[(prefix + "freed").c_str()] = c.freed;
  };
  auto put_pool = [&](const std::string& pool, const cuda::PoolStats& p) {
    put_counter("allocated_bytes", pool, p.allocated_bytes);
    put_counter("reserved_bytes", pool, p.reserved_bytes);
    put_counter("active_bytes", pool, p.active_bytes);
    put_counter("inactive_split_bytes", pool, p.inactive_split_bytes);
    put_counter("requested_bytes", pool, p.requested_bytes);
    put_counter("allocation", pool, p.allocation);
    put_counter("segment", pool, p.segment);
    put_counter("active", pool, p.active);
    put_counter("inactive_split", pool, p.inactive_split);
  };
  put_pool("all", stats.all);
  put_pool("small_pool", stats.small_pool);
  put_pool("large_pool", stats.large_pool);
  out["num_alloc_retries"] = stats.num_alloc_retries;
  out["num_ooms"] = stats.num_ooms;
  out["num_sync_all_streams"] = stats.num_sync_all_streams;
  out["num_device_alloc"] = stats.num_device_alloc;
  out["num_device_free"] = stats.num_device_free;
  out["max_split_size"] = stats.max_split_size;
  return out;
}

// torch.cuda.memory_snapshot()'s shape: a list of segments, each with its blocks.
nb::list snapshot_list(int device) {
  nb::list segments;
  for (const cuda::SegmentSnapshot& s : cuda::caching_allocator(device).snapshot()) {
    nb::list blocks;
    for (const cuda::BlockSnapshot& b : s.blocks) {
      nb::dict block;
      block["address"] = b.address;
      block["size"] = b.size;
      block["requested_size"] = b.requested_size;
      block["state"] = b.allocated ? "active_allocated" : "inactive";
      nb::list frames;
      if (b.history) frames.append(*b.history);
      block["frames"] = frames;
      blocks.append(block);
    }
    nb::dict segment;
    segment["device"] = device;
    segment["address"] = s.address;
    segment["total_size"] = s.total_size;
    segment["allocated_size"] = s.allocated_size;
    segment["stream"] = reinterpret_cast<uintptr_t>(s.stream);
    segment["segment_type"] = s.is_small ? "small" : "large";
    segment["segment_pool_id"] = nb::make_tuple(0, s.pool);
    segment["blocks"] = blocks;
    segments.append(segment);
  }
  return segments;
}

// The Python stack of the allocating call, when the allocating thread holds the GIL (ops
// run from Python do; a thread without it records nothing rather than blocking).
std::shared_ptr<const std::string> python_stack() {
  if (!PyGILState_Check()) return nullptr;
  nb::object lines = nb::module_::import_("traceback").attr("format_stack")();
  std::string text;
  for (nb::handle line : lines) text += nb::cast<std::string>(line);
  return std::make_shared<const std::string>(std::move(text));
}

}  // namespace

void bind_cuda(nb::module_& m, nb::class_<Tensor>& cls) {
  m.def("_cuda_current_device", &cuda::current_device);
  m.def("_cuda_set_device", &cuda::set_device, nb::arg("device"));
  m.def("_cuda_synchronize", &cuda::synchronize, nb::arg("device") = -1);
  m.def("_cuda_get_device_properties", [](int device) {
    cuda::DeviceProperties p = cuda::device_properties(device);
    nb::dict out;
    out["name"] = p.name;
    out["major"] = p.major;
    out["minor"] = p.minor;
    out["total_memory"] = p.total_memory;
    out["multi_processor_count"] = p.multi_processor_count;
    out["L2_cache_size"] = p.l2_cache_size;
    out["warp_size"] = p.warp_size;
    out["max_threads_per_multi_processor"] = p.max_threads_per_multi_processor;
    out["uuid"] = p.uuid;
    return out;
  }, nb::arg("device"));

  nb::class_<cuda::Stream>(m, "_CudaStream")
      .def_static("create", &cuda::Stream::create, nb::arg("device") = -1, nb::arg("priority") = 0)
      .def_prop_ro("device_index", &cuda::Stream::device)
      .def_prop_ro("cuda_stream", [](const cuda::Stream& s) { return reinterpret_cast<uintptr_t>(s.handle()); })
      .def_prop_ro("priority", &cuda::Stream::priority)
      .def("query", &cuda::Stream::query)
      .def("synchronize", &cuda::Stream::synchronize)
      .def("wait_stream", &cuda::Stream::wait_stream, nb::arg("stream"))
      .def("__eq__", [](const cuda::Stream& a, nb::handle b) {
        return nb::isinstance<cuda::Stream>(b) && a == nb::cast<cuda::Stream>(b);
      })
      .def("__hash__", [](const cuda::Stream& s) { return reinterpret_cast<uintptr_t>(s.handle()) ^ s.device(); });
  m.def("_cuda_current_stream", &cuda::current_stream, nb::arg("device") = -1);
  m.def("_cuda_default_stream", &cuda::default_stream, nb::arg("device") = -1);
  m.def("_cuda_set_stream", &cuda::set_current_stream, nb::arg("stream"));

  nb::class_<cuda::Event>(m, "_CudaEvent")
      .def(nb::init<bool, bool, bool>(), nb::arg("enable_timing") = false, nb::arg("blocking") = false,
           nb::arg("interprocess") = false)
      .def("record", &cuda::Event::record, nb::arg("stream"))
      .def("wait", &cuda::Event::wait, nb::arg("stream"))
      .def("query", &cuda::Event::query)
      .def("synchronize", &cuda::Event::synchronize)
      .def("elapsed_time", &cuda::Event::elapsed_time, nb::arg("end_event"))
      .def_prop_ro("cuda_event", [](const cuda::Event& e) { return reinterpret_cast<uintptr_t>(e.handle()); });

  nb::class_<cuda::CUDAGraph>(m, "_CudaGraph")
      .def(nb::init<>())
      .def("capture_begin", &cuda::CUDAGraph::capture_begin, nb::arg("pool") = 0)
      .def("capture_end", &cuda::CUDAGraph::capture_end)
      .def("replay", &cuda::CUDAGraph::replay)
      .def("reset", &cuda::CUDAGraph::reset)
      .def("pool", &cuda::CUDAGraph::pool);
  m.def("_cuda_graph_pool_handle", &cuda::graph_pool_handle);
  m.def("_cuda_is_current_stream_capturing", &cuda::is_current_stream_capturing);

  m.def("_cuda_memory_stats", [](int device) { return stats_dict(cuda::caching_allocator(device).stats()); },
        nb::arg("device") = -1);
  m.def("_cuda_reset_peak_memory_stats", [](int device) { cuda::caching_allocator(device).reset_peak_stats(); },
        nb::arg("device") = -1);
  m.def("_cuda_reset_accumulated_memory_stats",
        [](int device) { cuda::caching_allocator(device).reset_accumulated_stats(); }, nb::arg("device") = -1);
  m.def("_cuda_empty_cache", [] {
    for (int d = 0; d < cuda::device_count(); ++d) cuda::caching_allocator(d).empty_cache();
  });
  m.def("_cuda_set_memory_fraction",
        [](double fraction, int device) { cuda::caching_allocator(device).set_memory_fraction(fraction); },
        nb::arg("fraction"), nb::arg("device") = -1);
  m.def("_cuda_memory_snapshot", [] {
    nb::list all;
    for (int d = 0; d < cuda::device_count(); ++d) {
      for (nb::handle segment : snapshot_list(d)) all.append(segment);
    }
    return all;
  });
  // torch._C's names for torch.backends.cuda.matmul's settings.
  using cuda::MatmulFlag;
  m.def("_get_cublas_allow_tf32", [] { return cuda::matmul_flag(MatmulFlag::AllowTF32); });
  m.def("_set_cublas_allow_tf32", [](bool allow) { cuda::set_matmul_flag(MatmulFlag::AllowTF32, allow); });
  m.def("_get_cublas_allow_fp16_reduced_precision_reduction",
        [] { return cuda::matmul_flag(MatmulFlag::AllowFP16ReducedPrecisionReduction); });
  m.def("_set_cublas_allow_fp16_reduced_precision_reduction",
        [](bool allow) { cuda::set_matmul_flag(MatmulFlag::AllowFP16ReducedPrecisionReduction, allow); });
  m.def("_get_cublas_allow_bf16_reduced_precision_reduction",
        [] { return cuda::matmul_flag(MatmulFlag::AllowBF16ReducedPrecisionReduction); });
  m.def("_set_cublas_allow_bf16_reduced_precision_reduction",
        [](bool allow) { cuda::set_matmul_flag(MatmulFlag::AllowBF16ReducedPrecisionReduction, allow); });
  // torch._C's names for torch.backends.cudnn's settings.
  using cuda::CudnnFlag;
  for (auto [name, flag] : {std::pair{"enabled", CudnnFlag::Enabled}, std::pair{"benchmark", CudnnFlag::Benchmark},
                            std::pair{"deterministic", CudnnFlag::Deterministic},
                            std::pair{"allow_tf32", CudnnFlag::AllowTF32}}) {
    m.def((std::string("_get_cudnn_") + name).c_str(), [flag] { return cuda::cudnn_flag(flag); });
    m.def((std::string("_set_cudnn_") + name).c_str(), [flag](bool value) { cuda::set_cudnn_flag(flag, value); });
  }
  m.def("_cudnn_version", [] { return cuda::cudnn_version(); });

  m.def("_cuda_record_memory_history", [](bool enabled) {
    for (int d = 0; d < cuda::device_count(); ++d) {
      cuda::caching_allocator(d).set_history_recorder(enabled ? &python_stack : nullptr);
    }
  }, nb::arg("enabled"));

  cls.def("pin_memory", [](const Tensor& t) { return cuda::pin_memory(t); })
      .def("is_pinned", [](const Tensor& t) { return t.device().is_cpu() && cuda::is_pinned(t.data_ptr()); })
      .def("_record_stream", [](const Tensor& t, const cuda::Stream& s) { cuda::record_stream(t.storage(), s); },
           nb::arg("stream"));
}

}  // namespace vt::python
