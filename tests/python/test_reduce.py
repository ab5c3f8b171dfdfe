"""Reductions against torch: sum, mean, max, min, argmax, argmin, amax, amin, logsumexp, softmax and
log_softmax over every kind of dim argument, keepdim, dtype=, empty and 0-dim inputs, NaN and inf,
non-contiguous inputs, half-precision accuracy and the errors torch raises."""
import math

import pytest
import torch

import vibetensor as vt
from helpers import (DTYPE_NAMES, FLOAT_NAMES, INT_NAMES, compare, compare_layouts, expanded, make,
                     raises_like_torch, run_in_child, to_torch, to_vt)

DIMS = [None, 0, 1, 2, -1, -3, (0, 1), (0, 2), (-1, 0), (0, 1, 2), [1], [2, 0]]


# ---- sum and mean

@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_sum(dtype, dim, keepdim):
    x = make((2, 3, 4), dtype)
    if dim is None:
        compare(lambda m, t: m.sum(t), x)
        compare(lambda m, t: t.sum(), x)
    else:
        compare(lambda m, t: m.sum(t, dim, keepdim), x)
        compare(lambda m, t: t.sum(dim=dim, keepdim=keepdim), x)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("dtype", FLOAT_NAMES)
def test_mean(dtype, dim, keepdim):
    x = make((2, 3, 4), dtype)
    if dim is None:
        compare(lambda m, t: m.mean(t), x)
        compare(lambda m, t: t.mean(), x)
    else:
        compare(lambda m, t: m.mean(t, dim, keepdim), x)
        compare(lambda m, t: t.mean(dim=dim, keepdim=keepdim), x)


@pytest.mark.parametrize("dtype", INT_NAMES + ["bool"])
def test_mean_on_integers_errors(dtype):
    raises_like_torch(lambda m, t: m.mean(t), make((2, 3), dtype))
    raises_like_torch(lambda m, t: t.mean(0), make((2, 3), dtype))


@pytest.mark.parametrize("out_dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool", "float32"])
def test_mean_dtype_argument(dtype, out_dtype):
    compare(lambda m, t: m.mean(t, dtype=getattr(m, out_dtype)), make((3, 4), dtype))
    compare(lambda m, t: m.mean(t, 1, dtype=getattr(m, out_dtype)), make((3, 4), dtype))


@pytest.mark.parametrize("out_dtype", DTYPE_NAMES)
@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64"])
def test_sum_dtype_argument(dtype, out_dtype):
    compare(lambda m, t: m.sum(t, dtype=getattr(m, out_dtype)), make((3, 4), dtype))
    compare(lambda m, t: t.sum(0, keepdim=True, dtype=getattr(m, out_dtype)), make((3, 4), dtype))


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32"])
def test_integer_sum_promotes_to_int64_without_overflow(dtype):
    info = torch.iinfo(getattr(torch, dtype))
    x = torch.full((1000,), info.max, dtype=getattr(torch, dtype))
    compare(lambda m, t: m.sum(t), x)
    compare(lambda m, t: m.sum(t.view(10, 100), 1), x)
    compare(lambda m, t: m.sum(t, dtype=getattr(m, dtype)), x)  # wraps around in the narrow type


def test_bool_sum_counts():
    compare(lambda m, t: m.sum(t), make((100,), "bool"))
    compare(lambda m, t: t.sum(1), make((10, 30), "bool"))


def test_sum_large_float32():
    # Loose tolerances: this checks which elements are summed; accuracy is tested below.
    compare(lambda m, t: m.sum(t), make((1000, 300)), rtol=1e-4, atol=1e-3)
    compare(lambda m, t: m.sum(t, 0), make((1000, 300)), rtol=1e-4, atol=1e-3)
    compare(lambda m, t: m.sum(t, 1), make((1000, 300)), rtol=1e-4, atol=1e-3)
    compare(lambda m, t: m.mean(t, (0, 1)), make((1000, 300)), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape, dim", [((1000, 300), None), ((1000, 300), 0), ((1000, 300), 1), ((100000,), None),
                                        ((300, 1000), (0, 1))], ids=str)
