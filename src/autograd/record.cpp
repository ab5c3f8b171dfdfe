// Recording helpers shared by every op's autograd kernel.
#include "vt/autograd/record.h"

namespace vt::autograd {

std::shared_ptr<FunctionNode> make_node(std::string name, std::initializer_list<const Tensor*> inputs,
                                        FunctionNode::Backward backward) {
  auto node = new_node<FunctionNode>(std::move(name), std::move(backward));
  for (const Tensor* t : inputs) node->add_next_edge(t->defined() ? gradient_edge(*t) : Edge{});
  return node;
}

void check_inplace(const Tensor& self, std::string_view op) {
  VT_CHECK(!(is_leaf(self) && self.requires_grad()),
           "a leaf Variable that requires grad is being used in an in-place operation.");
  if (self.impl()->is_view()) {
    Tensor base(self.impl()->view_base());
    VT_CHECK(!(is_leaf(base) && base.requires_grad()),
             "a view of a leaf Variable that requires grad is being used in an in-place operation.");
  }
}

namespace {

// Where a view lies in its base: enough to find the same region in a gradient of the base.
struct ViewGeometry {
  DimVector sizes, strides;
  int64_t offset;  // relative to the base's storage offset
  DimVector base_sizes, base_strides;
};

// A tensor with the base's sizes *and strides* holding `grad`, so the view's geometry
// addresses the same elements in it.
Tensor like_base(const Tensor& grad, const ViewGeometry& view) {
  VT_CHECK_KIND(!(is_grad_enabled() && grad.requires_grad()), ErrorKind::NotImplemented,
                "double backward through an in-place operation on a view is not supported yet");
  Tensor out = empty_strided_tensor(view.base_sizes, view.base_strides, grad.dtype(), grad.device());
  copy_(out, grad);
  return out;
}
Tensor region_of(const Tensor& base_like, const ViewGeometry& view) {
  return as_strided(base_like, view.sizes, view.strides, base_like.storage_offset() + view.offset);
}

// The base's history after its view `self` was overwritten by `result` (torch's CopySlices):
// outside the view the gradient goes to the base's old history, inside it to `result`.
ViewGeometry geometry_of(const Tensor& self, const Tensor& base) {
  return ViewGeometry{DimVector(self.sizes()), DimVector(self.strides()), self.storage_offset() - base.storage_offset(),
                      DimVector(base.sizes()), DimVector(base.strides())};
}

void rebase_view_history(const Tensor& self, const Tensor& result) {
  Tensor base(self.impl()->view_base());
  ViewGeometry view = geometry_of(self, base);
  auto copy_slices = make_node("CopySlices", {&base, &result}, [view](FunctionNode& n, const TensorList& g) {
    Tensor grad_base = like_base(g[0], view);
    Tensor region = region_of(grad_base, view);
    Tensor grad_result = n.needs_input_grad(1) ? clone(region) : Tensor();
    if (n.needs_input_grad(0)) fill_(region, 0);
    return TensorList{n.needs_input_grad(0) ? grad_base : Tensor(), grad_result};
  });
  set_history(base, copy_slices);
  set_view_history_from_base(self);
}

}  // namespace

void set_view_history_from_base(const Tensor& self) {
  Tensor base(self.impl()->view_base());
  ViewGeometry view = geometry_of(self, base);
  set_history(self, make_node("AsStridedBackward0", {&base}, [view](FunctionNode&, const TensorList& g) {
    Tensor grad_base = like_base(zeros(view.base_sizes, g[0].dtype(), g[0].device()), view);
    copy_(region_of(grad_base, view), g[0]);
    return TensorList{grad_base};
  }));
}

const Tensor& apply_inplace(const Tensor& self, std::string_view op,
                            const std::function<Tensor(const Tensor& original)>& functional) {
  check_inplace(self, op);
  // The functional form may save its input for backward, and self is about to change: give it
  // a copy of self's old value (with self's history, if any).
  Tensor original = clone(self);
  Tensor result = functional(original);
  bool tracked = self.requires_grad() || (self.impl()->is_view() && self.impl()->view_base()->requires_grad());
  if (tracked && !result.requires_grad()) {
    // The new values do not depend on the graph (fill_, copy_ from a constant), but self's
    // old history must still be cut: it now receives a zero gradient.
    // In self's dtype, so a bool result (an in-place comparison) can carry the history.
    result = below_autograd([&] {
      return result.dtype() == self.dtype() ? make_alias(result, result.sizes(), result.strides(), result.storage_offset())
                                            : to(result, self.dtype());
    });
    // torch's names for these nodes.
    std::string name = op == "fill_" ? "FillBackward2" : op == "copy_" ? "CopyBackwards" : std::string(op) + "Backward";
    set_history(result, make_node(name, {&original}, [](FunctionNode&, const TensorList& g) {
      return TensorList{zeros_like(g[0])};
    }));
  }
  VT_CHECK(std::equal(result.sizes().begin(), result.sizes().end(), self.sizes().begin(), self.sizes().end()),
           "output with shape ", shape_str(self.sizes()), " doesn't match the broadcast shape ", shape_str(result.sizes()));
  VT_CHECK(can_cast(result.dtype(), self.dtype()), "result type ", dtype_short_name(result.dtype()),
           " can't be cast to the desired output type ", dtype_short_name(self.dtype()));
  below_autograd([&] { return copy_(self, result); });
  if (has_tangent(result) || has_tangent(self)) {
    // The new tangent, written into self's tangent when it has one: a view's tangent is a
    // view of its base's, so the base sees the update too.
    Tensor tangent = has_tangent(result) ? tangent_of(result) : zeros_like(self);
    if (has_tangent(self)) below_autograd([&] { return copy_(tangent_of(self), tangent); });
    else set_tangent(self, tangent);
  }
  if (!result.requires_grad()) return self;
  if (self.impl()->is_view()) {
    rebase_view_history(self, result);
    return self;
  }
  AutogradMeta& from = *meta(result);
  AutogradMeta& to = materialize_meta(self);
  to.grad_fn = from.grad_fn;
  to.output_nr = from.output_nr;
  to.requires_grad = false;
  self.impl()->set_requires_grad(true);
  return self;
}

Tensor tangent_or_zeros(const Tensor& t) {
  Tensor tangent = tangent_of(t);
  return tangent.defined() ? tangent : zeros_like(t);
}

void refuse_out(std::string_view op) {
  fail(ErrorKind::Runtime, op, "(): functions with out=... arguments don't support automatic differentiation, but "
       "one of the arguments requires grad.");
}

Tensor sum_to(const Tensor& grad, IntArrayRef sizes) {
  if (std::equal(grad.sizes().begin(), grad.sizes().end(), sizes.begin(), sizes.end())) return grad;
  int64_t leading = grad.dim() - static_cast<int64_t>(sizes.size());
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < grad.dim(); ++d) {
    if (d < leading || (sizes[d - leading] == 1 && grad.sizes()[d] != 1)) dims.push_back(d);
  }
  Tensor reduced = dims.empty() ? grad : sum(grad, dims, true);
  return reshape(reduced, sizes);
}

}  // namespace vt::autograd
