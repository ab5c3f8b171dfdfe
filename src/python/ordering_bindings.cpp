// Sorting, selection, scans and counting from Python: sort/argsort/msort/topk/kthvalue/
// median/nanmedian, searchsorted/bucketize, unique, bincount/histc, cumsum/cumprod, prod.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>

#include "src/python/bindings.h"

namespace vt::python {

namespace {

using OptDType = std::optional<DType>;
std::optional<ScalarType> unwrap(const OptDType& d) { return d ? std::optional<ScalarType>(d->type) : std::nullopt; }

nb::object pair(const char* name, const std::tuple<Tensor, Tensor>& result) {
  return return_type(name)(std::get<0>(result), std::get<1>(result));
}

// torch.unique's return: the values alone, or a tuple with inverse and/or counts.
nb::object unique_result(const std::tuple<Tensor, Tensor, Tensor>& r, bool return_inverse, bool return_counts) {
  if (!return_inverse && !return_counts) return nb::cast(std::get<0>(r));
  nb::list out;
  out.append(nb::cast(std::get<0>(r)));
  if (return_inverse) out.append(nb::cast(std::get<1>(r)));
  if (return_counts) out.append(nb::cast(std::get<2>(r)));
  return nb::tuple(out);
}

}  // namespace

void bind_ordering(nb::module_& m, nb::class_<Tensor>& cls) {
  // `stable` is accepted for torch's signature; the sort is always stable.
  bind_both(cls, m, "sort", [](const Tensor& t, int64_t dim, bool descending, std::optional<bool>) {
    return pair("sort", sort(t, dim, descending));
  }, nb::arg("dim") = -1, nb::arg("descending") = false, nb::kw_only(), nb::arg("stable").none() = nb::none());
  bind_both(cls, m, "argsort", [](const Tensor& t, int64_t dim, bool descending, bool) {
    return argsort(t, dim, descending);
  }, nb::arg("dim") = -1, nb::arg("descending") = false, nb::kw_only(), nb::arg("stable") = false);
  bind_both(cls, m, "msort", [](const Tensor& t) { return msort(t); });
  bind_both(cls, m, "topk", [](const Tensor& t, int64_t k, int64_t dim, bool largest, bool sorted) {
    return pair("topk", topk(t, k, dim, largest, sorted));
  }, nb::arg("k"), nb::arg("dim") = -1, nb::arg("largest") = true, nb::arg("sorted") = true);
  bind_both(cls, m, "kthvalue", [](const Tensor& t, int64_t k, int64_t dim, bool keepdim) {
    return pair("kthvalue", kthvalue(t, k, dim, keepdim));
  }, nb::arg("k"), nb::arg("dim") = -1, nb::arg("keepdim") = false);
  bind_both(cls, m, "median", [](const Tensor& t, std::optional<int64_t> dim, bool keepdim) -> nb::object {
    if (!dim) return nb::cast(median(t));
    return pair("median", median(t, *dim, keepdim));
  }, nb::arg("dim").none() = nb::none(), nb::arg("keepdim") = false);
  bind_both(cls, m, "nanmedian", [](const Tensor& t, std::optional<int64_t> dim, bool keepdim) -> nb::object {
    if (!dim) return nb::cast(nanmedian(t));
    return pair("nanmedian", nanmedian(t, *dim, keepdim));
  }, nb::arg("dim").none() = nb::none(), nb::arg("keepdim") = false);

  m.def("searchsorted", [](const Tensor& sorted_sequence, nb::handle input, bool out_int32, bool right,
                           std::optional<std::string_view> side, std::optional<Tensor> sorter) {
    Tensor values = nb::isinstance<Tensor>(input) ? *nb::inst_ptr<Tensor>(input)
                                                  : full({}, *optional_scalar(input, "searchsorted", "input"),
                                                         sorted_sequence.dtype());
    return searchsorted(sorted_sequence, values, out_int32, right, side, sorter);
  }, nb::arg("sorted_sequence"), nb::arg("input"), nb::kw_only(), nb::arg("out_int32") = false,
     nb::arg("right") = false, nb::arg("side").none() = nb::none(), nb::arg("sorter").none() = nb::none());
  m.def("bucketize", [](const Tensor& input, const Tensor& boundaries, bool out_int32, bool right) {
    return bucketize(input, boundaries, out_int32, right);
  }, nb::arg("input"), nb::arg("boundaries"), nb::kw_only(), nb::arg("out_int32") = false, nb::arg("right") = false);
  bind_both(cls, m, "bincount", [](const Tensor& t, std::optional<Tensor> weights, int64_t minlength) {
    return bincount(t, weights, minlength);
  }, nb::arg("weights").none() = nb::none(), nb::arg("minlength") = 0);
  bind_both(cls, m, "histc", [](const Tensor& t, int64_t bins, Scalar min, Scalar max) {
    return histc(t, bins, min, max);
  }, nb::arg("bins") = 100, nb::arg("min") = 0, nb::arg("max") = 0);
  bind_both(cls, m, "unique", [](const Tensor& t, bool sorted, bool return_inverse, bool return_counts,
                                 std::optional<int64_t> dim) {
    VT_CHECK_KIND(!dim, ErrorKind::NotImplemented, "unique(): dim is not supported yet");
    return unique_result(unique(t, sorted, return_inverse, return_counts), return_inverse, return_counts);
  }, nb::arg("sorted") = true, nb::arg("return_inverse") = false, nb::arg("return_counts") = false,
     nb::arg("dim").none() = nb::none());
  bind_both(cls, m, "unique_consecutive", [](const Tensor& t, bool return_inverse, bool return_counts,
                                             std::optional<int64_t> dim) {
    return unique_result(unique_consecutive(t, return_inverse, return_counts, dim), return_inverse, return_counts);
  }, nb::arg("return_inverse") = false, nb::arg("return_counts") = false, nb::arg("dim").none() = nb::none());

  bind_both(cls, m, "cumsum", [](const Tensor& t, int64_t dim, OptDType dtype) { return cumsum(t, dim, unwrap(dtype)); },
            nb::arg("dim"), nb::kw_only(), nb::arg("dtype").none() = nb::none());
  bind_both(cls, m, "cumprod", [](const Tensor& t, int64_t dim, OptDType dtype) { return cumprod(t, dim, unwrap(dtype)); },
            nb::arg("dim"), nb::kw_only(), nb::arg("dtype").none() = nb::none());
  cls.def("cumsum_", [](nb::handle self, int64_t dim, OptDType dtype) {
    return write_back(self, [&](const Tensor& t) { return cumsum(t, dim, unwrap(dtype)); });
  }, nb::arg("dim"), nb::kw_only(), nb::arg("dtype").none() = nb::none());
  cls.def("cumprod_", [](nb::handle self, int64_t dim, OptDType dtype) {
    return write_back(self, [&](const Tensor& t) { return cumprod(t, dim, unwrap(dtype)); });
  }, nb::arg("dim"), nb::kw_only(), nb::arg("dtype").none() = nb::none());
  bind_both(cls, m, "prod", [](const Tensor& t, std::optional<int64_t> dim, bool keepdim, OptDType dtype) {
    if (!dim) {
      VT_CHECK_TYPE(!keepdim, "prod(): keepdim requires a dim");
      return prod(t, unwrap(dtype));
    }
    return prod(t, *dim, keepdim, unwrap(dtype));
  }, nb::arg("dim").none() = nb::none(), nb::arg("keepdim") = false, nb::kw_only(), nb::arg("dtype").none() = nb::none());
}

}  // namespace vt::python
