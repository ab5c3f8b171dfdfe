// Layer normalization as torch's `native_layer_norm` (returning the output with the row
// means and reciprocal standard deviations the backward reuses) and its backward
// `native_layer_norm_backward`: fused kernels in src/cpu/norm_kernels.cpp and
// src/cuda/norm_kernels.cu. `layer_norm` (src/ops/loss.cpp) calls native_layer_norm. The
// formulas written in differentiable ops serve forward mode and double backward.
#include <algorithm>

#include "src/ops/norm.h"
#include "vt/autograd/record.h"
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt {

std::vector<int64_t> normalized_dims(const Tensor& input, IntArrayRef normalized_shape, const char* op) {
  int64_t n = static_cast<int64_t>(normalized_shape.size());
  VT_CHECK(n >= 1 && input.dim() >= n, op, "(): normalized_shape has ", n, " dims, input has ", input.dim());
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < n; ++i) {
    VT_CHECK(input.size(input.dim() - n + i) == normalized_shape[i], "Given normalized_shape=", shape_str(normalized_shape),
             ", expected input with shape [*, ", shape_str(normalized_shape).substr(1), ", but got input of size",
             shape_str(input.sizes()));
    dims.push_back(input.dim() - n + i);
  }
  return dims;
}

LayerNormShape layer_norm_shape(const Tensor& input, IntArrayRef normalized_shape) {
  int64_t inner = 1;
  for (int64_t s : normalized_shape) inner *= s;
  return {inner == 0 ? 0 : input.numel() / inner, inner};
}

DimVector layer_norm_statistics_shape(const Tensor& input, IntArrayRef normalized_shape) {
  DimVector shape(input.sizes().begin(), input.sizes().end());
  for (size_t i = shape.size() - normalized_shape.size(); i < shape.size(); ++i) shape[i] = 1;
  return shape;
}

Tensor layer_norm_parameter(const std::optional<Tensor>& t, const char* name, const Tensor& input,
                            IntArrayRef normalized_shape, const char* backend) {
  if (!t || !t->defined()) return Tensor();
  VT_CHECK(std::equal(t->sizes().begin(), t->sizes().end(), normalized_shape.begin(), normalized_shape.end()),
           "Expected ", name, " to be of same shape as normalized_shape, but got ", name, " of shape ",
           shape_str(t->sizes()), " and normalized_shape = ", shape_str(normalized_shape));
  bool half_input = input.dtype() == ScalarType::Float16 || input.dtype() == ScalarType::BFloat16;
  VT_CHECK(t->dtype() == input.dtype() || (half_input && t->dtype() == ScalarType::Float32),
           "mixed dtype (", backend, "): expect parameter to have scalar type of ",
           dtype_short_name(half_input ? ScalarType::Float32 : input.dtype()));
  return contiguous(to(*t, input.dtype()));
}

void check_layer_norm_backward(const Tensor& grad_out, const Tensor& input, const Tensor& mean, const Tensor& rstd,
                               const LayerNormShape& shape) {
  VT_CHECK(grad_out.numel() == input.numel() && mean.numel() == shape.rows && rstd.numel() == shape.rows,
           "native_layer_norm_backward(): grad_out, mean and rstd do not match input ", shape_str(input.sizes()));
}

