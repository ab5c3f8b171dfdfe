// mm, bmm and addmm on CUDA through cuBLASLt: float32 (rounded to TF32 only when
// vt.backends.cuda.matmul.allow_tf32 says so), float16 and bfloat16 accumulating in float32,
// float64. Integer products raise, as in torch.
//
// Our matrices are row-major and cuBLASLt's column-major, so C = A @ B runs as C^T = B^T A^T:
// a row-major view with unit column stride is, as it lies in memory, its own transpose in
// column-major order; a transposed view (unit row stride) is the matrix itself in column-major
// order, which cuBLASLt reads with op T. Neither is copied; other layouts are made contiguous.
//
// Each device has one cuBLASLt handle (shared by all threads: it holds no stream and no
// workspace), a workspace per stream (two streams running at once must not share one) and
// the algorithm the heuristic chose for each problem seen, so a repeated product asks nothing.
#include <cublasLt.h>

#include <limits>
#include <mutex>
#include <optional>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "src/cuda/cuda_check.h"
#include "src/cuda/memory.h"
#include "vt/cuda.h"
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt::linalg {
void check_mm(const Tensor& a, const Tensor& b);
void check_bmm(const Tensor& a, const Tensor& b);
Tensor addmm_decomposed(const Tensor& self, const Tensor& mat1, const Tensor& mat2, const Scalar& beta,
                        const Scalar& alpha);
}  // namespace vt::linalg

namespace vt::cuda {
namespace {

// As torch's on Hopper: enough for the split-K and stream-K kernels of large products.
constexpr size_t kWorkspaceBytes = size_t{32} << 20;

// The last two dims of a tensor, a row-major [r, c] matrix, as cuBLASLt reads its transpose:
// the column-major matrix in memory and the op that turns it into that transpose.
struct Operand {
  const void* data;
  cublasOperation_t op;
  int64_t rows, cols, ld;  // of the column-major matrix in memory
  int64_t batch_stride;
};

// Sizes are at least 1 here. The stride of a size-1 dim is never followed, so it does not
// have to fit.
std::optional<Operand> as_operand(const Tensor& t) {
  const int64_t r = t.size(-2), c = t.size(-1), rs = t.stride(-2), cs = t.stride(-1);
  const int64_t batch_stride = t.dim() == 3 ? t.stride(0) : 0;
  if ((cs == 1 || c == 1) && (r == 1 || rs >= c)) {
    return Operand{t.data_ptr(), CUBLAS_OP_N, c, r, r == 1 ? c : rs, batch_stride};
  }
  if ((rs == 1 || r == 1) && (c == 1 || cs >= r)) {
    return Operand{t.data_ptr(), CUBLAS_OP_T, r, c, c == 1 ? r : cs, batch_stride};
  }
  return std::nullopt;
}

struct GemmTypes {
  cudaDataType_t data;
  cublasComputeType_t compute;
  cudaDataType_t scale;
  uint32_t reduction_mask;  // which split-K reductions the heuristic may pick
};

GemmTypes gemm_types(ScalarType type) {
  // Split-K partial sums reduced in float32 only, unless reduced precision is allowed.
  auto reductions = [](MatmulFlag allow_reduced) -> uint32_t {
    return matmul_flag(allow_reduced) ? CUBLASLT_REDUCTION_SCHEME_MASK
                                      : CUBLASLT_REDUCTION_SCHEME_NONE | CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE;
  };
  switch (type) {
    case ScalarType::Float32:
      return {CUDA_R_32F, matmul_flag(MatmulFlag::AllowTF32) ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F,
              CUDA_R_32F, CUBLASLT_REDUCTION_SCHEME_MASK};
    case ScalarType::Float64: return {CUDA_R_64F, CUBLAS_COMPUTE_64F, CUDA_R_64F, CUBLASLT_REDUCTION_SCHEME_MASK};
    case ScalarType::Float16:
      return {CUDA_R_16F, CUBLAS_COMPUTE_32F, CUDA_R_32F, reductions(MatmulFlag::AllowFP16ReducedPrecisionReduction)};
    case ScalarType::BFloat16:
      return {CUDA_R_16BF, CUBLAS_COMPUTE_32F, CUDA_R_32F, reductions(MatmulFlag::AllowBF16ReducedPrecisionReduction)};
    default: fail(ErrorKind::Runtime, "cuBLASLt: unexpected dtype ", dtype_short_name(type));
  }
}

// torch's message and exception type for the dtypes its CUDA products lack.
void check_floating(std::string_view op, ScalarType type) {
  VT_CHECK_KIND(is_floating_point(type), ErrorKind::NotImplemented, "\"", op, "\" not implemented for '",
                dtype_short_name(type), "'");
}

// The largest power of two, up to 256, that divides the address of every matrix of the
// batch: what the heuristic may assume of that operand.
int64_t alignment_of(const void* data, int64_t batch = 1, int64_t batch_stride = 0, size_t itemsize = 0) {
  uintptr_t address = reinterpret_cast<uintptr_t>(data);
  if (batch > 1) address |= static_cast<uintptr_t>(batch_stride) * itemsize;
  int64_t alignment = 1;
  while (alignment < 256 && address % (alignment * 2) == 0) alignment *= 2;
  return alignment;
}

// Everything the heuristic's choice depends on, apart from the device (each has its own
// cache). All int64_t: no padding, so the bytes can be hashed and compared.
struct PlanKey {
  int64_t dtype, compute, reduction_mask, bias;
  int64_t transa, transb, m, n, k, lda, ldb, ldc, batch, stride_a, stride_b, stride_c;
  int64_t align_a, align_b, align_c;
  bool operator==(const PlanKey&) const = default;
};
static_assert(std::has_unique_object_representations_v<PlanKey>);
struct PlanKeyHash {
  size_t operator()(const PlanKey& key) const {
    return std::hash<std::string_view>()(std::string_view(reinterpret_cast<const char*>(&key), sizeof key));
  }
};

struct DeviceBlas {
  std::once_flag created;
  cublasLtHandle_t handle = nullptr;
  std::mutex mutex;  // guards the two maps
  std::unordered_map<cudaStream_t, void*> workspaces;
  // nullopt: cuBLASLt has no algorithm for that problem (a bias epilogue it lacks).
  std::unordered_map<PlanKey, std::optional<cublasLtMatmulAlgo_t>, PlanKeyHash> algorithms;
};

// Made once for all devices, each handle on first use of its device (with that device
// current). Leaked on purpose, as the allocators are: products may run during interpreter
// shutdown, and the workspaces stay allocated for the life of the process.
DeviceBlas& device_blas(int device) {
  static const std::vector<DeviceBlas*>* all = [] {
    auto* devices = new std::vector<DeviceBlas*>();
    for (int d = 0; d < device_count(); ++d) devices->push_back(new DeviceBlas());
    return devices;
  }();
  DeviceBlas& blas = *(*all)[device];
  std::call_once(blas.created, [&] { VT_CUBLAS_CHECK(cublasLtCreate(&blas.handle)); });
  return blas;
}

template <class T>
void set_attribute(cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attribute, const T& value) {
  VT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc, attribute, &value, sizeof value));
}
template <class T>
void set_attribute(cublasLtMatrixLayout_t layout, cublasLtMatrixLayoutAttribute_t attribute, const T& value) {
  VT_CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(layout, attribute, &value, sizeof value));
}
template <class T>
void set_attribute(cublasLtMatmulPreference_t pref, cublasLtMatmulPreferenceAttributes_t attribute, const T& value) {
  VT_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, attribute, &value, sizeof value));
}

