"""Automatic mixed precision, as torch.amp: `autocast` regions in which matrix products run in
float16/bfloat16 and the ops that need it in float32 (the dispatcher casts: include/vt/autocast.h),
and `GradScaler`, which scales a float16 loss so small gradients survive and skips the steps
whose gradients overflowed."""
import functools
import warnings

from vibetensor import _C
from vibetensor.amp.grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "is_autocast_available"]

_DEVICE_TYPES = ("cpu", "cuda")


def is_autocast_available(device_type):
    return device_type in _DEVICE_TYPES


class autocast:
    """`with vt.autocast("cuda", dtype=vt.bfloat16):` (also a decorator). dtype defaults to
    float16 on CUDA and bfloat16 on the CPU; `enabled=False` turns autocast off inside."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        import vibetensor as vt
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if device_type not in _DEVICE_TYPES:
            raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
        self.device = device_type
        self.fast_dtype = _C.get_autocast_dtype(device_type) if dtype is None else dtype
        self._enabled = bool(enabled)
        if self._enabled and self.fast_dtype not in (vt.float16, vt.bfloat16):
            warnings.warn(f"In {device_type} autocast, but the target dtype {self.fast_dtype} is not supported "
                          "(float16 and bfloat16 are). Disabling autocast.")
            self._enabled = False
        self._saved = []

    def __enter__(self):
        self._saved.append((_C.is_autocast_enabled(self.device), _C.get_autocast_dtype(self.device)))
        if self._enabled:
            _C.set_autocast_dtype(self.device, self.fast_dtype)
        _C.set_autocast_enabled(self.device, self._enabled)
        return self

    def __exit__(self, exc_type, exc, tb):
        enabled, dtype = self._saved.pop()
        _C.set_autocast_enabled(self.device, enabled)
        _C.set_autocast_dtype(self.device, dtype)
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorated(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return decorated
