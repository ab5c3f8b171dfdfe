"""Finite-difference checks of every derivative, driven by a table of the op registry.

Every op in `vt.ops.list_ops()` is classified below: differentiable (with gradcheck cases,
some also checked to second order with gradgradcheck, the others differentiable to first order
only), derivative not implemented (in torch either), or not differentiable (with a sample
compared against torch where one makes sense). A new op that is in no table fails
`test_every_op_is_classified`.
"""
import numpy as np
import pytest
import torch

import vibetensor as vt
from test_autograd_ops import check


class Case:
    """fn(*inputs) on float64 leaves of `shapes` with values in [low, high); `double` says
    whether second derivatives are expected to work (gradgradcheck)."""

    def __init__(self, fn, *shapes, low=-2.0, high=2.0, double=True, **tolerances):
        self.fn, self.shapes, self.low, self.high, self.double = fn, shapes, low, high, double
        self.tolerances = tolerances  # eps, atol, rtol for gradcheck

    def inputs(self, seed=0):
        rng = np.random.default_rng(seed)
        return tuple(vt.from_numpy(rng.uniform(self.low, self.high, s)).requires_grad_() for s in self.shapes)


def pos(fn, *shapes, double=True):
    """A case whose inputs must be positive (log, sqrt, pow's base, divisors)."""
    return Case(fn, *shapes, low=0.5, high=2.0, double=double)


def first_order(fn, *shapes, **kwargs):
    """A case whose double backward is not implemented yet: selecting views (select, slice,
    narrow, diagonal, unfold, as_strided) and in-place ops on views."""
    return Case(fn, *shapes, double=False, **kwargs)


def copy_of(x):
    """A non-leaf copy that in-place ops may modify."""
    return x * 1


def mul_row_in_place(x, y):
    out = copy_of(x)
    out[1].mul_(y)
    return out


def assign_column(x, y):
    out = copy_of(x)
    out[:, 0] = y
    return out


def max_with_ties(x):
    flat = x.reshape(-1)
    return vt.where(flat == flat.max(), flat, flat - 1).max() * x.sum()


DIFFERENTIABLE = {
    "add": [Case(lambda x, y: x + y, (2, 3), (3,)), Case(lambda x, y: vt.add(x, y, alpha=-2), (2, 1), ())],
    "add_": [Case(lambda x, y: copy_of(x).add_(y, alpha=2), (2, 3), (3,))],
    "sub": [Case(lambda x, y: x - y, (2, 3), (2, 1)), Case(lambda x, y: vt.sub(x, y, alpha=3), (), (2,))],
    "sub_": [Case(lambda x, y: copy_of(x).sub_(y), (2, 3), ())],
    "mul": [Case(lambda x, y: x * y, (2, 3), (3,)), Case(lambda x: x * x * 3, (2, 2))],
    "mul_": [Case(lambda x, y: copy_of(x).mul_(y), (2, 3), (2, 3)), first_order(mul_row_in_place, (2, 3), (3,))],
    "div": [pos(lambda x, y: x / y, (2, 3), (3,)),
            pos(lambda x, y: vt.div(x, y, rounding_mode="floor") * x, (2, 2), (2, 2)),
            pos(lambda x, y: vt.div(x * 3, y, rounding_mode="trunc"), (2, 2), (2,))],
    "div_": [pos(lambda x, y: copy_of(x).div_(y), (2, 3), (2, 3))],
    "pow": [pos(lambda x, y: x ** y, (2, 3), (2, 3)), Case(lambda x: x ** 3, (2, 3)), Case(lambda x: 2 ** x, (3,))],
    "pow_": [pos(lambda x, y: copy_of(x).pow_(y), (2, 3), (3,))],
    "neg": [Case(lambda x: -x, (2, 3))],
    "neg_": [Case(lambda x: copy_of(x).neg_(), (2, 3))],
    "abs": [Case(lambda x: x.abs(), (2, 3))],
    "abs_": [Case(lambda x: copy_of(x).abs_(), (2, 3))],
    "exp": [Case(lambda x: x.exp(), (2, 3))],
    "exp_": [Case(lambda x: copy_of(x).exp_(), (2, 3))],
    "log": [pos(lambda x: x.log(), (2, 3))],
    "log_": [pos(lambda x: copy_of(x).log_(), (2, 3))],
    "sqrt": [pos(lambda x: x.sqrt(), (2, 3))],
    "sqrt_": [pos(lambda x: copy_of(x).sqrt_(), (2, 3))],
    "rsqrt": [pos(lambda x: x.rsqrt(), (2, 3))],
    "rsqrt_": [pos(lambda x: copy_of(x).rsqrt_(), (2, 3))],
    "relu": [Case(lambda x: x.relu() * x, (2, 3))],
    "relu_": [Case(lambda x: copy_of(x).relu_(), (2, 3))],
    "sigmoid": [Case(lambda x: x.sigmoid(), (2, 3))],
    "sigmoid_": [Case(lambda x: copy_of(x).sigmoid_(), (2, 3))],
    "tanh": [Case(lambda x: x.tanh(), (2, 3))],
    "tanh_": [Case(lambda x: copy_of(x).tanh_(), (2, 3))],
    "clamp": [Case(lambda x: x.clamp(-0.5, 0.7) * x, (2, 3)), Case(lambda x: vt.clamp(x, min=0.2), (2, 3)),
              Case(lambda x: x.clamp(max=-0.2), (3,))],
    "clamp_": [Case(lambda x: copy_of(x).clamp_(-1.0, 1.0), (2, 3))],
    "where.self": [Case(lambda x, y: vt.where(x > y, x * y, y), (2, 3), (3,)),
                   Case(lambda x: vt.where(x > 0, x, 0.0), (2, 3))],
    "sum.dim_IntList": [Case(lambda x: (x * x).sum(), (2, 3)), Case(lambda x: (x * x).sum(1), (2, 3)),
                        Case(lambda x: vt.sum(x * x, (0, 2), keepdim=True), (2, 2, 2))],
    "mean.dim": [Case(lambda x: (x * x).mean(), (2, 3)), Case(lambda x: (x * x).mean(0, keepdim=True), (2, 3))],
    "max": [Case(lambda x: x.max() * x, (2, 3)), Case(max_with_ties, (2, 2))],
    "min": [Case(lambda x: vt.min(x * x), (2, 3))],
    "max.dim": [Case(lambda x: x.max(1).values * x.sum(), (2, 3)),
                Case(lambda x: vt.max(x * x, 0, keepdim=True)[0], (3, 2))],
    "min.dim": [Case(lambda x: x.min(-1).values ** 2, (2, 3))],
    "mm": [Case(lambda x, y: vt.mm(x, y), (2, 3), (3, 2))],
    "bmm": [Case(lambda x, y: vt.bmm(x, y), (2, 2, 3), (2, 3, 2))],
    "matmul": [Case(lambda x, y: x @ y, (3,), (3,)), Case(lambda x, y: x @ y, (2, 3), (3,)),
               Case(lambda x, y: x @ y, (3,), (3, 2)), Case(lambda x, y: x @ y, (2, 1, 2, 3), (2, 3, 2))],
    "view": [Case(lambda x: (x * x).view(3, 2), (2, 3))],
    "reshape": [Case(lambda x: (x * x).t().reshape(-1), (2, 3))],
    "permute": [Case(lambda x: (x * x).permute(1, 2, 0), (2, 3, 2))],
    "transpose.int": [Case(lambda x: (x * x).transpose(0, 1), (2, 3))],
    "t": [Case(lambda x: (x * x).t(), (2, 3)), Case(lambda x: (x * x).T, (2, 3))],
    "expand": [Case(lambda x: (x * x).expand(2, 3, 2), (3, 1))],
    "squeeze.dims": [Case(lambda x: (x * x).squeeze(), (2, 1, 3)), Case(lambda x: (x * x).squeeze(1), (2, 1))],
    "unsqueeze": [Case(lambda x: (x * x).unsqueeze(1), (2, 3))],
    "flatten.using_ints": [Case(lambda x: (x * x).flatten(), (2, 3, 2))],
    "unflatten.int": [Case(lambda x: (x * x).unflatten(1, (2, 2)), (2, 4))],
    "clone": [Case(lambda x: (x * x).clone(), (2, 3))],
    "contiguous": [Case(lambda x: (x * x).t().contiguous(), (2, 3))],
    "to": [Case(lambda x: (x * x).to(vt.float32).to(vt.float64), (2, 3), eps=1e-3, atol=1e-3, rtol=1e-2)],
    "copy_": [Case(lambda x, y: copy_of(x).copy_(y * y), (2, 3), (3,)), first_order(assign_column, (2, 3), (2,))],
    "fill_": [Case(lambda x: copy_of(x).fill_(2.0) * x, (2, 3))],
    "narrow": [first_order(lambda x: x.narrow(1, 1, 2), (2, 3))],
    # one node for all the parts; parts that get no gradient (the middle ones here) count as zeros
    "split.Tensor": [Case(lambda x: (lambda p: p[0] * 2 + p[2])((x * x).split(2, 1)), (2, 6)),
                     Case(lambda x: x.chunk(3)[2] * x.chunk(3)[0].sum(), (5, 2))],
    "split_with_sizes": [Case(lambda x: (lambda p: p[1].sum() * p[0])((x * x).split([1, 3], 1)), (2, 4))],
    "unbind.int": [Case(lambda x: (lambda p: p[0] * p[2])((x * x).unbind(1)), (2, 3, 2))],
    "select.int": [first_order(lambda x: x.select(1, 2), (2, 3)), first_order(lambda x: x[1], (2, 3))],
    "slice.Tensor": [first_order(lambda x: x[1:, ::2], (3, 4))],
    "diagonal": [first_order(lambda x: x.diagonal(1), (3, 3))],
    "unfold": [first_order(lambda x: x.unfold(1, 2, 1), (2, 4)), first_order(lambda x: x.unfold(0, 2, 1), (3, 2))],
    "as_strided": [first_order(lambda x: x.as_strided((2, 2), (1, 2)), (2, 3)),
                   first_order(lambda x: vt.as_strided(x * x, (3, 2), (1, 1), 1), (2, 3)),  # overlapping
                   first_order(lambda x: (x * 2).t().as_strided((2, 3), (0, 1)), (2, 3))],  # zero stride
    "square": [Case(lambda x: vt.square(x), (2, 3)), Case(lambda x: copy_of(x).square_(), (2, 3))],
}

