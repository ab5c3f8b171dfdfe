// The Tensor class and the op functions, bound directly to the C++ API: each binding
// converts arguments and calls one vt:: function; no op logic lives here.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "src/python/bindings.h"
#include "vt/autograd/meta.h"

namespace vt::python {

namespace {

using OptDType = std::optional<DType>;
std::optional<ScalarType> unwrap(const OptDType& d) {
  return d ? std::optional<ScalarType>(d->type) : std::nullopt;
}


// ---- arguments that accept several forms


// `t.to(dtype)`, `t.to(device)`, `t.to(device, dtype)`, `t.to(other)`, with keywords.
Tensor to_method(const Tensor& self, nb::args args, nb::kwargs kwargs) {
  std::optional<ScalarType> dtype;
  std::optional<Device> device;
  bool copy = false, non_blocking = false;
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
    else if (name == "non_blocking") non_blocking = nb::cast<bool>(value);
    else if (name == "memory_format") {}
    else fail(ErrorKind::Type, "to() got an unexpected keyword argument '", name, "'");
  }
  return to(self, dtype, device, copy, non_blocking);
}

// float(t) / int(t): one element, or ValueError as in torch.
Scalar python_number(const Tensor& t) {
  VT_CHECK_VALUE(t.numel() == 1, "only one element tensors can be converted to Python scalars");
  return t.item();
}

// A Tensor argument given as a Python object (out=), with a TypeError naming it otherwise.
const Tensor& tensor_arg(nb::handle h, const char* op, const char* arg) {
  if (!nb::isinstance<Tensor>(h)) {
    fail(ErrorKind::Type, op, "(): argument '", arg, "' must be Tensor, not ", nb::type_name(h.type()).c_str());
  }
  return *nb::inst_ptr<Tensor>(h);
}

// torch still accepts a uint8 mask in where (deprecated); it means the same as bool.
Tensor condition_tensor(const Tensor& condition) {
  if (condition.dtype() != ScalarType::UInt8) return condition;
  PyErr_WarnEx(PyExc_UserWarning, "where received a uint8 condition tensor. This behavior is deprecated and will be "
               "removed in a future version of PyTorch. Use a boolean condition instead.", 1);
  return to(condition, ScalarType::Bool);
}

// Returns `self`'s own Python object when an op handed back the same tensor (contiguous() of a
// contiguous tensor, a conversion to the dtype it has), as torch does.
nb::object same_or_new(nb::handle self, const Tensor& result) {
  if (nb::inst_ptr<Tensor>(self)->is_same(result)) return nb::borrow(self);
  return nb::cast(result);
}

// torch.max(input), torch.max(input, dim, keepdim=False) -> (values, indices)
template <bool IsMax>
nb::object max_min(const Tensor& self, nb::handle dim, bool keepdim) {
  if (dim.is_none()) {
    VT_CHECK_TYPE(!keepdim, IsMax ? "max" : "min", "(): keepdim requires a dim");
    return nb::cast(IsMax ? max(self) : min(self));
  }
  // max(input, other): the elementwise maximum, as torch.
  if (nb::isinstance<Tensor>(dim)) {
    const Tensor& other = *nb::inst_ptr<Tensor>(dim);
    return nb::cast(IsMax ? maximum(self, other) : minimum(self, other));
  }
  int64_t d = nb::cast<int64_t>(dim);
  auto [values, indices] = IsMax ? max_dim(self, d, keepdim) : min_dim(self, d, keepdim);
  return return_type(IsMax ? "max" : "min")(values, indices);
}

}  // namespace

