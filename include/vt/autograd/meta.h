// Per-tensor autograd state and the grad mode. A tensor has an AutogradMeta only once it
// takes part in autograd (requires_grad, a grad_fn, a .grad), so plain tensors pay nothing.
#pragma once
#include <memory>

#include "vt/autograd/node.h"

namespace vt::autograd {

struct AutogradMeta {
  Tensor grad;
  std::shared_ptr<Node> grad_fn;          // null for leaves
  std::weak_ptr<Node> grad_accumulator;  // a leaf's AccumulateGrad, shared by all its uses
  uint32_t output_nr = 0;
  bool requires_grad = false;  // set by the user on leaves
  bool retains_grad = false;
  std::vector<GradHook> leaf_hooks;  // hooks of a leaf, run before accumulation
  Tensor tangent;                    // forward mode: the tangent of a dual tensor
  // For a view with history: the storage version when that history was set. An in-place
  // write elsewhere in the base moves the version, and the view's history is then rebuilt
  // from the base's (torch regenerates it the same way).
  uint64_t view_version = 0;
};

// nullptr when the tensor has none.
AutogradMeta* meta(const Tensor& t);
AutogradMeta& materialize_meta(const Tensor& t);

inline bool is_leaf(const Tensor& t) {
  AutogradMeta* m = meta(t);
  return !m || !m->grad_fn;
}
// A view (of a base with history) as a view of the base's current history.
void set_view_history_from_base(const Tensor& view);
// The grad_fn of `t` (rebuilt first if `t` is a view whose base was written in place).
std::shared_ptr<Node> grad_fn(const Tensor& t);
// tensor.requires_grad_(value): leaves only (a non-leaf may only be asked to require grad).
void set_requires_grad(const Tensor& t, bool value);
// The edge a gradient for `t` flows into: its grad_fn, or its leaf accumulator.
Edge gradient_edge(const Tensor& t);
// Makes `t` an output of `node` (input slot `output_nr` of the node).
void set_history(const Tensor& t, const std::shared_ptr<Node>& node);
// A view of `t` with no autograd history that shares its storage and version counter.
Tensor detach(const Tensor& t);
void register_hook(const Tensor& t, GradHook hook);
void retain_grad(const Tensor& t);

// ---- forward mode (torch.autograd.forward_ad). One dual level at a time, as in torch's
// common use; leaving it drops every tangent made inside.
int enter_dual_level();
void exit_dual_level(int level);
// A dual tensor: an alias of `primal` carrying `tangent`.
Tensor make_dual(const Tensor& primal, const Tensor& tangent, int level);
// The tangent of `t`, or an undefined tensor.
Tensor tangent_of(const Tensor& t);
// Gives `t` a tangent (used by every op's autograd kernel for its result).
void set_tangent(const Tensor& t, const Tensor& tangent);
inline bool has_tangent(const Tensor& t) { return t.defined() && t.impl()->has_tangent(); }
inline bool any_has_tangent(std::initializer_list<const Tensor*> inputs) {
  for (const Tensor* t : inputs) {
    if (has_tangent(*t)) return true;
  }
  return false;
}

// Grad mode is thread-local, like torch's. Disabled: no graph is recorded.
bool is_grad_enabled();
void set_grad_enabled(bool enabled);

class GradModeGuard {
 public:
  explicit GradModeGuard(bool enabled) : previous_(is_grad_enabled()) { set_grad_enabled(enabled); }
  ~GradModeGuard() { set_grad_enabled(previous_); }
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool previous_;
};

// Inside an autograd kernel: calls below it go straight to the backend kernels.
class BelowAutogradGuard {
 public:
  BelowAutogradGuard();
  ~BelowAutogradGuard();
  BelowAutogradGuard(const BelowAutogradGuard&) = delete;
  BelowAutogradGuard& operator=(const BelowAutogradGuard&) = delete;

 private:
  bool was_excluded_;
};

}  // namespace vt::autograd
