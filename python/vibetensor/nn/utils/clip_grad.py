"""Gradient clipping (torch.nn.utils.clip_grad): clip_grad_norm_, clip_grad_value_,
get_total_norm, clip_grads_with_norm_.

Each costs a few ops per parameter (one norm, one in-place scale or clamp) plus one stack and
norm for the total; there are no per-element Python loops. `foreach` is accepted for torch
compatibility: every path here is already the grouped one.
"""
import types
import warnings

from vibetensor import _C
from vibetensor._C import Tensor
from vibetensor.autograd.grad_mode import no_grad

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _as_list(tensors):
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of all `tensors` taken together: the norm of their norms."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return _C.tensor(0.0)
    with no_grad():
        norms = [_C.linalg_vector_norm(t, norm_type) for t in tensors]
        dtype = norms[0].dtype
        for norm in norms[1:]:
            dtype = _C.promote_types(dtype, norm.dtype)
        total = _C.linalg_vector_norm(_C.stack([norm.to(dtype=dtype) for norm in norms]), norm_type)
    if error_if_nonfinite and bool(_C.logical_or(total.isnan(), total.isinf())):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
                           "it cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           "norm anyway, set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients by min(1, max_norm / (total_norm + 1e-6)), in place."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    with no_grad():
        # The coefficient stays a tensor: no host sync, and a non-finite norm propagates as in torch.
        coefficient = _C.clamp(float(max_norm) / (total_norm + 1e-6), max=1.0)
        for grad in grads:
            grad.mul_(coefficient.to(dtype=grad.dtype))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Clip the gradients' total norm to max_norm in place; returns the total norm before clipping."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and len(parameters) == 0:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=3)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    warnings.warn("`vibetensor.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`vibetensor.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _as_list(parameters):
            grad = p.grad
            if grad is not None:
                grad.clamp_(min=-clip_value, max=clip_value)
