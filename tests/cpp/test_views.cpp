// Views alias storage; geometry follows torch.
#include <gtest/gtest.h>

#include <numeric>

#include "vt/indexing.h"
#include "vt/ops.h"

namespace {
vt::Tensor iota(std::vector<int64_t> shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return vt::reshape(vt::arange(0, n, 1, vt::ScalarType::Float32), shape);
}
std::vector<int64_t> vec(vt::IntArrayRef r) { return {r.begin(), r.end()}; }
}  // namespace

TEST(Views, TransposeAndPermuteSwapStrides) {
  vt::Tensor x = iota({2, 3, 4});
  vt::Tensor t = vt::transpose(x, 0, 2);
  EXPECT_EQ(vec(t.sizes()), (std::vector<int64_t>{4, 3, 2}));
  EXPECT_EQ(vec(t.strides()), (std::vector<int64_t>{1, 4, 12}));
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_EQ(t.data_ptr(), x.data_ptr());
  vt::Tensor p = vt::permute(x, std::vector<int64_t>{1, 2, 0});
  EXPECT_EQ(vec(p.strides()), (std::vector<int64_t>{4, 1, 12}));
  EXPECT_THROW(vt::permute(x, std::vector<int64_t>{0, 0, 1}), vt::Error);
}

TEST(Views, ReshapeViewsWhenPossibleAndCopiesOtherwise) {
  vt::Tensor x = iota({4, 6});
  EXPECT_EQ(vt::reshape(x, std::vector<int64_t>{2, -1}).data_ptr(), x.data_ptr());
  vt::Tensor t = vt::t(x);
  EXPECT_THROW(vt::view(t, std::vector<int64_t>{24}), vt::Error);
  vt::Tensor copied = vt::reshape(t, std::vector<int64_t>{24});
  EXPECT_NE(copied.data_ptr(), x.data_ptr());
  // Splitting a dimension of a transposed tensor is still a view.
  EXPECT_EQ(vt::view(t, std::vector<int64_t>{2, 3, 4}).data_ptr(), x.data_ptr());
  EXPECT_THROW(vt::view(x, std::vector<int64_t>{5, -1}), vt::Error);
  EXPECT_THROW(vt::view(x, std::vector<int64_t>{-1, -1}), vt::Error);
}

TEST(Views, ExpandUsesZeroStrides) {
  vt::Tensor x = iota({3, 1});
  vt::Tensor e = vt::expand(x, std::vector<int64_t>{2, 3, 4});
  EXPECT_EQ(vec(e.strides()), (std::vector<int64_t>{0, 1, 0}));
  EXPECT_EQ(vt::sum(e).item().to_double(), 2 * 4 * (0 + 1 + 2));
  EXPECT_THROW(vt::expand(x, std::vector<int64_t>{3, 2, 4}), vt::Error);
}

TEST(Views, SelectNarrowSliceDiagonalUnfold) {
  vt::Tensor x = iota({4, 5});
  EXPECT_EQ(vt::select(x, 1, -1).storage_offset(), 4);
  EXPECT_THROW(vt::select(x, 0, 4), vt::Error);
  vt::Tensor s = vt::slice(x, 1, 1, std::nullopt, 2);
  EXPECT_EQ(vec(s.sizes()), (std::vector<int64_t>{4, 2}));
  EXPECT_EQ(vec(s.strides()), (std::vector<int64_t>{5, 2}));
  EXPECT_EQ(vt::narrow(x, 0, 1, 2).storage_offset(), 5);
  vt::Tensor d = vt::diagonal(x, 1);
  EXPECT_EQ(vec(d.sizes()), (std::vector<int64_t>{4}));
  EXPECT_EQ(d.stride(0), 6);
  EXPECT_EQ(vt::sum(d).item().to_double(), 1 + 7 + 13 + 19);
  vt::Tensor u = vt::unfold(vt::arange(0, 7, 1), 0, 3, 2);
  EXPECT_EQ(vec(u.sizes()), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(vec(u.strides()), (std::vector<int64_t>{2, 1}));
}

TEST(Views, WritesThroughAViewReachTheBase) {
  vt::Tensor x = vt::zeros(std::vector<int64_t>{3, 3}, vt::ScalarType::Float32);
  std::vector<vt::IndexItem> items = {vt::IndexItem::range(std::nullopt, std::nullopt, 1), vt::IndexItem::at(1)};
  vt::Tensor column = vt::apply_indices(x, items);
  vt::fill_(column, 5);
  EXPECT_EQ(vt::sum(x).item().to_double(), 15.0);
  vt::Tensor diag = vt::diagonal(x);
  vt::copy_(diag, vt::full(std::vector<int64_t>{3}, 1, vt::ScalarType::Int64));
  EXPECT_EQ(vt::sum(x).item().to_double(), 15.0 - 5 + 3);
}

TEST(Views, AsStridedIsBoundsChecked) {
  vt::Tensor x = iota({6});
  vt::Tensor windows = vt::as_strided(x, std::vector<int64_t>{4, 3}, std::vector<int64_t>{1, 1}, 0);
  EXPECT_EQ(vt::sum(windows).item().to_double(), (0 + 1 + 2) + (1 + 2 + 3) + (2 + 3 + 4) + (3 + 4 + 5));
  EXPECT_THROW(vt::as_strided(x, std::vector<int64_t>{4, 3}, std::vector<int64_t>{2, 1}, 0), vt::Error);
}

TEST(Views, SqueezeUnsqueezeFlattenUnflatten) {
  vt::Tensor x = iota({2, 1, 3, 1});
  EXPECT_EQ(vec(vt::squeeze(x).sizes()), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(vec(vt::squeeze(x, std::vector<int64_t>{1}).sizes()), (std::vector<int64_t>{2, 3, 1}));
  EXPECT_EQ(vec(vt::unsqueeze(x, -1).sizes()), (std::vector<int64_t>{2, 1, 3, 1, 1}));
  EXPECT_EQ(vec(vt::flatten(x, 1).sizes()), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(vec(vt::unflatten(vt::flatten(x), 0, std::vector<int64_t>{3, -1}).sizes()), (std::vector<int64_t>{3, 2}));
  EXPECT_THROW(vt::unsqueeze(x, 6), vt::Error);
}
