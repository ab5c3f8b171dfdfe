"""The torch.nn.functional functions that vibetensor composes in Python (nn/_activations.py,
_losses.py, _pooling.py, _conv.py, _misc.py), against torch: values and input gradients in
float64 and float32 with contiguous, transposed and sliced inputs (`check`), integer outputs and
in-place writes (`compare`), the errors torch raises (`raises_like_torch`), properties of the
random ones (dropout variants, rrelu in training, gumbel_softmax), and that every signature
matches torch's: parameter names, order, defaults and kinds."""
import inspect
import math
import re

import numpy as np
import pytest
import torch

import vibetensor as vt
from helpers import compare, make, raises_like_torch, to_vt
from test_autograd_ops import Const, check

pytestmark = [pytest.mark.filterwarnings("ignore:size_average and reduce args will be deprecated"),
              pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss"),
              pytest.mark.filterwarnings("ignore:Using a target size"),
              pytest.mark.filterwarnings("ignore:dropout2d. Received a 3D input"),
              pytest.mark.filterwarnings("ignore:Default grid_sample and affine_grid behavior"),
              pytest.mark.filterwarnings("ignore:Since version 1.3.0, affine_grid behavior has changed"),
              pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")]

REDUCTIONS = ["mean", "sum", "none"]


def F(m):
    return m.nn.functional


def ints(values):
    return Const(np.array(values, dtype=np.int64))


def floats(values):
    return Const(np.array(values, dtype=np.float64))


# ---- signatures

# The Python-composed functions; each must have torch's signature.
COMPOSED = [
    # activations
    "celu", "celu_", "elu_", "glu", "gumbel_softmax", "hardshrink", "hardsigmoid", "hardswish", "hardtanh_",
    "leaky_relu_", "logsigmoid", "prelu", "relu6", "relu_", "rrelu", "rrelu_", "selu", "selu_", "softmin",
    "softshrink", "softsign", "tanhshrink", "threshold", "threshold_",
    # losses
    "cosine_embedding_loss", "ctc_loss", "gaussian_nll_loss", "hinge_embedding_loss", "huber_loss", "kl_div",
    "linear_cross_entropy", "margin_ranking_loss", "multi_margin_loss", "multilabel_margin_loss",
    "multilabel_soft_margin_loss", "poisson_nll_loss", "soft_margin_loss", "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
    # pooling
    "adaptive_avg_pool1d", "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d", "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d",
    "adaptive_max_pool3d_with_indices", "avg_pool1d", "avg_pool2d", "avg_pool3d", "fractional_max_pool2d",
    "fractional_max_pool2d_with_indices", "fractional_max_pool3d", "fractional_max_pool3d_with_indices", "lp_pool1d",
    "lp_pool2d", "lp_pool3d", "max_pool1d", "max_pool1d_with_indices", "max_pool2d", "max_pool2d_with_indices",
    "max_pool3d", "max_pool3d_with_indices", "max_unpool1d", "max_unpool2d", "max_unpool3d",
    # convolution
    "bilinear", "conv3d", "conv_tbc", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    # the rest
    "affine_grid", "alpha_dropout", "assert_int_or_pair", "boolean_dispatch", "channel_shuffle",
    "cosine_similarity", "dropout1d", "dropout2d", "dropout3d", "embedding_bag", "feature_alpha_dropout",
    "handle_torch_function", "has_torch_function", "has_torch_function_unary", "has_torch_function_variadic",
    "instance_norm", "local_response_norm", "native_channel_shuffle", "normalize", "pairwise_distance", "pdist",
    "pixel_shuffle", "pixel_unshuffle",
]

# torch's max_pool*, adaptive_max_pool* and fractional_max_pool* are (*args, **kwargs) dispatchers
# on return_indices; the signature a caller sees is that of the _with_indices variant.
DISPATCHED = {name: name + "_with_indices" for name in
              ["max_pool1d", "max_pool2d", "max_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
               "adaptive_max_pool3d", "fractional_max_pool2d", "fractional_max_pool3d"]}

# Builtins whose docstring does not open with their signature: their schema, as Python parses it.
SCHEMAS = {
    "conv_tbc": "(input, weight, bias, pad=0)",
    "rrelu_": "(input, lower=1./8, upper=1./3, training=False, generator=None)",  # the docstring omits generator
    "has_torch_function": "(relevant_args)",
    "has_torch_function_unary": "(input)",
    "has_torch_function_variadic": "(*args)",
}


def torch_signature(name):
    fn = getattr(torch.nn.functional, DISPATCHED.get(name, name))
    if name in SCHEMAS:
        text = SCHEMAS[name]
    else:
        try:
            return inspect.signature(fn)
        except ValueError:  # a builtin: its docstring opens with "name(params) -> Tensor"
            line = fn.__doc__.strip().splitlines()[0]
            match = re.match(r"\w+\((.*)\)\s*(->.*)?$", line)
            assert match, f"cannot read a signature from {line!r}"
            text = f"({match.group(1)})"
    scope = {}
    exec(f"def f{text}: pass", scope)  # noqa: S102  (torch's own docstring)
    return inspect.signature(scope["f"])


def test_composed_functions_cover_torch():
    public = [n for n in dir(torch.nn.functional) if not n.startswith("_")
              and inspect.isroutine(getattr(torch.nn.functional, n))]
    present = [n for n in public if hasattr(vt.nn.functional, n)]
    assert len(present) >= 0.9 * len(public), sorted(set(public) - set(present))
    assert all(hasattr(vt.nn.functional, n) for n in COMPOSED)


@pytest.mark.parametrize("name", COMPOSED)
def test_signature_matches_torch(name):
    expected = torch_signature(name)
    actual = inspect.signature(getattr(vt.nn.functional, name))
    describe = lambda sig: [(p.name, p.kind, p.default) for p in sig.parameters.values()]  # noqa: E731
    assert describe(actual) == describe(expected), f"{name}{actual} != torch's {name}{expected}"


# ---- activations

ACTIVATIONS = {
    "relu6": lambda m, x: F(m).relu6(x * 3),
    "hardsigmoid": lambda m, x: F(m).hardsigmoid(x * 2),
    "hardswish": lambda m, x: F(m).hardswish(x * 2),
    "selu": lambda m, x: F(m).selu(x),
    "celu": lambda m, x: F(m).celu(x),
    "celu_alpha": lambda m, x: F(m).celu(x, alpha=0.5),
    "celu_negative_alpha": lambda m, x: F(m).celu(x, -1.5),
    "celu_large": lambda m, x: F(m).celu(x * 60, 0.5),
    "glu": lambda m, x: F(m).glu(x),
    "glu_dim0": lambda m, x: F(m).glu(x, dim=0),
    "logsigmoid": lambda m, x: F(m).logsigmoid(x),
    "logsigmoid_large": lambda m, x: F(m).logsigmoid(x * 40),
    "softsign": lambda m, x: F(m).softsign(x),
    "tanhshrink": lambda m, x: F(m).tanhshrink(x),
    "softshrink": lambda m, x: F(m).softshrink(x),
    "softshrink_lambd": lambda m, x: F(m).softshrink(x, lambd=1.2),
    "softshrink_zero": lambda m, x: F(m).softshrink(x, 0),
    "hardshrink": lambda m, x: F(m).hardshrink(x),
    "hardshrink_lambd": lambda m, x: F(m).hardshrink(x, lambd=1.1),
    "threshold": lambda m, x: F(m).threshold(x, 0.3, -4.0),
    "softmin": lambda m, x: F(m).softmin(x, dim=1),
    "softmin_dim0": lambda m, x: F(m).softmin(x, 0),
    "softmin_dtype": lambda m, x: F(m).softmin(x, -1, dtype=m.float64),
    "rrelu_eval": lambda m, x: F(m).rrelu(x),
    "rrelu_bounds": lambda m, x: F(m).rrelu(x, 0.2, 0.5, training=False),
}


@pytest.mark.parametrize("shape", [(4, 6), (2, 4, 3, 2)])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation(name, shape):
    check(ACTIVATIONS[name], shape, low=-4.0, high=4.0)


def test_activation_0dim():
    for name in ["relu6", "selu", "celu", "logsigmoid", "softsign", "softshrink", "hardshrink", "hardswish"]:
        check(ACTIVATIONS[name], (), layouts=("contiguous",))


def test_activation_kinks():
    # Inputs sitting exactly on the kinks, where the gradient is a convention.
    kinks = np.array([-3.0, 3.0, 0.0, 6.0, -0.5, 0.5, 0.3, 1.0])
    for name in ["relu6", "hardsigmoid", "hardswish", "softshrink", "hardshrink", "threshold", "celu", "selu"]:
        fn = {"relu6": lambda m, x: F(m).relu6(x), "hardsigmoid": lambda m, x: F(m).hardsigmoid(x),
              "hardswish": lambda m, x: F(m).hardswish(x)}.get(name, ACTIVATIONS[name])
        check(lambda m, x, c: fn(m, x * 0 + c), (8,), Const(kinks), layouts=("contiguous",))


def test_activation_nan_passes_through():
    x = torch.tensor([float("nan"), -1.0, 0.2, 2.0])
    for name in ["softshrink", "hardshrink", "threshold", "relu6", "softsign", "tanhshrink", "selu", "celu"]:
        compare(lambda m, t: ACTIVATIONS[name](m, t), x)


def test_activation_integer_and_float16():
    compare(lambda m, x: F(m).threshold(x, 2, -7), make((3, 4), "int64"))
    compare(lambda m, x: F(m).hardshrink(x, 1.5), make((3, 4), "float16"), atol=1e-3, rtol=1e-3)


def test_prelu():
    check(lambda m, x, w: F(m).prelu(x, w), (2, 3, 4), (3,))
    check(lambda m, x, w: F(m).prelu(x, w), (2, 3, 2, 2), (1,))
    check(lambda m, x, w: F(m).prelu(x, w), (5,), (1,))
    check(lambda m, x, w: F(m).prelu(x, w), (4, 3), ())
    check(lambda m, x, w: F(m).prelu(x, w), (), (1,))


def test_glu_odd_and_scalar_errors():
    raises_like_torch(lambda m, x: F(m).glu(x, 1), make((3, 5)))
    raises_like_torch(lambda m, x: F(m).glu(x), make(()))


def test_activation_errors():
    raises_like_torch(lambda m, x: F(m).softshrink(x, -0.5), make((3,)))
    raises_like_torch(lambda m, x: F(m).celu(x, alpha=0.0), make((3,)))
    raises_like_torch(lambda m, x: F(m).rrelu(x, 0.5, 0.1), make((3,)))
    raises_like_torch(lambda m, x: F(m).rrelu(x, 0.5, 0.1, True), make((3,)))
    raises_like_torch(lambda m, x, w: F(m).prelu(x, w), make((2, 4)), make((3,)))
    raises_like_torch(lambda m, x, w: F(m).prelu(x, w), make((3,)), make((3,)))
    raises_like_torch(lambda m, x, w: F(m).prelu(x, w), make((2, 3)), make((1, 3)))


INPLACE = {
    "threshold_": lambda m, x: F(m).threshold_(x, 0.1, 20.0),
    "threshold_inplace": lambda m, x: F(m).threshold(x, 0.1, 20.0, inplace=True),
    "relu_": lambda m, x: F(m).relu_(x),
    "elu_": lambda m, x: F(m).elu_(x, 0.7),
    "leaky_relu_": lambda m, x: F(m).leaky_relu_(x, 0.2),
    "hardtanh_": lambda m, x: F(m).hardtanh_(x, -0.5, 1.5),
    "selu_": lambda m, x: F(m).selu_(x),
    "selu_inplace": lambda m, x: F(m).selu(x, True),
    "celu_": lambda m, x: F(m).celu_(x, 2.0),
    "celu_inplace": lambda m, x: F(m).celu(x, 2.0, inplace=True),
    "rrelu_": lambda m, x: F(m).rrelu_(x),
    "rrelu_inplace": lambda m, x: F(m).rrelu(x, 0.1, 0.2, False, True),
    "relu6_inplace": lambda m, x: F(m).relu6(x * 3, inplace=True),
    "hardswish_inplace": lambda m, x: F(m).hardswish(x * 2, inplace=True),
    "hardsigmoid_inplace": lambda m, x: F(m).hardsigmoid(x * 2, inplace=True),
}


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_activation(name):
    fn = INPLACE[name]
    # The input is written and returned (compare checks the inputs after the call too).
    actual, expected = compare(fn, make((3, 4)))
    # Gradients flow through the write into a non-leaf.
    check(lambda m, x: fn(m, x * 1) * 2, (3, 4), low=-3.0, high=3.0)


@pytest.mark.parametrize("name", ["threshold_", "relu_", "selu_", "celu_", "rrelu_", "hardswish", "hardsigmoid"])
def test_inplace_activation_on_leaf_requiring_grad_raises(name):
    fn = INPLACE.get(name, lambda m, x: getattr(F(m), name)(x, inplace=True))
    for m in (torch, vt):
        leaf = m.ones(3).requires_grad_()
        with pytest.raises(RuntimeError):
            fn(m, leaf)


def test_inplace_returns_input():
    x = vt.tensor([-1.0, 2.0])
    for name in ["threshold_", "relu_", "selu_", "celu_", "hardsigmoid_inplace"]:
        assert INPLACE[name](vt, x) is x or name == "hardsigmoid_inplace"


def test_rrelu_training():
    x = vt.tensor(np.linspace(-3, 3, 200), requires_grad=True)
    out = F(vt).rrelu(x, 0.1, 0.4, training=True)
    values, inputs = np.array(out.tolist()), np.array(x.tolist())
    negative = inputs < 0
    assert np.array_equal(values[~negative], inputs[~negative])
    slopes = values[negative] / inputs[negative]
    assert slopes.min() >= 0.1 and slopes.max() <= 0.4 and slopes.std() > 0.01
    out.sum().backward()
    grad = np.array(x.grad.tolist())
    assert np.allclose(grad[negative], slopes) and np.all(grad[~negative] == 1)
    # rrelu_ draws its slopes from the generator it is given.
    results = []
    for _ in range(2):
        generator = vt.Generator()
        generator.manual_seed(7)
        results.append(F(vt).rrelu_(vt.tensor([-1.0, -2.0, 3.0]), 0.2, 0.6, True, generator).tolist())
    assert results[0] == results[1] and 0.2 <= results[0][0] / -1.0 <= 0.6


@pytest.mark.parametrize("dim", [-1, 0])
def test_gumbel_softmax(dim):
    logits = vt.tensor(make((4, 5), "float64").numpy(), requires_grad=True)
    soft = F(vt).gumbel_softmax(logits, tau=0.5, dim=dim)
    assert tuple(soft.shape) == (4, 5) and soft.dtype == vt.float64
    assert np.allclose(np.array(soft.sum(dim).tolist()), 1)
    hard = F(vt).gumbel_softmax(logits, hard=True, dim=dim)
    values = np.array(hard.tolist())
    assert set(np.unique(values)) <= {0.0, 1.0} and np.all(values.sum(dim) == 1)
    (hard * vt.tensor(make((4, 5), "float64", seed=1).numpy())).sum().backward()
    # The straight-through gradient is softmax's, whose entries along `dim` sum to zero.
    grad = np.array(logits.grad.tolist())
    assert np.all(np.isfinite(grad)) and np.allclose(grad.sum(dim), 0) and np.abs(grad).max() > 0
    with pytest.warns(UserWarning, match="deprecated"):
        F(vt).gumbel_softmax(logits, eps=1e-5)


def test_gumbel_softmax_samples_follow_the_logits():
    logits = vt.tensor([[0.0, 3.0, -1.0]]).expand(4000, 3)
    counts = np.array(F(vt).gumbel_softmax(logits, hard=True).sum(0).tolist()) / 4000
    expected = np.exp([0.0, 3.0, -1.0]) / np.exp([0.0, 3.0, -1.0]).sum()
    assert np.allclose(counts, expected, atol=0.03)


# ---- losses

@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    def fn(m, x, y):
        target = y.log_softmax(-1) if log_target else y.softmax(-1)
        return F(m).kl_div(x.log_softmax(-1), target, reduction=reduction, log_target=log_target)
    check(fn, (3, 5), (3, 5))
    check(fn, (2, 3, 4), (2, 3, 4), layouts=("contiguous",))


def test_kl_div_zero_target_and_legacy():
    check(lambda m, x, t: F(m).kl_div(x, t, reduction="sum"), (2, 3), floats([[0, 0.5, 0.5], [1, 0, 0]]))
    check(lambda m, x, t: F(m).kl_div(x, t, size_average=False), (2, 3), floats([[0, 0.5, 0.5], [1, 0, 0]]))
    check(lambda m, x, y: F(m).kl_div(x, y.abs(), reduction="batchmean"), (), (), layouts=("contiguous",))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_poisson_nll_loss(reduction):
    # float32 counts: with float64 ones the float32 input's exp (1 ulp from torch's) would be
    # judged at float64's tolerance.
    counts = Const(np.random.default_rng(0).integers(0, 6, (3, 4)).astype(np.float32))
    check(lambda m, x, t: F(m).poisson_nll_loss(x, t, reduction=reduction), (3, 4), counts)
    check(lambda m, x, t: F(m).poisson_nll_loss(x, t, full=True, reduction=reduction), (3, 4), counts)
    check(lambda m, x, t: F(m).poisson_nll_loss(x.abs() + 0.1, t, log_input=False, reduction=reduction), (3, 4),
          counts)
    check(lambda m, x, t: F(m).poisson_nll_loss(x.abs(), t, False, True, eps=0.5, reduction=reduction), (3, 4),
          counts)
    check(lambda m, x, y: F(m).poisson_nll_loss(x, y.abs(), reduction=reduction), (3, 4), (3, 4))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll_loss(reduction, full):
    nll = lambda m, x, y, v, **kw: F(m).gaussian_nll_loss(x, y, v, full=full, reduction=reduction, **kw)  # noqa: E731
    check(lambda m, x, y, v: nll(m, x, y, v * v + 0.1), (3, 4), (3, 4), (3, 4))
    check(lambda m, x, y, v: nll(m, x, y, v.abs()), (3, 4), (3, 4), (3,))       # one variance per row
    check(lambda m, x, y, v: nll(m, x, y, v.abs()), (3, 4), (3, 4), (3, 1))
    check(lambda m, x, y, v: nll(m, x, y, v.abs()), (2, 3, 4), (2, 3, 4), (2, 1, 4), layouts=("contiguous",))
    check(lambda m, x, y: nll(m, x, y, 0.7), (3, 4), (3, 4))
    # Variances under eps are clamped, with the gradient passing as if they were not.
    check(lambda m, x, y, v: nll(m, x, y, v * (v > 0.5), eps=1e-3), (3, 4), (3, 4), (3, 4))


def test_gaussian_nll_loss_errors():
    x = make((3, 4))
    raises_like_torch(lambda m, a, v: F(m).gaussian_nll_loss(a, a, v), x, make((4, 3)))
    raises_like_torch(lambda m, a, v: F(m).gaussian_nll_loss(a, a, v), x, make((3, 4)) - 10)
    raises_like_torch(lambda m, a: F(m).gaussian_nll_loss(a, a, -1.0), x)
    raises_like_torch(lambda m, a: F(m).gaussian_nll_loss(a, a, 1.0, reduction="avg"), x)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_huber_loss(reduction):
    check(lambda m, x, y: F(m).huber_loss(x, y, reduction=reduction), (3, 4), (3, 4))
    check(lambda m, x, y: F(m).huber_loss(x, y, reduction, 0.3), (3, 4), (3, 4))
    check(lambda m, x, y, w: F(m).huber_loss(x, y, reduction=reduction, delta=2.0, weight=w), (3, 4), (3, 4), (3, 4))
    check(lambda m, x, y: F(m).huber_loss(x, y, reduction=reduction), (3, 4), (4,))
    check(lambda m, x, y: F(m).huber_loss(x, y * 0 + x.detach(), reduction=reduction), (5,), (5,))


def test_huber_loss_errors():
    raises_like_torch(lambda m, x: F(m).huber_loss(x, x, delta=0.0), make((3,)))
    raises_like_torch(lambda m, x, w: F(m).huber_loss(x, x, weight=w), make((3,)), make((2,)))
    raises_like_torch(lambda m, x: F(m).huber_loss(x, x, reduction="max"), make((3,)))


SIGNS = ints([[1, -1, -1, 1], [-1, 1, 1, 1], [1, 1, -1, -1]])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_losses(reduction):
    kw = dict(reduction=reduction)
    check(lambda m, x, t: F(m).soft_margin_loss(x, t, **kw), (3, 4), SIGNS)
    check(lambda m, x, t: F(m).soft_margin_loss(x, t, **kw), (3, 4), floats([1.0, -0.5, 2.0, -1.0]))
    check(lambda m, x, y, t: F(m).margin_ranking_loss(x, y, t, **kw), (3, 4), (3, 4), SIGNS)
    check(lambda m, x, y, t: F(m).margin_ranking_loss(x, y, t, 0.5, **kw), (3, 4), (3, 4), SIGNS)
    check(lambda m, x, t: F(m).hinge_embedding_loss(x, t, **kw), (3, 4), SIGNS)
    check(lambda m, x, t: F(m).hinge_embedding_loss(x, t, margin=0.3, **kw), (3, 4), SIGNS)
    check(lambda m, x, t: F(m).hinge_embedding_loss(x, t, **kw), (4,), ints([1, 0, -1, 2]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cosine_embedding_loss(reduction):
    check(lambda m, x, y, t: F(m).cosine_embedding_loss(x, y, t, reduction=reduction), (4, 5), (4, 5),
          ints([1, -1, 1, -1]))
    check(lambda m, x, y, t: F(m).cosine_embedding_loss(x, y, t, margin=0.3, reduction=reduction), (4, 5), (4, 5),
          floats([1, -1, -1, -1]))
    check(lambda m, x, y, t: F(m).cosine_embedding_loss(x, y, t, -0.2, reduction=reduction), (5,), (5,), ints(-1))
    check(lambda m, x, y, t: F(m).cosine_embedding_loss(x, y * 0, t, reduction=reduction), (2, 3), (2, 3),
          ints([1, -1]))


MULTILABEL = ints([[3, 0, -1, 1, 2], [1, 4, 2, -1, -1], [-1, 0, 1, 2, 3], [0, 1, 2, 3, 4]])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss(reduction):
    check(lambda m, x, t: F(m).multilabel_margin_loss(x, t, reduction=reduction), (4, 5), MULTILABEL)
    check(lambda m, x, t: F(m).multilabel_margin_loss(x, t, reduction=reduction), (5,), ints([2, 2, 4, -1, 0]))
    check(lambda m, x, t: F(m).multilabel_margin_loss(x, t, reduction=reduction), (), ints(0))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_soft_margin_loss(reduction):
    labels = floats(np.random.default_rng(1).integers(0, 2, (3, 5)))
    check(lambda m, x, t: F(m).multilabel_soft_margin_loss(x, t, reduction=reduction), (3, 5), labels)
    check(lambda m, x, y, w: F(m).multilabel_soft_margin_loss(x, y.sigmoid(), w, reduction=reduction), (3, 5), (3, 5),
          (5,))
    check(lambda m, x, y: F(m).multilabel_soft_margin_loss(x, y.sigmoid(), reduction=reduction), (5,), (5,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_loss(p, reduction):
    targets = ints([0, 3, 2, 3, 1])
    check(lambda m, x, t: F(m).multi_margin_loss(x, t, p, reduction=reduction), (5, 4), targets)
    check(lambda m, x, t: F(m).multi_margin_loss(x, t, p=p, margin=0.4, reduction=reduction), (5, 4), targets)
    check(lambda m, x, t, w: F(m).multi_margin_loss(x, t, p, 1.5, w.to(x.dtype), reduction=reduction), (5, 4), targets,
          floats([0.5, 2.0, 1.0, 1.5]))
    check(lambda m, x, t: F(m).multi_margin_loss(x, t, p, reduction=reduction), (4,), ints([2]))
    check(lambda m, x, t: F(m).multi_margin_loss(x, t, p, reduction=reduction), (4,), ints(1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2, 3, math.inf])
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_loss(p, swap, reduction):
    check(lambda m, a, b, c: F(m).triplet_margin_loss(a, b, c, p=p, swap=swap, reduction=reduction),
          (4, 5), (4, 5), (4, 5))
    check(lambda m, a, b, c: F(m).triplet_margin_loss(a, b, c, 0.5, p, 1e-3, swap, reduction=reduction),
          (5,), (5,), (5,), layouts=("contiguous",))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_with_distance_loss(swap, reduction):
    loss = lambda m, *args, **kw: F(m).triplet_margin_with_distance_loss(*args, swap=swap, reduction=reduction, **kw)
    check(lambda m, a, b, c: loss(m, a, b, c), (4, 5), (4, 5), (4, 5))
    cosine = lambda m: (lambda x, y: 1 - F(m).cosine_similarity(x, y))  # noqa: E731
    check(lambda m, a, b, c: loss(m, a, b, c, distance_function=cosine(m), margin=0.5), (4, 5), (4, 5), (4, 5))
    check(lambda m, a, b, c: loss(m, a, b, c, distance_function=F(m).pairwise_distance), (3, 5), (3, 5), (3, 5))


def test_triplet_errors():
    a = make((3, 4))
    for fn in (F(torch).triplet_margin_loss, F(torch).triplet_margin_with_distance_loss):
        name = fn.__name__
        raises_like_torch(lambda m, x, y: getattr(F(m), name)(x, x, y), a, make((4,)))
        raises_like_torch(lambda m, x: getattr(F(m), name)(x, x, x, margin=0.0), a)
        raises_like_torch(lambda m, x: getattr(F(m), name)(x, x, x, reduction="avg"), a)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_linear_cross_entropy(reduction):
    targets = ints([0, 2, 1, 2])
    kw = dict(reduction=reduction)
    check(lambda m, x, w, t: F(m).linear_cross_entropy(x, w, t, **kw), (4, 5), (3, 5), targets)
    check(lambda m, x, w, t, b: F(m).linear_cross_entropy(x, w, t, linear_bias=b, **kw), (4, 5), (3, 5), targets, (3,))
    check(lambda m, x, w, t, c: F(m).linear_cross_entropy(x, w, t, weight=c.to(x.dtype), label_smoothing=0.1, **kw),
          (4, 5), (3, 5), targets, floats([0.5, 2.0, 1.0]))
    check(lambda m, x, w, t: F(m).linear_cross_entropy(x, w, t, ignore_index=2, **kw), (4, 5), (3, 5), targets)
    check(lambda m, x, w, t: F(m).linear_cross_entropy(x, w, t.softmax(-1), **kw), (4, 5), (3, 5), (4, 3))
    check(lambda m, x, w, t, b: F(m).linear_cross_entropy(x, w, t, linear_bias=b, **kw), (4, 5), (3, 2, 5),
          ints([[0, 1], [2, 2], [1, 0], [0, 0]]), (3, 2))
    check(lambda m, x, w, t: F(m).linear_cross_entropy(x, w, t, **kw), (5,), (3, 5), ints(1))


def test_linear_cross_entropy_errors():
    x, w, t = make((4, 5)), make((3, 5)), torch.tensor([0, 1, 2, 0])
    raises_like_torch(lambda m, a, b, c: F(m).linear_cross_entropy(a, b, c), make((2, 4, 5)), w, t)
    raises_like_torch(lambda m, a, b, c: F(m).linear_cross_entropy(a, b, c), x, make((3, 4)), t)
    raises_like_torch(lambda m, a, b, c: F(m).linear_cross_entropy(a, b, c), x, make((5,)), t)
    raises_like_torch(lambda m, a, b, c, d: F(m).linear_cross_entropy(a, b, c, linear_bias=d), x, w, t, make((4,)))
    raises_like_torch(lambda m, a, b, c: F(m).linear_cross_entropy(a, b, c, ignore_index=1), x, w, make((4, 3)))


# Labels never equal the blank: for such targets torch's backward disagrees with its own loss.
CTC_TARGETS = ints([[1, 2, 2], [3, 1, 4], [4, 4, 1]])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ctc_loss(reduction):
    # Gradients are compared through log_softmax: torch's CTC backward returns the gradient with
    # respect to the logits folded in (it adds exp(log_probs), which log_softmax's backward
    # removes), not the derivative with respect to log_probs itself.
    def ctc(m, x, t, input_lengths, target_lengths, **kw):
        return F(m).ctc_loss(x.log_softmax(-1), t, input_lengths, target_lengths, reduction=reduction, **kw)
    check(lambda m, x, t: ctc(m, x, t, [6, 5, 6], [3, 2, 1]), (6, 3, 5), CTC_TARGETS)
    check(lambda m, x, t: ctc(m, x, t, (6, 2, 4), (3, 2, 0), blank=0), (6, 3, 5), CTC_TARGETS)
    check(lambda m, x, t: ctc(m, x, t, m.tensor([6, 6, 3]), m.tensor([3, 3, 2]), blank=0), (6, 3, 5), CTC_TARGETS)
    check(lambda m, x, t: ctc(m, x, t, [4, 6, 5], [2, 3, 3], blank=3), (6, 3, 5), ints([[1, 2, 2], [0, 1, 0], [4, 4, 1]]))
    # Targets concatenated into one vector.
    check(lambda m, x, t: ctc(m, x, t, [6, 6, 0], [3, 0, 0]), (6, 3, 5), ints([1, 2, 2]))
    check(lambda m, x, t: ctc(m, x, t, [5], [2]), (5, 4), ints([3, 3]))  # unbatched
    # Impossible alignments (1 2 2 needs 4 steps, 3 1 needs 2): an infinite loss, or 0 with
    # zero_infinity (and then a zero gradient).
    check(lambda m, x, t: ctc(m, x, t, [3, 1, 6], [3, 2, 1], zero_infinity=True), (6, 3, 5), CTC_TARGETS)
    compare(lambda m, x, t: ctc(m, x, t, [3, 1, 6], [3, 2, 1]), make((6, 3, 5)), torch.tensor([[1, 2, 2], [3, 1, 4],
                                                                                              [4, 4, 1]]))


CTC_ERRORS = {
    "input_length_too_long": lambda m, x, t: F(m).ctc_loss(x, t, [7, 6, 6], [3, 2, 1]),
    "input_length_negative": lambda m, x, t: F(m).ctc_loss(x, t, [6, -1, 6], [3, 2, 1]),
    "target_too_short": lambda m, x, t: F(m).ctc_loss(x, t, [6, 6, 6], [4, 2, 1]),
    "concatenated_size": lambda m, x, t: F(m).ctc_loss(x, t.reshape(-1), [6, 6, 6], [3, 2, 1]),
    "blank_range": lambda m, x, t: F(m).ctc_loss(x, t, [6, 6, 6], [3, 2, 1], blank=5),
    "batch_size": lambda m, x, t: F(m).ctc_loss(x, t, [6, 6], [3, 2]),
    "reduction": lambda m, x, t: F(m).ctc_loss(x, t, [6, 6, 6], [3, 2, 1], reduction="avg"),
    "half": lambda m, x, t: F(m).ctc_loss(x.half(), t, [6, 6, 6], [3, 2, 1]),
}


@pytest.mark.parametrize("name", CTC_ERRORS)
def test_ctc_loss_errors(name):
    raises_like_torch(CTC_ERRORS[name], make((6, 3, 5)).log_softmax(2), torch.tensor([[1, 2, 2], [3, 1, 0], [4, 4, 1]]))


LOSS_ERRORS = {
    "kl_div_reduction": lambda m, x: F(m).kl_div(x, x, reduction="bad"),
    "poisson_reduction": lambda m, x: F(m).poisson_nll_loss(x, x, reduction="x"),
    "soft_margin_reduction": lambda m, x: F(m).soft_margin_loss(x, x, reduction="x"),
    "soft_margin_shape": lambda m, x: F(m).soft_margin_loss(x, x[:, :3]),
    "multilabel_soft_margin_reduction": lambda m, x: F(m).multilabel_soft_margin_loss(x, x, reduction="x"),
    "margin_ranking_dims": lambda m, x: F(m).margin_ranking_loss(x, x, x[0]),
    "margin_ranking_reduction": lambda m, x: F(m).margin_ranking_loss(x, x, x, reduction="avg"),
    "hinge_reduction": lambda m, x: F(m).hinge_embedding_loss(x, x, reduction="avg"),
    "cosine_embedding_target_2d": lambda m, x: F(m).cosine_embedding_loss(x, x, x),
    "cosine_embedding_input_dims": lambda m, x: F(m).cosine_embedding_loss(x[0], x[0], x[:, 0]),
    "cosine_embedding_batch": lambda m, x: F(m).cosine_embedding_loss(x, x, x[0, :2].sign()),
    "multilabel_margin_target_shape": lambda m, x: F(m).multilabel_margin_loss(x, (x[:, :2] * 0).long()),
    "multilabel_margin_target_range": lambda m, x: F(m).multilabel_margin_loss(x, (x * 0 + 7).long()),
    "multilabel_margin_target_below": lambda m, x: F(m).multilabel_margin_loss(x, (x * 0 - 2).long()),
    "multilabel_margin_empty": lambda m, x: F(m).multilabel_margin_loss(x[:, :0], x[:, :0].long()),
    "multi_margin_p": lambda m, x: F(m).multi_margin_loss(x, x[:, 0].long() * 0, p=3),
    "multi_margin_weight_dims": lambda m, x: F(m).multi_margin_loss(x, x[:, 0].long() * 0, weight=x),
    "multi_margin_weight_size": lambda m, x: F(m).multi_margin_loss(x, x[:, 0].long() * 0, weight=x[0, :2]),
    "multi_margin_target_size": lambda m, x: F(m).multi_margin_loss(x, x[0].long() * 0),
    "multi_margin_target_range": lambda m, x: F(m).multi_margin_loss(x, x[:, 0].long() * 0 + 4),
    "multi_margin_reduction": lambda m, x: F(m).multi_margin_loss(x, x[:, 0].long() * 0, reduction="x"),
}


@pytest.mark.parametrize("name", LOSS_ERRORS)
def test_loss_errors(name):
    raises_like_torch(LOSS_ERRORS[name], make((3, 4)))


def test_legacy_reduction_flags():
    x, y, t = make((3, 4)), make((3, 4), seed=1), torch.tensor([1, -1, 1]).float()
    for size_average, reduce in [(False, None), (None, False), (True, True), (False, True)]:
        kw = dict(size_average=size_average, reduce=reduce)
        compare(lambda m, a, b: F(m).soft_margin_loss(a, b, **kw), x, y)
        compare(lambda m, a, b: F(m).poisson_nll_loss(a, b.abs(), **kw), x, y)
        compare(lambda m, a, b: F(m).multilabel_soft_margin_loss(a, b.sigmoid(), **kw), x, y)
        compare(lambda m, a, b, c: F(m).cosine_embedding_loss(a, b, c, **kw), x, y, t)
        compare(lambda m, a, b, c: F(m).triplet_margin_loss(a, b, c, **kw), x, y, x * 2)


# ---- distances

@pytest.mark.parametrize("p", [2.0, 1, 3, 0.5, math.inf])
def test_normalize(p):
    check(lambda m, x: F(m).normalize(x, p), (3, 4))
    check(lambda m, x: F(m).normalize(x, p=p, dim=0), (3, 4))
    check(lambda m, x: F(m).normalize(x, p, -1, eps=0.5), (2, 3, 4), layouts=("contiguous", "sliced"))


def test_normalize_zero_rows_and_out():
    # A zero vector stays zero, with a zero gradient (torch's norm has a zero gradient there).
    check(lambda m, x: F(m).normalize(x * (x > 0.5)), (4, 3), low=-1.0, high=1.0)
    out = make((3, 4)) * 0
    compare(lambda m, x, o: F(m).normalize(x, out=o), make((3, 4)), out)


def test_cosine_similarity():
    check(lambda m, x, y: F(m).cosine_similarity(x, y), (3, 4), (3, 4))
    check(lambda m, x, y: F(m).cosine_similarity(x, y, dim=0), (3, 4), (3, 4))
    check(lambda m, x, y: F(m).cosine_similarity(x, y, -1, eps=0.5), (2, 3, 4), (3, 4))
    check(lambda m, x, y: F(m).cosine_similarity(x, y, 1), (3, 1, 4), (3, 5, 1), layouts=("contiguous",))
    check(lambda m, x, y: F(m).cosine_similarity(x, y, 0), (4,), (4,))
    # A zero vector: the norm is clamped at eps outside autograd.
    check(lambda m, x, y: F(m).cosine_similarity(x * 0, y), (3, 4), (3, 4))
    check(lambda m, x, y: F(m).cosine_similarity(x * 1e-9, y), (3, 4), (3, 4))


def test_cosine_similarity_errors():
    raises_like_torch(lambda m, x, y: F(m).cosine_similarity(x, y), make((3, 4)), make((4, 3)))
    raises_like_torch(lambda m, x: F(m).cosine_similarity(x, x), make((3, 4), "int64"))


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, math.inf])
def test_pairwise_distance(p):
    check(lambda m, x, y: F(m).pairwise_distance(x, y, p), (3, 4), (3, 4))
    check(lambda m, x, y: F(m).pairwise_distance(x, y, p, keepdim=True), (3, 4), (4,))
    check(lambda m, x, y: F(m).pairwise_distance(x, y, p=p, eps=0.0), (2, 3, 4), (2, 3, 4), layouts=("contiguous",))
    check(lambda m, x, y: F(m).pairwise_distance(x, y, p), (4,), (4,))
    check(lambda m, x, y: F(m).pairwise_distance(x, y, p), (), (), layouts=("contiguous",))


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, math.inf])
def test_pdist(p):
    check(lambda m, x: F(m).pdist(x, p), (5, 3))
    check(lambda m, x: F(m).pdist(x, p=p), (1, 3), layouts=("contiguous",))
    # Repeated rows: a zero distance has a zero gradient.
    check(lambda m, x: F(m).pdist(m.cat([x, x[:1]]), p), (3, 2), layouts=("contiguous",))


def test_distance_with_a_zero_component_and_p_below_1():
    check(lambda m, x, c: F(m).pdist(x * c, 0.5), (3, 2), floats([[1, 0], [1, 0], [0, 1]]), layouts=("contiguous",))


def test_pdist_zero_norm_and_errors():
    compare(lambda m, x: F(m).pdist(x, 0), make((4, 3)))
    raises_like_torch(lambda m, x: F(m).pdist(x), make((2, 3, 4)))
    raises_like_torch(lambda m, x: F(m).pdist(x, -1), make((3, 4)))


# ---- channel rearrangements

def test_pixel_shuffle():
    check(lambda m, x: F(m).pixel_shuffle(x, 2), (2, 8, 3, 3))
    check(lambda m, x: F(m).pixel_shuffle(x, upscale_factor=3), (9, 2, 1), layouts=("contiguous", "sliced"))
    check(lambda m, x: F(m).pixel_shuffle(x, 1), (2, 3, 4, 2, 2), layouts=("contiguous",))
    check(lambda m, x: F(m).pixel_unshuffle(x, 2), (2, 3, 4, 6))
    check(lambda m, x: F(m).pixel_unshuffle(x, downscale_factor=2), (3, 2, 4, 2, 2), layouts=("contiguous",))
    compare(lambda m, x: F(m).pixel_unshuffle(F(m).pixel_shuffle(x, 2), 2), make((2, 8, 3, 3), "int64"))


def test_channel_shuffle():
    check(lambda m, x: F(m).channel_shuffle(x, 3), (2, 6, 4))
    check(lambda m, x: F(m).channel_shuffle(x, 2), (2, 4, 2, 3), layouts=("contiguous",))
    for fn in ("channel_shuffle", "native_channel_shuffle"):  # torch does not differentiate the native one
        compare(lambda m, x: getattr(F(m), fn)(x, 4), make((1, 8, 2), "int32"))
        compare(lambda m, x: getattr(F(m), fn)(x, 2), make((2, 4, 3, 2)))


def test_shuffle_errors():
    raises_like_torch(lambda m, x: F(m).pixel_shuffle(x, 2), make((8, 3)))
    raises_like_torch(lambda m, x: F(m).pixel_shuffle(x, 3), make((1, 8, 2, 2)))
    raises_like_torch(lambda m, x: F(m).pixel_shuffle(x, 0), make((1, 8, 2, 2)))
    raises_like_torch(lambda m, x: F(m).pixel_unshuffle(x, 2), make((1, 2, 3, 4)))
    raises_like_torch(lambda m, x: F(m).pixel_unshuffle(x, 2), make((1, 2, 4, 3)))
    raises_like_torch(lambda m, x: F(m).channel_shuffle(x, 4), make((1, 6, 2)))
    raises_like_torch(lambda m, x: F(m).channel_shuffle(x, 0), make((1, 6, 2)))
    raises_like_torch(lambda m, x: F(m).channel_shuffle(x, 2), make((1, 6)))


# ---- dropout variants

def _values(t):
    return np.array(t.detach().tolist(), dtype=np.float64)


@pytest.mark.parametrize("fn", ["alpha_dropout", "feature_alpha_dropout", "dropout1d", "dropout2d", "dropout3d"])
def test_dropout_variant_identity_cases(fn):
    shape = {"dropout1d": (3, 4, 5), "dropout3d": (2, 3, 2, 2, 2)}.get(fn, (2, 3, 4, 4))
    x = vt.tensor(make(shape).numpy())
    assert getattr(F(vt), fn)(x, 0.4, training=False) is x
    assert getattr(F(vt), fn)(x, 0.0, training=True) is x
    compare(lambda m, t: getattr(F(m), fn)(t, 1.0, True), make(shape))      # every unit dropped: zeros
    compare(lambda m, t: getattr(F(m), fn)(t, 1.0, True, True), make(shape))
    for p in (-0.1, 1.5):
        raises_like_torch(lambda m, t: getattr(F(m), fn)(t, p, True), make(shape))


@pytest.mark.parametrize("feature", [False, True])
def test_alpha_dropout(feature):
    p, alpha = 0.3, 1.7580993408473766
    a = 1 / math.sqrt((alpha ** 2 * p + 1) * (1 - p))
    fn = F(vt).feature_alpha_dropout if feature else F(vt).alpha_dropout
    x = vt.tensor(make((40, 30, 4), "float64").numpy(), requires_grad=True)
    out = fn(x, p, training=True)
    values, inputs = _values(out), _values(x)
    kept = np.isclose(values, a * inputs + alpha * a * p)
    dropped = np.isclose(values, -alpha * a * (1 - p))
    assert np.all(kept | dropped)
    assert abs(dropped.mean() - p) < 0.05
    if feature:  # whole channels share the mask
        assert np.all(kept.all(-1) | dropped.all(-1))
    out.sum().backward()
    assert np.allclose(_values(x.grad), np.where(kept, a, 0.0))
    # Self-normalizing: zero mean and unit variance survive.
    big = vt.tensor(np.random.default_rng(0).standard_normal(200000))
    y = _values(F(vt).alpha_dropout(big, 0.2, True))
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02


@pytest.mark.parametrize("fn, shape, channel_dims", [
    ("dropout1d", (6, 20, 5), 2), ("dropout1d", (20, 5), 1), ("dropout2d", (6, 20, 3, 3), 2),
    ("dropout2d", (6, 20, 5), 2), ("dropout3d", (6, 20, 2, 2, 2), 2), ("dropout3d", (20, 2, 3, 2), 1)])
def test_channel_dropout(fn, shape, channel_dims):
    p = 0.4
    x = vt.tensor(make(shape, "float64", low=0.5, high=2).numpy(), requires_grad=True)
    out = getattr(F(vt), fn)(x * 1, p)
    values, inputs = _values(out), _values(x)
    kept = np.isclose(values, inputs / (1 - p))
    assert np.all(kept | (values == 0))
    per_channel = kept.reshape(shape[:channel_dims] + (-1,))
    assert np.all(per_channel.all(-1) | ~per_channel.any(-1))
    assert 0.1 < 1 - per_channel.all(-1).mean() < 0.7
    out.sum().backward()
    assert np.allclose(_values(x.grad), np.where(kept, 1 / (1 - p), 0.0))


def test_channel_dropout_inplace_and_errors():
    x = vt.ones(4, 10, 3)
    y = x * 1
    assert F(vt).dropout1d(y, 0.5, inplace=True) is y
    assert set(np.unique(_values(y))) <= {0.0, 2.0}
    z = vt.ones(10, 3)
    assert F(vt).dropout1d(z, 0.5, inplace=True) is z and tuple(z.shape) == (10, 3)
    raises_like_torch(lambda m, t: F(m).dropout1d(t), make((2, 3, 4, 5)))
    with pytest.warns(UserWarning, match="dropout3d: Received a 3-D input"):
        F(vt).dropout3d(vt.ones(2, 3, 4))
    with pytest.warns(UserWarning, match="dropout2d: Received a 5-D input"):
        F(vt).dropout2d(vt.ones(2, 3, 4, 1, 1))
    with pytest.raises(RuntimeError):
        F(vt).feature_alpha_dropout(vt.ones(4), 0.5, True)


# ---- normalization

def test_instance_norm():
    check(lambda m, x: F(m).instance_norm(x), (2, 3, 5))
    check(lambda m, x, w, b: F(m).instance_norm(x, weight=w, bias=b, eps=1e-3), (2, 3, 4, 3), (3,), (3,))
    check(lambda m, x, w, b, mean, var: F(m).instance_norm(x, mean.to(x.dtype), var.to(x.dtype), w, b,
                                                           use_input_stats=False),
          (2, 3, 4), (3,), (3,), floats([0.1, -0.2, 0.3]), floats([1.0, 2.0, 0.5]))


def test_instance_norm_running_stats():
    x, mean, var = make((4, 3, 5), "float64"), torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    compare(lambda m, a, rm, rv: F(m).instance_norm(a, rm, rv, momentum=0.3), x, mean, var)
    compare(lambda m, a, rm, rv: F(m).instance_norm(a, rm, None, momentum=0.5), x, mean, var)
    raises_like_torch(lambda m, a: F(m).instance_norm(a), make((3, 2, 1, 1)))


@pytest.mark.parametrize("shape", [(2, 6, 5), (2, 6, 3, 3), (1, 5, 2, 2, 2)])
@pytest.mark.parametrize("size", [1, 3, 4])
def test_local_response_norm(shape, size):
    # torch views 5-d inputs, so it takes them contiguous only.
    layouts = ("contiguous", "transposed", "sliced") if len(shape) < 5 else ("contiguous",)
    check(lambda m, x: F(m).local_response_norm(x, size), shape, layouts=layouts)
    check(lambda m, x: F(m).local_response_norm(x, size, alpha=0.5, beta=0.6, k=2.0), shape, layouts=("contiguous",))


def test_local_response_norm_errors_and_empty():
    raises_like_torch(lambda m, x: F(m).local_response_norm(x, 2), make((3, 4)))
    compare(lambda m, x: F(m).local_response_norm(x, 2), make((0, 3, 4)))


# ---- embedding bags

BAG_INDICES = ints([1, 3, 0, 2, 2, 4, 1, 3, 0])


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag(mode):
    bag = lambda m, *args, **kw: F(m).embedding_bag(*args, mode=mode, **kw)  # noqa: E731
    check(lambda m, i, w, o: bag(m, i, w, o), BAG_INDICES, (5, 3), ints([0, 2, 2, 6]))  # an empty bag
    check(lambda m, i, w, o: bag(m, i, w, o, include_last_offset=True), BAG_INDICES, (5, 3), ints([0, 4, 9]))
    check(lambda m, i, w: bag(m, i, w), ints([[0, 1, 4], [2, 2, 3]]), (5, 4))
    check(lambda m, i, w, o: bag(m, i, w, o, padding_idx=2), BAG_INDICES, (5, 3), ints([0, 3, 5, 6]))
    check(lambda m, i, w, o: bag(m, i, w, o, padding_idx=-1), BAG_INDICES, (5, 3), ints([0, 3]))
    check(lambda m, i, w, o: bag(m, i, w, o), BAG_INDICES, (5, 3), ints([0]))


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_embedding_bag_scale_grad_by_freq(mode):
    # torch's own embedding_bag divides by miscounted frequencies on CPU (index 4 below, which
    # occurs once, gets half its gradient), so the reference is torch's embedding, whose
    # scale_grad_by_freq is right, summed per bag.
    def fn(m, i, w, o):
        if m is vt:
            return F(vt).embedding_bag(i, w, o, scale_grad_by_freq=True, mode=mode)
        rows = F(torch).embedding(i, w, scale_grad_by_freq=True)
        bag_of = torch.tensor([0, 0, 0, 0, 1, 2, 2, 2, 2])
        total = torch.zeros(3, w.shape[1], dtype=w.dtype).index_add(0, bag_of, rows)
        return total if mode == "sum" else total / torch.tensor([[4.0], [1.0], [4.0]], dtype=w.dtype)
    check(fn, BAG_INDICES, (5, 3), ints([0, 4, 5]))


def test_embedding_bag_per_sample_weights():
    check(lambda m, i, w, o, s: F(m).embedding_bag(i, w, o, mode="sum", per_sample_weights=s),
          BAG_INDICES, (5, 3), ints([0, 4, 5]), (9,))
    check(lambda m, i, w, s: F(m).embedding_bag(i, w, mode="sum", per_sample_weights=s, padding_idx=0),
          ints([[0, 1, 4], [2, 0, 3]]), (5, 4), (2, 3))
    compare(lambda m, i, w: F(m).embedding_bag(i, w, m.tensor([0, 2], dtype=i.dtype)), torch.tensor([1, 3, 4],
            dtype=torch.int32), make((5, 2)))


EMBEDDING_BAG_ERRORS = {
    "weight_dims": lambda m, i, w: F(m).embedding_bag(i, w[0], m.tensor([0])),
    "offsets_missing": lambda m, i, w: F(m).embedding_bag(i, w),
    "offsets_2d_input": lambda m, i, w: F(m).embedding_bag(i.view(3, 3), w, m.tensor([0])),
    "offsets_dims": lambda m, i, w: F(m).embedding_bag(i, w, m.tensor([[0]])),
    "input_dims": lambda m, i, w: F(m).embedding_bag(i.view(1, 3, 3), w),
    "mode": lambda m, i, w: F(m).embedding_bag(i, w, m.tensor([0]), mode="min"),
    "max_scale_grad": lambda m, i, w: F(m).embedding_bag(i, w, m.tensor([0]), mode="max", scale_grad_by_freq=True),
    "per_sample_mean": lambda m, i, w: F(m).embedding_bag(i, w, m.tensor([0]), per_sample_weights=i * 1.0),
    "per_sample_shape": lambda m, i, w: F(m).embedding_bag(i, w, m.tensor([0]), mode="sum",
                                                           per_sample_weights=w[0]),
    "first_offset": lambda m, i, w: F(m).embedding_bag(i, w, m.tensor([1, 2])),
    "last_offset": lambda m, i, w: F(m).embedding_bag(i, w, m.tensor([0, 12])),
    "index_range": lambda m, i, w: F(m).embedding_bag(i + 3, w, m.tensor([0])),
}


@pytest.mark.parametrize("name", EMBEDDING_BAG_ERRORS)
def test_embedding_bag_errors(name):
    raises_like_torch(EMBEDDING_BAG_ERRORS[name], torch.tensor([1, 3, 0, 2, 2, 4, 1, 3, 0]), make((5, 3)))


# ---- affine grids

@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid(align_corners):
    check(lambda m, t: F(m).affine_grid(t, [2, 3, 4, 5], align_corners=align_corners), (2, 2, 3))
    check(lambda m, t: F(m).affine_grid(t, (1, 1, 2, 3, 4), align_corners), (1, 3, 4), layouts=("contiguous",))
    check(lambda m, t: F(m).affine_grid(t, [1, 1, 1, 3], align_corners), (1, 2, 3), layouts=("contiguous",))


def test_affine_grid_errors():
    theta = make((2, 2, 3))
    raises_like_torch(lambda m, t: F(m).affine_grid(t, [2, 3, 4], align_corners=False), theta)
    raises_like_torch(lambda m, t: F(m).affine_grid(t, [2, 3, 4, 5, 6], align_corners=False), theta)
    raises_like_torch(lambda m, t: F(m).affine_grid(t, [2, 3, 0, 5], align_corners=False), theta)
    raises_like_torch(lambda m, t: F(m).affine_grid(t.long(), [2, 3, 4, 5], align_corners=False), theta)
    with pytest.warns(UserWarning, match="align_corners=False"):
        F(vt).affine_grid(to_vt(theta), [2, 3, 4, 5])


# ---- pooling

MAX_POOL_CASES = [  # (shape, kwargs, spatial dims)
    ((2, 3, 9), dict(kernel_size=3), 1),
    ((2, 3, 9), dict(kernel_size=2, stride=1, padding=1), 1),
    ((2, 3, 10), dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True), 1),
    ((3, 8), dict(kernel_size=(4,), stride=3, ceil_mode=True), 1),
    ((2, 3, 7, 6), dict(kernel_size=2), 2),
    ((2, 3, 7, 6), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), ceil_mode=True), 2),
    ((2, 3, 9, 8), dict(kernel_size=3, stride=2, padding=1, dilation=(2, 1)), 2),
    ((3, 5, 5), dict(kernel_size=2, stride=2, ceil_mode=True), 2),
    ((1, 2, 5, 4, 6), dict(kernel_size=2), 3),
    ((1, 2, 5, 5, 4), dict(kernel_size=(3, 2, 2), stride=(2, 1, 2), padding=(1, 0, 1), ceil_mode=True), 3),
    ((2, 4, 5, 3), dict(kernel_size=2, stride=1, dilation=(1, 2, 1)), 3),
]


