// The Python DLPack protocol: Tensor.__dlpack__/__dlpack_device__ (the producer) and
// _C._from_dlpack(capsule) (the consumer; vibetensor.utils.dlpack calls __dlpack__ on the
// other object). A capsule is named "dltensor" or "dltensor_versioned" until a consumer takes
// it, which renames it "used_..."; the capsule's destructor frees only an unconsumed tensor.
#include <cstring>

#include <nanobind/stl/pair.h>

#include "src/python/bindings.h"
#include "vt/cuda.h"
#include "vt/dlpack.h"

namespace vt::python {

namespace {

constexpr const char* kVersioned = "dltensor_versioned";
constexpr const char* kLegacy = "dltensor";

[[noreturn]] void raise_buffer_error(const std::string& message) {
  PyErr_SetString(PyExc_BufferError, message.c_str());
  throw nb::python_error();
}

template <class Managed>
nb::object capsule_of(Managed* managed, const char* name) {
  PyObject* capsule = PyCapsule_New(managed, name, [](PyObject* self) {
    // Unconsumed: nobody took ownership, so the tensor is freed here.
    const char* kind = PyCapsule_GetName(self);
    if (kind == nullptr) return PyErr_Clear();
    if (std::strcmp(kind, kVersioned) != 0 && std::strcmp(kind, kLegacy) != 0) return;
    auto* m = static_cast<Managed*>(PyCapsule_GetPointer(self, kind));
    if (m != nullptr && m->deleter) m->deleter(m);
  });
  if (capsule == nullptr) {
    managed->deleter(managed);
    throw nb::python_error();
  }
  return nb::steal(capsule);
}

// The producer's half of the stream contract: work queued so far on the tensor's stream must
// finish before the consumer's `stream` runs anything after this call.
void order_for_consumer(const Tensor& t, const nb::object& stream) {
  if (!t.device().is_cuda()) {
    if (!stream.is_none() && !(nb::isinstance<nb::int_>(stream) && nb::cast<int64_t>(stream) == -1)) {
      raise_buffer_error("__dlpack__(): stream must be None for a CPU tensor");
    }
    return;
  }
  // None and 1 name the legacy default stream (vibetensor's handle 0), 2 the per-thread
  // default stream, -1 "no synchronization"; 0 is ambiguous and refused, as the spec says.
  int64_t handle = stream.is_none() ? 1 : nb::cast<int64_t>(stream);
  VT_CHECK_VALUE(handle != 0, "__dlpack__(): stream=0 is ambiguous; pass 1 for the legacy default stream or 2 "
                 "for the per-thread default stream");
  if (handle == -1) return;
  int device = t.device().index;
  cuda::Stream consumer(device, reinterpret_cast<void*>(handle == 1 ? 0 : handle));
  cuda::Stream producer = cuda::current_stream(device);
  if (!(consumer == producer)) consumer.wait_stream(producer);
}

nb::object dlpack(const Tensor& self, const nb::object& stream, const nb::object& max_version,
                  const nb::object& dl_device, const nb::object& copy) {
  if (self.requires_grad()) {
    raise_buffer_error("Can't export tensors that require gradient, use tensor.detach()");
  }
  bool must_copy = !copy.is_none() && nb::cast<bool>(copy);
  bool may_copy = copy.is_none() || must_copy;
  bool copied = false;
  Tensor exported = self;
  if (!dl_device.is_none()) {
    auto [type, index] = nb::cast<std::pair<int, int>>(dl_device);
    DLDevice own = dlpack::to_dl_device(self.device());
    if (type != own.device_type || index != own.device_id) {
      if (!may_copy || (type != kDLCPU && type != kDLCUDA)) {
        raise_buffer_error("__dlpack__(): the tensor is on " + self.device().str() + " and cannot be exported to "
                           "DLPack device (" + std::to_string(type) + ", " + std::to_string(index) + ")" +
                           (may_copy ? "" : " without a copy"));
      }
      Device target = type == kDLCPU ? Device() : Device(DeviceType::CUDA, index);
      exported = to(self, std::nullopt, target, /*copy=*/true);  // a blocking copy
      copied = true;
    }
  }
  if (must_copy && !copied) {
    exported = clone(self);
    copied = true;
  }
  order_for_consumer(exported, stream);
  bool versioned = !max_version.is_none() && nb::cast<std::pair<int, int>>(max_version).first >= 1;
  if (!versioned) return capsule_of(dlpack::to_legacy(exported), kLegacy);
  DLManagedTensorVersioned* managed = dlpack::to_versioned(exported);
  if (copied) managed->flags |= DLPACK_FLAG_BITMASK_IS_COPIED;
  return capsule_of(managed, kVersioned);
}

Tensor from_capsule(nb::handle object) {
  PyObject* capsule = object.ptr();
  VT_CHECK_TYPE(PyCapsule_CheckExact(capsule), "from_dlpack(): expected an object with __dlpack__ or a DLPack "
                "capsule, got ", nb::type_name(object.type()).c_str());
  const char* name = PyCapsule_GetName(capsule);
  if (name == nullptr) throw nb::python_error();
  if (std::strcmp(name, kVersioned) == 0) {
    auto* managed = static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(capsule, name));
    Tensor t = dlpack::from_versioned(managed);  // raises without taking ownership
    PyCapsule_SetName(capsule, "used_dltensor_versioned");
    return t;
  }
  if (std::strcmp(name, kLegacy) == 0) {
    auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule, name));
    Tensor t = dlpack::from_legacy(managed);
    PyCapsule_SetName(capsule, "used_dltensor");
    return t;
  }
  VT_CHECK_VALUE(std::strncmp(name, "used_", 5) != 0, "from_dlpack(): this DLPack capsule was already consumed "
                 "(a capsule can be imported once)");
  fail(ErrorKind::Type, "from_dlpack(): a capsule named '", name, "' is not a DLPack tensor");
}

}  // namespace

void bind_dlpack(nb::module_& m, nb::class_<Tensor>& cls) {
  cls.def("__dlpack__", &dlpack, nb::kw_only(), nb::arg("stream") = nb::none(), nb::arg("max_version") = nb::none(),
          nb::arg("dl_device") = nb::none(), nb::arg("copy") = nb::none());
  cls.def("__dlpack_device__", [](const Tensor& self) {
    DLDevice d = dlpack::to_dl_device(self.device());
    return std::pair<int, int>(d.device_type, d.device_id);
  });
  m.def("_from_dlpack", &from_capsule, nb::arg("capsule"));
}

}  // namespace vt::python
