// CPU kernels of the predicates (isnan, ...), logical_not, bitwise_not and the activations
// with parameters (gelu, softplus, elu, leaky_relu, hardtanh, logit, nan_to_num, round).
#include <cmath>
#include <limits>

#include "src/cpu/loops.h"
#include "src/cpu/vec_math.h"
#include "src/ops/activation_rules.h"
#include "src/ops/pointwise_rules.h"
#include "vt/dispatch.h"
#include "vt/ops.h"
#include "vt/parallel.h"

namespace vt::cpu {
namespace {

// A unary op writing bool (isnan, logical_not).
template <class Pred>
Tensor predicate(const Tensor& out, const Tensor& a, bool inplace, std::string_view name, Pred pred) {
  TensorIterator iter(pointwise::compare_config(name), out, {&a}, inplace);
  dispatch_all_types(iter.common_dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    cpu_kernel(iter, [pred](T x) -> bool { return pred(static_cast<C>(x)); });
  });
  return iter.output();
}

Tensor isnan_cpu(const Tensor& a) { return predicate(Tensor(), a, false, "isnan", [](auto x) { return x != x; }); }
Tensor isinf_cpu(const Tensor& a) {
  return predicate(Tensor(), a, false, "isinf", [](auto x) {
    if constexpr (std::is_floating_point_v<decltype(x)>) return std::isinf(x);
    else return false;
  });
}
Tensor isfinite_cpu(const Tensor& a) {
  return predicate(Tensor(), a, false, "isfinite", [](auto x) {
    if constexpr (std::is_floating_point_v<decltype(x)>) return std::isfinite(x);
    else return true;
  });
}
Tensor logical_not_fn(const Tensor& out, const Tensor& a, bool inplace) {
  return predicate(out, a, inplace, "logical_not", [](auto x) { return x == decltype(x)(0); });
}

Tensor bitwise_not_fn(const Tensor& out, const Tensor& a, bool inplace) {
  TensorIterator iter(pointwise::binary_config("bitwise_not"), out, {&a}, inplace);
  dispatch_all_types(iter.common_dtype(), "bitwise_not", [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool>) {
      cpu_kernel(iter, [](bool x) -> bool { return !x; });
    } else if constexpr (std::is_integral_v<T>) {
      cpu_kernel(iter, [](T x) -> T { return static_cast<T>(~x); });
    } else {
      fail(ErrorKind::NotImplemented, "\"bitwise_not_cpu\" not implemented for '", dtype_short_name(TypeToScalar<T>::value), "'");
    }
  });
  return iter.output();
}

// A unary op with parameters: `make(tag)` returns the scalar function for dtype tag.
template <class Dispatch, class Make>
Tensor parameterized(const Tensor& a, const TensorIteratorConfig& config, Dispatch dispatch, Make make) {
  TensorIterator iter(config, Tensor(), {&a});
  dispatch(iter.common_dtype(), config.op_name, [&](auto tag) { cpu_kernel(iter, make(tag)); });
  return iter.output();
}
auto floating = [](ScalarType t, std::string_view n, auto&& f) { return dispatch_floating_types(t, n, f); };
auto numeric = [](ScalarType t, std::string_view n, auto&& f) { return dispatch_numeric_types(t, n, f); };
auto any_type = [](ScalarType t, std::string_view n, auto&& f) { return dispatch_all_types(t, n, f); };

template <class F>
auto on_compute_type(auto tag, F f) {
  using T = decltype(tag);
  using C = compute_t<T>;
  return [f](T value) -> T { return static_cast<T>(f(static_cast<C>(value))); };
}

// Contiguous float32 tensors of one shape take the vectorized loops of vec_math.cpp.
bool dense_float32(std::initializer_list<const Tensor*> tensors) {
  for (const Tensor* t : tensors) {
    if (t->dtype() != ScalarType::Float32 || !t->is_contiguous() ||
        DimVector(t->sizes()) != DimVector((*tensors.begin())->sizes())) {
      return false;
    }
  }
  return true;
}

Tensor gelu_cpu(const Tensor& a, std::string_view approximate) {
  bool tanh_form = activation::is_tanh_form(approximate);
  if (dense_float32({&a})) {
    Tensor out = empty_like(a);
    const float* x = a.data<float>();
    float* y = out.data<float>();
    parallel_for(0, a.numel(), kGrainSize, [&](int64_t lo, int64_t hi) { gelu_floats(x + lo, y + lo, hi - lo, tanh_form); });
    return out;
  }
  return parameterized(a, pointwise::binary_config("gelu"), floating, [tanh_form](auto tag) {
    return on_compute_type(tag, [tanh_form](auto x) { return activation::gelu(x, tanh_form); });
  });
}

Tensor gelu_backward_cpu(const Tensor& grad_output, const Tensor& self, std::string_view approximate) {
  bool tanh_form = activation::is_tanh_form(approximate);
  if (dense_float32({&grad_output, &self})) {
    Tensor out = empty_like(self);
    const float* g = grad_output.data<float>();
    const float* x = self.data<float>();
    float* gx = out.data<float>();
    parallel_for(0, self.numel(), kGrainSize, [&](int64_t lo, int64_t hi) {
      gelu_backward_floats(g + lo, x + lo, gx + lo, hi - lo, tanh_form);
    });
    return out;
  }
  TensorIterator iter(pointwise::binary_config("gelu_backward"), Tensor(), {&grad_output, &self});
  dispatch_floating_types(iter.common_dtype(), "gelu_backward", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    cpu_kernel(iter, [tanh_form](T g, T x) -> T { return T(C(g) * activation::gelu_derivative(C(x), tanh_form)); });
  });
  return iter.output();
}

