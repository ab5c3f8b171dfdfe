// Derivatives of the pointwise ops. Each autograd kernel runs its op below autograd, then
// records a node whose formula gives the input gradients; `name_` forms reuse the formula
// through apply_inplace, `name.out` forms are refused under autograd (as in torch).
#include "vt/autograd/record.h"

namespace vt::autograd {
namespace {


// ---- binary arithmetic

Tensor add_grad(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  Tensor out = below_autograd([&] { return add(a, b, alpha); });
  forward_tangent(out, {&a, &b}, [&] { return tangent_or_zeros(a) + tangent_or_zeros(b) * alpha; });
  if (!any_requires_grad({&a, &b})) return out;
  set_history(out, make_node("AddBackward0", {&a, &b}, [alpha, sa = DimVector(a.sizes()), sb = DimVector(b.sizes())](
                                                           FunctionNode& n, const TensorList& g) {
    return TensorList{n.needs_input_grad(0) ? sum_to(g[0], sa) : Tensor(),
                      n.needs_input_grad(1) ? sum_to(g[0] * alpha, sb) : Tensor()};
  }));
  return out;
}

Tensor sub_grad(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  Tensor out = below_autograd([&] { return sub(a, b, alpha); });
  forward_tangent(out, {&a, &b}, [&] { return tangent_or_zeros(a) - tangent_or_zeros(b) * alpha; });
  if (!any_requires_grad({&a, &b})) return out;
  set_history(out, make_node("SubBackward0", {&a, &b}, [alpha, sa = DimVector(a.sizes()), sb = DimVector(b.sizes())](
                                                           FunctionNode& n, const TensorList& g) {
    return TensorList{n.needs_input_grad(0) ? sum_to(g[0], sa) : Tensor(),
                      n.needs_input_grad(1) ? sum_to(-(g[0] * alpha), sb) : Tensor()};
  }));
  return out;
}

Tensor mul_grad(const Tensor& a, const Tensor& b) {
  Tensor out = below_autograd([&] { return mul(a, b); });
  forward_tangent(out, {&a, &b}, [&] { return tangent_or_zeros(a) * b + a * tangent_or_zeros(b); });
  if (!any_requires_grad({&a, &b})) return out;
  auto node = make_node("MulBackward0", {&a, &b}, [sa = DimVector(a.sizes()), sb = DimVector(b.sizes())](
                                                      FunctionNode& n, const TensorList& g) {
    return TensorList{n.needs_input_grad(0) ? sum_to(g[0] * n.saved(1), sa) : Tensor(),
                      n.needs_input_grad(1) ? sum_to(g[0] * n.saved(0), sb) : Tensor()};
  });
  node->save(a);
  node->save(b);
  set_history(out, node);
  return out;
}

Tensor div_grad(const Tensor& a, const Tensor& b, std::optional<std::string_view> mode) {
  Tensor out = below_autograd([&] { return div(a, b, mode); });
  forward_tangent(out, {&a, &b}, [&] {
    if (mode) return zeros_like(out);
    return tangent_or_zeros(a) / b - a * tangent_or_zeros(b) / (b * b);
  });
  if (!any_requires_grad({&a, &b})) return out;
  if (mode) {
    // Rounded division is piecewise constant: its gradient is zero.
    set_history(out, make_node("DivBackward2", {&a, &b}, [sa = DimVector(a.sizes()), sb = DimVector(b.sizes())](
                                                             FunctionNode& n, const TensorList& g) {
      return TensorList{n.needs_input_grad(0) ? sum_to(zeros_like(g[0]), sa) : Tensor(),
                        n.needs_input_grad(1) ? sum_to(zeros_like(g[0]), sb) : Tensor()};
    }));
    return out;
  }
  auto node = make_node("DivBackward0", {&a, &b}, [sa = DimVector(a.sizes()), sb = DimVector(b.sizes())](
                                                      FunctionNode& n, const TensorList& g) {
    Tensor other = n.saved(1);
    return TensorList{n.needs_input_grad(0) ? sum_to(g[0] / other, sa) : Tensor(),
                      n.needs_input_grad(1) ? sum_to(-(g[0] * n.saved(0)) / (other * other), sb) : Tensor()};
  });
  node->save(a);
  node->save(b);
  set_history(out, node);
  return out;
}

// y - 1 in y's own dtype: for a Python-number exponent, `y - 1` of two numbers would round to
// the default float32.
Tensor minus_one(const Tensor& y) { return sub(y, ones({}, y.dtype(), y.device())); }

Tensor pow_grad(const Tensor& a, const Tensor& b) {
  Tensor out = below_autograd([&] { return pow(a, b); });
  forward_tangent(out, {&a, &b}, [&] {
    // Only the dual inputs contribute: log(a) is NaN for a negative base even when the
    // exponent carries no tangent.
    Tensor zero = scalar_to_tensor(0.0);
    Tensor tangent = zeros_like(out);
    if (has_tangent(a)) tangent = tangent + tangent_of(a) * where(eq(b, zero), zero, b * pow(a, minus_one(b)));
    if (has_tangent(b)) tangent = tangent + tangent_of(b) * where(mul(eq(a, zero), ge(b, zero)), zero, out * log(a));
    return tangent;
  });
  if (!any_requires_grad({&a, &b})) return out;
  // torch: PowBackward0 for a number exponent, PowBackward1 for a tensor one.
  auto node = make_node(b.is_wrapped_number() ? "PowBackward0" : "PowBackward1", {&a, &b}, [sa = DimVector(a.sizes()), sb = DimVector(b.sizes())](
                                                      FunctionNode& n, const TensorList& g) {
    Tensor base = n.saved(0), exponent = n.saved(1), result = n.saved(2);
    Tensor zero = scalar_to_tensor(0.0);
    Tensor grad_base, grad_exponent;
    if (n.needs_input_grad(0)) {
      // d/dx x^y = y x^(y-1), defined as 0 where y == 0 (so 0^0 has no NaN gradient).
      grad_base = sum_to(where(eq(exponent, zero), zero, g[0] * exponent * pow(base, minus_one(exponent))), sa);
    }
    if (n.needs_input_grad(1)) {
      // d/dy x^y = x^y log x, defined as 0 where x == 0 and y >= 0.
      Tensor singular = mul(eq(base, zero), ge(exponent, zero));
      grad_exponent = sum_to(where(singular, zero, g[0] * result * log(base)), sb);
    }
    return TensorList{grad_base, grad_exponent};
  });
  node->save(a);
  node->save(b);
  set_history(out, node);
  node->save(out, true);
  return out;
}

// ---- the binary op table. The formulas are linear in `g`, so the JVP is
// grad_self(tangent of self) + grad_other(tangent of other).

// torch records these ops but refuses to differentiate them, at backward time.
[[noreturn]] Tensor no_derivative(const char* op) { fail(ErrorKind::Runtime, "derivative for aten::", op, " is not implemented"); }

#define VT_BINARY_OP(op, node_name, rule, forward, grad_self, grad_other)                                       \
  Tensor op##_grad(const Tensor& a, const Tensor& b) {                                                         \
    Tensor out = below_autograd([&] { return vt::op(a, b); });                                                 \
    auto self_formula = [](const Tensor& g, const Tensor& x, const Tensor& y, const Tensor& out) -> Tensor {   \
      (void)x, (void)y, (void)out;                                                                             \
      return grad_self;                                                                                        \
    };                                                                                                         \
    auto other_formula = [](const Tensor& g, const Tensor& x, const Tensor& y, const Tensor& out) -> Tensor {  \
      (void)x, (void)y, (void)out;                                                                             \
      return grad_other;                                                                                       \
    };                                                                                                         \
    forward_tangent(out, {&a, &b}, [&] {                                                                       \
      return self_formula(tangent_or_zeros(a), a, b, out) + other_formula(tangent_or_zeros(b), a, b, out);     \
    });                                                                                                        \
    if (!any_requires_grad({&a, &b})) return out;                                                              \
    auto node = make_node(node_name, {&a, &b}, [=, sa = DimVector(a.sizes()), sb = DimVector(b.sizes())](    \
                                                   FunctionNode& n, const TensorList& g) {                     \
      Tensor x = n.saved(0), y = n.saved(1), result = n.saved(2);                                              \
      return TensorList{n.needs_input_grad(0) ? sum_to(self_formula(g[0], x, y, result), sa) : Tensor(),      \
                        n.needs_input_grad(1) ? sum_to(other_formula(g[0], x, y, result), sb) : Tensor()};    \
    });                                                                                                        \
    node->save(a);                                                                                             \
    node->save(b);                                                                                             \
    set_history(out, node);                                                                                    \
    node->save(out, true);                                                                                     \
    return out;                                                                                                \
  }
#include "vt/binary_ops.def"
#undef VT_BINARY_OP

// ---- unary

// A unary op whose gradient is a function of (grad, input, result).
template <Tensor (*Op)(const Tensor&)>
Tensor unary_grad(const Tensor& a, const char* name, Tensor (*formula)(const Tensor& g, const Tensor& x, const Tensor& y),
                  bool saves_input, bool saves_result) {
  Tensor out = below_autograd([&] { return Op(a); });
  // Elementwise: the JVP multiplies the tangent by the same derivative the VJP uses.
  forward_tangent(out, {&a}, [&] { return formula(tangent_of(a), a, out); });
  if (!a.requires_grad()) return out;
  auto node = make_node(name, {&a}, [formula, saves_input, saves_result](FunctionNode& n, const TensorList& g) {
    Tensor x = saves_input ? n.saved(0) : Tensor();
    Tensor y = saves_result ? n.saved(saves_input ? 1 : 0) : Tensor();
    return TensorList{formula(g[0], x, y)};
  });
  if (saves_input) node->save(a);
  set_history(out, node);  // before saving the result, so the saved copy knows its grad_fn
  if (saves_result) node->save(out, true);
  return out;
}

Tensor sign_of(const Tensor& x) {
  Tensor zero = scalar_to_tensor(0.0);
  return where(gt(x, zero), scalar_to_tensor(1.0), where(lt(x, zero), scalar_to_tensor(-1.0), zero));
}

#define VT_UNARY_GRAD(op, node_name, saves_input, saves_result, formula)                                   \
  Tensor op##_grad(const Tensor& a) {                                                                       \
    return unary_grad<&vt::op>(a, node_name, [](const Tensor& g, const Tensor& x, const Tensor& y) -> Tensor { \
      (void)x;                                                                                              \
      (void)y;                                                                                              \
      return formula;                                                                                       \
    }, saves_input, saves_result);                                                                          \
  }