# The rest of the unary op table (include/vt/unary_ops.def), each with the interval its inputs
# come from: the op and its in-place form. The rounding ops and sign have a zero derivative
# (as in torch); random inputs sit far from their jumps.
UNARY_TABLE = {
    "exp2": (-2.0, 2.0), "expm1": (-2.0, 2.0), "log2": (0.5, 2.0), "log10": (0.5, 2.0), "log1p": (-0.5, 2.0),
    "reciprocal": (0.5, 2.0), "sin": (-2.0, 2.0), "cos": (-2.0, 2.0), "tan": (-1.2, 1.2), "asin": (-0.9, 0.9),
    "acos": (-0.9, 0.9), "atan": (-2.0, 2.0), "sinh": (-2.0, 2.0), "cosh": (-2.0, 2.0), "asinh": (-2.0, 2.0),
    "acosh": (1.2, 3.0), "atanh": (-0.9, 0.9), "erf": (-2.0, 2.0), "erfinv": (-0.9, 0.9), "floor": (-2.0, 2.0),
    "ceil": (-2.0, 2.0), "trunc": (-2.0, 2.0), "round": (-2.0, 2.0), "frac": (-2.0, 2.0), "sign": (-2.0, 2.0),
    "silu": (-2.0, 2.0), "mish": (-2.0, 2.0),
}
for _name, (_low, _high) in UNARY_TABLE.items():
    DIFFERENTIABLE[_name] = [Case(lambda x, op=_name: getattr(vt, op)(x), (2, 3), low=_low, high=_high)]
    DIFFERENTIABLE[_name + "_"] = [Case(lambda x, op=_name: getattr(copy_of(x), op + "_")(), (2, 3), low=_low,
                                        high=_high)]

# The differentiable ops of the binary op table (include/vt/binary_ops.def), with what each
# operand goes through first to keep it away from ties, zeros and jumps: the op and its in-place
# form (torch has no maximum_ and minimum_).
BINARY_TABLE = {
    "maximum": (lambda x: x, lambda y: y * 3), "minimum": (lambda x: x, lambda y: y * 3),
    "fmod": (lambda x: x * 3, lambda y: y.abs() + 0.5), "remainder": (lambda x: x * 3, lambda y: y.abs() + 0.5),
    "atan2": (lambda x: x, lambda y: y.abs() + 0.5), "hypot": (lambda x: x, lambda y: y),
    "copysign": (lambda x: x.abs() + 0.5, lambda y: y), "xlogy": (lambda x: x, lambda y: y.abs() + 0.5),
}
for _name, (_first, _second) in BINARY_TABLE.items():
    DIFFERENTIABLE[_name] = [Case(lambda x, y, op=_name, a=_first, b=_second: getattr(vt, op)(a(x), b(y)), (2, 3),
                                  (2, 3))]
    DIFFERENTIABLE[_name + "_"] = [Case(lambda x, y, op=_name, a=_first, b=_second:
                                        getattr(copy_of(a(x)), op + "_")(b(y)), (2, 3), (3,))]

