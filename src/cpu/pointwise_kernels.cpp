// CPU kernels for the pointwise ops: each builds a TensorIterator (the op's shape and dtype
// rule) and runs a scalar lambda per dtype through cpu_kernel.
#include <cmath>
#include <limits>
#include <type_traits>

#include "src/cpu/loops.h"
#include "src/ops/pointwise_rules.h"
#include "src/ops/scalar_math.h"
#include "src/cpu/vec_math.h"
#include "vt/dispatch.h"
#include "vt/ops.h"
#include "vt/parallel.h"

namespace vt::cpu {
namespace {

using pointwise::BinaryRule;
using pointwise::binary_result_t;
using pointwise::UnaryRule;

template <class T>
constexpr bool is_float_v = std::is_floating_point_v<compute_t<T>>;

// ---- binary arithmetic

Tensor add_run(const Tensor& out, const Tensor& a, const Tensor& b, bool inplace, const Scalar& alpha, bool subtract,
               std::string_view name) {
  TensorIterator iter(pointwise::binary_config(name), out, {&a, &b}, inplace);
  pointwise::check_alpha(name, iter.common_dtype(), alpha);
  dispatch_all_types(iter.common_dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    C scale = subtract ? static_cast<C>(-alpha.to<C>()) : alpha.to<C>();
    if constexpr (std::is_same_v<T, bool>) {
      cpu_kernel(iter, [scale](bool x, bool y) -> bool { return x || (scale && y); });
    } else if (scale == C(1)) {
      cpu_kernel(iter, [](T x, T y) -> T { return static_cast<T>(static_cast<C>(x) + static_cast<C>(y)); });
    } else if (scale == C(-1) && !std::is_same_v<T, uint8_t>) {
      cpu_kernel(iter, [](T x, T y) -> T { return static_cast<T>(static_cast<C>(x) - static_cast<C>(y)); });
    } else {
      cpu_kernel(iter, [scale](T x, T y) -> T { return static_cast<T>(static_cast<C>(x) + scale * static_cast<C>(y)); });
    }
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

// The result of a run is in the iterator; these wrappers return it for the functional form.
template <class F>
Tensor run_binary(const Tensor& out, const Tensor& a, const Tensor& b, bool inplace, const TensorIteratorConfig& config,
                  F&& body) {
  TensorIterator iter(config, out, {&a, &b}, inplace);
  body(iter);
  return iter.output();
}

Tensor mul_fn(const Tensor& out, const Tensor& a, const Tensor& b, bool inplace) {
  return run_binary(out, a, b, inplace, pointwise::binary_config("mul"), [](TensorIterator& iter) {
    dispatch_all_types(iter.common_dtype(), "mul", [&](auto tag) {
      using T = decltype(tag);
      using C = compute_t<T>;
      if constexpr (std::is_same_v<T, bool>) cpu_kernel(iter, [](bool x, bool y) -> bool { return x && y; });
      else cpu_kernel(iter, [](T x, T y) -> T { return static_cast<T>(static_cast<C>(x) * static_cast<C>(y)); });
    });
  });
}

Tensor div_fn(const Tensor& out, const Tensor& a, const Tensor& b, bool inplace,
              std::optional<std::string_view> rounding_mode) {
  pointwise::DivMode mode = pointwise::parse_rounding_mode(rounding_mode);
  return run_binary(out, a, b, inplace, pointwise::div_config(mode), [mode](TensorIterator& iter) {
    if (mode == pointwise::DivMode::True) {
      dispatch_floating_types(iter.common_dtype(), "div_true", [&](auto tag) {
        using T = decltype(tag);
        using C = compute_t<T>;
        cpu_kernel(iter, [](T x, T y) -> T { return static_cast<T>(static_cast<C>(x) / static_cast<C>(y)); });
      });
      return;
    }
    bool floor = mode == pointwise::DivMode::Floor;
    dispatch_numeric_types(iter.common_dtype(), floor ? "div_floor" : "div_trunc", [&](auto tag) {
      using T = decltype(tag);
      using C = compute_t<T>;
      if (floor) {
        cpu_kernel(iter, [](T x, T y) -> T { return static_cast<T>(floor_divide_scalar<C>(x, y)); });
      } else if constexpr (std::is_floating_point_v<C>) {
        cpu_kernel(iter, [](T x, T y) -> T { return static_cast<T>(std::trunc(static_cast<C>(x) / static_cast<C>(y))); });
      } else {
        cpu_kernel(iter, [](T x, T y) -> T {
          VT_CHECK(y != 0, "ZeroDivisionError");
          if constexpr (std::is_signed_v<T>) {
            if (y == -1) return wrapping_negate(x);  // min / -1 traps on x86
          }
          return static_cast<T>(x / y);
        });
      }
    });
  });
}

Tensor pow_fn(const Tensor& out, const Tensor& a, const Tensor& b, bool inplace) {
  pointwise::check_pow_operands(a, b);
  // A Python-number exponent of +-0.5 is a square root, as in torch (which differs from
  // std::pow at -inf and -0).
  double scalar_exponent = b.is_wrapped_number() ? b.item().to_double() : 0.0;
  bool is_sqrt = b.is_wrapped_number() && scalar_exponent == 0.5;
  bool is_rsqrt = b.is_wrapped_number() && scalar_exponent == -0.5;
  return run_binary(out, a, b, inplace, pointwise::binary_config("pow"), [&](TensorIterator& iter) {
    dispatch_all_types(iter.common_dtype(), "pow", [&](auto tag) {
      using T = decltype(tag);
      using C = compute_t<T>;
      if constexpr (std::is_same_v<T, bool>) {
        // torch has bool pow only for a Python-number exponent.
        VT_CHECK_KIND(b.is_wrapped_number(), ErrorKind::NotImplemented, "\"pow\" not implemented for 'Bool'");
        cpu_kernel(iter, [](bool x, bool y) -> bool { return x || !y; });  // x^0 = 1, 0^1 = 0
      } else if constexpr (std::is_floating_point_v<C>) {
        if (is_sqrt) {
          cpu_kernel(iter, [](T x, T) -> T { return static_cast<T>(std::sqrt(static_cast<C>(x))); });
        } else if (is_rsqrt) {
          cpu_kernel(iter, [](T x, T) -> T { return static_cast<T>(C(1) / std::sqrt(static_cast<C>(x))); });
        } else {
          cpu_kernel(iter, [](T x, T y) -> T { return static_cast<T>(std::pow(static_cast<C>(x), static_cast<C>(y))); });
        }
      } else {
        cpu_kernel(iter, [](T x, T y) -> T { return integer_pow<T>(x, y); });
      }
    });
  });
}

template <class Cmp>
Tensor compare_fn(const Tensor& out, const Tensor& a, const Tensor& b, bool inplace, std::string_view name, Cmp cmp) {
  return run_binary(out, a, b, inplace, pointwise::compare_config(name), [&](TensorIterator& iter) {
    dispatch_all_types(iter.common_dtype(), name, [&](auto tag) {
      using T = decltype(tag);
      using C = compute_t<T>;
      cpu_kernel(iter, [cmp](T x, T y) -> bool { return cmp(static_cast<C>(x), static_cast<C>(y)); });
    });
  });
}

#define VT_COMPARE(name, expr)                                                           \
  Tensor name##_fn(const Tensor& out, const Tensor& a, const Tensor& b, bool inplace) { \
    return compare_fn(out, a, b, inplace, #name, [](auto x, auto y) { return expr; });  \
  }
VT_COMPARE(eq, x == y)
VT_COMPARE(ne, x != y)
VT_COMPARE(lt, x < y)
VT_COMPARE(le, x <= y)
VT_COMPARE(gt, x > y)
VT_COMPARE(ge, x >= y)
#undef VT_COMPARE

// ---- the binary op table

template <BinaryRule Rule, class MakeOp>
Tensor table_binary(const Tensor& out, const Tensor& a, const Tensor& b, bool inplace, std::string_view name,
                    MakeOp make_op) {
  TensorIterator iter(pointwise::binary_table_config<Rule>(name), out, {&a, &b}, inplace);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    if constexpr (Rule == BinaryRule::Bitwise && !std::is_integral_v<C>) {
      fail(ErrorKind::NotImplemented, "\"", name, "_cpu\" not implemented for '", dtype_short_name(TypeToScalar<T>::value), "'");
    } else {
      cpu_kernel(iter, make_op(tag));
    }
  };
  pointwise::dispatch_binary_rule<Rule>(iter.common_dtype(), name, run);
  return iter.output();
}

#define VT_BINARY_OP(name, node, rule, forward, ...)                                                 \
  Tensor name##_fn(const Tensor& out, const Tensor& a, const Tensor& b, bool inplace) {              \
    return table_binary<BinaryRule::rule>(out, a, b, inplace, #name, [](auto tag) {                  \
      using T = decltype(tag);                                                                       \
      using C = compute_t<T>;                                                                        \
      using R = binary_result_t<BinaryRule::rule, T>;                                                \
      return [](T first, T second) -> R {                                                            \
        C x = static_cast<C>(first);                                                                 \
        C y = static_cast<C>(second);                                                                \
        return static_cast<R>(forward);                                                              \
      };                                                                                             \
    });                                                                                              \
  }
#include "vt/binary_ops.def"
#undef VT_BINARY_OP

// ---- unary

template <class Dispatch, class MakeOp>
Tensor run_unary(const Tensor& out, const Tensor& a, bool inplace, const TensorIteratorConfig& config,
                 Dispatch dispatch, MakeOp make_op) {
  TensorIterator iter(config, out, {&a}, inplace);
  dispatch(iter.common_dtype(), config.op_name, [&](auto tag) { cpu_kernel(iter, make_op(tag)); });
  return iter.output();
}

template <class T, class F>
auto float_unary(F f) {
  using C = compute_t<T>;
  return [f](T x) -> T { return static_cast<T>(f(static_cast<C>(x))); };
}

// The table ops with a vectorized float32 form (src/cpu/vec_math.cpp), used when input and
// output are contiguous float32 of the same shape.
using FloatMap = void (*)(const float*, float*, int64_t);
FloatMap vector_map(std::string_view name) {
  if (name == "exp") return &exp_floats;
  if (name == "sigmoid") return &sigmoid_floats;
  if (name == "silu") return &silu_floats;
  return nullptr;
}

bool run_vector_map(const TensorIterator& iter, const Tensor& a, std::string_view name) {
  FloatMap map = vector_map(name);
  if (!map) return false;
  const Tensor& o = iter.output();
  if (a.dtype() != ScalarType::Float32 || o.dtype() != ScalarType::Float32 || !a.is_contiguous() ||
      !o.is_contiguous() || DimVector(a.sizes()) != DimVector(o.sizes())) {
    return false;
  }
  const float* x = a.data<float>();
  float* y = o.data<float>();
  parallel_for(0, a.numel(), kGrainSize, [&](int64_t lo, int64_t hi) { map(x + lo, y + lo, hi - lo); });
  return true;
}

template <UnaryRule Rule, class MakeOp>
Tensor table_unary(const Tensor& out, const Tensor& a, bool inplace, std::string_view name, MakeOp make_op) {
  TensorIterator iter(pointwise::unary_config<Rule>(name), out, {&a}, inplace);
  if (run_vector_map(iter, a, name)) return iter.output();
  auto run = [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    if constexpr (Rule == UnaryRule::Round && std::is_integral_v<C>) {
      cpu_kernel(iter, [](T x) -> T { return x; });  // integers are already rounded
    } else {
      cpu_kernel(iter, make_op(tag));
    }
  };
  pointwise::dispatch_unary_rule<Rule>(iter.common_dtype(), name, run);
  return iter.output();
}

#define VT_UNARY_OP(name, node, rule, forward, ...)                                                  \
  Tensor name##_fn(const Tensor& out, const Tensor& a, bool inplace) {                               \
    return table_unary<UnaryRule::rule>(out, a, inplace, #name, [](auto tag) {                       \
      using T = decltype(tag);                                                                       \
      using C = compute_t<T>;                                                                        \
      return [](T value) -> T {                                                                      \
        C x = static_cast<C>(value);                                                                 \
        return static_cast<T>(static_cast<C>(forward));                                              \
      };                                                                                             \
    });                                                                                              \
  }