// torch.nn.functional's activations: bound directly, `inplace=True` writes into the input.
void bind_nn_functional(nb::module_& nn) {
  // inplace=True: the activation of a copy is written into the input, so a value autograd
  // saved is never the one being overwritten.
  auto maybe_inplace = [](nb::handle input, auto&& op, bool inplace) -> nb::object {
    const Tensor& x = tensor_arg(input, "activation", "input");
    if (!inplace) return nb::cast(op(x));
    copy_(x, op(clone(x)));
    return nb::borrow(input);
  };
  nn.def("relu", [](nb::handle input, bool inplace) -> nb::object {
    const Tensor& x = tensor_arg(input, "relu", "input");
    if (!inplace) return nb::cast(relu(x));
    relu_(x);
    return nb::borrow(input);
  }, nb::arg("input"), nb::arg("inplace") = false);
  nn.def("gelu", [](const Tensor& x, std::string approximate) { return gelu(x, approximate); }, nb::arg("input"),
         nb::kw_only(), nb::arg("approximate") = "none");
  nn.def("softplus", [](const Tensor& x, Scalar beta, Scalar threshold) { return softplus(x, beta, threshold); },
         nb::arg("input"), nb::arg("beta") = 1, nb::arg("threshold") = 20);
  nn.def("elu", [maybe_inplace](nb::handle input, Scalar alpha, bool inplace) {
    return maybe_inplace(input, [&](const Tensor& x) { return elu(x, alpha); }, inplace);
  }, nb::arg("input"), nb::arg("alpha") = 1.0, nb::arg("inplace") = false);
  nn.def("leaky_relu", [maybe_inplace](nb::handle input, Scalar slope, bool inplace) {
    return maybe_inplace(input, [&](const Tensor& x) { return leaky_relu(x, slope); }, inplace);
  }, nb::arg("input"), nb::arg("negative_slope") = 0.01, nb::arg("inplace") = false);
  nn.def("hardtanh", [maybe_inplace](nb::handle input, Scalar lo, Scalar hi, bool inplace) {
    return maybe_inplace(input, [&](const Tensor& x) { return hardtanh(x, lo, hi); }, inplace);
  }, nb::arg("input"), nb::arg("min_val") = -1.0, nb::arg("max_val") = 1.0, nb::arg("inplace") = false);
  nn.def("silu", [maybe_inplace](nb::handle input, bool inplace) {
    return maybe_inplace(input, [](const Tensor& x) { return silu(x); }, inplace);
  }, nb::arg("input"), nb::arg("inplace") = false);
  nn.def("mish", [maybe_inplace](nb::handle input, bool inplace) {
    return maybe_inplace(input, [](const Tensor& x) { return mish(x); }, inplace);
  }, nb::arg("input"), nb::arg("inplace") = false);
  nn.def("sigmoid", [](const Tensor& x) { return sigmoid(x); }, nb::arg("input"));
  // An int or a sequence of ints, as the conv and pooling arguments take.
  auto ints = [](nb::handle h) {
    std::vector<int64_t> v;
    if (h.is_none()) return v;
    if (PyLong_Check(h.ptr())) v.push_back(nb::cast<int64_t>(h));
    else v = nb::cast<std::vector<int64_t>>(h);
    return v;
  };
  nn.def("conv2d", [ints](const Tensor& x, const Tensor& w, std::optional<Tensor> b, nb::handle stride, nb::handle padding,
                          nb::handle dilation, int64_t groups) {
    VT_CHECK_KIND(!PyUnicode_Check(padding.ptr()), ErrorKind::NotImplemented, "conv2d(): string padding is not supported yet");
    return conv2d(x, w, b, ints(stride), ints(padding), ints(dilation), groups);
  }, nb::arg("input"), nb::arg("weight"), nb::arg("bias").none() = nb::none(), nb::arg("stride") = 1,
     nb::arg("padding") = 0, nb::arg("dilation") = 1, nb::arg("groups") = 1);
  nn.def("conv1d", [ints](const Tensor& x, const Tensor& w, std::optional<Tensor> b, nb::handle stride, nb::handle padding,
                          nb::handle dilation, int64_t groups) {
    VT_CHECK_KIND(!PyUnicode_Check(padding.ptr()), ErrorKind::NotImplemented, "conv1d(): string padding is not supported yet");
    return conv1d(x, w, b, ints(stride), ints(padding), ints(dilation), groups);
  }, nb::arg("input"), nb::arg("weight"), nb::arg("bias").none() = nb::none(), nb::arg("stride") = 1,
     nb::arg("padding") = 0, nb::arg("dilation") = 1, nb::arg("groups") = 1);
  nn.def("max_pool2d", [ints](const Tensor& x, nb::handle kernel, nb::handle stride, nb::handle padding, nb::handle dilation,
                              bool ceil_mode, bool return_indices) {
    VT_CHECK_KIND(!return_indices, ErrorKind::NotImplemented, "max_pool2d(): return_indices=True is not supported yet");
    return max_pool2d(x, ints(kernel), ints(stride), ints(padding), ints(dilation), ceil_mode);
  }, nb::arg("input"), nb::arg("kernel_size"), nb::arg("stride").none() = nb::none(), nb::arg("padding") = 0,
     nb::arg("dilation") = 1, nb::arg("ceil_mode") = false, nb::arg("return_indices") = false);
  nn.def("avg_pool2d", [ints](const Tensor& x, nb::handle kernel, nb::handle stride, nb::handle padding, bool ceil_mode,
                              bool count_include_pad, std::optional<int64_t> divisor_override) {
    return avg_pool2d(x, ints(kernel), ints(stride), ints(padding), ceil_mode, count_include_pad, divisor_override);
  }, nb::arg("input"), nb::arg("kernel_size"), nb::arg("stride").none() = nb::none(), nb::arg("padding") = 0,
     nb::arg("ceil_mode") = false, nb::arg("count_include_pad") = true, nb::arg("divisor_override").none() = nb::none());
  nn.def("adaptive_avg_pool2d", [ints](const Tensor& x, nb::handle output_size) {
    std::vector<int64_t> size = ints(output_size);
    if (size.size() == 1) size.push_back(size[0]);
    return adaptive_avg_pool2d(x, size);
  }, nb::arg("input"), nb::arg("output_size"));
  nn.def("batch_norm", [](const Tensor& x, std::optional<Tensor> running_mean, std::optional<Tensor> running_var,
                          std::optional<Tensor> weight, std::optional<Tensor> bias, bool training, double momentum, double eps) {
    return batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps);
  }, nb::arg("input"), nb::arg("running_mean").none(), nb::arg("running_var").none(), nb::arg("weight").none() = nb::none(),
     nb::arg("bias").none() = nb::none(), nb::arg("training") = false, nb::arg("momentum") = 0.1, nb::arg("eps") = 1e-5);
  nn.def("group_norm", [](const Tensor& x, int64_t groups, std::optional<Tensor> weight, std::optional<Tensor> bias, double eps) {
    return group_norm(x, groups, weight, bias, eps);
  }, nb::arg("input"), nb::arg("num_groups"), nb::arg("weight").none() = nb::none(), nb::arg("bias").none() = nb::none(),
     nb::arg("eps") = 1e-5);
  nn.def("linear", [](const Tensor& x, const Tensor& w, std::optional<Tensor> b) { return linear(x, w, b); },
         nb::arg("input"), nb::arg("weight"), nb::arg("bias").none() = nb::none());
  nn.def("one_hot", [](const Tensor& t, int64_t classes) { return one_hot(t, classes); }, nb::arg("tensor"),
         nb::arg("num_classes") = -1);
  nn.def("pad", [](const Tensor& x, std::vector<int64_t> pad, std::string mode, std::optional<double> value) {
    return vt::pad(x, pad, mode, value);
  }, nb::arg("input"), nb::arg("pad"), nb::arg("mode") = "constant", nb::arg("value").none() = nb::none());
  nn.def("scaled_dot_product_attention", [](const Tensor& q, const Tensor& k, const Tensor& v, std::optional<Tensor> mask,
                                            double dropout_p, bool is_causal, std::optional<double> scale, bool enable_gqa) {
    VT_CHECK_KIND(!enable_gqa, ErrorKind::NotImplemented, "scaled_dot_product_attention(): enable_gqa is not supported yet");
    return scaled_dot_product_attention(q, k, v, mask, dropout_p, is_causal, scale);
  }, nb::arg("query"), nb::arg("key"), nb::arg("value"), nb::arg("attn_mask").none() = nb::none(),
     nb::arg("dropout_p") = 0.0, nb::arg("is_causal") = false, nb::kw_only(), nb::arg("scale").none() = nb::none(),
     nb::arg("enable_gqa") = false);
  // Losses: torch's reduction strings, and the deprecated size_average/reduce pair.
  auto reduction_of = [](nb::handle size_average, nb::handle reduce, const std::string& reduction) -> int64_t {
    if (!size_average.is_none() || !reduce.is_none()) {
      bool average = size_average.is_none() || nb::cast<bool>(size_average);
      bool reduced = reduce.is_none() || nb::cast<bool>(reduce);
      return !reduced ? 0 : (average ? 1 : 2);
    }
    if (reduction == "none") return 0;
    if (reduction == "mean") return 1;
    if (reduction == "sum") return 2;
    fail(ErrorKind::Value, reduction, " is not a valid value for reduction");
  };
  auto optional_tensor = [](nb::handle h) -> std::optional<Tensor> {
    if (h.is_none()) return std::nullopt;
    return tensor_arg(h, "loss", "weight");
  };
  nn.def("mse_loss", [reduction_of](const Tensor& x, const Tensor& y, nb::handle sa, nb::handle r, std::string red) {
    return mse_loss(x, y, reduction_of(sa, r, red));
  }, nb::arg("input"), nb::arg("target"), nb::arg("size_average").none() = nb::none(), nb::arg("reduce").none() = nb::none(),
     nb::arg("reduction") = "mean");
  nn.def("l1_loss", [reduction_of](const Tensor& x, const Tensor& y, nb::handle sa, nb::handle r, std::string red) {
    return l1_loss(x, y, reduction_of(sa, r, red));
  }, nb::arg("input"), nb::arg("target"), nb::arg("size_average").none() = nb::none(), nb::arg("reduce").none() = nb::none(),
     nb::arg("reduction") = "mean");
  nn.def("smooth_l1_loss", [reduction_of](const Tensor& x, const Tensor& y, nb::handle sa, nb::handle r, std::string red, double beta) {
    return smooth_l1_loss(x, y, reduction_of(sa, r, red), beta);
  }, nb::arg("input"), nb::arg("target"), nb::arg("size_average").none() = nb::none(), nb::arg("reduce").none() = nb::none(),
     nb::arg("reduction") = "mean", nb::arg("beta") = 1.0);
  nn.def("binary_cross_entropy", [reduction_of, optional_tensor](const Tensor& x, const Tensor& y, nb::handle w, nb::handle sa,
                                                                 nb::handle r, std::string red) {
    return binary_cross_entropy(x, y, optional_tensor(w), reduction_of(sa, r, red));
  }, nb::arg("input"), nb::arg("target"), nb::arg("weight").none() = nb::none(), nb::arg("size_average").none() = nb::none(),
     nb::arg("reduce").none() = nb::none(), nb::arg("reduction") = "mean");
  nn.def("binary_cross_entropy_with_logits", [reduction_of, optional_tensor](const Tensor& x, const Tensor& y, nb::handle w,
                                                                             nb::handle sa, nb::handle r, std::string red,
                                                                             nb::handle pos_weight) {
    return binary_cross_entropy_with_logits(x, y, optional_tensor(w), optional_tensor(pos_weight), reduction_of(sa, r, red));
  }, nb::arg("input"), nb::arg("target"), nb::arg("weight").none() = nb::none(), nb::arg("size_average").none() = nb::none(),
     nb::arg("reduce").none() = nb::none(), nb::arg("reduction") = "mean", nb::arg("pos_weight").none() = nb::none());
  nn.def("nll_loss", [reduction_of, optional_tensor](const Tensor& x, const Tensor& y, nb::handle w, nb::handle sa,
                                                     int64_t ignore_index, nb::handle r, std::string red) {
    return nll_loss(x, y, optional_tensor(w), reduction_of(sa, r, red), ignore_index);
  }, nb::arg("input"), nb::arg("target"), nb::arg("weight").none() = nb::none(), nb::arg("size_average").none() = nb::none(),
     nb::arg("ignore_index") = -100, nb::arg("reduce").none() = nb::none(), nb::arg("reduction") = "mean");
  nn.def("cross_entropy", [reduction_of, optional_tensor](const Tensor& x, const Tensor& y, nb::handle w, nb::handle sa,
                                                          int64_t ignore_index, nb::handle r, std::string red, double smoothing) {
    return cross_entropy(x, y, optional_tensor(w), reduction_of(sa, r, red), ignore_index, smoothing);
  }, nb::arg("input"), nb::arg("target"), nb::arg("weight").none() = nb::none(), nb::arg("size_average").none() = nb::none(),
     nb::arg("ignore_index") = -100, nb::arg("reduce").none() = nb::none(), nb::arg("reduction") = "mean",
     nb::arg("label_smoothing") = 0.0);
  nn.def("layer_norm", [optional_tensor](const Tensor& x, std::vector<int64_t> shape, nb::handle w, nb::handle b, double eps) {
    return layer_norm(x, shape, optional_tensor(w), optional_tensor(b), eps);
  }, nb::arg("input"), nb::arg("normalized_shape"), nb::arg("weight").none() = nb::none(), nb::arg("bias").none() = nb::none(),
     nb::arg("eps") = 1e-5);
  nn.def("rms_norm", [optional_tensor](const Tensor& x, std::vector<int64_t> shape, nb::handle w, std::optional<double> eps) {
    return rms_norm(x, shape, optional_tensor(w), eps);
  }, nb::arg("input"), nb::arg("normalized_shape"), nb::arg("weight").none() = nb::none(), nb::arg("eps").none() = nb::none());
  nn.def("embedding", [](const Tensor& input, const Tensor& weight, std::optional<int64_t> padding_idx,
                         std::optional<double> max_norm, double, bool scale_grad_by_freq, bool sparse) {
    VT_CHECK_KIND(!max_norm, ErrorKind::NotImplemented, "embedding(): max_norm is not supported yet");
    int64_t padding = -1;
    if (padding_idx) {
      int64_t rows = weight.size(0);
      VT_CHECK(*padding_idx < rows && *padding_idx >= -rows, "Padding_idx must be within num_embeddings");
      padding = *padding_idx < 0 ? *padding_idx + rows : *padding_idx;
    }
    return embedding(weight, input, padding, scale_grad_by_freq, sparse);
  }, nb::arg("input"), nb::arg("weight"), nb::arg("padding_idx").none() = nb::none(), nb::arg("max_norm").none() = nb::none(),
     nb::arg("norm_type") = 2.0, nb::arg("scale_grad_by_freq") = false, nb::arg("sparse") = false);
  // torch.nn.functional.softmax's `dim=None` picks a dim by the input's rank (and warns).
  auto implicit_dim = [](const Tensor& x, std::optional<int64_t> dim) {
    if (dim) return *dim;
    PyErr_WarnEx(PyExc_UserWarning, "Implicit dimension choice for softmax has been deprecated. Change the call to "
                 "include dim=X as an argument.", 1);
    return static_cast<int64_t>(x.dim() == 0 || x.dim() == 1 || x.dim() == 3 ? 0 : 1);
  };
  nn.def("softmax", [implicit_dim](const Tensor& x, std::optional<int64_t> dim, int64_t, OptDType dtype) {
    return softmax(x, implicit_dim(x, dim), unwrap(dtype));
  }, nb::arg("input"), nb::arg("dim").none() = nb::none(), nb::arg("_stacklevel") = 3, nb::arg("dtype").none() = nb::none());
  nn.def("log_softmax", [implicit_dim](const Tensor& x, std::optional<int64_t> dim, int64_t, OptDType dtype) {
    return log_softmax(x, implicit_dim(x, dim), unwrap(dtype));
  }, nb::arg("input"), nb::arg("dim").none() = nb::none(), nb::arg("_stacklevel") = 3, nb::arg("dtype").none() = nb::none());
  nn.def("tanh", [](const Tensor& x) { return tanh(x); }, nb::arg("input"));
}

