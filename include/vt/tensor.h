// Tensor: the handle every frontend holds. Copying it shares the TensorImpl (like torch's
// at::Tensor); operations live in vt/ops.h as free functions that go through the dispatcher.
#pragma once
#include <optional>
#include <string>

#include "vt/scalar.h"
#include "vt/tensor_impl.h"

namespace vt {

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(IntrusivePtr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return static_cast<bool>(impl_); }
  TensorImpl* impl() const { return impl_.get(); }
  const IntrusivePtr<TensorImpl>& impl_ptr() const { return impl_; }

  ScalarType dtype() const { return impl_->dtype(); }
  Device device() const { return impl_->device(); }
  IntArrayRef sizes() const { return impl_->sizes(); }
  IntArrayRef strides() const { return impl_->strides(); }
  // size(-1) is the last dimension; throws IndexError when out of range.
  int64_t size(int64_t dim) const;
  int64_t stride(int64_t dim) const;
  int64_t dim() const { return impl_->dim(); }
  int64_t numel() const { return impl_->numel(); }
  int64_t storage_offset() const { return impl_->storage_offset(); }
  bool is_contiguous() const { return impl_->is_contiguous(); }
  size_t itemsize() const { return impl_->itemsize(); }
  void* data_ptr() const { return impl_->data(); }
  template <class T>
  T* data() const { return static_cast<T*>(impl_->data()); }
  const Storage& storage() const { return impl_->storage(); }
  bool is_wrapped_number() const { return impl_->is_wrapped_number(); }
  bool requires_grad() const { return impl_->requires_grad(); }
  uint64_t version() const { return impl_->storage()->version(); }
  void bump_version() const { impl_->storage()->bump_version(); }

  // Value of a one-element tensor.
  Scalar item() const;
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }

 private:
  IntrusivePtr<TensorImpl> impl_;
};

// "[2, 3]", the form error messages use for shapes.
std::string shape_str(IntArrayRef sizes);
// Wraps a negative dim and checks the range, with torch's IndexError message.
int64_t wrap_dim(int64_t dim, int64_t ndim);
// Contiguous strides for `sizes`.
DimVector contiguous_strides(IntArrayRef sizes);
// Every element at its own address and no gaps: a permutation of a contiguous layout.
bool is_non_overlapping_and_dense(const Tensor& t);
// Product of sizes, checked for overflow.
int64_t checked_numel(IntArrayRef sizes, std::string_view op);
// The shape two shapes broadcast to, or nullopt when they do not broadcast.
std::optional<DimVector> broadcast_shapes(IntArrayRef a, IntArrayRef b);

}  // namespace vt

namespace vt {
// Raw allocation without dispatch, for kernels: contiguous, or with explicit strides.
Tensor empty_tensor(IntArrayRef sizes, ScalarType dtype, Device device = Device());
Tensor empty_strided_tensor(IntArrayRef sizes, IntArrayRef strides, ScalarType dtype, Device device = Device());
// A new TensorImpl over the same storage (a view); shares the version counter.
Tensor make_view(const Tensor& base, IntArrayRef sizes, IntArrayRef strides, int64_t storage_offset);
// The same geometry over the same storage, not marked as a view (detach, and fresh results
// that only change shape).
Tensor make_alias(const Tensor& base, IntArrayRef sizes, IntArrayRef strides, int64_t storage_offset);
}  // namespace vt
