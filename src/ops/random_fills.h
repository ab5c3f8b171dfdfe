// The random fills of uniform_, normal_, random_ and bernoulli_, shared by the CPU and CUDA
// kernels: element i of a result is Fill<T>{...}(philox(first + i, seed), i) on either device,
// so one seed gives the same numbers on both (normal_ up to the last bit of log and cos), and
// the argument checks every backend makes before drawing.
#pragma once
#include <array>
#include <cmath>
#include <cstdint>
#include <string_view>

#include "vt/dtype.h"
#include "vt/host_device.h"
#include "vt/random.h"
#include "vt/tensor.h"

namespace vt::random_fill {

template <class T>
struct Uniform {
  double from, to;
  VT_HOST_DEVICE T operator()(const std::array<uint32_t, 4>& r, int64_t) const {
    using C = compute_t<T>;
    const double v = from + (to - from) * uniform_double(r[0], r[1]);
    // Rounding to a 16- or 32-bit float may reach `to`: keep the interval half-open.
    T value = static_cast<T>(static_cast<C>(v));
    if (static_cast<double>(static_cast<C>(value)) >= to && to > from) value = static_cast<T>(static_cast<C>(from));
    return value;
  }
};

template <class T>
struct Normal {
  double mean, std;
  VT_HOST_DEVICE T operator()(const std::array<uint32_t, 4>& r, int64_t) const {
    // Box-Muller from two uniforms; 1 - u keeps the log finite.
    const double u1 = 1.0 - uniform_double(r[0], r[1]);
    const double u2 = uniform_double(r[2], r[3]);
    const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    return static_cast<T>(static_cast<compute_t<T>>(mean + std * z));
  }
};

// Integers uniform in [low, low + range).
template <class T>
struct RandomInt {
  int64_t low;
  uint64_t range;
  VT_HOST_DEVICE T operator()(const std::array<uint32_t, 4>& r, int64_t) const {
    const uint64_t bits = (static_cast<uint64_t>(r[0]) << 32) | r[1];
    return static_cast<T>(static_cast<compute_t<T>>(low + static_cast<int64_t>(bits % range)));
  }
};

// 1 with probability prob[i] (float64, one per element, on the result's device), else 0.
template <class T>
struct Bernoulli {
  const double* prob;
  VT_HOST_DEVICE T operator()(const std::array<uint32_t, 4>& r, int64_t i) const {
    return static_cast<T>(static_cast<compute_t<T>>(uniform_double(r[0], r[1]) < prob[i] ? 1 : 0));
  }
};

inline Generator& generator_or_default(Generator* generator) {
  return generator ? *generator : default_generator();
}

void check_uniform(const Tensor& self, double from, double to);
void check_normal(const Tensor& self, double std);
// Checks [low, high) against self's dtype; returns the range's size.
uint64_t check_random_range(const Tensor& self, int64_t low, int64_t high);
// p broadcast to self's shape as contiguous float64 on self's device, each p checked in [0, 1].
Tensor bernoulli_probabilities(const Tensor& self, const Tensor& p);

}  // namespace vt::random_fill
