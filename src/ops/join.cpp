// Joining and splitting: cat (a backend kernel with its derivative) and the composites built
// on it and on views (stack, split, chunk, unbind).
#include "vt/autograd/record.h"
#include "vt/ops.h"

namespace vt {

namespace {

// torch's cat checks: same rank (1-D empty tensors excepted), sizes equal off `dim`.
Tensor cat_kernel(std::span<const Tensor> tensors, int64_t dim) {
  VT_CHECK(!tensors.empty(), "torch.cat(): expected a non-empty list of Tensors");
  // Legacy behaviour kept by torch: 1-D empty tensors are skipped.
  std::vector<const Tensor*> parts;
  for (const Tensor& t : tensors) {
    if (!(t.dim() == 1 && t.numel() == 0)) parts.push_back(&t);
  }
  ScalarType type = tensors[0].dtype();
  for (const Tensor& t : tensors) type = promote_types(type, t.dtype());
  if (parts.empty()) return empty(std::vector<int64_t>{0}, type, tensors[0].device());
  const Tensor& first = *parts[0];
  VT_CHECK(first.dim() > 0, "zero-dimensional tensor (at position 0) cannot be concatenated");
  int64_t d = wrap_dim(dim, first.dim());
  DimVector shape(first.sizes());
  int64_t total = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Tensor& t = *parts[i];
    VT_CHECK(t.dim() == first.dim(), "Tensors must have same number of dimensions: got ", first.dim(), " and ", t.dim());
    VT_CHECK(t.device() == first.device(), "Expected all tensors to be on the same device, but found at least two "
             "devices, ", first.device().str(), " and ", t.device().str(), "!");
    for (int64_t k = 0; k < t.dim(); ++k) {
      VT_CHECK(k == d || t.sizes()[k] == shape[k], "Sizes of tensors must match except in dimension ", d,
               ". Expected size ", shape[k], " but got size ", t.sizes()[k], " for tensor number ", i, " in the list.");
    }
    total += t.sizes()[d];
  }
  shape[d] = total;
  Tensor out = empty(shape, type, first.device());
  int64_t offset = 0;
  for (const Tensor* t : parts) {
    copy_(narrow(out, d, offset, t->sizes()[d]), *t);
    offset += t->sizes()[d];
  }
  return out;
}

Tensor cat_grad(std::span<const Tensor> tensors, int64_t dim) {
  Tensor out = autograd::below_autograd([&] { return cat_kernel(tensors, dim); });
  bool needs_grad = false, has_tangent = false;
  for (const Tensor& t : tensors) {
    needs_grad = needs_grad || t.requires_grad();
    has_tangent = has_tangent || autograd::has_tangent(t);
  }
  std::vector<int64_t> sizes;  // along dim, 0 for skipped 1-D empty tensors
  int64_t d = out.dim() == 0 ? 0 : wrap_dim(dim, out.dim());
  for (const Tensor& t : tensors) sizes.push_back(t.dim() == 1 && t.numel() == 0 ? 0 : t.sizes()[d]);
  if (has_tangent) {
    std::vector<Tensor> tangents;
    for (const Tensor& t : tensors) tangents.push_back(autograd::tangent_or_zeros(t));
    autograd::set_tangent(out, autograd::below_autograd([&] { return cat_kernel(tangents, dim); }));
  }
  if (!needs_grad) return out;
  auto node = autograd::new_node<autograd::FunctionNode>("CatBackward0", [d, sizes](autograd::FunctionNode&,
                                                                                   const autograd::TensorList& g) {
    autograd::TensorList grads;
    int64_t offset = 0;
    for (int64_t size : sizes) {
      grads.push_back(size == 0 && g[0].dim() > 0 ? Tensor() : narrow(g[0], d, offset, size));
      offset += size;
    }
    return grads;
  });
  for (const Tensor& t : tensors) node->add_next_edge(autograd::gradient_edge(t));
  autograd::set_history(out, node);
  return out;
}

Tensor stack_composite(std::span<const Tensor> tensors, int64_t dim) {
  VT_CHECK(!tensors.empty(), "stack expects a non-empty TensorList");
  int64_t d = wrap_dim(dim, tensors[0].dim() + 1);
  std::vector<Tensor> expanded;
  for (size_t i = 0; i < tensors.size(); ++i) {
    VT_CHECK(std::equal(tensors[i].sizes().begin(), tensors[i].sizes().end(), tensors[0].sizes().begin(),
                        tensors[0].sizes().end()),
             "stack expects each tensor to be equal size, but got ", shape_str(tensors[0].sizes()), " at entry 0 and ",
             shape_str(tensors[i].sizes()), " at entry ", i);
    expanded.push_back(unsqueeze(tensors[i], d));
  }
  return cat(expanded, d);
}

// split and unbind return views of self (narrow and select). They are ops of their own so that
// autograd records one node for all the parts, whose backward joins the parts' gradients with
// one cat or stack (as torch's SplitBackward0 and UnbindBackward0 do) instead of writing each
// into a zero tensor of self's size.
std::vector<Tensor> split_kernel(const Tensor& self, int64_t split_size, int64_t dim) {
  VT_CHECK(self.dim() > 0, "split expects at least a 1-dimensional tensor");
  VT_CHECK(split_size >= 0, "split expects split_size be non-negative, but got split_size=", split_size);
  int64_t d = wrap_dim(dim, self.dim());
  int64_t size = self.sizes()[d];
  VT_CHECK(split_size > 0 || size == 0, "split_size can only be 0 if dimension size is 0, but got dimension size of ", size);
  std::vector<Tensor> parts;
  int64_t count = split_size == 0 ? 1 : std::max<int64_t>((size + split_size - 1) / split_size, 1);
  for (int64_t i = 0; i < count; ++i) {
    int64_t start = i * split_size;
    parts.push_back(narrow(self, d, start, std::min(split_size, size - start)));
  }
  return parts;
}

std::vector<Tensor> split_with_sizes_kernel(const Tensor& self, IntArrayRef sizes, int64_t dim) {
  int64_t d = wrap_dim(dim, self.dim());
  int64_t total = 0;
  for (int64_t s : sizes) {
    VT_CHECK(s >= 0, "split_with_sizes expects split_sizes have only non-negative entries, but got split_sizes=",
             shape_str(sizes));
    total += s;
  }
  VT_CHECK(total == self.sizes()[d], "split_with_sizes expects split_sizes to sum exactly to ", self.sizes()[d],
           " (input tensor's size at dimension ", d, "), but got split_sizes=", shape_str(sizes));
  std::vector<Tensor> parts;
  int64_t start = 0;
  for (int64_t s : sizes) {
    parts.push_back(narrow(self, d, start, s));
    start += s;
  }
  return parts;
}

std::vector<Tensor> unbind_kernel(const Tensor& self, int64_t dim) {
  VT_CHECK_INDEX(self.dim() > 0, "Dimension specified as 0 but tensor has no dimensions");
  int64_t d = wrap_dim(dim, self.dim());
  std::vector<Tensor> parts;
  for (int64_t i = 0; i < self.sizes()[d]; ++i) parts.push_back(select(self, d, i));
  return parts;
}

}  // namespace