#include "vt/unary_ops.def"
#undef VT_UNARY_OP

auto numeric_dispatch = [](ScalarType t, std::string_view n, auto&& f) { return dispatch_numeric_types(t, n, f); };

Tensor neg_fn(const Tensor& out, const Tensor& a, bool inplace) {
  pointwise::check_neg_operand(a);
  return run_unary(out, a, inplace, pointwise::same_type_unary_config("neg"), numeric_dispatch, [](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    return [](T x) -> T { return static_cast<T>(-static_cast<C>(x)); };
  });
}

Tensor abs_fn(const Tensor& out, const Tensor& a, bool inplace) {
  return run_unary(out, a, inplace, pointwise::same_type_unary_config("abs"), numeric_dispatch, [](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    if constexpr (std::is_unsigned_v<C>) return [](T x) -> T { return x; };
    else return [](T x) -> T { return static_cast<T>(std::abs(static_cast<C>(x))); };
  });
}

Tensor relu_fn(const Tensor& out, const Tensor& a, bool inplace) {
  VT_CHECK(a.dtype() != ScalarType::Bool, "Boolean inputs not supported for relu");
  return run_unary(out, a, inplace, pointwise::same_type_unary_config("relu"), numeric_dispatch, [](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    // NaN stays NaN, as in torch (clamp_min propagates NaN).
    return [](T x) -> T {
      C v = static_cast<C>(x);
      return static_cast<T>(v < C(0) ? C(0) : v);
    };
  });
}

