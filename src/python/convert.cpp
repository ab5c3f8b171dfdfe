// Python <-> vibetensor conversions: numbers, dtypes, sizes, nested lists and numpy arrays.
#include "src/python/convert.h"

#include <map>
#include <string>

#include <nanobind/ndarray.h>

#include <array>
#include <cstring>

namespace vt::python {

namespace {
// Owned references that live for the whole process (never released at exit, when the
// interpreter may already be gone).
std::array<PyObject*, kNumScalarTypes> g_dtype_objects{};
}  // namespace

nb::object dtype_object(ScalarType type) {
  return nb::borrow(g_dtype_objects[static_cast<int>(type)]);
}

void register_dtype_objects(nb::module_& m) {
  for (int i = 0; i < kNumScalarTypes; ++i) {
    auto type = static_cast<ScalarType>(i);
    nb::object obj = nb::cast(DType{type});
    g_dtype_objects[i] = obj.inc_ref().ptr();
    m.attr(std::string(dtype_name(type)).c_str()) = obj;
  }
}

bool scalar_from_python(nb::handle h, Scalar& out) {
  PyObject* o = h.ptr();
  if (PyBool_Check(o)) {
    out = Scalar(o == Py_True);
    return true;
  }
  if (PyLong_Check(o)) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow) {
      PyErr_Clear();
      fail(ErrorKind::Value, "Overflow when unpacking long long");
    }
    out = Scalar(static_cast<int64_t>(v));
    return true;
  }
  if (PyFloat_Check(o)) {
    out = Scalar(PyFloat_AS_DOUBLE(o));
    return true;
  }
  if (nb::isinstance<Tensor>(h)) return false;
  // numpy scalars and other numbers.
  if (PyObject_HasAttrString(o, "dtype") && PyObject_HasAttrString(o, "item")) {
    nb::object item = nb::borrow(h).attr("item")();
    if (!PyObject_HasAttrString(item.ptr(), "dtype")) return scalar_from_python(item, out);
  }
  if (PyIndex_Check(o)) {
    Py_ssize_t v = PyNumber_AsSsize_t(o, nullptr);
    if (PyErr_Occurred()) {
      PyErr_Clear();
      return false;
    }
    out = Scalar(static_cast<int64_t>(v));
    return true;
  }
  return false;
}

nb::object scalar_to_python(const Scalar& s) {
  if (s.is_boolean()) return nb::bool_(s.to_int() != 0);
  if (s.is_integral()) return nb::int_(s.to_int());
  return nb::float_(s.to_double());
}

Operand::Operand(nb::handle h) {
  if (nb::isinstance<Tensor>(h)) {
    ptr_ = nb::inst_ptr<Tensor>(h);
    return;
  }
  Scalar s;
  if (scalar_from_python(h, s)) {
    owned_ = scalar_to_tensor(s);
    ptr_ = &owned_;
  }
}

Tensor operand_or_raise(nb::handle h, const char* op, const char* arg) {
  Operand operand(h);
  if (!operand.valid()) {
    fail(ErrorKind::Type, op, "(): argument '", arg, "' must be Tensor or Number, not ",
         nb::type_name(h.type()).c_str());
  }
  return operand.get();
}

namespace {
int64_t int_from_python(nb::handle h, const char* op) {
  if (nb::isinstance<Tensor>(h)) {
    const Tensor& t = *nb::inst_ptr<Tensor>(h);
    VT_CHECK_TYPE(t.numel() == 1 && is_integral(t.dtype(), false), op,
                  "(): expected an integer, got a tensor");
    return t.item().to_int();
  }
  VT_CHECK_TYPE(!PyBool_Check(h.ptr()) && PyIndex_Check(h.ptr()), op, "(): expected an integer, but got ",
                nb::type_name(h.type()).c_str());
  Py_ssize_t v = PyNumber_AsSsize_t(h.ptr(), PyExc_OverflowError);
  if (v == -1 && PyErr_Occurred()) throw nb::python_error();
  return v;
}
}  // namespace

