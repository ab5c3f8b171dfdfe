// One-group conv2d on CUDA through cuDNN's convolution API: the forward (plus the bias, added
// in place), and the gradients of the input (backward data) and of the weight (backward
// filter); the bias's gradient is a sum. cuDNN takes float16, bfloat16, float32 and float64
// operands of one dtype, NCHW-contiguous, with every size within its int dimensions and
// nothing empty; any other call, and 1x1 convolutions (see cudnn_problem), goes to the
// decomposed kernels (src/ops/conv.cpp), which give the same results and raise the same errors.
//
// Algorithms come from cuDNN's heuristics (cudnnGet*_v7) or, with backends.cudnn.benchmark, from
// timing every one on the first call of a shape (cudnnFind*Ex). The ranked list is cached per
// shape, dtype and setting; a call takes the first algorithm whose workspace it can allocate.
// float32 runs on TF32 tensor cores only with backends.cudnn.allow_tf32 (on by default, as in
// torch); float16 and bfloat16 accumulate in float32; backends.cudnn.deterministic keeps to
// deterministic algorithms.
#include <cudnn.h>

#include <algorithm>
#include <array>
#include <climits>
#include <map>
#include <mutex>
#include <vector>

#include "src/cuda/cuda_check.h"
#include "src/ops/conv.h"
#include "vt/cuda.h"
#include "vt/dispatch.h"
#include "vt/ops.h"

#define VT_CUDNN_CHECK(call)                                                                                   \
  do {                                                                                                         \
    const cudnnStatus_t vt_cudnn_status = (call);                                                              \
    if (vt_cudnn_status != CUDNN_STATUS_SUCCESS) [[unlikely]] {                                                \
      ::vt::fail(::vt::ErrorKind::Runtime, "cuDNN error: ", cudnnGetErrorString(vt_cudnn_status), " (", #call, \
                 " at ", __FILE__, ":", __LINE__, ")");                                                        \
    }                                                                                                          \
  } while (0)

namespace vt::cuda {

int cudnn_version() { return static_cast<int>(cudnnGetVersion()); }

namespace {

constexpr int kMaxDevices = 64;
constexpr int kMaxAlgorithms = 16;  // more than any of the three algorithm enums holds

// One handle per thread and device, created on first use and kept, as torch's pool does.
cudnnHandle_t handle_on(int device) {
  VT_CHECK(device >= 0 && device < kMaxDevices, "conv2d(): cuDNN handles cover devices 0..", kMaxDevices - 1);
  thread_local std::array<cudnnHandle_t, kMaxDevices> handles{};
  cudnnHandle_t& handle = handles[device];
  if (handle == nullptr) VT_CUDNN_CHECK(cudnnCreate(&handle));
  VT_CUDNN_CHECK(cudnnSetStream(handle, static_cast<cudaStream_t>(current_stream(device).handle())));
  return handle;
}

template <class T, cudnnStatus_t (*Create)(T*), cudnnStatus_t (*Destroy)(T)>
class Descriptor {
 public:
  Descriptor() { VT_CUDNN_CHECK(Create(&desc_)); }
  ~Descriptor() { Destroy(desc_); }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  T get() const { return desc_; }

 private:
  T desc_ = nullptr;
};
using TensorDescriptor =
    Descriptor<cudnnTensorDescriptor_t, &cudnnCreateTensorDescriptor, &cudnnDestroyTensorDescriptor>;
using FilterDescriptor =
    Descriptor<cudnnFilterDescriptor_t, &cudnnCreateFilterDescriptor, &cudnnDestroyFilterDescriptor>;
using ConvolutionDescriptor =
    Descriptor<cudnnConvolutionDescriptor_t, &cudnnCreateConvolutionDescriptor, &cudnnDestroyConvolutionDescriptor>;

enum class Direction { Forward, BackwardData, BackwardFilter };

// An algorithm of one direction and the math type it runs with.
struct Choice {
  int algorithm;
  cudnnMathType_t math;
};

// A convolution as cuDNN sees it: sizes of x [N, C, H, W], weight [O, C, KH, KW] and the
// output [N, O, OH, OW], the window (pad, stride, dilation, each as height then width) and
// the settings that change the choice of algorithm.
struct Problem {
  int device;
  ScalarType dtype;
  std::array<int, 4> x, w, y;
  std::array<int, 6> window;
  bool tf32, deterministic, benchmark;

