"""RMSprop, plain or centered, with momentum and weight decay (torch.optim.RMSprop).

A step is one fused C++ call per (device, dtype) of each param group (`_fused_rmsprop_`,
which torch lacks: its RMSprop is a chain of foreach ops), after one call that advances the
step counters torch keeps.
"""
import vibetensor as vt
from vibetensor import _C
from vibetensor.optim._fused import (add_to_steps, by_device_and_dtype, check_capturable_devices, check_hyperparameter,
                                     check_unsupported)
from vibetensor.optim.optimizer import Optimizer, _evaluate_closure, _get_value, _new_step, _params_with_grad

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_hyperparameter("learning rate", lr)
        check_hyperparameter("epsilon value", eps)
        check_hyperparameter("momentum value", momentum)
        check_hyperparameter("weight_decay value", weight_decay)
        check_hyperparameter("alpha value", alpha)
        check_unsupported(differentiable)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered, weight_decay=weight_decay,
                        capturable=capturable, foreach=foreach, maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
            group.setdefault("maximize", False)

    def _state_of(self, p, group):
        state = self.state[p]
        momentum, centered = _get_value(group["momentum"]), group["centered"]
        if len(state) == 0:
            state["step"] = _new_step(p, group)
            state["square_avg"] = vt.zeros_like(p)
            if momentum > 0:
                state["momentum_buffer"] = vt.zeros_like(p)
            if centered:
                state["grad_avg"] = vt.zeros_like(p)
        return state

    def step(self, closure=None):
        self._cuda_graph_capture_health_check()
        loss = _evaluate_closure(closure)
        for group in self.param_groups:
            momentum, centered = _get_value(group["momentum"]), group["centered"]
            for params in by_device_and_dtype(_params_with_grad(group)):
                states = [self._state_of(p, group) for p in params]
                steps = [state["step"] for state in states]
                if group["capturable"]:
                    check_capturable_devices(type(self).__name__, params, steps)
                add_to_steps(steps)
                _C._fused_rmsprop_(params, [p.grad for p in params], [s["square_avg"] for s in states],
                                   [s["grad_avg"] for s in states] if centered else [],
                                   [s["momentum_buffer"] for s in states] if momentum > 0 else [],
                                   lr=_get_value(group["lr"]), alpha=group["alpha"], eps=group["eps"],
                                   weight_decay=_get_value(group["weight_decay"]), momentum=momentum,
                                   centered=centered, maximize=group["maximize"])
        return loss