nb::class_<Tensor> bind_tensor(nb::module_& m) {
  nb::class_<Tensor> cls(m, "Tensor");

  // ---- construction from Python: torch's legacy `Tensor(...)` and the subclass hook
  // `Tensor(t)` aliases t; `Tensor(data)` copies a sequence as float32; `Tensor(2, 3)` is an
  // uninitialized float32 tensor of that shape; `Tensor()` is empty.
  cls.def("__init__", [](Tensor* self, nb::args args) {
    if (args.size() == 1 && nb::isinstance<Tensor>(args[0])) {
      new (self) Tensor(nb::cast<Tensor>(args[0]));
    } else if (args.size() == 1 && !nb::isinstance<nb::int_>(args[0])) {
      new (self) Tensor(tensor_from_data(args[0], ScalarType::Float32, Device()));
    } else {
      std::vector<int64_t> shape;
      for (nb::handle size : args) {
        VT_CHECK_TYPE(nb::isinstance<nb::int_>(size), "Tensor(): sizes must be ints, got ", nb::inst_name(size).c_str());
        shape.push_back(nb::cast<int64_t>(size));
        VT_CHECK(shape.back() >= 0, "Tensor(): negative dimension ", shape.back());
      }
      if (shape.empty()) shape.push_back(0);
      new (self) Tensor(empty(shape, ScalarType::Float32, Device()));
    }
  });
  // What torch.nn.Parameter is built on: an instance of `cls` (a Python subclass of Tensor)
  // sharing `data`'s storage, detached from its history, with requires_grad set.
  cls.def_static("_make_subclass", [](nb::type_object cls, const Tensor& data, bool require_grad) {
    VT_CHECK_TYPE(nb::type_check(cls) && PyType_IsSubtype((PyTypeObject*)cls.ptr(), (PyTypeObject*)nb::type<Tensor>().ptr()),
                  "_make_subclass(): cls must be a subclass of Tensor");
    nb::object instance = nb::inst_alloc(cls);
    new (nb::inst_ptr<Tensor>(instance)) Tensor(autograd::detach(data));
    nb::inst_mark_ready(instance);
    autograd::set_requires_grad(nb::cast<Tensor>(instance), require_grad);
    return instance;
  }, nb::arg("cls"), nb::arg("data"), nb::arg("require_grad") = false);

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
      .def_prop_ro("mT", [](const Tensor& t) {
        VT_CHECK(t.dim() >= 2, "tensor.mT is only supported on matrices or batches of matrices. Got ", t.dim(), "-D tensor.");
        return transpose(t, -2, -1);
      })
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
      .def_prop_ro("_version", [](const Tensor& t) { return t.version(); })
      .def("item", [](const Tensor& t) { return t.item(); })
      .def("tolist", &to_list)
      .def("numpy", [](const Tensor& t, bool force) {
        if (force) return to_numpy(to(autograd::detach(t), std::nullopt, Device()));  // a CPU copy without history
        VT_CHECK(!t.requires_grad(), "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.");
        return to_numpy(t);
      }, nb::kw_only(), nb::arg("force") = false)
      .def("__len__", [](const Tensor& t) {
        VT_CHECK_TYPE(t.dim() > 0, "len() of a 0-d tensor");
        return t.sizes()[0];
      })
      .def("__bool__", [](const Tensor& t) {
        VT_CHECK(t.numel() == 1, "Boolean value of Tensor with ", t.numel() > 1 ? "more than one value" : "no values",
                 " is ambiguous");
        return t.item().to_double() != 0;
      })
      .def("__float__", [](const Tensor& t) { return python_number(t).to_double(); })
      .def("__int__", [](const Tensor& t) { return python_number(t).to_int(); })
      .def("__index__", [](const Tensor& t) {
        VT_CHECK_TYPE(is_integral(t.dtype(), true) && t.numel() == 1,
                      "only integer tensors of a single element can be converted to an index");
        return t.item().to_int();
      })
      .def("__hash__", [](nb::handle self) { return reinterpret_cast<intptr_t>(self.ptr()); });

  // ---- conversion and copies
  cls.def("to", [](nb::handle self, nb::args args, nb::kwargs kwargs) {
        return same_or_new(self, to_method(*nb::inst_ptr<Tensor>(self), args, kwargs));
      })
      .def("cpu", [](nb::handle self) { return same_or_new(self, to(*nb::inst_ptr<Tensor>(self), std::nullopt, Device())); })
      .def("cuda", [](nb::handle self, nb::handle device, bool non_blocking) {
        Device target(DeviceType::CUDA);
        if (nb::isinstance<nb::int_>(device)) target = Device(DeviceType::CUDA, nb::cast<int>(device));
        else if (nb::isinstance<Device>(device)) target = nb::cast<Device>(device);
        else if (nb::isinstance<nb::str>(device)) target = Device(nb::cast<std::string>(device));
        else VT_CHECK_TYPE(device.is_none(), "cuda(): argument 'device' must be int, str or device, not ",
                           nb::type_name(device.type()).c_str());
        VT_CHECK_VALUE(target.is_cuda(), "Invalid device, must be cuda device");
        return same_or_new(self, to(*nb::inst_ptr<Tensor>(self), std::nullopt, target, false, non_blocking));
      }, nb::arg("device").none() = nb::none(), nb::arg("non_blocking") = false);
  for (auto [name, type] : {std::pair{"float", ScalarType::Float32}, {"double", ScalarType::Float64},
                            {"half", ScalarType::Float16}, {"bfloat16", ScalarType::BFloat16},
                            {"int", ScalarType::Int32}, {"long", ScalarType::Int64}, {"short", ScalarType::Int16},
                            {"char", ScalarType::Int8}, {"byte", ScalarType::UInt8}, {"bool", ScalarType::Bool}}) {
    cls.def(name, [type](nb::handle self) { return same_or_new(self, to(*nb::inst_ptr<Tensor>(self), type)); });
  }
  cls.def("type", [](nb::handle self, DType d) { return same_or_new(self, to(*nb::inst_ptr<Tensor>(self), d.type)); },
          nb::arg("dtype"))
      .def("copy_", [](nb::handle self, const Tensor& src, bool non_blocking) {
        copy_(*nb::inst_ptr<Tensor>(self), src, non_blocking);
        return nb::borrow(self);
      }, nb::arg("src"), nb::arg("non_blocking") = false)
      .def("fill_", [](nb::handle self, nb::handle value) {
        // A number, or a 0-dim tensor holding one.
        std::optional<Scalar> v = optional_scalar(value, "fill_", "value");
        VT_CHECK_TYPE(v.has_value(), "fill_(): argument 'value' must be Number, not NoneType");
        fill_(*nb::inst_ptr<Tensor>(self), *v);
        return nb::borrow(self);
      }, nb::arg("value").none())
      .def("zero_", [](nb::handle self) {
        fill_(*nb::inst_ptr<Tensor>(self), 0);
        return nb::borrow(self);
      });
  bind_both(cls, m, "clone", [](const Tensor& t) { return clone(t); });
  cls.def("contiguous", [](nb::handle self) { return same_or_new(self, contiguous(*nb::inst_ptr<Tensor>(self))); });

  // ---- views and shape
  cls.def("view", [](const Tensor& t, nb::args size) { return view(t, sizes_from_args(size, "view")); })
      .def("reshape", [](const Tensor& t, nb::args size) { return reshape(t, sizes_from_args(size, "reshape")); })
      .def("expand", [](const Tensor& t, nb::args size) { return expand(t, sizes_from_args(size, "expand")); })
      .def("expand_as", [](const Tensor& t, const Tensor& other) { return expand(t, other.sizes()); }, nb::arg("other"))
      .def("view_as", [](const Tensor& t, const Tensor& other) { return view(t, other.sizes()); }, nb::arg("other"))
      .def("reshape_as", [](const Tensor& t, const Tensor& other) { return reshape(t, other.sizes()); }, nb::arg("other"))
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

  // ---- pointwise. `other` may be a Tensor or a Python number. In-place forms return
  // `self` and `out=` forms return `out` as the same Python objects, as torch does.
#define VT_BIND_BINARY(name, other_name)                                                                       \
  bind_both(cls, m, #name, [](const Tensor& a, nb::handle b, nb::handle out) -> nb::object {                 \
    Tensor other = operand_or_raise(b, #name, other_name);                                                   \
    if (out.is_none()) return nb::cast(name(a, other));                                                      \
    name##_out(tensor_arg(out, #name, "out"), a, other);                                                     \
    return nb::borrow(out);                                                                                  \
  }, nb::arg(other_name), nb::kw_only(), nb::arg("out").none() = nb::none());                                \
  cls.def(#name "_", [](nb::handle self, nb::handle b) {                                                     \
    name##_(*nb::inst_ptr<Tensor>(self), operand_or_raise(b, #name "_", other_name));                        \
    return nb::borrow(self);                                                                                 \
  }, nb::arg(other_name));
  VT_BIND_BINARY(mul, "other")
  VT_BIND_BINARY(pow, "exponent")
  VT_BIND_BINARY(eq, "other")
  VT_BIND_BINARY(ne, "other")
  VT_BIND_BINARY(lt, "other")
  VT_BIND_BINARY(le, "other")
  VT_BIND_BINARY(gt, "other")
  VT_BIND_BINARY(ge, "other")
