// Derivatives of mm, bmm and addmm (matmul is composed of them, so it needs none of its own).
#include "vt/autograd/record.h"

namespace vt::autograd {
namespace {

Tensor mm_grad(const Tensor& a, const Tensor& b) {
  Tensor out = below_autograd([&] { return mm(a, b); });
  forward_tangent(out, {&a, &b}, [&] { return mm(tangent_or_zeros(a), b) + mm(a, tangent_or_zeros(b)); });
  if (!any_requires_grad({&a, &b})) return out;
  auto node = make_node("MmBackward0", {&a, &b}, [](FunctionNode& n, const TensorList& g) {
    return TensorList{n.needs_input_grad(0) ? mm(g[0], t(n.saved(1))) : Tensor(),
                      n.needs_input_grad(1) ? mm(t(n.saved(0)), g[0]) : Tensor()};
  });
  node->save(a);
  node->save(b);
  set_history(out, node);
  return out;
}

Tensor bmm_grad(const Tensor& a, const Tensor& b) {
  Tensor out = below_autograd([&] { return bmm(a, b); });
  forward_tangent(out, {&a, &b}, [&] { return bmm(tangent_or_zeros(a), b) + bmm(a, tangent_or_zeros(b)); });
  if (!any_requires_grad({&a, &b})) return out;
  auto node = make_node("BmmBackward0", {&a, &b}, [](FunctionNode& n, const TensorList& g) {
    return TensorList{n.needs_input_grad(0) ? bmm(g[0], transpose(n.saved(1), 1, 2)) : Tensor(),
                      n.needs_input_grad(1) ? bmm(transpose(n.saved(0), 1, 2), g[0]) : Tensor()};
  });
  node->save(a);
  node->save(b);
  set_history(out, node);
  return out;
}

// out = beta * self + alpha * a @ b; self may broadcast (a bias row).
Tensor addmm_grad(const Tensor& self, const Tensor& a, const Tensor& b, const Scalar& beta, const Scalar& alpha) {
  Tensor out = below_autograd([&] { return addmm(self, a, b, beta, alpha); });
  forward_tangent(out, {&self, &a, &b}, [&] {
    return addmm(addmm(tangent_or_zeros(self), tangent_or_zeros(a), b, beta, alpha), a, tangent_or_zeros(b), 1, alpha);
  });
  if (!any_requires_grad({&self, &a, &b})) return out;
  auto scaled = [](const Tensor& g, const Scalar& s) { return s.to_double() == 1 ? g : mul(g, scalar_to_tensor(s)); };
  auto node = make_node("AddmmBackward0", {&self, &a, &b},
                        [beta, alpha, scaled, self_sizes = DimVector(self.sizes())](FunctionNode& n, const TensorList& g) {
    return TensorList{n.needs_input_grad(0) ? sum_to(scaled(g[0], beta), self_sizes) : Tensor(),
                      n.needs_input_grad(1) ? scaled(mm(g[0], t(n.saved(1))), alpha) : Tensor(),
                      n.needs_input_grad(2) ? scaled(mm(t(n.saved(0)), g[0]), alpha) : Tensor()};
  });
  node->save(a);
  node->save(b);
  set_history(out, node);
  return out;
}

}  // namespace

VT_REGISTRATION(linalg_autograd) {
  register_autograd("mm", &mm_grad);
  register_autograd("bmm", &bmm_grad);
  register_autograd("addmm", &addmm_grad);
}

}  // namespace vt::autograd
