// CUDA kernels of the predicates (isnan, isinf, isfinite), logical_not, bitwise_not and the
// activations with parameters (gelu and its backward, softplus, elu, leaky_relu, hardtanh,
// logit, nan_to_num, round with decimals). The iterator configurations, argument checks and
// formulas are the CPU kernels' (src/cpu/activation_kernels.cpp, src/ops/activation_rules.h);
// only the loop differs: gpu_kernel over functors that compute in compute_t<T>.
#include <cmath>
#include <optional>
#include <string_view>
#include <type_traits>

#include "src/cuda/loops.cuh"
#include "src/ops/activation_rules.h"
#include "src/ops/pointwise_rules.h"
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt::cuda {
namespace {

// ---- predicates: any dtype in, bool out

template <class T>
struct IsNanOp {
  VT_HOST_DEVICE bool operator()(T value) const {
    const compute_t<T> x = static_cast<compute_t<T>>(value);
    return x != x;
  }
};
template <class T>
struct IsInfOp {
  VT_HOST_DEVICE bool operator()(T value) const {
    if constexpr (std::is_floating_point_v<compute_t<T>>) return std::isinf(static_cast<compute_t<T>>(value));
    else return false;
  }
};
template <class T>
struct IsFiniteOp {
  VT_HOST_DEVICE bool operator()(T value) const {
    if constexpr (std::is_floating_point_v<compute_t<T>>) return std::isfinite(static_cast<compute_t<T>>(value));
    else return true;
  }
};

template <template <class> class Op>
Tensor predicate(const Tensor& a, std::string_view name) {
  TensorIterator iter(pointwise::compare_config(name), Tensor(), {&a});
  dispatch_all_types(iter.common_dtype(), name, [&](auto tag) { gpu_kernel(iter, Op<decltype(tag)>{}); });
  return iter.output();
}
Tensor isnan_cuda(const Tensor& a) { return predicate<IsNanOp>(a, "isnan"); }
Tensor isinf_cuda(const Tensor& a) { return predicate<IsInfOp>(a, "isinf"); }
Tensor isfinite_cuda(const Tensor& a) { return predicate<IsFiniteOp>(a, "isfinite"); }

// ---- logical_not (bool out) and bitwise_not (integers and bool), with their in-place and out= forms

template <class T>
struct LogicalNotOp {
  VT_HOST_DEVICE bool operator()(T value) const { return static_cast<compute_t<T>>(value) == compute_t<T>(0); }
};
Tensor logical_not_fn(const Tensor& out, const Tensor& a, bool inplace) {
  TensorIterator iter(pointwise::compare_config("logical_not"), out, {&a}, inplace);
  dispatch_all_types(iter.common_dtype(), "logical_not", [&](auto tag) { gpu_kernel(iter, LogicalNotOp<decltype(tag)>{}); });
  return iter.output();
}

template <class T>
struct BitwiseNotOp {
  VT_HOST_DEVICE T operator()(T x) const {
    if constexpr (std::is_same_v<T, bool>) return !x;
    else return static_cast<T>(~x);
  }
};
Tensor bitwise_not_fn(const Tensor& out, const Tensor& a, bool inplace) {
  TensorIterator iter(pointwise::binary_config("bitwise_not"), out, {&a}, inplace);
  dispatch_all_types(iter.common_dtype(), "bitwise_not", [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_integral_v<T>) gpu_kernel(iter, BitwiseNotOp<T>{});
    else fail(ErrorKind::NotImplemented, "\"bitwise_not_cuda\" not implemented for '", dtype_short_name(TypeToScalar<T>::value), "'");
  });
  return iter.output();
}

// ---- activations: each functor holds its parameters in the compute type

template <class T>
using C_t = compute_t<T>;

template <class T>
struct GeluOp {
  bool tanh_form;
  VT_HOST_DEVICE T operator()(T x) const { return static_cast<T>(activation::gelu(static_cast<C_t<T>>(x), tanh_form)); }
};
template <class T>
struct GeluBackwardOp {
  bool tanh_form;
  VT_HOST_DEVICE T operator()(T g, T x) const {
    return static_cast<T>(static_cast<C_t<T>>(g) * activation::gelu_derivative(static_cast<C_t<T>>(x), tanh_form));
  }
};
template <class T>
struct SoftplusOp {
  C_t<T> beta, threshold;
  VT_HOST_DEVICE T operator()(T x) const {
    return static_cast<T>(activation::softplus(static_cast<C_t<T>>(x), beta, threshold));
  }
};
template <class T>
struct EluOp {
  C_t<T> alpha, scale, input_scale;
  VT_HOST_DEVICE T operator()(T x) const {
    return static_cast<T>(activation::elu(static_cast<C_t<T>>(x), alpha, scale, input_scale));
  }
};
template <class T>
struct LeakyReluOp {
  C_t<T> slope;
  VT_HOST_DEVICE T operator()(T x) const { return static_cast<T>(activation::leaky_relu(static_cast<C_t<T>>(x), slope)); }
};
template <class T>
struct HardtanhOp {
  C_t<T> lo, hi;
  VT_HOST_DEVICE T operator()(T x) const { return static_cast<T>(activation::hardtanh(static_cast<C_t<T>>(x), lo, hi)); }
};
template <class T>
struct LogitOp {
  bool clamp;
  C_t<T> lo, hi;
  VT_HOST_DEVICE T operator()(T x) const { return static_cast<T>(activation::logit(static_cast<C_t<T>>(x), clamp, lo, hi)); }
};
template <class T>
struct NanToNumOp {
  C_t<T> nan, posinf, neginf;
  VT_HOST_DEVICE T operator()(T x) const {
    return static_cast<T>(activation::nan_to_num(static_cast<C_t<T>>(x), nan, posinf, neginf));
  }
};
template <class T>
struct RoundDecimalsOp {
  C_t<T> scale;
  bool negative;
  VT_HOST_DEVICE T operator()(T x) const {
    return static_cast<T>(activation::round_decimals(static_cast<C_t<T>>(x), scale, negative));
  }
};
// nan_to_num and round pass integers through.
template <class T>
struct IdentityOp {
  VT_HOST_DEVICE T operator()(T x) const { return x; }
};

// Runs make(T{}), the functor for dtype T, over a unary iterator; `dispatch` picks the dtypes.
template <class Dispatch, class Make>
Tensor unary(const Tensor& a, const TensorIteratorConfig& config, Dispatch dispatch, Make make) {
  TensorIterator iter(config, Tensor(), {&a});
  dispatch(iter.common_dtype(), config.op_name, [&](auto tag) { gpu_kernel(iter, make(tag)); });
  return iter.output();
}
auto floating = [](ScalarType t, std::string_view n, auto&& f) { return dispatch_floating_types(t, n, f); };
auto numeric = [](ScalarType t, std::string_view n, auto&& f) { return dispatch_numeric_types(t, n, f); };

Tensor gelu_cuda(const Tensor& a, std::string_view approximate) {
  const bool tanh_form = activation::is_tanh_form(approximate);
  return unary(a, pointwise::binary_config("gelu"), floating, [&](auto tag) { return GeluOp<decltype(tag)>{tanh_form}; });
}

Tensor gelu_backward_cuda(const Tensor& grad_output, const Tensor& self, std::string_view approximate) {
  const bool tanh_form = activation::is_tanh_form(approximate);
  TensorIterator iter(pointwise::binary_config("gelu_backward"), Tensor(), {&grad_output, &self});
  dispatch_floating_types(iter.common_dtype(), "gelu_backward",
                          [&](auto tag) { gpu_kernel(iter, GeluBackwardOp<decltype(tag)>{tanh_form}); });
  return iter.output();
}

Tensor softplus_cuda(const Tensor& a, const Scalar& beta, const Scalar& threshold) {
  return unary(a, pointwise::binary_config("softplus"), floating, [&](auto tag) {
    using T = decltype(tag);
    return SoftplusOp<T>{beta.to<C_t<T>>(), threshold.to<C_t<T>>()};
  });
}

Tensor elu_cuda(const Tensor& a, const Scalar& alpha, const Scalar& scale, const Scalar& input_scale) {
  return unary(a, pointwise::binary_config("elu"), floating, [&](auto tag) {
    using T = decltype(tag);
    return EluOp<T>{alpha.to<C_t<T>>(), scale.to<C_t<T>>(), input_scale.to<C_t<T>>()};
  });
}

Tensor leaky_relu_cuda(const Tensor& a, const Scalar& negative_slope) {
  return unary(a, pointwise::binary_config("leaky_relu"), floating, [&](auto tag) {
    using T = decltype(tag);
    return LeakyReluOp<T>{negative_slope.to<C_t<T>>()};
  });
}

Tensor hardtanh_cuda(const Tensor& a, const Scalar& min_val, const Scalar& max_val) {
  activation::check_hardtanh(a.dtype(), min_val, max_val);
  return unary(a, pointwise::binary_config("hardtanh"), numeric, [&](auto tag) {
    using T = decltype(tag);
    return HardtanhOp<T>{min_val.to<C_t<T>>(), max_val.to<C_t<T>>()};
  });
}

Tensor logit_cuda(const Tensor& a, std::optional<double> eps) {
  return unary(a, pointwise::float_unary_config("logit"), floating, [&](auto tag) {
    using T = decltype(tag);
    using C = C_t<T>;
    const C lo = eps ? static_cast<C>(*eps) : C(0);
    return LogitOp<T>{eps.has_value(), lo, C(1) - lo};
  });
}

Tensor nan_to_num_cuda(const Tensor& a, std::optional<double> nan, std::optional<double> posinf,
                       std::optional<double> neginf) {
  TensorIterator iter(pointwise::binary_config("nan_to_num"), Tensor(), {&a});
  dispatch_all_types(iter.common_dtype(), "nan_to_num", [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_floating_point_v<C_t<T>>) {
      gpu_kernel(iter, IdentityOp<T>{});
    } else {
      const activation::NanToNum<T> r(nan, posinf, neginf);
      gpu_kernel(iter, NanToNumOp<T>{r.nan, r.posinf, r.neginf});
    }
  });
  return iter.output();
}

