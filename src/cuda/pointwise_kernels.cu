// CUDA kernels for the pointwise ops. The shape, dtype and argument rules are the CPU's
// (src/ops/pointwise_rules.h); only the loop differs: gpu_kernel over functors. The ops of
// the tables are in unary_table_kernels.cu and binary_table_kernels.cu (apart, so that the
// compiler can work on them in parallel).
#include <cmath>
#include <type_traits>

#include "src/cuda/loops.cuh"
#include "src/ops/pointwise_rules.h"
#include "src/ops/scalar_math.h"
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt::cuda {
namespace {

// ---- add, sub, mul, div, pow

template <class T>
struct AddOp {
  compute_t<T> scale;  // alpha, negated for sub
  VT_HOST_DEVICE T operator()(T x, T y) const {
    using C = compute_t<T>;
    if constexpr (std::is_same_v<T, bool>) return x || (scale && y);
    else return static_cast<T>(static_cast<C>(x) + scale * static_cast<C>(y));
  }
};

Tensor add_run(const Tensor& out, const Tensor& a, const Tensor& b, bool inplace, const Scalar& alpha, bool subtract,
               std::string_view name) {
  TensorIterator iter(pointwise::binary_config(name), out, {&a, &b}, inplace);
  pointwise::check_alpha(name, iter.common_dtype(), alpha);
  dispatch_all_types(iter.common_dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    gpu_kernel(iter, AddOp<T>{subtract ? static_cast<C>(-alpha.to<C>()) : alpha.to<C>()});
  });
  return iter.output();
}
Tensor add_fn(const Tensor& out, const Tensor& a, const Tensor& b, bool inplace, const Scalar& alpha) {
  return add_run(out, a, b, inplace, alpha, false, "add");
}
Tensor sub_fn(const Tensor& out, const Tensor& a, const Tensor& b, bool inplace, const Scalar& alpha) {
  pointwise::check_sub_operands(a, b);
  return add_run(out, a, b, inplace, alpha, true, "sub");
}

// Runs `Op<T>{}` over the common dtype's T for every type `Dispatch` serves.
template <template <class> class Op, class Dispatch>
Tensor run_binary(const Tensor& out, const Tensor& a, const Tensor& b, bool inplace, const TensorIteratorConfig& config,
                  Dispatch dispatch) {
  TensorIterator iter(config, out, {&a, &b}, inplace);
  dispatch(iter.common_dtype(), config.op_name, [&](auto tag) { gpu_kernel(iter, Op<decltype(tag)>{}); });
  return iter.output();
}
auto all_types = [](ScalarType t, std::string_view n, auto&& f) { dispatch_all_types(t, n, f); };
auto numeric_types = [](ScalarType t, std::string_view n, auto&& f) { dispatch_numeric_types(t, n, f); };
auto floating_types = [](ScalarType t, std::string_view n, auto&& f) { dispatch_floating_types(t, n, f); };

template <class T>
struct MulOp {
  VT_HOST_DEVICE T operator()(T x, T y) const {
    if constexpr (std::is_same_v<T, bool>) return x && y;
    else return static_cast<T>(static_cast<compute_t<T>>(x) * static_cast<compute_t<T>>(y));
  }
};
Tensor mul_fn(const Tensor& out, const Tensor& a, const Tensor& b, bool inplace) {
  return run_binary<MulOp>(out, a, b, inplace, pointwise::binary_config("mul"), all_types);
}

template <class T>
struct TrueDivOp {
  VT_HOST_DEVICE T operator()(T x, T y) const {
    return static_cast<T>(static_cast<compute_t<T>>(x) / static_cast<compute_t<T>>(y));
  }
};
template <class T>
struct FloorDivOp {
  VT_HOST_DEVICE T operator()(T x, T y) const { return static_cast<T>(floor_divide_scalar<compute_t<T>>(x, y)); }
};
template <class T>
struct TruncDivOp {
  VT_HOST_DEVICE T operator()(T x, T y) const {
    using C = compute_t<T>;
    if constexpr (std::is_floating_point_v<C>) {
      return static_cast<T>(std::trunc(static_cast<C>(x) / static_cast<C>(y)));
    } else {
      if constexpr (std::is_signed_v<T>) {
        if (y == -1) return wrapping_negate(x);  // min / -1 overflows
      }
      return y == 0 ? T(-1) : static_cast<T>(x / y);  // no trap on the device; torch's CUDA gives -1 as well
    }
  }
};
Tensor div_fn(const Tensor& out, const Tensor& a, const Tensor& b, bool inplace,
              std::optional<std::string_view> rounding_mode) {
  pointwise::DivMode mode = pointwise::parse_rounding_mode(rounding_mode);
  TensorIteratorConfig config = pointwise::div_config(mode);
  if (mode == pointwise::DivMode::True) return run_binary<TrueDivOp>(out, a, b, inplace, config, floating_types);
  config.op_name = mode == pointwise::DivMode::Floor ? "div_floor" : "div_trunc";
  if (mode == pointwise::DivMode::Floor) return run_binary<FloorDivOp>(out, a, b, inplace, config, numeric_types);
  return run_binary<TruncDivOp>(out, a, b, inplace, config, numeric_types);
}

template <class T>
struct PowOp {
  enum Kind { General, Sqrt, Rsqrt } kind;
  VT_HOST_DEVICE T operator()(T x, T y) const {
    using C = compute_t<T>;
    if constexpr (std::is_same_v<T, bool>) {
      return x || !y;  // x^0 = 1, 0^1 = 0
    } else if constexpr (std::is_floating_point_v<C>) {
      if (kind == Sqrt) return static_cast<T>(std::sqrt(static_cast<C>(x)));
      if (kind == Rsqrt) return static_cast<T>(C(1) / std::sqrt(static_cast<C>(x)));
      return static_cast<T>(std::pow(static_cast<C>(x), static_cast<C>(y)));
    } else {
      return integer_pow<T>(x, y);
    }
  }
};
Tensor pow_fn(const Tensor& out, const Tensor& a, const Tensor& b, bool inplace) {
  pointwise::check_pow_operands(a, b);
  // A Python-number exponent of +-0.5 is a square root, as in torch.
  const double exponent = b.is_wrapped_number() ? b.item().to_double() : 0.0;
  const bool wrapped = b.is_wrapped_number();
  TensorIterator iter(pointwise::binary_config("pow"), out, {&a, &b}, inplace);
  dispatch_all_types(iter.common_dtype(), "pow", [&](auto tag) {
    using T = decltype(tag);
    VT_CHECK_KIND((!std::is_same_v<T, bool> || wrapped), ErrorKind::NotImplemented, "\"pow\" not implemented for 'Bool'");
    using Kind = typename PowOp<T>::Kind;
    Kind kind = wrapped && exponent == 0.5 ? PowOp<T>::Sqrt : wrapped && exponent == -0.5 ? PowOp<T>::Rsqrt : PowOp<T>::General;
    gpu_kernel(iter, PowOp<T>{static_cast<Kind>(kind)});
  });
  return iter.output();
}

// ---- comparisons

#define VT_COMPARE(name, expr)                                                                  \
  template <class T>                                                                            \
  struct name##_op {                                                                            \
    VT_HOST_DEVICE bool operator()(T a, T b) const {                                            \
      compute_t<T> x = static_cast<compute_t<T>>(a), y = static_cast<compute_t<T>>(b);           \
      return expr;                                                                              \
    }                                                                                           \
  };                                                                                            \
  Tensor name##_fn(const Tensor& out, const Tensor& a, const Tensor& b, bool inplace) {        \
    return run_binary<name##_op>(out, a, b, inplace, pointwise::compare_config(#name), all_types); \
  }
