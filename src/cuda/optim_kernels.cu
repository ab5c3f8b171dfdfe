// CUDA kernels of the fused optimizer steps (schemas in src/ops/optim.cpp). The argument
// rules and the per-element updates are the CPU's (src/ops/optim_rules.h); here one launch
// updates every parameter of the call, a "multi-tensor apply": a table of the parameters
// (pointers, sizes, per-parameter scalars) and a table of chunks go to the device with the
// launch, and each block updates one chunk of one parameter.
//
// Scalars that may live on the device (the step counts, AMP's grad_scale and found_inf) are
// read by the kernel, so a step never waits for the device; on the CPU they are read here.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "src/cuda/cuda_check.h"
#include "src/ops/optim_rules.h"
#include "vt/cuda.h"
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt::cuda {
namespace {

using namespace optim;

constexpr int kThreads = 256;
constexpr int64_t kChunk = 16384;  // elements per block
constexpr int kMaxLists = 5;       // param, grad and up to three states

cudaStream_t stream_of(const Tensor& t) { return static_cast<cudaStream_t>(current_stream(t.device().index).handle()); }

// A one-element tensor's value: read here from a CPU tensor, or by the kernel from the device.
struct DeviceScalar {
  double value = 0;
  const void* data = nullptr;
  ScalarType type = ScalarType::Float32;

  __device__ double get() const {
    if (!data) return value;
    switch (type) {
      case ScalarType::Float32: return *static_cast<const float*>(data);
      case ScalarType::Float64: return *static_cast<const double*>(data);
      case ScalarType::Float16: return static_cast<float>(*static_cast<const Half*>(data));
      case ScalarType::BFloat16: return static_cast<float>(*static_cast<const BFloat16*>(data));
      case ScalarType::Int64: return static_cast<double>(*static_cast<const int64_t*>(data));
      case ScalarType::Int32: return *static_cast<const int32_t*>(data);
      case ScalarType::Int16: return *static_cast<const int16_t*>(data);
      case ScalarType::Int8: return *static_cast<const int8_t*>(data);
      case ScalarType::UInt8: return *static_cast<const uint8_t*>(data);
      case ScalarType::Bool: return *static_cast<const bool*>(data);
      default: return 0;
    }
  }
};

DeviceScalar scalar_of(const Tensor& t, Device device, const char* op, const char* name) {
  DeviceScalar scalar;
  if (t.device().is_cpu()) {
    scalar.value = t.item().to_double();
    return scalar;
  }
  VT_CHECK(t.device() == device, op, "(): ", name, " is on ", t.device().str(), " but self is on ", device.str());
  scalar.data = t.data_ptr();
  scalar.type = t.dtype();
  return scalar;
}

// AMP's GradScaler (see the CPU kernels): a nonzero found_inf skips the step; grad_scale
// divides the gradients.
struct GradScaling {
  bool unscale = false;
  DeviceScalar scale{1.0};
  DeviceScalar found_inf;  // 0: take the step

  bool skip_now() const { return !found_inf.data && found_inf.value != 0.0; }
};

GradScaling read_grad_scaling(const std::optional<Tensor>& grad_scale, const std::optional<Tensor>& found_inf,
                              Device device, const char* op) {
  GradScaling scaling;
  if (found_inf && found_inf->defined()) scaling.found_inf = scalar_of(*found_inf, device, op, "found_inf");
  if (grad_scale && grad_scale->defined()) {
    scaling.unscale = true;
    scaling.scale = scalar_of(*grad_scale, device, op, "grad_scale");
  }
  return scaling;
}

// One parameter of the call.
struct Slot {
  void* data[kMaxLists];  // param, grad, states (null where the options leave one out)
  int64_t numel;
  DeviceScalar step;      // Adam and Adagrad; a CPU step is already folded into a and b
  double a, b;            // Adam: step size and sqrt(1 - beta2^step); Adagrad: the rate
};

// Elements [begin, begin + kChunk) of slots[slot].
struct Chunk {
  int64_t begin;
  int64_t slot;
};

// The bytes of a table that one write_table_kernel launch carries in its arguments.
constexpr int kArgumentBytes = 4000;
struct TablePiece {
  unsigned char bytes[kArgumentBytes];
};
// With the target pointer and the count: within the 4 KiB of arguments every launch may take.
static_assert(sizeof(TablePiece) + sizeof(void*) + sizeof(int) <= 4096);

__global__ void write_table_kernel(unsigned char* target, TablePiece piece, int count) {
  for (int i = threadIdx.x; i < count; i += blockDim.x) target[i] = piece.bytes[i];
}

bool is_capturing(cudaStream_t stream) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  VT_CUDA_CHECK(cudaStreamIsCapturing(stream, &status));
  return status != cudaStreamCaptureStatusNone;
}

// A copy of `items` in device memory for one launch, freed in stream order after it. From
// pageable memory, cudaMemcpyAsync stages the copy before it returns; but a captured memcpy
// would read the host buffer again at every replay, long after it is gone. So while the
// stream is capturing, the table travels in kernel arguments, which the graph keeps by value.
template <class T>
Tensor upload(const std::vector<T>& items, Device device) {
  const size_t bytes = items.size() * sizeof(T);
  Tensor buffer = empty(std::vector<int64_t>{static_cast<int64_t>(bytes)}, ScalarType::UInt8, device);
  cudaStream_t stream = stream_of(buffer);
  if (!is_capturing(stream)) {
    VT_CUDA_CHECK(cudaMemcpyAsync(buffer.data_ptr(), items.data(), bytes, cudaMemcpyHostToDevice, stream));
    return buffer;
  }
  const auto* source = reinterpret_cast<const unsigned char*>(items.data());
  auto* target = static_cast<unsigned char*>(buffer.data_ptr());
  for (size_t at = 0; at < bytes; at += kArgumentBytes) {
    const int count = static_cast<int>(std::min<size_t>(kArgumentBytes, bytes - at));
    TablePiece piece;
    std::memcpy(piece.bytes, source + at, count);
    write_table_kernel<<<1, kThreads, 0, stream>>>(target + at, piece, count);
    VT_CUDA_CHECK(cudaGetLastError());
  }
  return buffer;
}

// Every block: its chunk's elements, by the op's update.
template <class Op>
__global__ void __launch_bounds__(kThreads) fused_step_kernel(const Slot* slots, const Chunk* chunks, Op op,
                                                              DeviceScalar found_inf, DeviceScalar grad_scale) {
  if (found_inf.get() != 0.0) return;
  const Chunk chunk = chunks[blockIdx.x];
  const Slot& slot = slots[chunk.slot];
  op.run(slot, chunk.begin, std::min(chunk.begin + kChunk, slot.numel), grad_scale.get());
}

// Builds the tables over the dense lists (lists[0] the params) and launches `op`.
template <class Op>
void launch(const Op& op, std::initializer_list<TensorSpan> lists, std::vector<Slot>& slots,
            const GradScaling& scaling) {
  const TensorSpan params = *lists.begin();
  const Device device = params[0].device();
  std::vector<Chunk> chunks;
  for (size_t i = 0; i < params.size(); ++i) {
    int k = 0;
    for (TensorSpan list : lists) slots[i].data[k++] = list.empty() ? nullptr : list[i].data_ptr();
    slots[i].numel = params[i].numel();
    for (int64_t begin = 0; begin < slots[i].numel; begin += kChunk) chunks.push_back({begin, static_cast<int64_t>(i)});
  }
  if (chunks.empty()) return;
  const Tensor slot_table = upload(slots, device), chunk_table = upload(chunks, device);
  fused_step_kernel<<<static_cast<unsigned>(chunks.size()), kThreads, 0, stream_of(params[0])>>>(
      static_cast<const Slot*>(slot_table.data_ptr()), static_cast<const Chunk*>(chunk_table.data_ptr()), op,
      scaling.found_inf, scaling.scale);
  VT_CUDA_CHECK(cudaGetLastError());
}

template <class T>
__device__ T* data_of(const Slot& slot, int k) {
  return static_cast<T*>(slot.data[k]);
}

// ---- the ops: each runs the shared update over [begin, end) of one parameter

template <class T>
struct SgdOp {
  SgdUpdate<T, compute_t<T>> update;
  __device__ void run(const Slot& slot, int64_t begin, int64_t end, double scale) const {
    SgdUpdate<T, compute_t<T>> u = update;
    u.gradient.scale = compute_t<T>(scale);
    T *param = data_of<T>(slot, 0), *grad = data_of<T>(slot, 1), *buffer = data_of<T>(slot, 2);
    for (int64_t j = begin + threadIdx.x; j < end; j += kThreads) u(param, grad, buffer, j);
  }
};

template <class T>
struct AdamOp {
  AdamUpdate<T, compute_t<T>> update;
  double lr, beta1, beta2;
  __device__ void run(const Slot& slot, int64_t begin, int64_t end, double scale) const {
    using C = compute_t<T>;
    AdamUpdate<T, C> u = update;
    u.gradient.scale = C(scale);
    AdamBias bias{slot.a, slot.b};
    if (slot.step.data) bias = adam_bias(lr, beta1, beta2, slot.step.get());
    const C step_size = C(bias.step_size), bias2_sqrt = C(bias.bias2_sqrt);
    T *param = data_of<T>(slot, 0), *grad = data_of<T>(slot, 1), *m = data_of<T>(slot, 2), *v = data_of<T>(slot, 3),
      *v_max = data_of<T>(slot, 4);
    for (int64_t j = begin + threadIdx.x; j < end; j += kThreads) u(param, grad, m, v, v_max, j, step_size, bias2_sqrt);
  }
};

template <class T>
struct AdagradOp {
  AdagradUpdate<T, compute_t<T>> update;
  double lr, lr_decay;
  __device__ void run(const Slot& slot, int64_t begin, int64_t end, double scale) const {
    using C = compute_t<T>;
    AdagradUpdate<T, C> u = update;
    u.gradient.scale = C(scale);
    const C rate = C(slot.step.data ? adagrad_rate(lr, lr_decay, slot.step.get()) : slot.a);
    T *param = data_of<T>(slot, 0), *grad = data_of<T>(slot, 1), *sum = data_of<T>(slot, 2);
    for (int64_t j = begin + threadIdx.x; j < end; j += kThreads) u(param, grad, sum, j, rate);
  }
};

template <class T>
struct RmspropOp {
  RmspropUpdate<T, compute_t<T>> update;
  __device__ void run(const Slot& slot, int64_t begin, int64_t end, double scale) const {
    RmspropUpdate<T, compute_t<T>> u = update;
    u.gradient.scale = compute_t<T>(scale);
    T *param = data_of<T>(slot, 0), *grad = data_of<T>(slot, 1), *square_avg = data_of<T>(slot, 2),
      *grad_avg = data_of<T>(slot, 3), *buffer = data_of<T>(slot, 4);
    for (int64_t j = begin + threadIdx.x; j < end; j += kThreads) u(param, grad, square_avg, grad_avg, buffer, j);
  }
};

// The step of each parameter: read here from a CPU tensor, else by the kernel.
std::vector<Slot> slots_with_steps(const char* op, TensorSpan params, TensorSpan steps) {
  std::vector<Slot> slots(params.size());
  for (size_t i = 0; i < params.size(); ++i) slots[i].step = scalar_of(steps[i], params[0].device(), op, "state_steps");
  return slots;
}

// ---- the kernels: argument checks and scalars as on the CPU, then one launch

void sgd_cuda(TensorSpan self_in, TensorSpan grads_in, TensorSpan buffers_in, double weight_decay, double momentum,
              double lr, double dampening, bool nesterov, bool maximize, bool is_first_step,
              const std::optional<Tensor>& grad_scale, const std::optional<Tensor>& found_inf) {
  check_sgd_args(self_in, grads_in, buffers_in, momentum, DeviceType::CUDA);
  if (self_in.empty()) return;
  const Device device = self_in[0].device();
  const GradScaling scaling = read_grad_scaling(grad_scale, found_inf, device, "_fused_sgd_");
  if (scaling.skip_now()) return;
  DeviceGuard guard(device.index);
  DenseList self(self_in, true), grads(grads_in, scaling.unscale), momentum_buffers(buffers_in, true);
  std::vector<Slot> slots(self_in.size());
  dispatch_floating_types(self_in[0].dtype(), "_fused_sgd_", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    const SgdOp<T> op{{{scaling.unscale, maximize, C(1), C(weight_decay)}, C(momentum), C(lr), C(1 - dampening),
                       nesterov, is_first_step}};
    launch(op, {self, grads, momentum == 0 ? TensorSpan() : TensorSpan(momentum_buffers)}, slots, scaling);
  });
}