Tensor round_decimals_cuda(const Tensor& a, int64_t decimals) {
  TensorIterator iter(pointwise::binary_config("round"), Tensor(), {&a});
  dispatch_numeric_types(iter.common_dtype(), "round", [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_integral_v<C_t<T>>) {
      activation::check_integer_round(decimals, "round_cuda");
      gpu_kernel(iter, IdentityOp<T>{});
    } else {
      gpu_kernel(iter, RoundDecimalsOp<T>{activation::round_scale<C_t<T>>(decimals), decimals < 0});
    }
  });
  return iter.output();
}

}  // namespace

VT_REGISTRATION(activation_cuda) {
  register_kernel("isnan", DispatchKey::CUDA, &isnan_cuda);
  register_kernel("isinf", DispatchKey::CUDA, &isinf_cuda);
  register_kernel("isfinite", DispatchKey::CUDA, &isfinite_cuda);
  pointwise::register_unary_kernels<logical_not_fn>("logical_not", DispatchKey::CUDA);
  pointwise::register_unary_kernels<bitwise_not_fn>("bitwise_not", DispatchKey::CUDA);
  register_kernel("gelu", DispatchKey::CUDA, &gelu_cuda);
  register_kernel("gelu_backward", DispatchKey::CUDA, &gelu_backward_cuda);
  register_kernel("softplus", DispatchKey::CUDA, &softplus_cuda);
  register_kernel("elu", DispatchKey::CUDA, &elu_cuda);
  register_kernel("leaky_relu", DispatchKey::CUDA, &leaky_relu_cuda);
  register_kernel("hardtanh", DispatchKey::CUDA, &hardtanh_cuda);
  register_kernel("logit", DispatchKey::CUDA, &logit_cuda);
  register_kernel("nan_to_num", DispatchKey::CUDA, &nan_to_num_cuda);
  register_kernel("round.decimals", DispatchKey::CUDA, &round_decimals_cuda);
}

}  // namespace vt::cuda
