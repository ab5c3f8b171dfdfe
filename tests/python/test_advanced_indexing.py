"""Advanced indexing (tensors of positions and boolean masks in `t[...]` and `t[...] = v`) and
the ops built on it, against torch on the same inputs: shapes, values, gradients, errors."""
import numpy as np
import pytest
import torch

import vibetensor as vt
from helpers import same_error_type

RNG = np.random.default_rng(0)
X = RNG.standard_normal((5, 6, 7)).astype(np.float32)

GET = {
    "positions": lambda m, x: x[m.tensor([1, 2, 3, 4])],
    "int_then_positions": lambda m, x: x[0, :, m.tensor([1, 2, 3, 4])],
    "positions_then_int": lambda m, x: x[m.tensor([1, 2, 3, 4]), :, 0],
    "separated_by_none": lambda m, x: x[m.tensor([1, 2, 3, 4]), None, m.tensor([1, 2, 3, 4])],
    "ellipsis_negative": lambda m, x: x[..., m.tensor([1, -2])],
    "true": lambda m, x: x[True],
    "false": lambda m, x: x[False],
    "list": lambda m, x: x[[0, 1]],
    "two_lists": lambda m, x: x[[0, 1], [1, 2]],
    "mask": lambda m, x: x[x > 0],
    "int_and_mask": lambda m, x: x[0, x[0] > 0],
    "broadcast_positions": lambda m, x: x[:, [[0], [2]], [1, 2, 3]],
    "slice_and_mask": lambda m, x: x[1:3, m.tensor([True, False, True, True, False, True])],
    "int32_positions": lambda m, x: x[m.tensor([4, 0], dtype=m.int32)],
    "non_contiguous": lambda m, x: x.transpose(0, 2)[[1, 3], 2:],
    "empty_positions": lambda m, x: x[m.tensor([], dtype=m.int64)],
    "zero_dim_source": lambda m, x: x[0, 0, 0][None][[0, 0]],
    "masked_select": lambda m, x: x.masked_select(x > 0.5),
    "masked_select_broadcast": lambda m, x: m.masked_select(x[0, 0], x[:, :1, :] > 0),
    "take": lambda m, x: x.take(m.tensor([[0, 5], [-1, 7]])),
    "take_along_dim": lambda m, x: m.take_along_dim(x, x.argmax(dim=2, keepdim=True), dim=2),
    "take_along_dim_flat": lambda m, x: m.take_along_dim(x, m.tensor([3, 200])),
    "nonzero": lambda m, x: (x > 0).nonzero(),
    "nonzero_zero_dim": lambda m, x: m.nonzero(x[0, 0, 0] != 0),
    "argwhere": lambda m, x: m.argwhere(x > 1),
    "scatter_src": lambda m, x: x.scatter(1, m.tensor([[[0, 1, 2]] * 6] * 5)[:, :2], x[:, :2, :3]),
    "scatter_value": lambda m, x: x.scatter(1, m.tensor([[[0, 1, 2]] * 6] * 5)[:, :2], 3.5),
    "scatter_add_reduce": lambda m, x: x.scatter(1, m.tensor([[[0, 1, 2]] * 6] * 5)[:, :2], x, reduce="add"),
    "scatter_reduce_amax": lambda m, x: m.zeros(5, 3, 7).scatter_reduce(1, (x.abs() * 3).long().clamp(0, 2), x,
                                                                         "amax", include_self=False),
    "scatter_reduce_amin": lambda m, x: m.zeros(5, 3, 7).scatter_reduce(1, (x.abs() * 3).long().clamp(0, 2), x, "amin"),
    "scatter_reduce_mean": lambda m, x: m.zeros(5, 3, 7).scatter_reduce(1, (x.abs() * 3).long().clamp(0, 2), x, "mean"),
    "scatter_reduce_mean_int": lambda m, x: m.zeros(5, 3, 7, dtype=m.int64).scatter_reduce(
        1, (x.abs() * 3).long().clamp(0, 2), (x * 10).long(), "mean", include_self=False),
    "scatter_reduce_prod": lambda m, x: m.ones(5, 3, 7).scatter_reduce(1, (x.abs() * 3).long().clamp(0, 2), x, "prod"),
    "index_fill": lambda m, x: x.index_fill(1, m.tensor([0, 3]), -1.0),
    "index_fill_tensor": lambda m, x: m.index_fill(x, -1, m.tensor([6]), m.tensor(2.0)),
    "index_copy": lambda m, x: x.index_copy(0, m.tensor([4, 0]), x[:2] * 2),
    "masked_scatter": lambda m, x: x.masked_scatter(x > 0, x * 10),
    "index_put": lambda m, x: x.index_put((m.tensor([0, 1]), m.tensor([2, 3])), m.tensor(9.0)),
    "index_put_accumulate": lambda m, x: x.index_put((m.tensor([0, 0]), m.tensor([2, 2])), m.ones(7), accumulate=True),
    "index_put_mask": lambda m, x: m.index_put(x, (x > 0,), m.tensor(0.0)),
}