@pytest.mark.parametrize("shape, kwargs, nd", MAX_POOL_CASES)
def test_max_pool(shape, kwargs, nd):
    name = f"max_pool{nd}d"
    check(lambda m, x: getattr(F(m), name)(x, **kwargs), shape)
    check(lambda m, x: getattr(F(m), name)(x, **kwargs, return_indices=True), shape, layouts=("contiguous",))
    check(lambda m, x: getattr(F(m), name + "_with_indices")(x, **kwargs), shape, layouts=("contiguous",))


def test_max_pool_positional_and_ties():
    check(lambda m, x: F(m).max_pool1d(x, 2, 1, 0, 1, False, True), (2, 2, 6), layouts=("contiguous",))
    check(lambda m, x: F(m).max_pool2d(x, 3, None, 1, 1, True, True), (1, 1, 5, 5), layouts=("contiguous",))
    # Ties: torch takes the first maximum in scan order, and the gradient goes there.
    check(lambda m, x, c: F(m).max_pool2d(x * 0 + c, 2, 1, return_indices=True), (1, 1, 3, 3),
          floats(np.array([[[[1, 1, 0], [1, 1, 1], [0, 1, 1]]]])), layouts=("contiguous",))
    compare(lambda m, x: F(m).max_pool2d(x, 2, ceil_mode=True, return_indices=True), make((2, 3, 5, 5), "int64"))