def test_sum_float32_accuracy(shape, dim):
    """vibetensor's float32 sum should be about as accurate as torch's (cascade summation),
    measured against a float64 sum of the same values."""
    x = make(shape)
    dims = () if dim is None else dim
    reference = x.double().sum(dims)
    torch_error = (x.sum(dims).double() - reference).abs().max().item()
    vt_error = (to_torch(to_vt(x).sum(dims)).double() - reference).abs().max().item()
    assert vt_error <= 3 * torch_error + 1e-6, f"vibetensor error {vt_error:.3g}, torch error {torch_error:.3g}"


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_sum_half_precision_accumulates_in_float32(dtype):
    # 4096 ones in float16 accumulated in float16 would stop at 2048; torch accumulates in float32.
    compare(lambda m, t: m.sum(t), torch.ones(4096, dtype=getattr(torch, dtype)))
    compare(lambda m, t: m.sum(t, 1), torch.ones(2, 4096, dtype=getattr(torch, dtype)))
    compare(lambda m, t: m.mean(t, 0), make((3000, 3), dtype, low=0, high=1))


def test_sum_float64_precision():
    x = torch.tensor([1e16, 1.0, -1e16, 1.0] * 50, dtype=torch.float64)
    compare(lambda m, t: m.sum(t[:4]), x)  # same order of operations as torch for 4 elements


@pytest.mark.parametrize("op", ["sum", "mean"])
def test_reduce_layouts(op):
    x = make((4, 5, 6))
    for dim in [None, 0, 1, 2, (0, 2)]:
        if dim is None:
            compare_layouts(lambda m, t: getattr(m, op)(t), x)
        else:
            compare_layouts(lambda m, t: getattr(m, op)(t, dim), x)
    compare(lambda m, t: getattr(m, op)(t, 0), expanded((5, 6)))
    compare(lambda m, t: getattr(m, op)(t.permute(2, 0, 1), (1, 2)), x)


@pytest.mark.parametrize("shape, dim", [((0,), None), ((0, 3), 0), ((0, 3), 1), ((2, 0), 1), ((2, 0), None),
                                        ((2, 0, 3), (0, 1)), ((2, 0, 3), 2)], ids=str)
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_reduce_empty(op, shape, dim):
    x = make(shape)
    if dim is None:
        compare(lambda m, t: getattr(m, op)(t), x)
    else:
        compare(lambda m, t: getattr(m, op)(t, dim), x)
        compare(lambda m, t: getattr(m, op)(t, dim, keepdim=True), x)


def test_sum_empty_int():
    compare(lambda m, t: m.sum(t), make((0, 3), "int32"))
    compare(lambda m, t: m.sum(t, 0), make((0, 3), "bool"))


@pytest.mark.parametrize("dim", [None, 0, -1, (), []], ids=str)
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_reduce_zero_dim(op, dim):
    if dim is None:
        compare(lambda m, t: getattr(m, op)(t), make(()))
    else:
        compare(lambda m, t: getattr(m, op)(t, dim), make(()))
        compare(lambda m, t: getattr(m, op)(t, dim, True), make(()))


@pytest.mark.parametrize("dim", [(), []], ids=str)
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_reduce_empty_dim_list_reduces_everything(op, dim):
    compare(lambda m, t: getattr(m, op)(t, dim), make((2, 3)))
    compare(lambda m, t: getattr(m, op)(t, dim, keepdim=True), make((2, 3)))


def test_sum_nan_inf():
    x = torch.tensor([[1.0, math.nan, 2.0], [math.inf, 1.0, -math.inf], [math.inf, math.inf, 1.0]])
    for op in ["sum", "mean"]:
        compare(lambda m, t: getattr(m, op)(t), x)
        compare(lambda m, t: getattr(m, op)(t, 0), x)
        compare(lambda m, t: getattr(m, op)(t, 1), x)


