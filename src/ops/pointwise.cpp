// Pointwise ops: schemas, the C++ API entry points and the argument rules shared by backends.
#include "src/ops/pointwise_rules.h"
#include "vt/ops.h"

namespace vt {

namespace pointwise {

DivMode parse_rounding_mode(std::optional<std::string_view> mode) {
  if (!mode) return DivMode::True;
  if (*mode == "trunc") return DivMode::Trunc;
  if (*mode == "floor") return DivMode::Floor;
  fail(ErrorKind::Runtime, "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '", *mode, "'");
}

void check_alpha(std::string_view op, ScalarType common, const Scalar& alpha) {
  VT_CHECK(!(is_integral(common, true) && alpha.is_floating_point()),
           op, "(): For integral input tensors, argument alpha must not be a floating point number.");
  VT_CHECK(common == ScalarType::Bool || !alpha.is_boolean(), op,
           "(): Boolean alpha only supported for Boolean results.");
}

void check_sub_operands(const Tensor& a, const Tensor& b) {
  bool a_bool = a.dtype() == ScalarType::Bool, b_bool = b.dtype() == ScalarType::Bool;
  VT_CHECK(!(a_bool && b_bool),
           "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` "
           "operator instead.");
  VT_CHECK(!(a_bool || b_bool),
           "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, "
           "use the `~` or `logical_not()` operator instead.");
}

void check_pow_operands(const Tensor& a, const Tensor& b) {
  // torch refuses only a negative Python-number exponent; a tensor exponent gives 0 (or +-1).
  VT_CHECK(!(b.is_wrapped_number() && is_integral(a.dtype(), false) && b.dtype() == ScalarType::Int64 &&
             b.item().to_int() < 0),
           "Integers to negative integer powers are not allowed.");
}

void check_neg_operand(const Tensor& a) {
  VT_CHECK(a.dtype() != ScalarType::Bool,
           "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, "
           "use the `~` or `logical_not()` operator instead.");
}

ClampPlan plan_clamp(const Tensor& out, const Tensor& a, bool inplace, const std::optional<Scalar>& min,
                     const std::optional<Scalar>& max) {
  VT_CHECK(min || max, "torch.clamp: At least one of 'min' or 'max' must not be None");
  ClampPlan plan;
  plan.config = clamp_config();
  Tensor lo = min ? scalar_to_tensor(*min) : Tensor();
  Tensor hi = max ? scalar_to_tensor(*max) : Tensor();
  // The bounds take part in type promotion as Python numbers do.
  plan.type = min && max ? result_type({&a, &lo, &hi}) : min ? result_type({&a, &lo}) : result_type({&a, &hi});
  plan.input = a.dtype() == plan.type ? a : to(a, plan.type);
  if (!out.defined()) plan.config.static_output_dtype = plan.type;
  // torch requires clamp's out= to have the result's dtype exactly.
  VT_CHECK(!out.defined() || inplace || out.dtype() == plan.type, "Found dtype ", dtype_short_name(out.dtype()),
           " but expected ", dtype_short_name(plan.type));
  return plan;
}

void check_clamp_output(const ClampPlan& plan, ScalarType output_dtype) {
  VT_CHECK(can_cast(plan.type, output_dtype), "result type ", dtype_short_name(plan.type),
           " can't be cast to the desired output type ", dtype_short_name(output_dtype));
}

namespace {
// Declares `name`, `name_` and `name.out` from the functional argument list.
void define_forms(const std::string& name, const std::string& args, const std::string& self_arg = "Tensor self") {
  std::string rest = args.empty() ? "" : ", " + args;
  Registry& r = Registry::instance();
  r.define(name + "(" + self_arg + rest + ") -> Tensor");
  r.define(name + "_(Tensor(a!) self" + rest + ") -> Tensor(a!)");
  bool has_star = args.find('*') != std::string::npos;
  r.define(name + ".out(" + self_arg + rest + (has_star ? ", " : ", *, ") + "Tensor(a!) out) -> Tensor(a!)");
}
}  // namespace

}  // namespace pointwise

namespace {
Tensor square_composite(const Tensor& self) { return pow(self, scalar_to_tensor(int64_t{2})); }
}  // namespace

VT_REGISTRATION(pointwise_schemas) {
  using pointwise::define_forms;
  define_forms("add", "Tensor other, *, Scalar alpha=1");
  define_forms("sub", "Tensor other, *, Scalar alpha=1");
  define_forms("mul", "Tensor other");
  define_forms("div", "Tensor other, *, str? rounding_mode=None");
  define_forms("pow", "Tensor exponent");
  for (const char* name : {"eq", "ne", "lt", "le", "gt", "ge"}) define_forms(name, "Tensor other");
#define VT_BINARY_OP(name, ...) define_forms(#name, "Tensor other");
#include "vt/binary_ops.def"
#undef VT_BINARY_OP
  for (const char* name : {"neg", "abs", "relu"}) define_forms(name, "");
#define VT_UNARY_OP(name, ...) define_forms(#name, "");
#include "vt/unary_ops.def"
#undef VT_UNARY_OP
  Registry::instance().define("square(Tensor self) -> Tensor");
  register_composite("square", &square_composite);
  define_forms("clamp", "Scalar? min=None, Scalar? max=None");
  Registry::instance().define("where.self(Tensor condition, Tensor self, Tensor other) -> Tensor");
}

// The entry points: each looks its op up once, then dispatches by table index.
#define VT_BINARY_API(name, params, args)                                                                    \
  Tensor name(const Tensor& self, const Tensor& other params) {                                              \
    static const TypedOp<Tensor(const Tensor&, const Tensor& params)> op(#name);                            \
    return op(self, other args);                                                                             \
  }                                                                                                          \
  const Tensor& name##_(const Tensor& self, const Tensor& other params) {                                    \
    static const TypedOp<const Tensor&(const Tensor&, const Tensor& params)> op(#name "_");                 \
    return op(self, other args);                                                                             \
  }                                                                                                          \
  const Tensor& name##_out(const Tensor& out, const Tensor& self, const Tensor& other params) {              \
    static const TypedOp<const Tensor&(const Tensor&, const Tensor&, const Tensor& params)> op(#name ".out"); \
    return op(out, self, other args);                                                                        \
  }
#define VT_COMMA ,
VT_BINARY_API(add, VT_COMMA const Scalar& alpha, VT_COMMA alpha)
VT_BINARY_API(sub, VT_COMMA const Scalar& alpha, VT_COMMA alpha)
VT_BINARY_API(mul, , )
VT_BINARY_API(div, VT_COMMA std::optional<std::string_view> rounding_mode, VT_COMMA rounding_mode)
VT_BINARY_API(pow, , )
VT_BINARY_API(eq, , )
VT_BINARY_API(ne, , )
VT_BINARY_API(lt, , )
VT_BINARY_API(le, , )
VT_BINARY_API(gt, , )
VT_BINARY_API(ge, , )
#define VT_BINARY_OP(name, ...) VT_BINARY_API(name, , )
#include "vt/binary_ops.def"
#undef VT_BINARY_OP
#undef VT_BINARY_API

#define VT_UNARY_API(name, params, args)                                                            \
  Tensor name(const Tensor& self params) {                                                          \
    static const TypedOp<Tensor(const Tensor& params)> op(#name);                                   \
    return op(self args);                                                                           \
  }                                                                                                 \
  const Tensor& name##_(const Tensor& self params) {                                                \
    static const TypedOp<const Tensor&(const Tensor& params)> op(#name "_");                        \
    return op(self args);                                                                           \
  }                                                                                                 \
  const Tensor& name##_out(const Tensor& out, const Tensor& self params) {                          \
    static const TypedOp<const Tensor&(const Tensor&, const Tensor& params)> op(#name ".out");      \
    return op(out, self args);                                                                      \
  }
VT_UNARY_API(neg, , )
VT_UNARY_API(abs, , )
VT_UNARY_API(relu, , )
#define VT_UNARY_OP(name, ...) VT_UNARY_API(name, , )
#include "vt/unary_ops.def"
#undef VT_UNARY_OP
VT_UNARY_API(clamp, VT_COMMA std::optional<Scalar> min VT_COMMA std::optional<Scalar> max, VT_COMMA min VT_COMMA max)
#undef VT_UNARY_API
#undef VT_COMMA

Tensor square(const Tensor& self) {
  static const TypedOp<Tensor(const Tensor&)> op("square");
  return op(self);
}

Tensor where(const Tensor& condition, const Tensor& self, const Tensor& other) {
  static const TypedOp<Tensor(const Tensor&, const Tensor&, const Tensor&)> op("where.self");
  VT_CHECK(condition.dtype() == ScalarType::Bool,
           "where expected condition to be a boolean tensor, but got a tensor with dtype ",
           dtype_short_name(condition.dtype()));
  return op(condition, self, other);
}

}  // namespace vt
