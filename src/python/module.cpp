// The `vibetensor._C` extension module: errors, dtypes, devices, factories and the
// registry's introspection. The Tensor class lives in tensor_bindings.cpp.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/vector.h>

#include "src/python/bindings.h"
#include "vt/autograd/meta.h"
#include "vt/cuda.h"
#include "vt/dispatch.h"
#include "vt/parallel.h"
#include "vt/profiler.h"

namespace vt::python {

namespace {

PyObject* g_size_type = nullptr;  // vibetensor.Size, set by the package at import
PyObject* g_out_of_memory_type = nullptr;  // vibetensor.OutOfMemoryError, a RuntimeError as in torch

void translate_error(const std::exception_ptr& p, void*) {
  try {
    std::rethrow_exception(p);
  } catch (const Error& e) {
    PyObject* type = PyExc_RuntimeError;
    switch (e.kind()) {
      case ErrorKind::Type: type = PyExc_TypeError; break;
      case ErrorKind::Value: type = PyExc_ValueError; break;
      case ErrorKind::Index: type = PyExc_IndexError; break;
      case ErrorKind::NotImplemented: type = PyExc_NotImplementedError; break;
      case ErrorKind::OutOfMemory: type = g_out_of_memory_type; break;
      case ErrorKind::Runtime: break;
    }
    PyErr_SetString(type, e.what());
  } catch (const std::bad_cast& e) {
    // A Python argument of the wrong type reached a C++ conversion (nb::cast).
    PyErr_SetString(PyExc_TypeError, "argument of the wrong type");
  }
}

using OptDType = std::optional<DType>;

// The `requires_grad=` argument of the factories.
Tensor with_requires_grad(Tensor t, bool requires_grad) {
  if (requires_grad) autograd::set_requires_grad(t, true);
  return t;
}

ScalarType dtype_or_default(const OptDType& d) { return d ? d->type : default_dtype(); }

void bind_dtype_and_device(nb::module_& m) {
  nb::class_<DType>(m, "dtype")
      .def_prop_ro("is_floating_point", [](const DType& d) { return is_floating_point(d.type); })
      .def_prop_ro("is_signed", [](const DType& d) { return is_signed(d.type); })
      .def_prop_ro("is_complex", [](const DType&) { return false; })
      .def_prop_ro("itemsize", [](const DType& d) { return itemsize(d.type); })
      .def("__repr__", [](const DType& d) { return "vibetensor." + std::string(dtype_name(d.type)); })
      .def("__eq__", [](const DType& a, nb::handle b) {
        return nb::isinstance<DType>(b) && nb::cast<DType>(b).type == a.type;
      })
      .def("__hash__", [](const DType& d) { return static_cast<int>(d.type); })
      .def("__reduce__", [](const DType& d) { return std::string(dtype_name(d.type)); });
  register_dtype_objects(m);
  for (auto [alias, type] : {std::pair{"float", ScalarType::Float32}, {"double", ScalarType::Float64},
                             {"half", ScalarType::Float16}, {"long", ScalarType::Int64},
                             {"int", ScalarType::Int32}, {"short", ScalarType::Int16}}) {
    m.attr(alias) = dtype_object(type);
  }

  nb::class_<Device>(m, "device")
      .def(nb::init<std::string_view>(), nb::arg("type"))
      .def("__init__", [](Device* self, std::string_view type, int index) {
        Device parsed(type);
        VT_CHECK(!parsed.has_index(), "type (string) must not include an index because index was passed explicitly: ", type);
        new (self) Device(parsed.type, index);
      }, nb::arg("type"), nb::arg("index"))
      .def("__init__", [](Device* self, const Device& other) { new (self) Device(other); })
      .def_prop_ro("type", [](const Device& d) { return std::string(device_type_name(d.type)); })
      .def_prop_ro("index", [](const Device& d) -> nb::object {
        return d.has_index() ? nb::object(nb::int_(d.index)) : nb::none();
      })
      .def("__str__", &Device::str)
      .def("__repr__", [](const Device& d) {
        std::string out = "device(type='" + std::string(device_type_name(d.type)) + "'";
        if (d.has_index()) out += ", index=" + std::to_string(d.index);
        return out + ")";
      })
      .def("__eq__", [](const Device& a, nb::handle b) { return nb::isinstance<Device>(b) && nb::cast<Device>(b) == a; })
      .def("__hash__", [](const Device& d) { return static_cast<int>(d.type) * 256 + d.index; });
  nb::implicitly_convertible<std::string_view, Device>();
}

void bind_factories(nb::module_& m) {
  auto device_or_cpu = [](const std::optional<Device>& d) { return d.value_or(Device()); };
  m.def("empty", [=](nb::args size, OptDType dtype, std::optional<Device> device, bool requires_grad) {
    return with_requires_grad(empty(sizes_from_args(size, "empty"), dtype_or_default(dtype), device_or_cpu(device)), requires_grad);
  }, nb::arg("size"), nb::arg("dtype") = nb::none(), nb::arg("device") = nb::none(), nb::arg("requires_grad") = false);
  m.def("zeros", [=](nb::args size, OptDType dtype, std::optional<Device> device, bool requires_grad) {
    return with_requires_grad(zeros(sizes_from_args(size, "zeros"), dtype_or_default(dtype), device_or_cpu(device)), requires_grad);
  }, nb::arg("size"), nb::arg("dtype") = nb::none(), nb::arg("device") = nb::none(), nb::arg("requires_grad") = false);
  m.def("ones", [=](nb::args size, OptDType dtype, std::optional<Device> device, bool requires_grad) {
    return with_requires_grad(ones(sizes_from_args(size, "ones"), dtype_or_default(dtype), device_or_cpu(device)), requires_grad);
  }, nb::arg("size"), nb::arg("dtype") = nb::none(), nb::arg("device") = nb::none(), nb::arg("requires_grad") = false);
  m.def("full", [=](std::vector<int64_t> size, Scalar value, OptDType dtype, std::optional<Device> device, bool requires_grad) {
    return with_requires_grad(full(size, value, dtype ? std::optional<ScalarType>(dtype->type) : std::nullopt, device_or_cpu(device)), requires_grad);
  }, nb::arg("size"), nb::arg("fill_value"), nb::kw_only(), nb::arg("dtype") = nb::none(), nb::arg("device") = nb::none(),
     nb::arg("requires_grad") = false);
  m.def("arange", [=](Scalar a, std::optional<Scalar> b, Scalar step, OptDType dtype, std::optional<Device> device, bool requires_grad) {
    // arange(end) or arange(start, end[, step])
    Scalar start = b ? a : Scalar(int64_t{0});
    Scalar end = b ? *b : a;
    return with_requires_grad(arange(start, end, step, dtype ? std::optional<ScalarType>(dtype->type) : std::nullopt, device_or_cpu(device)), requires_grad);
  }, nb::arg("start"), nb::arg("end") = nb::none(), nb::arg("step") = 1, nb::kw_only(), nb::arg("dtype") = nb::none(),
     nb::arg("device") = nb::none(), nb::arg("requires_grad") = false);

  // *_like: the input's dtype and device unless given.
  auto like = [](const Tensor& t, const OptDType& dtype, const std::optional<Device>& device) {
    return std::pair{dtype ? dtype->type : t.dtype(), device.value_or(t.device())};
  };
  m.def("empty_like", [=](const Tensor& t, OptDType dtype, std::optional<Device> device, bool requires_grad) {
    auto [type, dev] = like(t, dtype, device);
    return with_requires_grad(empty_like(t, type, dev), requires_grad);
  }, nb::arg("input"), nb::kw_only(), nb::arg("dtype") = nb::none(), nb::arg("device") = nb::none(), nb::arg("requires_grad") = false);
  m.def("zeros_like", [=](const Tensor& t, OptDType dtype, std::optional<Device> device, bool requires_grad) {
    auto [type, dev] = like(t, dtype, device);
    return with_requires_grad(fill_(empty_like(t, type, dev), 0), requires_grad);
  }, nb::arg("input"), nb::kw_only(), nb::arg("dtype") = nb::none(), nb::arg("device") = nb::none(), nb::arg("requires_grad") = false);
  m.def("ones_like", [=](const Tensor& t, OptDType dtype, std::optional<Device> device, bool requires_grad) {
    auto [type, dev] = like(t, dtype, device);
    return with_requires_grad(fill_(empty_like(t, type, dev), 1), requires_grad);
  }, nb::arg("input"), nb::kw_only(), nb::arg("dtype") = nb::none(), nb::arg("device") = nb::none(), nb::arg("requires_grad") = false);
  m.def("full_like", [=](const Tensor& t, Scalar value, OptDType dtype, std::optional<Device> device, bool requires_grad) {
    auto [type, dev] = like(t, dtype, device);
    return with_requires_grad(fill_(empty_like(t, type, dev), value), requires_grad);
  }, nb::arg("input"), nb::arg("fill_value"), nb::kw_only(), nb::arg("dtype") = nb::none(), nb::arg("device") = nb::none(),
     nb::arg("requires_grad") = false);

  m.def("tensor", [](nb::handle data, OptDType dtype, std::optional<Device> device, bool requires_grad) {
    return with_requires_grad(tensor_from_data(data, dtype ? std::optional<ScalarType>(dtype->type) : std::nullopt, device.value_or(Device())), requires_grad);
  }, nb::arg("data").none(), nb::kw_only(), nb::arg("dtype") = nb::none(), nb::arg("device") = nb::none(), nb::arg("requires_grad") = false);
  m.def("from_numpy", &from_numpy, nb::arg("ndarray"));
}

void bind_type_rules(nb::module_& m) {
  m.def("promote_types", [](DType a, DType b) { return dtype_object(promote_types(a.type, b.type)); });
  m.def("can_cast", [](DType from, DType to) { return can_cast(from.type, to.type); }, nb::arg("from_"), nb::arg("to"));
  m.def("result_type", [](nb::handle a, nb::handle b) {
    Tensor x = operand_or_raise(a, "result_type", "tensor1");
    Tensor y = operand_or_raise(b, "result_type", "tensor2");
    return dtype_object(result_type({&x, &y}));
  }, nb::arg("tensor1"), nb::arg("tensor2"));
  m.def("get_default_dtype", [] { return dtype_object(default_dtype()); });
  m.def("set_default_dtype", [](DType d) { set_default_dtype(d.type); }, nb::arg("d"));
  m.def("is_tensor", [](nb::handle h) { return nb::isinstance<Tensor>(h); }, nb::arg("obj"));
  m.def("get_num_threads", &num_threads);
  m.def("set_num_threads", &set_num_threads, nb::arg("num"));
}

void bind_registry(nb::module_& m) {
  m.def("_registered_ops", [] {
    std::vector<std::string> names;
    for (const OperatorEntry* e : Registry::instance().ops()) names.push_back(e->full_name());
    return names;
  }, "Names of every op in the registry, sorted.");
  m.def("_op_schema", [](std::string_view name) {
    const OperatorEntry* e = Registry::instance().find(name);
    VT_CHECK_VALUE(e != nullptr, "unknown op '", name, "'");
    return e->schema().str();
  }, nb::arg("name"));
  m.def("_op_dispatch_keys", [](std::string_view name) {
    const OperatorEntry* e = Registry::instance().find(name);
    VT_CHECK_VALUE(e != nullptr, "unknown op '", name, "'");
    std::vector<std::string> keys;
    for (DispatchKey k : e->registered_keys()) keys.emplace_back(dispatch_key_name(k));
    return keys;
  }, nb::arg("name"));
  m.def("_cuda_device_count", &cuda::device_count);
  m.def("_cuda_is_built", &cuda::is_built);
  m.def("_set_size_type", [](nb::handle type) { g_size_type = type.inc_ref().ptr(); });
}

// The profiler's C++ side; `vibetensor.profiler` builds torch's API on it.
class ProfilerRange {
 public:
  explicit ProfilerRange(std::string_view name) : name_(profiler::intern(name)) {}
  void enter() { scope_.emplace(name_, profiler::EventKind::UserRange); }
  void exit() { scope_.reset(); }

