// copy_ and fill_ on CUDA: strided copies with dtype conversion on one device, transfers
// between host and device (and between devices) through cudaMemcpyAsync on the current
// stream, and fill_ as a strided store of the value's bytes.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstring>

#include "src/cuda/cuda_check.h"
#include "vt/cuda.h"
#include "vt/dispatch.h"
#include "vt/ops.h"
#include "vt/tensor_iterator.h"

namespace vt::cuda {
namespace {

constexpr int kMaxDims = 16;

// Element offsets of a strided walk over `sizes`, for a destination and a source; dimensions
// that are contiguous in both are merged first, so most copies see one or two dimensions.
struct StridedPair {
  int dims = 0;
  int64_t sizes[kMaxDims];
  int64_t dst_strides[kMaxDims];
  int64_t src_strides[kMaxDims];

  __device__ void offsets(int64_t linear, int64_t& dst, int64_t& src) const {
    dst = 0;
    src = 0;
    for (int d = dims - 1; d >= 0; --d) {
      const int64_t i = linear % sizes[d];
      linear /= sizes[d];
      dst += i * dst_strides[d];
      src += i * src_strides[d];
    }
  }
};

StridedPair strided_pair(IntArrayRef sizes, IntArrayRef dst_strides, IntArrayRef src_strides, const char* op) {
  StridedPair pair;
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == 1) continue;  // contributes no offset
    if (pair.dims > 0) {
      const int last = pair.dims - 1;
      if (pair.dst_strides[last] == dst_strides[d] * sizes[d] && pair.src_strides[last] == src_strides[d] * sizes[d]) {
        pair.sizes[last] *= sizes[d];  // row-major neighbours: one longer dimension
        pair.dst_strides[last] = dst_strides[d];
        pair.src_strides[last] = src_strides[d];
        continue;
      }
    }
    VT_CHECK_KIND(pair.dims < kMaxDims, ErrorKind::NotImplemented, op, "(): CUDA tensors with more than ", kMaxDims,
                  " non-mergeable dimensions are not supported");
    pair.sizes[pair.dims] = sizes[d];
    pair.dst_strides[pair.dims] = dst_strides[d];
    pair.src_strides[pair.dims] = src_strides[d];
    ++pair.dims;
  }
  return pair;
}

// The device type that holds a ScalarType's values.
template <ScalarType S> struct DeviceType;
template <> struct DeviceType<ScalarType::Bool> { using type = bool; };
template <> struct DeviceType<ScalarType::UInt8> { using type = uint8_t; };
template <> struct DeviceType<ScalarType::Int8> { using type = int8_t; };
template <> struct DeviceType<ScalarType::Int16> { using type = int16_t; };
template <> struct DeviceType<ScalarType::Int32> { using type = int32_t; };
template <> struct DeviceType<ScalarType::Int64> { using type = int64_t; };
template <> struct DeviceType<ScalarType::Float16> { using type = __half; };
template <> struct DeviceType<ScalarType::BFloat16> { using type = __nv_bfloat16; };
template <> struct DeviceType<ScalarType::Float32> { using type = float; };
template <> struct DeviceType<ScalarType::Float64> { using type = double; };

template <class Fn>
void dispatch_device_type(ScalarType type, const char* op, Fn&& fn) {
  switch (type) {
#define VT_CASE(S) \
  case ScalarType::S: return fn(typename DeviceType<ScalarType::S>::type{});
    VT_CASE(Bool) VT_CASE(UInt8) VT_CASE(Int8) VT_CASE(Int16) VT_CASE(Int32) VT_CASE(Int64) VT_CASE(Float16)
    VT_CASE(BFloat16) VT_CASE(Float32) VT_CASE(Float64)
#undef VT_CASE
    default: fail(ErrorKind::Type, op, "(): unsupported dtype ", dtype_name(type));
  }
}

