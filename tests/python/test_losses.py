"""Losses and normalizations (vibetensor.nn.functional) and var/std/var_mean against torch: every
reduction, float dtypes and the errors torch raises for other dtypes, broadcasting, non-contiguous
inputs, class weights, ignore_index, label smoothing, class-index and class-probability targets,
extra (spatial) dims, and gradients of every input that can require grad against torch's."""
import math

import numpy as np
import pytest
import torch

import vibetensor as vt
from helpers import FLOAT_NAMES, INT_NAMES, compare, compare_layouts, expanded, make, raises_like_torch, to_torch, to_vt
from test_autograd_ops import Const, check

# torch warns when a loss broadcasts its target to the input's shape, when var has too few
# elements for its correction, and about size_average and reduce.
pytestmark = [pytest.mark.filterwarnings("ignore:Using a target size"),
              pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0"),
              pytest.mark.filterwarnings("ignore:size_average and reduce args will be deprecated")]

REDUCTIONS = ["mean", "sum", "none"]


def xfail_if(condition, reason):
    return [pytest.mark.xfail(strict=True, reason=reason)] if condition else []


# Loose tolerances for float16 and bfloat16 results: they check the values, not the precision.
# torch computes half-precision losses and norms in float32 and rounds once; vibetensor's
# precision is measured against torch's in test_half_precision_accuracy.
HALF_TOLERANCE = {"float16": dict(rtol=1e-2, atol=5e-3), "bfloat16": dict(rtol=5e-2, atol=3e-2)}


def tol(dtype):
    return HALF_TOLERANCE.get(dtype, {})


def classes(shape, n, seed=0, dtype=torch.int64):
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, n, shape, generator=gen, dtype=dtype)


def probabilities(shape, dtype="float32", seed=0, dim=1):
    return make(shape, dtype, seed=seed).float().softmax(dim).to(getattr(torch, dtype))


# ---- mse_loss, l1_loss, smooth_l1_loss

POINTWISE = {
    "mse_loss": lambda m, x, y, **kw: m.nn.functional.mse_loss(x, y, **kw),
    "l1_loss": lambda m, x, y, **kw: m.nn.functional.l1_loss(x, y, **kw),
    "smooth_l1_loss": lambda m, x, y, **kw: m.nn.functional.smooth_l1_loss(x, y, **kw),
    "smooth_l1_loss_beta": lambda m, x, y, **kw: m.nn.functional.smooth_l1_loss(x, y, beta=0.5, **kw),
    "smooth_l1_loss_beta0": lambda m, x, y, **kw: m.nn.functional.smooth_l1_loss(x, y, beta=0.0, **kw),
    "smooth_l1_loss_beta_large": lambda m, x, y, **kw: m.nn.functional.smooth_l1_loss(x, y, beta=10.0, **kw),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", FLOAT_NAMES)
@pytest.mark.parametrize("name", POINTWISE)
def test_pointwise_loss(name, dtype, reduction):
    x, y = make((4, 5), dtype, seed=1), make((4, 5), dtype, seed=2)
    compare(lambda m, a, b: POINTWISE[name](m, a, b, reduction=reduction), x, y, **tol(dtype))


@pytest.mark.parametrize("shapes", [((4, 5), (5,)), ((4, 1), (1, 5)), ((), (3,)), ((3,), ()), ((0, 3), (3,)),
                                    ((2, 0), (2, 0)), ((), ())], ids=str)
@pytest.mark.parametrize("name", POINTWISE)
def test_pointwise_loss_shapes(name, shapes):
    x, y = make(shapes[0], seed=1), make(shapes[1], seed=2)
    for reduction in REDUCTIONS:
        compare(lambda m, a, b: POINTWISE[name](m, a, b, reduction=reduction), x, y)


@pytest.mark.parametrize("name", POINTWISE)
def test_pointwise_loss_layouts(name):
    x, y = make((4, 5), seed=1), make((4, 5), seed=2)
    compare_layouts(lambda m, a, b: POINTWISE[name](m, a, b), x, y)
    compare_layouts(lambda m, a, b: POINTWISE[name](m, a, b, reduction="none"), x, y)
    compare(lambda m, a, b: POINTWISE[name](m, a, b, reduction="sum"), expanded((4, 5)), y)


@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("float64", "float32"), ("float16", "float32"),
                                    ("bfloat16", "float16")], ids=str)
@pytest.mark.parametrize("name", POINTWISE)
def test_pointwise_loss_mixed_dtypes(name, dtypes):
    x, y = make((4, 5), dtypes[0], seed=1), make((4, 5), dtypes[1], seed=2)
    compare(lambda m, a, b: POINTWISE[name](m, a, b), x, y, **tol("bfloat16" if "bfloat16" in dtypes else dtypes[0]))


@pytest.mark.parametrize("name", POINTWISE)
def test_pointwise_loss_special_values(name):
    x = torch.tensor([0.0, 1.0, math.inf, -math.inf, math.nan, 1e30, -2.0, 0.25])
    y = torch.tensor([0.0, -1.0, math.inf, 1.0, 0.0, -1e30, -2.5, 0.5])
    for reduction in REDUCTIONS:
        compare(lambda m, a, b: POINTWISE[name](m, a, b, reduction=reduction), x, y)


def test_pointwise_loss_large_mean():
    x, y = make((1000, 300), seed=1), make((1000, 300), seed=2)
    for name in ["mse_loss", "l1_loss", "smooth_l1_loss"]:
        compare(lambda m, a, b: POINTWISE[name](m, a, b), x, y, rtol=1e-5)
        compare(lambda m, a, b: POINTWISE[name](m, a, b, reduction="sum"), x, y, rtol=1e-5)
    compare(lambda m, a, b: POINTWISE["mse_loss"](m, a, b), x.half(), y.half(), **tol("float16"))


SMOOTH_L1_INT_BUG = ("smooth_l1_loss (beta > 0) of integer tensors returns a float loss; torch raises "
                     "NotImplementedError '\"smooth_l1_cpu\" not implemented for 'Long''")


@pytest.mark.parametrize("dtype", INT_NAMES + ["bool"])
@pytest.mark.parametrize("name", POINTWISE)
def test_pointwise_loss_integer_errors(request, name, dtype):
    if name.startswith("smooth_l1") and name != "smooth_l1_loss_beta0" and dtype != "bool":
        request.applymarker(pytest.mark.xfail(strict=True, reason=SMOOTH_L1_INT_BUG))
    raises_like_torch(lambda m, a, b: POINTWISE[name](m, a, b), make((4, 5), dtype, seed=1),
                      make((4, 5), dtype, seed=2))


@pytest.mark.parametrize("name", POINTWISE)
def test_pointwise_loss_errors(name):
    x = make((4, 5))
    raises_like_torch(lambda m, a, b: POINTWISE[name](m, a, b), x, make((3, 5)))
    raises_like_torch(lambda m, a, b: POINTWISE[name](m, a, b, reduction="avg"), x, make((4, 5)))


@pytest.mark.xfail(strict=True, reason="reduction=None raises TypeError (no such overload); torch raises ValueError "
                   "'None is not a valid value for reduction'")
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "binary_cross_entropy", "nll_loss"])
def test_reduction_none_errors(name):
    raises_like_torch(lambda m, a, b: getattr(m.nn.functional, name)(a, b, reduction=None),
                      *(nll_inputs((4, 5)) if name == "nll_loss" else bce_inputs()))