@pytest.mark.parametrize("dim", [3, -4, 10], ids=str)
@pytest.mark.parametrize("op", ["sum", "mean", "amax_dim", "argmax", "argmin", "max", "min"])
def test_reduce_bad_dim(op, dim):
    x = make((2, 3, 4))
    if op == "amax_dim":
        raises_like_torch(lambda m, t: m.sum(t, (0, dim)), x)
    else:
        raises_like_torch(lambda m, t: getattr(m, op)(t, dim), x)


@pytest.mark.parametrize("dims", [(0, 0), (1, -2), [2, 2, 1]], ids=str)
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_reduce_duplicate_dims(op, dims):
    raises_like_torch(lambda m, t: getattr(m, op)(t, dims), make((2, 3, 4)))


@pytest.mark.parametrize("op", ["sum", "mean"])
def test_reduce_dim_types(op):
    raises_like_torch(lambda m, t: getattr(m, op)(t, 1.5), make((2, 3)))
    raises_like_torch(lambda m, t: getattr(m, op)(t, "a"), make((2, 3)))


# ---- max, min, argmax, argmin

@pytest.mark.parametrize("dtype", DTYPE_NAMES)
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_full(op, dtype):
    compare(lambda m, t: getattr(m, op)(t), make((3, 4), dtype))
    compare(lambda m, t: getattr(t, op)(), make((3, 4), dtype))
    compare(lambda m, t: getattr(m, op)(t), make((), dtype))


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
@pytest.mark.parametrize("dtype", DTYPE_NAMES)
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_dim(op, dtype, dim, keepdim):
    x = make((3, 4, 5), dtype, low=-2, high=2)  # a small range, so ties are common
    compare(lambda m, t: getattr(m, op)(t, dim, keepdim), x)
    compare(lambda m, t: getattr(t, op)(dim=dim, keepdim=keepdim), x)


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_dim_named_fields(op):
    compare(lambda m, t: getattr(m, op)(t, 1).values, make((3, 4)))
    compare(lambda m, t: getattr(m, op)(t, 1).indices, make((3, 4)))
    compare(lambda m, t: type(getattr(m, op)(t, 1)).__name__, make((3, 4)))


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, 1, 2, -1])
@pytest.mark.parametrize("dtype", DTYPE_NAMES)
@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_argmax_argmin(op, dtype, dim, keepdim):
    x = make((3, 4, 5), dtype, low=-2, high=2)
    compare(lambda m, t: getattr(m, op)(t, dim, keepdim), x)
    compare(lambda m, t: getattr(t, op)(dim=dim, keepdim=keepdim), x)


@pytest.mark.parametrize("op", ["argmax", "argmin", "max", "min"])
def test_arg_reduce_ties_pick_first(op):
    x = torch.tensor([[1, 3, 3, 0, 3], [2, 2, 2, 2, 2], [0, 0, 5, 5, 0]])
    compare(lambda m, t: getattr(m, op)(t, 1), x)
    compare(lambda m, t: getattr(m, op)(t.t(), 0), x)
    compare(lambda m, t: getattr(m, op)(t.float(), 1), x)
    if op.startswith("arg"):
        compare(lambda m, t: getattr(m, op)(t), x)


@pytest.mark.parametrize("op", ["argmax", "argmin", "max", "min"])
def test_arg_reduce_nan(op):
    x = torch.tensor([[1.0, math.nan, 5.0, math.nan], [math.inf, 2.0, -math.inf, 0.0], [-1.0, -2.0, math.nan, 9.0]])
    compare(lambda m, t: getattr(m, op)(t), x)
    compare(lambda m, t: getattr(m, op)(t, 1), x)
    compare(lambda m, t: getattr(m, op)(t, 0), x)
    for dtype in ["float16", "bfloat16", "float64"]:
        compare(lambda m, t: getattr(m, op)(t.to(getattr(m, dtype)), 1), x)