# The parameterized activations (vibetensor.nn.functional), logit, nan_to_num, round(decimals=).
F = vt.nn.functional
DIFFERENTIABLE.update({
    "elu": [Case(lambda x: F.elu(x), (2, 3)), Case(lambda x: F.elu(x, alpha=0.5) * x, (2, 3))],
    "gelu": [Case(lambda x: F.gelu(x), (2, 3)), Case(lambda x: F.gelu(x, approximate="tanh"), (2, 3))],
    "hardtanh": [Case(lambda x: F.hardtanh(x, -0.5, 0.7) * x, (2, 3))],
    "leaky_relu": [Case(lambda x: F.leaky_relu(x, 0.2), (2, 3)), Case(lambda x: F.leaky_relu(x), (3,))],
    "softplus": [Case(lambda x: F.softplus(x), (2, 3)), Case(lambda x: F.softplus(x, beta=2, threshold=1), (2, 3))],
    "logit": [Case(lambda x: vt.logit(x), (2, 3), low=0.1, high=0.9),
              Case(lambda x: vt.logit(x, eps=0.2) * x, (2, 3), low=0.0, high=1.0)],
    "nan_to_num": [Case(lambda x: vt.nan_to_num(x.log(), nan=0.5) * x, (2, 3))],  # NaN where x < 0
    "round.decimals": [Case(lambda x: vt.round(x, decimals=1) * x, (2, 3))],
    # joining, and the reductions amax, amin, logsumexp, softmax, log_softmax
    "cat": [Case(lambda x, y: vt.cat([x, y, x * 2], 0), (2, 3), (1, 3)),
            Case(lambda x, y: vt.cat((x, y), -1), (2, 3), (2, 2))],
    "stack": [Case(lambda x, y: vt.stack([x, y], 1), (2, 3), (2, 3))],
    "amax": [Case(lambda x: vt.amax(x, 1), (2, 3)), Case(lambda x: (x * x).amax((0, 1), keepdim=True), (2, 3))],
    "amin": [Case(lambda x: vt.amin(x, 0), (2, 3)), Case(lambda x: (x * x).amin(), (2, 3))],
    "logsumexp": [Case(lambda x: vt.logsumexp(x, 1), (2, 3)),
                  Case(lambda x: x.logsumexp((0, 1), keepdim=True), (2, 3))],
    "softmax.int": [Case(lambda x: vt.softmax(x, 1), (2, 3)), Case(lambda x: F.softmax(x, dim=0), (2, 3))],
    "log_softmax.int": [Case(lambda x: vt.log_softmax(x, -1), (2, 3)), Case(lambda x: F.log_softmax(x, dim=0), (2, 3))],
    # the kernels behind softmax and log_softmax (their backward kernels are the next entries)
    "_softmax": [Case(lambda x: vt.softmax(x * 2, 1), (2, 3))],
    "_log_softmax": [Case(lambda x: vt.log_softmax(x * 2, 0), (2, 3))],
})

# Indexing: index tensors are constants; repeated indices check that gradients accumulate.
ROWS = vt.tensor([[0, 2, 1, 2], [1, 1, 0, 0]])  # an index into dim 1 of a (2, 3) tensor, each row with a repeat
REPEATED = vt.tensor([1, 0, 1])
DIFFERENTIABLE.update({
    "gather": [Case(lambda x: vt.gather(x, 1, ROWS), (2, 3)),
               Case(lambda x: (x * x).gather(0, vt.tensor([[1, 0, 1], [1, 1, 1]])), (2, 3)),
               Case(lambda x: vt.gather(x, -1, ROWS[:, :2].t()), (2, 3))],
    "scatter_add": [Case(lambda x, s: vt.scatter_add(x, 1, ROWS, s), (2, 3), (2, 4)),
                    Case(lambda x, s: copy_of(x).scatter_add_(0, vt.tensor([[1, 0, 1]]), s * s), (2, 3), (1, 3))],
    "index_select": [Case(lambda x: vt.index_select(x, 0, REPEATED), (2, 3)),
                     Case(lambda x: (x * x).index_select(-1, vt.tensor([2, 2, 0, 1])), (2, 3))],
    "index_add": [Case(lambda x, s: vt.index_add(x, 0, REPEATED, s, alpha=-2), (2, 3), (3, 3)),
                  Case(lambda x, s: copy_of(x).index_add_(1, vt.tensor([2, 2]), s * s), (2, 3), (2, 2))],
    "masked_fill.Scalar": [Case(lambda x: vt.masked_fill(x, x > 0, 0.5), (2, 3)),
                           Case(lambda x: copy_of(x).masked_fill_(vt.tensor([True, False, True]), 2.0) * x, (2, 3)),
                           Case(lambda x: x.masked_fill(vt.tensor(True), -1.0) + x, (3,))],
    # padding_idx gives the padding row a zero gradient (not the true derivative, as in torch); the
    # gradient against torch's is in test_indexing.py.
    "embedding": [Case(lambda w: F.embedding(vt.tensor([[0, 2], [2, 3]]), w), (4, 3)),
                  Case(lambda w: F.embedding(REPEATED, w * w), (2, 3))],
})

# Advanced indexing and scatter: positions and masks are constants.
MASK = vt.tensor([[True, False, True], [False, True, True]])
DIFFERENTIABLE.update({
    "index.Tensor": [Case(lambda x: x[vt.tensor([1, 0, 1])], (2, 3)),
                     Case(lambda x: x[[0, 1, 1], [2, 2, 0]] * 2, (2, 3)),
                     Case(lambda x: x[MASK], (2, 3)),
                     first_order(lambda x: (x * x)[:, [[0], [2]], 1], (2, 3, 2))],
    "index_put": [Case(lambda x, v: vt.index_put(x, (vt.tensor([1, 0, 1]),), v, accumulate=True), (2, 3), (3, 3)),
                  Case(lambda x, v: x.index_put((vt.tensor([1]), vt.tensor([2])), v), (2, 3), ()),
                  Case(lambda x, v: assign_mask(x, v), (2, 3), (4,))],
    "index_copy": [Case(lambda x, s: vt.index_copy(x, 1, vt.tensor([2, 0]), s), (2, 3), (2, 2)),
                   Case(lambda x, s: copy_of(x).index_copy_(0, vt.tensor([1]), s * s), (2, 3), (1, 3))],
    "index_fill.int_Tensor": [Case(lambda x, v: x.index_fill(1, vt.tensor([0, 2]), v), (2, 3), ()),
                              Case(lambda x: vt.index_fill(x * x, 0, vt.tensor([1]), -1.0), (2, 3))],
    "masked_select": [Case(lambda x: vt.masked_select(x, MASK), (2, 3)),
                      Case(lambda x: x.masked_select(vt.tensor([True, False, True])), (2, 3))],
    "masked_scatter": [first_order(lambda x, s: x.masked_scatter(MASK, s), (2, 3), (5,)),
                       first_order(lambda x, s: copy_of(x).masked_scatter_(vt.tensor([False, True, True]), s), (2, 3),
                                   (2, 3))],
    "take": [Case(lambda x: vt.take(x, vt.tensor([[0, 5], [-1, 0]])), (2, 3))],
    "take_along_dim": [Case(lambda x: vt.take_along_dim(x, ROWS, dim=1), (2, 3)),
                       Case(lambda x: x.take_along_dim(vt.tensor([4, 4, 0])), (2, 3))],
    "scatter.src": [Case(lambda x, s: vt.scatter(x, 1, vt.tensor([[2, 0], [1, 2]]), s), (2, 3), (2, 2)),
                    Case(lambda x, s: copy_of(x).scatter_(0, vt.tensor([[1, 0, 1]]), s), (2, 3), (1, 3))],
    "scatter.value": [Case(lambda x: x.scatter(1, vt.tensor([[2], [0]]), value=1.5), (2, 3))],
    "scatter.reduce": [Case(lambda x, s: x.scatter(1, ROWS, s, reduce="add"), (2, 3), (2, 4)),
                       Case(lambda x, s: x.scatter(1, ROWS, s, reduce="multiply"), (2, 3), (2, 4), low=0.5)],
    "scatter_reduce.two": [
        Case(lambda x, s: x.scatter_reduce(1, ROWS, s, "sum"), (2, 3), (2, 4)),
        Case(lambda x, s: x.scatter_reduce(1, ROWS, s, "mean", include_self=False), (2, 3), (2, 4)),
        Case(lambda x, s: vt.scatter_reduce(x, 1, ROWS, s, "amax"), (2, 3), (2, 4)),
        Case(lambda x, s: x.scatter_reduce(1, ROWS, s, "amin", include_self=False), (2, 3), (2, 4)),
        Case(lambda x, s: x.scatter_reduce(1, ROWS, s, "prod"), (2, 3), (2, 4), low=0.5)],
})


