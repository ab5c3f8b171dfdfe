// View and shape ops. Each result aliases its input's storage; only the geometry changes, so
// one implementation serves every backend.
#include <algorithm>
#include <numeric>

#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt {

namespace {

// Resolves a single -1 and checks the element count (torch's infer_size).
DimVector infer_size(IntArrayRef shape, int64_t numel) {
  DimVector result(shape);
  int64_t known = 1;
  std::optional<size_t> infer_dim;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == -1) {
      VT_CHECK(!infer_dim, "only one dimension can be inferred");
      infer_dim = d;
    } else {
      VT_CHECK(shape[d] >= 0, "invalid shape dimension ", shape[d]);
      known *= shape[d];
    }
  }
  if (infer_dim) {
    VT_CHECK(known != 0, "cannot reshape tensor of 0 elements into shape ", shape_str(shape),
             " because the unspecified dimension size -1 can be any value and is ambiguous");
    VT_CHECK(numel % known == 0, "shape '", shape_str(shape), "' is invalid for input of size ", numel);
    result[*infer_dim] = numel / known;
  } else {
    VT_CHECK(known == numel, "shape '", shape_str(shape), "' is invalid for input of size ", numel);
  }
  return result;
}

// Strides that let `new_shape` view memory laid out as (old_shape, old_strides), if any
// (torch's computeStride): dimensions may only be split or merged within contiguous chunks.
std::optional<DimVector> view_strides(IntArrayRef old_shape, IntArrayRef old_strides, IntArrayRef new_shape, int64_t numel) {
  if (old_shape.empty()) return DimVector(new_shape.size(), 1);
  if (numel == 0 && std::equal(old_shape.begin(), old_shape.end(), new_shape.begin(), new_shape.end())) {
    return DimVector(old_strides);
  }
  DimVector new_strides(new_shape.size());
  if (numel == 0) {
    for (int64_t d = static_cast<int64_t>(new_shape.size()) - 1; d >= 0; --d) {
      new_strides[d] = d == static_cast<int64_t>(new_shape.size()) - 1 ? 1 : std::max<int64_t>(new_shape[d + 1], 1) * new_strides[d + 1];
    }
    return new_strides;
  }
  int64_t view_d = static_cast<int64_t>(new_shape.size()) - 1;
  int64_t chunk_base_stride = old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t tensor_d = static_cast<int64_t>(old_shape.size()) - 1; tensor_d >= 0; --tensor_d) {
    tensor_numel *= old_shape[tensor_d];
    if (tensor_d == 0 || (old_shape[tensor_d - 1] != 1 && old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || new_shape[view_d] == 1)) {
        new_strides[view_d] = view_numel * chunk_base_stride;
        view_numel *= new_shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (tensor_d > 0) {
        chunk_base_stride = old_strides[tensor_d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return new_strides;
}

Tensor view_impl(const Tensor& self, IntArrayRef size) {
  DimVector shape = infer_size(size, self.numel());
  auto strides = view_strides(self.sizes(), self.strides(), shape, self.numel());
  VT_CHECK(strides.has_value(),
           "view size is not compatible with input tensor's size and stride (at least one dimension spans across two "
           "contiguous subspaces). Use .reshape(...) instead.");
  return make_view(self, shape, *strides, self.storage_offset());
}

Tensor reshape_impl(const Tensor& self, IntArrayRef size) {
  DimVector shape = infer_size(size, self.numel());
  if (auto strides = view_strides(self.sizes(), self.strides(), shape, self.numel())) {
    return make_view(self, shape, *strides, self.storage_offset());
  }
  Tensor copy = contiguous(self);
  return make_alias(copy, shape, contiguous_strides(shape), 0);
}

Tensor permute_impl(const Tensor& self, IntArrayRef dims) {
  int64_t ndim = self.dim();
  VT_CHECK(static_cast<int64_t>(dims.size()) == ndim,
           "permute(): number of dimensions in the tensor input does not match the length of the desired ordering of "
           "dimensions i.e. input.dim() = ", ndim, " is not equal to len(dims) = ", dims.size());
  DimVector sizes(ndim), strides(ndim);
  std::vector<bool> seen(ndim, false);
  for (int64_t i = 0; i < ndim; ++i) {
    int64_t d = wrap_dim(dims[i], ndim);
    VT_CHECK(!seen[d], "permute(): duplicate dims are not allowed.");
    seen[d] = true;
    sizes[i] = self.sizes()[d];
    strides[i] = self.strides()[d];
  }
  return make_view(self, sizes, strides, self.storage_offset());
}

Tensor transpose_impl(const Tensor& self, int64_t dim0, int64_t dim1) {
  int64_t ndim = self.dim();
  dim0 = wrap_dim(dim0, ndim);
  dim1 = wrap_dim(dim1, ndim);
  if (ndim == 0) return make_view(self, {}, {}, self.storage_offset());
  DimVector sizes(self.sizes()), strides(self.strides());
  std::swap(sizes[dim0], sizes[dim1]);
  std::swap(strides[dim0], strides[dim1]);
  return make_view(self, sizes, strides, self.storage_offset());
}

Tensor t_impl(const Tensor& self) {
  VT_CHECK(self.dim() <= 2, "t() expects a tensor with <= 2 dimensions, but self is ", self.dim(), "D");
  return self.dim() < 2 ? make_view(self, self.sizes(), self.strides(), self.storage_offset()) : transpose_impl(self, 0, 1);
}

Tensor expand_impl(const Tensor& self, IntArrayRef size) {
  int64_t ndim = static_cast<int64_t>(size.size());
  VT_CHECK(ndim >= self.dim(), "expand(", shape_str(self.sizes()), ", size=", shape_str(size),
           "): the number of sizes provided (", ndim, ") must be greater or equal to the number of dimensions in the "
           "tensor (", self.dim(), ")");
  DimVector sizes(ndim), strides(ndim);
  for (int64_t i = ndim - 1; i >= 0; --i) {
    int64_t offset = ndim - 1 - i;
    int64_t dim = self.dim() - 1 - offset;
    int64_t existing = dim >= 0 ? self.sizes()[dim] : 1;
    int64_t existing_stride = dim >= 0 ? self.strides()[dim] : 0;
    int64_t target = size[i];
    if (target == -1) {
      VT_CHECK(dim >= 0, "The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension ", i);
      target = existing;
    }
    if (existing == target) {
      strides[i] = existing_stride;
    } else {
      VT_CHECK(existing == 1, "The expanded size of the tensor (", target, ") must match the existing size (", existing,
               ") at non-singleton dimension ", i, ".  Target sizes: ", shape_str(size), ".  Tensor sizes: ",
               shape_str(self.sizes()));
      VT_CHECK(target >= 0, "expand(): invalid size ", target);
      strides[i] = 0;
    }
    sizes[i] = target;
  }
  return make_view(self, sizes, strides, self.storage_offset());
}

Tensor squeeze_impl(const Tensor& self, OptionalDims dims) {
  int64_t ndim = self.dim();
  std::vector<bool> drop(ndim, false);
  if (dims && !dims->empty()) {
    for (int64_t d : *dims) {
      int64_t w = wrap_dim(d, ndim);  // a 0-dim tensor accepts dim 0 and -1, and has nothing to drop
      if (ndim > 0) drop[w] = true;
    }
  } else {
    std::fill(drop.begin(), drop.end(), true);
  }
  DimVector sizes, strides;
  for (int64_t d = 0; d < ndim; ++d) {
    if (drop[d] && self.sizes()[d] == 1) continue;
    sizes.push_back(self.sizes()[d]);
    strides.push_back(self.strides()[d]);
  }
  return make_view(self, sizes, strides, self.storage_offset());
}

Tensor unsqueeze_impl(const Tensor& self, int64_t dim) {
  dim = wrap_dim(dim, self.dim() + 1);
  DimVector sizes(self.sizes()), strides(self.strides());
  int64_t stride = dim >= self.dim() ? 1 : sizes[dim] * strides[dim];
  sizes.insert(dim, 1);
  strides.insert(dim, stride);
  return make_view(self, sizes, strides, self.storage_offset());
}

Tensor flatten_impl(const Tensor& self, int64_t start_dim, int64_t end_dim) {
  int64_t ndim = self.dim();
  start_dim = wrap_dim(start_dim, ndim);
  end_dim = wrap_dim(end_dim, ndim);
  VT_CHECK(start_dim <= end_dim, "flatten() has invalid args: start_dim cannot come after end_dim");
  if (ndim == 0) return reshape(self, std::vector<int64_t>{1});
  if (start_dim == end_dim) return self;
  DimVector shape;
  for (int64_t d = 0; d < start_dim; ++d) shape.push_back(self.sizes()[d]);
  int64_t merged = 1;
  for (int64_t d = start_dim; d <= end_dim; ++d) merged *= self.sizes()[d];
  shape.push_back(merged);
  for (int64_t d = end_dim + 1; d < ndim; ++d) shape.push_back(self.sizes()[d]);
  return reshape(self, shape);
}

Tensor unflatten_impl(const Tensor& self, int64_t dim, IntArrayRef sizes) {
  dim = wrap_dim(dim, self.dim());
  VT_CHECK(!sizes.empty(), "unflatten: sizes must be non-empty");
  DimVector inferred = infer_size(sizes, self.size(dim));
  DimVector shape;
  for (int64_t d = 0; d < dim; ++d) shape.push_back(self.sizes()[d]);
  for (int64_t s : inferred) shape.push_back(s);
  for (int64_t d = dim + 1; d < self.dim(); ++d) shape.push_back(self.sizes()[d]);
  return view(self, shape);
}

Tensor slice_impl(const Tensor& self, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> end, int64_t step) {
  VT_CHECK(self.dim() > 0, "slice() cannot be applied to a 0-dim tensor.");
  dim = wrap_dim(dim, self.dim());
  VT_CHECK_VALUE(step > 0, "step must be greater than zero");
  int64_t size = self.sizes()[dim];
  // Python's slice clamping.
  int64_t lo = start.value_or(0), hi = end.value_or(size);
  if (lo < 0) lo += size;
  if (hi < 0) hi += size;
  lo = std::clamp<int64_t>(lo, 0, size);
  hi = std::clamp<int64_t>(hi, lo, size);
  DimVector sizes(self.sizes()), strides(self.strides());
  sizes[dim] = (hi - lo + step - 1) / step;
  strides[dim] *= step;
  return make_view(self, sizes, strides, self.storage_offset() + lo * self.strides()[dim]);
}

Tensor narrow_impl(const Tensor& self, int64_t dim, int64_t start, int64_t length) {
  VT_CHECK(self.dim() > 0, "narrow() cannot be applied to a 0-dim tensor.");
  dim = wrap_dim(dim, self.dim());
  int64_t size = self.sizes()[dim];
  VT_CHECK_INDEX(start >= -size && start <= size, "start out of range (expected to be in range of [", -size, ", ",
                 size, "], but got ", start, ")");
  if (start < 0) start += size;
  VT_CHECK(length >= 0, "narrow(): length must be non-negative.");
  VT_CHECK(start <= size - length, "start (", start, ") + length (", length, ") exceeds dimension size (", size, ").");
  return slice(self, dim, start, start + length, 1);
}

Tensor select_impl(const Tensor& self, int64_t dim, int64_t index) {
  VT_CHECK_INDEX(self.dim() > 0, "select() cannot be applied to a 0-dim tensor.");
  dim = wrap_dim(dim, self.dim());
  int64_t size = self.sizes()[dim];
  VT_CHECK_INDEX(index >= -size && index < size, "index ", index, " is out of bounds for dimension ", dim,
                 " with size ", size);
  if (index < 0) index += size;
  DimVector sizes(self.sizes()), strides(self.strides());
  int64_t offset = self.storage_offset() + index * strides[dim];
  sizes.erase(dim);
  strides.erase(dim);
  return make_view(self, sizes, strides, offset);
}

Tensor as_strided_impl(const Tensor& self, IntArrayRef size, IntArrayRef stride, std::optional<int64_t> storage_offset) {
  VT_CHECK(size.size() == stride.size(), "mismatch in length of strides and shape");
  int64_t offset = storage_offset.value_or(self.storage_offset());
  VT_CHECK(offset >= 0, "Tensor: invalid storage offset ", offset);
  int64_t extent = offset + 1;  // one past the last element reached, in elements
  for (size_t d = 0; d < size.size(); ++d) {
    VT_CHECK(size[d] >= 0, "Trying to create tensor with negative dimension ", size[d], ": ", shape_str(size));
    VT_CHECK(stride[d] >= 0, "as_strided: Negative strides are not supported at the moment, got strides: ", shape_str(stride));
    if (size[d] == 0) extent = 0;
    else if (extent > 0) extent += (size[d] - 1) * stride[d];
  }
  size_t needed = static_cast<size_t>(extent) * self.itemsize();
  VT_CHECK(extent == 0 || needed <= self.storage()->nbytes(), "setStorage: sizes ", shape_str(size), ", strides ",
           shape_str(stride), ", storage offset ", offset, ", and itemsize ", self.itemsize(), " requiring a storage size of ",
           needed, " are out of bounds for storage of size ", self.storage()->nbytes());
  return make_view(self, size, stride, offset);
}

Tensor diagonal_impl(const Tensor& self, int64_t offset, int64_t dim1, int64_t dim2) {
  int64_t ndim = self.dim();
  VT_CHECK(ndim >= 2, "diagonal(): expected a tensor with at least 2 dimensions, got ", ndim);
  dim1 = wrap_dim(dim1, ndim);
  dim2 = wrap_dim(dim2, ndim);
  VT_CHECK(dim1 != dim2, "diagonal dimensions cannot be identical ", dim1, ", ", dim2);
  int64_t start = self.storage_offset();
  int64_t length;
  if (offset >= 0) {
    length = std::max<int64_t>(std::min(self.sizes()[dim1], self.sizes()[dim2] - offset), 0);
    if (length > 0) start += offset * self.strides()[dim2];
  } else {
    length = std::max<int64_t>(std::min(self.sizes()[dim1] + offset, self.sizes()[dim2]), 0);
    if (length > 0) start -= offset * self.strides()[dim1];
  }
  DimVector sizes, strides;
  for (int64_t d = 0; d < ndim; ++d) {
    if (d == dim1 || d == dim2) continue;
    sizes.push_back(self.sizes()[d]);
    strides.push_back(self.strides()[d]);
  }
  sizes.push_back(length);
  strides.push_back(self.strides()[dim1] + self.strides()[dim2]);
  return make_view(self, sizes, strides, start);
}

Tensor unfold_impl(const Tensor& self, int64_t dimension, int64_t size, int64_t step) {
  int64_t ndim = self.dim();
  dimension = wrap_dim(dimension, ndim);
  int64_t dim_size = ndim == 0 ? 1 : self.sizes()[dimension];
  VT_CHECK(size <= dim_size, "maximum size for tensor at dimension ", dimension, " is ", dim_size, " but size is ", size);
  VT_CHECK(size >= 0, "size is ", size, " but must be >= 0");
  VT_CHECK(step > 0, "step is ", step, " but must be > 0");
  DimVector sizes(self.sizes()), strides(self.strides());
  if (ndim == 0) {
    sizes.push_back(size);
    strides.push_back(1);
    return make_view(self, sizes, strides, self.storage_offset());
  }
  sizes[dimension] = (dim_size - size) / step + 1;
  sizes.push_back(size);
  strides.push_back(self.strides()[dimension]);
  strides[dimension] *= step;
  return make_view(self, sizes, strides, self.storage_offset());
}

}  // namespace

VT_REGISTRATION(shape_ops) {
  Registry& r = Registry::instance();
  r.define("view(Tensor(a) self, SymInt[] size) -> Tensor(a)");
  r.define("reshape(Tensor(a) self, SymInt[] shape) -> Tensor(a)");
  r.define("permute(Tensor(a) self, int[] dims) -> Tensor(a)");
  r.define("transpose.int(Tensor(a) self, int dim0, int dim1) -> Tensor(a)");
  r.define("t(Tensor(a) self) -> Tensor(a)");
  r.define("expand(Tensor(a) self, SymInt[] size) -> Tensor(a)");
  r.define("squeeze.dims(Tensor(a) self, int[]? dim=None) -> Tensor(a)");
  r.define("unsqueeze(Tensor(a) self, int dim) -> Tensor(a)");
  r.define("flatten.using_ints(Tensor(a) self, int start_dim=0, int end_dim=-1) -> Tensor(a)");
  r.define("unflatten.int(Tensor(a) self, int dim, SymInt[] sizes) -> Tensor(a)");
  r.define("narrow(Tensor(a) self, int dim, SymInt start, SymInt length) -> Tensor(a)");
  r.define("select.int(Tensor(a) self, int dim, SymInt index) -> Tensor(a)");
  r.define("slice.Tensor(Tensor(a) self, int dim=0, SymInt? start=None, SymInt? end=None, SymInt step=1) -> Tensor(a)");
  r.define("as_strided(Tensor(a) self, SymInt[] size, SymInt[] stride, SymInt? storage_offset=None) -> Tensor(a)");
  r.define("diagonal(Tensor(a) self, int offset=0, int dim1=0, int dim2=1) -> Tensor(a)");
  r.define("unfold(Tensor(a) self, int dimension, int size, int step) -> Tensor(a)");
  register_composite("view", &view_impl);
  register_composite("reshape", &reshape_impl);
  register_composite("permute", &permute_impl);
  register_composite("transpose.int", &transpose_impl);
  register_composite("t", &t_impl);
  register_composite("expand", &expand_impl);
  register_composite("squeeze.dims", &squeeze_impl);
  register_composite("unsqueeze", &unsqueeze_impl);
  register_composite("flatten.using_ints", &flatten_impl);
  register_composite("unflatten.int", &unflatten_impl);
  register_composite("narrow", &narrow_impl);
  register_composite("select.int", &select_impl);
  register_composite("slice.Tensor", &slice_impl);
  register_composite("as_strided", &as_strided_impl);
  register_composite("diagonal", &diagonal_impl);
  register_composite("unfold", &unfold_impl);
}

Tensor view(const Tensor& self, IntArrayRef size) {
  static const TypedOp<Tensor(const Tensor&, IntArrayRef)> op("view");
  return op(self, size);
}
Tensor reshape(const Tensor& self, IntArrayRef size) {
  static const TypedOp<Tensor(const Tensor&, IntArrayRef)> op("reshape");
  return op(self, size);
}
Tensor permute(const Tensor& self, IntArrayRef dims) {
  static const TypedOp<Tensor(const Tensor&, IntArrayRef)> op("permute");
  return op(self, dims);
}
Tensor transpose(const Tensor& self, int64_t dim0, int64_t dim1) {
  static const TypedOp<Tensor(const Tensor&, int64_t, int64_t)> op("transpose.int");
  return op(self, dim0, dim1);
}
Tensor t(const Tensor& self) {
  static const TypedOp<Tensor(const Tensor&)> op("t");
  return op(self);
}
Tensor expand(const Tensor& self, IntArrayRef size) {
  static const TypedOp<Tensor(const Tensor&, IntArrayRef)> op("expand");
  return op(self, size);
}
Tensor squeeze(const Tensor& self, OptionalDims dims) {
  static const TypedOp<Tensor(const Tensor&, OptionalDims)> op("squeeze.dims");
  return op(self, std::move(dims));
}
Tensor unsqueeze(const Tensor& self, int64_t dim) {
  static const TypedOp<Tensor(const Tensor&, int64_t)> op("unsqueeze");
  return op(self, dim);
}
Tensor flatten(const Tensor& self, int64_t start_dim, int64_t end_dim) {
  static const TypedOp<Tensor(const Tensor&, int64_t, int64_t)> op("flatten.using_ints");
  return op(self, start_dim, end_dim);
}
Tensor unflatten(const Tensor& self, int64_t dim, IntArrayRef sizes) {
  static const TypedOp<Tensor(const Tensor&, int64_t, IntArrayRef)> op("unflatten.int");
  return op(self, dim, sizes);
}
Tensor narrow(const Tensor& self, int64_t dim, int64_t start, int64_t length) {
  static const TypedOp<Tensor(const Tensor&, int64_t, int64_t, int64_t)> op("narrow");
  return op(self, dim, start, length);
}
Tensor select(const Tensor& self, int64_t dim, int64_t index) {
  static const TypedOp<Tensor(const Tensor&, int64_t, int64_t)> op("select.int");
  return op(self, dim, index);
}
Tensor slice(const Tensor& self, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> end, int64_t step) {
  static const TypedOp<Tensor(const Tensor&, int64_t, std::optional<int64_t>, std::optional<int64_t>, int64_t)> op("slice.Tensor");
  return op(self, dim, start, end, step);
}
Tensor as_strided(const Tensor& self, IntArrayRef size, IntArrayRef stride, std::optional<int64_t> storage_offset) {
  static const TypedOp<Tensor(const Tensor&, IntArrayRef, IntArrayRef, std::optional<int64_t>)> op("as_strided");
  return op(self, size, stride, storage_offset);
}
Tensor diagonal(const Tensor& self, int64_t offset, int64_t dim1, int64_t dim2) {
  static const TypedOp<Tensor(const Tensor&, int64_t, int64_t, int64_t)> op("diagonal");
  return op(self, offset, dim1, dim2);
}
Tensor unfold(const Tensor& self, int64_t dimension, int64_t size, int64_t step) {
  static const TypedOp<Tensor(const Tensor&, int64_t, int64_t, int64_t)> op("unfold");
  return op(self, dimension, size, step);
}

}  // namespace vt