@pytest.mark.parametrize("op", ["argmax", "argmin", "max", "min"])
def test_arg_reduce_layouts(op):
    x = make((4, 5, 6))
    compare_layouts(lambda m, t: getattr(m, op)(t, 1), x)
    compare_layouts(lambda m, t: getattr(m, op)(t, -1), x)
    compare(lambda m, t: getattr(m, op)(t, 0), expanded((5, 6)))


def test_arg_reduce_large():
    x = make((500, 301))
    for op in ["argmax", "argmin", "max", "min"]:
        compare(lambda m, t: getattr(m, op)(t, 0), x)
        compare(lambda m, t: getattr(m, op)(t, 1), x)
    compare(lambda m, t: m.argmax(t), x)
    compare(lambda m, t: m.argmin(t.t()), x)


@pytest.mark.parametrize("op", ["argmax", "argmin", "max", "min"])
def test_arg_reduce_zero_dim(op):
    compare(lambda m, t: getattr(m, op)(t, 0), make(()))
    compare(lambda m, t: getattr(m, op)(t, -1, True), make(()))
    raises_like_torch(lambda m, t: getattr(m, op)(t, 1), make(()))


@pytest.mark.parametrize("shape, dim", [((0,), None), ((0, 3), None), ((0, 3), 0), ((2, 0), 1), ((0, 3), 1),
                                        ((2, 0), 0)], ids=str)
@pytest.mark.parametrize("op", ["argmax", "argmin", "max", "min"])
def test_arg_reduce_empty(op, shape, dim):
    x = make(shape)
    if dim is None:
        compare(lambda m, t: getattr(m, op)(t), x)
    else:
        compare(lambda m, t: getattr(m, op)(t, dim), x)
        compare(lambda m, t: getattr(m, op)(t, dim, True), x)


def test_max_keepdim_without_dim():
    compare(lambda m, t: m.max(t, keepdim=True), make((2, 3)))
    compare(lambda m, t: m.argmax(t, keepdim=True), make((2, 3)))


def test_max_dim_tuple_errors():
    raises_like_torch(lambda m, t: m.max(t, (0, 1)), make((2, 3)))


def test_argmax_dim_tuple_errors():
    raises_like_torch(lambda m, t: m.argmax(t, (0, 1)), make((2, 3)))


def test_reduce_results_are_new_tensors():
    # A reduction over nothing (a dim of size 1) still returns a tensor that does not alias the input.
    compare(lambda m, t: (lambda r: (t.fill_(7), r)[1])(m.sum(t, 1)), make((3, 1)))
    compare(lambda m, t: (lambda r: (t.fill_(7), r)[1])(m.max(t, 1)), make((3, 1)))


# ---- amax, amin, logsumexp, softmax, log_softmax

AMAX_DIMS = [(), 0, 1, -1, (0, 2), [2, 0], (0, 1, 2)]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", AMAX_DIMS, ids=str)
@pytest.mark.parametrize("dtype", DTYPE_NAMES)
@pytest.mark.parametrize("op", ["amax", "amin"])
def test_amax_amin(op, dtype, dim, keepdim):
    x = make((3, 4, 5), dtype, low=-2, high=2)
    compare(lambda m, t: getattr(m, op)(t, dim, keepdim), x)
    compare(lambda m, t: getattr(t, op)(dim=dim, keepdim=keepdim), x)


@pytest.mark.parametrize("op", ["amax", "amin"])
def test_amax_amin_forms(op):
    compare(lambda m, t: getattr(m, op)(t), make((3, 4)))
    compare(lambda m, t: getattr(m, op)(t), make(()))
    compare(lambda m, t: getattr(m, op)(t, 0), make(()))
    compare(lambda m, t: getattr(m, op)(t, 1), make((0, 3)))
    compare_layouts(lambda m, t: getattr(m, op)(t, 1), make((4, 5, 6)))
    compare(lambda m, t: getattr(m, op)(t, 0), expanded((5, 6)))
    compare(lambda m, t: getattr(m, op)(t, 0), make((500, 301)))
    x = torch.tensor([[1.0, math.nan, 5.0], [math.inf, 2.0, -math.inf], [-0.0, 0.0, 1.0]])
    for dtype in FLOAT_NAMES:
        compare(lambda m, t: getattr(m, op)(t, 1), x.to(getattr(torch, dtype)))
        compare(lambda m, t: getattr(m, op)(t), x.to(getattr(torch, dtype)))


