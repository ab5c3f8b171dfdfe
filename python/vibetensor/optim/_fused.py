"""What the concrete optimizers share: argument checks and the split of a param group into
the lists one fused C++ step takes (`vibetensor._C._fused_adam_` and friends).

A fused step needs one dtype and one device per call, so a group whose parameters differ
in either is split, as torch's `_group_tensors_by_device_and_dtype` does.
"""
from vibetensor import _C


def check_hyperparameter(label, value):
    """torch's `ValueError: Invalid learning rate: -1` for a negative (or NaN) hyperparameter."""
    number = value.item() if hasattr(value, "item") else value
    if not number >= 0.0:
        raise ValueError(f"Invalid {label}: {value}")


def check_unsupported(differentiable=False):
    if differentiable:
        raise NotImplementedError("vibetensor optimizers do not support differentiable=True")


def check_capturable_devices(optimizer_name, params, steps):
    """torch's rule for capturable groups: every param and its step count on a CUDA device."""
    for p, step in zip(params, steps):
        if p.device.type != "cuda" or step.device != p.device:
            raise RuntimeError(f"{optimizer_name}: If capturable=True, params and state_steps must be on supported "
                               f"devices: got a param on {p.device} with its step on {step.device}.")


def by_device_and_dtype(params):
    """Lists of params, one per (device, dtype), in first-seen order."""
    buckets = {}
    for p in params:
        buckets.setdefault((str(p.device), p.dtype), []).append(p)
    return list(buckets.values())


def add_to_steps(steps, value=1):
    """`state["step"] += 1` for every param of a call, in one C++ call."""
    _C._foreach_add_(steps, value)
