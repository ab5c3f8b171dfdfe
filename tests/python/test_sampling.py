"""F.interpolate, F.unfold/F.fold, pooling with ceil_mode and multinomial against torch."""
import numpy as np
import pytest
import torch

import vibetensor as vt
from helpers import same_error_type

RNG = np.random.default_rng(3)
IMG = RNG.standard_normal((2, 3, 5, 7)).astype(np.float32)
SEQ = RNG.standard_normal((2, 3, 6)).astype(np.float32)
VOL = RNG.standard_normal((1, 2, 3, 4, 5)).astype(np.float32)

INTERPOLATE = {
    "nearest_scale": (IMG, dict(scale_factor=2)),
    "nearest_size": (IMG, dict(size=(8, 9))),
    "nearest_downscale": (IMG, dict(size=(2, 3))),
    "nearest_exact": (IMG, dict(scale_factor=1.7, mode="nearest-exact")),
    "bilinear": (IMG, dict(size=(3, 11), mode="bilinear")),
    "bilinear_align_corners": (IMG, dict(size=(9, 4), mode="bilinear", align_corners=True)),
    "bilinear_scales": (IMG, dict(scale_factor=(0.5, 2.5), mode="bilinear")),
    "bilinear_recompute": (IMG, dict(scale_factor=1.3, mode="bilinear", recompute_scale_factor=True)),
    "area": (IMG, dict(size=(2, 3), mode="area")),
    "linear": (SEQ, dict(scale_factor=1.5, mode="linear")),
    "nearest_1d": (SEQ, dict(size=4)),
    "trilinear": (VOL, dict(size=(5, 3, 7), mode="trilinear")),
    "nearest_3d": (VOL, dict(scale_factor=2)),
}


@pytest.mark.parametrize("name", INTERPOLATE)
def test_interpolate(name):
    data, kwargs = INTERPOLATE[name]
    expected = torch.nn.functional.interpolate(torch.tensor(data), **kwargs)
    actual = vt.nn.functional.interpolate(vt.tensor(data), **kwargs)
    assert tuple(actual.shape) == tuple(expected.shape)
    np.testing.assert_allclose(actual.numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_interpolate_gradient(mode):
    grads = []
    for m in (torch, vt):
        x = m.tensor(IMG.astype(np.float64), requires_grad=True)
        y = m.nn.functional.interpolate(x, size=(8, 4), mode=mode)
        (y * y).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-10)


UNFOLD = [dict(kernel_size=2), dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
          dict(kernel_size=3, padding=(0, 2), stride=2)]


@pytest.mark.parametrize("kwargs", UNFOLD)
def test_unfold_and_fold(kwargs):
    cols_t = torch.nn.functional.unfold(torch.tensor(IMG), **kwargs)
    cols_v = vt.nn.functional.unfold(vt.tensor(IMG), **kwargs)
    np.testing.assert_allclose(cols_v.numpy(), cols_t.numpy())
    back_t = torch.nn.functional.fold(cols_t, (5, 7), **kwargs)
    back_v = vt.nn.functional.fold(cols_v, (5, 7), **kwargs)
    np.testing.assert_allclose(back_v.numpy(), back_t.numpy(), rtol=1e-6, atol=1e-6)


POOL = [dict(kernel_size=3, stride=2, ceil_mode=True), dict(kernel_size=2, stride=3, padding=1, ceil_mode=True),
        dict(kernel_size=(3, 2), stride=(2, 3), ceil_mode=True), dict(kernel_size=3, stride=2, padding=1,
                                                                       ceil_mode=True, count_include_pad=False)]


@pytest.mark.parametrize("kwargs", POOL)
@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d"])
def test_pool_ceil_mode(op, kwargs):
    kwargs = dict(kwargs)
    if op == "max_pool2d":
        kwargs.pop("count_include_pad", None)
    expected = getattr(torch.nn.functional, op)(torch.tensor(IMG), **kwargs)
    actual = getattr(vt.nn.functional, op)(vt.tensor(IMG), **kwargs)
    assert tuple(actual.shape) == tuple(expected.shape)
    np.testing.assert_allclose(actual.numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)


def test_multinomial_frequencies_and_seed():
    probs = vt.tensor([[0.1, 0.0, 0.6, 0.3], [1.0, 1.0, 1.0, 1.0]])
    vt.manual_seed(0)
    draws = vt.multinomial(probs, 20000, replacement=True)
    for row, p in enumerate([[0.1, 0.0, 0.6, 0.3], [0.25] * 4]):
        freq = draws[row].bincount(minlength=4).double() / 20000
        np.testing.assert_allclose(freq.numpy(), p, atol=0.015)
    vt.manual_seed(0)
    assert (vt.multinomial(probs, 20000, replacement=True) == draws).all()


def test_multinomial_without_replacement():
    probs = vt.tensor([0.05, 0.0, 0.9, 0.05])
    first = [0, 0, 0, 0]
    vt.manual_seed(1)
    for _ in range(400):
        sample = vt.multinomial(probs, 3).tolist()
        assert sorted(sample) == [0, 2, 3]  # distinct, never the zero-probability category
        first[sample[0]] += 1
    assert first[2] > 300  # the heavy category is usually drawn first


MULTINOMIAL_ERRORS = {
    "too_many": lambda m: m.multinomial(m.tensor([0.5, 0.5]), 3),
    "negative": lambda m: m.multinomial(m.tensor([0.5, -0.5]), 1),
    "zero_sum": lambda m: m.multinomial(m.tensor([0.0, 0.0]), 1, replacement=True),
    "zero_samples": lambda m: m.multinomial(m.tensor([0.5, 0.5]), 0),
    "three_dims": lambda m: m.multinomial(m.ones(1, 1, 2), 1),
}


@pytest.mark.parametrize("name", MULTINOMIAL_ERRORS)
def test_multinomial_errors(name):
    same_error_type(MULTINOMIAL_ERRORS[name])