AVG_POOL_CASES = [
    ((2, 3, 9), dict(kernel_size=3), 1),
    ((2, 3, 9), dict(kernel_size=4, stride=2, padding=2), 1),
    ((2, 3, 10), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), 1),
    ((3, 10), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), 1),
    ((2, 3, 7, 6), dict(kernel_size=(3, 2), stride=2, padding=(1, 0), ceil_mode=True), 2),
    ((2, 3, 7, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), 2),
    ((2, 3, 7, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, divisor_override=5), 2),
    ((1, 2, 5, 4, 6), dict(kernel_size=2), 3),
    ((1, 2, 5, 5, 4), dict(kernel_size=(3, 2, 2), stride=(2, 1, 2), padding=(1, 0, 1), ceil_mode=True), 3),
    ((1, 2, 5, 5, 4), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), 3),
    ((2, 5, 4, 3), dict(kernel_size=2, padding=1, divisor_override=3), 3),
]


@pytest.mark.parametrize("shape, kwargs, nd", AVG_POOL_CASES)
def test_avg_pool(shape, kwargs, nd):
    check(lambda m, x: getattr(F(m), f"avg_pool{nd}d")(x, **kwargs), shape)


POOL_ERRORS = {
    "kernel_zero": lambda m, x: F(m).max_pool1d(x, 0),
    "stride_zero": lambda m, x: F(m).max_pool1d(x, 2, stride=0),
    "dilation_zero": lambda m, x: F(m).max_pool1d(x, 2, dilation=0),
    "padding_negative": lambda m, x: F(m).max_pool1d(x, 2, padding=-1),
    "padding_too_big": lambda m, x: F(m).max_pool1d(x, 3, padding=2),
    "padding_too_big_3d": lambda m, x: F(m).max_pool3d(x.view(1, 2, 3, 3, 1), 3, padding=2),
    "avg_padding_too_big": lambda m, x: F(m).avg_pool1d(x, 3, padding=2),
    "kernel_too_big": lambda m, x: F(m).max_pool1d(x, 12),
    "avg_kernel_too_big": lambda m, x: F(m).avg_pool1d(x, 12),
    "kernel_tuple_length": lambda m, x: F(m).max_pool2d(x, (2, 2, 2), ceil_mode=True),
    "input_dims": lambda m, x: F(m).max_pool1d(x[0, 0], 2),
    "input_dims_3d": lambda m, x: F(m).avg_pool3d(x, 2),
    "divisor_zero": lambda m, x: F(m).avg_pool3d(x.view(1, 2, 3, 3, 1), 1, divisor_override=0),
    "lp_input_dims": lambda m, x: F(m).lp_pool3d(x, 2, 2),
}


