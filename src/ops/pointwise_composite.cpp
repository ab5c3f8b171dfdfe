// Pointwise ops composed of the unary and binary ops (so broadcasting, type promotion and
// derivatives come from them): lerp, addcmul, addcdiv, isclose, signbit.
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt {

namespace {

// self + weight * (end - self), computed from the nearer end (as torch does) so that
// weight 1 gives `end` exactly.
Tensor lerp_tensor_composite(const Tensor& self, const Tensor& end, const Tensor& weight) {
  VT_CHECK(self.dtype() == end.dtype(), "expected dtype ", dtype_short_name(self.dtype()), " for `end` but got dtype ",
           dtype_short_name(end.dtype()));
  VT_CHECK(is_floating_point(self.dtype()), "lerp_kernel_scalar\" not implemented for '", dtype_short_name(self.dtype()), "'");
  Tensor diff = sub(end, self);
  Tensor low = add(self, mul(weight, diff));
  Tensor high = sub(end, mul(diff, sub(scalar_to_tensor(1), weight)));
  return where(lt(abs(weight), scalar_to_tensor(0.5)), low, high);
}

Tensor lerp_scalar_composite(const Tensor& self, const Tensor& end, const Scalar& weight) {
  return lerp_tensor_composite(self, end, scalar_to_tensor(weight));
}

Tensor addcmul_composite(const Tensor& self, const Tensor& tensor1, const Tensor& tensor2, const Scalar& value) {
  return add(self, mul(mul(tensor1, tensor2), scalar_to_tensor(value)));
}

Tensor addcdiv_composite(const Tensor& self, const Tensor& tensor1, const Tensor& tensor2, const Scalar& value) {
  VT_CHECK(!(is_integral(tensor1.dtype(), true) && is_integral(tensor2.dtype(), true)),
           "Integer division with addcdiv is no longer supported, and in a future release addcdiv will perform a true ",
           "division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as (input + value * ",
           "torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / ",
           "tensor2) for float inputs. The future addcdiv behavior is just the latter implementation: (input + value * ",
           "tensor1 / tensor2), for all dtypes.");
  return add(self, mul(div(tensor1, tensor2), scalar_to_tensor(value)));
}

// |self - other| <= atol + rtol * |other|, elementwise, as torch computes it: equal values
// (infinities included) are close, NaN only to NaN with equal_nan; integers and bool measure
// the difference in the default float dtype (no wrap-around, and 2^62 is close to 2^62 + 1).
Tensor isclose_composite(const Tensor& self, const Tensor& other, double rtol, double atol, bool equal_nan) {
  VT_CHECK(self.dtype() == other.dtype(), "isclose(): ", dtype_short_name(self.dtype()), " did not match ",
           dtype_short_name(other.dtype()));
  VT_CHECK(rtol >= 0, "isclose(): rtol must be greater than or equal to zero, but got ", rtol);
  VT_CHECK(atol >= 0, "isclose(): atol must be greater than or equal to zero, but got ", atol);
  Tensor close = eq(self, other);
  if (equal_nan && is_floating_point(self.dtype())) close = logical_or(close, logical_and(isnan(self), isnan(other)));
  if (rtol == 0 && atol == 0) return close;
  const bool as_float = !is_floating_point(self.dtype());
  const Tensor x = as_float ? to(self, default_dtype()) : self, y = as_float ? to(other, default_dtype()) : other;
  const Tensor allowed = add(abs(mul(y, scalar_to_tensor(rtol))), scalar_to_tensor(atol));
  const Tensor actual = abs(sub(x, y));
  return logical_or(close, logical_and(isfinite(actual), le(actual, allowed)));
}

// Whether the sign bit is set: copysign reads it for floats, so -0.0 and a negative NaN count;
// for integers and bool it is x < 0.
Tensor signbit_composite(const Tensor& self) {
  const Tensor signed_one = is_floating_point(self.dtype()) ? copysign(scalar_to_tensor(1.0), self) : self;
  return lt(signed_one, scalar_to_tensor(0));
}

}  // namespace

VT_REGISTRATION(pointwise_composite_ops) {
  Registry& r = Registry::instance();
  r.define("lerp.Scalar(Tensor self, Tensor end, Scalar weight) -> Tensor");
  r.define("lerp.Tensor(Tensor self, Tensor end, Tensor weight) -> Tensor");
  r.define("addcmul(Tensor self, Tensor tensor1, Tensor tensor2, *, Scalar value=1) -> Tensor");
  r.define("addcdiv(Tensor self, Tensor tensor1, Tensor tensor2, *, Scalar value=1) -> Tensor");
  register_composite("lerp.Scalar", &lerp_scalar_composite);
  register_composite("lerp.Tensor", &lerp_tensor_composite);
  r.define("isclose(Tensor self, Tensor other, float rtol=1e-05, float atol=1e-08, bool equal_nan=False) -> Tensor");
  r.define("signbit(Tensor self) -> Tensor");
  register_composite("addcmul", &addcmul_composite);
  register_composite("addcdiv", &addcdiv_composite);
  register_composite("isclose", &isclose_composite);
  register_composite("signbit", &signbit_composite);
}

Tensor lerp(const Tensor& self, const Tensor& end, const Scalar& weight) {
  static const TypedOp<Tensor(const Tensor&, const Tensor&, const Scalar&)> op("lerp.Scalar");
  return op(self, end, weight);
}
Tensor lerp(const Tensor& self, const Tensor& end, const Tensor& weight) {
  static const TypedOp<Tensor(const Tensor&, const Tensor&, const Tensor&)> op("lerp.Tensor");
  return op(self, end, weight);
}
Tensor addcmul(const Tensor& self, const Tensor& tensor1, const Tensor& tensor2, const Scalar& value) {
  static const TypedOp<Tensor(const Tensor&, const Tensor&, const Tensor&, const Scalar&)> op("addcmul");
  return op(self, tensor1, tensor2, value);
}
Tensor addcdiv(const Tensor& self, const Tensor& tensor1, const Tensor& tensor2, const Scalar& value) {
  static const TypedOp<Tensor(const Tensor&, const Tensor&, const Tensor&, const Scalar&)> op("addcdiv");
  return op(self, tensor1, tensor2, value);
}

Tensor isclose(const Tensor& self, const Tensor& other, double rtol, double atol, bool equal_nan) {
  static const TypedOp<Tensor(const Tensor&, const Tensor&, double, double, bool)> op("isclose");
  return op(self, other, rtol, atol, equal_nan);
}

Tensor signbit(const Tensor& self) {
  static const TypedOp<Tensor(const Tensor&)> op("signbit");
  return op(self);
}

}  // namespace vt
