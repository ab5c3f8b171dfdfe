// Derivatives of the view and shape ops: reshape-like views send the gradient back through
// the inverse reshape; selecting views embed it into zeros of the input's shape.
#include "vt/autograd/record.h"

namespace vt::autograd {
namespace {

// Records `node_name` on a view op's result with a backward of the form grad -> input grad.
// Views are linear: the tangent of the result is the same view of the input's tangent.
template <class Forward, class Backward>
Tensor record_view(const Tensor& self, const char* node_name, Forward&& forward, Backward backward) {
  Tensor out = below_autograd([&] { return forward(self); });
  if (has_tangent(self)) set_tangent(out, below_autograd([&] { return forward(tangent_of(self)); }));
  if (!self.requires_grad()) return out;
  set_history(out, make_node(node_name, {&self}, [backward](FunctionNode&, const TensorList& g) {
    return TensorList{backward(g[0])};
  }));
  return out;
}

// The input gradient of a selecting view: zeros, with `grad` written where the view looked.
template <class ViewOf>
Tensor embed(const Tensor& grad, const DimVector& sizes, ViewOf view_of) {
  VT_CHECK_KIND(!(is_grad_enabled() && grad.requires_grad()), ErrorKind::NotImplemented,
                "double backward through indexing views (select, slice, narrow, diagonal, unfold) is not supported yet");
  Tensor input_grad = zeros(sizes, grad.dtype(), grad.device());
  below_autograd([&] { return copy_(view_of(input_grad), grad); });
  return input_grad;
}

Tensor view_grad(const Tensor& self, IntArrayRef size) {
  return record_view(self, "ViewBackward0", [&](const Tensor& x) { return view(x, size); },
                     [sizes = DimVector(self.sizes())](const Tensor& g) { return reshape(g, sizes); });
}
Tensor reshape_grad(const Tensor& self, IntArrayRef size) {
  Tensor out = below_autograd([&] { return reshape(self, size); });
  if (has_tangent(self)) set_tangent(out, below_autograd([&] { return reshape(tangent_of(self), size); }));
  if (!self.requires_grad()) return out;
  // torch names the node after what reshape did: a view, or a copy.
  const char* name = out.storage() == self.storage() ? "ViewBackward0" : "UnsafeViewBackward0";
  set_history(out, make_node(name, {&self}, [sizes = DimVector(self.sizes())](FunctionNode&, const TensorList& g) {
    return TensorList{reshape(g[0], sizes)};
  }));
  return out;
}
Tensor permute_grad(const Tensor& self, IntArrayRef dims) {
  std::vector<int64_t> inverse(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) inverse[wrap_dim(dims[i], self.dim())] = static_cast<int64_t>(i);
  return record_view(self, "PermuteBackward0", [&](const Tensor& x) { return permute(x, dims); },
                     [inverse](const Tensor& g) { return permute(g, inverse); });
}
Tensor transpose_grad(const Tensor& self, int64_t dim0, int64_t dim1) {
  return record_view(self, "TransposeBackward0", [&](const Tensor& x) { return transpose(x, dim0, dim1); },
                     [dim0, dim1](const Tensor& g) { return transpose(g, dim0, dim1); });
}
Tensor t_grad(const Tensor& self) {
  return record_view(self, "TBackward0", [&](const Tensor& x) { return t(x); }, [](const Tensor& g) { return t(g); });
}
Tensor expand_grad(const Tensor& self, IntArrayRef size) {
  return record_view(self, "ExpandBackward0", [&](const Tensor& x) { return expand(x, size); },
                     [sizes = DimVector(self.sizes())](const Tensor& g) { return sum_to(g, sizes); });
}
Tensor squeeze_grad(const Tensor& self, OptionalDims dims) {
  const char* name = !dims || dims->empty() ? "SqueezeBackward0" : dims->size() == 1 ? "SqueezeBackward1" : "SqueezeBackward2";
  return record_view(self, name, [&](const Tensor& x) { return squeeze(x, dims); },
                     [sizes = DimVector(self.sizes())](const Tensor& g) { return reshape(g, sizes); });
}
Tensor unsqueeze_grad(const Tensor& self, int64_t dim) {
  return record_view(self, "UnsqueezeBackward0", [&](const Tensor& x) { return unsqueeze(x, dim); },
                     [sizes = DimVector(self.sizes())](const Tensor& g) { return reshape(g, sizes); });
}
Tensor slice_grad(const Tensor& self, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> end, int64_t step) {
  return record_view(self, "SliceBackward0", [&](const Tensor& x) { return slice(x, dim, start, end, step); },
                     [sizes = DimVector(self.sizes()), dim, start, end, step](const Tensor& g) {
                       return embed(g, sizes, [&](const Tensor& z) { return slice(z, dim, start, end, step); });
                     });
}
Tensor select_grad(const Tensor& self, int64_t dim, int64_t index) {
  return record_view(self, "SelectBackward0", [&](const Tensor& x) { return select(x, dim, index); },
                     [sizes = DimVector(self.sizes()), dim, index](const Tensor& g) {
                       return embed(g, sizes, [&](const Tensor& z) { return select(z, dim, index); });
                     });
}
Tensor diagonal_grad(const Tensor& self, int64_t offset, int64_t dim1, int64_t dim2) {
  return record_view(self, "DiagonalBackward0", [&](const Tensor& x) { return diagonal(x, offset, dim1, dim2); },
                     [sizes = DimVector(self.sizes()), offset, dim1, dim2](const Tensor& g) {
                       return embed(g, sizes, [&](const Tensor& z) { return diagonal(z, offset, dim1, dim2); });
                     });
}
Tensor unfold_grad(const Tensor& self, int64_t dimension, int64_t size, int64_t step) {
  return record_view(self, "UnfoldBackward0", [&](const Tensor& x) { return unfold(x, dimension, size, step); },
                     [sizes = DimVector(self.sizes()), dimension, size, step](const Tensor& g) {
    VT_CHECK_KIND(!(is_grad_enabled() && g.requires_grad()), ErrorKind::NotImplemented,
                  "double backward through unfold is not supported yet");
    Tensor input_grad = zeros(sizes, g.dtype(), g.device());
    if (sizes.empty()) return add(input_grad, sum(g));
    int64_t d = wrap_dim(dimension, static_cast<int64_t>(sizes.size()));
    // Windows overlap when step < size: add each window's gradient into its slice.
    std::vector<int64_t> order;  // moves the window axis (last) back to position d
    for (int64_t i = 0; i < static_cast<int64_t>(sizes.size()); ++i) order.push_back(i < d ? i : (i == d ? g.dim() - 2 : i - 1));
    below_autograd([&] {
      for (int64_t w = 0; w < g.size(d); ++w) {
        Tensor window = permute(select(g, d, w), order);
        add_(slice(input_grad, d, w * step, w * step + size, 1), window);
      }
      return input_grad;
    });
    return input_grad;
  });
}
// as_strided may read an element several times, or elements outside the input's view of the
// storage: the gradient is accumulated per storage element, then read back through the
// input's own geometry.
Tensor as_strided_grad(const Tensor& self, IntArrayRef size, IntArrayRef stride, std::optional<int64_t> storage_offset) {
  auto forward = [&](const Tensor& x) { return as_strided(x, size, stride, storage_offset); };
  Tensor out = below_autograd([&] { return forward(self); });
  forward_tangent(out, {&self}, [&] {
    VT_CHECK_KIND(is_non_overlapping_and_dense(self) && self.storage_offset() == 0 && self.is_contiguous(),
                  ErrorKind::NotImplemented, "as_strided(): forward-mode AD needs a contiguous input at offset 0");
    return forward(contiguous(tangent_of(self)));
  });
  if (!self.requires_grad()) return out;
  int64_t storage_elements = static_cast<int64_t>(self.storage()->nbytes() / self.itemsize());
  set_history(out, make_node("AsStridedBackward0", {&self},
                             [input_sizes = DimVector(self.sizes()), input_strides = DimVector(self.strides()),
                              input_offset = self.storage_offset(), out_sizes = DimVector(out.sizes()),
                              out_strides = DimVector(out.strides()), out_offset = out.storage_offset(),
                              storage_elements](FunctionNode&, const TensorList& g) {
    VT_CHECK_KIND(!(is_grad_enabled() && g[0].requires_grad()), ErrorKind::NotImplemented,
                  "double backward through as_strided is not supported yet");
    VT_CHECK_KIND(g[0].device().is_cpu(), ErrorKind::NotImplemented, "as_strided backward runs on the CPU only for now");
    Tensor grad = contiguous(to(g[0], ScalarType::Float64));
    Tensor storage_grad = zeros(std::vector<int64_t>{storage_elements}, ScalarType::Float64);
    double* target = storage_grad.data<double>();
    const double* source = grad.data<double>();
    // Walk every element of the output: add its gradient at its storage position.
    int64_t count = grad.numel();
    DimVector index(out_sizes.size(), 0);
    for (int64_t i = 0; i < count; ++i) {
      int64_t position = out_offset;
      for (size_t d = 0; d < index.size(); ++d) position += index[d] * out_strides[d];
      target[position] += source[i];
      for (int64_t d = static_cast<int64_t>(index.size()) - 1; d >= 0; --d) {
        if (++index[d] < out_sizes[d]) break;
        index[d] = 0;
      }
    }
    Tensor input_grad = as_strided(storage_grad, input_sizes, input_strides, input_offset);
    return TensorList{to(contiguous(input_grad), g[0].dtype())};
  }));
  return out;
}

// The views of split and unbind as outputs of one node: `join` turns the parts' gradients
// (zeros for parts that got none) into self's gradient.
template <class Forward, class Join>
std::vector<Tensor> record_parts(const Tensor& self, const char* node_name, Forward&& forward, Join join) {
  std::vector<Tensor> parts = below_autograd([&] { return forward(self); });
  if (has_tangent(self)) {
    std::vector<Tensor> tangents = below_autograd([&] { return forward(tangent_of(self)); });
    for (size_t i = 0; i < parts.size(); ++i) set_tangent(parts[i], tangents[i]);
  }
  if (!self.requires_grad()) return parts;
  std::vector<DimVector> shapes;
  for (const Tensor& p : parts) shapes.emplace_back(p.sizes());
  auto node = make_node(node_name, {&self}, [join, shapes](FunctionNode&, const TensorList& g) {
    std::vector<Tensor> grads;
    for (size_t i = 0; i < shapes.size(); ++i) {
      grads.push_back(i < g.size() && g[i].defined() ? g[i] : Tensor());
    }
    const Tensor* any = nullptr;
    for (const Tensor& grad : grads) {
      if (grad.defined()) any = &grad;
    }
    if (!any) return TensorList{Tensor()};
    for (size_t i = 0; i < grads.size(); ++i) {
      if (!grads[i].defined()) grads[i] = zeros(shapes[i], any->dtype(), any->device());
    }
    return TensorList{join(grads)};
  });
  for (const Tensor& p : parts) set_history(p, node);
  return parts;
}

std::vector<Tensor> split_grad(const Tensor& self, int64_t split_size, int64_t dim) {
  return record_parts(self, "SplitBackward0", [&](const Tensor& x) { return split(x, split_size, dim); },
                      [dim](const std::vector<Tensor>& g) { return cat(g, dim); });
}
std::vector<Tensor> split_with_sizes_grad(const Tensor& self, IntArrayRef sizes, int64_t dim) {
  return record_parts(self, "SplitWithSizesBackward0", [&](const Tensor& x) { return split_with_sizes(x, sizes, dim); },
                      [dim](const std::vector<Tensor>& g) { return cat(g, dim); });
}
std::vector<Tensor> unbind_grad(const Tensor& self, int64_t dim) {
  return record_parts(self, "UnbindBackward0", [&](const Tensor& x) { return unbind(x, dim); },
                      [dim](const std::vector<Tensor>& g) { return stack(g, dim); });
}

}  // namespace

VT_REGISTRATION(shape_autograd) {
  register_autograd("view", &view_grad);
  register_autograd("reshape", &reshape_grad);
  register_autograd("permute", &permute_grad);
  register_autograd("transpose.int", &transpose_grad);
  register_autograd("t", &t_grad);
  register_autograd("expand", &expand_grad);
  register_autograd("squeeze.dims", &squeeze_grad);
  register_autograd("unsqueeze", &unsqueeze_grad);
  register_autograd("slice.Tensor", &slice_grad);
  register_autograd("select.int", &select_grad);
  register_autograd("split.Tensor", &split_grad);
  register_autograd("split_with_sizes", &split_with_sizes_grad);
  register_autograd("unbind.int", &unbind_grad);
  register_autograd("diagonal", &diagonal_grad);
  register_autograd("unfold", &unfold_grad);
  register_autograd("as_strided", &as_strided_grad);
  // flatten, unflatten and narrow are composed of reshape, view and slice.
}

}  // namespace vt::autograd