@pytest.mark.parametrize("name", POOL_ERRORS)
def test_pool_errors(name):
    raises_like_torch(POOL_ERRORS[name], make((1, 2, 9)))


ADAPTIVE_CASES = [((2, 3, 9), 4, 1), ((3, 7), (3,), 1), ((2, 3, 8), 4, 1), ((2, 3, 5), 7, 1),
                  ((2, 3, 7, 6), (3, 4), 2), ((3, 6, 6), 3, 2), ((2, 3, 7, 6), (None, 4), 2), ((1, 2, 5), (2, 2), 2),
                  ((1, 2, 5, 4, 6), (2, 3, 4), 3), ((2, 5, 3, 4), 2, 3), ((1, 2, 4, 4, 4), (None, 2, None), 3)]


@pytest.mark.parametrize("shape, size, nd", ADAPTIVE_CASES)
def test_adaptive_pool(shape, size, nd):
    check(lambda m, x: getattr(F(m), f"adaptive_max_pool{nd}d")(x, size), shape)
    check(lambda m, x: getattr(F(m), f"adaptive_max_pool{nd}d")(x, size, return_indices=True), shape,
          layouts=("contiguous",))
    check(lambda m, x: getattr(F(m), f"adaptive_max_pool{nd}d_with_indices")(x, size), shape, layouts=("contiguous",))
    if nd == 2 and isinstance(size, tuple) and None in size:
        pytest.xfail("adaptive_avg_pool2d (bound from C++) rejects None in output_size with a TypeError")
    check(lambda m, x: getattr(F(m), f"adaptive_avg_pool{nd}d")(x, size), shape)


