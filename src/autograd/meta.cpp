// Per-tensor autograd state, grad mode and the dispatch guard.
#include "vt/autograd/meta.h"

#include <mutex>

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

// A view whose base was modified in place since its history was set has stale history.
void refresh_view_history(const Tensor& t, AutogradMeta& m) {
  if (!m.grad_fn || !t.impl()->is_view() || m.view_version == t.version()) return;
  Tensor base(t.impl()->view_base());
  if (!base.requires_grad() || is_leaf(base)) return;
  set_view_history_from_base(t);
}

std::shared_ptr<Node> grad_fn(const Tensor& t) {
  AutogradMeta* m = meta(t);
  if (!m) return nullptr;
  refresh_view_history(t, *m);
  return m->grad_fn;
}

Edge gradient_edge(const Tensor& t) {
  AutogradMeta* m = meta(t);
  if (!m || !t.requires_grad()) return {};
  refresh_view_history(t, *m);
  if (m->grad_fn) return Edge{m->grad_fn, m->output_nr};
  std::shared_ptr<Node> accumulator = m->grad_accumulator.lock();
  if (!accumulator) {
    accumulator = new_node<AccumulateGrad>(t);
    m->grad_accumulator = accumulator;
  }
  return Edge{std::move(accumulator), 0};
}

void set_history(const Tensor& t, const std::shared_ptr<Node>& node) {
  if (!is_floating_point(t.dtype())) {
    // Integer and bool results are not differentiable: keep the node's slot, not the history.
    node->add_input_meta(t);
    return;
  }
  AutogradMeta& m = materialize_meta(t);
  m.output_nr = node->add_input_meta(t);
  m.grad_fn = node;
  m.requires_grad = false;
  m.view_version = t.version();
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
  m.grad_fn->add_retain_hook(m.output_nr, [weak](const Tensor& grad) {
    if (auto target = weak.lock()) {
      target->grad = target->grad.defined() ? vt::add(target->grad, grad) : vt::clone(grad);
    }
    return Tensor();
  });
}

namespace {
struct DualLevelState {
  std::mutex mutex;
  int level = -1;
  std::vector<std::weak_ptr<AutogradMeta>> duals;  // tensors given a tangent at this level
};
DualLevelState& dual_state() {
  static DualLevelState* state = new DualLevelState();
  return *state;
}
}  // namespace

int enter_dual_level() {
  DualLevelState& state = dual_state();
  std::lock_guard<std::mutex> lock(state.mutex);
  VT_CHECK(state.level < 0, "Nested forward mode AD is not supported at the moment");
  state.level = 0;
  return state.level;
}

void exit_dual_level(int level) {
  DualLevelState& state = dual_state();
  std::lock_guard<std::mutex> lock(state.mutex);
  VT_CHECK(level == state.level, "Trying to exit a forward AD level that was not the last one entered");
  for (auto& weak : state.duals) {
    if (auto m = weak.lock()) m->tangent = Tensor();
  }
  state.duals.clear();
  state.level = -1;
}

void set_tangent(const Tensor& t, const Tensor& tangent) {
  DualLevelState& state = dual_state();
  std::lock_guard<std::mutex> lock(state.mutex);
  VT_CHECK(state.level >= 0, "make_dual(): forward AD is only allowed inside a dual_level context");
  AutogradMeta& m = materialize_meta(t);
  m.tangent = tangent;
  t.impl()->set_has_tangent(tangent.defined());
  state.duals.push_back(t.impl()->autograd_meta());
}

Tensor tangent_of(const Tensor& t) {
  if (!has_tangent(t)) return Tensor();
  AutogradMeta* m = meta(t);
  if (!m->tangent.defined()) t.impl()->set_has_tangent(false);  // its level was exited
  return m->tangent;
}

Tensor make_dual(const Tensor& primal, const Tensor& tangent, int level) {
  VT_CHECK(level == dual_state().level, "make_dual(): invalid dual level ", level);
  VT_CHECK(std::equal(primal.sizes().begin(), primal.sizes().end(), tangent.sizes().begin(), tangent.sizes().end()),
           "Trying to set a forward gradient that has a different size than that of the original Tensor, this is not "
           "supported. Tensor is of size ", shape_str(primal.sizes()), " while the given forward gradient is of size ",
           shape_str(tangent.sizes()), ".");
  VT_CHECK(is_floating_point(primal.dtype()), "Expected primal to be floating point");
  // A view through the dispatcher: the dual stays in the primal's backward graph, if any.
  Tensor dual = view(primal, primal.sizes());
  set_tangent(dual, tangent.dtype() == primal.dtype() ? tangent : to(tangent, primal.dtype()));
  return dual;
}

bool is_grad_enabled() { return (tls_excluded_keys() & key_bit(DispatchKey::Autograd)) == 0; }

void set_grad_enabled(bool enabled) {
  if (enabled) tls_excluded_keys() &= static_cast<DispatchKeySet>(~key_bit(DispatchKey::Autograd));
  else tls_excluded_keys() |= key_bit(DispatchKey::Autograd);
}

BelowAutogradGuard::BelowAutogradGuard() : was_excluded_(!is_grad_enabled()) { set_grad_enabled(false); }
BelowAutogradGuard::~BelowAutogradGuard() { set_grad_enabled(!was_excluded_); }

}  // namespace vt::autograd