def test_smooth_l1_negative_beta_errors():
    raises_like_torch(lambda m, a, b: m.nn.functional.smooth_l1_loss(a, b, beta=-1.0), make((4, 5)), make((4, 5)))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss"])
def test_legacy_size_average_reduce(name):
    """size_average and reduce (deprecated) still pick the reduction in torch."""
    x, y = make((4, 5), seed=1), make((4, 5), seed=2)
    fn = POINTWISE[name]
    compare(lambda m, a, b: fn(m, a, b, size_average=False), x, y)
    compare(lambda m, a, b: fn(m, a, b, reduce=False), x, y)
    compare(lambda m, a, b: fn(m, a, b, size_average=True, reduce=True), x, y)


# ---- binary_cross_entropy and binary_cross_entropy_with_logits

def bce_inputs(shape=(4, 5), dtype="float32"):
    return make(shape, dtype, low=0.02, high=0.98, seed=1), make(shape, dtype, low=0.0, high=1.0, seed=2)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", FLOAT_NAMES)
def test_binary_cross_entropy(dtype, reduction):
    x, y = bce_inputs(dtype=dtype)
    compare(lambda m, a, b: m.nn.functional.binary_cross_entropy(a, b, reduction=reduction), x, y, **tol(dtype))
    w = make((5,), dtype, low=0.0, high=2.0, seed=3)
    compare(lambda m, a, b, c: m.nn.functional.binary_cross_entropy(a, b, c, reduction=reduction), x, y, w,
            **tol(dtype))
    compare(lambda m, a, b, c: m.nn.functional.binary_cross_entropy(a, b, weight=c, reduction=reduction), x, y,
            make((4, 1), dtype, low=0.0, high=2.0, seed=3), **tol(dtype))


def test_binary_cross_entropy_at_0_and_1():
    """log is clamped at -100, so certain wrong predictions cost 100, not inf."""
    x = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.5, 1e-30, 1 - 1e-7])
    y = torch.tensor([0.0, 1.0, 1.0, 0.0, 0.5, 1.0, 0.0])
    for dtype in FLOAT_NAMES:
        for reduction in REDUCTIONS:
            compare(lambda m, a, b: m.nn.functional.binary_cross_entropy(a, b, reduction=reduction),
                    x.to(getattr(torch, dtype)), y.to(getattr(torch, dtype)))


def test_binary_cross_entropy_layouts():
    x, y = bce_inputs()
    compare_layouts(lambda m, a, b: m.nn.functional.binary_cross_entropy(a, b), x, y)
    compare_layouts(lambda m, a, b, c: m.nn.functional.binary_cross_entropy(a, b, c, reduction="none"), x, y,
                    make((4, 5), low=0.0, seed=3))
    compare(lambda m, a, b: m.nn.functional.binary_cross_entropy(a, b), x, expanded((4, 5)).abs() / 3)


def test_binary_cross_entropy_shapes():
    for shape in [(), (0,), (7,), (2, 3, 4)]:
        x, y = bce_inputs(shape)
        for reduction in REDUCTIONS:
            compare(lambda m, a, b: m.nn.functional.binary_cross_entropy(a, b, reduction=reduction), x, y)


def test_binary_cross_entropy_errors():
    x, y = bce_inputs()
    raises_like_torch(lambda m, a, b, c: m.nn.functional.binary_cross_entropy(a, b, c), x, y, torch.ones(2))
    raises_like_torch(lambda m, a, b: m.nn.functional.binary_cross_entropy(a, b, reduction="avg"), x, y)


@pytest.mark.xfail(strict=True, reason="binary_cross_entropy of an input outside [0, 1] returns NaN; torch raises "
                   "RuntimeError 'all elements of input should be between 0 and 1'")
def test_binary_cross_entropy_input_out_of_range_errors():
    x, y = bce_inputs()
    raises_like_torch(lambda m, a, b: m.nn.functional.binary_cross_entropy(a * 3, b), x, y)
    raises_like_torch(lambda m, a, b: m.nn.functional.binary_cross_entropy(-a, b, reduction="none"), x, y)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", FLOAT_NAMES)
def test_binary_cross_entropy_with_logits(dtype, reduction):
    x, y = make((4, 5), dtype, seed=1), make((4, 5), dtype, low=0.0, high=1.0, seed=2)
    bce = lambda m, *args, **kw: m.nn.functional.binary_cross_entropy_with_logits(*args, reduction=reduction, **kw)
    compare(lambda m, a, b: bce(m, a, b), x, y, **tol(dtype))
    w, p = make((5,), dtype, low=0.0, high=2.0, seed=3), make((5,), dtype, low=0.5, high=3.0, seed=4)
    compare(lambda m, a, b, c: bce(m, a, b, weight=c), x, y, w, **tol(dtype))
    compare(lambda m, a, b, c: bce(m, a, b, pos_weight=c), x, y, p, **tol(dtype))
    compare(lambda m, a, b, c, d: bce(m, a, b, c, pos_weight=d), x, y, make((4, 1), dtype, low=0.0, seed=3), p,
            **tol(dtype))
    compare(lambda m, a, b, c: bce(m, a, b, pos_weight=c), x, y, make((4, 5), dtype, low=0.5, seed=4), **tol(dtype))


def test_binary_cross_entropy_with_logits_large_logits():
    """Computed stably: no inf or NaN for logits of +-100 or +-1e4."""
    x = torch.tensor([100.0, -100.0, 1e4, -1e4, 0.0, 30.0, -30.0, math.inf, -math.inf])
    y = torch.tensor([1.0, 0.0, 0.0, 1.0, 0.5, 0.2, 0.7, 1.0, 0.0])
    for dtype in FLOAT_NAMES:
        t = getattr(torch, dtype)
        compare(lambda m, a, b: m.nn.functional.binary_cross_entropy_with_logits(a, b, reduction="none"), x.to(t),
                y.to(t))
        compare(lambda m, a, b, p: m.nn.functional.binary_cross_entropy_with_logits(a, b, pos_weight=p,
                                                                                    reduction="none"),
                x.to(t), y.to(t), torch.full((9,), 2.5, dtype=t))


def test_binary_cross_entropy_with_logits_layouts():
    x, y = make((4, 5), seed=1), make((4, 5), low=0.0, high=1.0, seed=2)
    compare_layouts(lambda m, a, b, w, p: m.nn.functional.binary_cross_entropy_with_logits(a, b, w, pos_weight=p), x,
                    y, make((4, 5), low=0.0, seed=3), make((4, 5), low=0.5, seed=4))


def test_binary_cross_entropy_with_logits_mixed_dtypes():
    x, y = make((4, 5), seed=1), make((4, 5), "float64", low=0.0, high=1.0, seed=2)
    compare(lambda m, a, b: m.nn.functional.binary_cross_entropy_with_logits(a, b), x, y)
    compare(lambda m, a, b: m.nn.functional.binary_cross_entropy_with_logits(a, b, reduction="none"), x, y)


@pytest.mark.xfail(strict=True, reason="binary_cross_entropy_with_logits(float64 input, float32 target) is float64; "
                   "torch's result takes the target's dtype (float32: its formula runs in place on a tensor made "
                   "from the target), for every reduction")
