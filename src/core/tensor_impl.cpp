// TensorImpl geometry bookkeeping and the small Tensor helpers.
#include "vt/tensor_impl.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "vt/ops.h"
#include "vt/tensor.h"

namespace vt {

TensorImpl::TensorImpl(Storage storage, ScalarType dtype, IntArrayRef sizes, IntArrayRef strides,
                       int64_t storage_offset)
    : storage_(std::move(storage)), dtype_(dtype) {
  set_geometry(sizes, strides, storage_offset);
}

void TensorImpl::set_geometry(IntArrayRef sizes, IntArrayRef strides, int64_t storage_offset) {
  sizes_.assign(sizes.begin(), sizes.end());
  strides_.assign(strides.begin(), strides.end());
  storage_offset_ = storage_offset;
  refresh_numel_and_contiguity();
}

void TensorImpl::set_data(const TensorImpl& other) {
  storage_ = other.storage_;
  dtype_ = other.dtype_;
  set_geometry(other.sizes(), other.strides(), other.storage_offset());
}

void TensorImpl::refresh_numel_and_contiguity() {
  numel_ = 1;
  for (int64_t s : sizes_) numel_ *= s;
  // torch's rule: size-1 dims may have any stride; an empty tensor is contiguous.
  is_contiguous_ = true;
  if (numel_ == 0) return;
  int64_t expected = 1;
  for (int64_t d = dim() - 1; d >= 0; --d) {
    if (sizes_[d] == 1) continue;
    if (strides_[d] != expected) {
      is_contiguous_ = false;
      return;
    }
    expected *= sizes_[d];
  }
}

int64_t wrap_dim(int64_t dim, int64_t ndim) {
  int64_t rank = ndim > 0 ? ndim : 1;  // a 0-dim tensor accepts dim 0 and -1, as in torch
  VT_CHECK_INDEX(dim >= -rank && dim < rank, "Dimension out of range (expected to be in range of [",
                 -rank, ", ", rank - 1, "], but got ", dim, ")");
  return dim < 0 ? dim + rank : dim;
}

int64_t Tensor::size(int64_t d) const {
  if (dim() == 0) wrap_dim(d, 0);
  return dim() == 0 ? 1 : sizes()[wrap_dim(d, dim())];
}
int64_t Tensor::stride(int64_t d) const {
  if (dim() == 0) wrap_dim(d, 0);
  return dim() == 0 ? 1 : strides()[wrap_dim(d, dim())];
}

std::optional<DimVector> broadcast_shapes(IntArrayRef a, IntArrayRef b) {
  size_t ndim = std::max(a.size(), b.size());
  DimVector out(ndim, 1);
  for (size_t i = 0; i < ndim; ++i) {
    int64_t x = i < a.size() ? a[a.size() - 1 - i] : 1;
    int64_t y = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (x != y && x != 1 && y != 1) return std::nullopt;
    out[ndim - 1 - i] = x == 1 ? y : x;
  }
  return out;
}

std::string shape_str(IntArrayRef sizes) {
  std::string out = "[";
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(sizes[i]);
  }
  return out + "]";
}

DimVector contiguous_strides(IntArrayRef sizes) {
  DimVector strides(sizes.size());
  int64_t running = 1;
  for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
    strides[d] = running;
    running *= sizes[d] > 1 ? sizes[d] : 1;
  }
  return strides;
}

bool is_non_overlapping_and_dense(const Tensor& t) {
  if (t.is_contiguous()) return true;
  std::vector<std::pair<int64_t, int64_t>> dims;  // (stride, size) of the dims that move
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (t.sizes()[d] != 1) dims.emplace_back(t.strides()[d], t.sizes()[d]);
  }
  std::sort(dims.begin(), dims.end());
  int64_t expected = 1;
  for (auto [stride, size] : dims) {
    if (stride != expected) return false;
    expected *= size;
  }
  return true;
}

int64_t checked_numel(IntArrayRef sizes, std::string_view op) {
  int64_t numel = 1;
  for (int64_t s : sizes) {
    VT_CHECK(s >= 0, op, "(): Trying to create tensor with negative dimension ", s, ": ", shape_str(sizes));
    VT_CHECK(s == 0 || numel <= std::numeric_limits<int64_t>::max() / s, op,
             "(): the number of elements in shape ", shape_str(sizes), " overflows int64");
    numel *= s;
  }
  return numel;
}

Scalar Tensor::item() const {
  VT_CHECK(numel() == 1, "a Tensor with ", numel(), " elements cannot be converted to Scalar");
  if (!device().is_cpu()) return to(*this, std::nullopt, Device()).item();  // waits for the device, as in torch
  return dispatch_all_types(dtype(), "item", [&](auto tag) -> Scalar {
    using T = decltype(tag);
    T value = *data<T>();
    if constexpr (std::is_same_v<T, bool>) return Scalar(value);
    else if constexpr (std::is_integral_v<T>) return Scalar(static_cast<int64_t>(value));
    else return Scalar(static_cast<double>(static_cast<compute_t<T>>(value)));
  });
}

}  // namespace vt

namespace vt {

Tensor empty_tensor(IntArrayRef sizes, ScalarType dtype, Device device) {
  int64_t numel = checked_numel(sizes, "empty");
  Storage storage = make_storage(static_cast<size_t>(numel) * itemsize(dtype), device);
  return Tensor(IntrusivePtr<TensorImpl>::make(std::move(storage), dtype, sizes, contiguous_strides(sizes), 0));
}

Tensor empty_strided_tensor(IntArrayRef sizes, IntArrayRef strides, ScalarType dtype, Device device) {
  VT_CHECK(sizes.size() == strides.size(), "empty_strided(): mismatch in length of strides and shape");
  checked_numel(sizes, "empty_strided");
  int64_t extent = 1;  // elements spanned: 1 + sum((size - 1) * stride)
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == 0) {
      extent = 0;
      break;
    }
    VT_CHECK(strides[d] >= 0, "empty_strided(): negative strides are not supported");
    extent += (sizes[d] - 1) * strides[d];
  }
  Storage storage = make_storage(static_cast<size_t>(extent) * itemsize(dtype), device);
  return Tensor(IntrusivePtr<TensorImpl>::make(std::move(storage), dtype, sizes, strides, 0));
}

Tensor make_alias(const Tensor& base, IntArrayRef sizes, IntArrayRef strides, int64_t storage_offset) {
  return Tensor(IntrusivePtr<TensorImpl>::make(base.storage(), base.dtype(), sizes, strides, storage_offset));
}

Tensor make_view(const Tensor& base, IntArrayRef sizes, IntArrayRef strides, int64_t storage_offset) {
  Tensor view = make_alias(base, sizes, strides, storage_offset);
  view.impl()->set_view_base(base.impl()->is_view() ? base.impl()->view_base() : base.impl_ptr());
  return view;
}

}  // namespace vt