VT_REGISTRATION(join_ops) {
  Registry& r = Registry::instance();
  r.define("cat(Tensor[] tensors, int dim=0) -> Tensor");
  r.define("stack(Tensor[] tensors, int dim=0) -> Tensor");
  register_kernel("cat", DispatchKey::CPU, &cat_kernel);
  register_kernel("cat", DispatchKey::CUDA, &cat_kernel);  // built from copies: serves every backend
  register_kernel("cat", DispatchKey::Autograd, &cat_grad);
  register_composite("stack", &stack_composite);
  r.define("split.Tensor(Tensor(a -> *) self, SymInt split_size, int dim=0) -> Tensor(a)[]");
  r.define("split_with_sizes(Tensor(a -> *) self, SymInt[] split_sizes, int dim=0) -> Tensor(a)[]");
  r.define("unbind.int(Tensor(a -> *) self, int dim=0) -> Tensor(a)[]");
  register_composite("split.Tensor", &split_kernel);
  register_composite("split_with_sizes", &split_with_sizes_kernel);
  register_composite("unbind.int", &unbind_kernel);
}

Tensor cat(std::span<const Tensor> tensors, int64_t dim) {
  static const TypedOp<Tensor(std::span<const Tensor>, int64_t)> op("cat");
  return op(tensors, dim);
}
Tensor stack(std::span<const Tensor> tensors, int64_t dim) {
  static const TypedOp<Tensor(std::span<const Tensor>, int64_t)> op("stack");
  return op(tensors, dim);
}

std::vector<Tensor> split(const Tensor& self, int64_t split_size, int64_t dim) {
  static const TypedOp<std::vector<Tensor>(const Tensor&, int64_t, int64_t)> op("split.Tensor");
  return op(self, split_size, dim);
}
std::vector<Tensor> split_with_sizes(const Tensor& self, IntArrayRef sizes, int64_t dim) {
  static const TypedOp<std::vector<Tensor>(const Tensor&, IntArrayRef, int64_t)> op("split_with_sizes");
  return op(self, sizes, dim);
}
std::vector<Tensor> unbind(const Tensor& self, int64_t dim) {
  static const TypedOp<std::vector<Tensor>(const Tensor&, int64_t)> op("unbind.int");
  return op(self, dim);
}

std::vector<Tensor> chunk(const Tensor& self, int64_t chunks, int64_t dim) {
  VT_CHECK(self.dim() > 0, "chunk expects at least a 1-dimensional tensor");
  VT_CHECK(chunks > 0, "chunk expects `chunks` to be greater than 0, got: ", chunks);
  int64_t size = self.sizes()[wrap_dim(dim, self.dim())];
  int64_t split_size = (size + chunks - 1) / chunks;
  if (split_size == 0 && size == 0) {
    std::vector<int64_t> sizes(chunks, 0);
    return split_with_sizes(self, sizes, dim);
  }
  return split(self, split_size, dim);
}

}  // namespace vt