  std::vector<int> key(Direction direction) const {
    std::vector<int> k{static_cast<int>(direction), device, static_cast<int>(dtype), tf32, deterministic, benchmark};
    for (const auto* part : {&x, &w}) k.insert(k.end(), part->begin(), part->end());
    k.insert(k.end(), window.begin(), window.end());
    return k;
  }
  bool fp32_without_tf32() const { return dtype == ScalarType::Float32 && !tf32; }
};

cudnnDataType_t data_type(ScalarType dtype) {
  switch (dtype) {
    case ScalarType::Float16: return CUDNN_DATA_HALF;
    case ScalarType::BFloat16: return CUDNN_DATA_BFLOAT16;
    case ScalarType::Float64: return CUDNN_DATA_DOUBLE;
    default: return CUDNN_DATA_FLOAT;
  }
}

// The descriptors of one problem.
struct Setup {
  TensorDescriptor x, y;
  FilterDescriptor w;
  ConvolutionDescriptor conv;

  explicit Setup(const Problem& p) {
    const cudnnDataType_t data = data_type(p.dtype);
    VT_CUDNN_CHECK(cudnnSetTensor4dDescriptor(x.get(), CUDNN_TENSOR_NCHW, data, p.x[0], p.x[1], p.x[2], p.x[3]));
    VT_CUDNN_CHECK(cudnnSetTensor4dDescriptor(y.get(), CUDNN_TENSOR_NCHW, data, p.y[0], p.y[1], p.y[2], p.y[3]));
    VT_CUDNN_CHECK(cudnnSetFilter4dDescriptor(w.get(), data, CUDNN_TENSOR_NCHW, p.w[0], p.w[1], p.w[2], p.w[3]));
    const auto& [ph, pw, sh, sw, dh, dw] = p.window;
    VT_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv.get(), ph, pw, sh, sw, dh, dw, CUDNN_CROSS_CORRELATION,
                                                   p.dtype == ScalarType::Float64 ? CUDNN_DATA_DOUBLE
                                                                                  : CUDNN_DATA_FLOAT));
    set_math(p.fp32_without_tf32() ? CUDNN_FMA_MATH
                                   : (p.dtype == ScalarType::Float16 || p.dtype == ScalarType::BFloat16
                                          ? CUDNN_TENSOR_OP_MATH
                                          : CUDNN_DEFAULT_MATH));
  }
  void set_math(cudnnMathType_t math) const { VT_CUDNN_CHECK(cudnnSetConvolutionMathType(conv.get(), math)); }
};

// The problem's algorithms in cuDNN's order of preference, without those the settings rule out.
template <class Perf>
std::vector<Choice> usable_choices(const Perf* perfs, int count, const Problem& p) {
  std::vector<Choice> choices;
  for (int i = 0; i < count; ++i) {
    const Perf& perf = perfs[i];
    if (perf.status != CUDNN_STATUS_SUCCESS) continue;
    if (p.deterministic && perf.determinism != CUDNN_DETERMINISTIC) continue;
    if (p.fp32_without_tf32() && perf.mathType == CUDNN_TENSOR_OP_MATH) continue;
    choices.push_back(Choice{static_cast<int>(perf.algo), p.fp32_without_tf32() ? CUDNN_FMA_MATH : perf.mathType});
  }
  VT_CHECK(!choices.empty(), "conv2d(): cuDNN offers no algorithm for this convolution",
           p.deterministic ? " that is deterministic (backends.cudnn.deterministic is set)" : "");
  return choices;
}

