// copy_ (with dtype conversion and broadcasting of the source) and fill_ on the CPU.
#include "src/cpu/loops.h"
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt::cpu {
namespace {

const Tensor& copy_cpu(const Tensor& self, const Tensor& src) {
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

const Tensor& fill_cpu(const Tensor& self, const Scalar& value) {
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
