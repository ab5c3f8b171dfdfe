// CPU kernels of the indexing ops that move data by an index tensor: gather, scatter_add,
// index_select and index_add. Each walks the index tensor with a multi-index counter; every
// index is bounds-checked (IndexError, as torch raises) before it is used. The argument
// rules and the element arithmetic are shared with the CUDA kernels (src/ops/index_rules.h).
#include <cstring>

#include "src/ops/index_rules.h"
#include "vt/dispatch.h"
#include "vt/ops.h"
#include "vt/parallel.h"

namespace vt::cpu {
namespace {

using namespace index_rules;

// Calls fn(offset_in_index_tensor_layout, coordinates) for every element of `shape`.
template <class Fn>
void for_each_coordinate(IntArrayRef shape, Fn fn) {
  int64_t count = 1;
  for (int64_t s : shape) count *= s;
  if (count == 0) return;
  DimVector coord(shape.size(), 0);
  for (int64_t n = 0; n < count; ++n) {
    fn(coord);
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
      if (++coord[d] < shape[d]) break;
      coord[d] = 0;
    }
  }
}

int64_t offset_of(const DimVector& coord, IntArrayRef strides) {
  int64_t offset = 0;
  for (size_t d = 0; d < coord.size(); ++d) offset += coord[d] * strides[d];
  return offset;
}

// out[...i...] = self[... index[...i...] ...] along `dim`.
Tensor gather_cpu(const Tensor& self, int64_t dim, const Tensor& index) {
  int64_t d = check_gather(self, dim, index);
  Tensor out = empty(index.sizes(), self.dtype(), self.device());
  int64_t size = indexed_size(self, d);
  dispatch_all_types(self.dtype(), "gather", [&](auto tag) {
    using T = decltype(tag);
    const T* src = self.data<T>();
    T* dst = out.data<T>();
    const int64_t* idx = index.data<int64_t>();
    for_each_coordinate(index.sizes(), [&](DimVector& coord) {
      int64_t i = checked_index(idx[offset_of(coord, index.strides())], size, d, "gather");
      int64_t out_offset = offset_of(coord, out.strides());
      if (self.dim() == 0) {
        dst[out_offset] = src[0];
        return;
      }
      int64_t original = coord[d];
      coord[d] = i;
      dst[out_offset] = src[offset_of(coord, self.strides())];
      coord[d] = original;
    });
  });
  return out;
}

// A copy of self with src's values combined into it at `index` along `dim`. With
// include_self false, each written element starts from the first value scattered into it.
Tensor scatter_cpu(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src, ScatterMode mode,
                   bool include_self, const char* op) {
  int64_t d = check_scatter(self, dim, index, src, op);
  Tensor out = contiguous(clone(self));
  int64_t size = indexed_size(self, d);
  bool tracks_first = !include_self || mode == ScatterMode::Mean;
  std::vector<int64_t> counts(tracks_first ? out.numel() : 0, include_self ? 1 : 0);
  dispatch_all_types(self.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    T* dst = out.data<T>();
    const T* values = src.data<T>();
    const int64_t* idx = index.data<int64_t>();
    for_each_coordinate(index.sizes(), [&](DimVector& coord) {
      int64_t i = checked_index(idx[offset_of(coord, index.strides())], size, d, op);
      C value = static_cast<C>(values[offset_of(coord, src.strides())]);
      int64_t target;
      if (self.dim() == 0) {
        target = 0;
      } else {
        int64_t original = coord[d];
        coord[d] = i;
        target = offset_of(coord, out.strides());
        coord[d] = original;
      }
      bool first = tracks_first && counts[target] == 0;
      dst[target] = static_cast<T>(first ? value : scatter_combine<T>(mode, static_cast<C>(dst[target]), value));
      if (tracks_first) ++counts[target];
    });
    if (mode == ScatterMode::Mean) {
      for (int64_t k = 0; k < out.numel(); ++k) dst[k] = scatter_mean(dst[k], counts[k]);
    }
  });
  return out;
}

Tensor scatter_add_cpu(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  check_scatter_add_dtype(self);
  return scatter_cpu(self, dim, index, src, ScatterMode::Sum, true, "scatter_add");
}
Tensor scatter_src_cpu(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  return scatter_cpu(self, dim, index, src, ScatterMode::Assign, true, "scatter");
}
Tensor scatter_reduce_cpu(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src,
                          std::string_view reduce, bool include_self) {
  return scatter_cpu(self, dim, index, src, scatter_mode(reduce), include_self, "scatter_reduce");
}

// The coordinates of the nonzero elements, one row each, in row-major order.
Tensor nonzero_cpu(const Tensor& self) {
  Tensor input = contiguous(self);
  int64_t ndim = self.dim();
  Tensor out;
  dispatch_all_types(self.dtype(), "nonzero", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    const T* x = input.data<T>();
    int64_t n = input.numel(), count = 0;
    for (int64_t k = 0; k < n; ++k) count += static_cast<C>(x[k]) != C(0);
    out = empty_tensor(std::vector<int64_t>{count, ndim}, ScalarType::Int64, self.device());
    int64_t* row = out.data<int64_t>();
    DimVector coord(ndim, 0);
    for (int64_t k = 0; k < n; ++k) {
      if (static_cast<C>(x[k]) != C(0)) {
        for (int64_t j = 0; j < ndim; ++j) *row++ = coord[j];
      }
      for (int64_t j = ndim - 1; j >= 0; --j) {
        if (++coord[j] < input.sizes()[j]) break;
        coord[j] = 0;
      }
    }
  });
  return out;
}