def test_binary_cross_entropy_with_logits_result_has_target_dtype():
    x, y = make((4, 5), "float64", seed=1), make((4, 5), low=0.0, high=1.0, seed=2)
    compare(lambda m, a, b: m.nn.functional.binary_cross_entropy_with_logits(a, b), x, y)
    compare(lambda m, a, b: m.nn.functional.binary_cross_entropy_with_logits(a, b, reduction="none"), x, y.half())


def test_binary_cross_entropy_with_logits_errors():
    x, y = make((4, 5), seed=1), make((4, 5), low=0.0, high=1.0, seed=2)
    bce = lambda m, *args, **kw: m.nn.functional.binary_cross_entropy_with_logits(*args, **kw)
    raises_like_torch(lambda m, a, b, p: bce(m, a, b, pos_weight=p), x, y, torch.ones(2))
    raises_like_torch(lambda m, a, b, w: bce(m, a, b, w), x, y, torch.ones(3))
    raises_like_torch(lambda m, a, b: bce(m, a, b, reduction="avg"), x, y)


# ---- nll_loss and cross_entropy with class indices

def nll_inputs(shape, dtype="float32", seed=0):
    """Log-probabilities of `shape` (classes in dim 1, or dim 0 without a batch) and targets."""
    class_dim = 0 if len(shape) == 1 else 1
    x = make(shape, dtype, seed=seed).float().log_softmax(class_dim).to(getattr(torch, dtype))
    target_shape = shape[:class_dim] + shape[class_dim + 1:]
    return x, classes(target_shape, shape[class_dim], seed)