// Conversions as torch makes them: to bool is "not zero"; half and bfloat16 go through float.
template <class T> __device__ T from_float(float x) { return static_cast<T>(x); }
template <> __device__ __half from_float<__half>(float x) { return __float2half_rn(x); }
template <> __device__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }
template <class T> __device__ float to_float(T x) { return static_cast<float>(x); }
template <> __device__ float to_float<__half>(__half x) { return __half2float(x); }
template <> __device__ float to_float<__nv_bfloat16>(__nv_bfloat16 x) { return __bfloat162float(x); }
template <class T> constexpr bool is_reduced_float = std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>;

template <class To, class From>
__device__ To convert(From x) {
  if constexpr (std::is_same_v<To, From>) {
    return x;
  } else if constexpr (std::is_same_v<To, bool>) {
    if constexpr (is_reduced_float<From>) return to_float(x) != 0.0f;
    else return x != From(0);
  } else if constexpr (is_reduced_float<To>) {
    if constexpr (std::is_same_v<From, double>) return from_float<To>(static_cast<float>(x));
    else return from_float<To>(to_float(x));
  } else if constexpr (std::is_same_v<To, uint8_t> && !std::is_integral_v<From>) {
    // Through int64, as torch does, so that negative values wrap (-2.25 -> 254) like on the
    // CPU instead of saturating to 0.
    if constexpr (is_reduced_float<From>) return static_cast<uint8_t>(static_cast<int64_t>(to_float(x)));
    else return static_cast<uint8_t>(static_cast<int64_t>(x));
  } else if constexpr (is_reduced_float<From>) {
    return static_cast<To>(to_float(x));
  } else {
    return static_cast<To>(x);
  }
}

template <class To, class From>
__global__ void copy_strided(To* dst, const From* src, int64_t n, StridedPair pair) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    int64_t d, s;
    pair.offsets(i, d, s);
    dst[d] = convert<To>(src[s]);
  }
}

// Stores `value` (a bit pattern of the element's size) at every element of a strided tensor.
template <class Bits>
__global__ void fill_strided(Bits* dst, Bits value, int64_t n, StridedPair pair) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    int64_t d, s;
    pair.offsets(i, d, s);
    dst[d] = value;
  }
}

constexpr int kThreads = 256;
int blocks_for(int64_t n) {
  // Enough blocks to fill the GPU several times over; grid-stride loops cover the rest.
  return static_cast<int>(std::min<int64_t>((n + kThreads - 1) / kThreads, int64_t{1} << 16));
}

cudaStream_t stream_of(const Tensor& t) { return static_cast<cudaStream_t>(current_stream(t.device().index).handle()); }

// self = src on one device: a strided copy with conversion, or one memcpy when both are
// contiguous with the same dtype.
void copy_same_device(const Tensor& self, const Tensor& src) {
  DeviceGuard guard(self.device().index);
  const int64_t n = self.numel();
  if (n == 0) return;
  Tensor source = expand(src, self.sizes());
  if (self.dtype() == source.dtype() && self.is_contiguous() && source.is_contiguous()) {
    VT_CUDA_CHECK(cudaMemcpyAsync(self.data_ptr(), source.data_ptr(), n * itemsize(self.dtype()),
                                  cudaMemcpyDeviceToDevice, stream_of(self)));
    return;
  }
  StridedPair pair = strided_pair(self.sizes(), self.strides(), source.strides(), "copy_");
  dispatch_device_type(self.dtype(), "copy_", [&](auto out_tag) {
    using To = decltype(out_tag);
    dispatch_device_type(source.dtype(), "copy_", [&](auto in_tag) {
      using From = decltype(in_tag);
      copy_strided<To, From><<<blocks_for(n), kThreads, 0, stream_of(self)>>>(
          static_cast<To*>(self.data_ptr()), static_cast<const From*>(source.data_ptr()), n, pair);
    });
  });
  VT_CUDA_CHECK(cudaGetLastError());
}