void init_layout(cublasLtMatrixLayout_t layout, cudaDataType_t type, int64_t rows, int64_t cols, int64_t ld,
                 int64_t batch, int64_t batch_stride) {
  VT_CUBLAS_CHECK(cublasLtMatrixLayoutInit(layout, type, rows, cols, ld));
  if (batch > 1) {
    set_attribute(layout, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, static_cast<int32_t>(batch));
    set_attribute(layout, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, batch_stride);
  }
}

std::optional<cublasLtMatmulAlgo_t> choose_algorithm(cublasLtHandle_t handle, cublasLtMatmulDesc_t desc,
                                                     cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b,
                                                     cublasLtMatrixLayout_t c, const PlanKey& key) {
  cublasLtMatmulPreferenceOpaque_t pref_storage;
  cublasLtMatmulPreference_t pref = &pref_storage;
  VT_CUBLAS_CHECK(cublasLtMatmulPreferenceInit(pref));
  set_attribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, uint64_t{kWorkspaceBytes});
  set_attribute(pref, CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK, static_cast<uint32_t>(key.reduction_mask));
  set_attribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, static_cast<uint32_t>(key.align_a));
  set_attribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, static_cast<uint32_t>(key.align_b));
  set_attribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, static_cast<uint32_t>(key.align_c));
  set_attribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, static_cast<uint32_t>(key.align_c));
  cublasLtMatmulHeuristicResult_t result{};
  int count = 0;
  const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(handle, desc, a, b, c, c, pref, 1, &result, &count);
  if (status == CUBLAS_STATUS_NOT_SUPPORTED || (status == CUBLAS_STATUS_SUCCESS && count == 0)) return std::nullopt;
  VT_CUBLAS_CHECK(status);
  return result.algo;
}

