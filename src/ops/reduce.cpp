// Reductions: schemas, API entry points and the shape/dtype rules.
#include "src/ops/reduce_rules.h"
#include "vt/dispatch.h"

namespace vt {

namespace reduce {

ReductionShape reduction_shape(const Tensor& self, const OptionalDims& dims, bool keepdim, std::string_view op) {
  ReductionShape shape;
  int64_t ndim = self.dim();
  shape.reduced.assign(ndim, false);
  if (!dims || dims->empty()) {
    shape.reduced.assign(ndim, true);
  } else {
    for (int64_t d : *dims) {
      int64_t w = wrap_dim(d, ndim);
      if (ndim == 0) continue;
      VT_CHECK(!shape.reduced[w], "dim ", w, " appears multiple times in the list of dims");
      shape.reduced[w] = true;
    }
  }
  (void)op;
  for (int64_t d = 0; d < ndim; ++d) {
    int64_t size = self.sizes()[d];
    if (shape.reduced[d]) {
      shape.inner *= size;
      shape.kept_shape.push_back(1);
      if (keepdim) shape.result_shape.push_back(1);
    } else {
      shape.outer *= size;
      shape.kept_shape.push_back(size);
      shape.result_shape.push_back(size);
    }
  }
  return shape;
}

ScalarType sum_result_dtype(const Tensor& self, std::optional<ScalarType> dtype) {
  if (dtype) return *dtype;
  return is_integral(self.dtype(), true) ? ScalarType::Int64 : self.dtype();
}

ScalarType mean_result_dtype(const Tensor& self, std::optional<ScalarType> dtype) {
  if (dtype) {
    VT_CHECK(is_floating_point(*dtype), "mean(): could not infer output dtype. Optional dtype must be either a floating "
             "point or complex dtype. Got: ", dtype_short_name(*dtype));
    return *dtype;
  }
  VT_CHECK(is_floating_point(self.dtype()), "mean(): could not infer output dtype. Input dtype must be either a "
           "floating point or complex dtype. Got: ", dtype_short_name(self.dtype()));
  return self.dtype();
}

}  // namespace reduce

VT_REGISTRATION(reduce_ops) {
  Registry& r = Registry::instance();
  r.define("sum.dim_IntList(Tensor self, int[1]? dim=None, bool keepdim=False, *, ScalarType? dtype=None) -> Tensor");
  r.define("mean.dim(Tensor self, int[1]? dim=None, bool keepdim=False, *, ScalarType? dtype=None) -> Tensor");
  r.define("max(Tensor self) -> Tensor");
  r.define("min(Tensor self) -> Tensor");
  r.define("max.dim(Tensor self, int dim, bool keepdim=False) -> (Tensor values, Tensor indices)");
  r.define("min.dim(Tensor self, int dim, bool keepdim=False) -> (Tensor values, Tensor indices)");
  r.define("argmax(Tensor self, int? dim=None, bool keepdim=False) -> Tensor");
  r.define("argmin(Tensor self, int? dim=None, bool keepdim=False) -> Tensor");
}

using SumSignature = Tensor(const Tensor&, OptionalDims, bool, std::optional<ScalarType>);
Tensor sum(const Tensor& self, OptionalDims dims, bool keepdim, std::optional<ScalarType> dtype) {
  static const TypedOp<SumSignature> op("sum.dim_IntList");
  return op(self, std::move(dims), keepdim, dtype);
}
Tensor mean(const Tensor& self, OptionalDims dims, bool keepdim, std::optional<ScalarType> dtype) {
  static const TypedOp<SumSignature> op("mean.dim");
  return op(self, std::move(dims), keepdim, dtype);
}
Tensor max(const Tensor& self) {
  static const TypedOp<Tensor(const Tensor&)> op("max");
  return op(self);
}
Tensor min(const Tensor& self) {
  static const TypedOp<Tensor(const Tensor&)> op("min");
  return op(self);
}
std::tuple<Tensor, Tensor> max_dim(const Tensor& self, int64_t dim, bool keepdim) {
  static const TypedOp<std::tuple<Tensor, Tensor>(const Tensor&, int64_t, bool)> op("max.dim");
  return op(self, dim, keepdim);
}
std::tuple<Tensor, Tensor> min_dim(const Tensor& self, int64_t dim, bool keepdim) {
  static const TypedOp<std::tuple<Tensor, Tensor>(const Tensor&, int64_t, bool)> op("min.dim");
  return op(self, dim, keepdim);
}
Tensor argmax(const Tensor& self, std::optional<int64_t> dim, bool keepdim) {
  static const TypedOp<Tensor(const Tensor&, std::optional<int64_t>, bool)> op("argmax");
  return op(self, dim, keepdim);
}
Tensor argmin(const Tensor& self, std::optional<int64_t> dim, bool keepdim) {
  static const TypedOp<Tensor(const Tensor&, std::optional<int64_t>, bool)> op("argmin");
  return op(self, dim, keepdim);
}

}  // namespace vt
