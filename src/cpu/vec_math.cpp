// Elementwise float32 exp, sigmoid, silu and gelu (with its backward) over contiguous arrays, eight
// or (on AVX-512 CPUs) sixteen floats at a time with the polynomial exp of vec_math.h. The pointwise kernels use these for contiguous
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

// The loops, for any vector width V (f8: AVX2 and the baseline; f16: AVX-512), with a
// scalar tail.
template <class V>
VT_ALWAYS_INLINE void gelu_loop(const float* x, float* y, int64_t n, bool tanh_form) {
  constexpr int L = lanes_of<V>;
  int64_t i = 0;
  for (; i + L <= n; i += L) store_vec(y + i, gelu_of(load_vec<V>(x + i), tanh_form));
  for (; i < n; ++i) y[i] = gelu_of(x[i], tanh_form);
}

template <class V>
VT_ALWAYS_INLINE void gelu_backward_loop(const float* g, const float* x, float* gx, int64_t n, bool tanh_form) {
  constexpr int L = lanes_of<V>;
  int64_t i = 0;
  for (; i + L <= n; i += L) store_vec(gx + i, load_vec<V>(g + i) * gelu_derivative_of(load_vec<V>(x + i), tanh_form));
  for (; i < n; ++i) gx[i] = g[i] * gelu_derivative_of(x[i], tanh_form);
}

template <class V>
VT_ALWAYS_INLINE float exp_shifted_and_sum_loop(float* x, int64_t n, float shift) {
  constexpr int L = lanes_of<V>;
  V sums = constant<V>(0.0f);
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    V e = exp_approx(load_vec<V>(x + i) - shift);
    store_vec(x + i, e);
    sums += e;
  }
  float total = lane_sum(sums);
  for (; i < n; ++i) {
    x[i] = exp_approx(x[i] - shift);
    total += x[i];
  }
  return total;
}

template <class V>
VT_ALWAYS_INLINE void exp_loop(const float* x, float* y, int64_t n) {
  constexpr int L = lanes_of<V>;
  int64_t i = 0;
  for (; i + L <= n; i += L) store_vec(y + i, exp_with_subnormals(load_vec<V>(x + i)));
  for (; i < n; ++i) y[i] = exp_with_subnormals(x[i]);
}

template <class V>
VT_ALWAYS_INLINE void sigmoid_loop(const float* x, float* y, int64_t n) {
  constexpr int L = lanes_of<V>;
  int64_t i = 0;
  for (; i + L <= n; i += L) store_vec(y + i, sigmoid_of(load_vec<V>(x + i)));
  for (; i < n; ++i) y[i] = sigmoid_of(x[i]);
}

template <class V>
VT_ALWAYS_INLINE void silu_loop(const float* x, float* y, int64_t n) {
  constexpr int L = lanes_of<V>;
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    V v = load_vec<V>(x + i);
    store_vec(y + i, v * sigmoid_of(v));
  }
  for (; i < n; ++i) y[i] = x[i] * sigmoid_of(x[i]);
}

VT_FLOAT_MAP(void, gelu, (const float* x, float* y, int64_t n, bool tanh_form), (x, y, n, tanh_form))
VT_FLOAT_MAP(void, gelu_backward, (const float* g, const float* x, float* gx, int64_t n, bool tanh_form),
             (g, x, gx, n, tanh_form))
VT_FLOAT_MAP(float, exp_shifted_and_sum, (float* x, int64_t n, float shift), (x, n, shift))
VT_FLOAT_MAP(void, exp, (const float* x, float* y, int64_t n), (x, y, n))
VT_FLOAT_MAP(void, sigmoid, (const float* x, float* y, int64_t n), (x, y, n))
VT_FLOAT_MAP(void, silu, (const float* x, float* y, int64_t n), (x, y, n))

}  // namespace

bool has_avx512() {
  static const bool supported = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                                __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma");
  return supported;
}

void gelu_floats(const float* x, float* y, int64_t n, bool tanh_form) {
  has_avx512() ? gelu_f16(x, y, n, tanh_form) : gelu_f8(x, y, n, tanh_form);
}
void gelu_backward_floats(const float* g, const float* x, float* gx, int64_t n, bool tanh_form) {
  has_avx512() ? gelu_backward_f16(g, x, gx, n, tanh_form) : gelu_backward_f8(g, x, gx, n, tanh_form);
}
float exp_shifted_and_sum(float* x, int64_t n, float shift) {
  return has_avx512() ? exp_shifted_and_sum_f16(x, n, shift) : exp_shifted_and_sum_f8(x, n, shift);
}
void exp_floats(const float* x, float* y, int64_t n) { has_avx512() ? exp_f16(x, y, n) : exp_f8(x, y, n); }
void sigmoid_floats(const float* x, float* y, int64_t n) { has_avx512() ? sigmoid_f16(x, y, n) : sigmoid_f8(x, y, n); }
void silu_floats(const float* x, float* y, int64_t n) { has_avx512() ? silu_f16(x, y, n) : silu_f8(x, y, n); }

}  // namespace vt::cpu