Tensor softplus_cpu(const Tensor& a, const Scalar& beta, const Scalar& threshold) {
  return parameterized(a, pointwise::binary_config("softplus"), floating, [&](auto tag) {
    using C = compute_t<decltype(tag)>;
    C b = beta.to<C>(), limit = threshold.to<C>();
    return on_compute_type(tag, [b, limit](C x) { return activation::softplus(x, b, limit); });
  });
}

Tensor elu_cpu(const Tensor& a, const Scalar& alpha, const Scalar& scale, const Scalar& input_scale) {
  return parameterized(a, pointwise::binary_config("elu"), floating, [&](auto tag) {
    using C = compute_t<decltype(tag)>;
    C al = alpha.to<C>(), sc = scale.to<C>(), in = input_scale.to<C>();
    return on_compute_type(tag, [al, sc, in](C x) { return activation::elu(x, al, sc, in); });
  });
}

Tensor leaky_relu_cpu(const Tensor& a, const Scalar& negative_slope) {
  return parameterized(a, pointwise::binary_config("leaky_relu"), floating, [&](auto tag) {
    using C = compute_t<decltype(tag)>;
    C slope = negative_slope.to<C>();
    return on_compute_type(tag, [slope](C x) { return activation::leaky_relu(x, slope); });
  });
}

Tensor hardtanh_cpu(const Tensor& a, const Scalar& min_val, const Scalar& max_val) {
  activation::check_hardtanh(a.dtype(), min_val, max_val);
  return parameterized(a, pointwise::binary_config("hardtanh"), numeric, [&](auto tag) {
    using C = compute_t<decltype(tag)>;
    C lo = min_val.to<C>(), hi = max_val.to<C>();
    return on_compute_type(tag, [lo, hi](C x) { return activation::hardtanh(x, lo, hi); });
  });
}

Tensor logit_cpu(const Tensor& a, std::optional<double> eps) {
  return parameterized(a, pointwise::float_unary_config("logit"), floating, [&](auto tag) {
    using C = compute_t<decltype(tag)>;
    bool clamp = eps.has_value();
    C lo = clamp ? static_cast<C>(*eps) : C(0), hi = C(1) - lo;
    return on_compute_type(tag, [clamp, lo, hi](C x) { return activation::logit(x, clamp, lo, hi); });
  });
}

Tensor nan_to_num_cpu(const Tensor& a, std::optional<double> nan, std::optional<double> posinf, std::optional<double> neginf) {
  return parameterized(a, pointwise::binary_config("nan_to_num"), any_type, [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    if constexpr (!std::is_floating_point_v<C>) {
      return [](T x) -> T { return x; };
    } else {
      activation::NanToNum<T> r(nan, posinf, neginf);
      return on_compute_type(tag, [r](C x) { return activation::nan_to_num(x, r.nan, r.posinf, r.neginf); });
    }
  });
}

Tensor round_decimals_cpu(const Tensor& a, int64_t decimals) {
  return parameterized(a, pointwise::binary_config("round"), numeric, [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    if constexpr (std::is_integral_v<C>) {
      activation::check_integer_round(decimals, "round_cpu");
      return [](T x) -> T { return x; };
    } else {
      bool negative = decimals < 0;
      C scale = activation::round_scale<C>(decimals);
      return on_compute_type(tag, [scale, negative](C x) { return activation::round_decimals(x, scale, negative); });
    }
  });
}

}  // namespace

VT_REGISTRATION(activation_cpu) {
  register_kernel("isnan", DispatchKey::CPU, &isnan_cpu);
  register_kernel("isinf", DispatchKey::CPU, &isinf_cpu);
  register_kernel("isfinite", DispatchKey::CPU, &isfinite_cpu);
  pointwise::register_unary_kernels<logical_not_fn>("logical_not", DispatchKey::CPU);
  pointwise::register_unary_kernels<bitwise_not_fn>("bitwise_not", DispatchKey::CPU);
  register_kernel("gelu", DispatchKey::CPU, &gelu_cpu);
  register_kernel("gelu_backward", DispatchKey::CPU, &gelu_backward_cpu);
  register_kernel("softplus", DispatchKey::CPU, &softplus_cpu);
  register_kernel("elu", DispatchKey::CPU, &elu_cpu);
  register_kernel("leaky_relu", DispatchKey::CPU, &leaky_relu_cpu);
  register_kernel("hardtanh", DispatchKey::CPU, &hardtanh_cpu);
  register_kernel("logit", DispatchKey::CPU, &logit_cpu);
  register_kernel("nan_to_num", DispatchKey::CPU, &nan_to_num_cpu);
  register_kernel("round.decimals", DispatchKey::CPU, &round_decimals_cpu);
}

}  // namespace vt::cpu