def test_adaptive_pool_errors():
    raises_like_torch(lambda m, x: F(m).adaptive_max_pool2d(x, (2, 2, 2)), make((1, 2, 4, 4)))
    raises_like_torch(lambda m, x: F(m).adaptive_max_pool1d(x, 2), make((4,)))
    raises_like_torch(lambda m, x: F(m).adaptive_avg_pool3d(x, 2), make((2, 4, 4)))
    raises_like_torch(lambda m, x: F(m).adaptive_max_pool3d(x, 2), make((1, 2, 0, 4, 4)))
    raises_like_torch(lambda m, x: F(m).adaptive_avg_pool1d(x, (2, 2, 2)), make((2, 4)))


@pytest.mark.parametrize("norm_type", [2, 3, 1.5, math.inf])
def test_lp_pool(norm_type):
    positive = norm_type == 1.5  # a fractional power of a negative number is NaN
    low, high = (0.1, 2.0) if positive else (-2.0, 2.0)
    check(lambda m, x: F(m).lp_pool1d(x, norm_type, 3), (2, 3, 9), low=low, high=high)
    check(lambda m, x: F(m).lp_pool1d(x, norm_type, 2, stride=3, ceil_mode=True), (2, 10), low=low, high=high)
    check(lambda m, x: F(m).lp_pool2d(x, norm_type, 2), (2, 3, 6, 4), low=low, high=high)
    check(lambda m, x: F(m).lp_pool2d(x, norm_type, (3, 2), 2, True), (2, 3, 7, 5), low=low, high=high,
          layouts=("contiguous",))
    check(lambda m, x: F(m).lp_pool3d(x, norm_type, 2), (1, 2, 4, 4, 3), low=low, high=high, layouts=("contiguous",))
    check(lambda m, x: F(m).lp_pool3d(x, norm_type, (2, 1, 2), stride=1), (2, 3, 3, 4), low=low, high=high,
          layouts=("contiguous",))