def assign_mask(x, v):
    out = copy_of(x)
    out[MASK] = v
    return out


# Ordering, scans and products. Inputs are distinct almost surely, so sort orders are stable
# under gradcheck's perturbations; the products' zero cases are compared with torch in test_ordering.py.
DIFFERENTIABLE.update({
    "sort": [Case(lambda x: vt.sort(x, 1).values, (2, 3)), Case(lambda x: x.sort(0, descending=True)[0] * x, (2, 3))],
    "msort": [Case(lambda x: vt.msort(x), (3, 2))],
    "topk": [first_order(lambda x: vt.topk(x, 2).values, (2, 3)), first_order(lambda x: x.topk(1, 0, largest=False)[0], (2, 3))],
    "kthvalue": [Case(lambda x: vt.kthvalue(x, 2, 1).values, (2, 3))],
    "median": [Case(lambda x: x.median(), (2, 3))],
    "median.dim": [Case(lambda x: vt.median(x, 0, keepdim=True).values, (3, 2))],
    "nanmedian": [Case(lambda x: x.nanmedian(), (2, 3))],
    "nanmedian.dim": [Case(lambda x: vt.nanmedian(x, 1).values, (2, 3))],
    "cumsum": [Case(lambda x: vt.cumsum(x, 1), (2, 3)), Case(lambda x: (x * x).cumsum(0), (2, 3))],
    "cumprod": [Case(lambda x: vt.cumprod(x, 1), (2, 3)), Case(lambda x: (x * x).cumprod(-1), (3,)),
                Case(lambda x: vt.cumprod(x * vt.tensor([1.0, 0.0, 1.0, 1.0]), 0), (4,))],
    "prod": [Case(lambda x: vt.prod(x), (2, 3)), Case(lambda x: (x * vt.tensor([1.0, 0.0, 1.0])).prod(), (3,))],
    "prod.dim_int": [Case(lambda x: vt.prod(x, 1), (2, 3)), Case(lambda x: x.prod(0, keepdim=True), (3, 2))],
})


# Rearrangements, three-operand pointwise ops, einsum/tensordot and the vector norm.
DIFFERENTIABLE.update({
    "tile": [Case(lambda x: vt.tile(x, (2, 1)), (2, 3))],
    "repeat_interleave.self_Tensor": [Case(lambda x: x.repeat_interleave(vt.tensor([2, 0, 1]), dim=1), (2, 3))],
    "repeat_interleave.self_int": [Case(lambda x: vt.repeat_interleave(x, 2), (2, 3))],
    "roll": [first_order(lambda x: vt.roll(x, (1, -1), (0, 1)), (2, 3)), first_order(lambda x: x.roll(2), (2, 3))],
    "pad": [Case(lambda x: F.pad(x, (2, 1), mode="reflect"), (1, 2, 3)),
            Case(lambda x: F.pad(x, (1, 2, 2, 0), mode="replicate"), (1, 2, 3)),
            Case(lambda x: F.pad(x, (1, 1), mode="circular"), (1, 2, 3))],
    "lerp.Scalar": [Case(lambda x, y: vt.lerp(x, y, 0.3), (2, 3), (3,))],
    "lerp.Tensor": [Case(lambda x, y, w: x.lerp(y, w), (2, 3), (2, 3), (3,))],
    "addcmul": [Case(lambda x, a, b: vt.addcmul(x, a, b, value=2), (2, 3), (3,), (2, 1))],
    "addcdiv": [pos(lambda x, a, b: x.addcdiv(a, b, value=-1), (2, 3), (2, 3), (3,))],
    "einsum": [Case(lambda a, b: vt.einsum("ij,kj->ik", a, b), (2, 3), (4, 3)),
               first_order(lambda a: vt.einsum("ii->i", a), (3, 3)),
               Case(lambda a, b: vt.einsum("b...i,b...i->b", a, b), (2, 2, 3), (2, 1, 3))],
    "tensordot": [Case(lambda a, b: vt.tensordot(a, b, dims=([1], [0])), (2, 3), (3, 2))],
    "linalg_vector_norm": [Case(lambda x: vt.linalg.vector_norm(x), (2, 3)),
                           Case(lambda x: x.norm(3, dim=1), (2, 3)),
                           Case(lambda x: vt.linalg.vector_norm(x, 1, dim=0, keepdim=True), (2, 3)),
                           Case(lambda x: vt.linalg.vector_norm(x, float("inf"), dim=1), (2, 3))],
})


# Resampling, im2col/col2im (F.unfold/F.fold).
DIFFERENTIABLE.update({
    "im2col": [Case(lambda x: F.unfold(x, (2, 2), padding=1, stride=(1, 2)), (1, 2, 3, 3))],
    "col2im": [Case(lambda x: F.fold(x, (3, 4), (2, 2), stride=(1, 2)), (1, 8, 4))],
    **{f"upsample_nearest{k}d.vec": [Case(lambda x: F.interpolate(x, scale_factor=2), (1, 2) + (3,) * k)] for k in (1, 2, 3)},
    **{f"_upsample_nearest_exact{k}d.vec": [Case(lambda x: F.interpolate(x, scale_factor=1.5, mode="nearest-exact"),
                                                 (1, 2) + (3,) * k)] for k in (1, 2, 3)},
    "upsample_linear1d.vec": [Case(lambda x: F.interpolate(x, size=5, mode="linear"), (1, 2, 3))],
    "upsample_bilinear2d.vec": [Case(lambda x: F.interpolate(x, size=(4, 5), mode="bilinear", align_corners=True),
                                     (1, 2, 3, 3))],
    "upsample_trilinear3d.vec": [Case(lambda x: F.interpolate(x, scale_factor=1.5, mode="trilinear"), (1, 1, 2, 3, 2))],
})


