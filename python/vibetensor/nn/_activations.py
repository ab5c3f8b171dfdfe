"""Activations of torch.nn.functional that compose vibetensor's ops, with torch's signatures."""
import warnings

import vibetensor as vt
from vibetensor._C import _nn
from vibetensor.nn._utils import write_inplace

# SELU's fixed point constants (Klambauer et al., 2017).
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def threshold_(input, threshold, value):
    # Values at or below the threshold are replaced, so NaN passes through unchanged, as in torch.
    return input.masked_fill_(input <= threshold, value)


def threshold(input, threshold, value, inplace=False):
    if inplace:
        return threshold_(input, threshold, value)
    return input.masked_fill(input <= threshold, value)


def relu_(input):
    return input.relu_()


def elu_(input, alpha=1.0):
    return _nn.elu(input, alpha, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    return _nn.leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return _nn.hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    # torch's relu6 is hardtanh(0, 6): zero gradient at both kinks.
    return _nn.hardtanh(input, 0.0, 6.0, inplace)


def _selu(x):
    return _nn.elu(x, _SELU_ALPHA) * _SELU_SCALE


def selu(input, inplace=False):
    return write_inplace(input, _selu) if inplace else _selu(input)


def selu_(input):
    return selu(input, inplace=True)


def _celu(x, alpha):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    # The negative branch reads x clamped at 0, so a large positive x, which takes the other
    # branch, cannot overflow exp and turn its zero gradient into NaN.
    return vt.where(x > 0, x, (x.clamp(max=0) / alpha).expm1() * alpha)


def celu(input, alpha=1.0, inplace=False):
    if inplace:
        return write_inplace(input, lambda x: _celu(x, alpha))
    return _celu(input, alpha)


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def _hardsigmoid(x):
    # hardtanh, not clamp: torch's gradient is zero at -3 and 3.
    return _nn.hardtanh(x + 3, 0.0, 6.0) / 6


def hardsigmoid(input, inplace=False):
    return write_inplace(input, _hardsigmoid) if inplace else _hardsigmoid(input)


def _hardswish(x):
    # clamp, not hardtanh: torch's gradient at -3 and 3 is that of the middle piece, x/3 + 1/2.
    return x * (x + 3).clamp(0, 6) / 6


def hardswish(input, inplace=False):
    return write_inplace(input, _hardswish) if inplace else _hardswish(input)


def glu(input, dim=-1):
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim % input.dim()} is size {size}")
    first, second = input.chunk(2, dim)
    return first * second.sigmoid()


def logsigmoid(input):
    # -softplus(-x) is stable at both ends and has torch's gradient, sigmoid(-x).
    return -_nn.softplus(-input)


def softsign(input):
    return input / (input.abs() + 1)


def tanhshrink(input):
    return input - input.tanh()


def softshrink(input, lambd=0.5):
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    # x - clamp(x) is x -+ lambd outside [-lambd, lambd] and exactly 0 inside.
    return input - input.clamp(-lambd, lambd)


def hardshrink(input, lambd=0.5):
    return input.masked_fill(input.abs() <= lambd, 0)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    return _nn.softmax(-input, dim, _stacklevel, dtype)


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    # -log(E) with E ~ Exponential(1) is Gumbel(0, 1), and E = -log(U) with U uniform on [0, 1):
    # E is never 0 (which would make a Gumbel of +inf and a NaN softmax).
    gumbels = -(-vt.rand_like(logits).log()).log()
    y_soft = _nn.softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    # Straight-through: the forward value is one-hot, the gradient is that of y_soft.
    index = y_soft.argmax(dim)
    y_hard = _nn.one_hot(index, y_soft.shape[dim]).to(y_soft.dtype).movedim(-1, dim)
    return y_hard - y_soft.detach() + y_soft


def _rrelu(x, lower, upper, training, generator=None):
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if not training:
        return _nn.leaky_relu(x, (lower + upper) / 2)
    slopes = vt.empty(list(x.shape), dtype=x.dtype, device=x.device).uniform_(lower, upper, generator=generator)
    return vt.where(x > 0, x, x * slopes)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    if inplace:
        return write_inplace(input, lambda x: _rrelu(x, lower, upper, training))
    return _rrelu(input, lower, upper, training)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    return write_inplace(input, lambda x: _rrelu(x, lower, upper, training, generator))


def prelu(input, weight):
    if weight.dim() > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.dim()}")
    channels = input.shape[1] if input.dim() >= 2 else 1
    if weight.numel() != 1 and weight.numel() != channels:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                           f"{weight.numel()} and channel size = {channels}.")
    if weight.numel() == 1:
        slope = weight.reshape([])
    else:
        slope = weight.reshape([channels] + [1] * (input.dim() - 2))
    return vt.where(input > 0, input, input * slope)
