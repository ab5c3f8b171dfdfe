"""Adam and AMSGrad, with L2 or decoupled (AdamW) weight decay (torch.optim.Adam).

A step is one fused C++ call per (device, dtype) of each param group, after one call that
advances the groups' step counters.
"""
import vibetensor as vt
from vibetensor import _C
from vibetensor.optim._fused import (add_to_steps, by_device_and_dtype, check_capturable_devices, check_hyperparameter,
                                     check_unsupported)
from vibetensor.optim.optimizer import Optimizer, _evaluate_closure, _get_value, _new_step, _params_with_grad

__all__ = ["Adam"]


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False, fused=None, decoupled_weight_decay=False):
        check_hyperparameter("learning rate", lr)
        check_hyperparameter("epsilon value", eps)
        if not 0.0 <= _get_value(betas[0]) < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= _get_value(betas[1]) < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        check_hyperparameter("weight_decay value", weight_decay)
        check_unsupported(differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("decoupled_weight_decay", False)

    def _state_of(self, p, group):
        state = self.state[p]
        amsgrad = group["amsgrad"]
        if len(state) == 0:
            state["step"] = _new_step(p, group)
            state["exp_avg"] = vt.zeros_like(p)
            state["exp_avg_sq"] = vt.zeros_like(p)
        if amsgrad and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = vt.zeros_like(p)
        return state

    def step(self, closure=None):
        self._cuda_graph_capture_health_check()
        loss = _evaluate_closure(closure)
        for group in self.param_groups:
            amsgrad = group["amsgrad"]
            beta1, beta2 = (_get_value(beta) for beta in group["betas"])
            fused = _C._fused_adamw_ if group["decoupled_weight_decay"] else _C._fused_adam_
            for params in by_device_and_dtype(_params_with_grad(group)):
                states = [self._state_of(p, group) for p in params]
                steps = [state["step"] for state in states]
                if group["capturable"]:
                    check_capturable_devices(type(self).__name__, params, steps)
                add_to_steps(steps)
                fused(params, [p.grad for p in params], [s["exp_avg"] for s in states],
                      [s["exp_avg_sq"] for s in states], [s["max_exp_avg_sq"] for s in states] if amsgrad else [],
                      steps, lr=_get_value(group["lr"]), beta1=beta1, beta2=beta2,
                      weight_decay=_get_value(group["weight_decay"]), eps=group["eps"], amsgrad=amsgrad,
                      maximize=group["maximize"])
        return loss
