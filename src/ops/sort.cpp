// Ordering: sort (a backend kernel with its derivative) and the ops built on it (argsort,
// msort, topk, kthvalue, median, nanmedian, unique), searchsorted/bucketize, bincount, histc.
// The selections gather from the sorted values, so their gradients come from sort's.
#include <limits>

#include "vt/autograd/record.h"
#include "vt/ops.h"

namespace vt {

namespace {

using autograd::FunctionNode;
using autograd::TensorList;

std::tuple<Tensor, Tensor> sort_grad(const Tensor& self, int64_t dim, bool descending) {
  auto [values, indices] = autograd::below_autograd([&] { return sort(self, dim, descending); });
  int64_t d = wrap_dim(dim, std::max<int64_t>(self.dim(), 1));
  autograd::forward_tangent(values, {&self}, [&] {
    return self.dim() == 0 ? autograd::tangent_of(self) : gather(autograd::tangent_of(self), d, indices);
  });
  if (!self.requires_grad()) return {values, indices};
  auto node = autograd::make_node("SortBackward0", {&self}, [d](FunctionNode& n, const TensorList& g) {
    const Tensor& order = n.saved(0);
    if (order.dim() == 0) return TensorList{g[0]};
    return TensorList{scatter(zeros_like(g[0]), d, order, g[0])};
  });
  node->save(indices);
  autograd::set_history(values, node);
  return {values, indices};
}

Tensor argsort_composite(const Tensor& self, int64_t dim, bool descending) {
  return std::get<1>(sort(self, dim, descending));
}

Tensor msort_composite(const Tensor& self) { return std::get<0>(sort(self, 0, false)); }

int64_t size_along(const Tensor& self, int64_t d) { return self.dim() == 0 ? 1 : self.size(d); }

std::tuple<Tensor, Tensor> topk_composite(const Tensor& self, int64_t k, int64_t dim, bool largest, bool sorted) {
  int64_t d = wrap_dim(dim, std::max<int64_t>(self.dim(), 1));
  VT_CHECK(k >= 0 && k <= size_along(self, d), "selected index k out of range");
  auto [values, indices] = sort(self, d, largest);
  if (self.dim() == 0) return {values, indices};
  return {narrow(values, d, 0, k), narrow(indices, d, 0, k)};
}

// The element at sorted position `position` (a tensor shaped like self with dim d kept as 1).
std::tuple<Tensor, Tensor> pick_sorted(const Tensor& self, int64_t d, const Tensor& position, bool keepdim) {
  auto [values, indices] = sort(self, d, false);
  if (self.dim() == 0) return {values, indices};
  Tensor v = gather(values, d, position), i = gather(indices, d, position);
  if (!keepdim) {
    v = squeeze(v, std::vector<int64_t>{d});
    i = squeeze(i, std::vector<int64_t>{d});
  }
  return {v, i};
}

Tensor position_tensor(const Tensor& self, int64_t d, int64_t position) {
  DimVector shape(self.sizes());
  if (self.dim() > 0) shape[d] = 1;
  return full(shape, position, ScalarType::Int64, self.device());
}

std::tuple<Tensor, Tensor> kthvalue_composite(const Tensor& self, int64_t k, int64_t dim, bool keepdim) {
  int64_t d = wrap_dim(dim, std::max<int64_t>(self.dim(), 1));
  int64_t n = size_along(self, d);
  VT_CHECK(k >= 1 && k <= n, "kthvalue(): selected number k out of range for dimension ", d);
  return pick_sorted(self, d, position_tensor(self, d, k - 1), keepdim);
}

// The lower median; a row holding NaN gives NaN (median) or ignores its NaNs (nanmedian).
std::tuple<Tensor, Tensor> median_along(const Tensor& self, int64_t dim, bool keepdim, bool ignore_nan, const char* op) {
  int64_t d = wrap_dim(dim, std::max<int64_t>(self.dim(), 1));
  int64_t n = size_along(self, d);
  VT_CHECK_INDEX(n > 0, op, "(): Expected reduction dim ", d, " to have non-zero size.");
  if (self.dim() == 0) return pick_sorted(self, 0, Tensor(), keepdim);
  Tensor nans = sum(isnan(self), std::vector<int64_t>{d}, true);  // NaN sorts last
  Tensor position;
  if (ignore_nan) {
    // (count - 1) / 2 of the numbers; an all-NaN row takes its first NaN.
    // An all-NaN row takes the middle NaN, as torch.
    Tensor numbers = sub(scalar_to_tensor(n), nans);
    numbers = where(eq(numbers, scalar_to_tensor(0)), scalar_to_tensor(n), numbers);
    position = div(sub(numbers, scalar_to_tensor(1)), scalar_to_tensor(2), "floor");
  } else {
    // the first NaN where there is one
    position = where(gt(nans, scalar_to_tensor(0)), sub(scalar_to_tensor(n), nans),
                     full({}, (n - 1) / 2, ScalarType::Int64, self.device()));
  }
  return pick_sorted(self, d, to(position, ScalarType::Int64), keepdim);
}

std::tuple<Tensor, Tensor> median_dim_composite(const Tensor& self, int64_t dim, bool keepdim) {
  return median_along(self, dim, keepdim, false, "median");
}
std::tuple<Tensor, Tensor> nanmedian_dim_composite(const Tensor& self, int64_t dim, bool keepdim) {
  return median_along(self, dim, keepdim, true, "nanmedian");
}
// The median of nothing is NaN, as in torch.
Tensor nan_of(const Tensor& self) {
  VT_CHECK(is_floating_point(self.dtype()), "median() input tensor cannot be empty");
  return full({}, std::numeric_limits<double>::quiet_NaN(), self.dtype(), self.device());
}

Tensor median_composite(const Tensor& self) {
  if (self.numel() == 0) return nan_of(self);
  return std::get<0>(median_along(reshape(self, std::vector<int64_t>{-1}), 0, false, false, "median"));
}
Tensor nanmedian_composite(const Tensor& self) {
  if (self.numel() == 0) return nan_of(self);
  return std::get<0>(median_along(reshape(self, std::vector<int64_t>{-1}), 0, false, true, "nanmedian"));
}

Tensor bucketize_composite(const Tensor& self, const Tensor& boundaries, bool out_int32, bool right) {
  VT_CHECK(boundaries.dim() == 1, "boundaries tensor must be 1 dimension, but got dim(", boundaries.dim(), ")");
  return searchsorted(boundaries, self, out_int32, right, std::nullopt, std::nullopt);
}

// Counts (or weight sums) of each value 0..max, as index_add into zeros.
Tensor bincount_composite(const Tensor& self, const std::optional<Tensor>& weights, int64_t minlength) {
  VT_CHECK_KIND(is_integral(self.dtype(), false), ErrorKind::NotImplemented, "\"bincount_cpu\" not implemented for '",
                dtype_short_name(self.dtype()), "'");
  VT_CHECK(self.dim() == 1, "bincount only supports 1-d non-negative integral inputs.");
  VT_CHECK(minlength >= 0, "minlength should be >= 0");
  VT_CHECK(!weights || (weights->dim() == 1 && weights->size(0) == self.size(0)), "weights should be 1-d and have the ",
           "same length as input");
  int64_t length = minlength;
  if (self.numel() > 0) {
    VT_CHECK(min(self).item().to_int() >= 0, "bincount only supports 1-d non-negative integral inputs.");
    length = std::max(length, max(self).item().to_int() + 1);
  }
  Tensor positions = to(self, ScalarType::Int64);
  if (!weights) {
    return index_add(zeros(std::vector<int64_t>{length}, ScalarType::Int64, self.device()), 0, positions,
                     ones(self.sizes(), ScalarType::Int64, self.device()));
  }
  ScalarType type = is_floating_point(weights->dtype()) ? weights->dtype() : ScalarType::Float64;
  return index_add(zeros(std::vector<int64_t>{length}, type, self.device()), 0, positions, to(*weights, type));
}

// Equal-width bins over [min, max] (the data's range when both are 0); values outside are
// ignored and max itself falls in the last bin.
Tensor histc_composite(const Tensor& self, int64_t bins, const Scalar& min_value, const Scalar& max_value) {
  VT_CHECK_KIND(is_floating_point(self.dtype()), ErrorKind::NotImplemented, "\"histogram_cpu\" not implemented for '",
                dtype_short_name(self.dtype()), "'");
  VT_CHECK(bins > 0, "torch.histc(): bins must be > 0, but got ", bins, " for bins");
  double lo = min_value.to_double(), hi = max_value.to_double();
  if (lo == hi && self.numel() > 0) {
    lo = min(self).item().to_double();
    hi = max(self).item().to_double();
  }
  if (lo == hi) {
    lo -= 1;
    hi += 1;
  }
  VT_CHECK(lo < hi, "torch.histc(): max must be larger than min, but got min ", lo, " max ", hi);
  Tensor x = reshape(self, std::vector<int64_t>{-1});
  Tensor inside = mul(ge(x, scalar_to_tensor(lo)), le(x, scalar_to_tensor(hi)));
  Tensor values = masked_select(x, inside);
  // In the input's precision, in torch's order of operations, so values on a bin edge land
  // in the same bin as in torch.
  Tensor bin = to(floor(mul(div(sub(values, scalar_to_tensor(lo)), scalar_to_tensor(hi - lo)), scalar_to_tensor(bins))),
                  ScalarType::Int64);
  bin = clamp(bin, Scalar(0), Scalar(bins - 1));
  return to(bincount(bin, std::nullopt, bins), self.dtype());
}

// Runs of equal neighbours in a flat tensor: `first` marks where each run starts, `run` numbers
// them from 0. NaN is never equal to itself, so each NaN is a run of its own, as in torch.
struct Runs {
  Tensor first, run;
};
Runs runs_of(const Tensor& flat) {
  int64_t n = flat.numel();
  Tensor first = ones(std::vector<int64_t>{n}, ScalarType::Bool, flat.device());
  if (n > 1) copy_(narrow(first, 0, 1, n - 1), ne(narrow(flat, 0, 1, n - 1), narrow(flat, 0, 0, n - 1)));
  return {first, sub(cumsum(to(first, ScalarType::Int64), 0), scalar_to_tensor(1))};
}

Tensor empty_long(Device device) { return zeros(std::vector<int64_t>{0}, ScalarType::Int64, device); }

// Sorted distinct values of the flattened input, with the position of each input element's
// value (inverse) and how often each occurs (counts).
std::tuple<Tensor, Tensor, Tensor> unique_composite(const Tensor& self, bool sorted, bool return_inverse,
                                                    bool return_counts) {
  Tensor flat = reshape(self, std::vector<int64_t>{-1});
  auto [values, order] = sort(autograd::detach(flat), 0, false);
  Runs runs = runs_of(values);
  Tensor uniques = masked_select(values, runs.first);
  Tensor inverse = empty_long(self.device()), counts = empty_long(self.device());
  if (return_inverse) {
    inverse = reshape(scatter(empty(flat.sizes(), ScalarType::Int64, self.device()), 0, order, runs.run), self.sizes());
  }
  if (return_counts) counts = bincount(runs.run, std::nullopt, uniques.numel());
  return {uniques, inverse, counts};
}

std::tuple<Tensor, Tensor, Tensor> unique_consecutive_composite(const Tensor& self, bool return_inverse,
                                                                bool return_counts, std::optional<int64_t> dim) {
  VT_CHECK_KIND(!dim, ErrorKind::NotImplemented, "unique_consecutive(): dim is not supported yet");
  Tensor flat = reshape(autograd::detach(self), std::vector<int64_t>{-1});
  Runs runs = runs_of(flat);
  Tensor uniques = masked_select(flat, runs.first);
  Tensor inverse = return_inverse ? reshape(runs.run, self.sizes()) : empty_long(self.device());
  Tensor counts = return_counts ? bincount(runs.run, std::nullopt, uniques.numel()) : empty_long(self.device());
  return {uniques, inverse, counts};
}

}  // namespace

VT_REGISTRATION(sort_ops) {
  Registry& r = Registry::instance();
  r.define("sort(Tensor self, int dim=-1, bool descending=False) -> (Tensor values, Tensor indices)");
  r.define("argsort(Tensor self, int dim=-1, bool descending=False) -> Tensor");
  r.define("msort(Tensor self) -> Tensor");
  r.define("topk(Tensor self, SymInt k, int dim=-1, bool largest=True, bool sorted=True) -> (Tensor values, Tensor indices)");
  r.define("kthvalue(Tensor self, SymInt k, int dim=-1, bool keepdim=False) -> (Tensor values, Tensor indices)");
  r.define("median(Tensor self) -> Tensor");
  r.define("median.dim(Tensor self, int dim, bool keepdim=False) -> (Tensor values, Tensor indices)");
  r.define("nanmedian(Tensor self) -> Tensor");
  r.define("nanmedian.dim(Tensor self, int dim, bool keepdim=False) -> (Tensor values, Tensor indices)");
  r.define("searchsorted.Tensor(Tensor sorted_sequence, Tensor self, *, bool out_int32=False, bool right=False, str? side=None, Tensor? sorter=None) -> Tensor");
  r.define("bucketize.Tensor(Tensor self, Tensor boundaries, *, bool out_int32=False, bool right=False) -> Tensor");
  r.define("bincount(Tensor self, Tensor? weights=None, SymInt minlength=0) -> Tensor");
  r.define("histc(Tensor self, int bins=100, Scalar min=0, Scalar max=0) -> Tensor");
  r.define("_unique2(Tensor self, bool sorted=True, bool return_inverse=False, bool return_counts=False) -> (Tensor, Tensor, Tensor)");
  r.define("unique_consecutive(Tensor self, bool return_inverse=False, bool return_counts=False, int? dim=None) -> (Tensor, Tensor, Tensor)");
  register_kernel("sort", DispatchKey::Autograd, &sort_grad);
  register_composite("argsort", &argsort_composite);
  register_composite("msort", &msort_composite);
  register_composite("topk", &topk_composite);
  register_composite("kthvalue", &kthvalue_composite);
  register_composite("median", &median_composite);
  register_composite("median.dim", &median_dim_composite);
  register_composite("nanmedian", &nanmedian_composite);
  register_composite("nanmedian.dim", &nanmedian_dim_composite);
  register_composite("bucketize.Tensor", &bucketize_composite);
  register_composite("bincount", &bincount_composite);
  register_composite("histc", &histc_composite);
  register_composite("_unique2", &unique_composite);
  register_composite("unique_consecutive", &unique_consecutive_composite);
}

using SortResult = std::tuple<Tensor, Tensor>;
SortResult sort(const Tensor& self, int64_t dim, bool descending) {
  static const TypedOp<SortResult(const Tensor&, int64_t, bool)> op("sort");
  return op(self, dim, descending);
}
Tensor argsort(const Tensor& self, int64_t dim, bool descending) {
  static const TypedOp<Tensor(const Tensor&, int64_t, bool)> op("argsort");
  return op(self, dim, descending);
}
Tensor msort(const Tensor& self) {
  static const TypedOp<Tensor(const Tensor&)> op("msort");
  return op(self);
}
SortResult topk(const Tensor& self, int64_t k, int64_t dim, bool largest, bool sorted) {
  static const TypedOp<SortResult(const Tensor&, int64_t, int64_t, bool, bool)> op("topk");
  return op(self, k, dim, largest, sorted);
}
SortResult kthvalue(const Tensor& self, int64_t k, int64_t dim, bool keepdim) {
  static const TypedOp<SortResult(const Tensor&, int64_t, int64_t, bool)> op("kthvalue");
  return op(self, k, dim, keepdim);
}
Tensor median(const Tensor& self) {
  static const TypedOp<Tensor(const Tensor&)> op("median");
  return op(self);
}
SortResult median(const Tensor& self, int64_t dim, bool keepdim) {
  static const TypedOp<SortResult(const Tensor&, int64_t, bool)> op("median.dim");
  return op(self, dim, keepdim);
}
Tensor nanmedian(const Tensor& self) {
  static const TypedOp<Tensor(const Tensor&)> op("nanmedian");
  return op(self);
}
SortResult nanmedian(const Tensor& self, int64_t dim, bool keepdim) {
  static const TypedOp<SortResult(const Tensor&, int64_t, bool)> op("nanmedian.dim");
  return op(self, dim, keepdim);
}
Tensor searchsorted(const Tensor& sorted_sequence, const Tensor& self, bool out_int32, bool right,
                    std::optional<std::string_view> side, const std::optional<Tensor>& sorter) {
  static const TypedOp<Tensor(const Tensor&, const Tensor&, bool, bool, std::optional<std::string_view>,
                              const std::optional<Tensor>&)> op("searchsorted.Tensor");
  return op(sorted_sequence, self, out_int32, right, side, sorter);
}
Tensor bucketize(const Tensor& self, const Tensor& boundaries, bool out_int32, bool right) {
  static const TypedOp<Tensor(const Tensor&, const Tensor&, bool, bool)> op("bucketize.Tensor");
  return op(self, boundaries, out_int32, right);
}
Tensor bincount(const Tensor& self, const std::optional<Tensor>& weights, int64_t minlength) {
  static const TypedOp<Tensor(const Tensor&, const std::optional<Tensor>&, int64_t)> op("bincount");
  return op(self, weights, minlength);
}
Tensor histc(const Tensor& self, int64_t bins, const Scalar& min, const Scalar& max) {
  static const TypedOp<Tensor(const Tensor&, int64_t, const Scalar&, const Scalar&)> op("histc");
  return op(self, bins, min, max);
}
std::tuple<Tensor, Tensor, Tensor> unique(const Tensor& self, bool sorted, bool return_inverse, bool return_counts) {
  static const TypedOp<std::tuple<Tensor, Tensor, Tensor>(const Tensor&, bool, bool, bool)> op("_unique2");
  return op(self, sorted, return_inverse, return_counts);
}
std::tuple<Tensor, Tensor, Tensor> unique_consecutive(const Tensor& self, bool return_inverse, bool return_counts,
                                                      std::optional<int64_t> dim) {
  static const TypedOp<std::tuple<Tensor, Tensor, Tensor>(const Tensor&, bool, bool, std::optional<int64_t>)> op(
      "unique_consecutive");
  return op(self, return_inverse, return_counts, dim);
}

}  // namespace vt
