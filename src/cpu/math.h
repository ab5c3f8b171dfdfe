// Scalar math the C++ standard library lacks.
#pragma once
#include <cmath>
#include <limits>

namespace vt::cpu {

// Inverse error function: M. Giles' single-precision approximation ("Approximating the
// erfinv function", GPU Gems 2010) as a start, then Newton steps on erf in double.
template <class C>
C erfinv_scalar(C value) {
  double y = static_cast<double>(value);
  if (y <= -1 || y >= 1) {
    if (y == 1) return std::numeric_limits<C>::infinity();
    if (y == -1) return -std::numeric_limits<C>::infinity();
    return std::numeric_limits<C>::quiet_NaN();
  }
  double w = -std::log((1.0 - y) * (1.0 + y));
  double p;
  if (w < 5.0) {
    w -= 2.5;
    p = 2.81022636e-08;
    p = 3.43273939e-07 + p * w;
    p = -3.5233877e-06 + p * w;
    p = -4.39150654e-06 + p * w;
    p = 0.00021858087 + p * w;
    p = -0.00125372503 + p * w;
    p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w;
    p = 1.50140941 + p * w;
  } else {
    w = std::sqrt(w) - 3.0;
    p = -0.000200214257;
    p = 0.000100950558 + p * w;
    p = 0.00134934322 + p * w;
    p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w;
    p = -0.0076224613 + p * w;
    p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w;
    p = 2.83297682 + p * w;
  }
  double x = p * y;
  for (int step = 0; step < 2; ++step) {
    // erf'(x) = 2/sqrt(pi) exp(-x^2)
    x -= (std::erf(x) - y) / (1.1283791670955126 * std::exp(-x * x));
  }
  return static_cast<C>(x);
}

}  // namespace vt::cpu
