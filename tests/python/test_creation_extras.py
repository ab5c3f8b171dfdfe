"""as_tensor, linspace/logspace, Tensor.new_*, Tensor.data, randint's keyword forms, compile and
the matmul-precision setting, against torch."""
import numpy as np
import pytest
import torch

import vibetensor as vt


@pytest.mark.parametrize("args", [(0, 1, 5), (-3, 7, 11), (0, 1, 1), (2, 2, 0), (0, 10, 4), (1.5, -2.5, 9)])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_linspace_matches_torch_exactly(args, dtype):
    expected = torch.linspace(*args, dtype=getattr(torch, dtype))
    actual = vt.linspace(*args, dtype=getattr(vt, dtype))
    assert actual.dtype == getattr(vt, dtype)
    np.testing.assert_array_equal(actual.numpy(), expected.numpy())


def test_logspace():
    np.testing.assert_allclose(vt.logspace(-1, 2, 4, base=2.0).numpy(), torch.logspace(-1, 2, 4, base=2.0).numpy())


def test_linspace_negative_steps_raises():
    with pytest.raises(RuntimeError):
        vt.linspace(0, 1, -1)


def test_as_tensor_shares_memory_with_numpy_and_tensors():
    a = np.ones(3)
    t = vt.as_tensor(a)
    a[0] = 5
    assert t.tolist() == [5.0, 1.0, 1.0]
    x = vt.ones(2)
    assert vt.as_tensor(x) is x
    assert vt.as_tensor(x, dtype=vt.float64).dtype == vt.float64
    assert vt.as_tensor([1, 2]).dtype == vt.int64


@pytest.mark.parametrize("call", [
    lambda m, t: t.new_zeros(2, 3), lambda m, t: t.new_zeros((2, 3), dtype=m.int64), lambda m, t: t.new_ones(4),
    lambda m, t: t.new_full((2,), 7.0), lambda m, t: t.new_tensor([1, 2]), lambda m, t: t.new_empty(3).shape,
])
def test_new_methods(call):
    expected, actual = call(torch, torch.ones(2, dtype=torch.float64)), call(vt, vt.ones(2, dtype=vt.float64))
    if isinstance(expected, torch.Tensor):
        assert str(actual.dtype).split(".")[1] == str(expected.dtype).split(".")[1]
        np.testing.assert_array_equal(actual.numpy(), expected.numpy())
    else:
        assert tuple(actual) == tuple(expected)


def test_data_has_no_history_and_shares_storage():
    x = vt.ones(3, requires_grad=True)
    d = x.data
    assert not d.requires_grad and d.grad_fn is None
    d.mul_(2)
    assert x.tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("call", [
    lambda m: m.randint(10, (3,)), lambda m: m.randint(10, size=(3,)), lambda m: m.randint(2, 10, size=(2, 2)),
    lambda m: m.randint(low=2, high=3, size=(2,)), lambda m: m.randint(5, (2,), dtype=m.int32),
])
def test_randint_forms(call):
    expected, actual = call(torch), call(vt)
    assert tuple(actual.shape) == tuple(expected.shape)
    assert str(actual.dtype).split(".")[1] == str(expected.dtype).split(".")[1]


def test_randint_low_high_range():
    values = vt.randint(low=2, high=4, size=(1000,))
    assert values.min().item() == 2 and values.max().item() == 3


def test_numpy_force():
    x = vt.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError):
        x.numpy()
    assert x.numpy(force=True).tolist() == [1.0, 1.0]


def test_compile_returns_the_callable():
    fn = lambda x: x * 2  # noqa: E731
    assert vt.compile(fn) is fn
    assert vt.compile(mode="max-autotune")(fn) is fn


def test_float32_matmul_precision():
    vt.set_float32_matmul_precision("high")
    assert vt.get_float32_matmul_precision() == "high"
    vt.set_float32_matmul_precision("highest")
    with pytest.raises(RuntimeError):
        vt.set_float32_matmul_precision("fast")