VT_UNARY_GRAD(neg, "NegBackward0", false, false, -g)
VT_UNARY_GRAD(abs, "AbsBackward0", true, false, g * sign_of(x))
VT_UNARY_GRAD(relu, "ReluBackward0", false, true, where(gt(y, scalar_to_tensor(0)), g, scalar_to_tensor(0.0)))
#define VT_UNARY_OP(op, node_name, rule, forward, saves_input, saves_result, derivative) \
  VT_UNARY_GRAD(op, node_name, saves_input, saves_result, derivative)
#include "vt/unary_ops.def"
#undef VT_UNARY_OP
#undef VT_UNARY_GRAD

Tensor clamp_grad(const Tensor& a, std::optional<Scalar> min, std::optional<Scalar> max) {
  Tensor out = below_autograd([&] { return clamp(a, min, max); });
  forward_tangent(out, {&a}, [&] {
    Tensor zero = scalar_to_tensor(0.0);
    Tensor tangent = tangent_of(a);
    if (min) tangent = where(ge(a, scalar_to_tensor(*min)), tangent, zero);
    if (max) tangent = where(le(a, scalar_to_tensor(*max)), tangent, zero);
    return tangent;
  });
  if (!a.requires_grad()) return out;
  auto node = make_node("ClampBackward1", {&a}, [min, max](FunctionNode& n, const TensorList& g) {
    // The gradient passes where the input lies inside [min, max].
    Tensor x = n.saved(0);
    Tensor zero = scalar_to_tensor(0.0);
    Tensor grad = g[0];
    if (min) grad = where(ge(x, scalar_to_tensor(*min)), grad, zero);
    if (max) grad = where(le(x, scalar_to_tensor(*max)), grad, zero);
    return TensorList{grad};
  });
  node->save(a);
  set_history(out, node);
  return out;
}

