// Derivatives of the reductions.
#include "vt/autograd/record.h"
#include "src/ops/reduce_rules.h"

namespace vt::autograd {
namespace {

// Brings a reduced gradient back to the input's shape (unsqueezing the reduced dims).
Tensor expand_reduced(const Tensor& grad, const reduce::ReductionShape& shape, IntArrayRef input_sizes) {
  return expand(reshape(grad, shape.kept_shape), input_sizes);
}

Tensor sum_grad(const Tensor& self, OptionalDims dims, bool keepdim, std::optional<ScalarType> dtype) {
  Tensor out = below_autograd([&] { return sum(self, dims, keepdim, dtype); });
  forward_tangent(out, {&self}, [&] { return sum(tangent_of(self), dims, keepdim, dtype); });
  if (!self.requires_grad()) return out;
  auto shape = reduce::reduction_shape(self, dims, keepdim);
  // torch names the full reduction's node ...0 and the one over dims ...1.
  const char* name = dims && !dims->empty() ? "SumBackward1" : "SumBackward0";
  set_history(out, make_node(name, {&self}, [shape, sizes = DimVector(self.sizes())](FunctionNode&, const TensorList& g) {
    return TensorList{expand_reduced(g[0], shape, sizes)};
  }));
  return out;
}

Tensor mean_grad(const Tensor& self, OptionalDims dims, bool keepdim, std::optional<ScalarType> dtype) {
  Tensor out = below_autograd([&] { return mean(self, dims, keepdim, dtype); });
  forward_tangent(out, {&self}, [&] { return mean(tangent_of(self), dims, keepdim, dtype); });
  if (!self.requires_grad()) return out;
  auto shape = reduce::reduction_shape(self, dims, keepdim);
  const char* name = dims && !dims->empty() ? "MeanBackward1" : "MeanBackward0";
  set_history(out, make_node(name, {&self}, [shape, sizes = DimVector(self.sizes())](FunctionNode&, const TensorList& g) {
    return TensorList{expand_reduced(g[0], shape, sizes) / static_cast<double>(shape.inner)};
  }));
  return out;
}

// max()/min() over everything: the gradient is shared evenly among the tied extremes.
template <bool IsMax>
Tensor extreme_all_grad(const Tensor& self) {
  Tensor out = below_autograd([&] { return IsMax ? max(self) : min(self); });
  forward_tangent(out, {&self}, [&] {
    Tensor mask = eq(self, out);
    return sum(where(mask, tangent_of(self), scalar_to_tensor(0.0))) / sum(mask);
  });
  if (!self.requires_grad()) return out;
  auto node = make_node(IsMax ? "MaxBackward1" : "MinBackward1", {&self}, [](FunctionNode& n, const TensorList& g) {
    Tensor x = n.saved(0), result = n.saved(1);
    Tensor mask = eq(x, result);
    Tensor count = sum(mask);
    return TensorList{where(mask, g[0] / count, scalar_to_tensor(0.0))};
  });
  node->save(self);
  set_history(out, node);
  node->save(out, true);
  return out;
}

// max(dim)/min(dim): the gradient goes to the selected index of each slice.
template <bool IsMax>
std::tuple<Tensor, Tensor> extreme_dim_grad(const Tensor& self, int64_t dim, bool keepdim) {
  auto [values, indices] = below_autograd([&] { return IsMax ? max_dim(self, dim, keepdim) : min_dim(self, dim, keepdim); });
  int64_t d = wrap_dim(dim, self.dim());
  forward_tangent(values, {&self}, [&, &idx = indices] {
    // The tangent at the selected index of each slice.
    Tensor tangent = tangent_of(self);
    if (self.dim() == 0) return tangent;
    Tensor index = keepdim ? idx : unsqueeze(idx, d);
    DimVector position_shape(self.dim(), 1);
    position_shape[d] = self.size(d);
    Tensor positions = reshape(arange(0, self.size(d), 1, ScalarType::Int64, self.device()), position_shape);
    return sum(where(eq(positions, index), tangent, scalar_to_tensor(0.0)), std::vector<int64_t>{d}, keepdim);
  });
  if (!self.requires_grad()) return {values, indices};
  auto node = make_node(IsMax ? "MaxBackward0" : "MinBackward0", {&self},
                        [d, keepdim, sizes = DimVector(self.sizes())](FunctionNode& n, const TensorList& g) {
    Tensor index = n.saved(0);
    Tensor grad = g[0];
    if (sizes.empty()) return TensorList{grad};
    if (!keepdim) {
      index = unsqueeze(index, d);
      grad = unsqueeze(grad, d);
    }
    DimVector position_shape(sizes.size(), 1);
    position_shape[d] = sizes[d];
    Tensor positions = reshape(arange(0, sizes[d], 1, ScalarType::Int64, grad.device()), position_shape);
    return TensorList{where(eq(positions, index), expand(grad, sizes), scalar_to_tensor(0.0))};
  });
  node->save(indices);
  set_history(values, node);
  return {values, indices};
}

// amax/amin: the gradient is shared evenly among the tied extremes of each slice.
template <bool IsMax>
Tensor amax_grad(const Tensor& self, OptionalDims dims, bool keepdim) {
  Tensor out = below_autograd([&] { return IsMax ? amax(self, dims, keepdim) : amin(self, dims, keepdim); });
  auto shape = reduce::reduction_shape(self, dims, keepdim);
  auto distribute = [shape, sizes = DimVector(self.sizes())](const Tensor& g, const Tensor& x, const Tensor& result) {
    Tensor kept = reshape(result, shape.kept_shape);
    Tensor mask = eq(x, kept);
    std::vector<int64_t> reduced;
    for (size_t d = 0; d < shape.reduced.size(); ++d) if (shape.reduced[d]) reduced.push_back(static_cast<int64_t>(d));
    Tensor count = reduced.empty() ? to(mask, g.dtype()) : sum(mask, reduced, true);
    return where(mask, expand(reshape(g, shape.kept_shape), sizes) / count, scalar_to_tensor(0.0));
  };
  forward_tangent(out, {&self}, [&] {
    Tensor spread = distribute(ones(out.sizes(), out.dtype(), out.device()), self, out);
    Tensor weighted = mul(spread, tangent_of(self));
    std::vector<int64_t> reduced;
    for (size_t d = 0; d < shape.reduced.size(); ++d) if (shape.reduced[d]) reduced.push_back(static_cast<int64_t>(d));
    return reduced.empty() ? reshape(weighted, out.sizes()) : sum(weighted, reduced, keepdim);
  });
  if (!self.requires_grad()) return out;
  auto node = make_node(IsMax ? "AmaxBackward0" : "AminBackward0", {&self}, [distribute](FunctionNode& n, const TensorList& g) {
    return TensorList{distribute(g[0], n.saved(0), n.saved(1))};
  });
  node->save(self);
  set_history(out, node);
  node->save(out, true);
  return out;
}

}  // namespace

VT_REGISTRATION(reduce_autograd) {
  register_autograd("amax", &amax_grad<true>);
  register_autograd("amin", &amax_grad<false>);
  register_autograd("sum.dim_IntList", &sum_grad);
  register_autograd("mean.dim", &mean_grad);
  register_autograd("max", &extreme_all_grad<true>);
  register_autograd("min", &extreme_all_grad<false>);
  register_autograd("max.dim", &extreme_dim_grad<true>);
  register_autograd("min.dim", &extreme_dim_grad<false>);
  // argmax/argmin return indices: not differentiable, no Autograd kernel.
}

}  // namespace vt::autograd