// The largest workspace of the heuristics' algorithms, for benchmarking them; capped, and
// halved until it can be allocated.
Tensor benchmark_workspace(size_t wanted, Device device) {
  size_t bytes = std::min<size_t>(wanted, size_t{1} << 30);
  while (true) {
    try {
      return empty_tensor(std::vector<int64_t>{static_cast<int64_t>(std::max<size_t>(bytes, 1))}, ScalarType::UInt8,
                          device);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::OutOfMemory || bytes == 0) throw;
      bytes /= 2;
    }
  }
}

// cuDNN's alpha and beta: double for double data, float for the others.
const void* scaling(ScalarType dtype, double value) {
  static const double doubles[] = {0.0, 1.0};
  static const float floats[] = {0.0f, 1.0f};
  const int i = value == 0.0 ? 0 : 1;
  return dtype == ScalarType::Float64 ? static_cast<const void*>(&doubles[i]) : &floats[i];
}

// The three directions' calls to cuDNN: heuristics, benchmark, workspace size and the run.
struct Operands {
  const void* x;
  const void* w;
  const void* y;
  void* out;  // y, the gradient of x or the gradient of w
};

template <Direction D>
struct Calls;

template <>
struct Calls<Direction::Forward> {
  using Perf = cudnnConvolutionFwdAlgoPerf_t;
  static void heuristics(cudnnHandle_t h, const Setup& s, Perf* perfs, int* count) {
    VT_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, s.x.get(), s.w.get(), s.conv.get(), s.y.get(),
                                                          kMaxAlgorithms, count, perfs));
  }
  static void benchmark(cudnnHandle_t h, const Setup& s, const Operands& o, Perf* perfs, int* count, Tensor& ws) {
    VT_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(h, s.x.get(), o.x, s.w.get(), o.w, s.conv.get(), s.y.get(),
                                                          o.out, kMaxAlgorithms, count, perfs, ws.data_ptr(),
                                                          static_cast<size_t>(ws.numel())));
  }
  static size_t workspace(cudnnHandle_t h, const Setup& s, int algorithm) {
    size_t bytes = 0;
    VT_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(h, s.x.get(), s.w.get(), s.conv.get(), s.y.get(),
                                                           static_cast<cudnnConvolutionFwdAlgo_t>(algorithm), &bytes));
    return bytes;
  }
  static void run(cudnnHandle_t h, const Setup& s, const Operands& o, int algorithm, void* ws, size_t bytes,
                  const void* one, const void* zero) {
    VT_CUDNN_CHECK(cudnnConvolutionForward(h, one, s.x.get(), o.x, s.w.get(), o.w, s.conv.get(),
                                           static_cast<cudnnConvolutionFwdAlgo_t>(algorithm), ws, bytes, zero,
                                           s.y.get(), o.out));
  }
};

template <>
struct Calls<Direction::BackwardData> {
  using Perf = cudnnConvolutionBwdDataAlgoPerf_t;
  static void heuristics(cudnnHandle_t h, const Setup& s, Perf* perfs, int* count) {
    VT_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, s.w.get(), s.y.get(), s.conv.get(), s.x.get(),
                                                               kMaxAlgorithms, count, perfs));
  }
  static void benchmark(cudnnHandle_t h, const Setup& s, const Operands& o, Perf* perfs, int* count, Tensor& ws) {
    VT_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(h, s.w.get(), o.w, s.y.get(), o.y, s.conv.get(),
                                                               s.x.get(), o.out, kMaxAlgorithms, count, perfs,
                                                               ws.data_ptr(), static_cast<size_t>(ws.numel())));
  }
  static size_t workspace(cudnnHandle_t h, const Setup& s, int algorithm) {
    size_t bytes = 0;
    VT_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(
        h, s.w.get(), s.y.get(), s.conv.get(), s.x.get(), static_cast<cudnnConvolutionBwdDataAlgo_t>(algorithm),
        &bytes));
    return bytes;
  }
  static void run(cudnnHandle_t h, const Setup& s, const Operands& o, int algorithm, void* ws, size_t bytes,
                  const void* one, const void* zero) {
    VT_CUDNN_CHECK(cudnnConvolutionBackwardData(h, one, s.w.get(), o.w, s.y.get(), o.y, s.conv.get(),
                                                static_cast<cudnnConvolutionBwdDataAlgo_t>(algorithm), ws, bytes, zero,
                                                s.x.get(), o.out));
  }
};