# Losses (every reduction), norms, var/std/var_mean. Index targets and masks are constants;
# float targets, weights and pos_weight require grad like the input. (torch refuses class weights,
# weight and pos_weight that require grad: "not differentiable with respect to argument 'weight'";
# vibetensor differentiates them, checked by gradcheck only. test_losses.py compares the other
# gradients with torch's.)
CLASSES = vt.tensor([0, 2, 1, 2])
DIFFERENTIABLE.update({
    "mse_loss": [Case(lambda x, y: F.mse_loss(x, y), (2, 3), (2, 3)),
                 Case(lambda x, y: F.mse_loss(x, y, reduction="none"), (2, 3), (3,)),
                 Case(lambda x, y: F.mse_loss(x, y, reduction="sum"), (3,), ())],
    "l1_loss": [Case(lambda x, y: F.l1_loss(x, y), (2, 3), (2, 3)),
                Case(lambda x, y: F.l1_loss(x, y, reduction="none"), (2, 3), (2, 1))],
    "smooth_l1_loss": [Case(lambda x, y: F.smooth_l1_loss(x, y, beta=0.5), (2, 3), (2, 3)),
                       Case(lambda x, y: F.smooth_l1_loss(x, y, reduction="sum", beta=2.0), (2, 3), (2, 3)),
                       Case(lambda x, y: F.smooth_l1_loss(x * 2, y, reduction="none"), (2, 3), (2, 3))],
    "binary_cross_entropy": [
        Case(lambda x, y: F.binary_cross_entropy(x.sigmoid(), y.sigmoid()), (2, 3), (2, 3)),
        Case(lambda x, y, w: F.binary_cross_entropy(x.sigmoid(), y.sigmoid(), weight=w, reduction="none"), (2, 3),
             (2, 3), (3,)),
        Case(lambda x, w: F.binary_cross_entropy(x.sigmoid(), (x > 0).double(), w, reduction="sum"), (2, 3), (2, 1))],
    "binary_cross_entropy_with_logits": [
        Case(lambda x, y: F.binary_cross_entropy_with_logits(x, y.sigmoid()), (2, 3), (2, 3)),
        Case(lambda x, y, w, p: F.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=p, reduction="none"),
             (2, 3), (2, 3), (3,), (3,)),
        Case(lambda x, p: F.binary_cross_entropy_with_logits(x, (x > 0).double(), pos_weight=p, reduction="sum"),
             (2, 3), (3,))],
    "nll_loss": [Case(lambda x: F.nll_loss(x, CLASSES), (4, 3)),
                 Case(lambda x, w: F.nll_loss(x, CLASSES, weight=w, ignore_index=1), (4, 3), (3,), low=0.5),
                 Case(lambda x, w: F.nll_loss(x, vt.tensor([[0, 2], [1, 1]]), w, reduction="none"), (2, 3, 2), (3,)),
                 Case(lambda x: F.nll_loss(x, vt.tensor(1), reduction="sum"), (3,))],
    "cross_entropy_loss": [
        Case(lambda x: F.cross_entropy(x, CLASSES), (4, 3)),
        Case(lambda x, w: F.cross_entropy(x, CLASSES, w, ignore_index=2, label_smoothing=0.2), (4, 3), (3,),
             low=0.5),
        Case(lambda x: F.cross_entropy(x, vt.tensor([[0, 2], [1, 1]]), reduction="none", label_smoothing=0.1),
             (2, 3, 2)),
        Case(lambda x, y: F.cross_entropy(x, y.softmax(1)), (2, 3), (2, 3)),  # class probabilities
        Case(lambda x, y, w: F.cross_entropy(x, y.softmax(1), w, reduction="sum", label_smoothing=0.3), (2, 3),
             (2, 3), (3,))],
    "_scaled_dot_product_flash_attention_for_cpu": [
        Case(lambda q, k, v: vt._C._scaled_dot_product_flash_attention_for_cpu(q, k, v)[0], (2, 3, 2), (2, 4, 2),
             (2, 4, 3)),
        Case(lambda q, k, v: vt._C._scaled_dot_product_flash_attention_for_cpu(q, k, v, is_causal=True,
                                                                               scale=0.7)[0], (3, 2), (3, 2), (3, 2))],
    "native_layer_norm": [Case(lambda x, w, b: vt.native_layer_norm(x, (3,), w, b, 1e-5)[0], (2, 3), (3,), (3,)),
                          Case(lambda x: vt.native_layer_norm(x, (2, 3), None, None, 1e-3)[0] * x, (2, 2, 3))],
    "layer_norm": [Case(lambda x, w, b: F.layer_norm(x, (3,), w, b), (2, 3), (3,), (3,)),
                   Case(lambda x: F.layer_norm(x, (2, 3), eps=1e-3), (2, 2, 3)),
                   Case(lambda x, w: F.layer_norm(x, [2], weight=w), (3, 2), (2,))],
    "rms_norm": [Case(lambda x, w: F.rms_norm(x, (3,), w), (2, 3), (3,)),
                 Case(lambda x: F.rms_norm(x, (2, 3), eps=1e-3), (2, 2, 3))],
    "var.correction": [Case(lambda x: vt.var(x, 1), (2, 3)), Case(lambda x: x.var(), (2, 3)),
                       Case(lambda x: vt.std(x, 0, correction=0, keepdim=True), (2, 3)),
                       Case(lambda x: x.std((0, 1), unbiased=False), (2, 3)),
                       Case(lambda x: vt.var_mean(x, 1, correction=2), (2, 4))],
})

COMPARISONS = ["eq", "ne", "lt", "le", "gt", "ge"]
LOGICAL = ["logical_and", "logical_or", "logical_xor"]  # bool results, like comparisons
BITWISE = ["bitwise_and", "bitwise_or", "bitwise_xor"]  # integer and bool inputs only
PREDICATES = ["isfinite", "isinf", "isnan"]

# In place on a float tensor with history, a logical op writes 0s and 1s: the history is cut and
# the old value gets a zero gradient, as for in-place comparisons. torch records nothing there and
# keeps the old history, so its gradient is wrong (torch.autograd.gradcheck fails on these very
# functions: `(t * 1).logical_and_(y) * t` gets d/dt = 2.5 at t=1.5, y=0.5); vibetensor's is
# checked by gradcheck only.
for _name in LOGICAL:
    DIFFERENTIABLE[_name + "_"] = [Case(lambda x, y, op=_name: getattr(copy_of(x), op + "_")(y) * x, (2, 3), (3,))]
