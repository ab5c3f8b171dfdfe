// TensorIterator: broadcasting, promotion, output allocation and layout, out= and in-place rules.
#include <gtest/gtest.h>

#include "vt/ops.h"
#include "vt/tensor_iterator.h"

namespace {
std::vector<int64_t> vec(vt::IntArrayRef r) { return {r.begin(), r.end()}; }
vt::Tensor f32(std::vector<int64_t> shape) { return vt::ones(shape, vt::ScalarType::Float32); }
}  // namespace

TEST(TensorIterator, BroadcastsShapes) {
  vt::Tensor out = vt::add(f32({3, 1}), f32({1, 4}));
  EXPECT_EQ(vec(out.sizes()), (std::vector<int64_t>{3, 4}));
  EXPECT_THROW(vt::add(f32({3}), f32({4})), vt::Error);
}

TEST(TensorIterator, PromotesLikeTorch) {
  vt::Tensor i64 = vt::ones(std::vector<int64_t>{2}, vt::ScalarType::Int64);
  vt::Tensor u8 = vt::ones(std::vector<int64_t>{2}, vt::ScalarType::UInt8);
  vt::Tensor i8 = vt::ones(std::vector<int64_t>{2}, vt::ScalarType::Int8);
  vt::Tensor f16 = vt::ones(std::vector<int64_t>{2}, vt::ScalarType::Float16);
  EXPECT_EQ(vt::add(u8, i8).dtype(), vt::ScalarType::Int16);
  EXPECT_EQ(vt::add(i64, vt::scalar_to_tensor(2.5)).dtype(), vt::ScalarType::Float32);  // wrapped float
  EXPECT_EQ(vt::add(f16, vt::scalar_to_tensor(2.5)).dtype(), vt::ScalarType::Float16);
  EXPECT_EQ(vt::add(u8, vt::scalar_to_tensor(int64_t{300})).dtype(), vt::ScalarType::UInt8);
  // A 0-dim tensor counts less than a dimensioned one of the same category...
  vt::Tensor f64_scalar = vt::full({}, 1.0, vt::ScalarType::Float64);
  EXPECT_EQ(vt::add(f16, f64_scalar).dtype(), vt::ScalarType::Float16);
  // ...but a higher category wins.
  EXPECT_EQ(vt::add(i64, f64_scalar).dtype(), vt::ScalarType::Float64);
  EXPECT_EQ(vt::div(i64, i64).dtype(), vt::ScalarType::Float32);
  EXPECT_EQ(vt::lt(i64, f16).dtype(), vt::ScalarType::Bool);
}

TEST(TensorIterator, OutputFollowsInputLayout) {
  vt::Tensor a = vt::t(f32({3, 5}));
  vt::Tensor out = vt::add(a, a);
  EXPECT_EQ(vec(out.strides()), vec(a.strides()));
}

TEST(TensorIterator, OutIsResizedAndCastChecked) {
  vt::Tensor out = vt::empty(std::vector<int64_t>{1}, vt::ScalarType::Float64);
  vt::add_out(out, f32({2, 3}), f32({3}));
  EXPECT_EQ(vec(out.sizes()), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(vt::sum(out).item().to_double(), 12.0);
  vt::Tensor int_out = vt::empty(std::vector<int64_t>{2, 3}, vt::ScalarType::Int64);
  EXPECT_THROW(vt::add_out(int_out, f32({2, 3}), f32({3})), vt::Error);
}

TEST(TensorIterator, InplaceMayNotBroadcastTheOutput) {
  vt::Tensor small = f32({3});
  EXPECT_THROW(vt::add_(small, f32({2, 3})), vt::Error);
  vt::Tensor big = f32({2, 3});
  vt::add_(big, small);
  EXPECT_EQ(vt::sum(big).item().to_double(), 12.0);
  vt::Tensor ints = vt::ones(std::vector<int64_t>{2}, vt::ScalarType::Int64);
  EXPECT_THROW(vt::mul_(ints, vt::scalar_to_tensor(1.5)), vt::Error);
}

TEST(TensorIterator, HandlesNonContiguousAndZeroStride) {
  vt::Tensor base = vt::reshape(vt::arange(0, 24, 1, vt::ScalarType::Float32), std::vector<int64_t>{4, 6});
  vt::Tensor strided = vt::slice(vt::t(base), 0, 0, std::nullopt, 2);  // [3, 4], strides [2, 6]
  vt::Tensor column = vt::expand(vt::slice(base, 1, 0, 1, 1), std::vector<int64_t>{4, 3});  // zero stride
  vt::Tensor out = vt::add(vt::t(strided), column);
  // out[i][j] = base[i][2j] + base[i][0]
  double expected = 0;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j) expected += (i * 6 + 2 * j) + i * 6;
  EXPECT_EQ(vt::sum(out).item().to_double(), expected);
}

TEST(TensorIterator, LargeTensorsRunInParallelWithSameResult) {
  int64_t n = 1 << 20;
  vt::Tensor x = vt::arange(0, n, 1, vt::ScalarType::Float64);
  vt::Tensor y = vt::mul(x, vt::scalar_to_tensor(2));
  EXPECT_EQ(vt::sum(y).item().to_double(), double(n) * double(n - 1));
}
