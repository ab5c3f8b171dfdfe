// Scalar math the C++ standard library lacks, shared by the CPU and CUDA kernels (under
// nvcc these are host and device functions).
#pragma once
#include <cmath>
#include <limits>
#include <type_traits>

#include "vt/error.h"
#include "vt/half.h"

namespace vt {

// Integer division by zero: an error on the CPU. A kernel on the device cannot raise, so
// there the hardware's quotient stands, as in torch's CUDA kernels.
#ifdef __CUDA_ARCH__
#define VT_CHECK_INTEGER_DIVISOR(divisor) (void)(divisor)
#else
#define VT_CHECK_INTEGER_DIVISOR(divisor) \
  if ((divisor) == 0) fail(ErrorKind::Runtime, "ZeroDivisionError")
#endif

// Inverse error function: M. Giles' single-precision approximation ("Approximating the
// erfinv function", GPU Gems 2010) as a start, then Newton steps on erf in double.
template <class C>
VT_HOST_DEVICE C erfinv_scalar(C value) {
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

// NaN wins, as in torch.
template <class C>
VT_HOST_DEVICE C maximum_scalar(C x, C y) {
  if (x != x) return x;
  if (y != y) return y;
  return x > y ? x : y;
}
template <class C>
VT_HOST_DEVICE C minimum_scalar(C x, C y) {
  if (x != x) return x;
  if (y != y) return y;
  return x < y ? x : y;
}

// -a with two's-complement wrapping (the negation of the minimum is the minimum).
template <class C>
VT_HOST_DEVICE C wrapping_negate(C a) {
  using U = std::make_unsigned_t<C>;
  return static_cast<C>(static_cast<U>(0) - static_cast<U>(a));
}

// C's fmod: the remainder has the sign of the dividend. Integer division by zero raises.
template <class C>
VT_HOST_DEVICE C fmod_scalar(C x, C y) {
  if constexpr (std::is_floating_point_v<C>) {
    return std::fmod(x, y);
  } else {
    VT_CHECK_INTEGER_DIVISOR(y);
    if constexpr (std::is_signed_v<C>) {
      if (y == -1) return 0;  // min % -1 traps on x86; the answer is 0
    }
    return static_cast<C>(x % y);
  }
}

// Python's %: the remainder has the sign of the divisor.
template <class C>
VT_HOST_DEVICE C remainder_scalar(C x, C y) {
  C r = fmod_scalar(x, y);
  if (r != 0 && ((r < 0) != (y < 0))) r = static_cast<C>(r + y);
  return r;
}

// Python's //, as torch computes it (stable near integers).
template <class C>
VT_HOST_DEVICE C floor_divide_scalar(C a, C b) {
  if constexpr (std::is_floating_point_v<C>) {
    if (b == 0) return a / b;
    C mod = std::fmod(a, b);
    C div = (a - mod) / b;
    if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1;
    if (div == 0) return std::copysign(C(0), a / b);
    C floored = std::floor(div);
    if (div - floored > C(0.5)) floored += 1;
    return floored;
  } else {
    VT_CHECK_INTEGER_DIVISOR(b);
    if constexpr (std::is_signed_v<C>) {
      if (b == -1) return wrapping_negate(a);  // min / -1 traps on x86; torch wraps to min
    }
    C q = static_cast<C>(a / b);
    if ((a % b != 0) && ((a < 0) != (b < 0))) q -= 1;
    return q;
  }
}

// x * log(y), and 0 where x is 0 (unless y is NaN).
template <class C>
VT_HOST_DEVICE C xlogy_scalar(C x, C y) {
  if (y != y) return y;
  if (x == 0) return C(0);
  return x * std::log(y);
}

// The bitwise op on integers; on bool the same op is the logical one.
template <class C, class Op>
VT_HOST_DEVICE C bitwise_scalar(C x, C y, Op op) {
  if constexpr (std::is_same_v<C, bool>) return static_cast<bool>(op(static_cast<int>(x), static_cast<int>(y)));
  else return static_cast<C>(op(x, y));
}

// base ** exp in an integer type, wrapping; torch's answers for a negative exponent.
template <class C>
VT_HOST_DEVICE C integer_pow(C base, C exp) {
  if (exp < 0) {
    // torch: 1 for base 1, +-1 for base -1, 0 otherwise.
    if (base == 1) return 1;
    if (base == -1) return (exp % 2 == 0) ? 1 : -1;
    return 0;
  }
  C result = 1;
  while (exp) {
    if (exp & 1) result = static_cast<C>(result * base);
    exp >>= 1;
    base = static_cast<C>(base * base);
  }
  return result;
}

}  // namespace vt