// ---- where and clamp

Tensor where_cpu(const Tensor& condition, const Tensor& a, const Tensor& b) {
  TensorIteratorConfig config = pointwise::where_config();
  ScalarType type = result_type({&a, &b});
  config.static_output_dtype = type;
  Tensor ca = a.dtype() == type ? a : to(a, type);
  Tensor cb = b.dtype() == type ? b : to(b, type);
  TensorIterator iter(config, Tensor(), {&condition, &ca, &cb});
  dispatch_all_types(type, "where", [&](auto tag) {
    using T = decltype(tag);
    cpu_kernel(iter, [](bool c, T x, T y) -> T { return c ? x : y; });
  });
  return iter.output();
}

Tensor clamp_fn(const Tensor& out, const Tensor& a, bool inplace, std::optional<Scalar> min, std::optional<Scalar> max) {
  pointwise::ClampPlan plan = pointwise::plan_clamp(out, a, inplace, min, max);
  TensorIterator iter(plan.config, out, {&plan.input}, inplace);
  pointwise::check_clamp_output(plan, iter.common_dtype());
  dispatch_numeric_types(plan.type, "clamp", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    C low = min ? min->to<C>() : C(0);
    C high = max ? max->to<C>() : C(0);
    bool has_low = min.has_value(), has_high = max.has_value();
    auto body = [=](T x) {
      C v = static_cast<C>(x);
      if (v != v) return v;  // NaN propagates, from the input or from a bound
      if (has_low && low != low) return low;
      if (has_high && high != high) return high;
      if (has_low && v < low) v = low;
      if (has_high && v > high) v = high;
      return v;
    };
    dispatch_all_types(iter.common_dtype(), "clamp", [&](auto out_tag) {
      using O = decltype(out_tag);
      cpu_kernel(iter, [body](T x) -> O { return static_cast<O>(static_cast<compute_t<O>>(body(x))); });
    });
  });
  return iter.output();
}

}  // namespace