@pytest.mark.parametrize("op", ["amax", "amin"])
def test_amax_amin_errors(op):
    raises_like_torch(lambda m, t: getattr(m, op)(t, 0), make((0, 3)))  # no identity
    raises_like_torch(lambda m, t: getattr(m, op)(t, 2), make((2, 3)))
    raises_like_torch(lambda m, t: getattr(m, op)(t, (0, 0)), make((2, 3)))


@pytest.mark.xfail(strict=True, reason="amax/amin of an empty tensor without dim raise IndexError 'Expected reduction "
                   "dim 0 to have non-zero size'; torch raises RuntimeError 'amax(): Expected reduction dim to be "
                   "specified for input.numel() == 0'")
@pytest.mark.parametrize("op", ["amax", "amin"])
def test_amax_amin_empty_without_dim_errors(op):
    raises_like_torch(lambda m, t: getattr(m, op)(t), make((0, 3)))


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1, (0, 2), (0, 1, 2)], ids=str)
@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_logsumexp(dtype, dim, keepdim):
    x = make((3, 4, 5), dtype)
    compare(lambda m, t: m.logsumexp(t, dim, keepdim), x)
    compare(lambda m, t: t.logsumexp(dim=dim, keepdim=keepdim), x)


def test_logsumexp_special_values():
    x = torch.tensor([[1000.0, 1000.0, -1000.0], [-math.inf, -math.inf, -math.inf], [math.inf, 1.0, 2.0],
                      [math.nan, 1.0, 2.0], [-1e4, -1e4, -1e4], [math.inf, -math.inf, 0.0]])
    for dtype in FLOAT_NAMES:
        compare(lambda m, t: m.logsumexp(t, 1), x.to(getattr(torch, dtype)))
    compare(lambda m, t: m.logsumexp(t, 0), make((0, 3)))
    compare(lambda m, t: m.logsumexp(t, 1), make((0, 3)))
    compare(lambda m, t: m.logsumexp(t, 0, keepdim=True), make(()))
    compare(lambda m, t: m.logsumexp(t, ()), make(()))
    compare_layouts(lambda m, t: m.logsumexp(t, 1), make((4, 5, 6)))
    compare(lambda m, t: m.logsumexp(t, 1), make((300, 1000)), rtol=1e-5)


def test_logsumexp_0dim_dim0():
    """Run in a child process: the failure mode is a crash."""
    expected = [torch.logsumexp(torch.tensor(1.5), 0).item(), torch.tensor(-2.0).logsumexp(-1).item()]
    child = run_in_child("import vibetensor as vt\n"
                         "print([vt.logsumexp(vt.tensor(1.5), 0).item(), vt.tensor(-2.0).logsumexp(-1).item()])")
    assert child.returncode == 0, f"the child process died (return code {child.returncode})"
    assert child.stdout.strip() == str(expected)


def test_logsumexp_errors():
    raises_like_torch(lambda m, t: m.logsumexp(t, 2), make((2, 3)))
    raises_like_torch(lambda m, t: m.logsumexp(t, (1, 1)), make((2, 3)))


SOFTMAXES = {
    "softmax": lambda m, t, *a, **k: m.softmax(t, *a, **k),
    "log_softmax": lambda m, t, *a, **k: m.log_softmax(t, *a, **k),
    "softmax_method": lambda m, t, *a, **k: t.softmax(*a, **k),
    "log_softmax_method": lambda m, t, *a, **k: t.log_softmax(*a, **k),
    "F.softmax": lambda m, t, *a, **k: m.nn.functional.softmax(t, *a, **k),
    "F.log_softmax": lambda m, t, *a, **k: m.nn.functional.log_softmax(t, *a, **k),
}


