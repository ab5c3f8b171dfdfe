// Fused optimizer steps: one op call updates every parameter of a param group (torch's
// `_fused_sgd_`, `_fused_adam_`, `_fused_adamw_`, `_fused_adagrad_`, and our
// `_fused_rmsprop_`, which torch lacks), plus `_foreach_add_.Scalar` for the step counters.
// They mutate their inputs and have no derivative: optimizers run them under no_grad.
// The kernels live in src/cpu/optim_kernels.cpp and src/cuda/optim_kernels.cu.
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt {

namespace {
// The step counters: a handful of 0-dim tensors per group, on any device, added to one by one.
void foreach_add_scalar(std::span<const Tensor> self, const Scalar& scalar) {
  for (const Tensor& t : self) add_(t, scalar_to_tensor(scalar));
}
}  // namespace

VT_REGISTRATION(optim_ops) {
  Registry& r = Registry::instance();
  const std::string scaling = "Tensor? grad_scale=None, Tensor? found_inf=None) -> ()";
  r.define("_foreach_add_.Scalar(Tensor(a!)[] self, Scalar scalar) -> ()");
  register_composite("_foreach_add_.Scalar", &foreach_add_scalar);
  r.define("_fused_sgd_(Tensor(a!)[] self, Tensor(b!)[] grads, Tensor(c!)[] momentum_buffer_list, *, "
           "float weight_decay, float momentum, float lr, float dampening, bool nesterov, bool maximize, "
           "bool is_first_step, " + scaling);
  for (std::string name : {"_fused_adam_", "_fused_adamw_"}) {
    r.define(name + "(Tensor(a!)[] self, Tensor(b!)[] grads, Tensor(c!)[] exp_avgs, Tensor(d!)[] exp_avg_sqs, "
             "Tensor(e!)[] max_exp_avg_sqs, Tensor[] state_steps, *, float lr, float beta1, float beta2, "
             "float weight_decay, float eps, bool amsgrad, bool maximize, " + scaling);
  }
  r.define("_fused_adagrad_(Tensor(a!)[] self, Tensor(b!)[] grads, Tensor(c!)[] state_sums, "
           "Tensor(d!)[] state_steps, *, float lr, float lr_decay, float weight_decay, float eps, bool maximize, " +
           scaling);
  r.define("_fused_rmsprop_(Tensor(a!)[] self, Tensor(b!)[] grads, Tensor(c!)[] square_avgs, "
           "Tensor(d!)[] grad_avgs, Tensor(e!)[] momentum_buffer_list, *, float lr, float alpha, float eps, "
           "float weight_decay, float momentum, bool centered, bool maximize, " + scaling);
}

void _foreach_add_(std::span<const Tensor> self, const Scalar& scalar) {
  static const TypedOp<void(std::span<const Tensor>, const Scalar&)> op("_foreach_add_.Scalar");
  op(self, scalar);
}

void _fused_sgd_(std::span<const Tensor> self, std::span<const Tensor> grads,
                 std::span<const Tensor> momentum_buffer_list, double weight_decay, double momentum, double lr,
                 double dampening, bool nesterov, bool maximize, bool is_first_step,
                 const std::optional<Tensor>& grad_scale, const std::optional<Tensor>& found_inf) {
  static const TypedOp<void(std::span<const Tensor>, std::span<const Tensor>, std::span<const Tensor>, double, double,
                            double, double, bool, bool, bool, const std::optional<Tensor>&,
                            const std::optional<Tensor>&)>
      op("_fused_sgd_");
  op(self, grads, momentum_buffer_list, weight_decay, momentum, lr, dampening, nesterov, maximize, is_first_step,
     grad_scale, found_inf);
}

namespace {
using AdamSignature = void(std::span<const Tensor>, std::span<const Tensor>, std::span<const Tensor>,
                           std::span<const Tensor>, std::span<const Tensor>, std::span<const Tensor>, double, double,
                           double, double, double, bool, bool, const std::optional<Tensor>&,
                           const std::optional<Tensor>&);
}  // namespace

void _fused_adam_(std::span<const Tensor> self, std::span<const Tensor> grads, std::span<const Tensor> exp_avgs,
                  std::span<const Tensor> exp_avg_sqs, std::span<const Tensor> max_exp_avg_sqs,
                  std::span<const Tensor> state_steps, double lr, double beta1, double beta2, double weight_decay,
                  double eps, bool amsgrad, bool maximize, const std::optional<Tensor>& grad_scale,
                  const std::optional<Tensor>& found_inf) {
  static const TypedOp<AdamSignature> op("_fused_adam_");
  op(self, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, lr, beta1, beta2, weight_decay, eps, amsgrad,
     maximize, grad_scale, found_inf);
}

void _fused_adamw_(std::span<const Tensor> self, std::span<const Tensor> grads, std::span<const Tensor> exp_avgs,
                   std::span<const Tensor> exp_avg_sqs, std::span<const Tensor> max_exp_avg_sqs,
                   std::span<const Tensor> state_steps, double lr, double beta1, double beta2, double weight_decay,
                   double eps, bool amsgrad, bool maximize, const std::optional<Tensor>& grad_scale,
                   const std::optional<Tensor>& found_inf) {
  static const TypedOp<AdamSignature> op("_fused_adamw_");
  op(self, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, lr, beta1, beta2, weight_decay, eps, amsgrad,
     maximize, grad_scale, found_inf);
}

void _fused_adagrad_(std::span<const Tensor> self, std::span<const Tensor> grads, std::span<const Tensor> state_sums,
                     std::span<const Tensor> state_steps, double lr, double lr_decay, double weight_decay, double eps,
                     bool maximize, const std::optional<Tensor>& grad_scale, const std::optional<Tensor>& found_inf) {
  static const TypedOp<void(std::span<const Tensor>, std::span<const Tensor>, std::span<const Tensor>,
                            std::span<const Tensor>, double, double, double, double, bool,
                            const std::optional<Tensor>&, const std::optional<Tensor>&)>
      op("_fused_adagrad_");
  op(self, grads, state_sums, state_steps, lr, lr_decay, weight_decay, eps, maximize, grad_scale, found_inf);
}

void _fused_rmsprop_(std::span<const Tensor> self, std::span<const Tensor> grads, std::span<const Tensor> square_avgs,
                     std::span<const Tensor> grad_avgs, std::span<const Tensor> momentum_buffer_list, double lr,
                     double alpha, double eps, double weight_decay, double momentum, bool centered, bool maximize,
                     const std::optional<Tensor>& grad_scale, const std::optional<Tensor>& found_inf) {
  static const TypedOp<void(std::span<const Tensor>, std::span<const Tensor>, std::span<const Tensor>,
                            std::span<const Tensor>, std::span<const Tensor>, double, double, double, double, double,
                            bool, bool, const std::optional<Tensor>&, const std::optional<Tensor>&)>
      op("_fused_rmsprop_");
  op(self, grads, square_avgs, grad_avgs, momentum_buffer_list, lr, alpha, eps, weight_decay, momentum, centered,
     maximize, grad_scale, found_inf);
}

}  // namespace vt
