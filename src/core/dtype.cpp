// DType tables: sizes, names, torch's promotion lattice and casting rule.
#include "vt/dtype.h"

#include <array>
#include <atomic>

namespace vt {

namespace {
struct DTypeInfo {
  size_t itemsize;
  std::string_view name;
  std::string_view short_name;
};
constexpr std::array<DTypeInfo, kNumScalarTypes> kInfo = {{
    {1, "uint8", "Byte"},
    {1, "int8", "Char"},
    {2, "int16", "Short"},
    {4, "int32", "Int"},
    {8, "int64", "Long"},
    {2, "float16", "Half"},
    {4, "float32", "Float"},
    {8, "float64", "Double"},
    {1, "bool", "Bool"},
    {2, "bfloat16", "BFloat16"},
}};

std::atomic<ScalarType> g_default_dtype{ScalarType::Float32};

const DTypeInfo& info(ScalarType t) {
  VT_CHECK_TYPE(t != ScalarType::Undefined, "dtype is undefined");
  return kInfo[static_cast<size_t>(t)];
}
}  // namespace

size_t itemsize(ScalarType t) { return info(t).itemsize; }
std::string_view dtype_name(ScalarType t) { return t == ScalarType::Undefined ? "undefined" : info(t).name; }
std::string_view dtype_short_name(ScalarType t) { return t == ScalarType::Undefined ? "Undefined" : info(t).short_name; }

ScalarType parse_dtype(std::string_view name) {
  struct Alias { std::string_view name; ScalarType type; };
  static constexpr Alias kAliases[] = {
      {"float", ScalarType::Float32}, {"double", ScalarType::Float64}, {"half", ScalarType::Float16},
      {"long", ScalarType::Int64},    {"int", ScalarType::Int32},      {"short", ScalarType::Int16},
  };
  for (int i = 0; i < kNumScalarTypes; ++i) {
    if (kInfo[i].name == name) return static_cast<ScalarType>(i);
  }
  for (const Alias& alias : kAliases) {
    if (alias.name == name) return alias.type;
  }
  fail(ErrorKind::Value, "unknown dtype '", name, "'");
}

ScalarType promote_types(ScalarType a, ScalarType b) {
  VT_CHECK_TYPE(a != ScalarType::Undefined && b != ScalarType::Undefined,
                "promote_types(): undefined dtype");
  // torch's table (c10/core/ScalarType.cpp) restricted to our types, in enum order.
  constexpr ScalarType u1 = ScalarType::UInt8, i1 = ScalarType::Int8, i2 = ScalarType::Int16,
                       i4 = ScalarType::Int32, i8 = ScalarType::Int64, f2 = ScalarType::Float16,
                       f4 = ScalarType::Float32, f8 = ScalarType::Float64, b1 = ScalarType::Bool,
                       bf = ScalarType::BFloat16;
  static constexpr ScalarType kTable[kNumScalarTypes][kNumScalarTypes] = {
      /*        u1  i1  i2  i4  i8  f2  f4  f8  b1  bf */
      /* u1 */ {u1, i2, i2, i4, i8, f2, f4, f8, u1, bf},
      /* i1 */ {i2, i1, i2, i4, i8, f2, f4, f8, i1, bf},
      /* i2 */ {i2, i2, i2, i4, i8, f2, f4, f8, i2, bf},
      /* i4 */ {i4, i4, i4, i4, i8, f2, f4, f8, i4, bf},
      /* i8 */ {i8, i8, i8, i8, i8, f2, f4, f8, i8, bf},
      /* f2 */ {f2, f2, f2, f2, f2, f2, f4, f8, f2, f4},
      /* f4 */ {f4, f4, f4, f4, f4, f4, f4, f8, f4, f4},
      /* f8 */ {f8, f8, f8, f8, f8, f8, f8, f8, f8, f8},
      /* b1 */ {u1, i1, i2, i4, i8, f2, f4, f8, b1, bf},
      /* bf */ {bf, bf, bf, bf, bf, f4, f4, f8, bf, bf},
  };
  return kTable[static_cast<int>(a)][static_cast<int>(b)];
}

bool can_cast(ScalarType from, ScalarType to) {
  // Only a step down in category is refused: float -> integral, non-bool -> bool.
  if (is_floating_point(from) && is_integral(to, true)) return false;
  if (from != ScalarType::Bool && to == ScalarType::Bool) return false;
  return true;
}

ScalarType default_dtype() { return g_default_dtype.load(std::memory_order_relaxed); }
void set_default_dtype(ScalarType type) {
  VT_CHECK_TYPE(type == ScalarType::Float32 || type == ScalarType::Float64 ||
                    type == ScalarType::Float16 || type == ScalarType::BFloat16,
                "only floating-point types are supported as the default type");
  g_default_dtype.store(type, std::memory_order_relaxed);
}

}  // namespace vt
