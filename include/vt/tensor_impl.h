// TensorImpl: a strided view of a Storage. Sizes and strides are in elements; the storage
// offset too. Views share the storage (and through it the version counter).
#pragma once
#include <cstdint>
#include <memory>

#include "vt/dtype.h"
#include "vt/small_vector.h"
#include "vt/storage.h"

namespace vt {

namespace autograd {
struct AutogradMeta;
}

class TensorImpl : public RefCounted {
 public:
  TensorImpl(Storage storage, ScalarType dtype, IntArrayRef sizes, IntArrayRef strides,
             int64_t storage_offset);

  const Storage& storage() const { return storage_; }
  ScalarType dtype() const { return dtype_; }
  Device device() const { return storage_->device(); }
  IntArrayRef sizes() const { return sizes_; }
  IntArrayRef strides() const { return strides_; }
  int64_t dim() const { return static_cast<int64_t>(sizes_.size()); }
  int64_t numel() const { return numel_; }
  int64_t storage_offset() const { return storage_offset_; }
  bool is_contiguous() const { return is_contiguous_; }
  size_t itemsize() const { return vt::itemsize(dtype_); }

  // Address of element [0, 0, ...]; null for a tensor with no elements and no storage.
  void* data() const {
    return static_cast<char*>(storage_->data()) + storage_offset_ * static_cast<int64_t>(itemsize());
  }

  // Changes the geometry in place (used by views under construction and by `out=` resizing).
  void set_geometry(IntArrayRef sizes, IntArrayRef strides, int64_t storage_offset);
  // Takes another tensor's storage, dtype and geometry while keeping this tensor's autograd
  // identity (torch's `t.data = other`: modules convert their parameters in place with it).
  void set_data(const TensorImpl& other);

  // A 0-dim tensor made from a Python number: type promotion gives it the lowest priority.
  bool is_wrapped_number() const { return wrapped_number_; }
  void set_wrapped_number(bool value) { wrapped_number_ = value; }

  // Whether autograd tracks this tensor (a leaf asked for it, or it has a grad_fn). Kept
  // here as a flag because dispatch reads it on every call.
  bool requires_grad() const { return requires_grad_; }
  // Made by a view op from another tensor (not set by detach, which autograd treats apart).
  // `view_base` is the tensor at the root of the view chain, which autograd must rebase
  // when the view is written in place.
  bool is_view() const { return static_cast<bool>(view_base_); }
  const IntrusivePtr<TensorImpl>& view_base() const { return view_base_; }
  void set_view_base(IntrusivePtr<TensorImpl> base) { view_base_ = std::move(base); }
  void set_requires_grad(bool value) { requires_grad_ = value; }
  // Carries a forward-mode tangent (a dual tensor): its ops go through autograd too.
  bool has_tangent() const { return has_tangent_; }
  void set_has_tangent(bool value) { has_tangent_ = value; }
  const std::shared_ptr<autograd::AutogradMeta>& autograd_meta() const { return autograd_meta_; }
  void set_autograd_meta(std::shared_ptr<autograd::AutogradMeta> meta) { autograd_meta_ = std::move(meta); }

 private:
  void refresh_numel_and_contiguity();

  Storage storage_;
  std::shared_ptr<autograd::AutogradMeta> autograd_meta_;
  DimVector sizes_;
  DimVector strides_;
  int64_t storage_offset_ = 0;
  int64_t numel_ = 0;
  ScalarType dtype_;
  bool is_contiguous_ = true;
  bool wrapped_number_ = false;
  bool requires_grad_ = false;
  bool has_tangent_ = false;
  IntrusivePtr<TensorImpl> view_base_;
};

}  // namespace vt