def run_both(fn):
    expected, actual = fn(torch, torch.tensor(X)), fn(vt, vt.tensor(X))
    assert tuple(actual.shape) == tuple(expected.shape)
    assert str(actual.dtype).split(".")[1] == str(expected.dtype).split(".")[1]
    np.testing.assert_allclose(actual.numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", GET)
def test_get(name):
    run_both(GET[name])


def assign(key, value):
    def fn(m, x):
        x = x.clone()
        x[key(m, x)] = value(m, x)
        return x
    return fn


SET = {
    "mask_number": assign(lambda m, x: x > 0, lambda m, x: 0.0),
    "positions_slice_positions": assign(lambda m, x: (m.tensor([0, 1]), slice(None), m.tensor([1, 2])),
                                        lambda m, x: m.ones(6)),
    "int_positions_int_value": assign(lambda m, x: (0, m.tensor([1, 2])), lambda m, x: 5),
    "list_from_view": assign(lambda m, x: (slice(None), [0, 2]), lambda m, x: x[:, [1, 3]] * 2),
    "basic_float64_value_cast": assign(lambda m, x: (1, slice(2, 4)), lambda m, x: m.ones(7, dtype=m.float64)),
    "true": assign(lambda m, x: True, lambda m, x: 2.0),
}


@pytest.mark.parametrize("name", SET)
def test_set(name):
    run_both(SET[name])


def test_set_writes_through_views_of_the_base():
    for m in (torch, vt):
        base = m.zeros(3, 4)
        base[1:][base[1:] == 0] = 7.0
        assert base.sum().item() == 56.0


GRADS = {
    "repeated_positions": lambda m, x: (x[[0, 2, 0], [1, 1, 1]] * m.tensor([1.0, 2.0, 3.0])).sum(),
    "mask": lambda m, x: (x[x > 4] ** 2).sum(),
    "setitem_value": None,  # see test_setitem_value_gets_gradient
    "scatter_reduce_amax_ties": lambda m, x: m.zeros(2, 4, dtype=m.float64).scatter_reduce(
        0, m.tensor([[0, 1, 0, 1]]), x[:1].round(), "amax").sum(),
    "take_along_dim": lambda m, x: m.take_along_dim(x, m.tensor([[0, 0], [3, 1], [2, 2]]), dim=1).pow(2).sum(),
}


@pytest.mark.parametrize("name", [n for n in GRADS if GRADS[n]])
def test_gradient_matches_torch(name):
    grads = []
    for m in (torch, vt):
        x = m.tensor(np.arange(12.0).reshape(3, 4) + 1, requires_grad=True)
        GRADS[name](m, x).backward()
        grads.append(np.array(x.grad.tolist()))
    np.testing.assert_allclose(grads[1], grads[0])


def test_setitem_value_gets_gradient():
    grads = []
    for m in (torch, vt):
        v = m.tensor([1.0, 2.0], requires_grad=True)
        x = m.zeros(3, 2)
        x[m.tensor([0, 2])] = v * 3
        (x * m.tensor([[1.0], [2.0], [3.0]])).sum().backward()
        grads.append(v.grad.tolist())
    assert grads[0] == grads[1]


ERRORS = {
    "float_positions": lambda m: m.zeros(5, 6)[m.tensor([1.0])],
    "out_of_bounds": lambda m: m.zeros(5, 6)[m.tensor([9])],
    "negative_out_of_bounds": lambda m: m.zeros(5, 6)[:, m.tensor([-7])],
    "not_broadcastable": lambda m: m.zeros(5, 6)[m.tensor([1, 2]), m.tensor([1, 2, 3])],
    "mask_shape": lambda m: m.zeros(5, 6)[m.ones(3, dtype=m.bool)],
    "too_many": lambda m: m.zeros(5)[m.tensor([0]), m.tensor([0])],
    "put_shape": lambda m: m.zeros(5, 6).index_put_((m.tensor([0, 1]),), m.ones(3)),
    "put_dtype": lambda m: m.zeros(5, 6).index_put_((m.tensor([0, 1]),), m.ones(6, dtype=m.float64)),
    "scatter_reduce_name": lambda m: m.zeros(3).scatter_reduce(0, m.tensor([0]), m.ones(1), "maximum"),
    "scatter_out_of_bounds": lambda m: m.zeros(3).scatter(0, m.tensor([3]), m.ones(1)),
    "index_copy_count": lambda m: m.zeros(3, 2).index_copy(0, m.tensor([0, 1]), m.ones(3, 2)),
    "masked_scatter_short_source": lambda m: m.zeros(4).masked_scatter(m.ones(4, dtype=m.bool), m.ones(2)),
    "take_empty": lambda m: m.zeros(0).take(m.tensor([0])),
    "take_along_dim_rank": lambda m: m.take_along_dim(m.zeros(3, 2), m.tensor([0]), dim=0),
    "str_index": lambda m: m.zeros(3)["a"],
    "set_dtype_mismatch": lambda m: m.zeros(5, 6).__setitem__([1, 3], m.ones(6, dtype=m.float64)),
}


@pytest.mark.parametrize("name", ERRORS)
def test_error_type_matches_torch(name):
    same_error_type(ERRORS[name])
