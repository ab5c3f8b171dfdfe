/* DLPack (https://dmlc.github.io/dlpack/latest/c_api.html): the structs of the interchange
 * ABI, version 1.1, as the specification defines them (plain C, so plugin code can include
 * this), and under C++ vibetensor's conversions to and from them. */
#ifndef VT_DLPACK_H_
#define VT_DLPACK_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DLPACK_MAJOR_VERSION 1
#define DLPACK_MINOR_VERSION 1

typedef enum {
  kDLCPU = 1,
  kDLCUDA = 2,
  kDLCUDAHost = 3, /* pinned host memory */
  kDLOpenCL = 4,
  kDLVulkan = 7,
  kDLMetal = 8,
  kDLVPI = 9,
  kDLROCM = 10,
  kDLROCMHost = 11,
  kDLExtDev = 12,
  kDLCUDAManaged = 13,
  kDLOneAPI = 14,
  kDLWebGPU = 15,
  kDLHexagon = 16,
  kDLMAIA = 17,
} DLDeviceType;

typedef struct {
  DLDeviceType device_type;
  int32_t device_id;
} DLDevice;

typedef enum {
  kDLInt = 0,
  kDLUInt = 1,
  kDLFloat = 2,
  kDLOpaqueHandle = 3,
  kDLBfloat = 4,
  kDLComplex = 5,
  kDLBool = 6,
} DLDataTypeCode;

typedef struct {
  uint8_t code;   /* a DLDataTypeCode */
  uint8_t bits;
  uint16_t lanes; /* 1 for scalars */
} DLDataType;

typedef struct {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides; /* in elements; NULL means compact row-major */
  uint64_t byte_offset;
} DLTensor;

/* The legacy (unversioned) form, exchanged in a capsule named "dltensor". */
typedef struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(struct DLManagedTensor* self);
} DLManagedTensor;

typedef struct {
  uint32_t major;
  uint32_t minor;
} DLPackVersion;

#define DLPACK_FLAG_BITMASK_READ_ONLY (1UL << 0UL)
#define DLPACK_FLAG_BITMASK_IS_COPIED (1UL << 1UL)

/* The versioned form, exchanged in a capsule named "dltensor_versioned". */
typedef struct DLManagedTensorVersioned {
  DLPackVersion version;
  void* manager_ctx;
  void (*deleter)(struct DLManagedTensorVersioned* self);
  uint64_t flags;
  DLTensor dl_tensor;
} DLManagedTensorVersioned;

#ifdef __cplusplus
}  // extern "C"

#include "vt/tensor.h"

namespace vt::dlpack {

// Exports `t` without copying: the managed tensor keeps `t`'s storage alive until the
// consumer calls its deleter.
DLManagedTensorVersioned* to_versioned(const Tensor& t);
DLManagedTensor* to_legacy(const Tensor& t);

// Imports without copying: the tensor takes ownership of `managed` and calls its deleter when
// the last view of the storage goes. A descriptor vibetensor cannot take (a device or dtype it
// lacks, negative strides, an unsupported major version) raises without taking ownership.
// Read-only memory is shared as torch shares it: writing to it is the caller's responsibility.
Tensor from_versioned(DLManagedTensorVersioned* managed);
Tensor from_legacy(DLManagedTensor* managed);

// The DLPack descriptions of vibetensor's dtypes and devices, and back.
DLDataType to_dl_dtype(ScalarType type);
DLDevice to_dl_device(Device device);

}  // namespace vt::dlpack
#endif  // __cplusplus

#endif  // VT_DLPACK_H_
