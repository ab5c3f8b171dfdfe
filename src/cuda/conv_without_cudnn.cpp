// One-group conv2d on CUDA in a build that found no cuDNN (neither in the CUDA toolkit nor as
// the nvidia-cudnn wheel): the forward and backward decomposed into im2col, col2im and
// cuBLASLt's matrix products (src/ops/conv.cpp), slower than cuDNN but complete.
#include "src/ops/conv.h"
#include "vt/cuda.h"
#include "vt/dispatch.h"

namespace vt::cuda {

int cudnn_version() { return 0; }

VT_REGISTRATION(conv_cuda) {
  register_kernel("_conv2d_dense", DispatchKey::CUDA, &conv::conv2d_dense_decomposed);
  register_kernel("_conv2d_dense_backward", DispatchKey::CUDA, &conv::conv2d_dense_backward_decomposed);
}

}  // namespace vt::cuda
