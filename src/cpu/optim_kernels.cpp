// CPU kernels of the fused optimizer steps (schemas in src/ops/optim.cpp). Each reads a
// parameter, its gradient and its state once and writes them once, in one pass: the same
// arithmetic as torch's single-tensor optimizers, without a chain of whole-tensor ops.
// The elements of all the group's parameters form one range split across threads, so a
// group of many small parameters is as parallel as one large one. The argument rules and the
// per-element updates are shared with the CUDA kernels (src/ops/optim_rules.h).
#include <algorithm>
#include <cmath>
#include <vector>

#include "src/ops/optim_rules.h"
#include "vt/dispatch.h"
#include "vt/ops.h"
#include "vt/parallel.h"

namespace vt::cpu {

namespace {

using namespace optim;

// AMP's GradScaler: a nonzero `found_inf` skips the step; `grad_scale` divides the gradients,
// which are written back unscaled (as torch's fused kernels do).
struct GradScaling {
  bool skip = false;
  bool unscale = false;
  double scale = 1.0;
};

GradScaling read_grad_scaling(const std::optional<Tensor>& grad_scale, const std::optional<Tensor>& found_inf) {
  GradScaling scaling;
  if (found_inf && found_inf->defined()) scaling.skip = found_inf->item().to_double() != 0.0;
  if (grad_scale && grad_scale->defined()) {
    scaling.unscale = true;
    scaling.scale = grad_scale->item().to_double();
  }
  return scaling;
}

// Calls fn(i, begin, end) on element ranges of parameter i, splitting the concatenation of
// all parameters' elements into chunks for the thread pool.
template <class Fn>
void for_each_chunk(TensorSpan params, const Fn& fn) {
  std::vector<int64_t> starts(params.size() + 1, 0);
  for (size_t i = 0; i < params.size(); ++i) starts[i + 1] = starts[i] + params[i].numel();
  parallel_for(0, starts.back(), kGrainSize, [&](int64_t begin, int64_t end) {
    size_t i = std::upper_bound(starts.begin(), starts.end(), begin) - starts.begin() - 1;
    for (; i < params.size() && starts[i] < end; ++i) {
      int64_t from = std::max(begin, starts[i]) - starts[i];
      int64_t to = std::min(end, starts[i + 1]) - starts[i];
      if (from < to) fn(i, from, to);
    }
  });
}

template <class T>
T* data_of(TensorSpan list, size_t i) {
  return list.empty() ? nullptr : static_cast<T*>(list[i].data_ptr());
}

void sgd_cpu(TensorSpan self_in, TensorSpan grads_in, TensorSpan buffers_in, double weight_decay, double momentum,
             double lr, double dampening, bool nesterov, bool maximize, bool is_first_step,
             const std::optional<Tensor>& grad_scale, const std::optional<Tensor>& found_inf) {
  check_sgd_args(self_in, grads_in, buffers_in, momentum, DeviceType::CPU);
  GradScaling scaling = read_grad_scaling(grad_scale, found_inf);
  if (scaling.skip || self_in.empty()) return;
  DenseList self(self_in, true), grads(grads_in, scaling.unscale), momentum_buffers(buffers_in, true);
  dispatch_floating_types(self_in[0].dtype(), "_fused_sgd_", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    const SgdUpdate<T, C> update{{scaling.unscale, maximize, C(scaling.scale), C(weight_decay)},
                                 C(momentum), C(lr), C(1 - dampening), nesterov, is_first_step};
    for_each_chunk(self, [&](size_t i, int64_t begin, int64_t end) {
      T* param = data_of<T>(self, i);
      T* grad = data_of<T>(grads, i);
      T* buffer = momentum == 0 ? nullptr : data_of<T>(momentum_buffers, i);
      for (int64_t j = begin; j < end; ++j) update(param, grad, buffer, j);
    });
  });
}

template <bool Decoupled>
void adam_cpu(TensorSpan self_in, TensorSpan grads_in, TensorSpan exp_avgs_in, TensorSpan exp_avg_sqs_in,
              TensorSpan max_exp_avg_sqs_in, TensorSpan state_steps, double lr, double beta1, double beta2,
              double weight_decay, double eps, bool amsgrad, bool maximize, const std::optional<Tensor>& grad_scale,
              const std::optional<Tensor>& found_inf) {
  const char* op = Decoupled ? "_fused_adamw_" : "_fused_adam_";
  check_adam_args(op, self_in, grads_in, exp_avgs_in, exp_avg_sqs_in, max_exp_avg_sqs_in, state_steps, amsgrad,
                  DeviceType::CPU);
  GradScaling scaling = read_grad_scaling(grad_scale, found_inf);
  if (scaling.skip || self_in.empty()) return;
  DenseList self(self_in, true), grads(grads_in, scaling.unscale), exp_avgs(exp_avgs_in, true),
      exp_avg_sqs(exp_avg_sqs_in, true), max_exp_avg_sqs(max_exp_avg_sqs_in, true);
  // Bias corrections depend on each parameter's step; computed once per parameter in double,
  // as torch's Python does.
  std::vector<AdamBias> biases(self_in.size());
  for (size_t i = 0; i < self_in.size(); ++i) {
    biases[i] = adam_bias(lr, beta1, beta2, state_steps[i].item().to_double());
  }
  dispatch_floating_types(self_in[0].dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    const AdamUpdate<T, C> update{
        {scaling.unscale, maximize, C(scaling.scale), Decoupled ? C(0) : C(weight_decay)}, C(beta1), C(beta2),
        C(eps), Decoupled && weight_decay != 0, C(1 - lr * weight_decay)};
    for_each_chunk(self, [&](size_t i, int64_t begin, int64_t end) {
      T* param = data_of<T>(self, i);
      T* grad = data_of<T>(grads, i);
      T* m = data_of<T>(exp_avgs, i);
      T* v = data_of<T>(exp_avg_sqs, i);
      T* v_max = amsgrad ? data_of<T>(max_exp_avg_sqs, i) : nullptr;
      const C step_size = C(biases[i].step_size), bias2_sqrt = C(biases[i].bias2_sqrt);
      for (int64_t j = begin; j < end; ++j) update(param, grad, m, v, v_max, j, step_size, bias2_sqrt);
    });
  });
}

