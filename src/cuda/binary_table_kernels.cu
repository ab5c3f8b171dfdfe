// CUDA kernels for the binary ops of vt/binary_ops.def, with the math of the table (the
// CPU kernels are generated from the same table).
#include <cmath>
#include <type_traits>

#include "src/cuda/loops.cuh"
#include "src/ops/pointwise_rules.h"
#include "src/ops/scalar_math.h"
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt::cuda {
namespace {

using pointwise::BinaryRule;
using pointwise::binary_result_t;

#define VT_BINARY_OP(name, node, rule, forward, ...)                                 \
  template <class T>                                                                 \
  struct name##_op {                                                                 \
    using C = compute_t<T>;                                                          \
    using R = binary_result_t<BinaryRule::rule, T>;                                  \
    VT_HOST_DEVICE R operator()(T first, T second) const {                           \
      C x = static_cast<C>(first);                                                   \
      C y = static_cast<C>(second);                                                  \
      return static_cast<R>(forward);                                                \
    }                                                                                \
  };                                                                                 \
  Tensor name##_fn(const Tensor& out, const Tensor& a, const Tensor& b, bool inplace) { \
    return table_binary<BinaryRule::rule, name##_op>(out, a, b, inplace, #name);     \
  }

template <BinaryRule Rule, template <class> class Op>
Tensor table_binary(const Tensor& out, const Tensor& a, const Tensor& b, bool inplace, std::string_view name) {
  TensorIterator iter(pointwise::binary_table_config<Rule>(name), out, {&a, &b}, inplace);
  pointwise::dispatch_binary_rule<Rule>(iter.common_dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (Rule == BinaryRule::Bitwise && !std::is_integral_v<compute_t<T>>) {
      fail(ErrorKind::NotImplemented, "\"", name, "_cuda\" not implemented for '",
           dtype_short_name(TypeToScalar<T>::value), "'");
    } else {
      gpu_kernel(iter, Op<T>{});
    }
  });
  return iter.output();
}
#include "vt/binary_ops.def"
#undef VT_BINARY_OP

}  // namespace

VT_REGISTRATION(binary_table_cuda) {
#define VT_BINARY_OP(name, ...) pointwise::register_binary_kernels<name##_fn>(#name, DispatchKey::CUDA);
#include "vt/binary_ops.def"
#undef VT_BINARY_OP
}

}  // namespace vt::cuda
