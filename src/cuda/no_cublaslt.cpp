// mm, bmm and addmm on CUDA in a build that found no cuBLASLt (neither in the CUDA toolkit nor
// as the nvidia-cublas wheel): they say so, and everything else on CUDA still works.
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt::cuda {
namespace {

[[noreturn]] void no_cublaslt() {
  fail(ErrorKind::Runtime,
       "matrix products on CUDA: vibetensor was built without cuBLASLt (found neither in the CUDA toolkit nor as "
       "the nvidia-cublas wheel); install one and rebuild");
}
Tensor mm_cuda(const Tensor&, const Tensor&) { no_cublaslt(); }
Tensor bmm_cuda(const Tensor&, const Tensor&) { no_cublaslt(); }
Tensor addmm_cuda(const Tensor&, const Tensor&, const Tensor&, const Scalar&, const Scalar&) { no_cublaslt(); }

}  // namespace

VT_REGISTRATION(blas_cuda) {
  register_kernel("mm", DispatchKey::CUDA, &mm_cuda);
  register_kernel("bmm", DispatchKey::CUDA, &bmm_cuda);
  register_kernel("addmm", DispatchKey::CUDA, &addmm_cuda);
}

}  // namespace vt::cuda
