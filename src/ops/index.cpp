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

// scatter: the overwritten elements of self get no gradient; src's come from where they landed.
Tensor scatter_grad(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  Tensor out = autograd::below_autograd([&] { return scatter(self, dim, index, src); });
  autograd::forward_tangent(out, {&self, &src}, [&] {
    return scatter(autograd::tangent_or_zeros(self), dim, index, autograd::tangent_or_zeros(src));
  });
  if (!autograd::any_requires_grad({&self, &src})) return out;
  auto node = autograd::make_node("ScatterBackward0", {&self, &src}, [dim](FunctionNode& n, const TensorList& g) {
    const Tensor& idx = n.saved(0);
    Tensor grad_self, grad_src;
    if (n.needs_input_grad(0)) grad_self = scatter(g[0], dim, idx, zeros(idx.sizes(), g[0].dtype(), g[0].device()));
    if (n.needs_input_grad(1)) grad_src = gather(g[0], dim, idx);
    return TensorList{grad_self, grad_src};
  });
  node->save(index);
  autograd::set_history(out, node);
  return out;
}

// scatter_reduce: sum and mean spread the gradient like scatter_add (mean divides by the count);
// amax and amin give it to the elements equal to the result, split evenly between ties;
// prod multiplies by the product of the others (refused when an input is zero).
Tensor scatter_reduce_grad(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src,
                           std::string_view reduce, bool include_self) {
  Tensor out = autograd::below_autograd([&] { return scatter_reduce(self, dim, index, src, reduce, include_self); });
  if (!autograd::any_requires_grad({&self, &src})) return out;
  std::string mode(reduce);
  auto node = autograd::make_node("ScatterReduceBackward0", {&self, &src}, [dim, mode, include_self](
                                                                              FunctionNode& n, const TensorList& g) {
    const Tensor &idx = n.saved(0), &self = n.saved(1), &src = n.saved(2), &result = n.saved(3);
    // Positions of self that the scatter wrote (their own value only counts with include_self).
    Tensor written = scatter(zeros_like(g[0]), dim, idx, full(idx.sizes(), 1, g[0].dtype(), g[0].device()));
    Tensor self_weight = include_self ? ones(self.sizes(), g[0].dtype(), g[0].device()) : 1 - written;
    Tensor grad_self, grad_src;
    if (mode == "sum" || mode == "mean") {  // (the kernel has checked the name)
      Tensor scaled = g[0];
      if (mode == "mean") {
        Tensor count = scatter_add(self_weight, dim, idx, ones(idx.sizes(), g[0].dtype(), g[0].device()));
        scaled = g[0] / count;
      }
      grad_self = scaled * self_weight;
      grad_src = gather(scaled, dim, idx);
    } else if (mode == "amax" || mode == "amin" || mode == "max" || mode == "min") {
      Tensor self_hits = to(eq(self, result), g[0].dtype()) * self_weight;
      Tensor src_hits = to(eq(src, gather(result, dim, idx)), g[0].dtype());
      Tensor count = scatter_add(self_hits, dim, idx, src_hits);
      Tensor share = g[0] / count;
      grad_self = where(gt(self_hits, scalar_to_tensor(0)), share, zeros_like(share));
      grad_src = gather(share, dim, idx) * src_hits;
    } else {
      VT_CHECK_KIND(!any(eq(self, scalar_to_tensor(0))).item().to_int() != 0 && !any(eq(src, scalar_to_tensor(0))).item().to_int() != 0,
                    ErrorKind::NotImplemented, "scatter_reduce(): the gradient of reduce='prod' with zeros in the "
                    "input is not implemented yet");
      grad_self = where(gt(self_weight, scalar_to_tensor(0)), g[0] * result / self, zeros_like(g[0]));
      grad_src = gather(g[0] * result, dim, idx) / src;
    }
    return TensorList{grad_self, grad_src};
  });
  node->save(index);
  node->save(self);
  node->save(src);
  autograd::set_history(out, node);
  node->save(out, /*is_output=*/true);
  return out;
}

Tensor scatter_value_composite(const Tensor& self, int64_t dim, const Tensor& index, const Scalar& value) {
  return scatter(self, dim, index, expand(full({}, value, self.dtype(), self.device()), index.sizes()));
}

// The older scatter(reduce='add' | 'multiply') spelling of scatter_reduce.
Tensor scatter_reduce_old_composite(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src,
                                    std::string_view reduce) {
  VT_CHECK(reduce == "add" || reduce == "multiply", "reduce argument must be either add or multiply, got ", reduce);
  return scatter_reduce(self, dim, index, src, reduce == "add" ? "sum" : "prod", true);
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
  r.define("scatter.src(Tensor self, int dim, Tensor index, Tensor src) -> Tensor");
  r.define("scatter.value(Tensor self, int dim, Tensor index, Scalar value) -> Tensor");
  r.define("scatter.reduce(Tensor self, int dim, Tensor index, Tensor src, *, str reduce) -> Tensor");
  r.define("scatter_reduce.two(Tensor self, int dim, Tensor index, Tensor src, str reduce, *, bool include_self=True) -> Tensor");
  r.define("index_select(Tensor self, int dim, Tensor index) -> Tensor");
  r.define("index_add(Tensor self, int dim, Tensor index, Tensor source, *, Scalar alpha=1) -> Tensor");
  r.define("masked_fill.Scalar(Tensor self, Tensor mask, Scalar value) -> Tensor");
  r.define("embedding(Tensor weight, Tensor indices, SymInt padding_idx=-1, bool scale_grad_by_freq=False, bool sparse=False) -> Tensor");
  register_kernel("gather", DispatchKey::Autograd, &gather_grad);
  register_kernel("scatter_add", DispatchKey::Autograd, &scatter_add_grad);
  register_kernel("scatter.src", DispatchKey::Autograd, &scatter_grad);
  register_kernel("scatter_reduce.two", DispatchKey::Autograd, &scatter_reduce_grad);
  register_composite("scatter.value", &scatter_value_composite);
  register_composite("scatter.reduce", &scatter_reduce_old_composite);
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
Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  static const TypedOp<Tensor(const Tensor&, int64_t, const Tensor&, const Tensor&)> op("scatter.src");
  return op(self, dim, index, src);
}
Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, const Scalar& value) {
  static const TypedOp<Tensor(const Tensor&, int64_t, const Tensor&, const Scalar&)> op("scatter.value");
  return op(self, dim, index, value);
}
Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src, std::string_view reduce) {
  static const TypedOp<Tensor(const Tensor&, int64_t, const Tensor&, const Tensor&, std::string_view)> op("scatter.reduce");
  return op(self, dim, index, src, reduce);
}
Tensor scatter_reduce(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src, std::string_view reduce,
                      bool include_self) {
  static const TypedOp<Tensor(const Tensor&, int64_t, const Tensor&, const Tensor&, std::string_view, bool)> op(
      "scatter_reduce.two");
  return op(self, dim, index, src, reduce, include_self);
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
