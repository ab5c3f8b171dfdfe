// CPU kernels of the fused optimizer steps (schemas in src/ops/optim.cpp). Each reads a
// parameter, its gradient and its state once and writes them once, in one pass: the same
// arithmetic as torch's single-tensor optimizers, without a chain of whole-tensor ops.
// The elements of all the group's parameters form one range split across threads, so a
// group of many small parameters is as parallel as one large one.
#include <algorithm>
#include <cmath>
#include <vector>

#include "vt/dispatch.h"
#include "vt/ops.h"
#include "vt/parallel.h"

namespace vt::cpu {

namespace {

using TensorSpan = std::span<const Tensor>;

// Every state list matches the parameter list: same length (or empty where the optimizer
// does not use that state), same shape, dtype and device.
struct NamedList {
  const char* name;
  TensorSpan tensors;
  bool may_be_empty = false;
};

void check_lists(const char* op, TensorSpan params, std::initializer_list<NamedList> lists) {
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    VT_CHECK_TYPE(p.defined(), op, "(): self[", i, "] is None");
    VT_CHECK(p.device().is_cpu(), op, "(): self[", i, "] is on ", p.device().str(), "; this kernel is the CPU one");
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

void check_steps(const char* op, TensorSpan params, TensorSpan steps) {
  VT_CHECK(steps.size() == params.size(), op, "(): state_steps has ", steps.size(), " tensors but self has ",
           params.size());
  for (size_t i = 0; i < steps.size(); ++i) {
    VT_CHECK(steps[i].defined() && steps[i].numel() == 1, op, "(): state_steps[", i, "] must hold one number");
  }
}

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

// torch's lerp, which keeps the result exact at both ends of the weight range.
template <class C>
C lerp(C from, C to, C weight) {
  return weight < C(0.5) ? from + weight * (to - from) : to - (to - from) * (C(1) - weight);
}

// The gradient every update starts from: unscaled by AMP's grad_scale (and written back
// unscaled), negated for maximize, plus L2 weight decay `weight_decay * p` where the optimizer
// couples it (AdamW decays the parameter itself and passes 0).
template <class T, class C>
struct GradientRule {
  bool unscale, maximize;
  C scale, weight_decay;
  C operator()(T* grad, int64_t j, C p) const {
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

void sgd_cpu(TensorSpan self_in, TensorSpan grads_in, TensorSpan buffers_in, double weight_decay, double momentum,
             double lr, double dampening, bool nesterov, bool maximize, bool is_first_step,
             const std::optional<Tensor>& grad_scale, const std::optional<Tensor>& found_inf) {
  VT_CHECK(momentum == 0 || !buffers_in.empty(), "_fused_sgd_(): momentum ", momentum,
           " needs momentum_buffer_list");
  check_lists("_fused_sgd_", self_in, {{"grads", grads_in}, {"momentum_buffer_list", buffers_in, momentum == 0}});
  GradScaling scaling = read_grad_scaling(grad_scale, found_inf);
  if (scaling.skip || self_in.empty()) return;
  DenseList self(self_in, true), grads(grads_in, scaling.unscale), momentum_buffers(buffers_in, true);
  dispatch_floating_types(self_in[0].dtype(), "_fused_sgd_", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    const C mom = C(momentum), rate = C(lr), keep = C(1 - dampening);
    const GradientRule<T, C> gradient{scaling.unscale, maximize, C(scaling.scale), C(weight_decay)};
    for_each_chunk(self, [&](size_t i, int64_t begin, int64_t end) {
      T* param = data_of<T>(self, i);
      T* grad = data_of<T>(grads, i);
      T* buffer = momentum == 0 ? nullptr : data_of<T>(momentum_buffers, i);
      for (int64_t j = begin; j < end; ++j) {
        C p = C(param[j]);
        C g = gradient(grad, j, p);
        if (buffer) {
          C b = is_first_step ? g : mom * C(buffer[j]) + keep * g;
          buffer[j] = T(b);
          g = nesterov ? g + mom * b : b;
        }
        param[j] = T(p - rate * g);
      }
    });
  });
}

template <bool Decoupled>
void adam_cpu(TensorSpan self_in, TensorSpan grads_in, TensorSpan exp_avgs_in, TensorSpan exp_avg_sqs_in,
              TensorSpan max_exp_avg_sqs_in, TensorSpan state_steps, double lr, double beta1, double beta2,
              double weight_decay, double eps, bool amsgrad, bool maximize, const std::optional<Tensor>& grad_scale,
              const std::optional<Tensor>& found_inf) {
  const char* op = Decoupled ? "_fused_adamw_" : "_fused_adam_";
  VT_CHECK(!amsgrad || !max_exp_avg_sqs_in.empty(), op, "(): amsgrad=True needs max_exp_avg_sqs");
  check_lists(op, self_in, {{"grads", grads_in}, {"exp_avgs", exp_avgs_in}, {"exp_avg_sqs", exp_avg_sqs_in},
                            {"max_exp_avg_sqs", max_exp_avg_sqs_in, !amsgrad}});
  check_steps(op, self_in, state_steps);
  GradScaling scaling = read_grad_scaling(grad_scale, found_inf);
  if (scaling.skip || self_in.empty()) return;
  DenseList self(self_in, true), grads(grads_in, scaling.unscale), exp_avgs(exp_avgs_in, true),
      exp_avg_sqs(exp_avg_sqs_in, true), max_exp_avg_sqs(max_exp_avg_sqs_in, true);
  // Bias corrections depend on each parameter's step; computed once per parameter in double,
  // as torch's Python does.
  std::vector<double> step_sizes(self_in.size()), bias2_sqrts(self_in.size());
  for (size_t i = 0; i < self_in.size(); ++i) {
    double step = state_steps[i].item().to_double();
    step_sizes[i] = lr / (1 - std::pow(beta1, step));
    bias2_sqrts[i] = std::sqrt(1 - std::pow(beta2, step));
  }
  dispatch_floating_types(self_in[0].dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    const C b1 = C(beta1), b2 = C(beta2), epsilon = C(eps);
    const GradientRule<T, C> gradient{scaling.unscale, maximize, C(scaling.scale), Decoupled ? C(0) : C(weight_decay)};
    const C decay = C(1 - lr * weight_decay);
    for_each_chunk(self, [&](size_t i, int64_t begin, int64_t end) {
      T* param = data_of<T>(self, i);
      T* grad = data_of<T>(grads, i);
      T* m = data_of<T>(exp_avgs, i);
      T* v = data_of<T>(exp_avg_sqs, i);
      T* v_max = amsgrad ? data_of<T>(max_exp_avg_sqs, i) : nullptr;
      const C step_size = C(step_sizes[i]), bias2_sqrt = C(bias2_sqrts[i]);
      for (int64_t j = begin; j < end; ++j) {
        C p = C(param[j]);
        if (Decoupled && weight_decay != 0) p *= decay;
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
    });
  });
}

void adagrad_cpu(TensorSpan self_in, TensorSpan grads_in, TensorSpan state_sums_in, TensorSpan state_steps, double lr,
                 double lr_decay, double weight_decay, double eps, bool maximize,
                 const std::optional<Tensor>& grad_scale, const std::optional<Tensor>& found_inf) {
  check_lists("_fused_adagrad_", self_in, {{"grads", grads_in}, {"state_sums", state_sums_in}});
  check_steps("_fused_adagrad_", self_in, state_steps);
  GradScaling scaling = read_grad_scaling(grad_scale, found_inf);
  if (scaling.skip || self_in.empty()) return;
  DenseList self(self_in, true), grads(grads_in, scaling.unscale), state_sums(state_sums_in, true);
  std::vector<double> rates(self_in.size());
  for (size_t i = 0; i < self_in.size(); ++i) rates[i] = lr / (1 + (state_steps[i].item().to_double() - 1) * lr_decay);
  dispatch_floating_types(self_in[0].dtype(), "_fused_adagrad_", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    const C epsilon = C(eps);
    const GradientRule<T, C> gradient{scaling.unscale, maximize, C(scaling.scale), C(weight_decay)};
    for_each_chunk(self, [&](size_t i, int64_t begin, int64_t end) {
      T* param = data_of<T>(self, i);
      T* grad = data_of<T>(grads, i);
      T* sum = data_of<T>(state_sums, i);
      const C rate = C(rates[i]);
      for (int64_t j = begin; j < end; ++j) {
        C p = C(param[j]);
        C g = gradient(grad, j, p);
        C s = C(sum[j]) + g * g;
        sum[j] = T(s);
        param[j] = T(p - rate * g / (std::sqrt(s) + epsilon));
      }
    });
  });
}

void rmsprop_cpu(TensorSpan self_in, TensorSpan grads_in, TensorSpan square_avgs_in, TensorSpan grad_avgs_in,
                 TensorSpan buffers_in, double lr, double alpha, double eps, double weight_decay,
                 double momentum, bool centered, bool maximize, const std::optional<Tensor>& grad_scale,
                 const std::optional<Tensor>& found_inf) {
  VT_CHECK(!centered || !grad_avgs_in.empty(), "_fused_rmsprop_(): centered=True needs grad_avgs");
  VT_CHECK(momentum == 0 || !buffers_in.empty(), "_fused_rmsprop_(): momentum ", momentum,
           " needs momentum_buffer_list");
  check_lists("_fused_rmsprop_", self_in, {{"grads", grads_in}, {"square_avgs", square_avgs_in},
                                           {"grad_avgs", grad_avgs_in, !centered},
                                           {"momentum_buffer_list", buffers_in, momentum == 0}});
  GradScaling scaling = read_grad_scaling(grad_scale, found_inf);
  if (scaling.skip || self_in.empty()) return;
  DenseList self(self_in, true), grads(grads_in, scaling.unscale), square_avgs(square_avgs_in, true),
      grad_avgs(grad_avgs_in, true), momentum_buffers(buffers_in, true);
  dispatch_floating_types(self_in[0].dtype(), "_fused_rmsprop_", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    const C a = C(alpha), epsilon = C(eps), mom = C(momentum), rate = C(lr);
    const GradientRule<T, C> gradient{scaling.unscale, maximize, C(scaling.scale), C(weight_decay)};
    for_each_chunk(self, [&](size_t i, int64_t begin, int64_t end) {
      T* param = data_of<T>(self, i);
      T* grad = data_of<T>(grads, i);
      T* square_avg = data_of<T>(square_avgs, i);
      T* grad_avg = centered ? data_of<T>(grad_avgs, i) : nullptr;
      T* buffer = momentum == 0 ? nullptr : data_of<T>(momentum_buffers, i);
      for (int64_t j = begin; j < end; ++j) {
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
    });
  });
}

// The step counters: a handful of 0-dim tensors per group, added to one by one.
void foreach_add_scalar_cpu(TensorSpan self, const Scalar& scalar) {
  for (const Tensor& t : self) add_(t, scalar_to_tensor(scalar));
}

}  // namespace

VT_REGISTRATION(optim_cpu) {
  register_kernel("_foreach_add_.Scalar", DispatchKey::CPU, &foreach_add_scalar_cpu);
  register_kernel("_fused_sgd_", DispatchKey::CPU, &sgd_cpu);
  register_kernel("_fused_adam_", DispatchKey::CPU, &adam_cpu<false>);
  register_kernel("_fused_adamw_", DispatchKey::CPU, &adam_cpu<true>);
  register_kernel("_fused_adagrad_", DispatchKey::CPU, &adagrad_cpu);
  register_kernel("_fused_rmsprop_", DispatchKey::CPU, &rmsprop_cpu);
}

}  // namespace vt::cpu