FRACTIONAL_SAMPLES = np.array([[[0.1, 0.7], [0.95, 0.0], [0.5, 0.33]], [[0.25, 0.8], [0.6, 0.45], [0.05, 0.99]]])


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=2, output_size=3), dict(kernel_size=(3, 2), output_size=(4, 5)),
    dict(kernel_size=2, output_ratio=(0.5, 0.5)), dict(kernel_size=3, output_size=(1, 6)),
    dict(kernel_size=(1, 3), output_size=(9, 2))])
def test_fractional_max_pool2d(kwargs):
    samples = Const(FRACTIONAL_SAMPLES)
    pool = lambda m, x, u, **kw: F(m).fractional_max_pool2d(x, **kwargs, _random_samples=u.to(x.dtype), **kw)  # noqa
    check(lambda m, x, u: pool(m, x, u), (2, 3, 9, 8), samples)
    check(lambda m, x, u: pool(m, x, u, return_indices=True), (2, 3, 9, 8), samples, layouts=("contiguous",))
    check(lambda m, x, u: F(m).fractional_max_pool2d_with_indices(x, **kwargs, _random_samples=u.to(x.dtype)),
          (3, 9, 8), Const(FRACTIONAL_SAMPLES[:1]), layouts=("contiguous",))


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2, output_size=(4, 3, 2)),
                                    dict(kernel_size=(2, 3, 1), output_size=(3, 2, 3)),
                                    dict(kernel_size=1, output_ratio=(0.5, 0.7, 0.6))])