VT_REGISTRATION(pointwise_cpu) {
  pointwise::register_binary_kernels<add_fn, const Scalar&>("add", DispatchKey::CPU);
  pointwise::register_binary_kernels<sub_fn, const Scalar&>("sub", DispatchKey::CPU);
  pointwise::register_binary_kernels<mul_fn>("mul", DispatchKey::CPU);
  pointwise::register_binary_kernels<div_fn, std::optional<std::string_view>>("div", DispatchKey::CPU);
  pointwise::register_binary_kernels<pow_fn>("pow", DispatchKey::CPU);
  pointwise::register_binary_kernels<eq_fn>("eq", DispatchKey::CPU);
  pointwise::register_binary_kernels<ne_fn>("ne", DispatchKey::CPU);
  pointwise::register_binary_kernels<lt_fn>("lt", DispatchKey::CPU);
  pointwise::register_binary_kernels<le_fn>("le", DispatchKey::CPU);
  pointwise::register_binary_kernels<gt_fn>("gt", DispatchKey::CPU);
  pointwise::register_binary_kernels<ge_fn>("ge", DispatchKey::CPU);
  pointwise::register_unary_kernels<neg_fn>("neg", DispatchKey::CPU);
  pointwise::register_unary_kernels<abs_fn>("abs", DispatchKey::CPU);
  pointwise::register_unary_kernels<relu_fn>("relu", DispatchKey::CPU);
#define VT_BINARY_OP(name, ...) pointwise::register_binary_kernels<name##_fn>(#name, DispatchKey::CPU);
#include "vt/binary_ops.def"
#undef VT_BINARY_OP
#define VT_UNARY_OP(name, ...) pointwise::register_unary_kernels<name##_fn>(#name, DispatchKey::CPU);
#include "vt/unary_ops.def"
#undef VT_UNARY_OP
  pointwise::register_unary_kernels<clamp_fn, std::optional<Scalar>, std::optional<Scalar>>("clamp", DispatchKey::CPU);
  register_kernel("where.self", DispatchKey::CPU, &where_cpu);
}

}  // namespace vt::cpu
