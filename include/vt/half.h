// 16-bit floating point storage types. Arithmetic happens in float: these types only
// convert, so kernels compute `T(float(a) + float(b))` exactly as torch's CPU kernels do.
// Under nvcc the conversions are also device functions (the hardware's round-to-nearest-even
// instructions on the device), so CUDA kernels store and load the same types.
#pragma once
#include <bit>
#include <cstdint>
#include <cstring>

#include "vt/host_device.h"

#ifdef __CUDACC__
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#endif

namespace vt {

// IEEE 754 binary16.
struct alignas(2) Half {
  uint16_t bits = 0;
  Half() = default;
  VT_HOST_DEVICE Half(float value) {
#ifdef __CUDA_ARCH__
    bits = __half_as_ushort(__float2half_rn(value));
#else
    bits = from_float(value);
#endif
  }
  VT_HOST_DEVICE operator float() const {
#ifdef __CUDA_ARCH__
    return __half2float(__ushort_as_half(bits));
#else
    return to_float(bits);
#endif
  }

  static uint16_t from_float(float value) {
    uint32_t x = std::bit_cast<uint32_t>(value);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t abs = x & 0x7fffffffu;
    if (abs >= 0x7f800000u) {  // inf or nan
      return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
    }
    if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow to inf
    if (abs < 0x38800000u) {
      // Subnormal half (or zero): add a magic number so the FPU rounds to nearest even for us.
      float f = std::bit_cast<float>(abs) + 0.5f;
      return static_cast<uint16_t>(sign | (std::bit_cast<uint32_t>(f) - 0x3f000000u));
    }
    uint32_t mantissa_odd = (abs >> 13) & 1u;
    abs += 0xc8000fffu + mantissa_odd;  // rebias exponent, round to nearest even
    return static_cast<uint16_t>(sign | (abs >> 13));
  }

  static float to_float(uint16_t h) {
    uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1fu;
    uint32_t mantissa = h & 0x3ffu;
    if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
    if (exponent == 0) {
      // Zero or subnormal: value = mantissa * 2^-24.
      float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
      return sign ? -magnitude : magnitude;
    }
    return std::bit_cast<float>(sign | ((exponent + 112u) << 23) | (mantissa << 13));
  }
};

// bfloat16: the top half of a float32, rounded to nearest even.
struct alignas(2) BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  VT_HOST_DEVICE BFloat16(float value) {
#ifdef __CUDA_ARCH__
    bits = __bfloat16_as_ushort(__float2bfloat16_rn(value));
#else
    bits = from_float(value);
#endif
  }
  VT_HOST_DEVICE operator float() const {
#ifdef __CUDA_ARCH__
    return __uint_as_float(static_cast<uint32_t>(bits) << 16);
#else
    return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16);
#endif
  }

  static uint16_t from_float(float value) {
    uint32_t x = std::bit_cast<uint32_t>(value);
    if ((x & 0x7fffffffu) > 0x7f800000u) return 0x7fc0u;  // canonical nan
    uint32_t rounding_bias = 0x7fffu + ((x >> 16) & 1u);
    return static_cast<uint16_t>((x + rounding_bias) >> 16);
  }
};

}  // namespace vt