std::vector<int64_t> sizes_from_args(const nb::args& args, const char* op) {
  std::vector<int64_t> sizes;
  if (args.size() == 1 && (PyList_Check(args[0].ptr()) || PyTuple_Check(args[0].ptr()))) {
    for (nb::handle item : nb::borrow<nb::sequence>(args[0])) sizes.push_back(int_from_python(item, op));
    return sizes;
  }
  for (nb::handle item : args) sizes.push_back(int_from_python(item, op));
  return sizes;
}

OptionalDims dims_from_python(nb::handle h, const char* op) {
  if (h.is_none()) return std::nullopt;
  std::vector<int64_t> dims;
  if (PyList_Check(h.ptr()) || PyTuple_Check(h.ptr())) {
    for (nb::handle item : nb::borrow<nb::sequence>(h)) dims.push_back(int_from_python(item, op));
    return dims;
  }
  dims.push_back(int_from_python(h, op));
  return dims;
}

// ---- nested Python data -> tensor

namespace {

bool is_sequence(nb::handle h) { return PyList_Check(h.ptr()) || PyTuple_Check(h.ptr()); }

// The shape follows the first element at each depth; scan_data then checks every element.
DimVector infer_data_shape(nb::handle obj) {
  DimVector shape;
  nb::handle current = obj;
  nb::object keep;
  while (is_sequence(current) || PyUnicode_Check(current.ptr())) {
    // torch reads a str here as a sequence of characters: one dimension too many.
    VT_CHECK_VALUE(!PyUnicode_Check(current.ptr()), "too many dimensions 'str'");
    Py_ssize_t length = PySequence_Size(current.ptr());
    shape.push_back(length);
    if (length == 0) break;
    keep = nb::steal(PySequence_GetItem(current.ptr(), 0));
    current = keep;
  }
  return shape;
}

void scan_data(nb::handle obj, size_t depth, const DimVector& shape, ScalarType& type) {
  if (depth < shape.size()) {
    VT_CHECK_VALUE(is_sequence(obj), "expected sequence of length ", shape[depth], " at dim ", depth, " (got ",
                   nb::type_name(obj.type()).c_str(), ")");
    int64_t length = static_cast<int64_t>(PySequence_Size(obj.ptr()));
    VT_CHECK_VALUE(length == shape[depth], "expected sequence of length ", shape[depth], " at dim ", depth, " (got ",
                   length, ")");
    for (nb::handle item : nb::borrow<nb::sequence>(obj)) scan_data(item, depth + 1, shape, type);
    return;
  }
  VT_CHECK_TYPE(!is_sequence(obj), "tensor(): expected a number at dim ", depth, ", got a sequence");
  ScalarType element;
  if (nb::isinstance<Tensor>(obj)) {
    const Tensor& t = *nb::inst_ptr<Tensor>(obj);
    VT_CHECK_VALUE(t.numel() == 1 && t.dim() == 0, "only one element tensors can be converted to Python scalars");
    element = t.dtype();
  } else {
    Scalar s;
    VT_CHECK_TYPE(!PyUnicode_Check(obj.ptr()), "new(): invalid data type 'str'");
    VT_CHECK(scalar_from_python(obj, s), "Could not infer dtype of ", nb::type_name(obj.type()).c_str());
    element = s.is_floating_point() ? default_dtype() : s.type();
  }
  type = type == ScalarType::Undefined ? element : promote_types(type, element);
}

template <class T>
void fill(nb::handle obj, T*& out) {
  if (is_sequence(obj)) {
    for (nb::handle item : nb::borrow<nb::sequence>(obj)) fill(item, out);
    return;
  }
  Scalar s;
  if (nb::isinstance<Tensor>(obj)) s = nb::inst_ptr<Tensor>(obj)->item();
  else scalar_from_python(obj, s);
  *out++ = s.to<T>();
}

}  // namespace

