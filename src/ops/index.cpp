// Indexing by index tensors: schemas, entry points, derivatives (gather <-> scatter_add,
// index_select <-> index_add) and the ops composed of them (embedding, masked_fill).
#include "vt/autograd/record.h"
#include "vt/ops.h"

namespace vt {

namespace {

using autograd::FunctionNode;
using autograd::TensorList;

Tensor gather_grad(const Tensor& self, int64_t dim, const Tensor& index) {
  Tensor out = autograd::below_autograd([&] { return gather(self, dim, index); });
  autograd::forward_tangent(out, {&self}, [&] { return gather(autograd::tangent_of(self), dim, index); });
  if (!self.requires_grad()) return out;
  auto node = autograd::make_node("GatherBackward0", {&self}, [dim, sizes = DimVector(self.sizes())](FunctionNode& n,
                                                                                                     const TensorList& g) {
    Tensor base = zeros(sizes, g[0].dtype(), g[0].device());
    return TensorList{scatter_add(base, dim, n.saved(0), g[0])};
  });
  node->save(index);
  autograd::set_history(out, node);
  return out;
}

Tensor scatter_add_grad(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  Tensor out = autograd::below_autograd([&] { return scatter_add(self, dim, index, src); });
  if (!autograd::any_requires_grad({&self, &src})) return out;
  auto node = autograd::make_node("ScatterAddBackward0", {&self, &src}, [dim](FunctionNode& n, const TensorList& g) {
    return TensorList{g[0], n.needs_input_grad(1) ? gather(g[0], dim, n.saved(0)) : Tensor()};
  });
  node->save(index);
  autograd::set_history(out, node);
  return out;
}

Tensor index_select_grad(const Tensor& self, int64_t dim, const Tensor& index) {
  Tensor out = autograd::below_autograd([&] { return index_select(self, dim, index); });
  autograd::forward_tangent(out, {&self}, [&] { return index_select(autograd::tangent_of(self), dim, index); });
  if (!self.requires_grad()) return out;
  auto node = autograd::make_node("IndexSelectBackward0", {&self}, [dim, sizes = DimVector(self.sizes())](
                                                                       FunctionNode& n, const TensorList& g) {
    Tensor base = zeros(sizes, g[0].dtype(), g[0].device());
    return TensorList{index_add(base, dim, n.saved(0), g[0], 1)};
  });
  node->save(index);
  autograd::set_history(out, node);
  return out;
}

Tensor index_add_grad(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha) {
  Tensor out = autograd::below_autograd([&] { return index_add(self, dim, index, source, alpha); });
  if (!autograd::any_requires_grad({&self, &source})) return out;
  auto node = autograd::make_node("IndexAddBackward0", {&self, &source}, [dim, alpha, source_dim = source.dim()](
                                                                            FunctionNode& n, const TensorList& g) {
    Tensor grad_source;
    if (n.needs_input_grad(1)) {
      grad_source = index_select(g[0], dim, n.saved(0));
      if (source_dim == 0) grad_source = reshape(grad_source, std::vector<int64_t>{});
      grad_source = grad_source * alpha;
    }
    return TensorList{g[0], grad_source};
  });
  node->save(index);
  autograd::set_history(out, node);
  return out;
}

Tensor masked_fill_composite(const Tensor& self, const Tensor& mask, const Scalar& value) {
  VT_CHECK(mask.dtype() == ScalarType::Bool, "masked_fill_ only supports boolean masks, but got mask with dtype ",
           dtype_short_name(mask.dtype()));
  // The value takes self's dtype (checked for overflow by fill_), as in torch.
  Tensor filler = full({}, value, self.dtype(), self.device());
  return where(mask, filler, self);
}

Tensor embedding_composite(const Tensor& weight, const Tensor& indices, int64_t padding_idx, bool scale_grad_by_freq,
                           bool sparse) {
  VT_CHECK_KIND(!scale_grad_by_freq && !sparse, ErrorKind::NotImplemented,
                "embedding(): scale_grad_by_freq and sparse gradients are not supported yet");
  VT_CHECK(weight.dim() == 2, "'weight' must be 2-D");
  VT_CHECK(indices.dtype() == ScalarType::Int64 || indices.dtype() == ScalarType::Int32,
           "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but got ",
           dtype_short_name(indices.dtype()), " instead (while checking arguments for embedding)");
  DimVector shape(indices.sizes());
  shape.push_back(weight.size(1));
  Tensor rows = reshape(index_select(weight, 0, reshape(indices, std::vector<int64_t>{-1})), shape);
  if (padding_idx < 0) return rows;
  // The padding row reads as usual but gets no gradient: its copies are taken without history.
  Tensor padding = unsqueeze(eq(indices, scalar_to_tensor(padding_idx)), -1);
  return where(padding, autograd::detach(rows), rows);
}

}  // namespace

VT_REGISTRATION(index_ops) {
  Registry& r = Registry::instance();
  r.define("gather(Tensor self, int dim, Tensor index, *, bool sparse_grad=False) -> Tensor");
  r.define("scatter_add(Tensor self, int dim, Tensor index, Tensor src) -> Tensor");
  r.define("index_select(Tensor self, int dim, Tensor index) -> Tensor");
  r.define("index_add(Tensor self, int dim, Tensor index, Tensor source, *, Scalar alpha=1) -> Tensor");
  r.define("masked_fill.Scalar(Tensor self, Tensor mask, Scalar value) -> Tensor");
  r.define("embedding(Tensor weight, Tensor indices, SymInt padding_idx=-1, bool scale_grad_by_freq=False, bool sparse=False) -> Tensor");
  register_kernel("gather", DispatchKey::Autograd, &gather_grad);
  register_kernel("scatter_add", DispatchKey::Autograd, &scatter_add_grad);
  register_kernel("index_select", DispatchKey::Autograd, &index_select_grad);
  register_kernel("index_add", DispatchKey::Autograd, &index_add_grad);
  register_composite("masked_fill.Scalar", &masked_fill_composite);
  register_composite("embedding", &embedding_composite);
}

Tensor gather(const Tensor& self, int64_t dim, const Tensor& index) {
  static const TypedOp<Tensor(const Tensor&, int64_t, const Tensor&)> op("gather");
  return op(self, dim, index);
}
Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  static const TypedOp<Tensor(const Tensor&, int64_t, const Tensor&, const Tensor&)> op("scatter_add");
  return op(self, dim, index, src);
}
Tensor index_select(const Tensor& self, int64_t dim, const Tensor& index) {
  static const TypedOp<Tensor(const Tensor&, int64_t, const Tensor&)> op("index_select");
  return op(self, dim, index);
}
Tensor index_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha) {
  static const TypedOp<Tensor(const Tensor&, int64_t, const Tensor&, const Tensor&, const Scalar&)> op("index_add");
  return op(self, dim, index, source, alpha);
}
Tensor masked_fill(const Tensor& self, const Tensor& mask, const Scalar& value) {
  static const TypedOp<Tensor(const Tensor&, const Tensor&, const Scalar&)> op("masked_fill.Scalar");
  return op(self, mask, value);
}
Tensor embedding(const Tensor& weight, const Tensor& indices, int64_t padding_idx, bool scale_grad_by_freq, bool sparse) {
  static const TypedOp<Tensor(const Tensor&, const Tensor&, int64_t, bool, bool)> op("embedding");
  return op(weight, indices, padding_idx, scale_grad_by_freq, sparse);
}

}  // namespace vt
