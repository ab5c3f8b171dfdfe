// Recording autograd history from C++: what every op's autograd kernel uses, and the API for
// C++ custom functions (make_node + set_history). Node creation, the in-place and out=
// rules, and shape helpers for gradients. Derivatives live next to their ops
// (src/ops/<family>_grad.cpp) and are written with these.
#pragma once
#include <initializer_list>
#include <string>

#include "vt/autograd/meta.h"
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt::autograd {

inline bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  for (const Tensor* t : inputs) {
    if (t->defined() && t->requires_grad()) return true;
  }
  return false;
}

// A node whose next edges are the gradient edges of `inputs`, in order.
std::shared_ptr<FunctionNode> make_node(std::string name, std::initializer_list<const Tensor*> inputs,
                                        FunctionNode::Backward backward);

// Runs the op below autograd (straight to the backend kernel).
template <class F>
auto below_autograd(F&& f) {
  BelowAutogradGuard guard;
  return f();
}

// The in-place form of a differentiable op: `functional` computes the result from a copy
// of self's old value (with self's history), the result is written into self, and self
// takes over the result's history. Refuses leaves that require grad, as torch does.
const Tensor& apply_inplace(const Tensor& self, std::string_view op,
                            const std::function<Tensor(const Tensor& original)>& functional);

// Refuses in-place writes that autograd cannot follow.
void check_inplace(const Tensor& self, std::string_view op);

// `out=` forms do not record history: torch refuses them when autograd is involved.
[[noreturn]] void refuse_out(std::string_view op);

// Sums a broadcast gradient back to the input's shape.
Tensor sum_to(const Tensor& grad, IntArrayRef sizes);

// Forward mode: when an input is a dual tensor, gives `out` the tangent `jvp()` computes
// (below autograd: tangents are not differentiated at this level).
template <class F>
void forward_tangent(const Tensor& out, std::initializer_list<const Tensor*> inputs, F&& jvp) {
  if (!any_has_tangent(inputs)) return;
  set_tangent(out, below_autograd(std::forward<F>(jvp)));
}
// An input's tangent for a JVP formula: zeros when it has none.
Tensor tangent_or_zeros(const Tensor& t);

// Registers `fn` as the Autograd kernel of `op`.
template <class R, class... Args>
void register_autograd(std::string_view op, R (*fn)(Args...)) {
  register_kernel(op, DispatchKey::Autograd, fn);
}

}  // namespace vt::autograd