template <>
struct Calls<Direction::BackwardFilter> {
  using Perf = cudnnConvolutionBwdFilterAlgoPerf_t;
  static void heuristics(cudnnHandle_t h, const Setup& s, Perf* perfs, int* count) {
    VT_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, s.x.get(), s.y.get(), s.conv.get(), s.w.get(),
                                                                 kMaxAlgorithms, count, perfs));
  }
  static void benchmark(cudnnHandle_t h, const Setup& s, const Operands& o, Perf* perfs, int* count, Tensor& ws) {
    VT_CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(h, s.x.get(), o.x, s.y.get(), o.y, s.conv.get(),
                                                                 s.w.get(), o.out, kMaxAlgorithms, count, perfs,
                                                                 ws.data_ptr(), static_cast<size_t>(ws.numel())));
  }
  static size_t workspace(cudnnHandle_t h, const Setup& s, int algorithm) {
    size_t bytes = 0;
    VT_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(
        h, s.x.get(), s.y.get(), s.conv.get(), s.w.get(), static_cast<cudnnConvolutionBwdFilterAlgo_t>(algorithm),
        &bytes));
    return bytes;
  }
  static void run(cudnnHandle_t h, const Setup& s, const Operands& o, int algorithm, void* ws, size_t bytes,
                  const void* one, const void* zero) {
    VT_CUDNN_CHECK(cudnnConvolutionBackwardFilter(h, one, s.x.get(), o.x, s.y.get(), o.y, s.conv.get(),
                                                  static_cast<cudnnConvolutionBwdFilterAlgo_t>(algorithm), ws, bytes,
                                                  zero, s.w.get(), o.out));
  }
};

// The ranked algorithms of a problem, found once per key.
template <Direction D>
const std::vector<Choice>& choices_for(cudnnHandle_t handle, const Setup& setup, const Problem& p, const Operands& o) {
  static std::mutex mutex;
  static std::map<std::vector<int>, std::vector<Choice>> cache;
  const std::vector<int> key = p.key(D);
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (auto it = cache.find(key); it != cache.end()) return it->second;
  }
  using Perf = typename Calls<D>::Perf;
  Perf perfs[kMaxAlgorithms];
  int count = 0;
  Calls<D>::heuristics(handle, setup, perfs, &count);
  if (p.benchmark) {
    size_t wanted = 0;
    for (int i = 0; i < count; ++i) {
      if (perfs[i].status == CUDNN_STATUS_SUCCESS) wanted = std::max(wanted, perfs[i].memory);
    }
    Tensor workspace = benchmark_workspace(wanted, Device(DeviceType::CUDA, p.device));
    Calls<D>::benchmark(handle, setup, o, perfs, &count, workspace);
  }
  std::vector<Choice> ranked = usable_choices(perfs, count, p);
  std::lock_guard<std::mutex> lock(mutex);
  return cache.emplace(key, std::move(ranked)).first->second;
}

