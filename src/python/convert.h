// Conversions between Python objects and vibetensor values, shared by the binding files.
#pragma once
#include <nanobind/nanobind.h>

#include <optional>
#include <vector>

#include "vt/ops.h"

namespace vt::python {

namespace nb = nanobind;

// `vibetensor.dtype`: a handle on a ScalarType. One Python object exists per dtype, so
// `t.dtype is vibetensor.float32` holds, as in torch.
struct DType {
  ScalarType type;
};
nb::object dtype_object(ScalarType type);
void register_dtype_objects(nb::module_& m);

// A Python bool/int/float (or an object with __index__/__float__, such as a numpy scalar).
bool scalar_from_python(nb::handle h, Scalar& out);
nb::object scalar_to_python(const Scalar& s);

// The right-hand operand of a binary op: a Tensor is borrowed, a number becomes a wrapped
// 0-dim tensor (the lowest priority in type promotion). `valid` is false for anything else.
class Operand {
 public:
  explicit Operand(nb::handle h);
  bool valid() const { return ptr_ != nullptr; }
  const Tensor& get() const { return *ptr_; }

 private:
  const Tensor* ptr_ = nullptr;
  Tensor owned_;
};
// As Operand, but raises TypeError naming the op and argument when invalid.
Tensor operand_or_raise(nb::handle h, const char* op, const char* arg);

// An optional number argument (None, a number or a one-element tensor); TypeError otherwise.
std::optional<Scalar> optional_scalar(nb::handle h, const char* op, const char* arg);

// The named-tuple class vibetensor.return_types.<name> (looked up once per name).
nb::handle return_type(const char* name);

// Sizes from `f(2, 3)`, `f((2, 3))` or `f([2, 3])`.
std::vector<int64_t> sizes_from_args(const nb::args& args, const char* op);
// Dims from an int, a sequence of ints, or None.
OptionalDims dims_from_python(nb::handle h, const char* op);

// vibetensor.tensor(data): nested sequences of numbers, numpy arrays, tensors.
Tensor tensor_from_data(nb::handle data, std::optional<ScalarType> dtype, Device device);
// Zero-copy view of a numpy array (the array stays alive while the tensor does).
Tensor from_numpy(nb::handle array);
// Zero-copy numpy view of a CPU tensor.
nb::object to_numpy(const Tensor& t);
nb::object to_list(const Tensor& t);

}  // namespace vt::python

namespace nanobind::detail {
template <>
struct type_caster<vt::Scalar> {
  NB_TYPE_CASTER(vt::Scalar, const_name("Number"))
  bool from_python(handle src, uint8_t, cleanup_list*) noexcept { return vt::python::scalar_from_python(src, value); }
  static handle from_cpp(const vt::Scalar& s, rv_policy, cleanup_list*) noexcept {
    return vt::python::scalar_to_python(s).release();
  }
};
}  // namespace nanobind::detail
