// Recording helpers shared by every op's autograd kernel.
#include "vt/autograd/record.h"

namespace vt::autograd {

std::shared_ptr<FunctionNode> make_node(std::string name, std::initializer_list<const Tensor*> inputs,
                                        FunctionNode::Backward backward) {
  auto node = std::make_shared<FunctionNode>(std::move(name), std::move(backward));
  for (const Tensor* t : inputs) node->add_next_edge(t->defined() ? gradient_edge(*t) : Edge{});
  return node;
}

void check_inplace(const Tensor& self, std::string_view op) {
  VT_CHECK(!(is_leaf(self) && self.requires_grad()),
           "a leaf Variable that requires grad is being used in an in-place operation.");
  // The base of a view would not see the write in its history (torch rebases it with
  // CopySlices, which vibetensor does not have yet): refuse rather than compute wrong grads.
  VT_CHECK_KIND(!self.impl()->is_view(), ErrorKind::NotImplemented, op,
                "(): in-place operations on views are not supported yet while autograd records the graph; use the "
                "out-of-place form");
}

const Tensor& apply_inplace(const Tensor& self, std::string_view op,
                            const std::function<Tensor(const Tensor& original)>& functional) {
  check_inplace(self, op);
  Tensor original = self.requires_grad() ? clone(self) : self;
  Tensor result = functional(original);
  VT_CHECK(std::equal(result.sizes().begin(), result.sizes().end(), self.sizes().begin(), self.sizes().end()),
           "output with shape ", shape_str(self.sizes()), " doesn't match the broadcast shape ", shape_str(result.sizes()));
  VT_CHECK(can_cast(result.dtype(), self.dtype()), "result type ", dtype_short_name(result.dtype()),
           " can't be cast to the desired output type ", dtype_short_name(self.dtype()));
  below_autograd([&] { return copy_(self, result); });
  if (result.requires_grad()) {
    AutogradMeta& from = *meta(result);
    AutogradMeta& to = materialize_meta(self);
    to.grad_fn = from.grad_fn;
    to.output_nr = from.output_nr;
    to.requires_grad = false;
    self.impl()->set_requires_grad(true);
  }
  return self;
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