def test_fractional_max_pool3d(kwargs):
    samples = Const(np.random.default_rng(3).uniform(0, 1, (2, 2, 3)))
    check(lambda m, x, u: F(m).fractional_max_pool3d(x, **kwargs, _random_samples=u.to(x.dtype)), (2, 2, 6, 5, 4),
          samples)
    check(lambda m, x, u: F(m).fractional_max_pool3d(x, **kwargs, return_indices=True, _random_samples=u.to(x.dtype)),
          (2, 2, 6, 5, 4), samples, layouts=("contiguous",))
    check(lambda m, x, u: F(m).fractional_max_pool3d_with_indices(x, **kwargs, _random_samples=u.to(x.dtype)),
          (2, 6, 5, 4), Const(np.random.default_rng(3).uniform(0, 1, (1, 2, 3))), layouts=("contiguous",))


def test_fractional_max_pool_random_samples_and_errors():
    x = vt.tensor(make((2, 3, 9, 8)).numpy())
    values, indices = F(vt).fractional_max_pool2d(x, 2, output_size=(4, 3), return_indices=True)
    assert tuple(values.shape) == (2, 3, 4, 3) and indices.dtype == vt.int64
    flat = np.array(x.reshape(2, 3, -1).tolist())
    picked = np.take_along_axis(flat, np.array(indices.reshape(2, 3, -1).tolist()), -1)
    assert np.array_equal(picked, np.array(values.reshape(2, 3, -1).tolist()))
    assert tuple(F(vt).fractional_max_pool3d(vt.ones(2, 4, 4, 4), 2, output_ratio=0.5).shape) == (2, 2, 2, 2)
    raises_like_torch(lambda m, t: F(m).fractional_max_pool2d(t, 2), make((1, 2, 6, 6)))
    raises_like_torch(lambda m, t: F(m).fractional_max_pool2d(t, 3, output_size=5), make((1, 2, 6, 6)))
    raises_like_torch(lambda m, t: F(m).fractional_max_pool2d(t, 2, output_ratio=(0.5, 0.5, 0.5)), make((1, 2, 6, 6)))
    raises_like_torch(lambda m, t, u: F(m).fractional_max_pool2d(t, 2, 3, _random_samples=u), make((1, 2, 6, 6)),
                      make((1, 3, 2)))


@pytest.mark.parametrize("nd, shape, kwargs", [
    (1, (2, 3, 8), dict(kernel_size=2)), (1, (3, 9), dict(kernel_size=3, stride=2, padding=1)),
    (2, (2, 3, 6, 4), dict(kernel_size=2)), (2, (2, 3, 7, 5), dict(kernel_size=3, stride=2, padding=1)),
    (3, (1, 2, 4, 4, 6), dict(kernel_size=2)), (3, (2, 5, 4, 3), dict(kernel_size=(1, 2, 3), stride=(1, 2, 1)))])
def test_max_unpool(nd, shape, kwargs):
    pool, unpool = f"max_pool{nd}d", f"max_unpool{nd}d"

    def roundtrip(m, x, **kw):
        values, indices = getattr(F(m), pool)(x, **kwargs, return_indices=True)
        return getattr(F(m), unpool)(values, indices, **kwargs, **kw)

    check(roundtrip, shape)
    default = list(roundtrip(torch, torch.zeros(shape)).shape)
    stride = kwargs.get("stride", kwargs["kernel_size"])
    stride = stride if isinstance(stride, tuple) else (stride,) * nd
    bigger = [size + s - 1 for size, s in zip(default[-nd:], stride)]  # the largest size torch allows
    check(lambda m, x: roundtrip(m, x, output_size=bigger), shape, layouts=("contiguous",))
    if len(shape) == nd + 2:
        check(lambda m, x: roundtrip(m, x, output_size=default[:2] + bigger), shape, layouts=("contiguous",))


def test_max_unpool_errors():
    values, indices = F(torch).max_pool2d(make((1, 2, 4, 4)), 2, return_indices=True)
    unpool = lambda m, v, i, **kw: F(m).max_unpool2d(v, i, 2, **kw)  # noqa: E731
    raises_like_torch(lambda m, v, i: unpool(m, v, i, output_size=(9, 9)), values, indices)
    raises_like_torch(lambda m, v, i: unpool(m, v, i, output_size=(4,)), values, indices)
    raises_like_torch(lambda m, v, i: unpool(m, v, i), values, indices + 100)
    raises_like_torch(lambda m, v, i: unpool(m, v, i), values, indices[..., :1])


# ---- convolution

CONV3D_CASES = [
    ((2, 3, 5, 4, 6), (4, 3, 2, 2, 3), {}),
    ((2, 4, 5, 4, 6), (6, 2, 3, 1, 2), dict(stride=(2, 1, 2), padding=1, groups=2)),
    ((1, 2, 6, 5, 5), (3, 2, 2, 2, 2), dict(dilation=(2, 1, 2), padding=(1, 0, 2))),
    ((2, 5, 4, 5), (3, 2, 3, 3, 3), dict(padding="same")),
    ((1, 2, 6, 5, 5), (2, 2, 2, 3, 2), dict(padding="same", dilation=(1, 2, 3))),
    ((1, 2, 4, 5, 3), (2, 2, 3, 2, 2), dict(padding="valid", stride=1)),
]


@pytest.mark.parametrize("x_shape, w_shape, kwargs", CONV3D_CASES)
def test_conv3d(x_shape, w_shape, kwargs):
    check(lambda m, x, w: F(m).conv3d(x, w, **kwargs), x_shape, w_shape)
    check(lambda m, x, w, b: F(m).conv3d(x, w, b, **kwargs), x_shape, w_shape, (w_shape[0],), layouts=("contiguous",))


