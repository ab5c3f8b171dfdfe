// Derivatives of copy_ and fill_ (clone, contiguous and to are composed of them).
#include "vt/autograd/record.h"

namespace vt::autograd {
namespace {

const Tensor& copy_grad(const Tensor& self, const Tensor& src, bool non_blocking) {
  return apply_inplace(self, "copy_", [&](const Tensor& original) {
    Tensor values = below_autograd([&] {
      Tensor out = empty(self.sizes(), self.dtype(), self.device());
      return copy_(out, src, non_blocking);
    });
    forward_tangent(values, {&src}, [&] { return to(expand(tangent_of(src), self.sizes()), self.dtype(), std::nullopt, true); });
    if (!any_requires_grad({&original, &src})) return values;
    // self's old values are overwritten: zero gradient. src's is summed back to its shape
    // (the engine casts it to src's dtype).
    set_history(values, make_node("CopyBackwards", {&original, &src}, [src_sizes = DimVector(src.sizes())](
                                                                          FunctionNode& n, const TensorList& g) {
      return TensorList{n.needs_input_grad(0) ? zeros_like(g[0]) : Tensor(),
                        n.needs_input_grad(1) ? sum_to(g[0], src_sizes) : Tensor()};
    }));
    return values;
  });
}

const Tensor& fill_grad(const Tensor& self, const Scalar& value) {
  return apply_inplace(self, "fill_", [&](const Tensor& original) {
    return full(original.sizes(), value, original.dtype(), original.device());
  });
}

Tensor clone_grad(const Tensor& self) {
  Tensor out = below_autograd([&] { return clone(self); });
  forward_tangent(out, {&self}, [&] { return clone(tangent_of(self)); });
  if (!self.requires_grad()) return out;
  set_history(out, make_node("CloneBackward0", {&self}, [](FunctionNode&, const TensorList& g) { return TensorList{g[0]}; }));
  return out;
}

Tensor to_grad(const Tensor& self, std::optional<ScalarType> dtype, std::optional<Device> device, bool copy,
               bool non_blocking) {
  Tensor out = below_autograd([&] { return to(self, dtype, device, copy, non_blocking); });
  if (out.is_same(self)) return out;  // nothing changed: no new node
  if (is_floating_point(out.dtype())) {
    forward_tangent(out, {&self}, [&] { return to(tangent_of(self), out.dtype(), out.device(), true); });
  }
  if (!self.requires_grad()) return out;
  // The gradient passes through; the engine casts it back to self's dtype.
  set_history(out, make_node("ToCopyBackward0", {&self}, [](FunctionNode&, const TensorList& g) { return TensorList{g[0]}; }));
  return out;
}

}  // namespace

VT_REGISTRATION(copy_autograd) {
  register_autograd("clone", &clone_grad);
  register_autograd("to", &to_grad);
  register_autograd("copy_", &copy_grad);
  register_autograd("fill_", &fill_grad);
}

}  // namespace vt::autograd
