// Derivatives of mm and bmm (matmul is composed of them, so it needs none of its own).
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

}  // namespace

VT_REGISTRATION(linalg_autograd) {
  register_autograd("mm", &mm_grad);
  register_autograd("bmm", &bmm_grad);
}

}  // namespace vt::autograd