Tensor tensor_from_data(nb::handle data, std::optional<ScalarType> dtype, Device device) {
  if (nb::isinstance<Tensor>(data)) {
    const Tensor& t = *nb::inst_ptr<Tensor>(data);
    return to(t, dtype.value_or(t.dtype()), device, /*copy=*/true);
  }
  if (!is_sequence(data) && PyObject_HasAttrString(data.ptr(), "__array_interface__")) {
    // numpy arrays and numpy scalars: read through a contiguous array, then copy.
    nb::object array = nb::module_::import_("numpy").attr("array")(data);  // a copy; keeps 0-d shape
    Tensor view = from_numpy(array);
    return to(view, dtype.value_or(view.dtype()), device, /*copy=*/true);
  }
  DimVector shape = infer_data_shape(data);
  ScalarType inferred = ScalarType::Undefined;
  scan_data(data, 0, shape, inferred);
  ScalarType type = dtype.value_or(inferred == ScalarType::Undefined ? default_dtype() : inferred);
  Tensor out = empty_tensor(shape, type, Device());
  dispatch_all_types(type, "tensor", [&](auto tag) {
    using T = decltype(tag);
    T* cursor = out.data<T>();
    fill<T>(data, cursor);
  });
  return device.is_cpu() ? out : to(out, std::nullopt, device);
}

// ---- numpy

namespace {

std::optional<ScalarType> from_dlpack_dtype(nb::dlpack::dtype d) {
  using Code = nb::dlpack::dtype_code;
  auto code = static_cast<Code>(d.code);
  if (d.lanes != 1) return std::nullopt;
  if (code == Code::Bool && d.bits == 8) return ScalarType::Bool;
  if (code == Code::UInt && d.bits == 8) return ScalarType::UInt8;
  if (code == Code::Int) {
    switch (d.bits) {
      case 8: return ScalarType::Int8;
      case 16: return ScalarType::Int16;
      case 32: return ScalarType::Int32;
      case 64: return ScalarType::Int64;
    }
  }
  if (code == Code::Float) {
    switch (d.bits) {
      case 16: return ScalarType::Float16;
      case 32: return ScalarType::Float32;
      case 64: return ScalarType::Float64;
    }
  }
  if (code == Code::Bfloat && d.bits == 16) return ScalarType::BFloat16;
  return std::nullopt;
}

nb::dlpack::dtype to_dlpack_dtype(ScalarType t) {
  using Code = nb::dlpack::dtype_code;
  auto make = [](Code code, int bits) { return nb::dlpack::dtype{static_cast<uint8_t>(code), static_cast<uint8_t>(bits), 1}; };
  switch (t) {
    case ScalarType::Bool: return make(Code::Bool, 8);
    case ScalarType::UInt8: return make(Code::UInt, 8);
    case ScalarType::Int8: return make(Code::Int, 8);
    case ScalarType::Int16: return make(Code::Int, 16);
    case ScalarType::Int32: return make(Code::Int, 32);
    case ScalarType::Int64: return make(Code::Int, 64);
    case ScalarType::Float16: return make(Code::Float, 16);
    case ScalarType::Float32: return make(Code::Float, 32);
    case ScalarType::Float64: return make(Code::Float, 64);
    default: fail(ErrorKind::Type, "Got unsupported ScalarType ", dtype_short_name(t));
  }
}

void release_numpy_owner(void* context) {
  nb::gil_scoped_acquire gil;
  delete static_cast<nb::ndarray<>*>(context);
}

}  // namespace

