// Derivatives of copy_ and fill_ (clone, contiguous and to are composed of them).
#include "vt/autograd/record.h"

namespace vt::autograd {
namespace {

const Tensor& copy_grad(const Tensor& self, const Tensor& src) {
  return apply_inplace(self, "copy_", [&](const Tensor& original) {
    Tensor values = below_autograd([&] {
      Tensor out = empty(self.sizes(), self.dtype(), self.device());
      return copy_(out, src);
    });
    forward_tangent(values, {&src}, [&] { return to(expand(tangent_of(src), self.sizes()), self.dtype(), std::nullopt, true); });
    if (!any_requires_grad({&original, &src})) return values;
    // self's old values are overwritten: zero gradient. src's is summed back to its shape
    // (the engine casts it to src's dtype).
    set_history(values, make_node("CopyBackwards", {&original, &src}, [src_sizes = DimVector(src.sizes())](
                                                                          FunctionNode& n, const TensorList& g) {
      return TensorList{n.needs_input_grad(0) ? zeros(g[0].sizes(), g[0].dtype(), g[0].device()) : Tensor(),
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

}  // namespace

VT_REGISTRATION(copy_autograd) {
  register_autograd("copy_", &copy_grad);
  register_autograd("fill_", &fill_grad);
}

}  // namespace vt::autograd
