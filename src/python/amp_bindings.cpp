// Autocast's per-thread state from Python (vibetensor.amp.autocast builds the context manager
// on these, under torch's names: torch._C's set_autocast_enabled, get_autocast_dtype, ...).
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "src/python/bindings.h"
#include "src/python/convert.h"
#include "vt/autocast.h"

namespace vt::python {
namespace {

DeviceType device_type_of(std::string_view name) {
  if (name == "cpu") return DeviceType::CPU;
  if (name == "cuda") return DeviceType::CUDA;
  fail(ErrorKind::Value, "autocast: device_type must be 'cpu' or 'cuda', got '", name, "'");
}

const char* policy_name(autocast::Policy policy) {
  switch (policy) {
    case autocast::Policy::LowerPrecision: return "lower_precision_fp";
    case autocast::Policy::Float32: return "fp32";
    case autocast::Policy::Promote: return "promote";
    default: return "none";
  }
}

}  // namespace

void bind_autocast(nb::module_& m) {
  m.def("set_autocast_enabled", [](std::string_view device, bool enabled) {
    autocast::set_enabled(device_type_of(device), enabled);
  }, nb::arg("device_type"), nb::arg("enabled"));
  m.def("is_autocast_enabled", [](std::string_view device) { return autocast::is_enabled(device_type_of(device)); },
        nb::arg("device_type") = "cuda");
  m.def("set_autocast_dtype", [](std::string_view device, DType dtype) {
    autocast::set_dtype(device_type_of(device), dtype.type);
  }, nb::arg("device_type"), nb::arg("dtype"));
  m.def("get_autocast_dtype", [](std::string_view device) { return dtype_object(autocast::dtype(device_type_of(device))); },
        nb::arg("device_type"));
  // (op, device type, policy) for every op autocast casts.
  m.def("_autocast_policies", [] {
    std::vector<std::tuple<std::string, std::string, std::string>> out;
    for (const autocast::Entry& e : autocast::policies()) {
      out.emplace_back(e.op, e.device == DeviceType::CUDA ? "cuda" : "cpu", policy_name(e.policy));
    }
    return out;
  });
}

}  // namespace vt::python
