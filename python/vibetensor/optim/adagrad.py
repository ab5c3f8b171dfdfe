"""Adagrad with learning-rate decay and weight decay (torch.optim.Adagrad).

As in torch, the state (step and the running sum of squared gradients, starting at
`initial_accumulator_value`) is created for every parameter in the constructor. A step is
one fused C++ call per (device, dtype) of each param group.
"""
import vibetensor as vt
from vibetensor import _C
from vibetensor.optim._fused import add_to_steps, by_device_and_dtype, check_hyperparameter, check_unsupported
from vibetensor.optim.optimizer import Optimizer, _evaluate_closure, _get_value, _new_step, _params_with_grad

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        check_hyperparameter("learning rate", lr)
        check_hyperparameter("lr_decay value", lr_decay)
        check_hyperparameter("weight_decay value", weight_decay)
        check_hyperparameter("initial_accumulator_value value", initial_accumulator_value)
        check_hyperparameter("epsilon value", eps)
        check_unsupported(differentiable)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _new_step()
                state["sum"] = vt.full_like(p, group["initial_accumulator_value"])

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("maximize", False)

    def step(self, closure=None):
        loss = _evaluate_closure(closure)
        for group in self.param_groups:
            for params in by_device_and_dtype(_params_with_grad(group)):
                states = [self.state[p] for p in params]
                steps = [state["step"] for state in states]
                add_to_steps(steps)
                _C._fused_adagrad_(params, [p.grad for p in params], [s["sum"] for s in states], steps,
                                   lr=_get_value(group["lr"]), lr_decay=group["lr_decay"],
                                   weight_decay=_get_value(group["weight_decay"]), eps=group["eps"],
                                   maximize=group["maximize"])
        return loss
