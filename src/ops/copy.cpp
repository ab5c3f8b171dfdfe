// Copies and conversions: copy_ and fill_ (backend kernels), and the composites built on them.
#include "vt/cuda.h"
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt {

namespace {

Tensor clone_composite(const Tensor& self) {
  Tensor out = empty_like(self);
  return copy_(out, self);
}

Tensor contiguous_composite(const Tensor& self) {
  if (self.is_contiguous()) return self;
  Tensor out = empty(self.sizes(), self.dtype(), self.device());  // row-major, unlike clone
  return copy_(out, self);
}

Tensor to_composite(const Tensor& self, std::optional<ScalarType> dtype, std::optional<Device> device, bool copy,
                    bool non_blocking) {
  ScalarType target_dtype = dtype.value_or(self.dtype());
  Device target_device = device.value_or(self.device());
  if (target_device.is_cuda() && !target_device.has_index()) target_device = Device(DeviceType::CUDA, cuda::current_device());
  if (!copy && target_dtype == self.dtype() && target_device == self.device()) return self;
  Tensor out = empty_like(self, target_dtype, target_device);
  return copy_(out, self, non_blocking);
}

}  // namespace

VT_REGISTRATION(copy_ops) {
  Registry& r = Registry::instance();
  r.define("copy_(Tensor(a!) self, Tensor src, bool non_blocking=False) -> Tensor(a!)");
  r.define("fill_(Tensor(a!) self, Scalar value) -> Tensor(a!)");
  r.define("clone(Tensor self) -> Tensor");
  r.define("contiguous(Tensor(a) self) -> Tensor(a)");
  r.define("to(Tensor(a) self, ScalarType? dtype=None, Device? device=None, bool copy=False, bool non_blocking=False) -> Tensor(a)");
  register_composite("clone", &clone_composite);
  register_composite("contiguous", &contiguous_composite);
  register_composite("to", &to_composite);
}

const Tensor& copy_(const Tensor& self, const Tensor& src, bool non_blocking) {
  static const TypedOp<const Tensor&(const Tensor&, const Tensor&, bool)> op("copy_");
  return op(self, src, non_blocking);
}
const Tensor& fill_(const Tensor& self, const Scalar& value) {
  static const TypedOp<const Tensor&(const Tensor&, const Scalar&)> op("fill_");
  return op(self, value);
}
Tensor clone(const Tensor& self) {
  static const TypedOp<Tensor(const Tensor&)> op("clone");
  return op(self);
}
Tensor contiguous(const Tensor& self) {
  static const TypedOp<Tensor(const Tensor&)> op("contiguous");
  return op(self);
}
Tensor to(const Tensor& self, std::optional<ScalarType> dtype, std::optional<Device> device, bool copy,
          bool non_blocking) {
  static const TypedOp<Tensor(const Tensor&, std::optional<ScalarType>, std::optional<Device>, bool, bool)> op("to");
  return op(self, dtype, device, copy, non_blocking);
}

}  // namespace vt
