"""Helpers shared by the functionals written in Python: argument normalisation, loss reductions,
in-place results, powers and sliding windows.

Everything here composes registered ops, so autograd needs nothing extra.
"""
import math
import warnings

import vibetensor as vt


# ---- arguments

def ntuple(value, n, name, fn):
    """An int or a sequence of 1 or `n` ints as a tuple of `n` ints (torch's `_pair`, `_triple`)."""
    if isinstance(value, int):
        return (value,) * n
    value = tuple(value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise RuntimeError(f"{fn}: {name} must either be a single int, or a tuple of {n} ints, got {value}")
    return value


def batched(input, nd, fn):
    """`input` with a batch dim (unbatched inputs of `nd` spatial dims get one), and whether it was added."""
    if input.dim() == nd + 2:
        return input, False
    if input.dim() == nd + 1:
        return input.unsqueeze(0), True
    raise RuntimeError(f"{fn}: Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input, but got input of "
                       f"size: {list(input.shape)}")


def broadcast_shape(a, b):
    """The shape two shapes broadcast to (torch's rules), or a RuntimeError naming the clash."""
    a, b = list(a), list(b)
    n = max(len(a), len(b))
    a, b = [1] * (n - len(a)) + a, [1] * (n - len(b)) + b
    out = []
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton "
                               f"dimension {i}")
        out.append(y if x == 1 else x)
    return out


def unbatch(output, was_unbatched):
    return output.squeeze(0) if was_unbatched else output


# ---- reductions

def legacy_reduction(size_average, reduce, reduction):
    """torch's deprecated `size_average`/`reduce` flags win over `reduction` when either is given."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    result = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{result}' instead.",
                  stacklevel=3)
    return result


def check_reduction(reduction):
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated, please use reduction='mean' instead.", stacklevel=3)
        return "mean"
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def apply_reduction(loss, reduction):
    """Apply a loss reduction ('none', 'mean' or 'sum'), rejecting other names as torch does."""
    reduction = check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


# ---- in-place results

def write_inplace(input, compute):
    """`compute(input)` written into `input`, which is returned (torch's `inplace=True`).

    When autograd records the computation, it reads a clone: the ops it calls may save their
    input for backward, and writing the result over that input would invalidate it.
    """
    source = input.clone() if input.requires_grad and vt.is_grad_enabled() else input
    return input.copy_(compute(source))


def clamp_min_straight_through(tensor, eps):
    """`tensor` clamped below at `eps` in value, with the gradient of the unclamped tensor
    (torch clamps these under no_grad, so the clamp is invisible to autograd)."""
    clamped = tensor.clone()
    with vt.no_grad():
        clamped.clamp_(min=eps)
    return clamped


# ---- powers

def power(x, exponent):
    """`x ** exponent` for a float exponent, passed as a tensor of x's dtype: vibetensor's pow
    backward rounds a Python-number exponent to float32, which float64 gradients would show."""
    if isinstance(exponent, float) and x.is_floating_point():
        exponent = vt.tensor(exponent, dtype=x.dtype, device=x.device)
    return x.pow(exponent)


# ---- sliding windows (pooling and convolution)

def window_count(size, kernel, stride, padding, dilation, ceil_mode):
    """Number of windows along one dim, by torch's rule: in ceil mode the last window must
    start inside the input or its left padding."""
    span = dilation * (kernel - 1) + 1
    count = (size + 2 * padding - span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (count - 1) * stride >= size + padding:
        count -= 1
    return count


def windows(x, kernel, stride, padding, dilation, ceil_mode, pad_value):
    """[B, C, *spatial] -> [B, C, *counts, *kernel]: every window, as strided views of the input
    padded with `pad_value` (extra right padding covers the partial windows of ceil mode)."""
    nd = len(kernel)
    spatial = list(x.shape[2:])
    counts = [window_count(spatial[i], kernel[i], stride[i], padding[i], dilation[i], ceil_mode) for i in range(nd)]
    spans = [dilation[i] * (kernel[i] - 1) + 1 for i in range(nd)]
    pads = []
    for i in reversed(range(nd)):  # pad() takes the last dim first
        extra = max(0, (counts[i] - 1) * stride[i] + spans[i] - (spatial[i] + 2 * padding[i]))
        pads += [padding[i], padding[i] + extra]
    if any(pads):
        x = vt.nn.functional.pad(x, pads, value=pad_value)
    for i in range(nd):
        x = x.unfold(2 + i, spans[i], stride[i])
        if x.shape[2 + i] != counts[i]:
            x = x.narrow(2 + i, 0, counts[i])
    if any(d > 1 for d in dilation):
        x = x[(Ellipsis,) + tuple(slice(None, None, d) for d in dilation)]
    return x