// Runs direction D with the first algorithm whose workspace can be allocated.
template <Direction D>
void run(const Problem& p, const Setup& setup, const Operands& o) {
  cudnnHandle_t handle = handle_on(p.device);
  const void* one = scaling(p.dtype, 1.0);
  const void* zero = scaling(p.dtype, 0.0);
  const std::vector<Choice>& choices = choices_for<D>(handle, setup, p, o);
  for (size_t i = 0; i < choices.size(); ++i) {
    setup.set_math(choices[i].math);
    const size_t bytes = Calls<D>::workspace(handle, setup, choices[i].algorithm);
    Tensor workspace;
    try {
      workspace = empty_tensor(std::vector<int64_t>{static_cast<int64_t>(std::max<size_t>(bytes, 1))},
                               ScalarType::UInt8, Device(DeviceType::CUDA, p.device));
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::OutOfMemory || i + 1 == choices.size()) throw;
      continue;  // the next algorithm may need less
    }
    Calls<D>::run(handle, setup, o, choices[i].algorithm, workspace.data_ptr(), bytes, one, zero);
    return;
  }
}

bool fits_int(IntArrayRef sizes) {
  int64_t numel = 1;
  for (int64_t s : sizes) numel *= s;
  return numel > 0 && numel <= INT_MAX;
}

// The problem of a call cuDNN takes, or nothing (the call then goes to the decomposed kernels).
std::optional<Problem> cudnn_problem(const Tensor& x, const Tensor& weight, IntArrayRef stride, IntArrayRef padding,
                                     IntArrayRef dilation, std::initializer_list<const Tensor*> same_dtype) {
  const ScalarType dtype = x.dtype();
  if (!cudnn_flag(CudnnFlag::Enabled) || !is_floating_point(dtype)) return std::nullopt;
  for (const Tensor* t : same_dtype) {
    if (t->dtype() != dtype || t->device() != x.device()) return std::nullopt;
  }
  // Arguments the decomposed kernels refuse go there, to be refused with their errors.
  if (x.dim() != 4 || weight.dim() != 4 || stride.size() != 2 || padding.size() != 2 || dilation.size() != 2 ||
      x.size(1) != weight.size(1)) {
    return std::nullopt;
  }
  for (int i = 0; i < 2; ++i) {
    if (stride[i] <= 0 || dilation[i] <= 0 || padding[i] < 0) return std::nullopt;
  }
  const int64_t oh = (x.size(2) + 2 * padding[0] - dilation[0] * (weight.size(2) - 1) - 1) / stride[0] + 1;
  const int64_t ow = (x.size(3) + 2 * padding[1] - dilation[1] * (weight.size(3) - 1) - 1) / stride[1] + 1;
  const std::vector<int64_t> y{x.size(0), weight.size(0), oh, ow};
  if (!fits_int(x.sizes()) || !fits_int(weight.sizes()) || oh <= 0 || ow <= 0 || !fits_int(y)) return std::nullopt;
  // A 1x1 window with stride 1 and no padding is a matrix product per sample, which the
  // decomposed kernels run through cuBLASLt faster than cuDNN's legacy algorithms do (H200,
  // 32x256x56x56 to 64 channels in bfloat16: forward 0.025 ms against 1.32 (torch: 0.026),
  // with backward 0.36 against 2.72).
  const bool pointwise = weight.size(2) == 1 && weight.size(3) == 1 && stride[0] == 1 && stride[1] == 1 &&
                         padding[0] == 0 && padding[1] == 0;
  if (pointwise) return std::nullopt;
  for (IntArrayRef v : {stride, padding, dilation}) {
    if (std::any_of(v.begin(), v.end(), [](int64_t s) { return s > INT_MAX; })) return std::nullopt;
  }
  auto four = [](IntArrayRef s) {
    return std::array<int, 4>{static_cast<int>(s[0]), static_cast<int>(s[1]), static_cast<int>(s[2]),
                              static_cast<int>(s[3])};
  };
  return Problem{x.device().index,
                 dtype,
                 four(x.sizes()),
                 four(weight.sizes()),
                 four(y),
                 {static_cast<int>(padding[0]), static_cast<int>(padding[1]), static_cast<int>(stride[0]),
                  static_cast<int>(stride[1]), static_cast<int>(dilation[0]), static_cast<int>(dilation[1])},
                 cudnn_flag(CudnnFlag::AllowTF32),
                 cudnn_flag(CudnnFlag::Deterministic),
                 cudnn_flag(CudnnFlag::Benchmark)};
}