VT_COMPARE(eq, x == y)
VT_COMPARE(ne, x != y)
VT_COMPARE(lt, x < y)
VT_COMPARE(le, x <= y)
VT_COMPARE(gt, x > y)
VT_COMPARE(ge, x >= y)
#undef VT_COMPARE

// ---- unary

template <template <class> class Op, class Dispatch>
Tensor run_unary(const Tensor& out, const Tensor& a, bool inplace, const TensorIteratorConfig& config,
                 Dispatch dispatch) {
  TensorIterator iter(config, out, {&a}, inplace);
  dispatch(iter.common_dtype(), config.op_name, [&](auto tag) { gpu_kernel(iter, Op<decltype(tag)>{}); });
  return iter.output();
}

template <class T>
struct NegOp {
  VT_HOST_DEVICE T operator()(T x) const { return static_cast<T>(-static_cast<compute_t<T>>(x)); }
};
Tensor neg_fn(const Tensor& out, const Tensor& a, bool inplace) {
  pointwise::check_neg_operand(a);
  return run_unary<NegOp>(out, a, inplace, pointwise::same_type_unary_config("neg"), numeric_types);
}

template <class T>
struct AbsOp {
  VT_HOST_DEVICE T operator()(T x) const {
    using C = compute_t<T>;
    if constexpr (std::is_unsigned_v<C>) return x;
    else return static_cast<T>(std::abs(static_cast<C>(x)));
  }
};
Tensor abs_fn(const Tensor& out, const Tensor& a, bool inplace) {
  return run_unary<AbsOp>(out, a, inplace, pointwise::same_type_unary_config("abs"), numeric_types);
}