// One cuBLASLt product, out = alpha * a @ b + beta * out, with a and b as cuBLASLt reads them
// (see as_operand) and k their shared dim; false when cuBLASLt has no algorithm for it, and
// nothing was queued.
bool run(const Operand& oa, const Operand& ob, const Tensor& out, int64_t k, double alpha, double beta,
         const Tensor* bias) {
  const int device = out.device().index;
  const int64_t batch = out.dim() == 3 ? out.size(0) : 1;
  const int64_t n = out.size(-2), m = out.size(-1);
  const size_t itemsize = out.itemsize();
  // cuBLASLt's A is our b, its B our a and its D the transpose of out, [m, n] column-major.
  const GemmTypes types = gemm_types(out.dtype());
  const PlanKey key{static_cast<int64_t>(out.dtype()), types.compute, types.reduction_mask, bias != nullptr,
                    ob.op, oa.op, m, n, k, ob.ld, oa.ld, m, batch, ob.batch_stride, oa.batch_stride, n * m,
                    alignment_of(ob.data, batch, ob.batch_stride, itemsize),
                    alignment_of(oa.data, batch, oa.batch_stride, itemsize),
                    alignment_of(out.data_ptr(), batch, n * m, itemsize)};

  cublasLtMatmulDescOpaque_t desc_storage;
  cublasLtMatmulDesc_t desc = &desc_storage;
  VT_CUBLAS_CHECK(cublasLtMatmulDescInit(desc, types.compute, types.scale));
  set_attribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, static_cast<int32_t>(ob.op));
  set_attribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, static_cast<int32_t>(oa.op));
  if (bias) {
    set_attribute(desc, CUBLASLT_MATMUL_DESC_EPILOGUE, static_cast<uint32_t>(CUBLASLT_EPILOGUE_BIAS));
    set_attribute(desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, bias->data_ptr());
  }
  cublasLtMatrixLayoutOpaque_t layout_storage[3];
  cublasLtMatrixLayout_t la = &layout_storage[0], lb = &layout_storage[1], lc = &layout_storage[2];
  init_layout(la, types.data, ob.rows, ob.cols, ob.ld, batch, ob.batch_stride);
  init_layout(lb, types.data, oa.rows, oa.cols, oa.ld, batch, oa.batch_stride);
  init_layout(lc, types.data, m, n, m, batch, n * m);

  DeviceBlas& blas = device_blas(device);
  const auto stream = static_cast<cudaStream_t>(current_stream(device).handle());
  void* workspace;
  std::optional<cublasLtMatmulAlgo_t> algorithm;
  {
    std::lock_guard<std::mutex> lock(blas.mutex);
    void*& stream_workspace = blas.workspaces[stream];
    // Allocated on that stream, so only that stream's work touches it.
    if (!stream_workspace) stream_workspace = caching_allocator(device).allocate(kWorkspaceBytes, stream);
    workspace = stream_workspace;
    auto found = blas.algorithms.find(key);
    if (found == blas.algorithms.end()) {
      found = blas.algorithms.emplace(key, choose_algorithm(blas.handle, desc, la, lb, lc, key)).first;
    }
    algorithm = found->second;
  }
  if (!algorithm) return false;

  // Host scalars in the scale type: float32 but for float64 products.
  union Scale {
    float f;
    double d;
  } alpha_scale, beta_scale;
  if (types.scale == CUDA_R_64F) {
    alpha_scale.d = alpha;
    beta_scale.d = beta;
  } else {
    alpha_scale.f = static_cast<float>(alpha);
    beta_scale.f = static_cast<float>(beta);
  }
  VT_CUBLAS_CHECK(cublasLtMatmul(blas.handle, desc, &alpha_scale, ob.data, la, oa.data, lb, &beta_scale,
                                 out.data_ptr(), lc, out.data_ptr(), lc, &*algorithm, workspace, kWorkspaceBytes,
                                 stream));
  return true;
}

// A copy in a new block: contiguous and aligned.
Tensor fresh_copy(const Tensor& t) {
  Tensor copy = empty_tensor(t.sizes(), t.dtype(), t.device());
  copy_(copy, t);
  return copy;
}

