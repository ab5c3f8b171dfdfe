// The shape and dtype rules of the pointwise ops (TensorIterator configurations and argument
// checks), shared by every backend, and the helpers that register an op's three forms
// (functional, in-place `name_`, `name.out`) from one backend function.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "vt/dispatch.h"
#include "vt/tensor_iterator.h"

namespace vt::pointwise {

inline TensorIteratorConfig binary_config(std::string_view name) {
  TensorIteratorConfig config;
  config.op_name = name;
  return config;
}
inline TensorIteratorConfig compare_config(std::string_view name) {
  TensorIteratorConfig config = binary_config(name);
  config.output_dtype = OutputDtype::Bool;
  return config;
}
inline TensorIteratorConfig float_unary_config(std::string_view name) {
  TensorIteratorConfig config = binary_config(name);
  config.promote_integer_inputs_to_float = true;
  return config;
}
inline TensorIteratorConfig same_type_unary_config(std::string_view name) {
  TensorIteratorConfig config = binary_config(name);
  config.exact_out_dtype = true;
  return config;
}
inline TensorIteratorConfig where_config() {
  TensorIteratorConfig config = binary_config("where");
  config.keep_input_dtypes = true;
  return config;
}
inline TensorIteratorConfig clamp_config() {
  TensorIteratorConfig config = binary_config("clamp");
  config.keep_input_dtypes = true;
  return config;
}

// clamp: the dtype it computes in (the input's, promoted with the bounds) and the input
// converted to it.
struct ClampPlan {
  TensorIteratorConfig config;
  ScalarType type;
  Tensor input;
};
ClampPlan plan_clamp(const Tensor& out, const Tensor& a, bool inplace, const std::optional<Scalar>& min,
                     const std::optional<Scalar>& max);
void check_clamp_output(const ClampPlan& plan, ScalarType output_dtype);

enum class DivMode { True, Trunc, Floor };
DivMode parse_rounding_mode(std::optional<std::string_view> mode);
inline TensorIteratorConfig div_config(DivMode mode) {
  TensorIteratorConfig config = binary_config("div");
  config.promote_integer_inputs_to_float = mode == DivMode::True;
  return config;
}

// The rules of the op tables (vt/binary_ops.def, vt/unary_ops.def): the iterator
// configuration and the dtypes each op serves.
enum class BinaryRule { Any, Numeric, Promote, Only, Logical, Bitwise };
enum class UnaryRule { Promote, Only, Round, Any };

template <BinaryRule Rule>
TensorIteratorConfig binary_table_config(std::string_view name) {
  if constexpr (Rule == BinaryRule::Promote) return float_unary_config(name);
  else if constexpr (Rule == BinaryRule::Logical) return compare_config(name);
  else return binary_config(name);
}
// Logical ops write bool; the others write the computed dtype.
template <BinaryRule Rule, class T>
using binary_result_t = std::conditional_t<Rule == BinaryRule::Logical, bool, T>;

template <UnaryRule Rule>
TensorIteratorConfig unary_config(std::string_view name) {
  // Ops that keep the input's dtype want exactly that dtype in out= (as torch checks).
  return Rule == UnaryRule::Promote ? float_unary_config(name) : same_type_unary_config(name);
}

// Calls fn(T{}) for the dtypes an op of the rule serves (integers pass through rounding
// ops; bitwise ops reject floats in the kernel, with the backend's name).
template <BinaryRule Rule, class Fn>
void dispatch_binary_rule(ScalarType type, std::string_view name, Fn&& fn) {
  if constexpr (Rule == BinaryRule::Promote || Rule == BinaryRule::Only) dispatch_floating_types(type, name, fn);
  else if constexpr (Rule == BinaryRule::Numeric) dispatch_numeric_types(type, name, fn);
  else dispatch_all_types(type, name, fn);
}
template <UnaryRule Rule, class Fn>
void dispatch_unary_rule(ScalarType type, std::string_view name, Fn&& fn) {
  if constexpr (Rule == UnaryRule::Promote || Rule == UnaryRule::Only) dispatch_floating_types(type, name, fn);
  else if constexpr (Rule == UnaryRule::Round) dispatch_numeric_types(type, name, fn);
  else dispatch_all_types(type, name, fn);
}

// torch's checks on `alpha` and on bool subtraction.
void check_alpha(std::string_view op, ScalarType common, const Scalar& alpha);
void check_sub_operands(const Tensor& a, const Tensor& b);
void check_pow_operands(const Tensor& a, const Tensor& b);
void check_neg_operand(const Tensor& a);

// A backend implements a pointwise op once, as
//   Tensor fn(const Tensor& out, const Tensor& self, const Tensor& other, bool inplace, Extra...)
// (out undefined: allocate); these register the three forms the registry declares.
template <auto Fn, class... Extra>
struct BinaryForms {
  static Tensor functional(const Tensor& a, const Tensor& b, Extra... extra) { return Fn(Tensor(), a, b, false, extra...); }
  static const Tensor& inplace(const Tensor& a, const Tensor& b, Extra... extra) {
    Fn(a, a, b, true, extra...);
    a.bump_version();
    return a;
  }
  static const Tensor& out(const Tensor& o, const Tensor& a, const Tensor& b, Extra... extra) {
    Fn(o, a, b, false, extra...);
    o.bump_version();
    return o;
  }
};
template <auto Fn, class... Extra>
void register_binary_kernels(const std::string& name, DispatchKey key) {
  register_kernel(name, key, &BinaryForms<Fn, Extra...>::functional);
  register_kernel(name + "_", key, &BinaryForms<Fn, Extra...>::inplace);
  register_kernel(name + ".out", key, &BinaryForms<Fn, Extra...>::out);
}

template <auto Fn, class... Extra>
struct UnaryForms {
  static Tensor functional(const Tensor& a, Extra... extra) { return Fn(Tensor(), a, false, extra...); }
  static const Tensor& inplace(const Tensor& a, Extra... extra) {
    Fn(a, a, true, extra...);
    a.bump_version();
    return a;
  }
  static const Tensor& out(const Tensor& o, const Tensor& a, Extra... extra) {
    Fn(o, a, false, extra...);
    o.bump_version();
    return o;
  }
};
template <auto Fn, class... Extra>
void register_unary_kernels(const std::string& name, DispatchKey key) {
  register_kernel(name, key, &UnaryForms<Fn, Extra...>::functional);
  register_kernel(name + "_", key, &UnaryForms<Fn, Extra...>::inplace);
  register_kernel(name + ".out", key, &UnaryForms<Fn, Extra...>::out);
}

}  // namespace vt::pointwise
