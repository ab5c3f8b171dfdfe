// Elementwise float32 exp, sigmoid and silu over contiguous arrays, eight floats at a time
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

}  // namespace

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
