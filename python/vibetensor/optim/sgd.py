"""SGD with momentum, dampening, Nesterov momentum and weight decay (torch.optim.SGD).

A step is one fused C++ call per (device, dtype) of each param group; parameters meeting
momentum for the first time get their buffer from the gradient in that same call.
"""
import vibetensor as vt
from vibetensor import _C
from vibetensor.optim._fused import by_device_and_dtype, check_hyperparameter, check_unsupported
from vibetensor.optim.optimizer import Optimizer, _evaluate_closure, _get_value, _params_with_grad

__all__ = ["SGD"]


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False,
                 foreach=None, differentiable=False, fused=None):
        check_hyperparameter("learning rate", lr)
        check_hyperparameter("momentum value", momentum)
        check_hyperparameter("weight_decay value", weight_decay)
        check_unsupported(differentiable)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                        maximize=maximize, foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)

    def step(self, closure=None):
        loss = _evaluate_closure(closure)
        for group in self.param_groups:
            momentum = _get_value(group["momentum"])
            for params in by_device_and_dtype(_params_with_grad(group)):
                if momentum == 0:
                    self._fused_step(group, params, [], is_first_step=False)
                    continue
                # Buffers start as the first gradient: parameters with and without one
                # take separate calls (the kernel's is_first_step applies to the whole call).
                started = [p for p in params if self.state[p].get("momentum_buffer") is not None]
                fresh = [p for p in params if self.state[p].get("momentum_buffer") is None]
                for p in fresh:
                    self.state[p]["momentum_buffer"] = vt.empty_like(p)
                for subset, first in ((started, False), (fresh, True)):
                    if subset:
                        buffers = [self.state[p]["momentum_buffer"] for p in subset]
                        self._fused_step(group, subset, buffers, is_first_step=first)
        return loss

    @staticmethod
    def _fused_step(group, params, buffers, is_first_step):
        _C._fused_sgd_(params, [p.grad for p in params], buffers, weight_decay=_get_value(group["weight_decay"]),
                       momentum=_get_value(group["momentum"]), lr=_get_value(group["lr"]),
                       dampening=_get_value(group["dampening"]), nesterov=group["nesterov"],
                       maximize=group["maximize"], is_first_step=is_first_step)
