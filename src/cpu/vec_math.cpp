// Elementwise float32 exp, sigmoid, silu and gelu (with its backward) over contiguous arrays, eight floats at a time
// with the polynomial exp of vec_math.h. The pointwise kernels use these for contiguous
// float32 tensors instead of calling std::exp per element.
#include "src/cpu/vec_math.h"

namespace vt::cpu {

namespace {

// sigmoid(x) = 1 / (1 + exp(-x)): no cancellation anywhere.
template <class V>
VT_ALWAYS_INLINE V sigmoid_of(V x) {
  return constant<V>(1.0f) / (constant<V>(1.0f) + exp_with_subnormals(-x));
}

constexpr float kSqrtHalf = 0.70710678118654752f;      // 1 / sqrt(2)
constexpr float kSqrtTwoOverPi = 0.79788456080286536f;  // sqrt(2 / pi)
constexpr float kInvSqrtTwoPi = 0.39894228040143268f;   // 1 / sqrt(2 pi)

template <class V>
VT_ALWAYS_INLINE V gelu_of(V x, bool tanh_form) {
  if (tanh_form) return x * 0.5f * (tanh_approx((x + x * x * x * 0.044715f) * kSqrtTwoOverPi) + 1.0f);
  return x * 0.5f * (erf_approx(x * kSqrtHalf) + 1.0f);
}

// d gelu / dx: cdf(x) + x pdf(x) (exact form); for the tanh form the derivative of
// 0.5 x (1 + tanh(u)) with u = sqrt(2/pi) (x + 0.044715 x^3).
template <class V>
VT_ALWAYS_INLINE V gelu_derivative_of(V x, bool tanh_form) {
  if (tanh_form) {
    const V t = tanh_approx((x + x * x * x * 0.044715f) * kSqrtTwoOverPi);
    const V du = (x * x * 0.134145f + 1.0f) * kSqrtTwoOverPi;
    return (t + 1.0f) * 0.5f + x * 0.5f * (constant<V>(1.0f) - t * t) * du;
  }
  const V cdf = (erf_approx(x * kSqrtHalf) + 1.0f) * 0.5f;
  return cdf + x * exp_approx(x * x * -0.5f) * kInvSqrtTwoPi;
}

}  // namespace

VT_MULTIVERSION void gelu_floats(const float* x, float* y, int64_t n, bool tanh_form) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) store(y + i, gelu_of(load(x + i), tanh_form));
  for (; i < n; ++i) y[i] = gelu_of(x[i], tanh_form);
}

VT_MULTIVERSION void gelu_backward_floats(const float* g, const float* x, float* gx, int64_t n, bool tanh_form) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) store(gx + i, load(g + i) * gelu_derivative_of(load(x + i), tanh_form));
  for (; i < n; ++i) gx[i] = g[i] * gelu_derivative_of(x[i], tanh_form);
}

VT_MULTIVERSION float exp_shifted_and_sum(float* x, int64_t n, float shift) {
  f8 sums = splat(0.0f);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    f8 e = exp_approx(load(x + i) - shift);
    store(x + i, e);
    sums += e;
  }
  float total = lane_sum(sums);
  for (; i < n; ++i) {
    x[i] = exp_approx(x[i] - shift);
    total += x[i];
  }
  return total;
}

VT_MULTIVERSION void exp_floats(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) store(y + i, exp_with_subnormals(load(x + i)));
  for (; i < n; ++i) y[i] = exp_with_subnormals(x[i]);
}

VT_MULTIVERSION void sigmoid_floats(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) store(y + i, sigmoid_of(load(x + i)));
  for (; i < n; ++i) y[i] = sigmoid_of(x[i]);
}

VT_MULTIVERSION void silu_floats(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    f8 v = load(x + i);
    store(y + i, v * sigmoid_of(v));
  }
  for (; i < n; ++i) y[i] = x[i] * sigmoid_of(x[i]);
}

}  // namespace vt::cpu