SHAPES = [(6, 4), (4,), (3, 4, 5), (2, 4, 3, 2), (0, 4), (2, 4, 0)]
CLASS_LOSSES = {
    "nll_loss": lambda m, *args, **kw: m.nn.functional.nll_loss(*args, **kw),
    "cross_entropy": lambda m, *args, **kw: m.nn.functional.cross_entropy(*args, **kw),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("loss", CLASS_LOSSES)
def test_class_index_loss(loss, shape, reduction):
    x, t = nll_inputs(shape)
    w = make((4,), low=0.1, high=2.0, seed=5)
    fn = CLASS_LOSSES[loss]
    compare(lambda m, a, b: fn(m, a, b, reduction=reduction), x, t)
    compare(lambda m, a, b, c: fn(m, a, b, c, reduction=reduction), x, t, w)
    compare(lambda m, a, b, c: fn(m, a, b, weight=c, reduction=reduction), x, t, w)


@pytest.mark.parametrize("ignore_index", [-100, 0, 2, -1, 7])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", CLASS_LOSSES)
def test_class_index_loss_ignore_index(loss, reduction, ignore_index):
    x, t = nll_inputs((8, 4))
    t[::3] = ignore_index  # some targets ignored; an ignore_index outside [0, C) is only allowed as a target
    w = make((4,), low=0.1, high=2.0, seed=5)
    fn = CLASS_LOSSES[loss]
    compare(lambda m, a, b: fn(m, a, b, ignore_index=ignore_index, reduction=reduction), x, t)
    compare(lambda m, a, b, c: fn(m, a, b, c, ignore_index=ignore_index, reduction=reduction), x, t, w)
    x3, t3 = nll_inputs((2, 4, 5))
    t3[:, 1:3] = ignore_index
    compare(lambda m, a, b, c: fn(m, a, b, c, ignore_index=ignore_index, reduction=reduction), x3, t3, w)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", CLASS_LOSSES)
def test_class_index_loss_every_target_ignored(loss, reduction):
    """mean over no targets is 0/0 (NaN) in torch."""
    x, _ = nll_inputs((3, 4))
    fn = CLASS_LOSSES[loss]
    compare(lambda m, a, b: fn(m, a, b, reduction=reduction), x, torch.full((3,), -100))
    compare(lambda m, a, b: fn(m, a, b, ignore_index=1, reduction=reduction), x, torch.ones(3, dtype=torch.int64))


@pytest.mark.parametrize("dtype", FLOAT_NAMES)
@pytest.mark.parametrize("loss", CLASS_LOSSES)
def test_class_index_loss_dtypes(loss, dtype):
    x, t = nll_inputs((6, 4), dtype)
    fn = CLASS_LOSSES[loss]
    for reduction in REDUCTIONS:
        compare(lambda m, a, b: fn(m, a, b, reduction=reduction), x, t, **tol(dtype))
        compare(lambda m, a, b, c: fn(m, a, b, c, reduction=reduction), x, t,
                make((4,), dtype, low=0.1, high=2.0, seed=5), **tol(dtype))


@pytest.mark.xfail(strict=True, reason="nll_loss and cross_entropy refuse uint8 class indices (RuntimeError "
                   "'nll_loss(): expected scalar type Long but found Byte'); torch takes Long or Byte targets")
@pytest.mark.parametrize("loss", CLASS_LOSSES)
def test_class_index_loss_uint8_target(loss):
    """torch takes int64 and uint8 (Byte) class indices."""
    x, t = nll_inputs((6, 4))
    compare(lambda m, a, b: CLASS_LOSSES[loss](m, a, b), x, t.to(torch.uint8))


@pytest.mark.parametrize("loss", CLASS_LOSSES)
def test_class_index_loss_layouts(loss):
    x, t = nll_inputs((6, 4))
    w = make((4,), low=0.1, high=2.0, seed=5)
    compare_layouts(lambda m, a, b, c: CLASS_LOSSES[loss](m, a, b, c), x, t, w)
    compare_layouts(lambda m, a, b: CLASS_LOSSES[loss](m, a, b, reduction="none"), x, t)
    x3, t3 = nll_inputs((3, 4, 5))
    compare_layouts(lambda m, a, b: CLASS_LOSSES[loss](m, a, b, reduction="sum"), x3, t3)
    compare(lambda m, a, b: CLASS_LOSSES[loss](m, a, b), expanded((6, 4)), t)
    compare(lambda m, a, b: CLASS_LOSSES[loss](m, a.permute(0, 2, 1), b), x3.permute(0, 2, 1).contiguous(), t3)


def test_cross_entropy_large_logits():
    x = torch.tensor([[1000.0, -1000.0, 0.0], [-1e4, 1e4, 1e4], [0.0, 0.0, 0.0], [50.0, 60.0, 70.0]])
    t = torch.tensor([0, 2, 1, 0])
    for dtype in ["float32", "float64"]:
        compare(lambda m, a, b: m.nn.functional.cross_entropy(a, b, reduction="none"), x.to(getattr(torch, dtype)), t)
        compare(lambda m, a, b: m.nn.functional.cross_entropy(a, b, label_smoothing=0.2, reduction="none"),
                x.to(getattr(torch, dtype)), t)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 0.5, 1.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_label_smoothing(reduction, label_smoothing):
    x, t = make((6, 4), seed=1), classes((6,), 4)
    w = make((4,), low=0.1, high=2.0, seed=5)
    ce = lambda m, *args, **kw: m.nn.functional.cross_entropy(*args, reduction=reduction,
                                                              label_smoothing=label_smoothing, **kw)
    compare(lambda m, a, b: ce(m, a, b), x, t)
    compare(lambda m, a, b, c: ce(m, a, b, c), x, t, w)
    t_ignored = t.clone()
    t_ignored[::2] = 3
    compare(lambda m, a, b, c: ce(m, a, b, c, ignore_index=3), x, t_ignored, w)
    compare(lambda m, a, b: ce(m, a, b, ignore_index=-100), x, torch.where(t == 0, -100, t))
    x3, t3 = make((2, 4, 3), seed=1), classes((2, 3), 4)
    compare(lambda m, a, b, c: ce(m, a, b, c), x3, t3, w)
    compare(lambda m, a, b: ce(m, a, b), make((4,)), torch.tensor(2))



@pytest.mark.parametrize("label_smoothing", [0.0, 0.2, 1.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(6, 4), (4,), (2, 4, 3), (0, 4)], ids=str)
def test_cross_entropy_probability_targets(request, shape, reduction, label_smoothing):
    class_dim = 0 if len(shape) == 1 else 1
    x, p = make(shape, seed=1), probabilities(shape, seed=2, dim=class_dim)
    w = make((4,), low=0.1, high=2.0, seed=5)
    ce = lambda m, *args, **kw: m.nn.functional.cross_entropy(*args, reduction=reduction,
                                                              label_smoothing=label_smoothing, **kw)
    compare(lambda m, a, b: ce(m, a, b), x, p)
    compare(lambda m, a, b, c: ce(m, a, b, c), x, p, w)
    compare(lambda m, a, b: ce(m, a, b), x, make(shape, low=0.0, high=1.0, seed=3))  # not normalized


@pytest.mark.parametrize("dtype", FLOAT_NAMES)
def test_cross_entropy_probability_targets_dtypes(dtype):
    x, p = make((6, 4), dtype, seed=1), probabilities((6, 4), dtype, seed=2)
    compare(lambda m, a, b: m.nn.functional.cross_entropy(a, b), x, p, **tol(dtype))
    compare(lambda m, a, b: m.nn.functional.cross_entropy(a, b, label_smoothing=0.3, reduction="none"), x, p,
            **tol(dtype))


def test_cross_entropy_probability_targets_layouts():
    x, p = make((6, 4), seed=1), probabilities((6, 4), seed=2)
    compare_layouts(lambda m, a, b: m.nn.functional.cross_entropy(a, b), x, p)
    compare_layouts(lambda m, a, b, w: m.nn.functional.cross_entropy(a, b, w, reduction="none"), x, p,
                    make((4,), low=0.1, seed=5))


def test_cross_entropy_probability_targets_mixed_dtypes():
    x, p = make((6, 4), seed=1), probabilities((6, 4), "float64", seed=2)
    compare(lambda m, a, b: m.nn.functional.cross_entropy(a, b), x, p)
    compare(lambda m, a, b: m.nn.functional.cross_entropy(a, b), x.double(), p.float())


@pytest.mark.parametrize("loss", CLASS_LOSSES)
def test_class_index_loss_errors(loss):
    x, t = nll_inputs((6, 4))
    fn = CLASS_LOSSES[loss]
    raises_like_torch(lambda m, a, b: fn(m, a, b), x, torch.tensor([0, 1, 2, 3, 4, 0]))  # target out of range
    raises_like_torch(lambda m, a, b: fn(m, a, b, reduction="none"), x, torch.tensor([0, 1, 9, 3, 2, 0]))
    raises_like_torch(lambda m, a, b: fn(m, a, b), x, t.to(torch.int32))
    if loss == "cross_entropy":  # nll_loss: test_nll_loss_integer_input_errors
        raises_like_torch(lambda m, a, b: fn(m, a, b), x.long(), t)
    raises_like_torch(lambda m, a, b, c: fn(m, a, b, c), x, t, torch.ones(3))  # weight for 3 classes of 4
    raises_like_torch(lambda m, a, b: fn(m, a, b, reduction="avg"), x, t)
    # A 0-dim input: torch's nll_loss raises ValueError (test_shape_errors_are_value_errors); its
    # cross_entropy takes the target of the same shape for class probabilities and raises
    # RuntimeError "Expected floating point type for target", vibetensor IndexError: not compared.


@pytest.mark.xfail(strict=True, reason="nll_loss of an integer input computes a loss; torch raises NotImplementedError "
                   "'\"nll_loss_out_frame\" not implemented for 'Long''")
def test_nll_loss_integer_input_errors():
    x, t = nll_inputs((6, 4))
    raises_like_torch(lambda m, a, b: m.nn.functional.nll_loss(a, b), (x * 3).long(), t)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", CLASS_LOSSES)
def test_class_index_loss_negative_target_errors(loss, reduction):
    x, _ = nll_inputs((6, 4))
    raises_like_torch(lambda m, a, b: CLASS_LOSSES[loss](m, a, b, reduction=reduction), x,
                      torch.tensor([0, 1, -1, 3, 2, 0]))
    raises_like_torch(lambda m, a, b: CLASS_LOSSES[loss](m, a, b, reduction=reduction), x,
                      torch.tensor([0, 1, -4, 3, 2, 0]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_spatial_target_shape_errors(reduction):
    x, t = nll_inputs((2, 4, 3))
    raises_like_torch(lambda m, a, b: m.nn.functional.nll_loss(a, b, reduction=reduction), x, t[:, :2])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_targets_errors_spatial(reduction):
    x, t = nll_inputs((2, 4, 3))
    bad = t.clone()
    bad[1, 2] = 4
    raises_like_torch(lambda m, a, b: m.nn.functional.nll_loss(a, b, reduction=reduction), x, bad)


def test_cross_entropy_errors():
    x, p = make((6, 4), seed=1), probabilities((6, 4), seed=2)
    ce = lambda m, *args, **kw: m.nn.functional.cross_entropy(*args, **kw)
    raises_like_torch(lambda m, a, b: ce(m, a, b, label_smoothing=1.5), x, classes((6,), 4))
    raises_like_torch(lambda m, a, b: ce(m, a, b, label_smoothing=1.5), x, p)
    raises_like_torch(lambda m, a, b: ce(m, a, b), x, p[:, :3])  # probabilities of the wrong shape
    raises_like_torch(lambda m, a, b: ce(m, a, b), x, p.long())


@pytest.mark.xfail(strict=True, reason="cross_entropy with class-probability targets ignores ignore_index; torch "
                   "raises RuntimeError 'ignore_index is not supported for floating point target'")
def test_cross_entropy_probability_targets_ignore_index_errors():
    x, p = make((6, 4), seed=1), probabilities((6, 4), seed=2)
    raises_like_torch(lambda m, a, b: m.nn.functional.cross_entropy(a, b, ignore_index=1), x, p)


# ---- layer_norm and rms_norm

NORM_SHAPES = [((4, 5), (5,)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 4)), ((5,), (5,)), ((0, 3), (3,)), ((3, 1), (1,))]


@pytest.mark.parametrize("shapes", NORM_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", FLOAT_NAMES)
def test_layer_norm(dtype, shapes):
    shape, normalized = shapes
    x, w, b = make(shape, dtype, seed=1), make(normalized, dtype, seed=2), make(normalized, dtype, seed=3)
    ln = lambda m, *args, **kw: m.nn.functional.layer_norm(*args, **kw)
    compare(lambda m, a: ln(m, a, normalized), x, **tol(dtype))
    compare(lambda m, a, c, d: ln(m, a, normalized, c, d), x, w, b, **tol(dtype))
    compare(lambda m, a, c: ln(m, a, list(normalized), weight=c, eps=1e-2), x, w, **tol(dtype))
    compare(lambda m, a, d: ln(m, a, normalized, bias=d), x, b, **tol(dtype))


def test_layer_norm_constant_rows_and_large_values():
    x = torch.tensor([[1.0, 1.0, 1.0], [1e4, 1e4 + 1, 1e4 + 2], [0.0, 0.0, 1e-3], [-1e3, 0.0, 1e3]])
    for dtype in ["float32", "float64"]:
        compare(lambda m, a: m.nn.functional.layer_norm(a, (3,)), x.to(getattr(torch, dtype)))
        compare(lambda m, a: m.nn.functional.rms_norm(a, (3,)), x.to(getattr(torch, dtype)))


def test_layer_norm_layouts():
    x, w, b = make((4, 5), seed=1), make((5,), seed=2), make((5,), seed=3)
    compare_layouts(lambda m, a, c, d: m.nn.functional.layer_norm(a, (5,), c, d), x, w, b)
    compare_layouts(lambda m, a: m.nn.functional.layer_norm(a, (4, 5)), x)
    compare(lambda m, a: m.nn.functional.layer_norm(a, (3,)), make((4, 5, 3)).transpose(0, 1))
    compare(lambda m, a, c: m.nn.functional.layer_norm(a, (5,), c), expanded((4, 5)), w)


def test_layer_norm_errors():
    x = make((4, 5))
    ln = lambda m, *args, **kw: m.nn.functional.layer_norm(*args, **kw)
    raises_like_torch(lambda m, a: ln(m, a, (4,)), x)
    raises_like_torch(lambda m, a: ln(m, a, (3, 4, 5)), x)
    raises_like_torch(lambda m, a: ln(m, a, ()), x)
    raises_like_torch(lambda m, a, c: ln(m, a, (5,), c), x, make((4,)))
    raises_like_torch(lambda m, a, c: ln(m, a, (5,), None, c), x, make((4,)))
    raises_like_torch(lambda m, a: ln(m, a, (5,)), x.long())


@pytest.mark.parametrize("eps", [None, 1e-2, 0.0])
@pytest.mark.parametrize("shapes", NORM_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", FLOAT_NAMES)
def test_rms_norm(dtype, shapes, eps):
    shape, normalized = shapes
    x, w = make(shape, dtype, seed=1), make(normalized, dtype, seed=2)
    compare(lambda m, a: m.nn.functional.rms_norm(a, normalized, eps=eps), x, **tol(dtype))
    compare(lambda m, a, c: m.nn.functional.rms_norm(a, list(normalized), c, eps), x, w, **tol(dtype))


def test_rms_norm_layouts():
    x, w = make((4, 5), seed=1), make((5,), seed=2)
    compare_layouts(lambda m, a, c: m.nn.functional.rms_norm(a, (5,), c), x, w)
    compare_layouts(lambda m, a: m.nn.functional.rms_norm(a, (4, 5)), x)
    compare(lambda m, a: m.nn.functional.rms_norm(a, (5,)), expanded((4, 5)))


def test_rms_norm_errors():
    x = make((4, 5))
    raises_like_torch(lambda m, a, c: m.nn.functional.rms_norm(a, (5,), c), x, make((4,)))
    raises_like_torch(lambda m, a: m.nn.functional.rms_norm(a, (5,)), x.long())


def test_rms_norm_normalized_shape_errors():
    raises_like_torch(lambda m, a: m.nn.functional.rms_norm(a, (4,)), make((4, 5)))
    raises_like_torch(lambda m, a: m.nn.functional.rms_norm(a, (4, 4)), make((3, 4, 5)))


# ---- shape errors that torch raises as ValueError (checked in Python before the kernel runs)

VALUE_ERRORS = {
    "bce_target_shape": (lambda m, a, b: m.nn.functional.binary_cross_entropy(a.sigmoid(), b), (4, 5), (5,)),
    "bce_logits_target_shape": (lambda m, a, b: m.nn.functional.binary_cross_entropy_with_logits(a, b), (4, 5), (5,)),
    "bce_logits_transposed_target": (lambda m, a, b: m.nn.functional.binary_cross_entropy_with_logits(a, b.t()),
                                     (4, 5), (4, 5)),
    "nll_batch_size": (lambda m, a, b: m.nn.functional.nll_loss(a, (b[:5] > 0).long()), (6, 4), (6,)),
    "cross_entropy_batch_size": (lambda m, a, b: m.nn.functional.cross_entropy(a, (b[:5] > 0).long()), (6, 4), (6,)),
    "nll_target_of_other_batch_shape": (lambda m, a, b: m.nn.functional.nll_loss(a, (b > 0).long()), (6, 4), (2, 3)),
    "nll_0dim_input": (lambda m, a, b: m.nn.functional.nll_loss(a, (b > 0).long()), (), ()),
    "rms_norm_too_few_dims": (lambda m, a, b: m.nn.functional.rms_norm(a, (3, 4, 5)), (4, 5), ()),
}


@pytest.mark.xfail(strict=True, reason="shape mismatches that torch reports as ValueError ('Target size "
                   "(torch.Size([5])) must be the same as input size', 'Expected input batch_size (6) to match "
                   "target batch_size (5).', 'Expected 1 or more dimensions (got 0)', 'Input tensor must have at "
                   "least 3 dimensions') raise RuntimeError")
@pytest.mark.parametrize("name", VALUE_ERRORS)
def test_shape_errors_are_value_errors(name):
    fn, *shapes = VALUE_ERRORS[name]
    torch_error, _ = raises_like_torch(fn, *[make(s, seed=i) for i, s in enumerate(shapes)])
    assert isinstance(torch_error, ValueError), "the test is wrong"


# ---- weights and norm parameters of another dtype than the input

PARAMETER_DTYPES = {
    # name -> (fn, input dtype, parameter dtype, reason it is a strict xfail)
    "bce_weight": (lambda m, x, w: m.nn.functional.binary_cross_entropy(x.sigmoid(), x.sigmoid() * 0.5, w),
                   "float32", "float64", "binary_cross_entropy(float32, float32, weight=float64) is float64; torch's "
                   "is float32 (the weight multiplies the loss in place)"),
    "bce_weight_none": (lambda m, x, w: m.nn.functional.binary_cross_entropy(x.sigmoid(), x.sigmoid() * 0.5, w,
                                                                             reduction="none"),
                        "float32", "float64", "the same for reduction='none'"),
    "bce_logits_weight": (lambda m, x, w: m.nn.functional.binary_cross_entropy_with_logits(x, x.sigmoid(), w),
                          "float32", "float64", "binary_cross_entropy_with_logits(float32, float32, weight=float64) is "
                          "float64; torch's is float32"),
    "bce_logits_pos_weight": (lambda m, x, w: m.nn.functional.binary_cross_entropy_with_logits(x, x.sigmoid(),
                                                                                             pos_weight=w),
                              "float32", "float64", "the same with pos_weight=float64"),
    "nll_weight": (lambda m, x, w: m.nn.functional.nll_loss(x, (x[:, 0] > 0).long(), w), "float32", "float64",
                   "nll_loss(float32 input, weight=float64) computes in float64; torch raises RuntimeError 'expected "
                   "scalar type Float but found Double'"),
    "nll_narrower_weight": (lambda m, x, w: m.nn.functional.nll_loss(x, (x[:, 0] > 0).long(), w), "float64",
                            "float32", "nll_loss(float64 input, weight=float32) works; torch raises RuntimeError "
                            "'expected scalar type Double but found Float'"),
    "cross_entropy_weight": (lambda m, x, w: m.nn.functional.cross_entropy(x, (x[:, 0] > 0).long(), w), "float32",
                             "float64", "cross_entropy(float32 input, weight=float64) computes in float64; torch "
                             "raises RuntimeError 'expected scalar type Float but found Double'"),
    "cross_entropy_probabilities_weight": (lambda m, x, w: m.nn.functional.cross_entropy(x, x.softmax(1), w),
                                           "float32", "float64", None),
    "layer_norm_weight": (lambda m, x, w: m.nn.functional.layer_norm(x, (5,), w), "float32", "float64", None),
    "layer_norm_half_input": (lambda m, x, w: m.nn.functional.layer_norm(x, (5,), w, w), "float16", "float32", None),
    "layer_norm_bfloat16_input": (lambda m, x, w: m.nn.functional.layer_norm(x, (5,), w, w), "bfloat16", "float32",
                                  None),
    "rms_norm_weight": (lambda m, x, w: m.nn.functional.rms_norm(x, (5,), w), "float32", "float64",
                        "rms_norm(float32 input, float64 weight) returns float64; torch returns float32"),
    "rms_norm_half_input": (lambda m, x, w: m.nn.functional.rms_norm(x, (5,), w), "float16", "float32",
                            "rms_norm of a float16 input with a float32 weight returns float32; torch returns float16"),
}


@pytest.mark.parametrize("dtype", INT_NAMES + ["bool"])
def test_binary_cross_entropy_integer_errors(request, dtype):
    if dtype != "bool":
        request.applymarker(pytest.mark.xfail(strict=True, reason="binary_cross_entropy of integer input and target "
                                              "returns a float loss; torch raises NotImplementedError "
                                              "'\"binary_cross_entropy\" not implemented for 'Long''"))
    x, y = make((4, 5), dtype, low=0, high=1), make((4, 5), dtype, low=0, high=1, seed=1)
    raises_like_torch(lambda m, a, b: m.nn.functional.binary_cross_entropy(a, b), x, y)


@pytest.mark.parametrize("dtype", INT_NAMES + ["bool"])
def test_binary_cross_entropy_with_logits_integer_errors(request, dtype):
    if dtype != "bool":
        request.applymarker(pytest.mark.xfail(strict=True, reason="binary_cross_entropy_with_logits of integer input "
                                              "and target returns a float loss; torch raises NotImplementedError "
                                              "'\"log_sigmoid_cpu\" not implemented for 'Long''"))
    x, y = make((4, 5), dtype, low=0, high=1), make((4, 5), dtype, low=0, high=1, seed=1)
    raises_like_torch(lambda m, a, b: m.nn.functional.binary_cross_entropy_with_logits(a, b), x, y)


@pytest.mark.xfail(strict=True, reason="binary_cross_entropy takes a target of another dtype than the input (float64, "
                   "int64, float16) and computes in the promoted dtype; torch raises RuntimeError 'Found dtype Double "
                   "but expected Float'")
@pytest.mark.parametrize("target_dtype", ["float64", "int64", "float16"])
def test_binary_cross_entropy_target_dtype_errors(target_dtype):
    x, y = bce_inputs()
    raises_like_torch(lambda m, a, b: m.nn.functional.binary_cross_entropy(a, b), x, y.round().to(
        getattr(torch, target_dtype)))


@pytest.mark.filterwarnings("ignore:Mismatch dtype between input and weight")
@pytest.mark.parametrize("name", [pytest.param(n, marks=xfail_if(case[3] is not None, case[3]))
                                  for n, case in PARAMETER_DTYPES.items()])
def test_parameter_of_another_dtype(name):
    fn, dtype, parameter_dtype, _ = PARAMETER_DTYPES[name]
    compare(fn, make((4, 5), dtype, seed=1), make((5,), parameter_dtype, low=0.1, high=2.0, seed=2), **tol(dtype))


# ---- var, std, var_mean

VAR_DIMS = [None, 0, 1, -1, (0, 2), [2, 1], (0, 1, 2), ()]
VAR_OPS = {
    "var": lambda m, *args, **kw: m.var(*args, **kw),
    "std": lambda m, *args, **kw: m.std(*args, **kw),
    "var_mean": lambda m, *args, **kw: m.var_mean(*args, **kw),
    "var_method": lambda m, t, *args, **kw: t.var(*args, **kw),
    "std_method": lambda m, t, *args, **kw: t.std(*args, **kw),
}


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", VAR_DIMS, ids=str)
@pytest.mark.parametrize("op", VAR_OPS)
def test_var(op, dim, keepdim):
    x = make((2, 3, 4))
    fn = VAR_OPS[op]
    compare(lambda m, t: fn(m, t, dim, keepdim=keepdim), x)
    compare(lambda m, t: fn(m, t, dim=dim, keepdim=keepdim), x)
    for unbiased in (True, False):
        compare(lambda m, t: fn(m, t, dim, unbiased, keepdim), x)
    for correction in (0, 1, 2, 0.5):
        compare(lambda m, t: fn(m, t, dim, keepdim=keepdim, correction=correction), x)


@pytest.mark.parametrize("dtype", FLOAT_NAMES)
@pytest.mark.parametrize("op", VAR_OPS)
def test_var_dtypes(op, dtype):
    x = make((5, 6), dtype)
    fn = VAR_OPS[op]
    compare(lambda m, t: fn(m, t), x, **tol(dtype))
    compare(lambda m, t: fn(m, t, 1), x, **tol(dtype))
    compare(lambda m, t: fn(m, t, 0, correction=0), x, **tol(dtype))


@pytest.mark.xfail(strict=True, reason="var/std/var_mean(x, True) (unbiased as the second positional argument, torch's "
                   "var(Tensor, bool unbiased) overload) raises TypeError 'expected an integer, but got bool'")
@pytest.mark.parametrize("op", VAR_OPS)
def test_var_unbiased_positional(op):
    x = make((5, 6))
    compare(lambda m, t: VAR_OPS[op](m, t, False), x)
    compare(lambda m, t: VAR_OPS[op](m, t, True), x)


@pytest.mark.parametrize("op", VAR_OPS)
def test_var_unbiased_keyword(op):
    compare(lambda m, t: VAR_OPS[op](m, t, unbiased=False), make((5, 6)))
    compare(lambda m, t: VAR_OPS[op](m, t, 1, unbiased=True, keepdim=True), make((5, 6)))


@pytest.mark.parametrize("op", VAR_OPS)
def test_var_layouts(op):
    compare_layouts(lambda m, t: VAR_OPS[op](m, t, 1), make((4, 5, 6)))
    compare_layouts(lambda m, t: VAR_OPS[op](m, t, (0, 2), correction=0), make((4, 5, 6)))
    compare(lambda m, t: VAR_OPS[op](m, t, 0), expanded((4, 5)))


@pytest.mark.parametrize("op", VAR_OPS)
def test_var_few_elements(op):
    """One element (or fewer than the correction) gives NaN or inf as in torch; empty gives NaN."""
    fn = VAR_OPS[op]
    compare(lambda m, t: fn(m, t), make((1,)))
    compare(lambda m, t: fn(m, t, 0), make((1, 3)))
    compare(lambda m, t: fn(m, t, 1, correction=3), make((2, 3)))
    compare(lambda m, t: fn(m, t), make(()))
    compare(lambda m, t: fn(m, t), make((0,)))
    compare(lambda m, t: fn(m, t, 0), make((0, 3)))
    compare(lambda m, t: fn(m, t, 1), make((0, 3)))


@pytest.mark.parametrize("op", VAR_OPS)
def test_var_accuracy(op):
    """Large offsets: a one-pass formula (E[x^2] - E[x]^2) would lose everything here."""
    x = make((1000,), "float32") + 1e4
    compare(lambda m, t: VAR_OPS[op](m, t), x, rtol=1e-4)
    compare(lambda m, t: VAR_OPS[op](m, t.view(10, 100), 1), x, rtol=1e-4)
    compare(lambda m, t: VAR_OPS[op](m, t), x.double() + 1e8)


@pytest.mark.parametrize("op", VAR_OPS)
def test_var_nan_inf(op):
    """torch's var_mean gives a NaN mean for a row holding inf (its one-pass update computes
    inf - inf); vibetensor's is inf, as torch.mean's: that row is left out for var_mean."""
    x = torch.tensor([[1.0, math.nan, 2.0], [math.inf, 1.0, 2.0], [1.0, 2.0, 3.0]])
    if op == "var_mean":
        x = x[[0, 2]]
    compare(lambda m, t: VAR_OPS[op](m, t, 1), x)
    compare(lambda m, t: VAR_OPS[op](m, t), x)


@pytest.mark.parametrize("dtype", INT_NAMES + ["bool"])
@pytest.mark.parametrize("op", VAR_OPS)
def test_var_integer_errors(op, dtype):
    raises_like_torch(lambda m, t: VAR_OPS[op](m, t), make((3, 4), dtype))
    raises_like_torch(lambda m, t: VAR_OPS[op](m, t, 0), make((3, 4), dtype))


@pytest.mark.parametrize("op", VAR_OPS)
def test_var_errors(op):
    x = make((3, 4))
    fn = VAR_OPS[op]
    raises_like_torch(lambda m, t: fn(m, t, 2), x)
    raises_like_torch(lambda m, t: fn(m, t, (0, 0)), x)


@pytest.mark.xfail(strict=True, reason="var/std/var_mean take argument combinations none of torch's overloads has "
                   "(TypeError in torch): unbiased= with correction=, unbiased= with keepdim= but no dim")
@pytest.mark.parametrize("op", VAR_OPS)
def test_var_argument_combination_errors(op):
    raises_like_torch(lambda m, t: VAR_OPS[op](m, t, 0, unbiased=True, correction=1), make((3, 4)))
    raises_like_torch(lambda m, t: VAR_OPS[op](m, t, unbiased=True, keepdim=True), make((3, 4)))


def test_var_mean_returns_a_tuple():
    compare(lambda m, t: type(m.var_mean(t, 1)).__name__, make((3, 4)))


# ---- gradients against torch (float64 and float32; contiguous, transposed and sliced leaves)

# torch refuses weights and pos_weight that require grad ("not differentiable with respect to argument
# 'weight'"); vibetensor differentiates them (checked by gradcheck only): here they are constants,
# converted to the dtype the check runs in.
WEIGHT4 = np.array([0.5, 1.5, 0.2, 2.0])
WEIGHT5 = np.array([[0.5, 1.5, 0.2, 2.0, 1.0]])
TARGETS = np.array([0, 3, 1, 3, 2, 0])
SPATIAL_TARGETS = np.array([[0, 3, 1], [3, 3, 2]])
IGNORED = np.array([0, -100, 1, 3, -100, 0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", POINTWISE)
def test_pointwise_loss_grad(name, reduction):
    check(lambda m, x, y: POINTWISE[name](m, x, y, reduction=reduction), (4, 5), (4, 5))
    check(lambda m, x, y: POINTWISE[name](m, x, y, reduction=reduction), (4, 5), (5,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_grad(reduction):
    check(lambda m, x, y, w: m.nn.functional.binary_cross_entropy(x.sigmoid(), y.sigmoid(), w.to(x.dtype),
                                                                                   reduction=reduction),
          (4, 5), (4, 5), Const(WEIGHT5))
    check(lambda m, x, y: m.nn.functional.binary_cross_entropy(x, y, reduction=reduction), (4, 5), (4, 5), low=0.05,
          high=0.95)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits_grad(reduction):
    bce = lambda m, *args, **kw: m.nn.functional.binary_cross_entropy_with_logits(*args, reduction=reduction, **kw)
    check(lambda m, x, y: bce(m, x, y), (4, 5), (4, 5))
    check(lambda m, x, y, w, p: bce(m, x, y.sigmoid(), w.to(x.dtype), pos_weight=p.to(x.dtype)), (4, 5), (4, 5),
          Const(WEIGHT5),
          Const(WEIGHT5[::-1] + 0.5))
    check(lambda m, x, y, w, p: bce(m, x, y, w.to(x.dtype), pos_weight=p.to(x.dtype)), (4, 5), (4, 5),
          Const(WEIGHT5[0, :4, None]),
          Const(np.full((4, 5), 2.5)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", CLASS_LOSSES)
def test_class_index_loss_grad(loss, reduction):
    fn = CLASS_LOSSES[loss]
    check(lambda m, x, t: fn(m, x, t, reduction=reduction), (6, 4), Const(TARGETS))
    check(lambda m, x, t, w: fn(m, x, t, w.to(x.dtype), reduction=reduction), (6, 4), Const(TARGETS), Const(WEIGHT4))
    check(lambda m, x, t, w: fn(m, x, t, w.to(x.dtype), reduction=reduction), (6, 4), Const(IGNORED), Const(WEIGHT4))
    check(lambda m, x, t: fn(m, x, t, ignore_index=3, reduction=reduction), (6, 4), Const(TARGETS))
    check(lambda m, x, t, w: fn(m, x, t, w.to(x.dtype), reduction=reduction), (2, 4, 3), Const(SPATIAL_TARGETS),
          Const(WEIGHT4))
    check(lambda m, x, t: fn(m, x, t, reduction=reduction), (4,), Const(2))


@pytest.mark.parametrize("reduction", [
    pytest.param(r, marks=xfail_if(r == "mean", "nll_loss(reduction='mean') with every target ignored: the gradient of "
                                   "the NaN loss is NaN in column 0 (where ignored targets point); torch's is zero"))
    for r in REDUCTIONS])
def test_class_index_loss_every_target_ignored_grad(reduction):
    check(lambda m, x: m.nn.functional.nll_loss(x, m.full((3,), -100), reduction=reduction), (3, 4))


@pytest.mark.parametrize("label_smoothing", [0.1, 1.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_label_smoothing_grad(reduction, label_smoothing):
    ce = lambda m, *args, **kw: m.nn.functional.cross_entropy(*args, reduction=reduction,
                                                              label_smoothing=label_smoothing, **kw)
    check(lambda m, x, t: ce(m, x, t), (6, 4), Const(TARGETS))
    check(lambda m, x, t, w: ce(m, x, t, w.to(x.dtype), ignore_index=1), (6, 4), Const(TARGETS), Const(WEIGHT4))
    check(lambda m, x, t, w: ce(m, x, t, w.to(x.dtype)), (6, 4), Const(IGNORED), Const(WEIGHT4))
    check(lambda m, x, t: ce(m, x, t), (2, 4, 3), Const(SPATIAL_TARGETS))


@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probability_targets_grad(reduction, label_smoothing):
    ce = lambda m, *args, **kw: m.nn.functional.cross_entropy(*args, reduction=reduction,
                                                              label_smoothing=label_smoothing, **kw)
    check(lambda m, x, y: ce(m, x, y.softmax(1)), (6, 4), (6, 4))
    check(lambda m, x, y, w: ce(m, x, y, w.to(x.dtype)), (6, 4), (6, 4), Const(WEIGHT4))  # unnormalized targets
    if reduction != "mean":
        check(lambda m, x, y: ce(m, x, y.softmax(1)), (2, 4, 3), (2, 4, 3))


def test_cross_entropy_probability_targets_spatial_mean_grad():
    check(lambda m, x, y: m.nn.functional.cross_entropy(x, y.softmax(1)), (2, 4, 3), (2, 4, 3))


def test_layer_norm_grad():
    check(lambda m, x, w, b: m.nn.functional.layer_norm(x, (5,), w, b), (4, 5), (5,), (5,))
    check(lambda m, x: m.nn.functional.layer_norm(x, (4, 5), eps=1e-3), (3, 4, 5))
    check(lambda m, x, w: m.nn.functional.layer_norm(x, [3], w), (2, 3), (3,))
    check(lambda m, x, b: m.nn.functional.layer_norm(x, (3,), bias=b) * x, (2, 3), (3,))


def test_rms_norm_grad():
    check(lambda m, x, w: m.nn.functional.rms_norm(x, (5,), w), (4, 5), (5,))
    check(lambda m, x: m.nn.functional.rms_norm(x, (4, 5), eps=1e-3), (3, 4, 5))
    check(lambda m, x, w: m.nn.functional.rms_norm(x, [3], w) * x, (2, 3), (3,))


@pytest.mark.parametrize("op", VAR_OPS)
def test_var_grad(op):
    fn = VAR_OPS[op]
    check(lambda m, x: fn(m, x), (3, 4))
    check(lambda m, x: fn(m, x, 1, keepdim=True), (3, 4))
    check(lambda m, x: fn(m, x, (0, 2), correction=0), (2, 3, 4))
    check(lambda m, x: fn(m, x, 0, unbiased=False), (3, 4))
    check(lambda m, x: fn(m, x, -1, correction=2), (3, 4))


@pytest.mark.xfail(strict=True, reason="the gradient of std where std is 0 (a constant row) is NaN (0/0); torch masks "
                   "it to 0: std(x * 0 + 1, 1) + x.sum() gives x.grad = 1 in torch, NaN here")
def test_std_grad_at_zero_std():
    check(lambda m, x: m.std(x * 0 + 1, 1) + x.sum(), (3, 4))


# ---- precision of float16 and bfloat16 results

# name -> fn(m, x, y), with x from [-3, 3) (or "offset": [2.25, 3.75), where rounding a mean to the
# input's dtype shows) and y from [0, 1).
HALF_OPS = {
    "mse_loss": lambda m, x, y: m.nn.functional.mse_loss(x, y, reduction="none"),
    "mse_loss_mean": lambda m, x, y: m.nn.functional.mse_loss(x, y),
    "l1_loss_sum": lambda m, x, y: m.nn.functional.l1_loss(x, y, reduction="sum"),
    "smooth_l1_loss": lambda m, x, y: m.nn.functional.smooth_l1_loss(x, y, reduction="none", beta=0.5),
    "binary_cross_entropy": lambda m, x, y: m.nn.functional.binary_cross_entropy(x.sigmoid(), y, reduction="none"),
    "binary_cross_entropy_mean": lambda m, x, y: m.nn.functional.binary_cross_entropy(x.sigmoid(), y),
    "binary_cross_entropy_with_logits": lambda m, x, y: m.nn.functional.binary_cross_entropy_with_logits(
        x, y, reduction="none"),
    "nll_loss": lambda m, x, y: m.nn.functional.nll_loss(x, (y[:, 0] > 0.5).long(), reduction="none"),
    "cross_entropy": lambda m, x, y: m.nn.functional.cross_entropy(x, (y[:, 0] > 0.5).long(), reduction="none"),
    "cross_entropy_probabilities": lambda m, x, y: m.nn.functional.cross_entropy(x, y, reduction="none"),
    "layer_norm_offset": lambda m, x, y: m.nn.functional.layer_norm(x, (16,)),
    "layer_norm_4_offset": lambda m, x, y: m.nn.functional.layer_norm(x.view(-1, 4), (4,)),
    "rms_norm": lambda m, x, y: m.nn.functional.rms_norm(x, (16,)),
    "var_offset": lambda m, x, y: m.var(x, 1),
    "std_offset": lambda m, x, y: m.std(x, 1),
    "var_mean_offset": lambda m, x, y: m.var_mean(x, 1)[0],
}
HALF_PRECISION_BUGS = {
    **{("rms_norm", dtype): (f"rms_norm of {dtype} computes in {dtype}: its error against float64 arithmetic is "
                             "3.6x torch's (which computes in float32 and rounds once)")
       for dtype in ("float16", "bfloat16")},
}


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", HALF_OPS)
def test_half_precision_accuracy(request, name, dtype):
    """The error of a float16/bfloat16 result against float64 arithmetic on the same (rounded)
    values should be about torch's: torch computes in float32 and rounds once."""
    if (name, dtype) in HALF_PRECISION_BUGS:
        request.applymarker(pytest.mark.xfail(strict=True, reason=HALF_PRECISION_BUGS[name, dtype]))
    fn = HALF_OPS[name]
    x = make((64, 16), "float64", seed=1)
    if name.endswith("_offset"):
        x = x / 4 + 3
    x, y = x.to(getattr(torch, dtype)), make((64, 16), dtype, low=0.0, high=1.0, seed=2)
    reference = fn(torch, x.double(), y.double())
    torch_error = (fn(torch, x, y).double() - reference).abs().max().item()
    vt_error = (to_torch(fn(vt, to_vt(x), to_vt(y))).double() - reference).abs().max().item()
    assert vt_error <= 3 * torch_error + 1e-6, f"vibetensor error {vt_error:.3g}, torch error {torch_error:.3g}"


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_elementwise_loss_weight(name, reduction):
    """torch 2.13's weight=: weighted losses; 'mean' divides by the sum of the weights."""
    x, y, w = make((3, 4), seed=1), make((3, 4), seed=2), make((3, 4), low=0.1, high=2.0, seed=3)
    compare(lambda m, a, b, c: getattr(m.nn.functional, name)(a, b, reduction=reduction, weight=c), x, y, w)
    raises_like_torch(lambda m, a, b: getattr(m.nn.functional, name)(a, b, weight=b[0]), x, y)