 private:
  const std::string* name_;
  std::optional<profiler::Scope> scope_;
};

void bind_profiler(nb::module_& m) {
  m.def("_profiler_start", &profiler::start);
  m.def("_profiler_stop", [] {
    static constexpr const char* kKinds[] = {"op", "autograd", "user"};
    nb::list events;
    for (const profiler::Event& e : profiler::stop()) {
      events.append(nb::make_tuple(*e.name, kKinds[static_cast<int>(e.kind)], e.thread, e.depth, e.start_ns, e.end_ns));
    }
    return events;
  }, "Stops the profiler; returns (name, kind, thread, depth, start_ns, end_ns) per event, in the order they ended.");
  m.def("_profiler_enabled", &profiler::enabled);
  nb::class_<ProfilerRange>(m, "_ProfilerRange")
      .def(nb::init<std::string_view>(), nb::arg("name"))
      .def("enter", &ProfilerRange::enter)
      .def("exit", &ProfilerRange::exit);
}

}  // namespace

nb::object size_object(IntArrayRef sizes) {
  PyObject* tuple = PyTuple_New(static_cast<Py_ssize_t>(sizes.size()));
  for (size_t i = 0; i < sizes.size(); ++i) PyTuple_SET_ITEM(tuple, i, PyLong_FromLongLong(sizes[i]));
  nb::object t = nb::steal(tuple);
  if (!g_size_type) return t;
  return nb::borrow(g_size_type)(t);
}

}  // namespace vt::python

NB_MODULE(_C, m) {
  using namespace vt::python;
  // dtype objects and the Size type are held for the life of the process, on purpose.
  nb::set_leak_warnings(false);
  g_out_of_memory_type = PyErr_NewExceptionWithDoc("vibetensor.OutOfMemoryError",
                                                   "A device allocation failed after the caches were freed.",
                                                   PyExc_RuntimeError, nullptr);
  m.attr("OutOfMemoryError") = nb::handle(g_out_of_memory_type);
  nb::register_exception_translator(&translate_error);
  bind_dtype_and_device(m);
  nb::class_<vt::Tensor> tensor_class = bind_tensor(m);
  bind_indexing(m, tensor_class);
  bind_ordering(m, tensor_class);
  bind_math(m, tensor_class);
  bind_autograd(m, tensor_class);
  bind_random(m, tensor_class);
  bind_optim(m);
  bind_autocast(m);
  bind_factories(m);
  bind_type_rules(m);
  bind_registry(m);
  bind_profiler(m);
  bind_cuda(m, tensor_class);
  bind_safetensors(m);
  bind_dlpack(m, tensor_class);
}
