// Fused attention: torch's `_scaled_dot_product_flash_attention_for_cpu` (output and the rows'
// logsumexp) and its backward, with CPU kernels in src/cpu/attention_kernels.cpp.
// scaled_dot_product_attention (src/ops/composite.cpp) takes this path for float32/float64
// inputs without a mask or dropout; the backward recorded for a double backward is the
// attention formula in differentiable ops.
#include <cmath>
#include <limits>

#include "vt/autograd/record.h"
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt {

namespace {

using autograd::FunctionNode;
using autograd::TensorList;

double attention_scale(const Tensor& query, std::optional<double> scale) {
  return scale.value_or(1.0 / std::sqrt(static_cast<double>(query.size(-1))));
}

// Gradients of softmax(scale q k^T [causal]) v in differentiable ops.
TensorList attention_backward_formula(const Tensor& grad_out, const Tensor& q, const Tensor& k, const Tensor& v,
                                      bool is_causal, double scale) {
  Tensor scores = mul(matmul(q, transpose(k, -2, -1)), scalar_to_tensor(scale));
  if (is_causal) {
    Tensor allowed = tril(ones(std::vector<int64_t>{q.size(-2), k.size(-2)}, ScalarType::Bool, q.device()), 0);
    scores = masked_fill(scores, logical_not(allowed), -std::numeric_limits<double>::infinity());
  }
  Tensor p = softmax(scores, -1);
  Tensor grad_v = matmul(transpose(p, -2, -1), grad_out);
  Tensor grad_p = matmul(grad_out, transpose(v, -2, -1));
  Tensor grad_scores = mul(p, sub(grad_p, sum(mul(grad_p, p), std::vector<int64_t>{-1}, true)));
  grad_scores = mul(grad_scores, scalar_to_tensor(scale));
  return {matmul(grad_scores, k), matmul(transpose(grad_scores, -2, -1), q), grad_v};
}

std::tuple<Tensor, Tensor> flash_attention_autograd(const Tensor& query, const Tensor& key, const Tensor& value,
                                                    double dropout_p, bool is_causal,
                                                    const std::optional<Tensor>& attn_mask,
                                                    std::optional<double> scale) {
  VT_CHECK_KIND(!autograd::any_has_tangent({&query, &key, &value}), ErrorKind::NotImplemented,
                "_scaled_dot_product_flash_attention_for_cpu(): forward-mode AD is not implemented (use "
                "scaled_dot_product_attention, which takes the formula for dual tensors)");
  auto result = autograd::below_autograd([&] {
    return _scaled_dot_product_flash_attention_for_cpu(query, key, value, dropout_p, is_causal, attn_mask, scale);
  });
  if (!autograd::any_requires_grad({&query, &key, &value})) return result;
  auto node = autograd::make_node("ScaledDotProductFlashAttentionForCpuBackward0", {&query, &key, &value},
                                  [dropout_p, is_causal, scale](FunctionNode& n, const TensorList& g) {
    const Tensor &q = n.saved(0), &k = n.saved(1), &v = n.saved(2);
    if (autograd::is_grad_enabled()) return attention_backward_formula(g[0], q, k, v, is_causal, attention_scale(q, scale));
    auto [dq, dk, dv] = _scaled_dot_product_flash_attention_for_cpu_backward(g[0], q, k, v, n.saved(3), n.saved(4),
                                                                            dropout_p, is_causal, std::nullopt, scale);
    return TensorList{dq, dk, dv};
  });
  const Tensor& out = std::get<0>(result);
  const Tensor& logsumexp = std::get<1>(result);
  for (const Tensor* t : {&query, &key, &value, &out, &logsumexp}) node->save(*t);
  autograd::set_history(std::get<0>(result), node);
  return result;
}

std::tuple<Tensor, Tensor, Tensor> flash_attention_backward_autograd(
    const Tensor& grad_out, const Tensor& query, const Tensor& key, const Tensor& value, const Tensor& out,
    const Tensor& logsumexp, double dropout_p, bool is_causal, const std::optional<Tensor>& attn_mask,
    std::optional<double> scale) {
  VT_CHECK_KIND(!autograd::is_grad_enabled(), ErrorKind::NotImplemented,
                "the derivative of _scaled_dot_product_flash_attention_for_cpu_backward is not implemented "
                "(differentiate scaled_dot_product_attention with create_graph=True instead)");
  return autograd::below_autograd([&] {
    return _scaled_dot_product_flash_attention_for_cpu_backward(grad_out, query, key, value, out, logsumexp,
                                                                dropout_p, is_causal, attn_mask, scale);
  });
}

}  // namespace

VT_REGISTRATION(attention_ops) {
  Registry& r = Registry::instance();
  r.define("_scaled_dot_product_flash_attention_for_cpu(Tensor query, Tensor key, Tensor value, float dropout_p=0.0, "
           "bool is_causal=False, *, Tensor? attn_mask=None, float? scale=None) -> (Tensor output, Tensor logsumexp)");
  r.define("_scaled_dot_product_flash_attention_for_cpu_backward(Tensor grad_out, Tensor query, Tensor key, "
           "Tensor value, Tensor out, Tensor logsumexp, float dropout_p, bool is_causal, *, Tensor? attn_mask=None, "
           "float? scale=None) -> (Tensor grad_query, Tensor grad_key, Tensor grad_value)");
  autograd::register_autograd("_scaled_dot_product_flash_attention_for_cpu", &flash_attention_autograd);
  autograd::register_autograd("_scaled_dot_product_flash_attention_for_cpu_backward",
                              &flash_attention_backward_autograd);
}

std::tuple<Tensor, Tensor> _scaled_dot_product_flash_attention_for_cpu(const Tensor& query, const Tensor& key,
                                                                       const Tensor& value, double dropout_p,
                                                                       bool is_causal,
                                                                       const std::optional<Tensor>& attn_mask,
                                                                       std::optional<double> scale) {
  static const TypedOp<std::tuple<Tensor, Tensor>(const Tensor&, const Tensor&, const Tensor&, double, bool,
                                                  const std::optional<Tensor>&, std::optional<double>)>
      op("_scaled_dot_product_flash_attention_for_cpu");
  return op(query, key, value, dropout_p, is_causal, attn_mask, scale);
}

std::tuple<Tensor, Tensor, Tensor> _scaled_dot_product_flash_attention_for_cpu_backward(
    const Tensor& grad_out, const Tensor& query, const Tensor& key, const Tensor& value, const Tensor& out,
    const Tensor& logsumexp, double dropout_p, bool is_causal, const std::optional<Tensor>& attn_mask,
    std::optional<double> scale) {
  static const TypedOp<std::tuple<Tensor, Tensor, Tensor>(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                                          const Tensor&, const Tensor&, double, bool,
                                                          const std::optional<Tensor>&, std::optional<double>)>
      op("_scaled_dot_product_flash_attention_for_cpu_backward");
  return op(grad_out, query, key, value, out, logsumexp, dropout_p, is_causal, attn_mask, scale);
}

}  // namespace vt
