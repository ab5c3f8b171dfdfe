// Reductions: schemas, API entry points and the shape/dtype rules.
#include "src/ops/reduce_rules.h"
#include "vt/autograd/meta.h"
#include "vt/dispatch.h"

namespace vt {

namespace reduce {

ReductionShape reduction_shape(const Tensor& self, const OptionalDims& dims, bool keepdim) {
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

Tensor as_rows(const Tensor& self, const ReductionShape& shape) {
  std::vector<int64_t> perm;
  for (int64_t d = 0; d < self.dim(); ++d) if (!shape.reduced[d]) perm.push_back(d);
  for (int64_t d = 0; d < self.dim(); ++d) if (shape.reduced[d]) perm.push_back(d);
  Tensor rows = reshape(permute(self, perm), std::vector<int64_t>{shape.outer, shape.inner});
  if (shape.inner > 1 && rows.strides()[1] != 1) rows = contiguous(rows);
  return rows;
}

void check_extreme_all(const Tensor& self, std::string_view name) {
  VT_CHECK(self.numel() > 0, name, "(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
           "reduction dim with the 'dim' argument.");
}

void check_extreme_dim(const Tensor& self, int64_t dim, std::string_view name) {
  int64_t d = wrap_dim(dim, self.dim());
  VT_CHECK_INDEX(self.dim() == 0 || self.sizes()[d] > 0, name, "(): Expected reduction dim ", d,
                 " to have non-zero size.");
}

void check_arg_extreme(const Tensor& self, std::optional<int64_t> dim, std::string_view name) {
  VT_CHECK(self.dtype() != ScalarType::Bool, name, "(): does not support bool input");
  if (dim) {
    check_extreme_dim(self, *dim, name);
    return;
  }
  VT_CHECK_INDEX(self.numel() > 0, name, "(): Expected reduction dim to be specified for input.numel() == 0.");
}

void check_amax_amin(const Tensor& self, const ReductionShape& shape, std::string_view name) {
  for (int64_t d = 0; d < self.dim(); ++d) {
    VT_CHECK_INDEX(!shape.reduced[d] || self.sizes()[d] > 0, name, "(): Expected reduction dim ", d,
                   " to have non-zero size.");
  }
  VT_CHECK(self.dim() > 0 || self.numel() > 0, name, "(): Expected reduction dim to be specified for input.numel() == 0.");
}

}  // namespace reduce

namespace {

Tensor autograd_free_amax(const Tensor& self, const OptionalDims& dims) {
  autograd::BelowAutogradGuard no_history;
  return amax(self, dims, true);
}

// The max over `dims` without history: softmax and logsumexp subtract it for stability only
// (the result does not depend on it), and an infinite max is replaced by 0 so inf - inf
// does not produce NaN.
Tensor stabilizer(const Tensor& self, const OptionalDims& dims) {
  Tensor m = autograd_free_amax(self, dims);
  return where(isinf(m), scalar_to_tensor(0.0), m);
}

Tensor logsumexp_composite(const Tensor& self, OptionalDims dims, bool keepdim) {
  Tensor x = is_floating_point(self.dtype()) ? self : to(self, default_dtype());
  if (x.numel() == 0) return log(sum(exp(x), dims, keepdim));
  Tensor m = stabilizer(x, dims);
  Tensor result = add(log(sum(exp(sub(x, m)), dims, true)), m);
  return keepdim ? result : squeeze(result, dims && !dims->empty() ? dims : OptionalDims(std::nullopt));
}

Tensor softmax_input(const Tensor& self, std::optional<ScalarType> dtype, const char* op) {
  Tensor x = dtype ? to(self, *dtype) : self;
  VT_CHECK_KIND(is_floating_point(x.dtype()), ErrorKind::NotImplemented, "\"", op, "\" not implemented for '",
                dtype_short_name(x.dtype()), "'");
  return x;
}

Tensor softmax_composite(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype) {
  return _softmax(softmax_input(self, dtype, "softmax"), dim, false);
}

Tensor log_softmax_composite(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype) {
  return _log_softmax(softmax_input(self, dtype, "log_softmax"), dim, false);
}

}  // namespace

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
  r.define("amax(Tensor self, int[1] dim=[], bool keepdim=False) -> Tensor");
  r.define("amin(Tensor self, int[1] dim=[], bool keepdim=False) -> Tensor");
  r.define("logsumexp(Tensor self, int[1] dim, bool keepdim=False) -> Tensor");
  r.define("softmax.int(Tensor self, int dim, ScalarType? dtype=None) -> Tensor");
  r.define("log_softmax.int(Tensor self, int dim, ScalarType? dtype=None) -> Tensor");
  register_composite("logsumexp", &logsumexp_composite);
  register_composite("softmax.int", &softmax_composite);
  register_composite("log_softmax.int", &log_softmax_composite);
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

Tensor amax(const Tensor& self, OptionalDims dims, bool keepdim) {
  static const TypedOp<Tensor(const Tensor&, OptionalDims, bool)> op("amax");
  return op(self, std::move(dims), keepdim);
}
Tensor amin(const Tensor& self, OptionalDims dims, bool keepdim) {
  static const TypedOp<Tensor(const Tensor&, OptionalDims, bool)> op("amin");
  return op(self, std::move(dims), keepdim);
}
Tensor logsumexp(const Tensor& self, OptionalDims dims, bool keepdim) {
  static const TypedOp<Tensor(const Tensor&, OptionalDims, bool)> op("logsumexp");
  return op(self, std::move(dims), keepdim);
}
Tensor softmax(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype) {
  static const TypedOp<Tensor(const Tensor&, int64_t, std::optional<ScalarType>)> op("softmax.int");
  return op(self, dim, dtype);
}
Tensor log_softmax(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype) {
  static const TypedOp<Tensor(const Tensor&, int64_t, std::optional<ScalarType>)> op("log_softmax.int");
  return op(self, dim, dtype);
}

}  // namespace vt