DIFFERENTIABLE["logical_not_"] = [Case(lambda x: copy_of(x).logical_not_() * x, (2, 3))]
UNARY_WITH_OUT = ["abs", "neg", "exp", "log", "sqrt", "rsqrt", "relu", "sigmoid", "tanh", *UNARY_TABLE]
# torch has these as torch.nn.functional functions, without out=; aten's out= overload is compared.
NN_UNARY = ["silu", "mish"]
BINARY_WITH_OUT = ["add", "sub", "mul", "div", "pow", *BINARY_TABLE]


# Linear algebra, shape, attention, convolution and pooling, norms and the samplers. Ops built
# on unfold or slices (conv, pooling, pad) have no double backward yet. Random ops reseed inside
# the function so every evaluation draws the same numbers.
def seeded(fn):
    def run(*args):
        vt.manual_seed(0)
        return fn(*args)
    return run


DIFFERENTIABLE.update({
    "linear": [Case(lambda x, w, b: F.linear(x, w, b), (2, 3), (4, 3), (4,)), Case(lambda x, w: F.linear(x, w), (3,), (2, 3))],
    "addmm": [Case(lambda s, a, b: vt.addmm(s, a, b, beta=0.5, alpha=2), (2, 2), (2, 3), (3, 2)),
              # the BLAS path (beta 1) with a broadcast bias row, as linear uses it
              Case(lambda s, a, b: vt.addmm(s, a, b, alpha=2), (2,), (3, 4), (4, 2)),
              Case(lambda x, w, b: vt.nn.functional.linear(x, w, b), (2, 3, 4), (5, 4), (5,))],
    "baddbmm": [Case(lambda s, a, b: vt.baddbmm(s, a, b), (2, 2, 2), (2, 2, 3), (2, 3, 2))],
    "outer": [Case(lambda a, b: vt.outer(a, b), (3,), (2,))],
    "dot": [Case(lambda a, b: vt.dot(a, b), (3,), (3,))],
    "triu": [Case(lambda x: x.triu(1), (3, 4))],
    "tril": [Case(lambda x: vt.tril(x, -1), (2, 3, 3))],
    "repeat": [Case(lambda x: x.repeat(2, 1, 2), (2, 3))],
    "flip": [Case(lambda x: vt.flip(x, (0, 1)), (2, 3))],
    "movedim.intlist": [Case(lambda x: vt.movedim(x, 0, -1), (2, 3, 2))],
    "constant_pad_nd": [first_order(lambda x: F.pad(x, (1, 2, 0, 1), value=0.5), (2, 3))],
    "scaled_dot_product_attention": [
        Case(lambda q, k, v: F.scaled_dot_product_attention(q, k, v), (1, 2, 3), (1, 4, 3), (1, 4, 3)),
        Case(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), (2, 3, 2), (2, 3, 2), (2, 3, 2))],
    "conv2d": [Case(lambda x, w, b: F.conv2d(x, w, b, padding=1), (1, 2, 3, 3), (2, 2, 2, 2), (2,))],
    "conv1d": [Case(lambda x, w: F.conv1d(x, w, stride=2), (1, 2, 5), (2, 2, 3))],
    "_conv2d_dense": [Case(lambda x, w: F.conv2d(x, w, stride=(2, 1), dilation=(1, 2), padding=(0, 2)), (2, 2, 5, 4),
                           (3, 2, 2, 2)),
                      Case(lambda x, w, b: F.conv2d(x, w, b), (1, 1, 3, 3), (2, 1, 3, 3), (2,))],
    "max_pool2d": [first_order(lambda x: F.max_pool2d(x, 2), (1, 1, 4, 4))],
    "avg_pool2d": [first_order(lambda x: F.avg_pool2d(x, 2, padding=1, count_include_pad=False), (1, 1, 3, 3))],
    "adaptive_avg_pool2d": [first_order(lambda x: F.adaptive_avg_pool2d(x, (2, 2)), (1, 1, 3, 3))],
    "batch_norm": [Case(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (4, 3), (3,), (3,))],
    "group_norm": [Case(lambda x, w, b: F.group_norm(x, 2, w, b), (2, 4, 3), (4,), (4,))],
    "dropout": [Case(seeded(lambda x: F.dropout(x, 0.5)), (2, 3))],
    "uniform_": [Case(seeded(lambda x: copy_of(x).uniform_() * x), (2, 3))],
    "normal_": [Case(seeded(lambda x: copy_of(x).normal_() * x), (2, 3))],
    "random_.from": [Case(seeded(lambda x: copy_of(x).random_(0, 5) * x), (2, 3))],
    "bernoulli_.Tensor": [Case(seeded(lambda x: copy_of(x).bernoulli_(0.5) * x), (2, 3))],
})

class Sample:
    """A call of a non-differentiable op on float inputs that require grad, run against torch
    by `check`: the outputs must not require grad, or the call must raise as torch's does."""

    def __init__(self, fn, *shapes, raises=False):
        self.fn, self.shapes, self.raises = fn, shapes, raises


# Recorded, but backward raises "derivative for aten::floor_divide is not implemented", as in torch.
DERIVATIVE_NOT_IMPLEMENTED = {
    "floor_divide": Sample(lambda m, x, y: m.autograd.grad(m.floor_divide(x * 3, y).sum(), x), (2, 3), (2, 3),
                           raises=True),
    "floor_divide_": Sample(lambda m, x, y: m.autograd.grad((x * 3).floor_divide_(y).sum(), x), (2, 3), (2, 3),
                            raises=True),
}