#define VT_BINARY_OP(name, ...) VT_BIND_BINARY(name, "other")
#include "vt/binary_ops.def"
#undef VT_BINARY_OP
#undef VT_BIND_BINARY
  // torch.pow also takes a number as the base.
  m.def("pow", [](nb::handle a, nb::handle b, nb::handle out) -> nb::object {
    Tensor base = operand_or_raise(a, "pow", "input");
    Tensor exponent = operand_or_raise(b, "pow", "exponent");
    if (out.is_none()) return nb::cast(pow(base, exponent));
    pow_out(tensor_arg(out, "pow", "out"), base, exponent);
    return nb::borrow(out);
  }, nb::arg("input"), nb::arg("exponent"), nb::kw_only(), nb::arg("out").none() = nb::none());
  m.attr("multiply") = m.attr("mul");
  m.attr("greater") = m.attr("gt");
  m.attr("less") = m.attr("lt");
  m.attr("greater_equal") = m.attr("ge");
  m.attr("less_equal") = m.attr("le");
  m.attr("not_equal") = m.attr("ne");

#define VT_BIND_ALPHA(name)                                                                                   \
  bind_both(cls, m, #name, [](const Tensor& a, nb::handle b, Scalar alpha, nb::handle out) -> nb::object {  \
    Tensor other = operand_or_raise(b, #name, "other");                                                      \
    if (out.is_none()) return nb::cast(name(a, other, alpha));                                               \
    name##_out(tensor_arg(out, #name, "out"), a, other, alpha);                                              \
    return nb::borrow(out);                                                                                  \
  }, nb::arg("other"), nb::kw_only(), nb::arg("alpha") = 1, nb::arg("out").none() = nb::none());             \
  cls.def(#name "_", [](nb::handle self, nb::handle b, Scalar alpha) {                                       \
    name##_(*nb::inst_ptr<Tensor>(self), operand_or_raise(b, #name "_", "other"), alpha);                    \
    return nb::borrow(self);                                                                                 \
  }, nb::arg("other"), nb::kw_only(), nb::arg("alpha") = 1);
  VT_BIND_ALPHA(add)
  VT_BIND_ALPHA(sub)
