// The argument rules of the fused optimizer steps (schemas in src/ops/optim.cpp) and their
// per-element updates, shared by the CPU and CUDA kernels: both accept the same lists and
// compute each element with the same expressions (under nvcc the updates are also device
// functions). The kernels differ only in how they walk the elements and read the scalars.
#pragma once
#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <span>
#include <vector>

#include "vt/dtype.h"
#include "vt/host_device.h"
#include "vt/ops.h"

namespace vt::optim {

using TensorSpan = std::span<const Tensor>;

// Every state list matches the parameter list: same length (or empty where the optimizer
// does not use that state), same shape, dtype and device.
struct NamedList {
  const char* name;
  TensorSpan tensors;
  bool may_be_empty = false;
};

// `backend`: the device type of the kernel doing the check, which reads every pointer.
inline void check_lists(const char* op, TensorSpan params, std::initializer_list<NamedList> lists, DeviceType backend) {
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    VT_CHECK_TYPE(p.defined(), op, "(): self[", i, "] is None");
    VT_CHECK(p.device().type == backend, op, "(): self[", i, "] is on ", p.device().str(), "; this kernel is the ",
             backend == DeviceType::CPU ? "CPU" : "CUDA", " one");
    VT_CHECK(p.dtype() == params[0].dtype() && p.device() == params[0].device(), op, "(): self[", i, "] is ",
             dtype_name(p.dtype()), " on ", p.device().str(), " but self[0] is ", dtype_name(params[0].dtype()),
             " on ", params[0].device().str(), "; one call takes one dtype and device");
  }
  for (const NamedList& list : lists) {
    if (list.may_be_empty && list.tensors.empty()) continue;
    VT_CHECK(list.tensors.size() == params.size(), op, "(): ", list.name, " has ", list.tensors.size(),
             " tensors but self has ", params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      const Tensor& t = list.tensors[i];
      VT_CHECK_TYPE(t.defined(), op, "(): ", list.name, "[", i, "] is None");
      VT_CHECK(t.dtype() == params[i].dtype(), op, "(): ", list.name, "[", i, "] has dtype ", dtype_name(t.dtype()),
               " but self[", i, "] has ", dtype_name(params[i].dtype()));
      VT_CHECK(t.device() == params[i].device(), op, "(): ", list.name, "[", i, "] is on ", t.device().str(),
               " but self[", i, "] is on ", params[i].device().str());
      VT_CHECK(std::equal(t.sizes().begin(), t.sizes().end(), params[i].sizes().begin(), params[i].sizes().end()),
               op, "(): ", list.name, "[", i, "] has shape ", shape_str(t.sizes()), " but self[", i, "] has shape ",
               shape_str(params[i].sizes()));
    }
  }
}

inline void check_steps(const char* op, TensorSpan params, TensorSpan steps) {
  VT_CHECK(steps.size() == params.size(), op, "(): state_steps has ", steps.size(), " tensors but self has ",
           params.size());
  for (size_t i = 0; i < steps.size(); ++i) {
    VT_CHECK(steps[i].defined() && steps[i].numel() == 1, op, "(): state_steps[", i, "] must hold one number");
  }
}

// Each fused step's argument checks, the same for every backend (`backend` as in check_lists).
inline void check_sgd_args(TensorSpan self, TensorSpan grads, TensorSpan buffers, double momentum,
                           DeviceType backend) {
  VT_CHECK(momentum == 0 || !buffers.empty(), "_fused_sgd_(): momentum ", momentum, " needs momentum_buffer_list");
  check_lists("_fused_sgd_", self, {{"grads", grads}, {"momentum_buffer_list", buffers, momentum == 0}}, backend);
}

inline void check_adam_args(const char* op, TensorSpan self, TensorSpan grads, TensorSpan exp_avgs,
                            TensorSpan exp_avg_sqs, TensorSpan max_exp_avg_sqs, TensorSpan state_steps, bool amsgrad,
                            DeviceType backend) {
  VT_CHECK(!amsgrad || !max_exp_avg_sqs.empty(), op, "(): amsgrad=True needs max_exp_avg_sqs");
  check_lists(op, self, {{"grads", grads}, {"exp_avgs", exp_avgs}, {"exp_avg_sqs", exp_avg_sqs},
                         {"max_exp_avg_sqs", max_exp_avg_sqs, !amsgrad}},
              backend);
  check_steps(op, self, state_steps);
}

inline void check_adagrad_args(TensorSpan self, TensorSpan grads, TensorSpan state_sums, TensorSpan state_steps,
                               DeviceType backend) {
  check_lists("_fused_adagrad_", self, {{"grads", grads}, {"state_sums", state_sums}}, backend);
  check_steps("_fused_adagrad_", self, state_steps);
}

inline void check_rmsprop_args(TensorSpan self, TensorSpan grads, TensorSpan square_avgs, TensorSpan grad_avgs,
                               TensorSpan buffers, double momentum, bool centered, DeviceType backend) {
  VT_CHECK(!centered || !grad_avgs.empty(), "_fused_rmsprop_(): centered=True needs grad_avgs");
  VT_CHECK(momentum == 0 || !buffers.empty(), "_fused_rmsprop_(): momentum ", momentum, " needs momentum_buffer_list");
  check_lists("_fused_rmsprop_", self,
              {{"grads", grads}, {"square_avgs", square_avgs}, {"grad_avgs", grad_avgs, !centered},
               {"momentum_buffer_list", buffers, momentum == 0}},
              backend);
}