// out = alpha * a @ b + beta * out for a [n, k] @ [k, m] product, or a batch of them
// ([batch, n, k] @ [batch, k, m]). out is contiguous and no size is 0. With a bias (a
// contiguous [m] vector, beta 0), the epilogue adds it to every row; false when cuBLASLt has
// no algorithm for that, and nothing was queued.
bool gemm(const Tensor& a, const Tensor& b, const Tensor& out, double alpha, double beta,
          const Tensor* bias = nullptr) {
  DeviceGuard guard(out.device().index);
  const int64_t batch = out.dim() == 3 ? out.size(0) : 1;
  VT_CHECK(batch <= std::numeric_limits<int32_t>::max(), "bmm: a batch of ", batch,
           " matrices is too large for cuBLASLt");
  Tensor dense_a = a, dense_b = b;  // kept alive until the product is queued
  std::optional<Operand> oa = as_operand(a), ob = as_operand(b);
  if (!oa) oa = as_operand(dense_a = contiguous(a));
  if (!ob) ob = as_operand(dense_b = contiguous(b));
  const int64_t k = a.size(-1);
  if (run(*oa, *ob, out, k, alpha, beta, bias)) return true;
  if (bias) return false;
  // No algorithm for these strides or alignments (a view that starts at an odd element, say):
  // every cuBLASLt build has one for aligned contiguous operands.
  oa = as_operand(dense_a = fresh_copy(a));
  ob = as_operand(dense_b = fresh_copy(b));
  VT_CHECK(run(*oa, *ob, out, k, alpha, beta, nullptr), "cuBLASLt has no algorithm for a ",
           dtype_short_name(out.dtype()), " product of [", out.size(-2), ", ", k, "] and [", k, ", ", out.size(-1),
           "] matrices (batch ", batch, ")");
  return true;
}

Tensor mm_cuda(const Tensor& a, const Tensor& b) {
  linalg::check_mm(a, b);
  check_floating("addmm_cuda", a.dtype());  // torch's mm is its addmm
  Tensor out = empty_tensor(std::vector<int64_t>{a.size(0), b.size(1)}, a.dtype(), a.device());
  if (out.numel() == 0) return out;
  if (a.size(1) == 0) fill_(out, 0);
  else gemm(a, b, out, 1, 0);
  return out;
}

Tensor bmm_cuda(const Tensor& a, const Tensor& b) {
  linalg::check_bmm(a, b);
  check_floating("bmm_cuda", a.dtype());
  Tensor out = empty_tensor(std::vector<int64_t>{a.size(0), a.size(1), b.size(2)}, a.dtype(), a.device());
  if (out.numel() == 0) return out;
  if (a.size(2) == 0) fill_(out, 0);
  else gemm(a, b, out, 1, 0);
  return out;
}

// Whether self broadcasts to [n, m] (sizes 1 or equal, aligned from the right).
bool broadcasts_to(const Tensor& self, int64_t n, int64_t m) {
  if (self.dim() > 2) return false;
  for (int64_t d = 0; d < self.dim(); ++d) {
    const int64_t want = d == self.dim() - 1 ? m : n;
    if (self.size(d) != want && self.size(d) != 1) return false;
  }
  return true;
}

// beta * self + alpha * (a @ b). A bias row with beta 1 (linear's case) goes to cuBLASLt's
// bias epilogue; otherwise self is copied into the output and cuBLASLt adds beta times it
// (not read at all for beta 0: self's NaNs do not propagate, as in torch). A self of another
// dtype or device, or one that does not broadcast, takes the decomposed form (as on the CPU).
Tensor addmm_cuda(const Tensor& self, const Tensor& a, const Tensor& b, const Scalar& beta, const Scalar& alpha) {
  linalg::check_mm(a, b);
  check_floating("addmm_cuda", a.dtype());
  const int64_t n = a.size(0), k = a.size(1), m = b.size(1);
  if (self.dtype() != a.dtype() || self.device() != a.device() || !broadcasts_to(self, n, m)) {
    return linalg::addmm_decomposed(self, a, b, beta, alpha);
  }
  Tensor out = empty_tensor(std::vector<int64_t>{n, m}, a.dtype(), a.device());
  if (out.numel() == 0) return out;
  const double beta_value = beta.to_double();
  // cuBLASLt takes no alignment preference for the bias, so only a well-aligned one goes to
  // the epilogue; sizes of 1 stay away from it, as in torch (cuBLASLt bugs there).
  const bool bias_row = self.dim() >= 1 && self.numel() == m && self.stride(-1) == 1 &&
                        alignment_of(self.data_ptr()) >= 16;
  if (beta_value == 1 && bias_row && n > 1 && k > 1 && m > 1 && gemm(a, b, out, alpha.to_double(), 0, &self)) {
    return out;
  }
  if (beta_value == 0) {
    if (k == 0) fill_(out, 0);
    else gemm(a, b, out, alpha.to_double(), 0);
    return out;
  }
  copy_(out, expand(self, out.sizes()));
  if (k == 0) {
    if (beta_value != 1) mul_(out, scalar_to_tensor(beta));
  } else {
    gemm(a, b, out, alpha.to_double(), beta_value);
  }
  return out;
}

}  // namespace

VT_REGISTRATION(blas_cuda) {
  register_kernel("mm", DispatchKey::CUDA, &mm_cuda);
  register_kernel("bmm", DispatchKey::CUDA, &bmm_cuda);
  register_kernel("addmm", DispatchKey::CUDA, &addmm_cuda);
}

}  // namespace vt::cuda
