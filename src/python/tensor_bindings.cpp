// The Tensor class and the op functions, bound directly to the C++ API: each binding
// converts arguments and calls one vt:: function; no op logic lives here.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "src/python/bindings.h"
#include "vt/indexing.h"

namespace vt::python {

namespace {

using OptDType = std::optional<DType>;
std::optional<ScalarType> unwrap(const OptDType& d) {
  return d ? std::optional<ScalarType>(d->type) : std::nullopt;
}

// Binds `fn` as a Tensor method and as a module function taking `input` first.
template <class Fn, class... Extra>
void bind_both(nb::class_<Tensor>& cls, nb::module_& m, const char* name, Fn&& fn, const Extra&... extra) {
  cls.def(name, fn, extra...);
  m.def(name, fn, nb::arg("input"), extra...);
}

// ---- indexing

std::vector<IndexItem> parse_index(nb::handle index) {
  std::vector<IndexItem> items;
  auto add = [&](nb::handle h) {
    if (h.is_none()) {
      items.push_back(IndexItem::none());
    } else if (h.ptr() == Py_Ellipsis) {
      items.push_back(IndexItem::ellipsis());
    } else if (PySlice_Check(h.ptr())) {
      Py_ssize_t start, stop, step;
      if (PySlice_Unpack(h.ptr(), &start, &stop, &step) < 0) throw nb::python_error();
      PySliceObject* slice = reinterpret_cast<PySliceObject*>(h.ptr());
      std::optional<int64_t> lo, hi;
      if (slice->start != Py_None) lo = start;
      if (slice->stop != Py_None) hi = stop;
      items.push_back(IndexItem::range(lo, hi, step));
    } else if (nb::isinstance<Tensor>(h)) {
      const Tensor& t = *nb::inst_ptr<Tensor>(h);
      VT_CHECK_INDEX(t.dim() == 0 && is_integral(t.dtype(), false),
                     "indexing with tensors (advanced indexing) is not supported yet; use an integer, slice, None "
                     "or Ellipsis");
      items.push_back(IndexItem::at(t.item().to_int()));
    } else if (!PyBool_Check(h.ptr()) && PyIndex_Check(h.ptr())) {
      Py_ssize_t v = PyNumber_AsSsize_t(h.ptr(), PyExc_IndexError);
      if (v == -1 && PyErr_Occurred()) throw nb::python_error();
      items.push_back(IndexItem::at(v));
    } else {
      fail(ErrorKind::Index, "only integers, slices (`:`), ellipsis (`...`), None and integer tensors are valid "
           "indices (got ", nb::type_name(h.type()).c_str(), ")");
    }
  };
  if (PyTuple_Check(index.ptr())) {
    for (nb::handle h : nb::borrow<nb::tuple>(index)) add(h);
  } else {
    add(index);
  }
  return items;
}

// ---- arguments that accept several forms

std::optional<Scalar> optional_scalar(nb::handle h, const char* op, const char* arg) {
  if (h.is_none()) return std::nullopt;
  Scalar s;
  if (!scalar_from_python(h, s)) {
    if (nb::isinstance<Tensor>(h) && nb::inst_ptr<Tensor>(h)->numel() == 1) return nb::inst_ptr<Tensor>(h)->item();
    fail(ErrorKind::Type, op, "(): argument '", arg, "' must be Number, not ", nb::type_name(h.type()).c_str());
  }
  return s;
}

// `t.to(dtype)`, `t.to(device)`, `t.to(device, dtype)`, `t.to(other)`, with keywords.
Tensor to_method(const Tensor& self, nb::args args, nb::kwargs kwargs) {
  std::optional<ScalarType> dtype;
  std::optional<Device> device;
  bool copy = false;
  auto take = [&](nb::handle h) {
    if (nb::isinstance<DType>(h)) dtype = nb::cast<DType>(h).type;
    else if (nb::isinstance<Device>(h)) device = nb::cast<Device>(h);
    else if (nb::isinstance<nb::str>(h)) device = Device(nb::cast<std::string>(h));
    else if (nb::isinstance<Tensor>(h)) {
      dtype = nb::inst_ptr<Tensor>(h)->dtype();
      device = nb::inst_ptr<Tensor>(h)->device();
    } else fail(ErrorKind::Type, "to() received an invalid combination of arguments: got ", nb::type_name(h.type()).c_str());
  };
  for (nb::handle h : args) take(h);
  for (auto [key, value] : kwargs) {
    std::string name = nb::cast<std::string>(key);
    if (name == "dtype") { if (!value.is_none()) dtype = nb::cast<DType>(value).type; }
    else if (name == "device") { if (!value.is_none()) take(value); }
    else if (name == "copy") copy = nb::cast<bool>(value);
    else if (name == "non_blocking" || name == "memory_format") {}
    else fail(ErrorKind::Type, "to() got an unexpected keyword argument '", name, "'");
  }
  return to(self, dtype, device, copy);
}

// The named-tuple classes of vibetensor.return_types, looked up once.
nb::handle return_type(bool is_max) {
  static PyObject* types[2] = {nullptr, nullptr};
  PyObject*& type = types[is_max];
  if (!type) type = nb::module_::import_("vibetensor.return_types").attr(is_max ? "max" : "min").inc_ref().ptr();
  return type;
}

// torch.max(input), torch.max(input, dim, keepdim=False) -> (values, indices)
template <bool IsMax>
nb::object max_min(const Tensor& self, nb::handle dim, bool keepdim) {
  if (dim.is_none()) {
    VT_CHECK_TYPE(!keepdim, IsMax ? "max" : "min", "(): keepdim requires a dim");
    return nb::cast(IsMax ? max(self) : min(self));
  }
  if (nb::isinstance<Tensor>(dim)) {
    fail(ErrorKind::Type, IsMax ? "max" : "min", "(input, other) (elementwise maximum/minimum) is not supported yet");
  }
  int64_t d = nb::cast<int64_t>(dim);
  auto [values, indices] = IsMax ? max_dim(self, d, keepdim) : min_dim(self, d, keepdim);
  return return_type(IsMax)(values, indices);
}

}  // namespace

nb::class_<Tensor> bind_tensor(nb::module_& m) {
  nb::class_<Tensor> cls(m, "Tensor");

  // ---- attributes
  cls.def_prop_ro("shape", [](const Tensor& t) { return size_object(t.sizes()); })
      .def_prop_ro("dtype", [](const Tensor& t) { return dtype_object(t.dtype()); })
      .def_prop_ro("device", [](const Tensor& t) { return t.device(); })
      .def_prop_ro("ndim", &Tensor::dim)
      .def_prop_ro("is_cuda", [](const Tensor& t) { return t.device().is_cuda(); })
      .def_prop_ro("is_cpu", [](const Tensor& t) { return t.device().is_cpu(); })
      .def_prop_ro("T", [](const Tensor& t) {
        std::vector<int64_t> dims;
        for (int64_t d = t.dim() - 1; d >= 0; --d) dims.push_back(d);
        return permute(t, dims);
      })
      .def_prop_ro("mT", [](const Tensor& t) { return transpose(t, -2, -1); })
      .def("size", [](const Tensor& t, nb::handle dim) -> nb::object {
        if (dim.is_none()) return size_object(t.sizes());
        return nb::int_(t.size(nb::cast<int64_t>(dim)));
      }, nb::arg("dim") = nb::none())
      .def("stride", [](const Tensor& t, nb::handle dim) -> nb::object {
        if (dim.is_none()) return nb::tuple(nb::cast(std::vector<int64_t>(t.strides().begin(), t.strides().end())));
        return nb::int_(t.stride(nb::cast<int64_t>(dim)));
      }, nb::arg("dim") = nb::none())
      .def("dim", &Tensor::dim)
      .def("ndimension", &Tensor::dim)
      .def("numel", &Tensor::numel)
      .def("nelement", &Tensor::numel)
      .def("element_size", [](const Tensor& t) { return t.itemsize(); })
      .def("storage_offset", &Tensor::storage_offset)
      .def("data_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.data_ptr()); })
      .def("is_contiguous", &Tensor::is_contiguous)
      .def("is_floating_point", [](const Tensor& t) { return is_floating_point(t.dtype()); })
      .def("_version", [](const Tensor& t) { return t.version(); })
      .def("item", [](const Tensor& t) { return t.item(); })
      .def("tolist", &to_list)
      .def("numpy", &to_numpy)
      .def("__len__", [](const Tensor& t) {
        VT_CHECK_TYPE(t.dim() > 0, "len() of a 0-d tensor");
        return t.sizes()[0];
      })
      .def("__bool__", [](const Tensor& t) {
        VT_CHECK(t.numel() == 1, "Boolean value of Tensor with ", t.numel() > 1 ? "more than one value" : "no values",
                 " is ambiguous");
        return t.item().to_double() != 0;
      })
      .def("__float__", [](const Tensor& t) { return t.item().to_double(); })
      .def("__int__", [](const Tensor& t) { return t.item().to_int(); })
      .def("__index__", [](const Tensor& t) {
        VT_CHECK_TYPE(is_integral(t.dtype(), true) && t.numel() == 1,
                      "only integer tensors of a single element can be converted to an index");
        return t.item().to_int();
      })
      .def("__hash__", [](nb::handle self) { return reinterpret_cast<intptr_t>(self.ptr()); })
      .def("__getitem__", [](const Tensor& t, nb::handle index) {
        std::vector<IndexItem> items = parse_index(index);
        return apply_indices(t, items);
      })
      .def("__setitem__", [](const Tensor& t, nb::handle index, nb::handle value) {
        std::vector<IndexItem> items = parse_index(index);
        Tensor target = apply_indices(t, items);
        if (nb::isinstance<Tensor>(value)) {
          copy_(target, *nb::inst_ptr<Tensor>(value));
        } else {
          Scalar s;
          VT_CHECK_TYPE(scalar_from_python(value, s), "can't assign a ", nb::type_name(value.type()).c_str(),
                        " to a tensor");
          fill_(target, s);
        }
      });

  // ---- conversion and copies
  cls.def("to", &to_method)
      .def("cpu", [](const Tensor& t) { return to(t, std::nullopt, Device()); })
      .def("float", [](const Tensor& t) { return to(t, ScalarType::Float32); })
      .def("double", [](const Tensor& t) { return to(t, ScalarType::Float64); })
      .def("half", [](const Tensor& t) { return to(t, ScalarType::Float16); })
      .def("bfloat16", [](const Tensor& t) { return to(t, ScalarType::BFloat16); })
      .def("int", [](const Tensor& t) { return to(t, ScalarType::Int32); })
      .def("long", [](const Tensor& t) { return to(t, ScalarType::Int64); })
      .def("short", [](const Tensor& t) { return to(t, ScalarType::Int16); })
      .def("char", [](const Tensor& t) { return to(t, ScalarType::Int8); })
      .def("byte", [](const Tensor& t) { return to(t, ScalarType::UInt8); })
      .def("bool", [](const Tensor& t) { return to(t, ScalarType::Bool); })
      .def("type", [](const Tensor& t, DType d) { return to(t, d.type); }, nb::arg("dtype"))
      .def("copy_", [](const Tensor& t, const Tensor& src, bool) { return copy_(t, src); }, nb::arg("src"),
           nb::arg("non_blocking") = false, nb::rv_policy::reference_internal)
      .def("fill_", [](const Tensor& t, Scalar v) { return fill_(t, v); }, nb::arg("value"))
      .def("zero_", [](const Tensor& t) { return fill_(t, 0); });
  bind_both(cls, m, "clone", [](const Tensor& t) { return clone(t); });
  cls.def("contiguous", [](const Tensor& t) { return contiguous(t); });

  // ---- views and shape
  cls.def("view", [](const Tensor& t, nb::args size) { return view(t, sizes_from_args(size, "view")); })
      .def("reshape", [](const Tensor& t, nb::args size) { return reshape(t, sizes_from_args(size, "reshape")); })
      .def("expand", [](const Tensor& t, nb::args size) { return expand(t, sizes_from_args(size, "expand")); })
      .def("expand_as", [](const Tensor& t, const Tensor& other) { return expand(t, other.sizes()); })
      .def("view_as", [](const Tensor& t, const Tensor& other) { return view(t, other.sizes()); })
      .def("reshape_as", [](const Tensor& t, const Tensor& other) { return reshape(t, other.sizes()); })
      .def("permute", [](const Tensor& t, nb::args dims) { return permute(t, sizes_from_args(dims, "permute")); })
      .def("squeeze", [](const Tensor& t, nb::handle dim) { return squeeze(t, dims_from_python(dim, "squeeze")); },
           nb::arg("dim") = nb::none())
      .def("unfold", [](const Tensor& t, int64_t d, int64_t size, int64_t step) { return unfold(t, d, size, step); },
           nb::arg("dimension"), nb::arg("size"), nb::arg("step"));
  m.def("reshape", [](const Tensor& t, std::vector<int64_t> shape) { return reshape(t, shape); }, nb::arg("input"), nb::arg("shape"));
  m.def("permute", [](const Tensor& t, std::vector<int64_t> dims) { return permute(t, dims); }, nb::arg("input"), nb::arg("dims"));
  m.def("squeeze", [](const Tensor& t, nb::handle dim) { return squeeze(t, dims_from_python(dim, "squeeze")); },
        nb::arg("input"), nb::arg("dim") = nb::none());
  bind_both(cls, m, "transpose", [](const Tensor& t, int64_t a, int64_t b) { return transpose(t, a, b); }, nb::arg("dim0"), nb::arg("dim1"));
  bind_both(cls, m, "swapaxes", [](const Tensor& t, int64_t a, int64_t b) { return transpose(t, a, b); }, nb::arg("axis0"), nb::arg("axis1"));
  bind_both(cls, m, "t", [](const Tensor& t) { return vt::t(t); });
  bind_both(cls, m, "unsqueeze", [](const Tensor& t, int64_t d) { return unsqueeze(t, d); }, nb::arg("dim"));
  bind_both(cls, m, "flatten", [](const Tensor& t, int64_t s, int64_t e) { return flatten(t, s, e); },
            nb::arg("start_dim") = 0, nb::arg("end_dim") = -1);
  bind_both(cls, m, "unflatten", [](const Tensor& t, int64_t d, std::vector<int64_t> sizes) { return unflatten(t, d, sizes); },
            nb::arg("dim"), nb::arg("sizes"));
  bind_both(cls, m, "narrow", [](const Tensor& t, int64_t d, int64_t s, int64_t l) { return narrow(t, d, s, l); },
            nb::arg("dim"), nb::arg("start"), nb::arg("length"));
  bind_both(cls, m, "select", [](const Tensor& t, int64_t d, int64_t i) { return select(t, d, i); }, nb::arg("dim"), nb::arg("index"));
  bind_both(cls, m, "as_strided",
            [](const Tensor& t, std::vector<int64_t> size, std::vector<int64_t> stride, std::optional<int64_t> offset) {
              return as_strided(t, size, stride, offset);
            },
            nb::arg("size"), nb::arg("stride"), nb::arg("storage_offset") = nb::none());
  bind_both(cls, m, "diagonal", [](const Tensor& t, int64_t o, int64_t a, int64_t b) { return diagonal(t, o, a, b); },
            nb::arg("offset") = 0, nb::arg("dim1") = 0, nb::arg("dim2") = 1);

  // ---- pointwise. `other` may be a Tensor or a Python number.
#define VT_BIND_BINARY(name)                                                                                   \
  bind_both(cls, m, #name, [](const Tensor& a, nb::handle b, const Tensor* out) {                            \
    Tensor other = operand_or_raise(b, #name, "other");                                                      \
    return out ? name##_out(*out, a, other) : name(a, other);                                                 \
  }, nb::arg("other"), nb::kw_only(), nb::arg("out") = nb::none());                                           \
  cls.def(#name "_", [](const Tensor& a, nb::handle b) { return name##_(a, operand_or_raise(b, #name "_", "other")); }, \
          nb::arg("other"));
  VT_BIND_BINARY(mul)
  VT_BIND_BINARY(pow)
  VT_BIND_BINARY(eq)
  VT_BIND_BINARY(ne)
  VT_BIND_BINARY(lt)
  VT_BIND_BINARY(le)
  VT_BIND_BINARY(gt)
  VT_BIND_BINARY(ge)
#undef VT_BIND_BINARY
  m.attr("multiply") = m.attr("mul");
  m.attr("greater") = m.attr("gt");
  m.attr("less") = m.attr("lt");
  m.attr("greater_equal") = m.attr("ge");
  m.attr("less_equal") = m.attr("le");
  m.attr("not_equal") = m.attr("ne");

#define VT_BIND_ALPHA(name)                                                                                   \
  bind_both(cls, m, #name, [](const Tensor& a, nb::handle b, Scalar alpha, const Tensor* out) {             \
    Tensor other = operand_or_raise(b, #name, "other");                                                      \
    return out ? name##_out(*out, a, other, alpha) : name(a, other, alpha);                                   \
  }, nb::arg("other"), nb::kw_only(), nb::arg("alpha") = 1, nb::arg("out") = nb::none());                     \
  cls.def(#name "_", [](const Tensor& a, nb::handle b, Scalar alpha) {                                        \
    return name##_(a, operand_or_raise(b, #name "_", "other"), alpha);                                        \
  }, nb::arg("other"), nb::kw_only(), nb::arg("alpha") = 1);
  VT_BIND_ALPHA(add)
  VT_BIND_ALPHA(sub)
#undef VT_BIND_ALPHA
  m.attr("subtract") = m.attr("sub");

  bind_both(cls, m, "div", [](const Tensor& a, nb::handle b, std::optional<std::string> mode, const Tensor* out) {
    Tensor other = operand_or_raise(b, "div", "other");
    std::optional<std::string_view> m = mode ? std::optional<std::string_view>(*mode) : std::nullopt;
    return out ? div_out(*out, a, other, m) : div(a, other, m);
  }, nb::arg("other"), nb::kw_only(), nb::arg("rounding_mode") = nb::none(), nb::arg("out") = nb::none());
  cls.def("div_", [](const Tensor& a, nb::handle b, std::optional<std::string> mode) {
    std::optional<std::string_view> m = mode ? std::optional<std::string_view>(*mode) : std::nullopt;
    return div_(a, operand_or_raise(b, "div_", "other"), m);
  }, nb::arg("other"), nb::kw_only(), nb::arg("rounding_mode") = nb::none());
  m.attr("divide") = m.attr("div");
  m.attr("true_divide") = m.attr("div");

#define VT_BIND_UNARY(name)                                                                                       \
  bind_both(cls, m, #name, [](const Tensor& a, const Tensor* out) { return out ? name##_out(*out, a) : name(a); }, \
            nb::kw_only(), nb::arg("out") = nb::none());                                                          \
  cls.def(#name "_", [](const Tensor& a) { return name##_(a); });
  VT_BIND_UNARY(neg)
  VT_BIND_UNARY(abs)
  VT_BIND_UNARY(exp)
  VT_BIND_UNARY(log)
  VT_BIND_UNARY(sqrt)
  VT_BIND_UNARY(rsqrt)
  VT_BIND_UNARY(relu)
  VT_BIND_UNARY(sigmoid)
  VT_BIND_UNARY(tanh)
#undef VT_BIND_UNARY
  m.attr("negative") = m.attr("neg");
  m.attr("absolute") = m.attr("abs");

  bind_both(cls, m, "clamp", [](const Tensor& a, nb::handle lo, nb::handle hi, const Tensor* out) {
    auto min = optional_scalar(lo, "clamp", "min");
    auto max = optional_scalar(hi, "clamp", "max");
    return out ? clamp_out(*out, a, min, max) : clamp(a, min, max);
  }, nb::arg("min") = nb::none(), nb::arg("max") = nb::none(), nb::kw_only(), nb::arg("out") = nb::none());
  cls.def("clamp_", [](const Tensor& a, nb::handle lo, nb::handle hi) {
    return clamp_(a, optional_scalar(lo, "clamp_", "min"), optional_scalar(hi, "clamp_", "max"));
  }, nb::arg("min") = nb::none(), nb::arg("max") = nb::none());
  m.attr("clip") = m.attr("clamp");

  m.def("where", [](const Tensor& condition, nb::handle a, nb::handle b) {
    return where(condition, operand_or_raise(a, "where", "input"), operand_or_raise(b, "where", "other"));
  }, nb::arg("condition"), nb::arg("input"), nb::arg("other"));
  cls.def("where", [](const Tensor& self, const Tensor& condition, nb::handle other) {
    return where(condition, self, operand_or_raise(other, "where", "other"));
  }, nb::arg("condition"), nb::arg("other"));

  // ---- Python operators: NotImplemented for unknown operands, as Python expects.
#define VT_OPERATOR(pyname, expr)                                             \
  cls.def(pyname, [](const Tensor& self, nb::handle rhs) -> nb::object {      \
    Operand operand(rhs);                                                     \
    if (!operand.valid()) return nb::borrow(Py_NotImplemented);               \
    const Tensor& other = operand.get();                                      \
    return nb::cast(expr);                                                    \
  });
  VT_OPERATOR("__add__", add(self, other))
  VT_OPERATOR("__radd__", add(other, self))
  VT_OPERATOR("__sub__", sub(self, other))
  VT_OPERATOR("__rsub__", sub(other, self))
  VT_OPERATOR("__mul__", mul(self, other))
  VT_OPERATOR("__rmul__", mul(other, self))
  VT_OPERATOR("__truediv__", div(self, other))
  VT_OPERATOR("__rtruediv__", div(other, self))
  VT_OPERATOR("__floordiv__", div(self, other, "floor"))
  VT_OPERATOR("__rfloordiv__", div(other, self, "floor"))
  VT_OPERATOR("__pow__", pow(self, other))
  VT_OPERATOR("__rpow__", pow(other, self))
  VT_OPERATOR("__eq__", eq(self, other))
  VT_OPERATOR("__ne__", ne(self, other))
  VT_OPERATOR("__lt__", lt(self, other))
  VT_OPERATOR("__le__", le(self, other))
  VT_OPERATOR("__gt__", gt(self, other))
  VT_OPERATOR("__ge__", ge(self, other))
#undef VT_OPERATOR
#define VT_INPLACE_OPERATOR(pyname, expr)                                     \
  cls.def(pyname, [](nb::handle self_obj, nb::handle rhs) -> nb::object {     \
    const Tensor& self = *nb::inst_ptr<Tensor>(self_obj);                     \
    Operand operand(rhs);                                                     \
    if (!operand.valid()) return nb::borrow(Py_NotImplemented);               \
    const Tensor& other = operand.get();                                      \
    expr;                                                                     \
    return nb::borrow(self_obj);                                              \
  });
  VT_INPLACE_OPERATOR("__iadd__", add_(self, other))
  VT_INPLACE_OPERATOR("__isub__", sub_(self, other))
  VT_INPLACE_OPERATOR("__imul__", mul_(self, other))
  VT_INPLACE_OPERATOR("__itruediv__", div_(self, other))
  VT_INPLACE_OPERATOR("__ifloordiv__", div_(self, other, "floor"))
  VT_INPLACE_OPERATOR("__ipow__", pow_(self, other))
#undef VT_INPLACE_OPERATOR
  cls.def("__matmul__", [](const Tensor& a, nb::handle b) -> nb::object {
    if (!nb::isinstance<Tensor>(b)) return nb::borrow(Py_NotImplemented);
    return nb::cast(matmul(a, *nb::inst_ptr<Tensor>(b)));
  });
  cls.def("__neg__", [](const Tensor& a) { return neg(a); })
      .def("__pos__", [](const Tensor& a) { return a; })
      .def("__abs__", [](const Tensor& a) { return abs(a); });

  // ---- reductions
  bind_both(cls, m, "sum", [](const Tensor& t, nb::handle dim, bool keepdim, OptDType dtype) {
    return sum(t, dims_from_python(dim, "sum"), keepdim, unwrap(dtype));
  }, nb::arg("dim") = nb::none(), nb::arg("keepdim") = false, nb::kw_only(), nb::arg("dtype") = nb::none());
  bind_both(cls, m, "mean", [](const Tensor& t, nb::handle dim, bool keepdim, OptDType dtype) {
    return mean(t, dims_from_python(dim, "mean"), keepdim, unwrap(dtype));
  }, nb::arg("dim") = nb::none(), nb::arg("keepdim") = false, nb::kw_only(), nb::arg("dtype") = nb::none());
  bind_both(cls, m, "max", &max_min<true>, nb::arg("dim") = nb::none(), nb::arg("keepdim") = false);
  bind_both(cls, m, "min", &max_min<false>, nb::arg("dim") = nb::none(), nb::arg("keepdim") = false);
  bind_both(cls, m, "argmax", [](const Tensor& t, std::optional<int64_t> dim, bool keepdim) { return argmax(t, dim, keepdim); },
            nb::arg("dim") = nb::none(), nb::arg("keepdim") = false);
  bind_both(cls, m, "argmin", [](const Tensor& t, std::optional<int64_t> dim, bool keepdim) { return argmin(t, dim, keepdim); },
            nb::arg("dim") = nb::none(), nb::arg("keepdim") = false);

  // ---- linear algebra
  bind_both(cls, m, "mm", [](const Tensor& a, const Tensor& b) { return mm(a, b); }, nb::arg("mat2"));
  bind_both(cls, m, "bmm", [](const Tensor& a, const Tensor& b) { return bmm(a, b); }, nb::arg("mat2"));
  bind_both(cls, m, "matmul", [](const Tensor& a, const Tensor& b) { return matmul(a, b); }, nb::arg("other"));
  return cls;
}

}  // namespace vt::python