// The kernels walk a parameter, its gradient and its state with one flat index, so they see
// dense tensors. A tensor in another layout (a transposed gradient, a strided parameter) is
// updated through a dense copy that is written back when the step ends.
class DenseList {
 public:
  DenseList(TensorSpan tensors, bool write_back) : original_(tensors), write_back_(write_back) {
    dense_.reserve(tensors.size());
    for (const Tensor& t : tensors) dense_.push_back(t.is_contiguous() ? t : contiguous(t));
  }
  ~DenseList() {
    if (!write_back_) return;
    for (size_t i = 0; i < dense_.size(); ++i) {
      if (dense_[i].impl() != original_[i].impl()) copy_(original_[i], dense_[i]);
    }
  }
  DenseList(const DenseList&) = delete;
  DenseList& operator=(const DenseList&) = delete;
  operator TensorSpan() const { return dense_; }

 private:
  TensorSpan original_;
  bool write_back_;
  std::vector<Tensor> dense_;
};

// Adam's bias corrections for one parameter's step: the step size lr / (1 - beta1^step) and
// sqrt(1 - beta2^step), in double, as torch's Python computes them.
struct AdamBias {
  double step_size, bias2_sqrt;
};
VT_HOST_DEVICE inline AdamBias adam_bias(double lr, double beta1, double beta2, double step) {
  return {lr / (1 - std::pow(beta1, step)), std::sqrt(1 - std::pow(beta2, step))};
}
// Adagrad's learning rate at a parameter's step.
VT_HOST_DEVICE inline double adagrad_rate(double lr, double lr_decay, double step) {
  return lr / (1 + (step - 1) * lr_decay);
}

// torch's lerp, which keeps the result exact at both ends of the weight range.
template <class C>
VT_HOST_DEVICE C lerp(C from, C to, C weight) {
  return weight < C(0.5) ? from + weight * (to - from) : to - (to - from) * (C(1) - weight);
}

// The gradient every update starts from: unscaled by AMP's grad_scale (and written back
// unscaled), negated for maximize, plus L2 weight decay `weight_decay * p` where the optimizer
// couples it (AdamW decays the parameter itself and passes 0).
template <class T, class C>
struct GradientRule {
  bool unscale, maximize;
  C scale, weight_decay;
  VT_HOST_DEVICE C operator()(T* grad, int64_t j, C p) const {
    C g = C(grad[j]);
    if (unscale) {
      g /= scale;
      grad[j] = T(g);
    }
    if (maximize) g = -g;
    if (weight_decay != 0) g += weight_decay * p;
    return g;
  }
};

// The updates of element j. T is the stored type, C the compute type (compute_t<T>); a null
// state pointer is a state the options leave out.

template <class T, class C>
struct SgdUpdate {
  GradientRule<T, C> gradient;
  C mom, rate, keep;  // momentum, lr, 1 - dampening
  bool nesterov, is_first_step;
  VT_HOST_DEVICE void operator()(T* param, T* grad, T* buffer, int64_t j) const {
    C p = C(param[j]);
    C g = gradient(grad, j, p);
    if (buffer) {
      C b = is_first_step ? g : mom * C(buffer[j]) + keep * g;
      buffer[j] = T(b);
      g = nesterov ? g + mom * b : b;
    }
    param[j] = T(p - rate * g);
  }
};

template <class T, class C>
struct AdamUpdate {
  GradientRule<T, C> gradient;
  C b1, b2, epsilon;
  bool decouple;  // AdamW with weight decay: p *= decay first
  C decay;        // 1 - lr * weight_decay
  VT_HOST_DEVICE void operator()(T* param, T* grad, T* m, T* v, T* v_max, int64_t j, C step_size,
                                 C bias2_sqrt) const {
    C p = C(param[j]);
    if (decouple) p *= decay;
    C g = gradient(grad, j, p);
    C m_j = lerp(C(m[j]), g, C(1) - b1);
    C v_j = b2 * C(v[j]) + (C(1) - b2) * g * g;
    m[j] = T(m_j);
    v[j] = T(v_j);
    if (v_max) {
      v_j = std::max(C(v_max[j]), v_j);
      v_max[j] = T(v_j);
    }
    C denom = std::sqrt(v_j) / bias2_sqrt + epsilon;
    param[j] = T(p - step_size * m_j / denom);
  }
};

template <class T, class C>
struct AdagradUpdate {
  GradientRule<T, C> gradient;
  C epsilon;
  VT_HOST_DEVICE void operator()(T* param, T* grad, T* sum, int64_t j, C rate) const {
    C p = C(param[j]);
    C g = gradient(grad, j, p);
    C s = C(sum[j]) + g * g;
    sum[j] = T(s);
    param[j] = T(p - rate * g / (std::sqrt(s) + epsilon));
  }
};

template <class T, class C>
struct RmspropUpdate {
  GradientRule<T, C> gradient;
  C a, epsilon, mom, rate;  // alpha, eps, momentum, lr
  VT_HOST_DEVICE void operator()(T* param, T* grad, T* square_avg, T* grad_avg, T* buffer, int64_t j) const {
    C p = C(param[j]);
    C g = gradient(grad, j, p);
    C sq = a * C(square_avg[j]) + (C(1) - a) * g * g;
    square_avg[j] = T(sq);
    C avg;
    if (grad_avg) {
      C ga = lerp(C(grad_avg[j]), g, C(1) - a);
      grad_avg[j] = T(ga);
      avg = std::sqrt(sq - ga * ga) + epsilon;
    } else {
      avg = std::sqrt(sq) + epsilon;
    }
    if (buffer) {
      C b = mom * C(buffer[j]) + g / avg;
      buffer[j] = T(b);
      param[j] = T(p - rate * b);
    } else {
      param[j] = T(p - rate * g / avg);
    }
  }
};

}  // namespace vt::optim
