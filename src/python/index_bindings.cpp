// Indexing from Python: `t[...]` and `t[...] = v` (parsed here into vt::IndexItem, applied by
// vt/indexing.h), and the ops that index with tensors of positions or masks.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/vector.h>

#include "src/python/bindings.h"
#include "vt/indexing.h"

namespace vt::python {

namespace {

// A tensor used as an index: 0-dim integers select (a view, as torch); others index.
IndexItem tensor_item(const Tensor& t) {
  if (t.dim() == 0 && is_integral(t.dtype(), false)) return IndexItem::at(t.item().to_int());
  return IndexItem::positions(t);
}

IndexItem parse_item(nb::handle h) {
  if (h.is_none()) return IndexItem::none();
  if (h.ptr() == Py_Ellipsis) return IndexItem::ellipsis();
  if (PySlice_Check(h.ptr())) {
    Py_ssize_t start, stop, step;
    if (PySlice_Unpack(h.ptr(), &start, &stop, &step) < 0) throw nb::python_error();
    PySliceObject* slice = reinterpret_cast<PySliceObject*>(h.ptr());
    std::optional<int64_t> lo, hi;
    if (slice->start != Py_None) lo = start;
    if (slice->stop != Py_None) hi = stop;
    return IndexItem::range(lo, hi, step);
  }
  if (nb::isinstance<Tensor>(h)) return tensor_item(*nb::inst_ptr<Tensor>(h));
  // `t[True]` adds a dim of size 1 (`t[False]` of size 0), as torch does.
  if (PyBool_Check(h.ptr())) return IndexItem::positions(full({}, h.ptr() == Py_True, ScalarType::Bool));
  if (PyIndex_Check(h.ptr())) {
    Py_ssize_t v = PyNumber_AsSsize_t(h.ptr(), PyExc_IndexError);
    if (v == -1 && PyErr_Occurred()) throw nb::python_error();
    return IndexItem::at(v);
  }
  // Lists and arrays of positions or booleans index like tensors.
  if (PyList_Check(h.ptr()) || PyTuple_Check(h.ptr()) || nb::hasattr(h, "__array_interface__")) {
    return tensor_item(tensor_from_data(h, std::nullopt, Device()));
  }
  // torch reads a str as a (bad) sequence of indices: TypeError; anything else: IndexError.
  fail(PyUnicode_Check(h.ptr()) ? ErrorKind::Type : ErrorKind::Index, "only integers, slices (`:`), ellipsis (`...`), "
       "None and long or byte Variables are valid indices (got ", nb::type_name(h.type()).c_str(), ")");
}

std::vector<IndexItem> parse_index(nb::handle index) {
  std::vector<IndexItem> items;
  if (PyTuple_Check(index.ptr())) {
    for (nb::handle h : nb::borrow<nb::tuple>(index)) items.push_back(parse_item(h));
  } else {
    items.push_back(parse_item(index));
  }
  return items;
}

// The `indices` argument of index_put: a sequence of tensors or None.
std::vector<Tensor> index_tensors(nb::handle indices, const char* op) {
  VT_CHECK_TYPE(PyTuple_Check(indices.ptr()) || PyList_Check(indices.ptr()), op,
                "(): argument 'indices' must be tuple of Tensors, not ", nb::type_name(indices.type()).c_str());
  std::vector<Tensor> out;
  for (nb::handle h : nb::borrow<nb::sequence>(indices)) {
    if (h.is_none()) {
      out.emplace_back();
      continue;
    }
    VT_CHECK_TYPE(nb::isinstance<Tensor>(h), op, "(): argument 'indices' must be tuple of Tensors, but found element ",
                  "of type ", nb::type_name(h.type()).c_str());
    out.push_back(*nb::inst_ptr<Tensor>(h));
  }
  return out;
}

}  // namespace

void bind_indexing(nb::module_& m, nb::class_<Tensor>& cls) {
  cls.def("__getitem__", [](const Tensor& t, nb::handle index) { return index_with(t, parse_index(index)); },
          nb::arg("index").none());
  cls.def("__setitem__", [](const Tensor& t, nb::handle index, nb::handle value) {
    Tensor v;
    if (nb::isinstance<Tensor>(value)) {
      v = *nb::inst_ptr<Tensor>(value);
    } else {
      Scalar s;
      VT_CHECK_TYPE(scalar_from_python(value, s), "can't assign a ", nb::type_name(value.type()).c_str(), " to a ",
                    "tensor");
      v = full({}, s, t.dtype(), t.device());
    }
    index_put_with(t, parse_index(index), v);
  }, nb::arg("index").none(), nb::arg("value").none());

  cls.def("nonzero", [](const Tensor& t, bool as_tuple) -> nb::object {
    Tensor positions = nonzero(t);
    if (!as_tuple) return nb::cast(positions);
    // as_tuple: one 1-D tensor per dim (a 0-dim input counts as 1-D, as in torch).
    nb::list columns;
    if (t.dim() == 0) columns.append(nb::cast(reshape(positions, std::vector<int64_t>{-1})));
    for (int64_t d = 0; d < t.dim(); ++d) columns.append(nb::cast(contiguous(select(positions, 1, d))));
    return nb::tuple(columns);
  }, nb::kw_only(), nb::arg("as_tuple") = false);
  m.def("nonzero", [](nb::handle input, bool as_tuple) { return input.attr("nonzero")(nb::arg("as_tuple") = as_tuple); },
        nb::arg("input"), nb::kw_only(), nb::arg("as_tuple") = false);
  bind_both(cls, m, "argwhere", [](const Tensor& t) { return nonzero(t); });

  bind_both(cls, m, "index_put", [](const Tensor& t, nb::handle indices, const Tensor& values, bool accumulate) {
    return index_put(t, index_tensors(indices, "index_put"), values, accumulate);
  }, nb::arg("indices"), nb::arg("values"), nb::arg("accumulate") = false);
  cls.def("index_put_", [](nb::handle self, nb::handle indices, const Tensor& values, bool accumulate) {
    return write_back(self, [&](const Tensor& t) { return index_put(t, index_tensors(indices, "index_put_"), values, accumulate); });
  }, nb::arg("indices"), nb::arg("values"), nb::arg("accumulate") = false);
  bind_both(cls, m, "index_copy", [](const Tensor& t, int64_t dim, const Tensor& index, const Tensor& source) {
    return index_copy(t, dim, index, source);
  }, nb::arg("dim"), nb::arg("index"), nb::arg("source"));
  cls.def("index_copy_", [](nb::handle self, int64_t dim, const Tensor& index, const Tensor& source) {
    return write_back(self, [&](const Tensor& t) { return index_copy(t, dim, index, source); });
  }, nb::arg("dim"), nb::arg("index"), nb::arg("source"));
  // index_fill(dim, index, value): value is a number or a 0-dim tensor.
  auto fill_value = [](const Tensor& t, nb::handle value, const char* op) {
    if (nb::isinstance<Tensor>(value)) return *nb::inst_ptr<Tensor>(value);
    return full({}, *optional_scalar(value, op, "value"), t.dtype(), t.device());
  };
  bind_both(cls, m, "index_fill", [fill_value](const Tensor& t, int64_t dim, const Tensor& index, nb::handle value) {
    return index_fill(t, dim, index, fill_value(t, value, "index_fill"));
  }, nb::arg("dim"), nb::arg("index"), nb::arg("value"));
  cls.def("index_fill_", [fill_value](nb::handle self, int64_t dim, const Tensor& index, nb::handle value) {
    return write_back(self, [&](const Tensor& t) { return index_fill(t, dim, index, fill_value(t, value, "index_fill_")); });
  }, nb::arg("dim"), nb::arg("index"), nb::arg("value"));

  bind_both(cls, m, "masked_select", [](const Tensor& t, const Tensor& mask) { return masked_select(t, mask); },
            nb::arg("mask"));
  bind_both(cls, m, "masked_scatter", [](const Tensor& t, const Tensor& mask, const Tensor& source) {
    return masked_scatter(t, mask, source);
  }, nb::arg("mask"), nb::arg("source"));
  cls.def("masked_scatter_", [](nb::handle self, const Tensor& mask, const Tensor& source) {
    return write_back(self, [&](const Tensor& t) { return masked_scatter(t, mask, source); });
  }, nb::arg("mask"), nb::arg("source"));
  bind_both(cls, m, "take", [](const Tensor& t, const Tensor& index) { return take(t, index); }, nb::arg("index"));
  bind_both(cls, m, "take_along_dim", [](const Tensor& t, const Tensor& indices, std::optional<int64_t> dim) {
    return take_along_dim(t, indices, dim);
  }, nb::arg("indices"), nb::arg("dim").none() = nb::none());

  // scatter(dim, index, src) or scatter(dim, index, value), with the older reduce= spelling.
  auto scatter_any = [](const Tensor& t, int64_t dim, const Tensor& index, nb::handle src, nb::handle value,
                        std::optional<std::string> reduce) {
    nb::handle given = src.is_none() ? value : src;
    VT_CHECK_TYPE(!given.is_none(), "scatter(): expected a 'src' tensor or a 'value'");
    if (nb::isinstance<Tensor>(given)) {
      const Tensor& s = *nb::inst_ptr<Tensor>(given);
      return reduce ? scatter(t, dim, index, s, *reduce) : scatter(t, dim, index, s);
    }
    auto v = optional_scalar(given, "scatter", "value");
    if (!reduce) return scatter(t, dim, index, *v);
    return scatter(t, dim, index, expand(full({}, *v, t.dtype(), t.device()), index.sizes()), *reduce);
  };
  bind_both(cls, m, "scatter", scatter_any, nb::arg("dim"), nb::arg("index"), nb::arg("src").none() = nb::none(),
            nb::kw_only(), nb::arg("value").none() = nb::none(), nb::arg("reduce").none() = nb::none());
  cls.def("scatter_", [scatter_any](nb::handle self, int64_t dim, const Tensor& index, nb::handle src, nb::handle value,
                                    std::optional<std::string> reduce) {
    return write_back(self, [&](const Tensor& t) { return scatter_any(t, dim, index, src, value, reduce); });
  }, nb::arg("dim"), nb::arg("index"), nb::arg("src").none() = nb::none(), nb::kw_only(),
     nb::arg("value").none() = nb::none(), nb::arg("reduce").none() = nb::none());
  bind_both(cls, m, "scatter_reduce", [](const Tensor& t, int64_t dim, const Tensor& index, const Tensor& src,
                                         std::string_view reduce, bool include_self) {
    return scatter_reduce(t, dim, index, src, reduce, include_self);
  }, nb::arg("dim"), nb::arg("index"), nb::arg("src"), nb::arg("reduce"), nb::kw_only(), nb::arg("include_self") = true);
  cls.def("scatter_reduce_", [](nb::handle self, int64_t dim, const Tensor& index, const Tensor& src,
                                std::string_view reduce, bool include_self) {
    return write_back(self, [&](const Tensor& t) { return scatter_reduce(t, dim, index, src, reduce, include_self); });
  }, nb::arg("dim"), nb::arg("index"), nb::arg("src"), nb::arg("reduce"), nb::kw_only(), nb::arg("include_self") = true);
}

}  // namespace vt::python
