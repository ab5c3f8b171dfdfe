// The first op set from C++: values, dtypes and errors for a sample of each family.
#include <gtest/gtest.h>

#include <cmath>

#include "vt/ops.h"

namespace {
vt::Tensor vec_f32(std::vector<float> values) {
  vt::Tensor t = vt::empty(std::vector<int64_t>{int64_t(values.size())}, vt::ScalarType::Float32);
  std::copy(values.begin(), values.end(), t.data<float>());
  return t;
}
double at(const vt::Tensor& t, int64_t i) { return vt::select(t, 0, i).item().to_double(); }
}  // namespace

TEST(Ops, DivRoundingModes) {
  vt::Tensor a = vec_f32({-7, 7, -7.5f});
  vt::Tensor b = vec_f32({2, -2, 2});
  EXPECT_EQ(at(vt::div(a, b, "floor"), 0), -4);
  EXPECT_EQ(at(vt::div(a, b, "trunc"), 0), -3);
  EXPECT_EQ(at(vt::div(a, b, "floor"), 1), -4);
  EXPECT_EQ(at(vt::div(a, b), 2), -3.75);
  EXPECT_THROW(vt::div(a, b, "round"), vt::Error);
  vt::Tensor i = vt::full(std::vector<int64_t>{1}, 5);
  EXPECT_THROW(vt::div(i, vt::zeros(std::vector<int64_t>{1}, vt::ScalarType::Int64), "floor"), vt::Error);
}

TEST(Ops, ReductionsOverDims) {
  vt::Tensor x = vt::reshape(vt::arange(0, 6, 1, vt::ScalarType::Float32), std::vector<int64_t>{2, 3});
  EXPECT_EQ(at(vt::sum(x, std::vector<int64_t>{0}), 2), 7);
  EXPECT_EQ(at(vt::mean(x, std::vector<int64_t>{1}), 1), 4);
  auto [values, indices] = vt::max_dim(x, 1, true);
  EXPECT_EQ(values.dim(), 2);
  EXPECT_EQ(vt::select(vt::select(indices, 0, 1), 0, 0).item().to_int(), 2);
  EXPECT_EQ(vt::argmax(x).item().to_int(), 5);
  EXPECT_EQ(vt::sum(vt::ones(std::vector<int64_t>{3}, vt::ScalarType::Bool)).dtype(), vt::ScalarType::Int64);
  EXPECT_THROW(vt::mean(vt::ones(std::vector<int64_t>{3}, vt::ScalarType::Int64)), vt::Error);
  EXPECT_THROW(vt::sum(x, std::vector<int64_t>{2}), vt::Error);
  EXPECT_THROW(vt::max(vt::empty(std::vector<int64_t>{0}, vt::ScalarType::Float32)), vt::Error);
}

TEST(Ops, MaxPropagatesNaN) {
  vt::Tensor x = vec_f32({1, NAN, 3});
  EXPECT_TRUE(std::isnan(vt::max(x).item().to_double()));
  EXPECT_EQ(vt::argmax(x).item().to_int(), 1);
}

TEST(Ops, MatmulShapesAndFallbackTypes) {
  vt::Tensor a = vt::ones(std::vector<int64_t>{2, 3, 4}, vt::ScalarType::Float32);
  vt::Tensor b = vt::ones(std::vector<int64_t>{4, 5}, vt::ScalarType::Float32);
  vt::Tensor c = vt::matmul(a, b);
  EXPECT_EQ(c.dim(), 3);
  EXPECT_EQ(vt::sum(c).item().to_double(), 2 * 3 * 5 * 4);
  vt::Tensor ai = vt::ones(std::vector<int64_t>{3, 4}, vt::ScalarType::Int64);
  vt::Tensor bi = vt::ones(std::vector<int64_t>{4, 2}, vt::ScalarType::Int64);
  EXPECT_EQ(vt::sum(vt::mm(ai, bi)).item().to_int(), 3 * 2 * 4);
  vt::Tensor ah = vt::ones(std::vector<int64_t>{3, 4}, vt::ScalarType::BFloat16);
  EXPECT_EQ(vt::sum(vt::mm(ah, vt::t(ah)), std::nullopt, false, vt::ScalarType::Float32).item().to_double(), 36.0);
  EXPECT_THROW(vt::mm(a, b), vt::Error);
  EXPECT_THROW(vt::mm(b, b), vt::Error);
  EXPECT_THROW(vt::matmul(vt::ones({}, vt::ScalarType::Float32), b), vt::Error);
}

TEST(Ops, WhereAndClamp) {
  vt::Tensor x = vec_f32({-2, 0.5f, 3});
  vt::Tensor mask = vt::gt(x, vt::scalar_to_tensor(0));
  vt::Tensor w = vt::where(mask, x, vt::scalar_to_tensor(0.0));
  EXPECT_EQ(at(w, 0), 0);
  EXPECT_EQ(at(w, 2), 3);
  vt::Tensor c = vt::clamp(x, -1.0, 1.0);
  EXPECT_EQ(at(c, 0), -1);
  EXPECT_EQ(at(c, 2), 1);
  EXPECT_THROW(vt::clamp(x, std::nullopt, std::nullopt), vt::Error);
  EXPECT_THROW(vt::where(x, x, x), vt::Error);
}
