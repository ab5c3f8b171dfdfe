// Derivatives of the activations with parameters. The predicates and logical/bitwise ops
// give bool or integer results: not differentiable, no Autograd kernel.
#include "vt/autograd/record.h"

namespace vt::autograd {
namespace {

Tensor zero() { return scalar_to_tensor(0.0); }

// An elementwise op `out = forward(x)` whose derivative is `derivative(g, x)`; the same
// formula, fed the input's tangent, is the JVP.
template <class Forward, class Derivative>
Tensor elementwise(const Tensor& self, const char* node_name, Forward forward, Derivative derivative) {
  Tensor out = below_autograd([&] { return forward(self); });
  forward_tangent(out, {&self}, [&] { return derivative(tangent_of(self), self); });
  if (!self.requires_grad()) return out;
  auto node = make_node(node_name, {&self}, [derivative](FunctionNode& n, const TensorList& g) {
    return TensorList{derivative(g[0], n.saved(0))};
  });
  node->save(self);
  set_history(out, node);
  return out;
}

// gelu's backward is the fused gelu_backward op. Recorded for a double backward, that op's
// own autograd kernel spells the derivative in differentiable ops.
Tensor gelu_grad(const Tensor& self, std::string_view approximate) {
  std::string form(approximate);
  return elementwise(self, "GeluBackward0", [&](const Tensor& x) { return gelu(x, approximate); },
                     [form](const Tensor& g, const Tensor& x) { return gelu_backward(g, x, form); });
}

Tensor gelu_backward_composite(const Tensor& g, const Tensor& x, std::string_view approximate) {
  if (approximate != "tanh") {
    Tensor cdf = (erf(x * 0.7071067811865476) + 1.0) * 0.5;
    Tensor pdf = exp(x * x * -0.5) * 0.3989422804014327;
    return g * (cdf + x * pdf);
  }
  Tensor inner = (x + x * x * x * 0.044715) * 0.7978845608028654;
  Tensor t = tanh(inner);
  Tensor left_derivative = (t + 1.0) * 0.5;
  Tensor right_derivative = x * 0.5 * (1.0 - t * t) * 0.7978845608028654 * (x * x * 0.134145 + 1.0);
  return g * (left_derivative + right_derivative);
}

Tensor softplus_grad(const Tensor& self, const Scalar& beta, const Scalar& threshold) {
  return elementwise(self, "SoftplusBackward0", [&](const Tensor& x) { return softplus(x, beta, threshold); },
                     [beta, threshold](const Tensor& g, const Tensor& x) {
    Tensor scaled = x * beta;
    return where(gt(scaled, scalar_to_tensor(threshold)), g, g * sigmoid(scaled));
  });
}

Tensor elu_grad(const Tensor& self, const Scalar& alpha, const Scalar& scale, const Scalar& input_scale) {
  return elementwise(self, "EluBackward0", [&](const Tensor& x) { return elu(x, alpha, scale, input_scale); },
                     [alpha, scale, input_scale](const Tensor& g, const Tensor& x) {
    Tensor negative = g * (scale.to_double() * alpha.to_double() * input_scale.to_double()) * exp(x * input_scale);
    return where(gt(x, zero()), g * scale, negative);
  });
}

Tensor leaky_relu_grad(const Tensor& self, const Scalar& negative_slope) {
  return elementwise(self, "LeakyReluBackward0", [&](const Tensor& x) { return leaky_relu(x, negative_slope); },
                     [negative_slope](const Tensor& g, const Tensor& x) {
    return where(gt(x, zero()), g, g * negative_slope);
  });
}

Tensor hardtanh_grad(const Tensor& self, const Scalar& min_val, const Scalar& max_val) {
  return elementwise(self, "HardtanhBackward0", [&](const Tensor& x) { return hardtanh(x, min_val, max_val); },
                     [min_val, max_val](const Tensor& g, const Tensor& x) {
    // Zero at and beyond the bounds, as torch has it.
    return where(le(x, scalar_to_tensor(min_val)), zero(), where(ge(x, scalar_to_tensor(max_val)), zero(), g));
  });
}

Tensor logit_grad(const Tensor& self, std::optional<double> eps) {
  return elementwise(self, "LogitBackward0", [&](const Tensor& x) { return logit(x, eps); },
                     [eps](const Tensor& g, const Tensor& x) {
    Tensor grad = g / (x * (1.0 - x));
    if (!eps) return grad;
    Tensor outside = add(lt(x, scalar_to_tensor(*eps)), gt(x, scalar_to_tensor(1.0 - *eps)));
    return where(outside, zero(), grad);
  });
}

Tensor nan_to_num_grad(const Tensor& self, std::optional<double> nan, std::optional<double> posinf,
                       std::optional<double> neginf) {
  return elementwise(self, "NanToNumBackward0", [&](const Tensor& x) { return nan_to_num(x, nan, posinf, neginf); },
                     [](const Tensor& g, const Tensor& x) { return where(isfinite(x), g, zero()); });
}

Tensor round_decimals_grad(const Tensor& self, int64_t decimals) {
  return elementwise(self, "RoundBackward1", [&](const Tensor& x) { return round(x, decimals); },
                     [](const Tensor& g, const Tensor&) { return zeros_like(g); });
}

}  // namespace

VT_REGISTRATION(activation_autograd) {
  register_autograd("gelu", &gelu_grad);
  register_autograd("gelu_backward", &gelu_backward_composite);
  register_autograd("softplus", &softplus_grad);
  register_autograd("elu", &elu_grad);
  register_autograd("leaky_relu", &leaky_relu_grad);
  register_autograd("hardtanh", &hardtanh_grad);
  register_autograd("logit", &logit_grad);
  register_autograd("nan_to_num", &nan_to_num_grad);
  register_autograd("round.decimals", &round_decimals_grad);
}

}  // namespace vt::autograd
