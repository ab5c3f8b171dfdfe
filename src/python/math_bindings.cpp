// Composite math from Python: lerp/addcmul/addcdiv, einsum, tensordot, the vector norm,
// tile/repeat_interleave/roll.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/vector.h>

#include "src/python/bindings.h"

namespace vt::python {

namespace {

using OptDType = std::optional<DType>;
std::optional<ScalarType> unwrap(const OptDType& d) { return d ? std::optional<ScalarType>(d->type) : std::nullopt; }

// lerp's weight: a number or a tensor.
Tensor lerp_any(const Tensor& t, const Tensor& end, nb::handle weight) {
  if (nb::isinstance<Tensor>(weight)) return lerp(t, end, *nb::inst_ptr<Tensor>(weight));
  return lerp(t, end, *optional_scalar(weight, "lerp", "weight"));
}

// Tensors from `einsum(eq, a, b)` or `einsum(eq, [a, b])` (args[1:]).
std::vector<Tensor> operands_of(const nb::args& args) {
  std::vector<nb::handle> items;
  if (args.size() == 2 && !nb::isinstance<Tensor>(args[1])) {
    for (nb::handle h : nb::borrow<nb::sequence>(args[1])) items.push_back(h);
  } else {
    for (size_t i = 1; i < args.size(); ++i) items.push_back(args[i]);
  }
  std::vector<Tensor> out;
  for (nb::handle h : items) {
    VT_CHECK_TYPE(nb::isinstance<Tensor>(h), "einsum(): operands must be Tensors, got ", nb::type_name(h.type()).c_str());
    out.push_back(*nb::inst_ptr<Tensor>(h));
  }
  return out;
}

std::vector<int64_t> int_list(nb::handle h) {
  if (nb::isinstance<Tensor>(h)) {
    const Tensor& t = *nb::inst_ptr<Tensor>(h);
    std::vector<int64_t> out;
    Tensor flat = reshape(t, std::vector<int64_t>{-1});
    for (int64_t i = 0; i < flat.numel(); ++i) out.push_back(select(flat, 0, i).item().to_int());
    return out;
  }
  if (PyLong_Check(h.ptr())) return {nb::cast<int64_t>(h)};
  return nb::cast<std::vector<int64_t>>(h);
}

// tensordot's dims: n (the last n of a with the first n of b), or two lists.
Tensor tensordot_any(const Tensor& a, const Tensor& b, nb::handle dims) {
  std::vector<int64_t> da, db;
  bool is_count = PyLong_Check(dims.ptr()) || (nb::isinstance<Tensor>(dims) && nb::inst_ptr<Tensor>(dims)->dim() == 0);
  if (is_count) {
    int64_t n = nb::isinstance<Tensor>(dims) ? nb::inst_ptr<Tensor>(dims)->item().to_int() : nb::cast<int64_t>(dims);
    VT_CHECK(n >= 0, "tensordot expects dims >= 0, but got dims=", n);
    VT_CHECK(n <= a.dim() && n <= b.dim(), "tensordot expects dims < ndim_a or ndim_b, but got dims=", n);
    for (int64_t k = 0; k < n; ++k) {
      da.push_back(a.dim() - n + k);
      db.push_back(k);
    }
  } else {
    nb::sequence pair = nb::borrow<nb::sequence>(dims);
    VT_CHECK(nb::len(pair) == 2, "tensordot expects dims to be a pair of lists, or an int");
    da = int_list(pair[0]);
    db = int_list(pair[1]);
  }
  return tensordot(a, b, da, db);
}

}  // namespace

void bind_math(nb::module_& m, nb::class_<Tensor>& cls) {
  bind_both(cls, m, "lerp", &lerp_any, nb::arg("end"), nb::arg("weight"));
  cls.def("lerp_", [](nb::handle self, const Tensor& end, nb::handle weight) {
    return write_back(self, [&](const Tensor& t) { return lerp_any(t, end, weight); });
  }, nb::arg("end"), nb::arg("weight"));
  bind_both(cls, m, "addcmul", [](const Tensor& t, const Tensor& a, const Tensor& b, Scalar value) {
    return addcmul(t, a, b, value);
  }, nb::arg("tensor1"), nb::arg("tensor2"), nb::kw_only(), nb::arg("value") = 1);
  cls.def("addcmul_", [](nb::handle self, const Tensor& a, const Tensor& b, Scalar value) {
    return write_back(self, [&](const Tensor& t) { return addcmul(t, a, b, value); });
  }, nb::arg("tensor1"), nb::arg("tensor2"), nb::kw_only(), nb::arg("value") = 1);
  bind_both(cls, m, "addcdiv", [](const Tensor& t, const Tensor& a, const Tensor& b, Scalar value) {
    return addcdiv(t, a, b, value);
  }, nb::arg("tensor1"), nb::arg("tensor2"), nb::kw_only(), nb::arg("value") = 1);
  cls.def("addcdiv_", [](nb::handle self, const Tensor& a, const Tensor& b, Scalar value) {
    return write_back(self, [&](const Tensor& t) { return addcdiv(t, a, b, value); });
  }, nb::arg("tensor1"), nb::arg("tensor2"), nb::kw_only(), nb::arg("value") = 1);
  bind_both(cls, m, "isclose", &isclose, nb::arg("other"), nb::arg("rtol") = 1e-05, nb::arg("atol") = 1e-08,
            nb::arg("equal_nan") = false);
  bind_both(cls, m, "signbit", &signbit);

  // einsum(equation, *operands) or einsum(equation, [operands]); *args like torch's signature.
  m.def("einsum", [](nb::args args) {
    VT_CHECK_TYPE(args.size() >= 1 && nb::isinstance<nb::str>(args[0]), "einsum(): must specify the equation string ",
                  "and at least one operand, or at least one operand and its subscripts list");
    return einsum(nb::cast<std::string>(args[0]), operands_of(args));
  }, nb::arg("args"));
  m.def("tensordot", &tensordot_any, nb::arg("a"), nb::arg("b"), nb::arg("dims") = 2);
  m.def("linalg_vector_norm", [](const Tensor& x, Scalar ord, nb::handle dim, bool keepdim, OptDType dtype) {
    return linalg_vector_norm(x, ord, dims_from_python(dim, "linalg.vector_norm"), keepdim, unwrap(dtype));
  }, nb::arg("x"), nb::arg("ord") = 2, nb::arg("dim").none() = nb::none(), nb::arg("keepdim") = false, nb::kw_only(),
     nb::arg("dtype").none() = nb::none());

  // tile(dims) also takes tile(2, 3), as Tensor.repeat does.
  cls.def("tile", [](const Tensor& t, nb::args dims) { return tile(t, sizes_from_args(dims, "tile")); });
  m.def("tile", [](const Tensor& t, std::vector<int64_t> dims) { return tile(t, dims); }, nb::arg("input"), nb::arg("dims"));
  auto repeat_interleave_any = [](const Tensor& t, nb::handle repeats, std::optional<int64_t> dim,
                                  std::optional<int64_t> output_size) {
    if (nb::isinstance<Tensor>(repeats)) return repeat_interleave(t, *nb::inst_ptr<Tensor>(repeats), dim, output_size);
    return repeat_interleave(t, nb::cast<int64_t>(repeats), dim, output_size);
  };
  cls.def("repeat_interleave", repeat_interleave_any, nb::arg("repeats"), nb::arg("dim").none() = nb::none(),
          nb::kw_only(), nb::arg("output_size").none() = nb::none());
  // torch.repeat_interleave(repeats) alone gives the positions.
  m.def("repeat_interleave", [repeat_interleave_any](const Tensor& t, nb::handle repeats, std::optional<int64_t> dim,
                                                     std::optional<int64_t> output_size) {
    if (repeats.is_none()) return repeat_interleave(t, output_size);
    return repeat_interleave_any(t, repeats, dim, output_size);
  }, nb::arg("input"), nb::arg("repeats").none() = nb::none(), nb::arg("dim").none() = nb::none(), nb::kw_only(),
     nb::arg("output_size").none() = nb::none());
  // The kernels behind F.unfold, F.fold and F.interpolate (python/vibetensor/nn/_sampling.py).
  nb::module_ nn = nb::borrow<nb::module_>(m.attr("_nn"));
  nn.def("im2col", [](const Tensor& x, std::vector<int64_t> kernel_size, std::vector<int64_t> dilation,
                      std::vector<int64_t> padding, std::vector<int64_t> stride) {
    return im2col(x, kernel_size, dilation, padding, stride);
  }, nb::arg("input"), nb::arg("kernel_size"), nb::arg("dilation"), nb::arg("padding"), nb::arg("stride"));
  nn.def("col2im", [](const Tensor& x, std::vector<int64_t> output_size, std::vector<int64_t> kernel_size,
                      std::vector<int64_t> dilation, std::vector<int64_t> padding, std::vector<int64_t> stride) {
    return col2im(x, output_size, kernel_size, dilation, padding, stride);
  }, nb::arg("input"), nb::arg("output_size"), nb::arg("kernel_size"), nb::arg("dilation"), nb::arg("padding"),
     nb::arg("stride"));
  nn.def("upsample", [](const Tensor& x, std::string_view mode, std::optional<std::vector<int64_t>> size,
                        std::optional<std::vector<double>> scale_factors, bool align_corners) {
    return upsample(x, mode, size, scale_factors, align_corners);
  }, nb::arg("input"), nb::arg("mode"), nb::arg("output_size").none(), nb::arg("scale_factors").none(),
     nb::arg("align_corners"));
  bind_both(cls, m, "roll", [](const Tensor& t, nb::handle shifts, nb::handle dims) {
    return roll(t, int_list(shifts), dims.is_none() ? std::vector<int64_t>{} : int_list(dims));
  }, nb::arg("shifts"), nb::arg("dims").none() = nb::none());
}

}  // namespace vt::python