Tensor where_grad(const Tensor& condition, const Tensor& a, const Tensor& b) {
  Tensor out = below_autograd([&] { return where(condition, a, b); });
  forward_tangent(out, {&a, &b}, [&] { return where(condition, tangent_or_zeros(a), tangent_or_zeros(b)); });
  if (!any_requires_grad({&a, &b})) return out;
  auto node = make_node("WhereBackward0", {&condition, &a, &b}, [sa = DimVector(a.sizes()), sb = DimVector(b.sizes())](
                                                                   FunctionNode& n, const TensorList& g) {
    Tensor mask = n.saved(0);
    Tensor zero = scalar_to_tensor(0.0);
    return TensorList{Tensor(), n.needs_input_grad(1) ? sum_to(where(mask, g[0], zero), sa) : Tensor(),
                      n.needs_input_grad(2) ? sum_to(where(mask, zero, g[0]), sb) : Tensor()};
  });
  node->save(condition);
  set_history(out, node);
  return out;
}

// ---- in-place and out= forms, from the functional ones. One instantiation per op; `op`
// is its name for messages and node names.

template <auto Functional, class... Extra>
struct Forms {
  // A function-local static: a static data member could be constructed after the
  // registration code (run during static initialization) has assigned it.
  static std::string& op() {
    static std::string name;
    return name;
  }
  static const Tensor& inplace_binary(const Tensor& self, const Tensor& other, Extra... extra) {
    return apply_inplace(self, op(), [&](const Tensor& original) { return Functional(original, other, extra...); });
  }
  static const Tensor& inplace_unary(const Tensor& self, Extra... extra) {
    return apply_inplace(self, op(), [&](const Tensor& original) { return Functional(original, extra...); });
  }
  // `name.out` under autograd is refused, as in torch.
  static const Tensor& out_binary(const Tensor&, const Tensor&, const Tensor&, Extra...) { refuse_out(op()); }
  static const Tensor& out_unary(const Tensor&, const Tensor&, Extra...) { refuse_out(op()); }
};