#undef VT_BIND_ALPHA
  m.attr("subtract") = m.attr("sub");

  bind_both(cls, m, "div", [](const Tensor& a, nb::handle b, std::optional<std::string> mode, nb::handle out) -> nb::object {
    Tensor other = operand_or_raise(b, "div", "other");
    std::optional<std::string_view> m = mode ? std::optional<std::string_view>(*mode) : std::nullopt;
    if (out.is_none()) return nb::cast(div(a, other, m));
    div_out(tensor_arg(out, "div", "out"), a, other, m);
    return nb::borrow(out);
  }, nb::arg("other"), nb::kw_only(), nb::arg("rounding_mode").none() = nb::none(), nb::arg("out").none() = nb::none());
  cls.def("div_", [](nb::handle self, nb::handle b, std::optional<std::string> mode) {
    std::optional<std::string_view> m = mode ? std::optional<std::string_view>(*mode) : std::nullopt;
    div_(*nb::inst_ptr<Tensor>(self), operand_or_raise(b, "div_", "other"), m);
    return nb::borrow(self);
  }, nb::arg("other"), nb::kw_only(), nb::arg("rounding_mode").none() = nb::none());
  m.attr("divide") = m.attr("div");
  m.attr("true_divide") = m.attr("div");

#define VT_BIND_UNARY(name)                                                                           \
  bind_both(cls, m, #name, [](const Tensor& a, nb::handle out) -> nb::object {                       \
    if (out.is_none()) return nb::cast(name(a));                                                     \
    name##_out(tensor_arg(out, #name, "out"), a);                                                    \
    return nb::borrow(out);                                                                          \
  }, nb::kw_only(), nb::arg("out").none() = nb::none());                                             \
  cls.def(#name "_", [](nb::handle self) {                                                           \
    name##_(*nb::inst_ptr<Tensor>(self));                                                            \
    return nb::borrow(self);                                                                         \
  });
  VT_BIND_UNARY(neg)
  VT_BIND_UNARY(abs)
  VT_BIND_UNARY(relu)
  VT_BIND_UNARY(logical_not)
  VT_BIND_UNARY(bitwise_not)