template <class T>
struct ReluOp {
  VT_HOST_DEVICE T operator()(T x) const {
    using C = compute_t<T>;
    C v = static_cast<C>(x);
    return static_cast<T>(v < C(0) ? C(0) : v);  // NaN stays NaN
  }
};
Tensor relu_fn(const Tensor& out, const Tensor& a, bool inplace) {
  VT_CHECK(a.dtype() != ScalarType::Bool, "Boolean inputs not supported for relu");
  return run_unary<ReluOp>(out, a, inplace, pointwise::same_type_unary_config("relu"), numeric_types);
}

// ---- where and clamp

template <class T>
struct WhereOp {
  VT_HOST_DEVICE T operator()(bool c, T x, T y) const { return c ? x : y; }
};
Tensor where_cuda(const Tensor& condition, const Tensor& a, const Tensor& b) {
  TensorIteratorConfig config = pointwise::where_config();
  ScalarType type = result_type({&a, &b});
  config.static_output_dtype = type;
  Tensor ca = a.dtype() == type ? a : to(a, type);
  Tensor cb = b.dtype() == type ? b : to(b, type);
  TensorIterator iter(config, Tensor(), {&condition, &ca, &cb});
  dispatch_all_types(type, "where", [&](auto tag) { gpu_kernel(iter, WhereOp<decltype(tag)>{}); });
  return iter.output();
}

// Computes in the input's type T and writes the output's type O.
template <class T, class O>
struct ClampOp {
  using C = compute_t<T>;
  C low, high;
  bool has_low, has_high;
  VT_HOST_DEVICE O operator()(T x) const {
    C v = static_cast<C>(x);
    if (v == v) {  // NaN propagates, from the input or from a bound
      if (has_low && low != low) v = low;
      else if (has_high && high != high) v = high;
      else {
        if (has_low && v < low) v = low;
        if (has_high && v > high) v = high;
      }
    }
    return static_cast<O>(static_cast<compute_t<O>>(v));
  }
};
Tensor clamp_fn(const Tensor& out, const Tensor& a, bool inplace, std::optional<Scalar> min, std::optional<Scalar> max) {
  pointwise::ClampPlan plan = pointwise::plan_clamp(out, a, inplace, min, max);
  TensorIterator iter(plan.config, out, {&plan.input}, inplace);
  pointwise::check_clamp_output(plan, iter.common_dtype());
  dispatch_numeric_types(plan.type, "clamp", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    dispatch_all_types(iter.common_dtype(), "clamp", [&](auto out_tag) {
      using O = decltype(out_tag);
      gpu_kernel(iter, ClampOp<T, O>{min ? min->to<C>() : C(0), max ? max->to<C>() : C(0), min.has_value(),
                                      max.has_value()});
    });
  });
  return iter.output();
}

}  // namespace

VT_REGISTRATION(pointwise_cuda) {
  constexpr DispatchKey kCuda = DispatchKey::CUDA;
  pointwise::register_binary_kernels<add_fn, const Scalar&>("add", kCuda);
  pointwise::register_binary_kernels<sub_fn, const Scalar&>("sub", kCuda);
  pointwise::register_binary_kernels<mul_fn>("mul", kCuda);
  pointwise::register_binary_kernels<div_fn, std::optional<std::string_view>>("div", kCuda);
  pointwise::register_binary_kernels<pow_fn>("pow", kCuda);
  pointwise::register_binary_kernels<eq_fn>("eq", kCuda);
  pointwise::register_binary_kernels<ne_fn>("ne", kCuda);
  pointwise::register_binary_kernels<lt_fn>("lt", kCuda);
  pointwise::register_binary_kernels<le_fn>("le", kCuda);
  pointwise::register_binary_kernels<gt_fn>("gt", kCuda);
  pointwise::register_binary_kernels<ge_fn>("ge", kCuda);
  pointwise::register_unary_kernels<neg_fn>("neg", kCuda);
  pointwise::register_unary_kernels<abs_fn>("abs", kCuda);
  pointwise::register_unary_kernels<relu_fn>("relu", kCuda);
  pointwise::register_unary_kernels<clamp_fn, std::optional<Scalar>, std::optional<Scalar>>("clamp", kCuda);
  register_kernel("where.self", kCuda, &where_cuda);
}

}  // namespace vt::cuda
