// Scans along a dim (cumsum, cumprod) and the product reduction (prod), with derivatives.
// The cumprod and prod gradients stay exact when the input holds zeros: they never divide by
// an element that may be zero.
#include "vt/autograd/record.h"
#include "vt/ops.h"

namespace vt {

namespace {

using autograd::FunctionNode;
using autograd::TensorList;

std::vector<int64_t> just(int64_t d) { return {d}; }

// sum_{j >= k} t_j along d.
Tensor reverse_cumsum(const Tensor& t, int64_t d) { return flip(cumsum(flip(t, just(d)), d), just(d)); }

// prod_{j < k} x_j along d (1 at the first position).
Tensor exclusive_cumprod(const Tensor& x, int64_t d) {
  int64_t n = x.size(d);
  DimVector one_shape(x.sizes());
  one_shape[d] = 1;
  Tensor first = ones(one_shape, x.dtype(), x.device());
  if (n <= 1) return expand(first, x.sizes());
  Tensor parts[] = {first, narrow(cumprod(x, d), d, 0, n - 1)};
  return cat(parts, d);
}

// prod_{j != k} x_j along d, without division.
Tensor product_of_others(const Tensor& x, int64_t d) {
  return mul(exclusive_cumprod(x, d), flip(exclusive_cumprod(flip(x, just(d)), d), just(d)));
}

// d/dx_i of sum_k g_k * prod_{j<=k} x_j. Before the first zero of a line it is
// reverse_cumsum(g * out) / x_i; at the first zero, the same sum with that zero read as 1;
// after it, 0.
Tensor cumprod_backward(const Tensor& g, const Tensor& x, const Tensor& out, int64_t d) {
  Tensor zero = scalar_to_tensor(0);
  Tensor is_zero = eq(x, zero);
  Tensor zeros_so_far = cumsum(is_zero, d);
  Tensor before = eq(zeros_so_far, zero);
  Tensor first_zero = mul(is_zero, eq(zeros_so_far, scalar_to_tensor(1)));
  Tensor one = ones({}, x.dtype(), x.device());
  Tensor before_term = div(reverse_cumsum(mul(g, out), d), where(before, x, one));
  Tensor at_zero_term = reverse_cumsum(mul(g, cumprod(where(first_zero, one, x), d)), d);
  return where(before, before_term, where(first_zero, at_zero_term, zeros({}, g.dtype(), g.device())));
}

Tensor cumsum_grad(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype) {
  Tensor out = autograd::below_autograd([&] { return cumsum(self, dim, dtype); });
  autograd::forward_tangent(out, {&self}, [&] { return cumsum(autograd::tangent_of(self), dim, dtype); });
  if (!self.requires_grad()) return out;
  int64_t d = wrap_dim(dim, std::max<int64_t>(self.dim(), 1));
  auto node = autograd::make_node("CumsumBackward0", {&self}, [d](FunctionNode&, const TensorList& g) {
    return TensorList{g[0].dim() == 0 ? g[0] : reverse_cumsum(g[0], d)};
  });
  autograd::set_history(out, node);
  return out;
}

Tensor cumprod_grad(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype) {
  Tensor out = autograd::below_autograd([&] { return cumprod(self, dim, dtype); });
  int64_t d = wrap_dim(dim, std::max<int64_t>(self.dim(), 1));
  autograd::forward_tangent(out, {&self}, [&] {
    // d out_k = sum_{i<=k} t_i * prod_{j<=k, j != i} x_j: a cumsum of t times the others' product.
    const Tensor& t = autograd::tangent_of(self);
    if (self.dim() == 0) return t;
    int64_t n = self.size(d);
    Tensor result = zeros_like(out);
    for (int64_t i = 0; i < n; ++i) {  // O(n) scans, each exact with zeros
      Tensor x_one = index_fill(self, d, full(std::vector<int64_t>{1}, i, ScalarType::Int64, self.device()), ones({}, self.dtype()));
      Tensor mask = ge(arange(0, n, 1, ScalarType::Int64, self.device()), scalar_to_tensor(i));
      DimVector shape(self.dim(), 1);
      shape[d] = n;
      result = add(result, mul(mul(cumprod(x_one, d), narrow(t, d, i, 1)), reshape(mask, shape)));
    }
    return result;
  });
  if (!self.requires_grad()) return out;
  auto node = autograd::make_node("CumprodBackward0", {&self}, [d](FunctionNode& n, const TensorList& g) {
    const Tensor& x = n.saved(0);
    if (x.dim() == 0 || x.numel() == 0) return TensorList{g[0]};
    return TensorList{cumprod_backward(g[0], x, n.saved(1), d)};
  });
  node->save(self);
  autograd::set_history(out, node);
  node->save(out, true);
  return out;
}

// prod along d: g times the product of the other elements of each line.
Tensor prod_backward(const Tensor& g, const Tensor& x, int64_t d, bool keepdim) {
  Tensor grad = keepdim ? g : unsqueeze(g, d);
  return mul(grad, product_of_others(x, d));
}

Tensor prod_dim_grad(const Tensor& self, int64_t dim, bool keepdim, std::optional<ScalarType> dtype) {
  Tensor out = autograd::below_autograd([&] { return prod(self, dim, keepdim, dtype); });
  int64_t d = wrap_dim(dim, std::max<int64_t>(self.dim(), 1));
  autograd::forward_tangent(out, {&self}, [&] {
    if (self.dim() == 0) return autograd::tangent_of(self);
    return sum(mul(autograd::tangent_of(self), product_of_others(self, d)), just(d), keepdim);
  });
  if (!self.requires_grad()) return out;
  auto node = autograd::make_node("ProdBackward1", {&self}, [d, keepdim](FunctionNode& n, const TensorList& g) {
    const Tensor& x = n.saved(0);
    if (x.dim() == 0) return TensorList{g[0]};
    return TensorList{prod_backward(g[0], x, d, keepdim)};
  });
  node->save(self);
  autograd::set_history(out, node);
  return out;
}

Tensor prod_grad(const Tensor& self, std::optional<ScalarType> dtype) {
  Tensor out = autograd::below_autograd([&] { return prod(self, dtype); });
  autograd::forward_tangent(out, {&self}, [&] {
    Tensor flat = reshape(self, just(-1));
    return sum(mul(reshape(autograd::tangent_of(self), just(-1)), product_of_others(flat, 0)));
  });
  if (!self.requires_grad()) return out;
  auto node = autograd::make_node("ProdBackward0", {&self}, [](FunctionNode& n, const TensorList& g) {
    const Tensor& x = n.saved(0);
    Tensor others = product_of_others(reshape(x, just(-1)), 0);
    return TensorList{reshape(mul(g[0], others), x.sizes())};
  });
  node->save(self);
  autograd::set_history(out, node);
  return out;
}

}  // namespace

VT_REGISTRATION(scan_ops) {
  Registry& r = Registry::instance();
  r.define("cumsum(Tensor self, int dim, *, ScalarType? dtype=None) -> Tensor");
  r.define("cumprod(Tensor self, int dim, *, ScalarType? dtype=None) -> Tensor");
  r.define("prod(Tensor self, *, ScalarType? dtype=None) -> Tensor");
  r.define("prod.dim_int(Tensor self, int dim, bool keepdim=False, *, ScalarType? dtype=None) -> Tensor");
  register_kernel("cumsum", DispatchKey::Autograd, &cumsum_grad);
  register_kernel("cumprod", DispatchKey::Autograd, &cumprod_grad);
  register_kernel("prod", DispatchKey::Autograd, &prod_grad);
  register_kernel("prod.dim_int", DispatchKey::Autograd, &prod_dim_grad);
}

Tensor cumsum(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype) {
  static const TypedOp<Tensor(const Tensor&, int64_t, std::optional<ScalarType>)> op("cumsum");
  return op(self, dim, dtype);
}
Tensor cumprod(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype) {
  static const TypedOp<Tensor(const Tensor&, int64_t, std::optional<ScalarType>)> op("cumprod");
  return op(self, dim, dtype);
}
Tensor prod(const Tensor& self, std::optional<ScalarType> dtype) {
  static const TypedOp<Tensor(const Tensor&, std::optional<ScalarType>)> op("prod");
  return op(self, dtype);
}
Tensor prod(const Tensor& self, int64_t dim, bool keepdim, std::optional<ScalarType> dtype) {
  static const TypedOp<Tensor(const Tensor&, int64_t, bool, std::optional<ScalarType>)> op("prod.dim_int");
  return op(self, dim, keepdim, dtype);
}

}  // namespace vt
