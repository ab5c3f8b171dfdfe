// Predicates, logical_not/bitwise_not and the activations with parameters: schemas and the
// C++ entry points.
#include "src/ops/pointwise_rules.h"
#include "vt/ops.h"

namespace vt {

VT_REGISTRATION(activation_schemas) {
  Registry& r = Registry::instance();
  r.define("isnan(Tensor self) -> Tensor");
  r.define("isinf(Tensor self) -> Tensor");
  r.define("isfinite(Tensor self) -> Tensor");
  for (const char* name : {"logical_not", "bitwise_not"}) {
    std::string n(name);
    r.define(n + "(Tensor self) -> Tensor");
    r.define(n + "_(Tensor(a!) self) -> Tensor(a!)");
    r.define(n + ".out(Tensor self, *, Tensor(a!) out) -> Tensor(a!)");
  }
  r.define("gelu(Tensor self, *, str approximate='none') -> Tensor");
  r.define("gelu_backward(Tensor grad_output, Tensor self, *, str approximate='none') -> Tensor");
  r.define("softplus(Tensor self, Scalar beta=1, Scalar threshold=20) -> Tensor");
  r.define("elu(Tensor self, Scalar alpha=1, Scalar scale=1, Scalar input_scale=1) -> Tensor");
  r.define("leaky_relu(Tensor self, Scalar negative_slope=0.01) -> Tensor");
  r.define("hardtanh(Tensor self, Scalar min_val=-1, Scalar max_val=1) -> Tensor");
  r.define("logit(Tensor self, float? eps=None) -> Tensor");
  r.define("nan_to_num(Tensor self, float? nan=None, float? posinf=None, float? neginf=None) -> Tensor");
  r.define("round.decimals(Tensor self, *, int decimals) -> Tensor");
}

#define VT_SIMPLE_API(name, full_name, signature, params, args) \
  Tensor name params {                                          \
    static const TypedOp<signature> op(full_name);              \
    return op args;                                             \
  }
VT_SIMPLE_API(isnan, "isnan", Tensor(const Tensor&), (const Tensor& self), (self))
VT_SIMPLE_API(isinf, "isinf", Tensor(const Tensor&), (const Tensor& self), (self))
VT_SIMPLE_API(isfinite, "isfinite", Tensor(const Tensor&), (const Tensor& self), (self))
VT_SIMPLE_API(gelu, "gelu", Tensor(const Tensor&, std::string_view), (const Tensor& self, std::string_view approximate),
              (self, approximate))
VT_SIMPLE_API(gelu_backward, "gelu_backward", Tensor(const Tensor&, const Tensor&, std::string_view),
              (const Tensor& grad_output, const Tensor& self, std::string_view approximate),
              (grad_output, self, approximate))
VT_SIMPLE_API(softplus, "softplus", Tensor(const Tensor&, const Scalar&, const Scalar&),
              (const Tensor& self, const Scalar& beta, const Scalar& threshold), (self, beta, threshold))
VT_SIMPLE_API(elu, "elu", Tensor(const Tensor&, const Scalar&, const Scalar&, const Scalar&),
              (const Tensor& self, const Scalar& alpha, const Scalar& scale, const Scalar& input_scale),
              (self, alpha, scale, input_scale))
VT_SIMPLE_API(leaky_relu, "leaky_relu", Tensor(const Tensor&, const Scalar&),
              (const Tensor& self, const Scalar& negative_slope), (self, negative_slope))
VT_SIMPLE_API(hardtanh, "hardtanh", Tensor(const Tensor&, const Scalar&, const Scalar&),
              (const Tensor& self, const Scalar& min_val, const Scalar& max_val), (self, min_val, max_val))
VT_SIMPLE_API(logit, "logit", Tensor(const Tensor&, std::optional<double>), (const Tensor& self, std::optional<double> eps),
              (self, eps))
VT_SIMPLE_API(nan_to_num, "nan_to_num", Tensor(const Tensor&, std::optional<double>, std::optional<double>, std::optional<double>),
              (const Tensor& self, std::optional<double> nan, std::optional<double> posinf, std::optional<double> neginf),
              (self, nan, posinf, neginf))
VT_SIMPLE_API(round, "round.decimals", Tensor(const Tensor&, int64_t), (const Tensor& self, int64_t decimals), (self, decimals))
#undef VT_SIMPLE_API

#define VT_UNARY_FORMS_API(name)                                                                  \
  Tensor name(const Tensor& self) {                                                               \
    static const TypedOp<Tensor(const Tensor&)> op(#name);                                        \
    return op(self);                                                                              \
  }                                                                                               \
  const Tensor& name##_(const Tensor& self) {                                                     \
    static const TypedOp<const Tensor&(const Tensor&)> op(#name "_");                             \
    return op(self);                                                                              \
  }                                                                                               \
  const Tensor& name##_out(const Tensor& out, const Tensor& self) {                               \
    static const TypedOp<const Tensor&(const Tensor&, const Tensor&)> op(#name ".out");           \
    return op(out, self);                                                                         \
  }
VT_UNARY_FORMS_API(logical_not)
VT_UNARY_FORMS_API(bitwise_not)
#undef VT_UNARY_FORMS_API

}  // namespace vt