// self = src across devices (host and device, or two devices): the source is first brought
// to self's dtype and shape, contiguous, on its own device; one memcpy moves it; a strided
// destination takes it through a contiguous buffer on its device.
void copy_across_devices(const Tensor& self, const Tensor& src, bool non_blocking) {
  Tensor staged = contiguous(to(expand(src, self.sizes()), self.dtype()));
  Tensor target = self.is_contiguous() ? self : empty(self.sizes(), self.dtype(), self.device());
  const size_t nbytes = static_cast<size_t>(self.numel()) * itemsize(self.dtype());
  const Device cuda_side = self.device().is_cuda() ? self.device() : src.device();
  DeviceGuard guard(cuda_side.index);
  const Stream stream = current_stream(cuda_side.index);
  if (src.device().is_cuda() && self.device().is_cuda()) {
    // The destination's stream waits for the source's work on the other device.
    stream.wait_stream(current_stream(src.device().index));
  }
  const cudaMemcpyKind kind = self.device().is_cuda() ? (src.device().is_cuda() ? cudaMemcpyDeviceToDevice
                                                                               : cudaMemcpyHostToDevice)
                                                      : cudaMemcpyDeviceToHost;
  if (nbytes > 0) {
    VT_CUDA_CHECK(cudaMemcpyAsync(target.data_ptr(), staged.data_ptr(), nbytes, kind,
                                  static_cast<cudaStream_t>(stream.handle())));
  }
  // Between devices the source buffer belongs to the other device's stream and may be
  // reused there as soon as this returns: such copies always complete before returning.
  if (kind == cudaMemcpyDeviceToDevice) non_blocking = false;
  if (!target.is_same(self)) {
    // A strided host destination is filled by the CPU, once the transfer has landed.
    if (kind == cudaMemcpyDeviceToHost) stream.synchronize();
    copy_(self, target);
  }
  // A blocking copy returns with the data in place; a non-blocking one may still be running
  // (truly so only from or to pinned memory), and the caller synchronizes, as in torch.
  if (!non_blocking) stream.synchronize();
}

const Tensor& copy_cuda(const Tensor& self, const Tensor& src, bool non_blocking) {
  if (self.is_same(src)) return self;
  check_no_internal_overlap(self, "copy_");
  check_overlap(self, src, "copy_");
  if (self.device() == src.device()) copy_same_device(self, src);
  else copy_across_devices(self, src, non_blocking);
  self.bump_version();
  return self;
}

const Tensor& fill_cuda(const Tensor& self, const Scalar& value) {
  // The value's bytes in self's dtype come from the CPU fill (its conversion and its
  // range checks), then a store of those bytes needs only the element size.
  Tensor one = full(std::vector<int64_t>{}, value, self.dtype(), Device());
  const int64_t n = self.numel();
  if (n > 0) {
    DeviceGuard guard(self.device().index);
    StridedPair pair = strided_pair(self.sizes(), self.strides(), self.strides(), "fill_");
    auto launch = [&](auto bits_tag) {
      using Bits = decltype(bits_tag);
      Bits bits;
      std::memcpy(&bits, one.data_ptr(), sizeof bits);
      fill_strided<Bits><<<blocks_for(n), kThreads, 0, stream_of(self)>>>(static_cast<Bits*>(self.data_ptr()), bits, n,
                                                                           pair);
    };
    switch (itemsize(self.dtype())) {
      case 1: launch(uint8_t{}); break;
      case 2: launch(uint16_t{}); break;
      case 4: launch(uint32_t{}); break;
      default: launch(uint64_t{}); break;
    }
    VT_CUDA_CHECK(cudaGetLastError());
  }
  self.bump_version();
  return self;
}

}  // namespace

VT_REGISTRATION(copy_cuda) {
  register_kernel("copy_", DispatchKey::CUDA, &copy_cuda);
  register_kernel("fill_", DispatchKey::CUDA, &fill_cuda);
}

}  // namespace vt::cuda
