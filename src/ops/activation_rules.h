// The argument rules and the scalar formulas of the activations with parameters (gelu,
// softplus, elu, leaky_relu, hardtanh, logit, nan_to_num, round with decimals), shared by the
// CPU and CUDA kernels so that both compute the same thing (under nvcc the formulas are host
// and device functions). A formula takes and returns the compute type C: float for the 16-bit
// floats, the type itself otherwise.
#pragma once
#include <cmath>
#include <limits>
#include <optional>
#include <string_view>
#include <type_traits>

#include "vt/dtype.h"
#include "vt/scalar.h"

namespace vt::activation {

// ---- argument rules

// gelu's `approximate`: true for "tanh", false for "none".
inline bool is_tanh_form(std::string_view approximate) {
  VT_CHECK(approximate == "none" || approximate == "tanh", "approximate argument must be either none or tanh.");
  return approximate == "tanh";
}

inline void check_hardtanh(ScalarType type, const Scalar& min_val, const Scalar& max_val) {
  VT_CHECK(type != ScalarType::Bool, "Bool inputs not supported for hardtanh");
  // torch compares the limits after converting them to the integer type (-0.5 becomes 0).
  VT_CHECK(!(type == ScalarType::UInt8 && (min_val.to_int() < 0 || max_val.to_int() < 0)),
           "cannot do hardtanh on an unsigned type with negative limits");
}

// round with decimals passes integers through only with decimals == 0; `kernel` is the name
// the message gives the backend's kernel ("round_cpu").
inline void check_integer_round(int64_t decimals, std::string_view kernel) {
  VT_CHECK(decimals == 0, kernel, " not implemented for integer tensors with decimals != 0");
}

// torch scales by 10^|decimals| before rounding (and back after).
template <class C>
C round_scale(int64_t decimals) {
  return static_cast<C>(std::pow(10.0, static_cast<double>(decimals < 0 ? -decimals : decimals)));
}

// nan_to_num's replacements: 0 for NaN, and the largest and smallest finite values of the
// tensor's dtype T for the infinities, unless given.
template <class T>
struct NanToNum {
  using C = compute_t<T>;
  C nan, posinf, neginf;
  NanToNum(std::optional<double> nan_value, std::optional<double> posinf_value, std::optional<double> neginf_value) {
    const C big = std::is_same_v<T, Half>       ? C(65504)
                  : std::is_same_v<T, BFloat16> ? C(3.3895313892515355e38f)
                                                : std::numeric_limits<C>::max();
    nan = static_cast<C>(nan_value.value_or(0.0));
    posinf = posinf_value ? static_cast<C>(*posinf_value) : big;
    neginf = neginf_value ? static_cast<C>(*neginf_value) : -big;
  }
};

// ---- formulas

template <class C>
VT_HOST_DEVICE C gelu(C x, bool tanh_form) {
  if (tanh_form) {
    C inner = C(0.7978845608028654) * (x + C(0.044715) * x * x * x);
    return C(0.5) * x * (C(1) + std::tanh(inner));
  }
  return C(0.5) * x * (C(1) + std::erf(x * C(0.7071067811865476)));
}

// d gelu / dx: the derivative of the formula gelu evaluates.
template <class C>
VT_HOST_DEVICE C gelu_derivative(C x, bool tanh_form) {
  if (tanh_form) {
    C t = std::tanh(C(0.7978845608028654) * (x + C(0.044715) * x * x * x));
    C du = C(0.7978845608028654) * (C(1) + C(0.134145) * x * x);
    return C(0.5) * (C(1) + t) + C(0.5) * x * (C(1) - t * t) * du;
  }
  C cdf = C(0.5) * (C(1) + std::erf(x * C(0.7071067811865476)));
  return cdf + x * std::exp(C(-0.5) * x * x) * C(0.3989422804014327);
}

template <class C>
VT_HOST_DEVICE C softplus(C x, C beta, C threshold) {
  // Above the threshold softplus is the identity (and exp would overflow).
  return x * beta > threshold ? x : std::log1p(std::exp(x * beta)) / beta;
}

template <class C>
VT_HOST_DEVICE C elu(C x, C alpha, C scale, C input_scale) {
  return x > 0 ? scale * x : scale * alpha * std::expm1(x * input_scale);
}

template <class C>
VT_HOST_DEVICE C leaky_relu(C x, C slope) {
  return x > 0 ? x : x * slope;
}

// NaN stays NaN.
template <class C>
VT_HOST_DEVICE C hardtanh(C x, C lo, C hi) {
  return x != x ? x : (x < lo ? lo : (x > hi ? hi : x));
}

// With clamping (eps given), x is first clamped to [lo, hi] = [eps, 1 - eps].
template <class C>
VT_HOST_DEVICE C logit(C x, bool clamp, C lo, C hi) {
  C z = clamp ? (x < lo ? lo : (x > hi ? hi : x)) : x;
  return std::log(z / (C(1) - z));
}

template <class C>
VT_HOST_DEVICE C nan_to_num(C x, C nan, C posinf, C neginf) {
  constexpr C inf = std::numeric_limits<C>::infinity();
  return x != x ? nan : (x == inf ? posinf : (x == -inf ? neginf : x));
}

// Rounds half to even at 10^-decimals: scale = round_scale(decimals), negative = decimals < 0.
template <class C>
VT_HOST_DEVICE C round_decimals(C x, C scale, bool negative) {
  return negative ? std::nearbyint(x / scale) * scale : std::nearbyint(x * scale) / scale;
}

}  // namespace vt::activation