# Loose tolerances for float16 and bfloat16 softmax: vibetensor's precision there is compared with
# torch's in test_softmax_half_precision_accuracy.
HALF_TOLERANCE = {"float16": dict(rtol=1e-2, atol=5e-3), "bfloat16": dict(rtol=5e-2, atol=3e-2)}


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
@pytest.mark.parametrize("dtype", FLOAT_NAMES)
@pytest.mark.parametrize("name", SOFTMAXES)
def test_softmax(name, dtype, dim):
    x = make((3, 4, 5), dtype)
    compare(lambda m, t: SOFTMAXES[name](m, t, dim), x, **HALF_TOLERANCE.get(dtype, {}))
    compare(lambda m, t: SOFTMAXES[name](m, t, dim=dim), x, **HALF_TOLERANCE.get(dtype, {}))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_softmax_half_precision_accuracy(name, dtype):
    """The error against float64 arithmetic on the same values should be about torch's (which
    computes in float32 and rounds once)."""
    x = make((64, 16), dtype, seed=1)
    reference = getattr(torch, name)(x.double(), 1)
    torch_error = (getattr(torch, name)(x, 1).double() - reference).abs().max().item()
    vt_error = (to_torch(getattr(vt, name)(to_vt(x), 1)).double() - reference).abs().max().item()
    assert vt_error <= 3 * torch_error + 1e-6, f"vibetensor error {vt_error:.3g}, torch error {torch_error:.3g}"


@pytest.mark.parametrize("out_dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("dtype", DTYPE_NAMES)
@pytest.mark.parametrize("name", SOFTMAXES)
def test_softmax_dtype_argument(name, dtype, out_dtype):
    """dtype= converts the input first (integers included); without it integers raise."""
    x = make((3, 4), dtype)
    # A float16 result computed in float32 and rounded once may differ from torch's by one
    # float16 step (about 1e-3 relative).
    tolerance = dict(rtol=1e-3, atol=1e-3) if out_dtype == "float16" else {}
    compare(lambda m, t: SOFTMAXES[name](m, t, 1, dtype=getattr(m, out_dtype)), x, **tolerance)
    compare(lambda m, t: SOFTMAXES[name](m, t, 1), x)


@pytest.mark.parametrize("name", SOFTMAXES)
def test_softmax_special_values(name):
    x = torch.tensor([[1000.0, 1000.0, -1000.0], [-math.inf, -math.inf, -math.inf], [math.inf, 1.0, 2.0],
                      [math.nan, 1.0, 2.0], [-math.inf, 0.0, 1.0], [1e-30, 0.0, -1e-30]])
    for dtype in FLOAT_NAMES:
        compare(lambda m, t: SOFTMAXES[name](m, t, 1), x.to(getattr(torch, dtype)))
    compare(lambda m, t: SOFTMAXES[name](m, t, 0), make(()))
    compare(lambda m, t: SOFTMAXES[name](m, t, 1), make((0, 3)))


@pytest.mark.parametrize("name", SOFTMAXES)
def test_softmax_along_empty_dim(name):
    compare(lambda m, t: SOFTMAXES[name](m, t, 0), make((0, 3)))


@pytest.mark.parametrize("name", SOFTMAXES)
def test_softmax_layouts(name):
    for dim in (0, 1, 2):
        compare_layouts(lambda m, t: SOFTMAXES[name](m, t, dim), make((4, 5, 6)))
    compare(lambda m, t: SOFTMAXES[name](m, t, 1), expanded((4, 5)))
    compare(lambda m, t: SOFTMAXES[name](m, t, 0), make((1000, 7)))


@pytest.mark.filterwarnings("ignore:Implicit dimension choice")
def test_softmax_errors():
    raises_like_torch(lambda m, t: m.softmax(t, 2), make((2, 3)))
    raises_like_torch(lambda m, t: m.log_softmax(t, -3), make((2, 3)))
    raises_like_torch(lambda m, t: m.softmax(t, (0, 1)), make((2, 3)))
    raises_like_torch(lambda m, t: m.softmax(t, 1), make((2, 3), "int64"))
