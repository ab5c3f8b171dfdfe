// DType sizes, names, promotion lattice and 16-bit float conversions.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "vt/dtype.h"

using vt::ScalarType;

TEST(DType, ItemsizeAndNames) {
  EXPECT_EQ(vt::itemsize(ScalarType::Float32), 4u);
  EXPECT_EQ(vt::itemsize(ScalarType::BFloat16), 2u);
  EXPECT_EQ(vt::itemsize(ScalarType::Bool), 1u);
  EXPECT_EQ(vt::dtype_name(ScalarType::Int64), "int64");
  EXPECT_EQ(vt::dtype_short_name(ScalarType::Float64), "Double");
  EXPECT_EQ(vt::parse_dtype("float"), ScalarType::Float32);
  EXPECT_EQ(vt::parse_dtype("bfloat16"), ScalarType::BFloat16);
  EXPECT_THROW(vt::parse_dtype("float128"), vt::Error);
}

TEST(DType, PromotionFollowsTorch) {
  EXPECT_EQ(vt::promote_types(ScalarType::UInt8, ScalarType::Int8), ScalarType::Int16);
  EXPECT_EQ(vt::promote_types(ScalarType::Float16, ScalarType::BFloat16), ScalarType::Float32);
  EXPECT_EQ(vt::promote_types(ScalarType::Int64, ScalarType::Float16), ScalarType::Float16);
  EXPECT_EQ(vt::promote_types(ScalarType::Bool, ScalarType::Int8), ScalarType::Int8);
  EXPECT_EQ(vt::promote_types(ScalarType::Bool, ScalarType::Bool), ScalarType::Bool);
  EXPECT_EQ(vt::promote_types(ScalarType::Float32, ScalarType::Float64), ScalarType::Float64);
  // Symmetric for every pair.
  for (int a = 0; a < vt::kNumScalarTypes; ++a) {
    for (int b = 0; b < vt::kNumScalarTypes; ++b) {
      EXPECT_EQ(vt::promote_types(ScalarType(a), ScalarType(b)), vt::promote_types(ScalarType(b), ScalarType(a)));
    }
  }
}

TEST(DType, CanCast) {
  EXPECT_TRUE(vt::can_cast(ScalarType::Int64, ScalarType::Float16));
  EXPECT_FALSE(vt::can_cast(ScalarType::Float32, ScalarType::Int64));
  EXPECT_FALSE(vt::can_cast(ScalarType::Int8, ScalarType::Bool));
  EXPECT_TRUE(vt::can_cast(ScalarType::Bool, ScalarType::UInt8));
}

TEST(Half, RoundTripsAndRounds) {
  for (float v : {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f}) {
    EXPECT_EQ(float(vt::Half(v)), v) << v;
  }
  EXPECT_TRUE(std::isinf(float(vt::Half(65520.0f))));                  // rounds up past the max
  EXPECT_TRUE(std::isnan(float(vt::Half(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_EQ(float(vt::Half(1.0f + 1.0f / 4096)), 1.0f);                 // ties to even
  EXPECT_EQ(float(vt::Half(1.0f + 3.0f / 2048)), 1.0f + 2.0f / 1024);  // rounds to nearest
}

TEST(BFloat16, RoundsToNearestEven) {
  EXPECT_EQ(float(vt::BFloat16(1.0f)), 1.0f);
  EXPECT_EQ(float(vt::BFloat16(1.00390625f)), 1.0f);  // halfway: to even
  EXPECT_EQ(float(vt::BFloat16(1.01171875f)), 1.015625f);
  EXPECT_TRUE(std::isnan(float(vt::BFloat16(std::numeric_limits<float>::quiet_NaN()))));
}
