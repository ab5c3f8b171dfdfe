// CUDA kernels for the unary ops of vt/unary_ops.def, with the math of the table (the CPU
// kernels are generated from the same table).
#include <cmath>
#include <type_traits>

#include "src/cuda/loops.cuh"
#include "src/ops/pointwise_rules.h"
#include "src/ops/scalar_math.h"
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt::cuda {
namespace {

using pointwise::UnaryRule;

#define VT_UNARY_OP(name, node, rule, forward, ...)                        \
  template <class T>                                                       \
  struct name##_op {                                                       \
    using C = compute_t<T>;                                                \
    VT_HOST_DEVICE T operator()(T value) const {                           \
      C x = static_cast<C>(value);                                         \
      return static_cast<T>(static_cast<C>(forward));                      \
    }                                                                      \
  };                                                                       \
  Tensor name##_fn(const Tensor& out, const Tensor& a, bool inplace) {     \
    return table_unary<UnaryRule::rule, name##_op>(out, a, inplace, #name); \
  }

template <class T>
struct IdentityOp {
  VT_HOST_DEVICE T operator()(T x) const { return x; }
};

template <UnaryRule Rule, template <class> class Op>
Tensor table_unary(const Tensor& out, const Tensor& a, bool inplace, std::string_view name) {
  TensorIterator iter(pointwise::unary_config<Rule>(name), out, {&a}, inplace);
  pointwise::dispatch_unary_rule<Rule>(iter.common_dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (Rule == UnaryRule::Round && std::is_integral_v<compute_t<T>>) gpu_kernel(iter, IdentityOp<T>{});
    else gpu_kernel(iter, Op<T>{});
  });
  return iter.output();
}
#include "vt/unary_ops.def"
#undef VT_UNARY_OP

}  // namespace

VT_REGISTRATION(unary_table_cuda) {
#define VT_UNARY_OP(name, ...) pointwise::register_unary_kernels<name##_fn>(#name, DispatchKey::CUDA);
#include "vt/unary_ops.def"
#undef VT_UNARY_OP
}

}  // namespace vt::cuda
