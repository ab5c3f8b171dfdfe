// Advanced indexing: indexing by tensors of positions or boolean masks (`x[idx]`,
// `x[mask] = v`) and the ops made of it (masked_select, masked_scatter, take,
// take_along_dim). Everything here except the two kernels it rests on (nonzero, index_copy)
// is composed of index_select / index_add / index_copy over a view of self in which the
// indexed dims are merged into one, so it is differentiable and serves every backend.
#include "vt/autograd/record.h"
#include "vt/ops.h"

namespace vt {

namespace {

using autograd::FunctionNode;
using autograd::TensorList;

// One advanced-indexing problem reduced to a single dim: `merged` is self (permuted when the
// indexed dims are not adjacent) with the indexed dims merged into dim `at`; `positions`
// are the merged positions, shaped like the broadcast index tensors.
struct MergedIndex {
  Tensor base;                 // self, with a size-1 dim inserted for each 0-dim boolean index
  std::vector<int64_t> inserted;  // those dims
  std::vector<int64_t> perm;   // base -> permuted (identity when the indexed dims are adjacent)
  DimVector permuted_sizes;
  Tensor merged;
  int64_t at = 0;
  Tensor positions;
  DimVector result_shape;      // sizes before `at`, the index shape, sizes after
};

[[noreturn]] void fail_index(const std::string& message) { fail(ErrorKind::Index, message); }

// Replaces masks by the positions of their true elements (one long tensor per mask dim) and
// integer indices by int64; a 0-dim mask inserts a size-1 dim (as torch does) indexed by
// [0] when true and [] when false.
std::vector<Tensor> normalize_indices(Tensor& base, std::vector<int64_t>& inserted, std::span<const Tensor> indices) {
  std::vector<Tensor> out;
  for (const Tensor& index : indices) {
    int64_t position = static_cast<int64_t>(out.size());
    if (!index.defined()) {
      out.emplace_back();
      continue;
    }
    ScalarType type = index.dtype();
    if (type == ScalarType::Int64 || type == ScalarType::Int32) {
      out.push_back(to(index, ScalarType::Int64, base.device()));
      continue;
    }
    if (type != ScalarType::Bool && type != ScalarType::UInt8) {
      fail_index("tensors used as indices must be long, int, byte or bool tensors");
    }
    if (index.dim() == 0) {
      base = unsqueeze(base, position);
      inserted.push_back(position);
      out.push_back(arange(0, index.item().to_int() != 0 ? 1 : 0, 1, ScalarType::Int64, base.device()));
      continue;
    }
    if (position + index.dim() > base.dim()) fail_index("too many indices for tensor of dimension " + std::to_string(base.dim()));
    for (int64_t j = 0; j < index.dim(); ++j) {
      if (index.size(j) != base.size(position + j)) {
        fail_index("The shape of the mask " + shape_str(index.sizes()) + " at index " + std::to_string(j) +
                   " does not match the shape of the indexed tensor " + shape_str(base.sizes()) + " at index " +
                   std::to_string(position + j));
      }
    }
    Tensor coordinates = nonzero(index);
    for (int64_t j = 0; j < index.dim(); ++j) out.push_back(select(coordinates, 1, j));
  }
  if (static_cast<int64_t>(out.size()) > base.dim()) {
    fail_index("too many indices for tensor of dimension " + std::to_string(base.dim()));
  }
  return out;
}

// Checks the range (IndexError, as torch) and wraps negative positions.
Tensor checked_positions(const Tensor& index, int64_t size, int64_t dim) {
  if (index.numel() == 0) return index;
  int64_t low = min(index).item().to_int(), high = max(index).item().to_int();
  if (high >= size) fail_index("index " + std::to_string(high) + " is out of bounds for dimension " + std::to_string(dim) + " with size " + std::to_string(size));
  if (low < -size) fail_index("index " + std::to_string(low) + " is out of bounds for dimension " + std::to_string(dim) + " with size " + std::to_string(size));
  if (low >= 0) return index;
  return where(lt(index, scalar_to_tensor(0)), add(index, scalar_to_tensor(size)), index);
}

MergedIndex merge_indexed_dims(const Tensor& self, std::span<const Tensor> raw_indices) {
  MergedIndex m;
  m.base = self;
  std::vector<Tensor> indices = normalize_indices(m.base, m.inserted, raw_indices);
  std::vector<int64_t> indexed;
  DimVector index_shape;
  for (size_t d = 0; d < indices.size(); ++d) {
    if (!indices[d].defined()) continue;
    indexed.push_back(static_cast<int64_t>(d));
    auto shape = broadcast_shapes(index_shape, indices[d].sizes());
    if (shape) {
      index_shape = *shape;
    } else {
      std::string all;
      for (const Tensor& t : indices) {
        if (t.defined()) all += (all.empty() ? "" : ", ") + shape_str(t.sizes());
      }
      fail_index("shape mismatch: indexing tensors could not be broadcast together with shapes " + all);
    }
  }
  VT_CHECK_INDEX(!indexed.empty(), "index(): expected at least one index tensor");
  bool adjacent = indexed.back() - indexed.front() + 1 == static_cast<int64_t>(indexed.size());
  int64_t ndim = m.base.dim();
  if (adjacent) {
    for (int64_t d = 0; d < ndim; ++d) m.perm.push_back(d);
    m.at = indexed.front();
  } else {
    m.perm = indexed;
    for (int64_t d = 0; d < ndim; ++d) {
      if (d >= static_cast<int64_t>(indices.size()) || !indices[d].defined()) m.perm.push_back(d);
    }
    m.at = 0;
  }
  Tensor permuted = adjacent ? m.base : permute(m.base, m.perm);
  m.permuted_sizes = DimVector(permuted.sizes());
  // Merged positions: row-major over the indexed dims' sizes.
  int64_t merged_size = 1;
  Tensor positions;
  for (auto it = indexed.rbegin(); it != indexed.rend(); ++it) {
    int64_t size = m.base.size(*it);
    Tensor p = checked_positions(expand(indices[*it], index_shape), size, *it);
    if (merged_size != 1) p = mul(p, scalar_to_tensor(merged_size));
    positions = positions.defined() ? add(positions, p) : p;
    merged_size *= size;
  }
  m.positions = positions;
  int64_t count = static_cast<int64_t>(indexed.size());
  DimVector merged_shape;
  for (int64_t d = 0; d < m.at; ++d) merged_shape.push_back(m.permuted_sizes[d]);
  merged_shape.push_back(merged_size);
  for (int64_t d = m.at + count; d < ndim; ++d) merged_shape.push_back(m.permuted_sizes[d]);
  m.merged = reshape(permuted, merged_shape);
  for (int64_t d = 0; d < m.at; ++d) m.result_shape.push_back(m.permuted_sizes[d]);
  for (int64_t s : index_shape) m.result_shape.push_back(s);
  for (int64_t d = m.at + count; d < ndim; ++d) m.result_shape.push_back(m.permuted_sizes[d]);
  return m;
}

Tensor flat(const Tensor& t) { return reshape(t, std::vector<int64_t>{-1}); }

Tensor index_composite(const Tensor& self, std::span<const Tensor> indices) {
  MergedIndex m = merge_indexed_dims(self, indices);
  return reshape(index_select(m.merged, m.at, flat(m.positions)), m.result_shape);
}

// The merged view with `values` written (or added) at the positions, folded back to self's layout.
Tensor index_put_composite(const Tensor& self, std::span<const Tensor> indices, const Tensor& values, bool accumulate) {
  VT_CHECK(values.dtype() == self.dtype(), "Index put requires the source and destination dtypes match, got ",
           dtype_short_name(self.dtype()), " for the destination and ", dtype_short_name(values.dtype()),
           " for the source.");
  MergedIndex m = merge_indexed_dims(self, indices);
  VT_CHECK(broadcast_shapes(values.sizes(), m.result_shape).has_value() &&
               values.dim() <= static_cast<int64_t>(m.result_shape.size()),
           "shape mismatch: value tensor of shape ", shape_str(values.sizes()),
           " cannot be broadcast to indexing result of shape ", shape_str(m.result_shape));
  DimVector merged_values_shape(m.merged.sizes());
  merged_values_shape[m.at] = m.positions.numel();
  Tensor merged_values = reshape(expand(values, m.result_shape), merged_values_shape);
  Tensor written = accumulate ? index_add(m.merged, m.at, flat(m.positions), merged_values)
                              : index_copy(m.merged, m.at, flat(m.positions), merged_values);
  Tensor out = reshape(written, m.permuted_sizes);
  if (m.at == 0 && m.perm.size() > 0) {
    std::vector<int64_t> inverse(m.perm.size());
    for (size_t i = 0; i < m.perm.size(); ++i) inverse[m.perm[i]] = static_cast<int64_t>(i);
    out = permute(out, inverse);
  }
  // Remove the dims that 0-dim masks inserted, latest first.
  for (auto it = m.inserted.rbegin(); it != m.inserted.rend(); ++it) out = squeeze(out, std::vector<int64_t>{*it});
  return out;
}

Tensor index_fill_composite(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& value) {
  VT_CHECK(value.dim() == 0, "index_fill_ only supports a 0-dimensional value tensor, but got tensor with ",
           value.dim(), " dimension(s).");
  VT_CHECK_INDEX(index.dim() <= 1, "index_fill_(): Index is supposed to be a vector");
  DimVector slices(self.sizes());
  if (self.dim() > 0) slices[wrap_dim(dim, self.dim())] = index.numel();
  return index_copy(self, dim, index, expand(to(value, self.dtype()), slices));
}

Tensor masked_select_composite(const Tensor& self, const Tensor& mask) {
  VT_CHECK(mask.dtype() == ScalarType::Bool, "masked_select: expected BoolTensor for mask");
  auto shape = broadcast_shapes(self.sizes(), mask.sizes());
  VT_CHECK(shape.has_value(), "The size of tensor a (", self.dim() ? self.size(-1) : 1, ") must match the size of ",
           "tensor b (", mask.dim() ? mask.size(-1) : 1, ") at non-singleton dimension");
  Tensor m = expand(mask, *shape);
  return index(expand(self, *shape), std::vector<Tensor>{m});
}

Tensor masked_scatter_composite(const Tensor& self, const Tensor& mask, const Tensor& source) {
  VT_CHECK(mask.dtype() == ScalarType::Bool, "masked_scatter_: expected BoolTensor for mask");
  VT_CHECK(source.dtype() == self.dtype(), "masked_scatter: expected self and source to have same dtypes but got ",
           dtype_short_name(self.dtype()), " and ", dtype_short_name(source.dtype()));
  auto shape = broadcast_shapes(self.sizes(), mask.sizes());
  VT_CHECK(shape.has_value() && DimVector(self.sizes()) == *shape, "masked_scatter: the mask ",
           shape_str(mask.sizes()), " must broadcast to self ", shape_str(self.sizes()));
  Tensor m = expand(mask, self.sizes());
  int64_t count = count_nonzero(m).item().to_int();
  VT_CHECK(source.numel() >= count, "masked_scatter: expected source to have at least ", count,
           " elements (the number of ones in mask), got ", source.numel());
  return index_put(self, std::vector<Tensor>{m}, narrow(flat(source), 0, 0, count), false);
}

Tensor take_composite(const Tensor& self, const Tensor& index) {
  VT_CHECK(index.dtype() == ScalarType::Int64, "take(): Expected a long tensor for index, but got ",
           dtype_short_name(index.dtype()));
  VT_CHECK_INDEX(self.numel() > 0 || index.numel() == 0, "take(): tried to take from an empty tensor");
  return vt::index(flat(self), std::vector<Tensor>{index});
}

Tensor take_along_dim_composite(const Tensor& self, const Tensor& indices, std::optional<int64_t> dim) {
  VT_CHECK(indices.dtype() == ScalarType::Int64, "torch.take_along_dim(): dtype of indices should be int64 but got ",
           dtype_short_name(indices.dtype()), " instead");
  if (!dim) return gather(flat(self), 0, flat(indices));
  VT_CHECK(self.dim() == indices.dim(), "torch.take_along_dim(): input and indices should have the same number of ",
           "dimensions, but got ", self.dim(), " dimensions for input, and ", indices.dim(), " dimensions for indices");
  int64_t d = wrap_dim(*dim, self.dim());
  // Every dim but `dim` broadcasts between self and indices.
  DimVector self_shape(self.sizes()), index_shape(indices.sizes());
  self_shape[d] = 1;
  index_shape[d] = 1;
  auto shape = broadcast_shapes(self_shape, index_shape);
  VT_CHECK(shape.has_value(), "torch.take_along_dim(): shapes ", shape_str(self.sizes()), " and ",
           shape_str(indices.sizes()), " cannot be broadcast outside dimension ", d);
  DimVector self_target = *shape, index_target = *shape;
  self_target[d] = self.size(d);
  index_target[d] = indices.size(d);
  return gather(expand(self, self_target), d, expand(indices, index_target));
}

// index_copy: grad_self is g with the written slices zeroed; grad_source is what was read there.
Tensor index_copy_grad(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source) {
  Tensor out = autograd::below_autograd([&] { return index_copy(self, dim, index, source); });
  autograd::forward_tangent(out, {&self, &source}, [&] {
    return index_copy(autograd::tangent_or_zeros(self), dim, index, autograd::tangent_or_zeros(source));
  });
  if (!autograd::any_requires_grad({&self, &source})) return out;
  auto node = autograd::make_node("IndexCopyBackward0", {&self, &source}, [dim, source_sizes = DimVector(source.sizes())](
                                                                             FunctionNode& n, const TensorList& g) {
    const Tensor& idx = n.saved(0);
    Tensor grad_self, grad_source;
    if (n.needs_input_grad(0)) grad_self = index_copy(g[0], dim, idx, zeros(source_sizes, g[0].dtype(), g[0].device()));
    if (n.needs_input_grad(1)) grad_source = reshape(index_select(g[0], dim, idx), source_sizes);
    return TensorList{grad_self, grad_source};
  });
  node->save(index);
  autograd::set_history(out, node);
  return out;
}

}  // namespace

VT_REGISTRATION(advanced_index_ops) {
  Registry& r = Registry::instance();
  r.define("nonzero(Tensor self) -> Tensor");
  r.define("index.Tensor(Tensor self, Tensor?[] indices) -> Tensor");
  r.define("index_put(Tensor self, Tensor?[] indices, Tensor values, bool accumulate=False) -> Tensor");
  r.define("index_copy(Tensor self, int dim, Tensor index, Tensor source) -> Tensor");
  r.define("index_fill.int_Tensor(Tensor self, int dim, Tensor index, Tensor value) -> Tensor");
  r.define("masked_select(Tensor self, Tensor mask) -> Tensor");
  r.define("masked_scatter(Tensor self, Tensor mask, Tensor source) -> Tensor");
  r.define("take(Tensor self, Tensor index) -> Tensor");
  r.define("take_along_dim(Tensor self, Tensor indices, int? dim=None) -> Tensor");
  register_composite("index.Tensor", &index_composite);
  register_composite("index_put", &index_put_composite);
  register_kernel("index_copy", DispatchKey::Autograd, &index_copy_grad);
  register_composite("index_fill.int_Tensor", &index_fill_composite);
  register_composite("masked_select", &masked_select_composite);
  register_composite("masked_scatter", &masked_scatter_composite);
  register_composite("take", &take_composite);
  register_composite("take_along_dim", &take_along_dim_composite);
}

Tensor nonzero(const Tensor& self) {
  static const TypedOp<Tensor(const Tensor&)> op("nonzero");
  return op(self);
}
Tensor index(const Tensor& self, std::span<const Tensor> indices) {
  static const TypedOp<Tensor(const Tensor&, std::span<const Tensor>)> op("index.Tensor");
  return op(self, indices);
}
Tensor index_put(const Tensor& self, std::span<const Tensor> indices, const Tensor& values, bool accumulate) {
  static const TypedOp<Tensor(const Tensor&, std::span<const Tensor>, const Tensor&, bool)> op("index_put");
  return op(self, indices, values, accumulate);
}
Tensor index_copy(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source) {
  static const TypedOp<Tensor(const Tensor&, int64_t, const Tensor&, const Tensor&)> op("index_copy");
  return op(self, dim, index, source);
}
Tensor index_fill(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& value) {
  static const TypedOp<Tensor(const Tensor&, int64_t, const Tensor&, const Tensor&)> op("index_fill.int_Tensor");
  return op(self, dim, index, value);
}
Tensor masked_select(const Tensor& self, const Tensor& mask) {
  static const TypedOp<Tensor(const Tensor&, const Tensor&)> op("masked_select");
  return op(self, mask);
}
Tensor masked_scatter(const Tensor& self, const Tensor& mask, const Tensor& source) {
  static const TypedOp<Tensor(const Tensor&, const Tensor&, const Tensor&)> op("masked_scatter");
  return op(self, mask, source);
}
Tensor take(const Tensor& self, const Tensor& index) {
  static const TypedOp<Tensor(const Tensor&, const Tensor&)> op("take");
  return op(self, index);
}
Tensor take_along_dim(const Tensor& self, const Tensor& indices, std::optional<int64_t> dim) {
  static const TypedOp<Tensor(const Tensor&, const Tensor&, std::optional<int64_t>)> op("take_along_dim");
  return op(self, indices, dim);
}

}  // namespace vt
