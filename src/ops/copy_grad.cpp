// Derivatives of copy_ and fill_ (clone, contiguous and to are composed of them).
#include "vt/autograd/record.h"

namespace vt::autograd {
namespace {

const Tensor& copy_grad(const Tensor& self, const Tensor& src) {
  check_inplace(self, "copy_");
  below_autograd([&] { return copy_(self, src); });
  if (!any_requires_grad({&self, &src})) return self;
  // self's old value is overwritten: it gets no gradient. src gets it, summed to its shape.
  auto node = make_node("CopyBackwards", {&self, &src}, [src_sizes = DimVector(src.sizes())](FunctionNode& n,
                                                                                             const TensorList& g) {
    return TensorList{n.needs_input_grad(0) ? zeros(g[0].sizes(), g[0].dtype(), g[0].device()) : Tensor(),
                      n.needs_input_grad(1) ? sum_to(g[0], src_sizes) : Tensor()};
  });
  set_history(self, node);
  return self;
}

const Tensor& fill_grad(const Tensor& self, const Scalar& value) {
  check_inplace(self, "fill_");
  below_autograd([&] { return fill_(self, value); });
  set_history(self, make_node("FillBackward0", {&self}, [](FunctionNode&, const TensorList& g) {
    return TensorList{zeros(g[0].sizes(), g[0].dtype(), g[0].device())};
  }));
  return self;
}

}  // namespace

VT_REGISTRATION(copy_autograd) {
  register_autograd("copy_", &copy_grad);
  register_autograd("fill_", &fill_grad);
}

}  // namespace vt::autograd
