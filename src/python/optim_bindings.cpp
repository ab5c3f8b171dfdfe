// The fused optimizer steps from Python (`vibetensor._fused_adam_` and friends, as
// torch._fused_adam_): the optimizers in vibetensor.optim call one per param group.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/vector.h>

#include "src/python/bindings.h"

namespace vt::python {

namespace {
using Tensors = std::vector<Tensor>;
using OptTensor = std::optional<Tensor>;
}  // namespace

void bind_optim(nb::module_& m) {
  // Returns `self`, as torch's Python binding does (the schema returns nothing).
  m.def("_foreach_add_", [](const Tensors& self, const Scalar& scalar) {
    _foreach_add_(self, scalar);
    return self;
  }, nb::arg("self"), nb::arg("scalar"));
  m.def("_fused_sgd_", [](const Tensors& self, const Tensors& grads, const Tensors& momentum_buffer_list,
                          double weight_decay, double momentum, double lr, double dampening, bool nesterov,
                          bool maximize, bool is_first_step, OptTensor grad_scale, OptTensor found_inf) {
    _fused_sgd_(self, grads, momentum_buffer_list, weight_decay, momentum, lr, dampening, nesterov, maximize,
                is_first_step, grad_scale, found_inf);
  }, nb::arg("self"), nb::arg("grads"), nb::arg("momentum_buffer_list"), nb::kw_only(), nb::arg("weight_decay"),
     nb::arg("momentum"), nb::arg("lr"), nb::arg("dampening"), nb::arg("nesterov"), nb::arg("maximize"),
     nb::arg("is_first_step"), nb::arg("grad_scale").none() = nb::none(), nb::arg("found_inf").none() = nb::none());
  auto adam = [](auto fused) {
    return [fused](const Tensors& self, const Tensors& grads, const Tensors& exp_avgs, const Tensors& exp_avg_sqs,
                   const Tensors& max_exp_avg_sqs, const Tensors& state_steps, double lr, double beta1, double beta2,
                   double weight_decay, double eps, bool amsgrad, bool maximize, OptTensor grad_scale,
                   OptTensor found_inf) {
      fused(self, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, lr, beta1, beta2, weight_decay, eps,
            amsgrad, maximize, grad_scale, found_inf);
    };
  };
  for (auto [name, fused] : {std::pair{"_fused_adam_", &_fused_adam_}, std::pair{"_fused_adamw_", &_fused_adamw_}}) {
    m.def(name, adam(fused), nb::arg("self"), nb::arg("grads"), nb::arg("exp_avgs"), nb::arg("exp_avg_sqs"),
          nb::arg("max_exp_avg_sqs"), nb::arg("state_steps"), nb::kw_only(), nb::arg("lr"), nb::arg("beta1"),
          nb::arg("beta2"), nb::arg("weight_decay"), nb::arg("eps"), nb::arg("amsgrad"), nb::arg("maximize"),
          nb::arg("grad_scale").none() = nb::none(), nb::arg("found_inf").none() = nb::none());
  }
  m.def("_fused_adagrad_", [](const Tensors& self, const Tensors& grads, const Tensors& state_sums,
                              const Tensors& state_steps, double lr, double lr_decay, double weight_decay, double eps,
                              bool maximize, OptTensor grad_scale, OptTensor found_inf) {
    _fused_adagrad_(self, grads, state_sums, state_steps, lr, lr_decay, weight_decay, eps, maximize, grad_scale,
                    found_inf);
  }, nb::arg("self"), nb::arg("grads"), nb::arg("state_sums"), nb::arg("state_steps"), nb::kw_only(), nb::arg("lr"),
     nb::arg("lr_decay"), nb::arg("weight_decay"), nb::arg("eps"), nb::arg("maximize"),
     nb::arg("grad_scale").none() = nb::none(), nb::arg("found_inf").none() = nb::none());
  m.def("_fused_rmsprop_", [](const Tensors& self, const Tensors& grads, const Tensors& square_avgs,
                              const Tensors& grad_avgs, const Tensors& momentum_buffer_list, double lr, double alpha,
                              double eps, double weight_decay, double momentum, bool centered, bool maximize,
                              OptTensor grad_scale, OptTensor found_inf) {
    _fused_rmsprop_(self, grads, square_avgs, grad_avgs, momentum_buffer_list, lr, alpha, eps, weight_decay, momentum,
                    centered, maximize, grad_scale, found_inf);
  }, nb::arg("self"), nb::arg("grads"), nb::arg("square_avgs"), nb::arg("grad_avgs"),
     nb::arg("momentum_buffer_list"), nb::kw_only(), nb::arg("lr"), nb::arg("alpha"), nb::arg("eps"),
     nb::arg("weight_decay"), nb::arg("momentum"), nb::arg("centered"), nb::arg("maximize"),
     nb::arg("grad_scale").none() = nb::none(), nb::arg("found_inf").none() = nb::none());
}

}  // namespace vt::python
