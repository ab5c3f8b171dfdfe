// uniform_, normal_, random_ and bernoulli_ on CUDA: the CPU's Philox fills
// (src/ops/random_fills.h) run per element on the device, from the same generator, so a seed
// draws the same numbers on the CPU and the GPU.
#include "src/cuda/loops.cuh"
#include "src/ops/random_fills.h"
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt::cuda {
namespace {

constexpr int kThreads = 256;

template <class T, class Fill>
__global__ void __launch_bounds__(kThreads) fill_random_kernel(T* data, int64_t n, uint64_t first, uint64_t seed,
                                                               Fill fill) {
  const int64_t stride = int64_t{gridDim.x} * kThreads;
  for (int64_t i = int64_t{blockIdx.x} * kThreads + threadIdx.x; i < n; i += stride) {
    data[i] = fill(philox(first + static_cast<uint64_t>(i), seed), i);
  }
}

// Writes Fill<T>{args...} into a contiguous copy of `self` (self itself when contiguous).
template <template <class> class Fill, class Dispatch, class... Args>
const Tensor& fill_random(const Tensor& self, Generator* generator, std::string_view op, Dispatch dispatch,
                          Args... args) {
  Tensor target = self.is_contiguous() ? self : empty(self.sizes(), self.dtype(), self.device());
  Generator& g = random_fill::generator_or_default(generator);
  const int64_t n = target.numel();
  const uint64_t first = g.reserve(static_cast<uint64_t>(n));
  const uint64_t seed = g.initial_seed();
  if (n > 0) {
    const int device = self.device().index;
    DeviceGuard guard(device);
    // Enough blocks to fill the GPU; each thread then walks the tensor with a grid stride.
    const unsigned blocks = static_cast<unsigned>(std::min<int64_t>((n + kThreads - 1) / kThreads, 65536));
    dispatch(target.dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      fill_random_kernel<<<blocks, kThreads, 0, current_cuda_stream(device)>>>(
          static_cast<T*>(target.data_ptr()), n, first, seed, Fill<T>{args...});
    });
    VT_CUDA_CHECK(cudaGetLastError());
  }
  if (!target.is_same(self)) copy_(self, target);
  self.bump_version();
  return self;
}
auto floating_types = [](ScalarType t, std::string_view n, auto&& f) { dispatch_floating_types(t, n, f); };
auto all_types = [](ScalarType t, std::string_view n, auto&& f) { dispatch_all_types(t, n, f); };

const Tensor& uniform_cuda(const Tensor& self, double from, double to, Generator* generator) {
  random_fill::check_uniform(self, from, to);
  return fill_random<random_fill::Uniform>(self, generator, "uniform_", floating_types, from, to);
}

const Tensor& normal_cuda(const Tensor& self, double mean, double std, Generator* generator) {
  random_fill::check_normal(self, std);
  return fill_random<random_fill::Normal>(self, generator, "normal_", floating_types, mean, std);
}

const Tensor& random_cuda(const Tensor& self, int64_t low, int64_t high, Generator* generator) {
  const uint64_t range = random_fill::check_random_range(self, low, high);
  return fill_random<random_fill::RandomInt>(self, generator, "random_", all_types, low, range);
}

const Tensor& bernoulli_cuda(const Tensor& self, const Tensor& p, Generator* generator) {
  const Tensor probabilities = random_fill::bernoulli_probabilities(self, p);
  // The kernel reads the probabilities on the current stream, which also frees them.
  return fill_random<random_fill::Bernoulli>(self, generator, "bernoulli_", all_types,
                                             static_cast<const double*>(probabilities.data_ptr()));
}

}  // namespace

VT_REGISTRATION(random_cuda) {
  register_kernel("uniform_", DispatchKey::CUDA, &uniform_cuda);
  register_kernel("normal_", DispatchKey::CUDA, &normal_cuda);
  register_kernel("random_.from", DispatchKey::CUDA, &random_cuda);
  register_kernel("bernoulli_.Tensor", DispatchKey::CUDA, &bernoulli_cuda);
}

}  // namespace vt::cuda