template <auto Functional, class... Extra>
void register_binary(const std::string& name) {
  using F = Forms<Functional, Extra...>;
  F::op() = name;
  register_autograd(name, Functional);
  register_autograd(name + "_", &F::inplace_binary);
  register_autograd(name + ".out", &F::out_binary);
}
template <auto Functional, class... Extra>
void register_unary(const std::string& name) {
  using F = Forms<Functional, Extra...>;
  F::op() = name;
  register_autograd(name, Functional);
  register_autograd(name + "_", &F::inplace_unary);
  register_autograd(name + ".out", &F::out_unary);
}
// Comparisons: their results are not differentiable, but the in-place forms must still cut
// self's old history (apply_inplace gives it a zero gradient).
template <auto Compare>
void register_comparison(const std::string& name) {
  using F = Forms<Compare>;
  F::op() = name + "_";
  register_autograd(name + "_", &F::inplace_binary);
}

}  // namespace

VT_REGISTRATION(pointwise_autograd) {
  register_binary<&add_grad, const Scalar&>("add");
  register_binary<&sub_grad, const Scalar&>("sub");
  register_binary<&mul_grad>("mul");
  register_binary<&div_grad, std::optional<std::string_view>>("div");
  register_binary<&pow_grad>("pow");
  register_unary<&neg_grad>("neg");
  register_unary<&abs_grad>("abs");
  register_unary<&relu_grad>("relu");
// Logical and bitwise results are bool or integer: not differentiable, no Autograd kernel.
#define VT_BINARY_OP(name, node, rule, ...) \
  if (std::string_view(#rule) != "Logical" && std::string_view(#rule) != "Bitwise") register_binary<&name##_grad>(#name);
#include "vt/binary_ops.def"
#undef VT_BINARY_OP
#define VT_UNARY_OP(name, ...) register_unary<&name##_grad>(#name);
#include "vt/unary_ops.def"
#undef VT_UNARY_OP
  register_unary<&clamp_grad, std::optional<Scalar>, std::optional<Scalar>>("clamp");
  register_autograd("where.self", &where_grad);
  register_comparison<&vt::eq>("eq");
  register_comparison<&vt::ne>("ne");
  register_comparison<&vt::lt>("lt");
  register_comparison<&vt::le>("le");
  register_comparison<&vt::gt>("gt");
  register_comparison<&vt::ge>("ge");
  // Comparisons have no derivative: their results never require grad, and they need no
  // Autograd kernel (dispatch falls through to the backend).
}

}  // namespace vt::autograd