Tensor conv2d_cudnn(const Tensor& x, const Tensor& weight, const std::optional<Tensor>& bias, IntArrayRef stride,
                    IntArrayRef padding, IntArrayRef dilation) {
  const bool bias_fits = !bias || (bias->dim() == 1 && bias->size(0) == weight.size(0));
  std::optional<Problem> p = !bias_fits ? std::nullopt
                             : bias     ? cudnn_problem(x, weight, stride, padding, dilation, {&weight, &*bias})
                                        : cudnn_problem(x, weight, stride, padding, dilation, {&weight});
  if (!p) return conv::conv2d_dense_decomposed(x, weight, bias, stride, padding, dilation);
  DeviceGuard guard(p->device);
  const Tensor input = contiguous(x), filter = contiguous(weight);
  Tensor out = empty_tensor(std::vector<int64_t>(p->y.begin(), p->y.end()), p->dtype, x.device());
  const Setup setup(*p);
  run<Direction::Forward>(*p, setup, Operands{input.data_ptr(), filter.data_ptr(), nullptr, out.data_ptr()});
  if (bias) {
    const Tensor b = contiguous(*bias);
    TensorDescriptor bias_desc;
    VT_CUDNN_CHECK(
        cudnnSetTensor4dDescriptor(bias_desc.get(), CUDNN_TENSOR_NCHW, data_type(p->dtype), 1, p->y[1], 1, 1));
    const void* one = scaling(p->dtype, 1.0);
    VT_CUDNN_CHECK(cudnnAddTensor(handle_on(p->device), one, bias_desc.get(), b.data_ptr(), one, setup.y.get(),
                                  out.data_ptr()));
  }
  return out;
}

std::tuple<Tensor, Tensor, Tensor> conv2d_backward_cudnn(const Tensor& grad_output, const Tensor& x,
                                                        const Tensor& weight, IntArrayRef stride, IntArrayRef padding,
                                                        IntArrayRef dilation, std::array<bool, 3> output_mask) {
  std::optional<Problem> p = cudnn_problem(x, weight, stride, padding, dilation, {&weight, &grad_output});
  const bool matches = p && grad_output.dim() == 4 &&
                       std::equal(p->y.begin(), p->y.end(), grad_output.sizes().begin(), grad_output.sizes().end());
  if (!matches) {
    return conv::conv2d_dense_backward_decomposed(grad_output, x, weight, stride, padding, dilation, output_mask);
  }
  DeviceGuard guard(p->device);
  const Tensor grad = contiguous(grad_output), input = contiguous(x), filter = contiguous(weight);
  const Setup setup(*p);
  Tensor grad_x, grad_weight, grad_bias;
  if (output_mask[0]) {
    grad_x = empty_tensor(x.sizes(), p->dtype, x.device());
    run<Direction::BackwardData>(*p, setup, Operands{nullptr, filter.data_ptr(), grad.data_ptr(), grad_x.data_ptr()});
  }
  if (output_mask[1]) {
    grad_weight = empty_tensor(weight.sizes(), p->dtype, x.device());
    run<Direction::BackwardFilter>(*p, setup,
                                   Operands{input.data_ptr(), nullptr, grad.data_ptr(), grad_weight.data_ptr()});
  }
  if (output_mask[2]) grad_bias = sum(grad_output, std::vector<int64_t>{0, 2, 3});
  return {grad_x, grad_weight, grad_bias};
}

}  // namespace

VT_REGISTRATION(conv_cuda) {
  register_kernel("_conv2d_dense", DispatchKey::CUDA, &conv2d_cudnn);
  register_kernel("_conv2d_dense_backward", DispatchKey::CUDA, &conv2d_backward_cudnn);
}

}  // namespace vt::cuda
