// TensorImpl: a strided view of a Storage. Sizes and strides are in elements; the storage
// offset too. Views share the storage (and through it the version counter).
#pragma once
#include <cstdint>

#include "vt/dtype.h"
#include "vt/small_vector.h"
#include "vt/storage.h"

namespace vt {

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

  // A 0-dim tensor made from a Python number: type promotion gives it the lowest priority.
  bool is_wrapped_number() const { return wrapped_number_; }
  void set_wrapped_number(bool value) { wrapped_number_ = value; }

  bool requires_grad() const { return requires_grad_; }
  void set_requires_grad(bool value) { requires_grad_ = value; }

 private:
  void refresh_numel_and_contiguity();

  Storage storage_;
  DimVector sizes_;
  DimVector strides_;
  int64_t storage_offset_ = 0;
  int64_t numel_ = 0;
  ScalarType dtype_;
  bool is_contiguous_ = true;
  bool wrapped_number_ = false;
  bool requires_grad_ = false;
};

}  // namespace vt
