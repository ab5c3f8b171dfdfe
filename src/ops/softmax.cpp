// softmax and log_softmax as backend kernels (`_softmax`, `_log_softmax`, fused on the CPU)
// with their derivatives. The backward is a fused kernel too; when the backward itself is
// recorded (create_graph), it is written in differentiable ops instead, so double backward
// works.
#include "vt/autograd/record.h"
#include "vt/ops.h"

namespace vt {

namespace {

using autograd::FunctionNode;
using autograd::TensorList;

std::vector<int64_t> just(int64_t d) { return {d}; }

// softmax: y * (g - sum(g * y)); log_softmax: g - exp(y) * sum(g).
Tensor softmax_backward_ops(const Tensor& g, const Tensor& y, int64_t dim, bool log) {
  if (y.dim() == 0) return log ? zeros_like(g) : mul(g, zeros_like(g));
  if (log) return sub(g, mul(exp(y), sum(g, just(dim), true)));
  return mul(y, sub(g, sum(mul(g, y), just(dim), true)));
}

template <bool Log>
Tensor softmax_grad(const Tensor& self, int64_t dim, bool half_to_float) {
  Tensor out = autograd::below_autograd([&] { return Log ? _log_softmax(self, dim, half_to_float) : _softmax(self, dim, half_to_float); });
  int64_t d = wrap_dim(dim, std::max<int64_t>(self.dim(), 1));
  autograd::forward_tangent(out, {&self}, [&] {
    const Tensor& t = autograd::tangent_of(self);
    if (self.dim() == 0) return zeros_like(t);
    // d softmax = y * (t - sum(t * y)); d log_softmax = t - sum(t * softmax).
    Tensor p = Log ? exp(out) : out;
    Tensor centered = sub(t, sum(mul(t, p), just(d), true));
    return Log ? centered : mul(out, centered);
  });
  if (!self.requires_grad()) return out;
  auto node = autograd::make_node(Log ? "LogSoftmaxBackward0" : "SoftmaxBackward0", {&self},
                                  [d, type = self.dtype()](FunctionNode& n, const TensorList& g) {
    const Tensor& y = n.saved(0);
    if (autograd::is_grad_enabled()) return TensorList{softmax_backward_ops(g[0], y, d, Log)};
    return TensorList{Log ? _log_softmax_backward_data(g[0], y, d, type) : _softmax_backward_data(g[0], y, d, type)};
  });
  autograd::set_history(out, node);
  node->save(out, true);
  return out;
}

}  // namespace

VT_REGISTRATION(softmax_ops) {
  Registry& r = Registry::instance();
  r.define("_softmax(Tensor self, int dim, bool half_to_float) -> Tensor");
  r.define("_log_softmax(Tensor self, int dim, bool half_to_float) -> Tensor");
  r.define("_softmax_backward_data(Tensor grad_output, Tensor output, int dim, ScalarType input_dtype) -> Tensor");
  r.define("_log_softmax_backward_data(Tensor grad_output, Tensor output, int dim, ScalarType input_dtype) -> Tensor");
  register_kernel("_softmax", DispatchKey::Autograd, &softmax_grad<false>);
  register_kernel("_log_softmax", DispatchKey::Autograd, &softmax_grad<true>);
}

Tensor _softmax(const Tensor& self, int64_t dim, bool half_to_float) {
  static const TypedOp<Tensor(const Tensor&, int64_t, bool)> op("_softmax");
  return op(self, dim, half_to_float);
}
Tensor _log_softmax(const Tensor& self, int64_t dim, bool half_to_float) {
  static const TypedOp<Tensor(const Tensor&, int64_t, bool)> op("_log_softmax");
  return op(self, dim, half_to_float);
}
Tensor _softmax_backward_data(const Tensor& grad_output, const Tensor& output, int64_t dim, ScalarType input_dtype) {
  static const TypedOp<Tensor(const Tensor&, const Tensor&, int64_t, ScalarType)> op("_softmax_backward_data");
  return op(grad_output, output, dim, input_dtype);
}
Tensor _log_softmax_backward_data(const Tensor& grad_output, const Tensor& output, int64_t dim, ScalarType input_dtype) {
  static const TypedOp<Tensor(const Tensor&, const Tensor&, int64_t, ScalarType)> op("_log_softmax_backward_data");
  return op(grad_output, output, dim, input_dtype);
}

}  // namespace vt
