// A number of unknown type: what Python passes as `alpha=2` or `x + 1.5`.
#pragma once
#include <cstdint>

#include "vt/dtype.h"

namespace vt {

class Scalar {
 public:
  enum class Tag : uint8_t { Bool, Int, Float };

  Scalar() : Scalar(int64_t{0}) {}
  Scalar(bool v) : tag_(Tag::Bool) { i_ = v; }
  Scalar(int v) : Scalar(static_cast<int64_t>(v)) {}
  Scalar(int64_t v) : tag_(Tag::Int) { i_ = v; }
  Scalar(double v) : tag_(Tag::Float) { d_ = v; }
  Scalar(float v) : Scalar(static_cast<double>(v)) {}

  Tag tag() const { return tag_; }
  bool is_boolean() const { return tag_ == Tag::Bool; }
  bool is_integral() const { return tag_ == Tag::Int; }
  bool is_floating_point() const { return tag_ == Tag::Float; }

  // The dtype a Python number of this kind gets as a tensor (a float uses float64 here;
  // promotion then treats it as a "wrapped number").
  ScalarType type() const {
    switch (tag_) {
      case Tag::Bool: return ScalarType::Bool;
      case Tag::Int: return ScalarType::Int64;
      default: return ScalarType::Float64;
    }
  }

  template <class T>
  T to() const {
    if (tag_ == Tag::Float) return static_cast<T>(static_cast<compute_t<T>>(d_));
    if (tag_ == Tag::Bool) return static_cast<T>(static_cast<compute_t<T>>(i_ != 0));
    return static_cast<T>(static_cast<compute_t<T>>(i_));
  }
  double to_double() const { return tag_ == Tag::Float ? d_ : static_cast<double>(i_); }
  int64_t to_int() const { return tag_ == Tag::Float ? static_cast<int64_t>(d_) : i_; }

 private:
  Tag tag_;
  union {
    int64_t i_;
    double d_;
  };
};

}  // namespace vt