Tensor from_numpy(nb::handle obj) {
  VT_CHECK_TYPE(nb::isinstance<nb::ndarray<nb::numpy>>(obj) || nb::hasattr(obj, "__array_interface__"),
                "expected np.ndarray (got ", nb::type_name(obj.type()).c_str(), ")");
  nb::ndarray<nb::ro, nb::numpy, nb::device::cpu> array;
  try {
    array = nb::cast<nb::ndarray<nb::ro, nb::numpy, nb::device::cpu>>(obj);
  } catch (const nb::cast_error&) {
    fail(ErrorKind::Type, "can't convert np.ndarray of type ", nb::str(obj.attr("dtype")).c_str(),
         ". The only supported types are: float64, float32, float16, int64, int32, int16, int8, uint8, and bool.");
  }
  auto type = from_dlpack_dtype(array.dtype());
  VT_CHECK_TYPE(type.has_value(), "can't convert np.ndarray of type ", nb::str(obj.attr("dtype")).c_str(),
                ". The only supported types are: float64, float32, float16, int64, int32, int16, int8, uint8, and bool.");
  DimVector sizes, strides;
  int64_t extent = 1;
  for (size_t d = 0; d < array.ndim(); ++d) {
    sizes.push_back(static_cast<int64_t>(array.shape(d)));
    int64_t stride = array.stride(d);
    VT_CHECK_VALUE(stride >= 0, "At least one stride in the given numpy array is negative, and tensors with negative "
                   "strides are not currently supported. (You can probably work around this by making a copy of your "
                   "array with array.copy().)");
    strides.push_back(stride);
    if (sizes.back() == 0) extent = 0;
    else if (extent > 0) extent += (sizes.back() - 1) * stride;
  }
  size_t nbytes = static_cast<size_t>(extent) * itemsize(*type);
  auto* owner = new nb::ndarray<>(array);
  // Read-only arrays are shared too (torch does the same, with a warning).
  DataPtr data_ptr{const_cast<void*>(array.data()), owner, &release_numpy_owner};
  Storage storage = Storage::make(data_ptr, nbytes, Device(), nullptr);
  return Tensor(IntrusivePtr<TensorImpl>::make(std::move(storage), *type, sizes, strides, 0));
}

nb::object to_numpy(const Tensor& t) {
  VT_CHECK_TYPE(t.device().is_cpu(), "can't convert ", t.device().str(),
                " device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first.");
  nb::dlpack::dtype dtype = to_dlpack_dtype(t.dtype());
  std::vector<size_t> shape(t.sizes().begin(), t.sizes().end());
  std::vector<int64_t> strides(t.strides().begin(), t.strides().end());
  auto* keep_alive = new Tensor(t);
  nb::capsule owner(keep_alive, [](void* p) noexcept { delete static_cast<Tensor*>(p); });
  nb::ndarray<nb::numpy> array(t.data_ptr(), shape.size(), shape.data(), owner, strides.data(), dtype);
  return array.cast();
}

namespace {
template <class T>
nb::object element_to_python(const T& v) {
  if constexpr (std::is_same_v<T, bool>) return nb::bool_(v);
  else if constexpr (std::is_integral_v<T>) return nb::int_(static_cast<int64_t>(v));
  else return nb::float_(static_cast<double>(static_cast<compute_t<T>>(v)));
}

template <class T>
nb::object list_at(const char* base, IntArrayRef sizes, IntArrayRef strides, size_t dim) {
  if (dim == sizes.size()) return element_to_python(*reinterpret_cast<const T*>(base));
  nb::list out;
  for (int64_t i = 0; i < sizes[dim]; ++i) {
    out.append(list_at<T>(base + i * strides[dim] * static_cast<int64_t>(sizeof(T)), sizes, strides, dim + 1));
  }
  return out;
}
}  // namespace

nb::object to_list(const Tensor& t) {
  if (!t.device().is_cpu()) return to_list(to(t, std::nullopt, Device()));  // torch copies to the host too
  return dispatch_all_types(t.dtype(), "tolist", [&](auto tag) {
    using T = decltype(tag);
    return list_at<T>(static_cast<const char*>(t.data_ptr()), t.sizes(), t.strides(), 0);
  });
}

std::optional<Scalar> optional_scalar(nb::handle h, const char* op, const char* arg) {
  if (h.is_none()) return std::nullopt;
  Scalar s;
  if (!scalar_from_python(h, s)) {
    if (nb::isinstance<Tensor>(h) && nb::inst_ptr<Tensor>(h)->numel() == 1) return nb::inst_ptr<Tensor>(h)->item();
    fail(ErrorKind::Type, op, "(): argument '", arg, "' must be Number, not ", nb::type_name(h.type()).c_str());
  }
  return s;
}

nb::handle return_type(const char* name) {
  static std::map<std::string, PyObject*> types;
  PyObject*& type = types[name];
  if (!type) type = nb::module_::import_("vibetensor.return_types").attr(name).inc_ref().ptr();
  return type;
}

}  // namespace vt::python
