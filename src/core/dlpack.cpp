// DLPack export and import (vt/dlpack.h). Every field of a foreign descriptor is checked
// before the memory is wrapped, so a bad capsule raises instead of producing a tensor over
// memory it does not describe.
#include "vt/dlpack.h"

#include <vector>

#include "vt/cuda.h"

namespace vt::dlpack {

namespace {

constexpr int kMaxDims = 64;

// What a managed tensor points into: the exported tensor (kept alive) and its geometry.
template <class Managed>
struct Export {
  Managed managed{};
  Tensor tensor;
  std::vector<int64_t> shape, strides;
};

template <class Managed>
Managed* export_tensor(const Tensor& t) {
  VT_CHECK_VALUE(t.defined(), "to_dlpack(): the tensor is undefined");
  auto* e = new Export<Managed>();
  e->tensor = t;
  e->shape.assign(t.sizes().begin(), t.sizes().end());
  e->strides.assign(t.strides().begin(), t.strides().end());
  DLTensor& dl = e->managed.dl_tensor;
  dl.data = t.data_ptr();
  dl.device = to_dl_device(t.device());
  dl.ndim = static_cast<int32_t>(t.dim());
  dl.dtype = to_dl_dtype(t.dtype());
  dl.shape = e->shape.data();
  dl.strides = e->strides.data();
  dl.byte_offset = 0;
  e->managed.manager_ctx = e;
  e->managed.deleter = [](Managed* self) { delete static_cast<Export<Managed>*>(self->manager_ctx); };
  return &e->managed;
}

std::optional<ScalarType> from_dl_dtype(DLDataType d) {
  if (d.lanes != 1) return std::nullopt;
  switch (d.code) {
    case kDLBool: return d.bits == 8 ? std::optional(ScalarType::Bool) : std::nullopt;
    case kDLUInt: return d.bits == 8 ? std::optional(ScalarType::UInt8) : std::nullopt;
    case kDLInt:
      switch (d.bits) {
        case 8: return ScalarType::Int8;
        case 16: return ScalarType::Int16;
        case 32: return ScalarType::Int32;
        case 64: return ScalarType::Int64;
      }
      return std::nullopt;
    case kDLFloat:
      switch (d.bits) {
        case 16: return ScalarType::Float16;
        case 32: return ScalarType::Float32;
        case 64: return ScalarType::Float64;
      }
      return std::nullopt;
    case kDLBfloat: return d.bits == 16 ? std::optional(ScalarType::BFloat16) : std::nullopt;
  }
  return std::nullopt;
}

Device from_dl_device(DLDevice d) {
  switch (d.device_type) {
    case kDLCPU:
    case kDLCUDAHost:  // pinned host memory is host memory
      return Device();
    case kDLCUDA:
    case kDLCUDAManaged: {
      VT_CHECK_VALUE(cuda::is_built(), "from_dlpack(): a CUDA tensor, but this vibetensor was built without CUDA");
      VT_CHECK_VALUE(d.device_id >= 0 && d.device_id < cuda::device_count(), "from_dlpack(): CUDA device ",
                     d.device_id, " does not exist (", cuda::device_count(), " devices)");
      return Device(DeviceType::CUDA, d.device_id);
    }
    default:
      fail(ErrorKind::Value, "from_dlpack(): unsupported device type ", static_cast<int>(d.device_type),
           " (vibetensor takes CPU and CUDA memory)");
  }
}

// The storage's deleter: hands the tensor back to its producer.
template <class Managed>
void release(void* context) {
  auto* managed = static_cast<Managed*>(context);
  if (managed->deleter) managed->deleter(managed);
}

template <class Managed>
Tensor import_tensor(Managed* managed) {
  VT_CHECK_VALUE(managed != nullptr, "from_dlpack(): the capsule holds a null pointer");
  const DLTensor& dl = managed->dl_tensor;
  auto dtype = from_dl_dtype(dl.dtype);
  VT_CHECK_TYPE(dtype.has_value(), "from_dlpack(): unsupported dtype (code ", static_cast<int>(dl.dtype.code),
                ", ", static_cast<int>(dl.dtype.bits), " bits, ", dl.dtype.lanes,
                " lanes); vibetensor takes bool, uint8, int8-64, float16, bfloat16, float32 and float64");
  Device device = from_dl_device(dl.device);
  VT_CHECK_VALUE(dl.ndim >= 0 && dl.ndim <= kMaxDims, "from_dlpack(): invalid ndim ", dl.ndim);
  VT_CHECK_VALUE(dl.ndim == 0 || dl.shape != nullptr, "from_dlpack(): ndim ", dl.ndim, " with a null shape");
  DimVector sizes(dl.shape, dl.shape + dl.ndim);
  DimVector strides = dl.strides ? DimVector(dl.strides, dl.strides + dl.ndim) : contiguous_strides(sizes);
  // The elements' extent, in elements: 1 + sum((size - 1) * stride), or 0 when empty.
  int64_t extent = 1;
  for (int32_t d = 0; d < dl.ndim; ++d) {
    VT_CHECK_VALUE(sizes[d] >= 0, "from_dlpack(): negative size ", sizes[d], " in dim ", d);
    VT_CHECK_VALUE(strides[d] >= 0, "from_dlpack(): negative stride ", strides[d], " in dim ", d,
                   " (vibetensor tensors have non-negative strides; copy the array first)");
    if (sizes[d] == 0) extent = 0;
  }
  for (int32_t d = 0; d < dl.ndim && extent > 0; ++d) {
    int64_t span = 0;
    VT_CHECK_VALUE(!__builtin_mul_overflow(sizes[d] - 1, strides[d], &span) && !__builtin_add_overflow(extent, span, &extent),
                   "from_dlpack(): the shape and strides span more than 2^63 elements");
  }
  int64_t nbytes = 0;
  VT_CHECK_VALUE(!__builtin_mul_overflow(extent, static_cast<int64_t>(itemsize(*dtype)), &nbytes),
                 "from_dlpack(): the tensor spans more than 2^63 bytes");
  auto* data = static_cast<char*>(dl.data) + dl.byte_offset;
  VT_CHECK_VALUE(nbytes == 0 || dl.data != nullptr, "from_dlpack(): a non-empty tensor with a null data pointer");
  VT_CHECK_VALUE(reinterpret_cast<uintptr_t>(data) % itemsize(*dtype) == 0, "from_dlpack(): the data at ",
                 static_cast<void*>(data), " is not aligned for ", dtype_name(*dtype));
  DataPtr owner{data, managed, &release<Managed>};
  Storage storage = Storage::make(owner, static_cast<size_t>(nbytes), device, nullptr);
  return Tensor(IntrusivePtr<TensorImpl>::make(std::move(storage), *dtype, sizes, strides, 0));
}

}  // namespace

DLDataType to_dl_dtype(ScalarType type) {
  switch (type) {
    case ScalarType::Bool: return {kDLBool, 8, 1};
    case ScalarType::UInt8: return {kDLUInt, 8, 1};
    case ScalarType::Int8: return {kDLInt, 8, 1};
    case ScalarType::Int16: return {kDLInt, 16, 1};
    case ScalarType::Int32: return {kDLInt, 32, 1};
    case ScalarType::Int64: return {kDLInt, 64, 1};
    case ScalarType::Float16: return {kDLFloat, 16, 1};
    case ScalarType::Float32: return {kDLFloat, 32, 1};
    case ScalarType::Float64: return {kDLFloat, 64, 1};
    case ScalarType::BFloat16: return {kDLBfloat, 16, 1};
    case ScalarType::Undefined: break;
  }
  fail(ErrorKind::Type, "to_dlpack(): an undefined dtype has no DLPack type");
}

DLDevice to_dl_device(Device device) {
  if (device.is_cuda()) return {kDLCUDA, device.has_index() ? device.index : cuda::current_device()};
  return {kDLCPU, 0};
}

DLManagedTensorVersioned* to_versioned(const Tensor& t) {
  DLManagedTensorVersioned* managed = export_tensor<DLManagedTensorVersioned>(t);
  managed->version = {DLPACK_MAJOR_VERSION, DLPACK_MINOR_VERSION};
  managed->flags = 0;
  return managed;
}

DLManagedTensor* to_legacy(const Tensor& t) { return export_tensor<DLManagedTensor>(t); }

Tensor from_versioned(DLManagedTensorVersioned* managed) {
  VT_CHECK_VALUE(managed == nullptr || managed->version.major == DLPACK_MAJOR_VERSION,
                 "from_dlpack(): DLPack version ", managed ? managed->version.major : 0, ".",
                 managed ? managed->version.minor : 0, " is not supported (vibetensor reads major version ",
                 DLPACK_MAJOR_VERSION, ")");
  return import_tensor(managed);
}

Tensor from_legacy(DLManagedTensor* managed) { return import_tensor(managed); }

}  // namespace vt::dlpack
