// Per-tensor autograd state, grad mode and the dispatch guard.
#include "vt/autograd/meta.h"

#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt::autograd {

AutogradMeta* meta(const Tensor& t) { return t.impl()->autograd_meta().get(); }

AutogradMeta& materialize_meta(const Tensor& t) {
  if (!t.impl()->autograd_meta()) t.impl()->set_autograd_meta(std::make_shared<AutogradMeta>());
  return *t.impl()->autograd_meta();
}

void set_requires_grad(const Tensor& t, bool value) {
  AutogradMeta* m = meta(t);
  if (m && m->grad_fn) {
    VT_CHECK(value, "you can only change requires_grad flags of leaf variables. If you want to use a computed "
             "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().");
    return;
  }
  VT_CHECK(!value || is_floating_point(t.dtype()),
           "only Tensors of floating point and complex dtype can require gradients");
  materialize_meta(t).requires_grad = value;
  t.impl()->set_requires_grad(value);
}

Edge gradient_edge(const Tensor& t) {
  AutogradMeta* m = meta(t);
  if (!m || !t.requires_grad()) return {};
  if (m->grad_fn) return Edge{m->grad_fn, m->output_nr};
  std::shared_ptr<Node> accumulator = m->grad_accumulator.lock();
  if (!accumulator) {
    accumulator = std::make_shared<AccumulateGrad>(t);
    m->grad_accumulator = accumulator;
  }
  return Edge{std::move(accumulator), 0};
}

void set_history(const Tensor& t, const std::shared_ptr<Node>& node) {
  AutogradMeta& m = materialize_meta(t);
  m.output_nr = node->add_input_meta(t);
  m.grad_fn = node;
  m.requires_grad = false;
  t.impl()->set_requires_grad(true);
}

Tensor detach(const Tensor& t) { return make_alias(t, t.sizes(), t.strides(), t.storage_offset()); }

void register_hook(const Tensor& t, GradHook hook) {
  VT_CHECK(t.requires_grad(), "cannot register a hook on a tensor that doesn't require gradient");
  AutogradMeta& m = materialize_meta(t);
  if (m.grad_fn) m.grad_fn->add_pre_hook(m.output_nr, std::move(hook));
  else m.leaf_hooks.push_back(std::move(hook));
}

void retain_grad(const Tensor& t) {
  VT_CHECK(t.requires_grad(), "can't retain_grad on Tensor that has requires_grad=False");
  AutogradMeta& m = materialize_meta(t);
  if (!m.grad_fn || m.retains_grad) return;  // leaves keep their grad anyway
  m.retains_grad = true;
  // The hook holds the meta weakly: it must not keep the tensor's state alive.
  std::weak_ptr<AutogradMeta> weak = t.impl()->autograd_meta();
  m.grad_fn->add_pre_hook(m.output_nr, [weak](const Tensor& grad) {
    if (auto target = weak.lock()) {
      target->grad = target->grad.defined() ? vt::add(target->grad, grad) : vt::clone(grad);
    }
    return Tensor();
  });
}

bool is_grad_enabled() { return (tls_excluded_keys() & key_bit(DispatchKey::Autograd)) == 0; }

void set_grad_enabled(bool enabled) {
  if (enabled) tls_excluded_keys() &= static_cast<DispatchKeySet>(~key_bit(DispatchKey::Autograd));
  else tls_excluded_keys() |= key_bit(DispatchKey::Autograd);
}

BelowAutogradGuard::BelowAutogradGuard() : was_excluded_(!is_grad_enabled()) { set_grad_enabled(false); }
BelowAutogradGuard::~BelowAutogradGuard() { set_grad_enabled(!was_excluded_); }

}  // namespace vt::autograd
