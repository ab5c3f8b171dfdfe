"""Tensor creation composed in Python over the bound factories: as_tensor, linspace,
logspace, and the Tensor.new_* family."""
import builtins

from vibetensor import _C


def as_tensor(data, *, dtype=None, device=None):
    """`data` as a tensor, sharing memory when it already is one (or a numpy array) of the
    requested dtype and device."""
    if isinstance(data, _C.Tensor):
        return data.to(dtype=dtype, device=device) if (dtype is not None or device is not None) else data
    if hasattr(data, "__array_interface__") and not isinstance(data, (builtins.int, builtins.float, builtins.bool)):
        try:
            shared = _C.from_numpy(data)
        except (TypeError, RuntimeError, ValueError):
            return _C.tensor(data, dtype=dtype, device=device)
        return as_tensor(shared, dtype=dtype, device=device)
    return _C.tensor(data, dtype=dtype, device=device)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """`steps` evenly spaced values from start to end inclusive; the second half counts back
    from `end` (as torch does) so both ends are exact."""
    if out is not None:
        raise NotImplementedError("linspace(): out= is not supported yet")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = dtype or _C.get_default_dtype()
    start, end = _number(start), _number(end)
    if steps == 0:
        return _C.empty(0, dtype=dtype, device=device, requires_grad=requires_grad)
    if steps == 1:
        return _C.full((1,), start, dtype=dtype, device=device, requires_grad=requires_grad)
    if not dtype.is_floating_point:
        start, end = int(start), int(end)  # integer results count between the truncated ends, as torch
    # 16-bit floats count in float32 (their index would overflow or lose integers), as torch does.
    if dtype in (_C.float32, _C.float64):
        compute = dtype
    else:
        compute = _C.float32 if dtype.is_floating_point else _C.float64
    step = (end - start) / (steps - 1)
    index = _C.arange(steps, dtype=compute, device=device)
    from_start = index * step + start
    from_end = end - (steps - 1 - index) * step
    values = _C.where(index < steps // 2, from_start, from_end).to(dtype)
    return values.requires_grad_() if requires_grad else values


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    if out is not None:
        raise NotImplementedError("logspace(): out= is not supported yet")
    dtype = dtype or _C.get_default_dtype()
    exponents = linspace(start, end, steps, dtype=_C.float64, device=device)
    values = _C.pow(_C.full((), base, dtype=_C.float64), exponents).to(dtype)
    return values.requires_grad_() if requires_grad else values


def _number(x):
    return x.item() if isinstance(x, _C.Tensor) else x


def _like(self, dtype, device):
    return dict(dtype=self.dtype if dtype is None else dtype, device=self.device if device is None else device)


def _sizes(size):
    return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size


def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
    return _C.empty(*_sizes(size), requires_grad=requires_grad, **_like(self, dtype, device))


def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
    return _C.zeros(*_sizes(size), requires_grad=requires_grad, **_like(self, dtype, device))


def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
    return _C.ones(*_sizes(size), requires_grad=requires_grad, **_like(self, dtype, device))


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    return _C.full(tuple(size), fill_value, requires_grad=requires_grad, **_like(self, dtype, device))


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    out = _C.tensor(data, **_like(self, dtype, device))
    if isinstance(data, _C.Tensor):
        out = data.detach().clone().to(**_like(self, dtype, device))
    return out.requires_grad_() if requires_grad else out
