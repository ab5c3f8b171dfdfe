// copy_ (with dtype conversion and broadcasting of the source) and fill_ on the CPU.
#include <cmath>
#include <limits>

#include "src/cpu/loops.h"
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt::cpu {
namespace {

const Tensor& copy_cpu(const Tensor& self, const Tensor& src, bool /*non_blocking: CPU copies complete at once*/) {
  VT_CHECK(self.device() == src.device(), "copy_(): copying between ", src.device().str(), " and ",
           self.device().str(), " is not supported by this build");
  if (self.is_same(src)) return self;
  TensorIteratorConfig config;
  config.op_name = "copy_";
  config.keep_input_dtypes = true;
  TensorIterator iter(config, self, {&src}, /*is_inplace=*/true);
  dispatch_all_types(self.dtype(), "copy_", [&](auto out_tag) {
    using O = decltype(out_tag);
    dispatch_all_types(src.dtype(), "copy_", [&](auto in_tag) {
      using I = decltype(in_tag);
      if constexpr (std::is_same_v<O, I>) {
        cpu_kernel(iter, [](I x) -> O { return x; });
      } else if constexpr (std::is_same_v<O, bool>) {
        cpu_kernel(iter, [](I x) -> O { return static_cast<compute_t<I>>(x) != compute_t<I>(0); });
      } else {
        cpu_kernel(iter, [](I x) -> O { return static_cast<O>(static_cast<compute_t<O>>(static_cast<compute_t<I>>(x))); });
      }
    });
  });
  self.bump_version();
  return self;
}

// torch refuses a fill value that the dtype cannot represent (an overflowing integer, NaN
// for an integer type, a finite float beyond the type's range).
void check_fits(const Scalar& value, ScalarType type) {
  if (type == ScalarType::Bool || type == ScalarType::Float64) return;
  bool fits = dispatch_all_types(type, "fill_", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    double v = value.to_double();
    if constexpr (std::is_integral_v<C>) {
      if (value.is_integral() || value.is_boolean()) {
        int64_t i = value.to_int();
        // Negative values may wrap into an unsigned type (as torch allows), down to -max.
        if constexpr (std::is_same_v<C, uint8_t>) return i >= -255 && i <= 255;
        else return i >= static_cast<int64_t>(std::numeric_limits<C>::min()) && i <= static_cast<int64_t>(std::numeric_limits<C>::max());
      }
      return v == v && v >= static_cast<double>(std::numeric_limits<C>::min()) &&
             v <= static_cast<double>(std::numeric_limits<C>::max());
    } else {
      double max = std::is_same_v<T, Half> ? 65504.0 : std::is_same_v<T, BFloat16> ? 3.3895313892515355e38
                                                                                   : 3.4028234663852886e38;
      return !std::isfinite(v) || std::abs(v) <= max;
    }
  });
  VT_CHECK(fits, "value cannot be converted to type ", dtype_name(type), " without overflow");
}

const Tensor& fill_cpu(const Tensor& self, const Scalar& value) {
  check_fits(value, self.dtype());
  TensorIteratorConfig config;
  config.op_name = "fill_";
  config.keep_input_dtypes = true;
  TensorIterator iter(config, self, {}, /*is_inplace=*/true);
  dispatch_all_types(self.dtype(), "fill_", [&](auto tag) {
    using T = decltype(tag);
    T v = value.to<T>();
    iter.for_each([v](char** data, const int64_t* strides, int64_t n) {
      if (strides[0] == sizeof(T)) {
        T* out = reinterpret_cast<T*>(data[0]);
        for (int64_t i = 0; i < n; ++i) out[i] = v;
      } else {
        for (int64_t i = 0; i < n; ++i) *reinterpret_cast<T*>(data[0] + i * strides[0]) = v;
      }
    });
  });
  self.bump_version();
  return self;
}

}  // namespace

VT_REGISTRATION(copy_cpu) {
  register_kernel("copy_", DispatchKey::CPU, &copy_cpu);
  register_kernel("fill_", DispatchKey::CPU, &fill_cpu);
}

}  // namespace vt::cpu
