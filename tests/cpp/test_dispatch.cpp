// Schema parsing, registration rules, dispatch by key, introspection.
#include <gtest/gtest.h>

#include "vt/dispatch.h"
#include "vt/ops.h"

TEST(Schema, ParsesAndPrintsTorchSchemas) {
  const char* text = "add.out(Tensor self, Tensor other, *, Scalar alpha=1, Tensor(a!) out) -> Tensor(a!)";
  vt::Schema s = vt::parse_schema(text);
  EXPECT_EQ(s.name, "add");
  EXPECT_EQ(s.overload, "out");
  ASSERT_EQ(s.arguments.size(), 4u);
  EXPECT_FALSE(s.arguments[1].kwarg_only);
  EXPECT_TRUE(s.arguments[2].kwarg_only);
  EXPECT_EQ(s.arguments[2].default_value.value(), "1");
  EXPECT_TRUE(s.arguments[3].is_mutable());
  EXPECT_EQ(s.str(), text);

  vt::Schema multi = vt::parse_schema("max.dim(Tensor self, int dim, bool keepdim=False) -> (Tensor values, Tensor indices)");
  EXPECT_EQ(multi.returns.size(), 2u);
  EXPECT_EQ(multi.returns[1].name, "indices");
  vt::Schema lists = vt::parse_schema("sum.dim_IntList(Tensor self, int[1]? dim=None) -> Tensor");
  EXPECT_EQ(lists.arguments[1].type, "int[1]?");
}

TEST(Schema, RejectsMalformedText) {
  for (const char* bad : {"add(Tensor self", "add Tensor self) -> Tensor", "add(Tensor) -> Tensor",
                          "add(Tensor self) ->", "add(Tensor self) -> Tensor )", "(Tensor self) -> Tensor"}) {
    EXPECT_THROW(vt::parse_schema(bad), vt::Error) << bad;
  }
}

namespace {
vt::Tensor test_double_cpu(const vt::Tensor& x) { return vt::mul(x, vt::scalar_to_tensor(2)); }
vt::Tensor test_fallback(const vt::Tensor& x) { return vt::add(x, vt::scalar_to_tensor(100)); }
}  // namespace

TEST(Dispatch, CallsTheKernelOfTheArgumentsBackend) {
  auto& registry = vt::Registry::instance();
  registry.define("test::double(Tensor x) -> Tensor");
  vt::register_kernel("test::double", vt::DispatchKey::CPU, &test_double_cpu);
  vt::TypedOp<vt::Tensor(const vt::Tensor&)> op("test::double");
  vt::Tensor x = vt::full(std::vector<int64_t>{2}, 3.0, vt::ScalarType::Float32);
  EXPECT_EQ(vt::sum(op(x)).item().to_double(), 12.0);
  EXPECT_THROW(registry.define("test::double(Tensor x) -> Tensor"), vt::Error);  // duplicate
  EXPECT_THROW(vt::register_kernel("test::double", vt::DispatchKey::CPU, &test_double_cpu), vt::Error);
}

TEST(Dispatch, FallbackServesBackendsWithoutAKernel) {
  vt::Registry::instance().define("test::shift(Tensor x) -> Tensor");
  vt::register_kernel("test::shift", vt::DispatchKey::Fallback, &test_fallback);
  vt::TypedOp<vt::Tensor(const vt::Tensor&)> op("test::shift");
  vt::Tensor x = vt::zeros(std::vector<int64_t>{1}, vt::ScalarType::Float32);
  EXPECT_EQ(op(x).item().to_double(), 100.0);
}

TEST(Dispatch, MissingKernelIsATypedError) {
  vt::Registry::instance().define("test::nothing(Tensor x) -> Tensor");
  vt::TypedOp<vt::Tensor(const vt::Tensor&)> op("test::nothing");
  vt::Tensor x = vt::zeros(std::vector<int64_t>{1}, vt::ScalarType::Float32);
  try {
    op(x);
    FAIL() << "expected an error";
  } catch (const vt::Error& e) {
    EXPECT_EQ(e.kind(), vt::ErrorKind::NotImplemented);
    EXPECT_NE(std::string(e.what()).find("test::nothing"), std::string::npos);
  }
}

TEST(Dispatch, SignatureMismatchIsRefused) {
  vt::Registry::instance().define("test::typed(Tensor x) -> Tensor");
  vt::register_kernel("test::typed", vt::DispatchKey::CPU, &test_double_cpu);
  vt::Tensor (*other)(const vt::Tensor&, const vt::Tensor&) = [](const vt::Tensor& a, const vt::Tensor&) { return a; };
  EXPECT_THROW(vt::register_kernel("test::typed", vt::DispatchKey::CUDA, other), vt::Error);
}

TEST(Dispatch, IntrospectionListsEveryOpWithSchema) {
  auto ops = vt::Registry::instance().ops();
  EXPECT_GT(ops.size(), 50u);
  bool found_add = false;
  for (const vt::OperatorEntry* e : ops) {
    EXPECT_TRUE(e->has_schema());
    if (e->full_name().rfind("test::", 0) != 0) {
      EXPECT_FALSE(e->registered_keys().empty()) << e->full_name() << " has no kernel";
    }
    if (e->full_name() == "add") {
      found_add = true;
      EXPECT_EQ(e->schema().str(), "add(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor");
      EXPECT_TRUE(e->has_kernel(vt::DispatchKey::CPU));
    }
  }
  EXPECT_TRUE(found_add);
}