namespace {

using autograd::FunctionNode;
using autograd::TensorList;

using LayerNormResult = std::tuple<Tensor, Tensor, Tensor>;

// native_layer_norm in differentiable ops.
LayerNormResult layer_norm_formula(const Tensor& input, IntArrayRef normalized_shape,
                                   const std::optional<Tensor>& weight, const std::optional<Tensor>& bias, double eps) {
  std::vector<int64_t> dims = normalized_dims(input, normalized_shape, "native_layer_norm");
  Tensor mu = mean(input, dims, true);
  Tensor centered = sub(input, mu);
  Tensor variance = mean(mul(centered, centered), dims, true);  // biased, as layer_norm uses
  Tensor inv_std = rsqrt(add(variance, scalar_to_tensor(eps)));
  Tensor out = mul(centered, inv_std);
  if (weight && weight->defined()) out = mul(out, *weight);
  if (bias && bias->defined()) out = add(out, *bias);
  return {out, mu, inv_std};
}

// The gradients of native_layer_norm in differentiable ops, with the statistics recomputed
// from the input so that a second backward sees how they depend on it.
TensorList layer_norm_backward_formula(const Tensor& g, const Tensor& input, IntArrayRef normalized_shape,
                                       const Tensor& weight, double eps) {
  std::vector<int64_t> dims = normalized_dims(input, normalized_shape, "native_layer_norm_backward");
  std::vector<int64_t> batch_dims;
  for (int64_t d = 0; d < input.dim() - static_cast<int64_t>(dims.size()); ++d) batch_dims.push_back(d);
  auto [out, mu, inv_std] = layer_norm_formula(input, normalized_shape, std::nullopt, std::nullopt, eps);
  const Tensor& xhat = out;
  Tensor gw = weight.defined() ? mul(g, weight) : g;
  Tensor grad_input = mul(inv_std, sub(sub(gw, mean(gw, dims, true)), mul(xhat, mean(mul(gw, xhat), dims, true))));
  auto over_batch = [&](const Tensor& t) { return batch_dims.empty() ? t : sum(t, batch_dims, false); };
  Tensor grad_weight = weight.defined() ? over_batch(mul(g, xhat)) : Tensor();
  return {grad_input, grad_weight, over_batch(g)};
}

LayerNormResult native_layer_norm_autograd(const Tensor& input, IntArrayRef normalized_shape,
                                           const std::optional<Tensor>& weight, const std::optional<Tensor>& bias,
                                           double eps) {
  Tensor w = weight.value_or(Tensor()), b = bias.value_or(Tensor());
  // Dual tensors take the formula, whose ops carry the tangents.
  if (autograd::any_has_tangent({&input, &w, &b})) return layer_norm_formula(input, normalized_shape, weight, bias, eps);
  LayerNormResult result = autograd::below_autograd([&] { return native_layer_norm(input, normalized_shape, weight, bias, eps); });
  if (!autograd::any_requires_grad({&input, &w, &b})) return result;
  std::vector<int64_t> shape(normalized_shape.begin(), normalized_shape.end());
  auto node = autograd::make_node("NativeLayerNormBackward0", {&input, &w, &b},
                                  [shape, eps, has_weight = w.defined(), has_bias = b.defined(),
                                   weight_type = w.defined() ? w.dtype() : input.dtype(),
                                   bias_type = b.defined() ? b.dtype() : input.dtype()](FunctionNode& n,
                                                                                       const TensorList& g) {
    const Tensor& x = n.saved(0);
    Tensor weight_saved = has_weight ? n.saved(3) : Tensor();
    if (autograd::is_grad_enabled()) {  // create_graph: the backward must itself be differentiable
      TensorList grads = layer_norm_backward_formula(g[0], x, shape, weight_saved, eps);
      if (!has_bias) grads[2] = Tensor();
      return grads;
    }
    std::optional<Tensor> weight_arg = has_weight ? std::optional<Tensor>(weight_saved) : std::nullopt;
    auto [dx, dw, db] = native_layer_norm_backward(g[0], x, shape, n.saved(1), n.saved(2), weight_arg, std::nullopt,
                                                   {true, has_weight, has_bias});
    // A 16-bit input may come with float32 parameters: their gradients take their dtype.
    if (dw.defined() && dw.dtype() != weight_type) dw = to(dw, weight_type);
    if (db.defined() && db.dtype() != bias_type) db = to(db, bias_type);
    return TensorList{dx, dw, db};
  });
  node->save(input);
  node->save(std::get<1>(result));
  node->save(std::get<2>(result));
  if (w.defined()) node->save(w);
  autograd::set_history(std::get<0>(result), node);
  return result;
}

// Called directly with inputs that require grad (torch differentiates it; we do not yet).
std::tuple<Tensor, Tensor, Tensor> native_layer_norm_backward_autograd(
    const Tensor& grad_out, const Tensor& input, IntArrayRef normalized_shape, const Tensor& mean, const Tensor& rstd,
    const std::optional<Tensor>& weight, const std::optional<Tensor>& bias, std::array<bool, 3> output_mask) {
  VT_CHECK_KIND(!autograd::is_grad_enabled(), ErrorKind::NotImplemented,
                "the derivative of native_layer_norm_backward is not implemented (differentiate layer_norm with "
                "create_graph=True instead)");
  return autograd::below_autograd([&] {
    return native_layer_norm_backward(grad_out, input, normalized_shape, mean, rstd, weight, bias, output_mask);
  });
}

}  // namespace

VT_REGISTRATION(norm_ops) {
  Registry& r = Registry::instance();
  r.define("native_layer_norm(Tensor input, int[] normalized_shape, Tensor? weight, Tensor? bias, float eps) -> "
           "(Tensor, Tensor, Tensor)");
  r.define("native_layer_norm_backward(Tensor grad_out, Tensor input, int[] normalized_shape, Tensor mean, "
           "Tensor rstd, Tensor? weight, Tensor? bias, bool[3] output_mask) -> (Tensor, Tensor, Tensor)");
  autograd::register_autograd("native_layer_norm", &native_layer_norm_autograd);
  autograd::register_autograd("native_layer_norm_backward", &native_layer_norm_backward_autograd);
}

std::tuple<Tensor, Tensor, Tensor> native_layer_norm(const Tensor& input, IntArrayRef normalized_shape,
                                                     const std::optional<Tensor>& weight,
                                                     const std::optional<Tensor>& bias, double eps) {
  static const TypedOp<LayerNormResult(const Tensor&, IntArrayRef, const std::optional<Tensor>&,
                                       const std::optional<Tensor>&, double)>
      op("native_layer_norm");
  return op(input, normalized_shape, weight, bias, eps);
}

std::tuple<Tensor, Tensor, Tensor> native_layer_norm_backward(const Tensor& grad_out, const Tensor& input,
                                                              IntArrayRef normalized_shape, const Tensor& mean,
                                                              const Tensor& rstd, const std::optional<Tensor>& weight,
                                                              const std::optional<Tensor>& bias,
                                                              std::array<bool, 3> output_mask) {
  static const TypedOp<LayerNormResult(const Tensor&, const Tensor&, IntArrayRef, const Tensor&, const Tensor&,
                                       const std::optional<Tensor>&, const std::optional<Tensor>&, std::array<bool, 3>)>
      op("native_layer_norm_backward");
  return op(grad_out, input, normalized_shape, mean, rstd, weight, bias, output_mask);
}

}  // namespace vt