CONV_TRANSPOSE_CASES = [
    (1, (2, 3, 5), (3, 4, 3), {}),
    (1, (2, 4, 5), (4, 2, 3), dict(stride=2, padding=1, output_padding=1, groups=2)),
    (1, (3, 6), (3, 2, 2), dict(stride=3, dilation=2, padding=2, output_padding=2)),
    (2, (2, 3, 4, 5), (3, 2, 3, 2), {}),
    (2, (2, 4, 3, 4), (4, 3, 3, 3), dict(stride=(2, 3), padding=(1, 2), output_padding=(1, 0), groups=2)),
    (2, (1, 2, 4, 3), (2, 2, 2, 3), dict(stride=2, dilation=(2, 1), padding=(0, 1))),
    (2, (3, 4, 4), (3, 1, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    (3, (1, 2, 3, 4, 3), (2, 3, 2, 2, 3), {}),
    (3, (2, 4, 3, 2, 3), (4, 1, 3, 2, 2), dict(stride=(2, 1, 3), padding=(1, 0, 1), output_padding=(1, 0, 2),
                                              groups=2, dilation=(1, 2, 1))),
]


@pytest.mark.parametrize("nd, x_shape, w_shape, kwargs", CONV_TRANSPOSE_CASES)
def test_conv_transpose(nd, x_shape, w_shape, kwargs):
    name = f"conv_transpose{nd}d"
    check(lambda m, x, w: getattr(F(m), name)(x, w, **kwargs), x_shape, w_shape)
    out_channels = w_shape[1] * kwargs.get("groups", 1)
    check(lambda m, x, w, b: getattr(F(m), name)(x, w, b, **kwargs), x_shape, w_shape, (out_channels,),
          layouts=("contiguous",))


def test_conv_transpose_positional():
    check(lambda m, x, w, b: F(m).conv_transpose2d(x, w, b, 2, 1, 1, 1, 2), (1, 2, 3, 3), (2, 3, 3, 3), (3,),
          layouts=("contiguous",))


CONV_ERRORS = {
    "conv3d_weight_dims": lambda m, x: F(m).conv3d(x, x[0]),
    "conv3d_channels": lambda m, x: F(m).conv3d(x, m.ones(2, 3, 1, 1, 1)),
    "conv3d_groups": lambda m, x: F(m).conv3d(x, m.ones(2, 1, 1, 1, 1), groups=3),
    "conv3d_same_strided": lambda m, x: F(m).conv3d(x, m.ones(2, 2, 1, 1, 1), padding="same", stride=2),
    "conv3d_padding_name": lambda m, x: F(m).conv3d(x, m.ones(2, 2, 1, 1, 1), padding="full"),
    "conv3d_kernel_too_big": lambda m, x: F(m).conv3d(x, m.ones(2, 2, 5, 1, 1)),
    "conv3d_input_dims": lambda m, x: F(m).conv3d(x[0, 0], m.ones(2, 2, 1, 1, 1)),
    "transpose_channels": lambda m, x: F(m).conv_transpose3d(x, m.ones(3, 2, 1, 1, 1)),
    "transpose_output_padding": lambda m, x: F(m).conv_transpose3d(x, m.ones(2, 2, 1, 1, 1), output_padding=1),
    "transpose_weight_dims": lambda m, x: F(m).conv_transpose2d(x, m.ones(2, 2, 1)),
    "transpose_groups": lambda m, x: F(m).conv_transpose3d(x, m.ones(2, 2, 1, 1, 1), groups=0),
}


@pytest.mark.parametrize("name", CONV_ERRORS)
def test_conv_errors(name):
    raises_like_torch(CONV_ERRORS[name], make((1, 2, 3, 3, 3)))


def test_conv_tbc():
    # torch views its inputs, so it takes them contiguous only.
    check(lambda m, x, w, b: F(m).conv_tbc(x, w, b), (7, 2, 3), (3, 3, 4), (4,), layouts=("contiguous",))
    check(lambda m, x, w, b: F(m).conv_tbc(x, w, b, pad=2), (5, 3, 2), (2, 2, 3), (3,), layouts=("contiguous",))
    check(lambda m, x, w, b: F(m).conv_tbc(x, w, b, 1), (4, 1, 2), (3, 2, 2), (2,), layouts=("contiguous",))
    x, w, b = make((5, 2, 3)), make((2, 3, 4)), make((4,))
    raises_like_torch(lambda m, x, w, b: F(m).conv_tbc(x[0], w, b), x, w, b)
    raises_like_torch(lambda m, x, w, b: F(m).conv_tbc(x, w[0], b), x, w, b)
    raises_like_torch(lambda m, x, w, b: F(m).conv_tbc(x, w, b[:3]), x, w, b)
    raises_like_torch(lambda m, x, w, b: F(m).conv_tbc(x[..., :2], w, b), x, w, b)


def test_bilinear():
    check(lambda m, x, y, w: F(m).bilinear(x, y, w), (4, 3), (4, 5), (2, 3, 5))
    check(lambda m, x, y, w, b: F(m).bilinear(x, y, w, b), (2, 4, 3), (2, 4, 5), (6, 3, 5), (6,),
          layouts=("contiguous", "sliced"))
    check(lambda m, x, y, w, b: F(m).bilinear(x, y, w, bias=b), (3,), (2,), (4, 3, 2), (4,), layouts=("contiguous",))
    x, y, w = make((4, 3)), make((4, 5)), make((2, 3, 5))
    raises_like_torch(lambda m, a, b, c: F(m).bilinear(a, b[0], c), x, y, w)
    raises_like_torch(lambda m, a, b, c: F(m).bilinear(a, b[:3], c), x, y, w)
    raises_like_torch(lambda m, a, b, c: F(m).bilinear(a, b, c[:, :2]), x, y, w)
    raises_like_torch(lambda m, a, b, c: F(m).bilinear(a, b, c[:, :, :2]), x, y, w)
    raises_like_torch(lambda m, a, b, c: F(m).bilinear(a, b, c, c[0, 0]), x, y, w)


# ---- empty batches

EMPTY_BATCH = {
    "max_pool1d": lambda m, x: F(m).max_pool1d(x, 2, return_indices=True),
    "max_pool2d_ceil": lambda m, x: F(m).max_pool2d(x[..., None].expand(0, 3, 6, 4), 2, ceil_mode=True,
                                                    return_indices=True),
    "avg_pool1d": lambda m, x: F(m).avg_pool1d(x, 2, ceil_mode=True),
    "max_pool3d": lambda m, x: F(m).max_pool3d(x[..., None, None].expand(0, 3, 6, 2, 2), 2),
    "avg_pool3d": lambda m, x: F(m).avg_pool3d(x[..., None, None].expand(0, 3, 6, 2, 2), 2),
    "adaptive_max_pool1d": lambda m, x: F(m).adaptive_max_pool1d(x, 4, return_indices=True),
    "adaptive_avg_pool3d": lambda m, x: F(m).adaptive_avg_pool3d(x[..., None, None].expand(0, 3, 6, 2, 2), 3),
    "lp_pool1d": lambda m, x: F(m).lp_pool1d(x, 2, 2),
    "fractional_max_pool2d": lambda m, x: F(m).fractional_max_pool2d(x[..., None].expand(0, 3, 6, 6), 2, 3),
    "max_unpool1d": lambda m, x: F(m).max_unpool1d(*F(m).max_pool1d(x, 2, return_indices=True), 2),
    "conv3d": lambda m, x: F(m).conv3d(x[..., None, None].expand(0, 3, 6, 2, 2), m.ones(2, 3, 1, 1, 1)),
    "conv_transpose1d": lambda m, x: F(m).conv_transpose1d(x, m.ones(3, 2, 2), stride=2),
    "instance_norm": lambda m, x: F(m).instance_norm(x),
    "local_response_norm": lambda m, x: F(m).local_response_norm(x, 2),
    "channel_shuffle": lambda m, x: F(m).channel_shuffle(x, 3),
    "cosine_similarity": lambda m, x: F(m).cosine_similarity(x, x),
    "kl_div": lambda m, x: F(m).kl_div(x, x, reduction="batchmean"),
    "multilabel_soft_margin_loss": lambda m, x: F(m).multilabel_soft_margin_loss(x, x, reduction="none"),
    "embedding_bag": lambda m, x: F(m).embedding_bag(m.zeros(0, 3, dtype=m.int64), m.ones(4, 2)),
    "affine_grid": lambda m, x: F(m).affine_grid(m.zeros(0, 2, 3), [0, 1, 2, 2], False),
}


@pytest.mark.parametrize("name", EMPTY_BATCH)
def test_empty_batch(name):
    compare(EMPTY_BATCH[name], make((0, 3, 6)))


# ---- torch's dispatch helpers

def test_torch_function_helpers():
    x = vt.ones(2)
    for m in (torch, vt):
        assert F(m).has_torch_function((x, 1, None)) is False
        assert F(m).has_torch_function_unary(x) is False
        assert F(m).has_torch_function_variadic(x, x, None) is False

    class Wrapped:
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return ("handled", func.__name__, args, kwargs)

    w = Wrapped()
    assert F(vt).has_torch_function((x, w)) and F(vt).has_torch_function_unary(w)
    assert F(vt).has_torch_function_variadic(x, w)
    assert F(vt).handle_torch_function(F(vt).relu6, (w,), w, inplace=True) == ("handled", "relu6", (w,),
                                                                                {"inplace": True})


def test_boolean_dispatch_and_assert_int_or_pair():
    for m in (torch, vt):
        fn = F(m).boolean_dispatch("flag", 1, False, lambda a, flag=False: ("yes", a),
                                   lambda a, flag=False: ("no", a), "mod", "fn")
        assert fn(1) == ("no", 1) and fn(1, True) == ("yes", 1) and fn(2, flag=True) == ("yes", 2)
        assert fn.__name__ == "fn" and fn.__module__ == "mod"
        F(m).assert_int_or_pair(3, "kernel", "{} bad")
        F(m).assert_int_or_pair((3, 2), "kernel", "{} bad")
        with pytest.raises(AssertionError, match="kernel bad"):
            F(m).assert_int_or_pair((3, 2, 1), "kernel", "{} bad")