template <bool Decoupled>
void adam_cuda(TensorSpan self_in, TensorSpan grads_in, TensorSpan exp_avgs_in, TensorSpan exp_avg_sqs_in,
               TensorSpan max_exp_avg_sqs_in, TensorSpan state_steps, double lr, double beta1, double beta2,
               double weight_decay, double eps, bool amsgrad, bool maximize, const std::optional<Tensor>& grad_scale,
               const std::optional<Tensor>& found_inf) {
  const char* op_name = Decoupled ? "_fused_adamw_" : "_fused_adam_";
  check_adam_args(op_name, self_in, grads_in, exp_avgs_in, exp_avg_sqs_in, max_exp_avg_sqs_in, state_steps, amsgrad,
                  DeviceType::CUDA);
  if (self_in.empty()) return;
  const Device device = self_in[0].device();
  const GradScaling scaling = read_grad_scaling(grad_scale, found_inf, device, op_name);
  if (scaling.skip_now()) return;
  DeviceGuard guard(device.index);
  DenseList self(self_in, true), grads(grads_in, scaling.unscale), exp_avgs(exp_avgs_in, true),
      exp_avg_sqs(exp_avg_sqs_in, true), max_exp_avg_sqs(max_exp_avg_sqs_in, true);
  std::vector<Slot> slots = slots_with_steps(op_name, self_in, state_steps);
  for (Slot& slot : slots) {
    if (slot.step.data) continue;
    const AdamBias bias = adam_bias(lr, beta1, beta2, slot.step.value);
    slot.a = bias.step_size;
    slot.b = bias.bias2_sqrt;
  }
  dispatch_floating_types(self_in[0].dtype(), op_name, [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    const AdamOp<T> op{{{scaling.unscale, maximize, C(1), Decoupled ? C(0) : C(weight_decay)}, C(beta1), C(beta2),
                        C(eps), Decoupled && weight_decay != 0, C(1 - lr * weight_decay)},
                       lr, beta1, beta2};
    launch(op, {self, grads, exp_avgs, exp_avg_sqs, amsgrad ? TensorSpan(max_exp_avg_sqs) : TensorSpan()}, slots,
           scaling);
  });
}