#define VT_UNARY_OP(name, ...) \
  if (std::string_view(#name) != "round") { VT_BIND_UNARY(name) }
#include "vt/unary_ops.def"
#undef VT_UNARY_OP
#undef VT_BIND_UNARY
  // round takes `decimals` as well.
  bind_both(cls, m, "round", [](const Tensor& a, int64_t decimals, nb::handle out) -> nb::object {
    if (decimals != 0) {
      VT_CHECK(out.is_none(), "round(): out= with decimals is not supported");
      return nb::cast(round(a, decimals));
    }
    if (out.is_none()) return nb::cast(round(a));
    round_out(tensor_arg(out, "round", "out"), a);
    return nb::borrow(out);
  }, nb::kw_only(), nb::arg("decimals") = 0, nb::arg("out").none() = nb::none());
  cls.def("round_", [](nb::handle self, int64_t decimals) {
    const Tensor& t = *nb::inst_ptr<Tensor>(self);
    if (decimals == 0) round_(t);
    else copy_(t, round(t, decimals));
    return nb::borrow(self);
  }, nb::kw_only(), nb::arg("decimals") = 0);
  bind_both(cls, m, "isnan", [](const Tensor& a) { return isnan(a); });
  bind_both(cls, m, "isinf", [](const Tensor& a) { return isinf(a); });
  bind_both(cls, m, "isfinite", [](const Tensor& a) { return isfinite(a); });
  bind_both(cls, m, "nan_to_num", [](const Tensor& a, std::optional<double> nan, std::optional<double> posinf,
                                     std::optional<double> neginf) { return nan_to_num(a, nan, posinf, neginf); },
            nb::arg("nan").none() = nb::none(), nb::arg("posinf").none() = nb::none(), nb::arg("neginf").none() = nb::none());
  bind_both(cls, m, "logit", [](const Tensor& a, std::optional<double> eps) { return logit(a, eps); },
            nb::arg("eps").none() = nb::none());
  cls.def("__invert__", [](const Tensor& a) { return bitwise_not(a); });
  bind_both(cls, m, "square", [](const Tensor& a, nb::handle out) -> nb::object {
    if (out.is_none()) return nb::cast(square(a));
    pow_out(tensor_arg(out, "square", "out"), a, scalar_to_tensor(int64_t{2}));
    return nb::borrow(out);
  }, nb::kw_only(), nb::arg("out").none() = nb::none());
  cls.def("square_", [](nb::handle self) {
    const Tensor& t = *nb::inst_ptr<Tensor>(self);
    pow_(t, scalar_to_tensor(int64_t{2}));
    return nb::borrow(self);
  });
  m.attr("negative") = m.attr("neg");
  m.attr("absolute") = m.attr("abs");

  bind_both(cls, m, "clamp", [](const Tensor& a, nb::handle lo, nb::handle hi, nb::handle out) -> nb::object {
    auto min = optional_scalar(lo, "clamp", "min");
    auto max = optional_scalar(hi, "clamp", "max");
    if (out.is_none()) return nb::cast(clamp(a, min, max));
    clamp_out(tensor_arg(out, "clamp", "out"), a, min, max);
    return nb::borrow(out);
  }, nb::arg("min").none() = nb::none(), nb::arg("max").none() = nb::none(), nb::kw_only(),
     nb::arg("out").none() = nb::none());
  cls.def("clamp_", [](nb::handle self, nb::handle lo, nb::handle hi) {
    clamp_(*nb::inst_ptr<Tensor>(self), optional_scalar(lo, "clamp_", "min"), optional_scalar(hi, "clamp_", "max"));
    return nb::borrow(self);
  }, nb::arg("min").none() = nb::none(), nb::arg("max").none() = nb::none());
  m.attr("clip") = m.attr("clamp");

  m.def("where", [](const Tensor& condition, nb::handle a, nb::handle b) {
    return where(condition_tensor(condition), operand_or_raise(a, "where", "input"), operand_or_raise(b, "where", "other"));
  }, nb::arg("condition"), nb::arg("input"), nb::arg("other"));
  cls.def("where", [](const Tensor& self, const Tensor& condition, nb::handle other) {
    return where(condition_tensor(condition), self, operand_or_raise(other, "where", "other"));
  }, nb::arg("condition"), nb::arg("other"));

  // ---- Python operators: NotImplemented for unknown operands, as Python expects.
#define VT_OPERATOR(pyname, expr)                                             \
  cls.def(pyname, [](const Tensor& self, nb::handle rhs) -> nb::object {      \
    Operand operand(rhs);                                                     \
    if (!operand.valid()) return nb::borrow(Py_NotImplemented);               \
    const Tensor& other = operand.get();                                      \
    return nb::cast(expr);                                                    \
  }, nb::arg("other").none());
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
  VT_OPERATOR("__mod__", remainder(self, other))
  VT_OPERATOR("__rmod__", remainder(other, self))
  VT_OPERATOR("__and__", bitwise_and(self, other))
  VT_OPERATOR("__rand__", bitwise_and(other, self))
  VT_OPERATOR("__or__", bitwise_or(self, other))
  VT_OPERATOR("__ror__", bitwise_or(other, self))
  VT_OPERATOR("__xor__", bitwise_xor(self, other))
  VT_OPERATOR("__rxor__", bitwise_xor(other, self))
#undef VT_OPERATOR
#define VT_INPLACE_OPERATOR(pyname, expr)                                     \
  cls.def(pyname, [](nb::handle self_obj, nb::handle rhs) -> nb::object {     \
    const Tensor& self = *nb::inst_ptr<Tensor>(self_obj);                     \
    Operand operand(rhs);                                                     \
    if (!operand.valid()) return nb::borrow(Py_NotImplemented);               \
    const Tensor& other = operand.get();                                      \
    expr;                                                                     \
    return nb::borrow(self_obj);                                              \
  }, nb::arg("other").none());
  VT_INPLACE_OPERATOR("__iadd__", add_(self, other))
  VT_INPLACE_OPERATOR("__isub__", sub_(self, other))
  VT_INPLACE_OPERATOR("__imul__", mul_(self, other))
  VT_INPLACE_OPERATOR("__itruediv__", div_(self, other))
  VT_INPLACE_OPERATOR("__ifloordiv__", div_(self, other, "floor"))
  VT_INPLACE_OPERATOR("__ipow__", pow_(self, other))
  VT_INPLACE_OPERATOR("__imod__", remainder_(self, other))
  VT_INPLACE_OPERATOR("__iand__", bitwise_and_(self, other))
  VT_INPLACE_OPERATOR("__ior__", bitwise_or_(self, other))
  VT_INPLACE_OPERATOR("__ixor__", bitwise_xor_(self, other))
#undef VT_INPLACE_OPERATOR
  cls.def("__matmul__", [](const Tensor& a, nb::handle b) -> nb::object {
    if (!nb::isinstance<Tensor>(b)) return nb::borrow(Py_NotImplemented);
    return nb::cast(matmul(a, *nb::inst_ptr<Tensor>(b)));
  });
  cls.def("__neg__", [](const Tensor& a) { return neg(a); })
      .def("__pos__", [](const Tensor& a) {
        VT_CHECK(a.dtype() != ScalarType::Bool, "Positive, the `+` operator, on a bool tensor is not supported.");
        return a;
      })
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

  bind_both(cls, m, "amax", [](const Tensor& t, nb::handle dim, bool keepdim) {
    return amax(t, dims_from_python(dim, "amax"), keepdim);
  }, nb::arg("dim").none() = nb::tuple(), nb::arg("keepdim") = false);
  bind_both(cls, m, "amin", [](const Tensor& t, nb::handle dim, bool keepdim) {
    return amin(t, dims_from_python(dim, "amin"), keepdim);
  }, nb::arg("dim").none() = nb::tuple(), nb::arg("keepdim") = false);
  bind_both(cls, m, "logsumexp", [](const Tensor& t, nb::handle dim, bool keepdim) {
    return logsumexp(t, dims_from_python(dim, "logsumexp"), keepdim);
  }, nb::arg("dim"), nb::arg("keepdim") = false);
  bind_both(cls, m, "softmax", [](const Tensor& t, int64_t dim, OptDType dtype) { return softmax(t, dim, unwrap(dtype)); },
            nb::arg("dim"), nb::arg("dtype").none() = nb::none());
  bind_both(cls, m, "log_softmax", [](const Tensor& t, int64_t dim, OptDType dtype) {
    return log_softmax(t, dim, unwrap(dtype));
  }, nb::arg("dim"), nb::arg("dtype").none() = nb::none());

  // ---- linear algebra
  bind_both(cls, m, "mm", [](const Tensor& a, const Tensor& b) { return mm(a, b); }, nb::arg("mat2"));
  bind_both(cls, m, "bmm", [](const Tensor& a, const Tensor& b) { return bmm(a, b); }, nb::arg("mat2"));
  bind_both(cls, m, "matmul", [](const Tensor& a, const Tensor& b) { return matmul(a, b); }, nb::arg("other"));
  // ---- indexing by index tensors
  bind_both(cls, m, "gather", [](const Tensor& t, int64_t dim, const Tensor& index, bool) { return gather(t, dim, index); },
            nb::arg("dim"), nb::arg("index"), nb::kw_only(), nb::arg("sparse_grad") = false);
  bind_both(cls, m, "scatter_add", [](const Tensor& t, int64_t dim, const Tensor& index, const Tensor& src) {
    return scatter_add(t, dim, index, src);
  }, nb::arg("dim"), nb::arg("index"), nb::arg("src"));
  cls.def("scatter_add_", [](nb::handle self, int64_t dim, const Tensor& index, const Tensor& src) {
    const Tensor& t = *nb::inst_ptr<Tensor>(self);
    copy_(t, scatter_add(t, dim, index, src));
    return nb::borrow(self);
  }, nb::arg("dim"), nb::arg("index"), nb::arg("src"));
  bind_both(cls, m, "index_select", [](const Tensor& t, int64_t dim, const Tensor& index) { return index_select(t, dim, index); },
            nb::arg("dim"), nb::arg("index"));
  bind_both(cls, m, "index_add", [](const Tensor& t, int64_t dim, const Tensor& index, const Tensor& source, Scalar alpha) {
    return index_add(t, dim, index, source, alpha);
  }, nb::arg("dim"), nb::arg("index"), nb::arg("source"), nb::kw_only(), nb::arg("alpha") = 1);
  cls.def("index_add_", [](nb::handle self, int64_t dim, const Tensor& index, const Tensor& source, Scalar alpha) {
    const Tensor& t = *nb::inst_ptr<Tensor>(self);
    copy_(t, index_add(t, dim, index, source, alpha));
    return nb::borrow(self);
  }, nb::arg("dim"), nb::arg("index"), nb::arg("source"), nb::kw_only(), nb::arg("alpha") = 1);
  bind_both(cls, m, "masked_fill", [](const Tensor& t, const Tensor& mask, nb::handle value) {
    auto v = optional_scalar(value, "masked_fill", "value");
    VT_CHECK_TYPE(v.has_value(), "masked_fill(): argument 'value' must be Number");
    return masked_fill(t, mask, *v);
  }, nb::arg("mask"), nb::arg("value"));
  cls.def("masked_fill_", [](nb::handle self, const Tensor& mask, nb::handle value) {
    const Tensor& t = *nb::inst_ptr<Tensor>(self);
    auto v = optional_scalar(value, "masked_fill_", "value");
    VT_CHECK_TYPE(v.has_value(), "masked_fill_(): argument 'value' must be Number");
    copy_(t, masked_fill(t, mask, *v));
    return nb::borrow(self);
  }, nb::arg("mask"), nb::arg("value"));

  // ---- variance
  auto correction_of = [](nb::handle unbiased, nb::handle correction) -> Scalar {
    if (!correction.is_none()) return *optional_scalar(correction, "var", "correction");
    if (!unbiased.is_none()) return nb::cast<bool>(unbiased) ? 1 : 0;
    return 1;
  };
  bind_both(cls, m, "var", [correction_of](const Tensor& t, nb::handle dim, nb::handle unbiased, bool keepdim, nb::handle correction) {
    return var(t, dims_from_python(dim, "var"), correction_of(unbiased, correction), keepdim);
  }, nb::arg("dim").none() = nb::none(), nb::arg("unbiased").none() = true, nb::arg("keepdim") = false,
     nb::kw_only(), nb::arg("correction").none() = nb::none());
  bind_both(cls, m, "std", [correction_of](const Tensor& t, nb::handle dim, nb::handle unbiased, bool keepdim, nb::handle correction) {
    return sqrt(var(t, dims_from_python(dim, "std"), correction_of(unbiased, correction), keepdim));
  }, nb::arg("dim").none() = nb::none(), nb::arg("unbiased").none() = true, nb::arg("keepdim") = false,
     nb::kw_only(), nb::arg("correction").none() = nb::none());
  m.def("var_mean", [correction_of](const Tensor& t, nb::handle dim, nb::handle unbiased, bool keepdim, nb::handle correction) {
    OptionalDims dims = dims_from_python(dim, "var_mean");
    return nb::make_tuple(var(t, dims, correction_of(unbiased, correction), keepdim), mean(t, dims, keepdim));
  }, nb::arg("input"), nb::arg("dim").none() = nb::none(), nb::arg("unbiased").none() = true,
     nb::arg("keepdim") = false, nb::kw_only(), nb::arg("correction").none() = nb::none());

  // ---- composites
  auto dims_of = [](nb::handle h, const char* op) {
    OptionalDims dims = dims_from_python(h, op);
    return dims.value_or(std::vector<int64_t>{});
  };
  bind_both(cls, m, "addmm", [](const Tensor& t, const Tensor& a, const Tensor& b, Scalar beta, Scalar alpha) {
    return addmm(t, a, b, beta, alpha);
  }, nb::arg("mat1"), nb::arg("mat2"), nb::kw_only(), nb::arg("beta") = 1, nb::arg("alpha") = 1);
  bind_both(cls, m, "baddbmm", [](const Tensor& t, const Tensor& a, const Tensor& b, Scalar beta, Scalar alpha) {
    return baddbmm(t, a, b, beta, alpha);
  }, nb::arg("batch1"), nb::arg("batch2"), nb::kw_only(), nb::arg("beta") = 1, nb::arg("alpha") = 1);
  bind_both(cls, m, "outer", [](const Tensor& a, const Tensor& b) { return outer(a, b); }, nb::arg("vec2"));
  m.attr("ger") = m.attr("outer");
  bind_both(cls, m, "dot", [](const Tensor& a, const Tensor& b) { return dot(a, b); }, nb::arg("tensor"));
  bind_both(cls, m, "triu", [](const Tensor& a, int64_t d) { return triu(a, d); }, nb::arg("diagonal") = 0);
  bind_both(cls, m, "tril", [](const Tensor& a, int64_t d) { return tril(a, d); }, nb::arg("diagonal") = 0);
  cls.def("repeat", [](const Tensor& t, nb::args sizes) { return repeat(t, sizes_from_args(sizes, "repeat")); });
  m.def("flip", [dims_of](const Tensor& t, nb::handle dims) { return flip(t, dims_of(dims, "flip")); }, nb::arg("input"),
        nb::arg("dims"));
  cls.def("flip", [](const Tensor& t, nb::args dims) { return flip(t, sizes_from_args(dims, "flip")); });
  bind_both(cls, m, "movedim", [dims_of](const Tensor& t, nb::handle source, nb::handle destination) {
    return movedim(t, dims_of(source, "movedim"), dims_of(destination, "movedim"));
  }, nb::arg("source"), nb::arg("destination"));
  m.attr("moveaxis") = m.attr("movedim");
  bind_both(cls, m, "any", [](const Tensor& t, nb::handle dim, bool keepdim) {
    return any(t, dims_from_python(dim, "any"), keepdim);
  }, nb::arg("dim").none() = nb::none(), nb::arg("keepdim") = false);
  bind_both(cls, m, "all", [](const Tensor& t, nb::handle dim, bool keepdim) {
    return all(t, dims_from_python(dim, "all"), keepdim);
  }, nb::arg("dim").none() = nb::none(), nb::arg("keepdim") = false);
  bind_both(cls, m, "count_nonzero", [](const Tensor& t, nb::handle dim) {
    return count_nonzero(t, dims_from_python(dim, "count_nonzero"));
  }, nb::arg("dim").none() = nb::none());

  // ---- joining and splitting
  auto tensor_list = [](nb::handle seq, const char* op) {
    std::vector<Tensor> tensors;
    VT_CHECK_TYPE(PyList_Check(seq.ptr()) || PyTuple_Check(seq.ptr()), op,
                  "(): argument 'tensors' must be tuple of Tensors, not ", nb::type_name(seq.type()).c_str());
    for (nb::handle item : nb::borrow<nb::sequence>(seq)) tensors.push_back(tensor_arg(item, op, "tensors"));
    return tensors;
  };
  m.def("cat", [tensor_list](nb::handle tensors, int64_t dim) { return cat(tensor_list(tensors, "cat"), dim); },
        nb::arg("tensors"), nb::arg("dim") = 0);
  m.attr("concat") = m.attr("cat");
  m.attr("concatenate") = m.attr("cat");
  m.def("stack", [tensor_list](nb::handle tensors, int64_t dim) { return stack(tensor_list(tensors, "stack"), dim); },
        nb::arg("tensors"), nb::arg("dim") = 0);
  auto as_tuple = [](const std::vector<Tensor>& parts) {
    nb::list out;
    for (const Tensor& t : parts) out.append(nb::cast(t));
    return nb::tuple(out);
  };
  auto split_any = [as_tuple](const Tensor& t, nb::handle split, int64_t dim) {
    if (PyList_Check(split.ptr()) || PyTuple_Check(split.ptr())) {
      return as_tuple(split_with_sizes(t, nb::cast<std::vector<int64_t>>(split), dim));
    }
    return as_tuple(vt::split(t, nb::cast<int64_t>(split), dim));
  };
  // torch names the argument split_size on the method and split_size_or_sections on the function.
  cls.def("split", split_any, nb::arg("split_size"), nb::arg("dim") = 0);
  m.def("split", split_any, nb::arg("tensor"), nb::arg("split_size_or_sections"), nb::arg("dim") = 0);
  bind_both(cls, m, "chunk", [as_tuple](const Tensor& t, int64_t chunks, int64_t dim) { return as_tuple(chunk(t, chunks, dim)); },
            nb::arg("chunks"), nb::arg("dim") = 0);
  bind_both(cls, m, "unbind", [as_tuple](const Tensor& t, int64_t dim) { return as_tuple(unbind(t, dim)); },
            nb::arg("dim") = 0);

  nb::module_ nn = m.def_submodule("_nn", "torch.nn.functional's activations, bound from C++");
  bind_nn_functional(nn);
  // torch.native_layer_norm: the output with the row means and reciprocal standard deviations.
  m.def("native_layer_norm", [](const Tensor& x, std::vector<int64_t> shape, std::optional<Tensor> w,
                                std::optional<Tensor> b, double eps) { return native_layer_norm(x, shape, w, b, eps); },
        nb::arg("input"), nb::arg("normalized_shape"), nb::arg("weight").none(), nb::arg("bias").none(), nb::arg("eps"));
  // torch.ops.aten's fused CPU attention, for tests and for code that calls it directly.
  m.def("_scaled_dot_product_flash_attention_for_cpu",
        [](const Tensor& q, const Tensor& k, const Tensor& v, double dropout_p, bool is_causal,
           std::optional<Tensor> attn_mask, std::optional<double> scale) {
          return _scaled_dot_product_flash_attention_for_cpu(q, k, v, dropout_p, is_causal, attn_mask, scale);
        },
        nb::arg("query"), nb::arg("key"), nb::arg("value"), nb::arg("dropout_p") = 0.0, nb::arg("is_causal") = false,
        nb::kw_only(), nb::arg("attn_mask").none() = nb::none(), nb::arg("scale").none() = nb::none());
  return cls;
}

}  // namespace vt::python
