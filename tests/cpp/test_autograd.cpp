// Autograd from C++: the engine on recorded ops, a C++ custom function, and the guards.
#include <gtest/gtest.h>

#include "vt/autograd/engine.h"
#include "vt/autograd/record.h"

namespace ag = vt::autograd;

namespace {
vt::Tensor leaf(std::vector<double> values) {
  vt::Tensor t = vt::empty(std::vector<int64_t>{int64_t(values.size())}, vt::ScalarType::Float64);
  std::copy(values.begin(), values.end(), t.data<double>());
  ag::set_requires_grad(t, true);
  return t;
}
double at(const vt::Tensor& t, int64_t i) { return vt::select(t, 0, i).item().to_double(); }

// A C++ custom function: cube(x) = x^3 with a hand-written backward 3x^2.
vt::Tensor cube(const vt::Tensor& x) {
  vt::Tensor out = ag::below_autograd([&] { return x * x * x; });
  if (!x.requires_grad()) return out;
  auto node = ag::make_node("CubeBackward", {&x}, [](ag::FunctionNode& n, const ag::TensorList& g) {
    vt::Tensor saved = n.saved(0);
    return ag::TensorList{g[0] * saved * saved * 3.0};
  });
  node->save(x);
  ag::set_history(out, node);
  return out;
}
}  // namespace

TEST(Autograd, BackwardThroughRecordedOps) {
  vt::Tensor x = leaf({1, 2, 3});
  vt::Tensor y = vt::sum(vt::mul(vt::exp(x), x));
  EXPECT_EQ(ag::grad_fn(y)->name(), "SumBackward0");
  ag::backward({y}, {}, false, false);
  vt::Tensor grad = ag::meta(x)->grad;
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(at(grad, i), std::exp(i + 1.0) * (i + 2.0), 1e-9);
}

TEST(Autograd, CppCustomFunction) {
  vt::Tensor x = leaf({1, -2});
  ag::TensorList g = ag::grad({vt::sum(cube(x))}, {x}, {}, false, false, false);
  EXPECT_EQ(at(g[0], 0), 3.0);
  EXPECT_EQ(at(g[0], 1), 12.0);
}

TEST(Autograd, SecondBackwardThroughFreedGraphRaises) {
  vt::Tensor x = leaf({1, 2});
  vt::Tensor y = vt::sum(vt::exp(x));
  ag::backward({y}, {}, false, false);
  EXPECT_THROW(ag::backward({y}, {}, false, false), vt::Error);
}

TEST(Autograd, InplaceChangeOfSavedTensorIsDetected) {
  vt::Tensor x = leaf({1, 2});
  vt::Tensor e = vt::exp(x);
  vt::Tensor y = vt::sum(e * e);
  {
    ag::GradModeGuard no_grad(false);
    vt::add_(e, vt::scalar_to_tensor(1.0));
  }
  EXPECT_THROW(ag::backward({y}, {}, false, false), vt::Error);
}

TEST(Autograd, NoGradRecordsNothing) {
  vt::Tensor x = leaf({1});
  ag::GradModeGuard no_grad(false);
  vt::Tensor y = vt::exp(x);
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(ag::grad_fn(y), nullptr);
}

TEST(Autograd, LeafInplaceIsRefused) {
  vt::Tensor x = leaf({1});
  EXPECT_THROW(vt::add_(x, vt::scalar_to_tensor(1.0)), vt::Error);
}
