// Eight-float vectors (GCC vector extensions) and a vectorizable exp, shared by the CPU
// kernels that need fast float32 math (softmax, exp, sigmoid, silu). Plain arithmetic on
// f8 compiles to one AVX instruction, or two SSE ones in the baseline build; functions that
// use these are built twice (VT_MULTIVERSION) and the AVX2+FMA clone is picked at load time.
#pragma once
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace vt::cpu {

// x86-64-v3 (AVX2 with FMA) is picked by CPU features. An "arch=haswell" clone is picked only on
// a CPU identified as Haswell, so elsewhere it silently ran the baseline SSE loop (5x slower).
#define VT_MULTIVERSION __attribute__((target_clones("arch=x86-64-v3", "default")))
// Functions built for AVX-512 only, called after has_avx512() says so.
#define VT_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,fma")))

// Builds `name##_f8` (eight lanes: the AVX2 clone and the baseline) and `name##_f16` (sixteen
// lanes, AVX-512) from one loop template `name##_loop<V>`; callers pick with has_avx512().
#define VT_FLOAT_MAP(ret, name, params, args)                           \
  VT_MULTIVERSION ret name##_f8 params { return name##_loop<f8> args; } \
  VT_AVX512 ret name##_f16 params { return name##_loop<f16> args; }

// Whether this CPU has AVX-512 (F, VL and DQ) with FMA; checked once.
bool has_avx512();

typedef float f8 __attribute__((vector_size(32)));
typedef int32_t i8 __attribute__((vector_size(32)));
constexpr int kLanes = 8;
// Sixteen floats: one AVX-512 register, for the VT_AVX512 builds of the elementwise maps.
typedef float f16 __attribute__((vector_size(64)));
typedef int32_t i16 __attribute__((vector_size(64)));

// The number of floats in V (float itself counts as one) and the matching int32 vector.
template <class V>
constexpr int lanes_of = sizeof(V) / sizeof(float);
template <class V>
using int_vector_t = std::conditional_t<std::is_same_v<V, f16>, i16, i8>;
// Helpers must inline into the AVX2+FMA clones that call them (a call would pass vectors through
// memory).
#define VT_ALWAYS_INLINE inline __attribute__((always_inline))

VT_ALWAYS_INLINE f8 load(const float* p) {
  f8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
VT_ALWAYS_INLINE void store(float* p, f8 v) { std::memcpy(p, &v, sizeof v); }
// A broadcast (one vbroadcastss). `f8{} + x` costs a scalar add first (0 + x is not x for
// x = -0.0), and an initializer list of eight x's became a chain of inserts in the clones.
VT_ALWAYS_INLINE f8 splat(float x) {
  f8 v = {x};
  return __builtin_shufflevector(v, v, 0, 0, 0, 0, 0, 0, 0, 0);
}
VT_ALWAYS_INLINE f16 splat16(float x) {
  f16 v = {x};
  return __builtin_shufflevector(v, v, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
}
// Loads and stores of any width (V = f8 or f16).
template <class V>
VT_ALWAYS_INLINE V load_vec(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class V>
VT_ALWAYS_INLINE void store_vec(float* p, V v) {
  std::memcpy(p, &v, sizeof v);
}
VT_ALWAYS_INLINE bool any_lane(bool mask) { return mask; }
// Halving ORs (a few vector instructions): a loop over the lanes became a chain of lane
// extracts that cost more than the exp it guards.
VT_ALWAYS_INLINE bool any_lane(i8 mask) {
  typedef int32_t i4 __attribute__((vector_size(16)));
  i4 m4 = __builtin_shufflevector(mask, mask, 0, 1, 2, 3) | __builtin_shufflevector(mask, mask, 4, 5, 6, 7);
  m4 |= __builtin_shufflevector(m4, m4, 2, 3, 0, 1);
  m4 |= __builtin_shufflevector(m4, m4, 1, 0, 3, 2);
  return m4[0] != 0;
}
VT_ALWAYS_INLINE bool any_lane(i16 mask) {
  return any_lane(i8(__builtin_shufflevector(mask, mask, 0, 1, 2, 3, 4, 5, 6, 7) |
                     __builtin_shufflevector(mask, mask, 8, 9, 10, 11, 12, 13, 14, 15)));
}
template <class V>
VT_ALWAYS_INLINE float lane_sum(V v) {
  float s = 0;
  for (int k = 0; k < lanes_of<V>; ++k) s += v[k];
  return s;
}

// c in every lane of V (or c itself for V = float).
template <class V>
VT_ALWAYS_INLINE V constant(float c) {
  if constexpr (std::is_same_v<V, float>) return c;
  else if constexpr (std::is_same_v<V, f16>) return splat16(c);
  else return splat(c);
}

template <class V>
VT_ALWAYS_INLINE V vmax(V a, V b) {
  return a > b ? a : b;
}

// The largest of x[0..n) in four independent accumulators, so the loop is not bound by the
// latency of one max chain (softmax rows, attention scores). V: f8 or f16.
template <class V = f8>
VT_ALWAYS_INLINE float max_of(const float* x, int64_t n) {
  constexpr int L = lanes_of<V>;
  V m0 = constant<V>(-std::numeric_limits<float>::infinity()), m1 = m0, m2 = m0, m3 = m0;
  int64_t i = 0;
  for (; i + 4 * L <= n; i += 4 * L) {
    m0 = vmax(load_vec<V>(x + i), m0);
    m1 = vmax(load_vec<V>(x + i + L), m1);
    m2 = vmax(load_vec<V>(x + i + 2 * L), m2);
    m3 = vmax(load_vec<V>(x + i + 3 * L), m3);
  }
  V lanes = vmax(vmax(m0, m1), vmax(m2, m3));
  for (; i + L <= n; i += L) lanes = vmax(load_vec<V>(x + i), lanes);
  float max = -std::numeric_limits<float>::infinity();
  for (; i < n; ++i) max = x[i] > max ? x[i] : max;
  for (int k = 0; k < L; ++k) max = lanes[k] > max ? lanes[k] : max;
  return max;  // (a NaN element is skipped here but makes its own exp, and so the sum, NaN)
}

// The sum of x[0..n), in one vector of lanes (softmax and layer-norm rows).
template <class V = f8>
VT_ALWAYS_INLINE float sum_of(const float* x, int64_t n) {
  constexpr int L = lanes_of<V>;
  V sums = constant<V>(0.0f);
  int64_t i = 0;
  for (; i + L <= n; i += L) sums += load_vec<V>(x + i);
  float sum = lane_sum(sums);
  for (; i < n; ++i) sum += x[i];
  return sum;
}

// exp(x) = 2^k * e^r with k = round(x / ln 2) and |r| <= ln 2 / 2 (Cephes' expf polynomial,
// within 2 ulp of std::exp); inf above the float range and exactly 0 below the normal range
// (x < -87: softmax wants masked -inf scores to weigh nothing), NaN stays NaN.
template <class V>
VT_ALWAYS_INLINE V exp_approx(V x) {
  const V lo = constant<V>(-87.0f), hi = constant<V>(88.7228355f);  // e^hi: the largest float
  V c = x < lo ? lo : x;
  c = c > hi ? hi : c;
  const V k = (c * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round to nearest
  const V r = c - k * 0.693359375f + k * 2.12194440e-4f;
  V p = constant<V>(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const V y = p * r * r + r + 1.0f;
  V result;
  if constexpr (std::is_same_v<V, float>) {
    const int32_t bits = (static_cast<int32_t>(k) + 126) << 23;  // 2^(k-1): k = 128 stays finite
    float scale;
    std::memcpy(&scale, &bits, sizeof scale);
    result = y * scale * 2.0f;
  } else {
    using I = int_vector_t<V>;
    const I bits = (__builtin_convertvector(k, I) + 126) << 23;
    V scale;
    std::memcpy(&scale, &bits, sizeof scale);
    result = y * scale * 2.0f;
  }
  result = x < lo ? constant<V>(0.0f) : result;
  result = x > hi ? constant<V>(__builtin_inff()) : result;
  return x != x ? x : result;
}

// exp with the subnormal results too (x in [-104, -87]): there e^x = (e^(x/2))^2, computed
// without underflow in the square's factors.
template <class V>
VT_ALWAYS_INLINE V exp_with_subnormals(V x) {
  V result = exp_approx(x);
  const auto tiny = x < constant<V>(-87.0f);
  if (!any_lane(tiny)) return result;  // the common case: one polynomial, not two
  V half = exp_approx(x * 0.5f);
  return tiny ? half * half : result;
}

// erf(x) by Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7), the formula torch's
// vectorized float32 erf uses: 1 - (a1 t + ... + a5 t^5) e^(-x^2) with t = 1 / (1 + p|x|).
template <class V>
VT_ALWAYS_INLINE V erf_approx(V x) {
  const V magnitude = x < constant<V>(0.0f) ? -x : x;
  const V t = constant<V>(1.0f) / (magnitude * 0.3275911f + 1.0f);
  V poly = constant<V>(1.061405429f);
  poly = poly * t - 1.453152027f;
  poly = poly * t + 1.421413741f;
  poly = poly * t - 0.284496736f;
  poly = poly * t + 0.254829592f;
  const V positive = constant<V>(1.0f) - poly * t * exp_approx(-magnitude * magnitude);
  return x < constant<V>(0.0f) ? -positive : positive;
}

// tanh(x) = 1 - 2 / (e^(2x) + 1), exact to float rounding in absolute terms (what gelu needs).
template <class V>
VT_ALWAYS_INLINE V tanh_approx(V x) {
  return constant<V>(1.0f) - constant<V>(2.0f) / (exp_approx(x * 2.0f) + 1.0f);
}

// Elementwise float32 maps over contiguous arrays (src/cpu/vec_math.cpp).
void exp_floats(const float* x, float* y, int64_t n);
void sigmoid_floats(const float* x, float* y, int64_t n);
void silu_floats(const float* x, float* y, int64_t n);
// x[j] = exp(x[j] - shift) in place for j < n; returns their sum (softmax rows of attention).
float exp_shifted_and_sum(float* x, int64_t n, float shift);
// gelu and its derivative times g, exact (erf) or tanh form, as torch's float32 kernels.
void gelu_floats(const float* x, float* y, int64_t n, bool tanh_form);
void gelu_backward_floats(const float* g, const float* x, float* gx, int64_t n, bool tanh_form);

}  // namespace vt::cpu