// A contiguous tensor as [outer, size, inner] around `dim`: slice k of dim d is the
// `inner` elements at outer * size * inner + k * inner.
struct Slabs {
  int64_t outer = 1, size = 1, inner = 1;
};
Slabs slabs_of(IntArrayRef sizes, int64_t d) {
  Slabs s;
  if (sizes.empty()) return s;
  for (int64_t k = 0; k < d; ++k) s.outer *= sizes[k];
  s.size = sizes[d];
  for (size_t k = d + 1; k < sizes.size(); ++k) s.inner *= sizes[k];
  return s;
}

// The positions as int64, every one checked before anything is written. (torch raises
// IndexError from index_select and 1-D index_add, RuntimeError from other index_add.)
Tensor checked_positions(const Tensor& index, int64_t size, int64_t d, const char* op, ErrorKind kind) {
  Tensor idx = contiguous(to(reshape(index, std::vector<int64_t>{-1}), ScalarType::Int64));
  const int64_t* ids = idx.data<int64_t>();
  for (int64_t k = 0; k < idx.numel(); ++k) checked_index(ids[k], size, d, op, kind);
  return idx;
}

Tensor index_select_cpu(const Tensor& self, int64_t dim, const Tensor& index) {
  int64_t d = check_index_select(self, dim, index);
  Tensor idx = checked_positions(index, indexed_size(self, d), d, "index_select", ErrorKind::Index);
  if (self.dim() == 0) return clone(self);
  Tensor input = contiguous(self);
  DimVector shape(self.sizes());
  shape[d] = idx.numel();
  Tensor out = empty_tensor(shape, self.dtype(), self.device());
  Slabs in = slabs_of(input.sizes(), d);
  int64_t n = idx.numel(), bytes = in.inner * static_cast<int64_t>(itemsize(self.dtype()));
  const int64_t* ids = idx.data<int64_t>();
  const char* src = static_cast<const char*>(input.impl()->data());
  char* dst = static_cast<char*>(out.impl()->data());
  parallel_for(0, in.outer * n, std::max<int64_t>(1, 65536 / std::max<int64_t>(bytes, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      int64_t o = r / n, k = r % n;
      std::memcpy(dst + r * bytes, src + (o * in.size + ids[k]) * bytes, bytes);
    }
  });
  return out;
}

// self with source's slices added at `index` along `dim` (a copy; index_add_ writes it back).
Tensor index_add_cpu(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha) {
  int64_t d = check_index_add(self, dim, index, source);
  Tensor idx = checked_positions(index, indexed_size(self, d), d, "index_add", index_add_error_kind(self));
  Tensor out = contiguous(clone(self));
  DimVector source_shape(self.sizes());
  if (self.dim() > 0) source_shape[d] = idx.numel();
  Tensor values = contiguous(source.dim() == 0 && self.dim() > 0 ? expand(source, source_shape) : source);
  Slabs dst = slabs_of(out.sizes(), d);
  int64_t n = idx.numel();
  const int64_t* ids = idx.data<int64_t>();
  dispatch_all_types(self.dtype(), "index_add", [&](auto tag) {
    using T = decltype(tag);
    const compute_t<T> scale = index_add_scale<T>(alpha);
    T* o = out.data<T>();
    const T* v = values.data<T>();
    // Outer rows are independent; within a row, repeated positions add up in order.
    parallel_for(0, dst.outer, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        for (int64_t k = 0; k < n; ++k) {
          T* target = o + (r * dst.size + ids[k]) * dst.inner;
          const T* piece = v + (r * n + k) * dst.inner;
          for (int64_t j = 0; j < dst.inner; ++j) target[j] = index_add_element(target[j], scale, piece[j]);
        }
      }
    });
  });
  return out;
}

// self with source's slices written at `index` along `dim` (a copy; index_copy_ writes it back).
Tensor index_copy_cpu(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source) {
  int64_t d = check_index_copy(self, dim, index, source);
  Tensor idx = contiguous(reshape(index, std::vector<int64_t>{-1}));
  Tensor out = clone(self);
  int64_t size = indexed_size(self, d);
  const int64_t* ids = idx.data<int64_t>();
  for (int64_t k = 0; k < idx.numel(); ++k) {
    int64_t i = checked_index(ids[k], size, d, "index_copy", ErrorKind::Index);
    Tensor slot = self.dim() == 0 ? out : select(out, d, i);
    copy_(slot, source.dim() == 0 ? source : select(source, d, k));
  }
  return out;
}

}  // namespace

VT_REGISTRATION(index_cpu) {
  register_kernel("gather", DispatchKey::CPU, &gather_cpu);
  register_kernel("scatter_add", DispatchKey::CPU, &scatter_add_cpu);
  register_kernel("scatter.src", DispatchKey::CPU, &scatter_src_cpu);
  register_kernel("scatter_reduce.two", DispatchKey::CPU, &scatter_reduce_cpu);
  register_kernel("nonzero", DispatchKey::CPU, &nonzero_cpu);
  register_kernel("index_copy", DispatchKey::CPU, &index_copy_cpu);
  register_kernel("index_select", DispatchKey::CPU, &index_select_cpu);
  register_kernel("index_add", DispatchKey::CPU, &index_add_cpu);
}

}  // namespace vt::cpu