void adagrad_cuda(TensorSpan self_in, TensorSpan grads_in, TensorSpan state_sums_in, TensorSpan state_steps, double lr,
                  double lr_decay, double weight_decay, double eps, bool maximize,
                  const std::optional<Tensor>& grad_scale, const std::optional<Tensor>& found_inf) {
  check_adagrad_args(self_in, grads_in, state_sums_in, state_steps, DeviceType::CUDA);
  if (self_in.empty()) return;
  const Device device = self_in[0].device();
  const GradScaling scaling = read_grad_scaling(grad_scale, found_inf, device, "_fused_adagrad_");
  if (scaling.skip_now()) return;
  DeviceGuard guard(device.index);
  DenseList self(self_in, true), grads(grads_in, scaling.unscale), state_sums(state_sums_in, true);
  std::vector<Slot> slots = slots_with_steps("_fused_adagrad_", self_in, state_steps);
  for (Slot& slot : slots) {
    if (!slot.step.data) slot.a = adagrad_rate(lr, lr_decay, slot.step.value);
  }
  dispatch_floating_types(self_in[0].dtype(), "_fused_adagrad_", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    const AdagradOp<T> op{{{scaling.unscale, maximize, C(1), C(weight_decay)}, C(eps)}, lr, lr_decay};
    launch(op, {self, grads, state_sums}, slots, scaling);
  });
}

