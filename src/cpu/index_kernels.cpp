// CPU kernels of the indexing ops that move data by an index tensor: gather, scatter_add,
// index_select and index_add. Each walks the index tensor with a multi-index counter; every
// index is bounds-checked (IndexError, as torch raises) before it is used.
#include <cstring>

#include "vt/dispatch.h"
#include "vt/ops.h"
#include "vt/parallel.h"

namespace vt::cpu {
namespace {

void check_index_tensor(const Tensor& index, const char* op) {
  VT_CHECK(index.dtype() == ScalarType::Int64, op, "(): Expected dtype int64 for index");
}

// Index tensors do not wrap negative values (unlike Python indexing), as in torch. torch
// raises RuntimeError from gather/scatter and IndexError from index_select/index_add.
int64_t checked_index(int64_t i, int64_t size, int64_t dim, const char* op, ErrorKind kind = ErrorKind::Runtime) {
  VT_CHECK_KIND(i >= 0 && i < size, kind, op, "(): index ", i, " is out of bounds for dimension ", dim, " with size ", size);
  return i;
}

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
  check_index_tensor(index, "gather");
  int64_t d = wrap_dim(dim, self.dim());
  VT_CHECK(index.dim() == self.dim() || (self.dim() == 0 && index.dim() <= 1),
           "Index tensor must have the same number of dimensions as input tensor");
  for (int64_t k = 0; k < index.dim(); ++k) {
    VT_CHECK(k == d || index.sizes()[k] <= self.sizes()[k], "Size does not match at dimension ", k,
             " expected index ", shape_str(index.sizes()), " to be no larger than self ", shape_str(self.sizes()),
             " apart from dimension ", d);
  }
  Tensor out = empty(index.sizes(), self.dtype(), self.device());
  int64_t size = self.dim() == 0 ? 1 : self.sizes()[d];
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

enum class ScatterMode { Assign, Sum, Prod, Mean, Amax, Amin };

ScatterMode scatter_mode(std::string_view reduce) {
  if (reduce == "sum") return ScatterMode::Sum;
  if (reduce == "prod") return ScatterMode::Prod;
  if (reduce == "mean") return ScatterMode::Mean;
  if (reduce == "amax" || reduce == "max") return ScatterMode::Amax;  // torch takes max/min too
  if (reduce == "amin" || reduce == "min") return ScatterMode::Amin;
  fail(ErrorKind::Runtime, "reduce argument must be either sum, prod, mean, amax or amin, got ", reduce);
}

// A copy of self with src's values combined into it at `index` along `dim`. With
// include_self false, each written element starts from the first value scattered into it.
Tensor scatter_cpu(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src, ScatterMode mode,
                   bool include_self, const char* op) {
  check_index_tensor(index, op);
  int64_t d = wrap_dim(dim, self.dim());
  VT_CHECK(src.dtype() == self.dtype(), op, "(): Expected self.dtype to be equal to src.dtype");
  VT_CHECK(index.dim() == self.dim() && (src.dim() == self.dim() || index.numel() == 0),
           "Index tensor must have the same number of dimensions as self tensor");
  for (int64_t k = 0; k < index.dim(); ++k) {
    // Every index position must exist in src, and (off `dim`) in self: no read or write past them.
    VT_CHECK(index.sizes()[k] <= src.sizes()[k] && (k == d || index.sizes()[k] <= self.sizes()[k]),
             "Expected index ", shape_str(index.sizes()), " to be no larger than self ", shape_str(self.sizes()),
             " apart from dimension ", d, " and to be no larger size than src ", shape_str(src.sizes()));
  }
  Tensor out = contiguous(clone(self));
  int64_t size = self.dim() == 0 ? 1 : self.sizes()[d];
  bool tracks_first = !include_self || mode == ScatterMode::Mean;
  std::vector<int64_t> counts(tracks_first ? out.numel() : 0, include_self ? 1 : 0);
  dispatch_all_types(self.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    T* dst = out.data<T>();
    const T* values = src.data<T>();
    const int64_t* idx = index.data<int64_t>();
    auto combine = [&](C a, C b) -> C {
      switch (mode) {
        case ScatterMode::Assign: return b;
        case ScatterMode::Sum: case ScatterMode::Mean:
          if constexpr (std::is_same_v<T, bool>) return a || b; else return a + b;
        case ScatterMode::Prod:
          if constexpr (std::is_same_v<T, bool>) return a && b; else return a * b;
        case ScatterMode::Amax: return (b > a || b != b) ? b : a;  // NaN propagates
        case ScatterMode::Amin: return (b < a || b != b) ? b : a;
      }
      return b;
    };
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
      dst[target] = static_cast<T>(first ? value : combine(static_cast<C>(dst[target]), value));
      if (tracks_first) ++counts[target];
    });
    if (mode == ScatterMode::Mean) {
      for (int64_t k = 0; k < out.numel(); ++k) {
        if (counts[k] <= 1) continue;
        if constexpr (std::is_floating_point_v<C>) {
          dst[k] = static_cast<T>(static_cast<C>(dst[k]) / static_cast<C>(counts[k]));
        } else if constexpr (!std::is_same_v<T, bool>) {
          // torch floors the integer mean
          C q = static_cast<C>(dst[k] / static_cast<C>(counts[k]));
          if ((dst[k] % static_cast<C>(counts[k]) != 0) && ((dst[k] < 0) != (counts[k] < 0))) --q;
          dst[k] = static_cast<T>(q);
        }
      }
    }
  });
  return out;
}