void adagrad_cpu(TensorSpan self_in, TensorSpan grads_in, TensorSpan state_sums_in, TensorSpan state_steps, double lr,
                 double lr_decay, double weight_decay, double eps, bool maximize,
                 const std::optional<Tensor>& grad_scale, const std::optional<Tensor>& found_inf) {
  check_adagrad_args(self_in, grads_in, state_sums_in, state_steps, DeviceType::CPU);
  GradScaling scaling = read_grad_scaling(grad_scale, found_inf);
  if (scaling.skip || self_in.empty()) return;
  DenseList self(self_in, true), grads(grads_in, scaling.unscale), state_sums(state_sums_in, true);
  std::vector<double> rates(self_in.size());
  for (size_t i = 0; i < self_in.size(); ++i) rates[i] = adagrad_rate(lr, lr_decay, state_steps[i].item().to_double());
  dispatch_floating_types(self_in[0].dtype(), "_fused_adagrad_", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    const AdagradUpdate<T, C> update{{scaling.unscale, maximize, C(scaling.scale), C(weight_decay)}, C(eps)};
    for_each_chunk(self, [&](size_t i, int64_t begin, int64_t end) {
      T* param = data_of<T>(self, i);
      T* grad = data_of<T>(grads, i);
      T* sum = data_of<T>(state_sums, i);
      const C rate = C(rates[i]);
      for (int64_t j = begin; j < end; ++j) update(param, grad, sum, j, rate);
    });
  });
}

void rmsprop_cpu(TensorSpan self_in, TensorSpan grads_in, TensorSpan square_avgs_in, TensorSpan grad_avgs_in,
                 TensorSpan buffers_in, double lr, double alpha, double eps, double weight_decay,
                 double momentum, bool centered, bool maximize, const std::optional<Tensor>& grad_scale,
                 const std::optional<Tensor>& found_inf) {
  check_rmsprop_args(self_in, grads_in, square_avgs_in, grad_avgs_in, buffers_in, momentum, centered,
                     DeviceType::CPU);
  GradScaling scaling = read_grad_scaling(grad_scale, found_inf);
  if (scaling.skip || self_in.empty()) return;
  DenseList self(self_in, true), grads(grads_in, scaling.unscale), square_avgs(square_avgs_in, true),
      grad_avgs(grad_avgs_in, true), momentum_buffers(buffers_in, true);
  dispatch_floating_types(self_in[0].dtype(), "_fused_rmsprop_", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    const RmspropUpdate<T, C> update{{scaling.unscale, maximize, C(scaling.scale), C(weight_decay)}, C(alpha),
                                     C(eps), C(momentum), C(lr)};
    for_each_chunk(self, [&](size_t i, int64_t begin, int64_t end) {
      T* param = data_of<T>(self, i);
      T* grad = data_of<T>(grads, i);
      T* square_avg = data_of<T>(square_avgs, i);
      T* grad_avg = centered ? data_of<T>(grad_avgs, i) : nullptr;
      T* buffer = momentum == 0 ? nullptr : data_of<T>(momentum_buffers, i);
      for (int64_t j = begin; j < end; ++j) update(param, grad, square_avg, grad_avg, buffer, j);
    });
  });
}


}  // namespace

VT_REGISTRATION(optim_cpu) {
  register_kernel("_fused_sgd_", DispatchKey::CPU, &sgd_cpu);
  register_kernel("_fused_adam_", DispatchKey::CPU, &adam_cpu<false>);
  register_kernel("_fused_adamw_", DispatchKey::CPU, &adam_cpu<true>);
  register_kernel("_fused_adagrad_", DispatchKey::CPU, &adagrad_cpu);
  register_kernel("_fused_rmsprop_", DispatchKey::CPU, &rmsprop_cpu);
}

}  // namespace vt::cpu