void rmsprop_cuda(TensorSpan self_in, TensorSpan grads_in, TensorSpan square_avgs_in, TensorSpan grad_avgs_in,
                  TensorSpan buffers_in, double lr, double alpha, double eps, double weight_decay, double momentum,
                  bool centered, bool maximize, const std::optional<Tensor>& grad_scale,
                  const std::optional<Tensor>& found_inf) {
  check_rmsprop_args(self_in, grads_in, square_avgs_in, grad_avgs_in, buffers_in, momentum, centered,
                     DeviceType::CUDA);
  if (self_in.empty()) return;
  const Device device = self_in[0].device();
  const GradScaling scaling = read_grad_scaling(grad_scale, found_inf, device, "_fused_rmsprop_");
  if (scaling.skip_now()) return;
  DeviceGuard guard(device.index);
  DenseList self(self_in, true), grads(grads_in, scaling.unscale), square_avgs(square_avgs_in, true),
      grad_avgs(grad_avgs_in, true), momentum_buffers(buffers_in, true);
  std::vector<Slot> slots(self_in.size());
  dispatch_floating_types(self_in[0].dtype(), "_fused_rmsprop_", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    const RmspropOp<T> op{{{scaling.unscale, maximize, C(1), C(weight_decay)}, C(alpha), C(eps), C(momentum), C(lr)}};
    launch(op, {self, grads, square_avgs, centered ? TensorSpan(grad_avgs) : TensorSpan(),
                momentum == 0 ? TensorSpan() : TensorSpan(momentum_buffers)},
           slots, scaling);
  });
}


}  // namespace

VT_REGISTRATION(optim_cuda) {
  register_kernel("_fused_sgd_", DispatchKey::CUDA, &sgd_cuda);
  register_kernel("_fused_adam_", DispatchKey::CUDA, &adam_cuda<false>);
  register_kernel("_fused_adamw_", DispatchKey::CUDA, &adam_cuda<true>);
  register_kernel("_fused_adagrad_", DispatchKey::CUDA, &adagrad_cuda);
  register_kernel("_fused_rmsprop_", DispatchKey::CUDA, &rmsprop_cuda);
}

}  // namespace vt::cuda
