// Element types, their sizes and names, and torch's promotion and casting rules.
#pragma once
#include <complex>
#include <cstdint>
#include <string_view>

#include "vt/error.h"
#include "vt/half.h"

namespace vt {

// The order matches torch's ScalarType numbering for the types we have, so the
// promotion table below reads like torch's.
enum class ScalarType : int8_t {
  UInt8,
  Int8,
  Int16,
  Int32,
  Int64,
  Float16,
  Float32,
  Float64,
  Bool,
  BFloat16,
  Undefined,
};
constexpr int kNumScalarTypes = static_cast<int>(ScalarType::Undefined);

size_t itemsize(ScalarType type);
// "float32", as in `vibetensor.float32`.
std::string_view dtype_name(ScalarType type);
// "Float", as torch's error messages name types ("not implemented for 'Float'").
std::string_view dtype_short_name(ScalarType type);
// Accepts "float32", "float", "int64", "long", ...; throws ValueError otherwise.
ScalarType parse_dtype(std::string_view name);

inline bool is_floating_point(ScalarType t) {
  return t == ScalarType::Float16 || t == ScalarType::Float32 || t == ScalarType::Float64 ||
         t == ScalarType::BFloat16;
}
inline bool is_integral(ScalarType t, bool include_bool) {
  return (t >= ScalarType::UInt8 && t <= ScalarType::Int64) || (include_bool && t == ScalarType::Bool);
}
inline bool is_signed(ScalarType t) { return t != ScalarType::UInt8 && t != ScalarType::Bool; }

// torch.promote_types.
ScalarType promote_types(ScalarType a, ScalarType b);
// torch.can_cast: may a value of `from` be written into `to` without changing category?
bool can_cast(ScalarType from, ScalarType to);

// The default floating dtype (torch.get_default_dtype); float32 unless changed.
ScalarType default_dtype();
void set_default_dtype(ScalarType type);

template <class T> struct TypeToScalar;
#define VT_TYPE_MAP(cpp, st) \
  template <> struct TypeToScalar<cpp> { static constexpr ScalarType value = ScalarType::st; };
VT_TYPE_MAP(uint8_t, UInt8)
VT_TYPE_MAP(int8_t, Int8)
VT_TYPE_MAP(int16_t, Int16)
VT_TYPE_MAP(int32_t, Int32)
VT_TYPE_MAP(int64_t, Int64)
VT_TYPE_MAP(Half, Float16)
VT_TYPE_MAP(float, Float32)
VT_TYPE_MAP(double, Float64)
VT_TYPE_MAP(bool, Bool)
VT_TYPE_MAP(BFloat16, BFloat16)
#undef VT_TYPE_MAP

// Calls `fn(T{})` with the C++ type of `type`; the kernel is instantiated for every listed
// type. `op` names the caller in the error for an unsupported type.
#define VT_DISPATCH_CASE(st, cpp) \
  case ::vt::ScalarType::st: return fn(cpp{});

template <class Fn>
decltype(auto) dispatch_all_types(ScalarType type, std::string_view op, Fn&& fn) {
  switch (type) {
    VT_DISPATCH_CASE(UInt8, uint8_t)
    VT_DISPATCH_CASE(Int8, int8_t)
    VT_DISPATCH_CASE(Int16, int16_t)
    VT_DISPATCH_CASE(Int32, int32_t)
    VT_DISPATCH_CASE(Int64, int64_t)
    VT_DISPATCH_CASE(Float16, Half)
    VT_DISPATCH_CASE(Float32, float)
    VT_DISPATCH_CASE(Float64, double)
    VT_DISPATCH_CASE(Bool, bool)
    VT_DISPATCH_CASE(BFloat16, BFloat16)
    default: fail(ErrorKind::Type, op, "(): unsupported dtype ", dtype_name(type));
  }
}

// Every type but bool.
template <class Fn>
decltype(auto) dispatch_numeric_types(ScalarType type, std::string_view op, Fn&& fn) {
  switch (type) {
    VT_DISPATCH_CASE(UInt8, uint8_t)
    VT_DISPATCH_CASE(Int8, int8_t)
    VT_DISPATCH_CASE(Int16, int16_t)
    VT_DISPATCH_CASE(Int32, int32_t)
    VT_DISPATCH_CASE(Int64, int64_t)
    VT_DISPATCH_CASE(Float16, Half)
    VT_DISPATCH_CASE(Float32, float)
    VT_DISPATCH_CASE(Float64, double)
    VT_DISPATCH_CASE(BFloat16, BFloat16)
    default:
      fail(ErrorKind::NotImplemented, "\"", op, "\" not implemented for '", dtype_short_name(type), "'");
  }
}

template <class Fn>
decltype(auto) dispatch_floating_types(ScalarType type, std::string_view op, Fn&& fn) {
  switch (type) {
    VT_DISPATCH_CASE(Float16, Half)
    VT_DISPATCH_CASE(Float32, float)
    VT_DISPATCH_CASE(Float64, double)
    VT_DISPATCH_CASE(BFloat16, BFloat16)
    default:
      fail(ErrorKind::NotImplemented, "\"", op, "\" not implemented for '", dtype_short_name(type), "'");
  }
}
#undef VT_DISPATCH_CASE

// The type kernels compute in: float for the 16-bit floats, the type itself otherwise.
template <class T> struct ComputeType { using type = T; };
template <> struct ComputeType<Half> { using type = float; };
template <> struct ComputeType<BFloat16> { using type = float; };
template <class T> using compute_t = typename ComputeType<T>::type;

}  // namespace vt