# Not differentiable: op name -> Sample, or None where the op takes no tensor (factories).
NOT_DIFFERENTIABLE = {
    "arange": None,
    "empty": None,
    "full": None,
    "argmax": Sample(lambda m, x: x.argmax(1), (2, 3)),
    "argmin": Sample(lambda m, x: m.argmin(x), (2, 3)),
    "clamp.out": Sample(lambda m, x: m.clamp(x, -1, 1, out=m.zeros(2, 3, dtype=x.dtype)), (2, 3), raises=True),
    "randperm": None,
    "any.dims": Sample(lambda m, x: m.any(x > 0, 1), (2, 3)),
    "all.dims": Sample(lambda m, x: x.all(), (2, 3)),
    "count_nonzero.dim_IntList": Sample(lambda m, x: m.count_nonzero(x > 0, 0), (2, 3)),
    "one_hot": Sample(lambda m, x: m.nn.functional.one_hot((x > 0).long(), 2), (2, 3)),
    "nonzero": Sample(lambda m, x: m.nonzero(x > 0), (2, 3)),
    "isclose": Sample(lambda m, x: m.isclose(x, x * 1.5, rtol=0.4), (2, 3)),
    "signbit": Sample(lambda m, x: m.signbit(x), (2, 3)),
    # Backward kernels: used by the backward pass without create_graph; with it, the backward is
    # recorded in differentiable ops (gradgradcheck of softmax above covers that path).
    "_softmax_backward_data": None,
    "_log_softmax_backward_data": None,
    "gelu_backward": None,  # gradgradcheck of gelu covers its recorded form
    "native_layer_norm_backward": None,  # gradgradcheck of layer_norm covers the recorded backward
    "_conv2d_dense_backward": None,  # gradgradcheck of _conv2d_dense covers the recorded backward
    # gradgradcheck of scaled_dot_product_attention covers the recorded backward
    "_scaled_dot_product_flash_attention_for_cpu_backward": None,
    # one category per row has all the probability, so the draw is deterministic
    "multinomial": Sample(lambda m, x: m.multinomial((x == x.max(1, keepdim=True).values).double(), 1), (2, 3)),
    "repeat_interleave.Tensor": Sample(lambda m, x: m.repeat_interleave((x > 0).long().flatten()), (2, 3)),
    "argsort": Sample(lambda m, x: m.argsort(x, 1), (2, 3)),
    "searchsorted.Tensor": Sample(lambda m, x: m.searchsorted(m.tensor([-1.0, 0.0, 1.0], dtype=x.dtype), x), (2, 3)),
    "bucketize.Tensor": Sample(lambda m, x: m.bucketize(x, m.tensor([-1.0, 0.0, 1.0], dtype=x.dtype)), (2, 3)),
    "bincount": Sample(lambda m, x: m.bincount((x > 0).long().flatten()), (2, 3)),
    "histc": Sample(lambda m, x: m.histc(x.detach(), 4, -1, 1), (2, 3)),
    "_unique2": Sample(lambda m, x: m.unique((x > 0).long()), (2, 3)),
    "unique_consecutive": Sample(lambda m, x: m.unique_consecutive((x > 0).long()), (2, 3)),
}
for _name in COMPARISONS + LOGICAL:
    NOT_DIFFERENTIABLE[_name] = Sample(lambda m, x, y, op=_name: getattr(m, op)(x, y), (2, 3), (3,))
    NOT_DIFFERENTIABLE[_name + ".out"] = Sample(
        lambda m, x, y, op=_name: getattr(m, op)(x, y, out=m.zeros(2, 3, dtype=m.bool)), (2, 3), (3,))
for _name in COMPARISONS:
    # In place on a non-leaf: the values become 0 and 1 and the gradient through them is zero
    # (torch gives `y` a zero grad; see test_inplace_comparison_gives_other_a_zero_grad).
    NOT_DIFFERENTIABLE[_name + "_"] = Sample(lambda m, x, y, op=_name: getattr(x * 1, op + "_")(y.detach()) * x,
                                             (2, 3), (3,))
for _name in PREDICATES:
    NOT_DIFFERENTIABLE[_name] = Sample(lambda m, x, op=_name: getattr(m, op)(m.where(x > 1, x / 0, x.log())), (2, 3))
NOT_DIFFERENTIABLE["logical_not"] = Sample(lambda m, x: m.logical_not(x * (x > 0)), (2, 3))
NOT_DIFFERENTIABLE["logical_not.out"] = Sample(lambda m, x: m.logical_not(x, out=m.zeros(2, 3, dtype=m.bool)), (2, 3))
NOT_DIFFERENTIABLE["bitwise_not"] = Sample(lambda m, x: m.bitwise_not(x), (2, 3), raises=True)
NOT_DIFFERENTIABLE["bitwise_not_"] = Sample(lambda m, x: (x * 1).bitwise_not_(), (2, 3), raises=True)
NOT_DIFFERENTIABLE["bitwise_not.out"] = Sample(lambda m, x: m.bitwise_not(x, out=m.zeros(2, 3, dtype=m.int64)),
                                               (2, 3), raises=True)
# Not an op with a derivative in torch, so out= takes inputs that require grad (the result gets
# torch's NotImplemented node).
NOT_DIFFERENTIABLE["floor_divide.out"] = Sample(
    lambda m, x, y: m.floor_divide(x * 3, y, out=m.zeros(2, 3, dtype=x.dtype)), (2, 3), (2, 3))
# The fused optimizer steps run under no_grad on leaves' data; test_optim.py tests them.
for _name in ("_foreach_add_.Scalar", "_fused_sgd_", "_fused_adam_", "_fused_adamw_", "_fused_adagrad_",
              "_fused_rmsprop_"):
    NOT_DIFFERENTIABLE[_name] = None
for _name in BITWISE:  # float inputs (the only ones that can require grad) are refused
    NOT_DIFFERENTIABLE[_name] = Sample(lambda m, x, y, op=_name: getattr(m, op)(x, y), (2, 3), (3,), raises=True)
    NOT_DIFFERENTIABLE[_name + "_"] = Sample(lambda m, x, y, op=_name: getattr(x * 1, op + "_")(y), (2, 3), (3,),
                                             raises=True)
    NOT_DIFFERENTIABLE[_name + ".out"] = Sample(
        lambda m, x, y, op=_name: getattr(m, op)(x, y, out=m.zeros(2, 3, dtype=m.int64)), (2, 3), (3,), raises=True)
for _name in UNARY_WITH_OUT:
    if _name == "relu":  # torch.relu has no out=; test_out_forms_refuse_inputs_that_require_grad covers it
        NOT_DIFFERENTIABLE["relu.out"] = None
        continue
    NOT_DIFFERENTIABLE[_name + ".out"] = Sample(
        lambda m, x, op=_name: (getattr(torch.ops.aten, op).out if m is torch and op in NN_UNARY else getattr(m, op))(
            x, out=m.zeros(2, 3, dtype=x.dtype)), (2, 3), raises=True)
for _name in BINARY_WITH_OUT:
    NOT_DIFFERENTIABLE[_name + ".out"] = Sample(
        lambda m, x, y, op=_name: getattr(m, op)(x, y, out=m.zeros(2, 3, dtype=x.dtype)), (2, 3), (2, 3), raises=True)


# ---- the registry

TABLES = [DIFFERENTIABLE, DERIVATIVE_NOT_IMPLEMENTED, NOT_DIFFERENTIABLE]


def test_every_op_is_classified():
    missing = sorted(set(vt.ops.list_ops()) - set().union(*TABLES))
    assert not missing, f"ops missing from the autograd tables in {__file__}: {missing}"


def test_tables_name_only_registered_ops():
    stale = sorted(set().union(*TABLES) - set(vt.ops.list_ops()))
    assert not stale, f"the autograd tables name ops the registry does not have: {stale}"