Tensor scatter_add_cpu(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  VT_CHECK(self.dtype() != ScalarType::Bool, "scatter_add(): \"scatter_add\" not implemented for 'Bool'");
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
  VT_CHECK(index.dtype() == ScalarType::Int64 || index.dtype() == ScalarType::Int32,
           "index_select(): Expected dtype int32/int64 for index");
  VT_CHECK(index.dim() <= 1, "index_select(): Index is supposed to be a vector");
  int64_t d = wrap_dim(dim, self.dim());
  Tensor idx = checked_positions(index, self.dim() == 0 ? 1 : self.sizes()[d], d, "index_select", ErrorKind::Index);
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
  VT_CHECK_INDEX(index.dim() <= 1, "index_add_(): Index is supposed to be a vector");
  VT_CHECK(index.dtype() == ScalarType::Int64 || index.dtype() == ScalarType::Int32,
           "index_add_(): Expected dtype int32/int64 for index");
  VT_CHECK(source.dtype() == self.dtype(), "index_add_(): self (", dtype_short_name(self.dtype()), ") and source (",
           dtype_short_name(source.dtype()), ") must have the same scalar type");
  int64_t d = wrap_dim(dim, self.dim());
  VT_CHECK(source.dim() == 0 || source.size(d) == index.numel(), "index_add_(): Number of indices (", index.numel(),
           ") should be equal to source.size(dim) (", source.dim() == 0 ? 1 : source.size(d), ")");
  for (int64_t k = 0; k < source.dim(); ++k) {
    VT_CHECK(k == d || source.sizes()[k] == self.sizes()[k], "index_add_(): source and self must match in every ",
             "dimension but ", d, ": self ", shape_str(self.sizes()), ", source ", shape_str(source.sizes()));
  }
  Tensor idx = checked_positions(index, self.dim() == 0 ? 1 : self.sizes()[d], d, "index_add",
                                 self.dim() <= 1 ? ErrorKind::Index : ErrorKind::Runtime);  // as torch
  Tensor out = contiguous(clone(self));
  DimVector source_shape(self.sizes());
  if (self.dim() > 0) source_shape[d] = idx.numel();
  Tensor values = contiguous(source.dim() == 0 && self.dim() > 0 ? expand(source, source_shape) : source);
  Slabs dst = slabs_of(out.sizes(), d);
  int64_t n = idx.numel();
  const int64_t* ids = idx.data<int64_t>();
  dispatch_all_types(self.dtype(), "index_add", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    // alpha converts to the dtype, as torch does (1.5 adds an int64 source once).
    C scale = static_cast<C>(alpha.to_double());
    if constexpr (std::is_same_v<C, bool>) scale = alpha.to_double() != 0;
    else if constexpr (std::is_integral_v<C>) scale = static_cast<C>(alpha.to_int());
    T* o = out.data<T>();
    const T* v = values.data<T>();
    // Outer rows are independent; within a row, repeated positions add up in order.
    parallel_for(0, dst.outer, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        for (int64_t k = 0; k < n; ++k) {
          T* target = o + (r * dst.size + ids[k]) * dst.inner;
          const T* piece = v + (r * n + k) * dst.inner;
          for (int64_t j = 0; j < dst.inner; ++j) {
            target[j] = static_cast<T>(static_cast<C>(target[j]) + scale * static_cast<C>(piece[j]));
          }
        }
      }
    });
  });
  return out;
}

// self with source's slices written at `index` along `dim` (a copy; index_copy_ writes it back).
Tensor index_copy_cpu(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source) {
  VT_CHECK(index.dtype() == ScalarType::Int64, "index_copy_(): Expected a long tensor for index, but got ",
           dtype_short_name(index.dtype()));
  VT_CHECK(source.dtype() == self.dtype(), "index_copy_(): self and source expected to have the same dtype, but got ",
           "(self) ", dtype_short_name(self.dtype()), " and (source) ", dtype_short_name(source.dtype()));
  VT_CHECK_INDEX(index.dim() <= 1, "index_copy_(): Index should have dimension 1 or 0 (got ", index.dim(), ")");
  int64_t d = wrap_dim(dim, self.dim());
  VT_CHECK_INDEX(source.dim() == 0 || source.size(d) == index.numel(), "index_copy_(): Number of indices (", index.numel(),
           ") should be equal to source.size(dim) (", source.dim() == 0 ? 1 : source.size(d), ")");
  for (int64_t k = 0; k < source.dim(); ++k) {
    VT_CHECK(k == d || source.sizes()[k] == self.sizes()[k], "index_copy_(): Source/destination tensor must have ",
             "same slice shapes. Destination slice shape: ", shape_str(self.sizes()), ", source slice shape: ",
             shape_str(source.sizes()), " (they differ in dimension ", k, ")");
  }
  Tensor idx = contiguous(reshape(index, std::vector<int64_t>{-1}));
  Tensor out = clone(self);
  int64_t size = self.dim() == 0 ? 1 : self.sizes()[d];
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
