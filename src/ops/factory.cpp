// Factories: tensors made from sizes and values. They dispatch on the requested device.
#include <cmath>

#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt {

namespace {

Tensor empty_kernel(IntArrayRef size, ScalarType dtype, Device device) { return empty_tensor(size, dtype, device); }

// torch.full infers the dtype from the fill value when none is given.
ScalarType inferred_dtype(const Scalar& value) {
  if (value.is_boolean()) return ScalarType::Bool;
  if (value.is_integral()) return ScalarType::Int64;
  return default_dtype();
}

Tensor full_composite(IntArrayRef size, const Scalar& value, std::optional<ScalarType> dtype, Device device) {
  Tensor out = empty(size, dtype.value_or(inferred_dtype(value)), device);
  return fill_(out, value);
}

Tensor arange_kernel(const Scalar& start, const Scalar& end, const Scalar& step, std::optional<ScalarType> dtype,
                     Device device) {
  bool any_float = start.is_floating_point() || end.is_floating_point() || step.is_floating_point();
  ScalarType type = dtype.value_or(any_float ? default_dtype() : ScalarType::Int64);
  if (any_float && is_integral(type, true)) {
    // An integral result: torch truncates the arguments to integers first.
    return arange_kernel(start.to_int(), end.to_int(), step.to_int(), type, device);
  }
  double lo = start.to_double(), hi = end.to_double(), delta = step.to_double();
  VT_CHECK(delta != 0, "arange(): step must be nonzero");
  VT_CHECK(std::isfinite(lo) && std::isfinite(hi), "arange(): unsupported range: ", lo, " -> ", hi);
  VT_CHECK((delta > 0 && hi >= lo) || (delta < 0 && hi <= lo),
           "arange(): upper bound and larger bound inconsistent with step sign");
  // torch computes the length in double for floating arguments, exactly for integers.
  int64_t length;
  if (any_float) {
    length = static_cast<int64_t>(std::ceil((hi - lo) / delta));
  } else {
    int64_t a = start.to_int(), b = end.to_int(), s = step.to_int();
    length = s > 0 ? (b - a + s - 1) / s : (a - b - s - 1) / (-s);
  }
  Tensor out = empty({&length, 1}, type, device);
  dispatch_numeric_types(type, "arange", [&](auto tag) {
    using T = decltype(tag);
    T* data = out.data<T>();
    if (any_float) {
      for (int64_t i = 0; i < length; ++i) data[i] = static_cast<T>(static_cast<compute_t<T>>(lo + static_cast<double>(i) * delta));
    } else {
      int64_t a = start.to_int(), s = step.to_int();
      for (int64_t i = 0; i < length; ++i) data[i] = static_cast<T>(static_cast<compute_t<T>>(a + i * s));
    }
  });
  return out;
}

// A short sequence is cheaper to write on the host and send than to launch a kernel for.
Tensor arange_on_host_then_copied(const Scalar& start, const Scalar& end, const Scalar& step,
                                  std::optional<ScalarType> dtype, Device device) {
  return to(arange_kernel(start, end, step, dtype, Device()), std::nullopt, device);
}

}  // namespace

VT_REGISTRATION(factory_ops) {
  Registry& r = Registry::instance();
  r.define("empty(int[] size, *, ScalarType dtype, Device device) -> Tensor");
  r.define("full(int[] size, Scalar fill_value, *, ScalarType? dtype=None, Device device) -> Tensor");
  r.define("arange(Scalar start, Scalar end, Scalar step=1, *, ScalarType? dtype=None, Device device) -> Tensor");
  register_kernel("empty", DispatchKey::CPU, &empty_kernel);
  register_kernel("empty", DispatchKey::CUDA, &empty_kernel);  // the storage comes from the device's allocator
  register_kernel("arange", DispatchKey::CPU, &arange_kernel);
  register_kernel("arange", DispatchKey::CUDA, &arange_on_host_then_copied);
  register_composite("full", &full_composite);
}

Tensor empty(IntArrayRef size, ScalarType dtype, Device device) {
  static const TypedOp<Tensor(IntArrayRef, ScalarType, Device)> op("empty");
  return op(size, dtype, device);
}
Tensor full(IntArrayRef size, const Scalar& value, std::optional<ScalarType> dtype, Device device) {
  static const TypedOp<Tensor(IntArrayRef, const Scalar&, std::optional<ScalarType>, Device)> op("full");
  return op(size, value, dtype, device);
}
Tensor zeros(IntArrayRef size, ScalarType dtype, Device device) { return full(size, 0, dtype, device); }
Tensor ones(IntArrayRef size, ScalarType dtype, Device device) { return full(size, 1, dtype, device); }
Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step, std::optional<ScalarType> dtype, Device device) {
  static const TypedOp<Tensor(const Scalar&, const Scalar&, const Scalar&, std::optional<ScalarType>, Device)> op("arange");
  return op(start, end, step, dtype, device);
}

Tensor empty_like(const Tensor& self, std::optional<ScalarType> dtype, std::optional<Device> device) {
  ScalarType type = dtype.value_or(self.dtype());
  Device target = device.value_or(self.device());
  if (self.is_contiguous() || !is_non_overlapping_and_dense(self)) return empty(self.sizes(), type, target);
  return empty_strided_tensor(self.sizes(), self.strides(), type, target);
}

Tensor scalar_to_tensor(const Scalar& value) {
  // Not dispatched: this is how a frontend turns `x + 1` into tensor arguments, on the hot path.
  Tensor out = empty_tensor({}, value.type(), Device());
  dispatch_all_types(value.type(), "scalar_to_tensor", [&](auto tag) {
    using T = decltype(tag);
    *out.data<T>() = value.to<T>();
  });
  out.impl()->set_wrapped_number(true);
  return out;
}

}  // namespace vt