def test_tables_are_disjoint():
    for i, a in enumerate(TABLES):
        for b in TABLES[i + 1:]:
            assert not set(a) & set(b), f"ops in two tables: {sorted(set(a) & set(b))}"


# ---- first and second derivatives

def cases(only_double=None):
    params = []
    for name, op_cases in DIFFERENTIABLE.items():
        for i, case in enumerate(op_cases):
            if only_double is None or case.double == only_double:
                params.append(pytest.param(name, i, id=f"{name}-{i}"))
    return params


@pytest.mark.parametrize("name, index", cases())
def test_gradcheck(name, index):
    case = DIFFERENTIABLE[name][index]
    assert vt.autograd.gradcheck(case.fn, case.inputs(), **case.tolerances)


@pytest.mark.parametrize("name, index", cases(only_double=True))
def test_gradgradcheck(name, index):
    case = DIFFERENTIABLE[name][index]
    assert vt.autograd.gradgradcheck(case.fn, case.inputs(), **case.tolerances)


# gradcheck itself against torch's: outputs that alias an input, outputs that don't require grad
# (torch leaves those out of the check when another output requires grad).
GRADCHECK_FUNCTIONS = {
    "view_output": lambda m, t: t[1],
    "output_is_input": lambda m, t: t,
    "constant_second_output": lambda m, t: (t * t, m.ones(2, 2, dtype=m.float64)),
    "only_a_constant_output": lambda m, t: m.ones(2, dtype=m.float64),
    "detached_second_output": lambda m, t: (t * t, t.detach() * 2),
    "detached_first_output": lambda m, t: (t.detach() * 2, t * t),
    "only_a_detached_output": lambda m, t: t.detach() * 2,
}
GRADCHECK_BUGS = {
    name: ("vt.autograd.gradcheck compares an output that does not require grad (here one that changes with the "
           "input) against a zero analytical Jacobian and fails; torch's leaves it out when another output "
           "requires grad, and passes")
    for name in ("detached_second_output", "detached_first_output")
}


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=[pytest.mark.xfail(strict=True, reason=GRADCHECK_BUGS[name])] if name in GRADCHECK_BUGS
                 else []) for name in GRADCHECK_FUNCTIONS])
def test_gradcheck_verdict_like_torch(name):
    fn = GRADCHECK_FUNCTIONS[name]
    verdicts = []
    for m in (torch, vt):
        x = m.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=m.float64, requires_grad=True)
        verdicts.append(m.autograd.gradcheck(lambda t: fn(m, t), (x,), raise_exception=False))
    assert verdicts[1] == verdicts[0], f"vibetensor's gradcheck says {verdicts[1]}, torch's {verdicts[0]}"


@pytest.mark.parametrize("name, index", cases(only_double=False))
def test_double_backward_not_supported_yet(name, index):
    """torch supports these; vibetensor raises NotImplementedError. When it stops raising, the
    case should move to gradgradcheck (flip `double`)."""
    case = DIFFERENTIABLE[name][index]
    with pytest.raises(NotImplementedError, match="double backward"):
        vt.autograd.gradgradcheck(case.fn, case.inputs())


@pytest.mark.parametrize("name", sorted(DERIVATIVE_NOT_IMPLEMENTED))
def test_derivative_not_implemented_against_torch(name):
    sample = DERIVATIVE_NOT_IMPLEMENTED[name]
    check(sample.fn, *sample.shapes, low=0.5, layouts=("contiguous",), torch_raises=sample.raises)


NOT_DIFFERENTIABLE_BUGS = {
    "floor_divide.out": ("floor_divide(x, y, out=o) with x requiring grad raises 'floor_divide(): functions with "
                         "out=... arguments don't support automatic differentiation'; torch has no derivative for "
                         "floor_divide, so it fills `o` (giving it a NotImplemented grad_fn)"),
}


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=[pytest.mark.xfail(strict=True, reason=NOT_DIFFERENTIABLE_BUGS[name])]
                 if name in NOT_DIFFERENTIABLE_BUGS else [])
    for name in sorted(n for n, sample in NOT_DIFFERENTIABLE.items() if sample)])
def test_not_differentiable_against_torch(name):
    sample = NOT_DIFFERENTIABLE[name]
    check(sample.fn, *sample.shapes, low=0.5, layouts=("contiguous",), torch_raises=sample.raises)


@pytest.mark.xfail(strict=True, reason="in-place comparisons (eq_, lt_, ...) record no edge to `other`: other.grad "
                   "stays None where torch gives it a zero gradient")
def test_inplace_comparison_gives_other_a_zero_grad():
    check(lambda m, x, y: (x * 1).lt_(y) * x, (2, 3), (3,), layouts=("contiguous",), dtypes=("float64",))


OUT_FORMS = sorted(name for name in vt.ops.list_ops()
                   if name.endswith(".out")
                   and name[:-4] not in BITWISE + ["bitwise_not"] + list(DERIVATIVE_NOT_IMPLEMENTED))


@pytest.mark.parametrize("name", OUT_FORMS)
def test_out_forms_refuse_inputs_that_require_grad(name):
    """Every out= form of a differentiable op refuses inputs that require grad (torch's rule);
    those of comparisons and logical ops accept them, as torch does."""
    op = name[:-len(".out")]
    x = vt.ones(2, 3, dtype=vt.float64, requires_grad=True)
    inputs = (x,) if op in UNARY_WITH_OUT + ["logical_not"] else (x, x * 2)
    if op == "clamp":
        inputs = (x, -1, 1)
    if op in COMPARISONS + LOGICAL + ["logical_not"]:
        out = vt.zeros(2, 3, dtype=vt.bool)
        getattr(vt, op)(*inputs, out=out)
        assert not out.requires_grad
        return
    with pytest.raises(RuntimeError, match=rf"^{op}\(\): functions with out=\.\.\. arguments don't support automatic "
                                           "differentiation"):
        getattr(vt, op)(*inputs, out=vt.zeros(2, 3, dtype=vt.float64))


# ---- gradcheck itself must be able to fail

class WrongBackward(vt.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x  # should be 2 * grad * x


def test_gradcheck_detects_a_wrong_derivative():
    x = vt.tensor([1.0, 2.0], dtype=vt.float64, requires_grad=True)
    with pytest.raises(vt.autograd.GradcheckError):
        vt.autograd.gradcheck(WrongBackward.apply, (x,))
    assert vt.autograd.gradcheck(WrongBackward.apply, (x,), raise_exception=False) is False


def test_gradgradcheck_detects_a_wrong_second_derivative():
    class NonDifferentiableBackward(vt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * (x * x).detach() * 3  # right first derivative, cut from the graph

    x = vt.tensor([1.0, 2.0], dtype=vt.float64, requires_grad=True)
    assert vt.autograd.gradcheck(NonDifferentiableBackward.apply, (x,))
    assert vt.autograd.gradgradcheck(NonDifferentiableBackward.apply, (x,), raise_exception=False) is False
