"""Sorting, selection, scans, products and counting against torch on the same inputs:
values, indices, dtypes, gradients and errors."""
import numpy as np
import pytest
import torch

import vibetensor as vt
from helpers import same_error_type

RNG = np.random.default_rng(1)
X = RNG.permutation(60).reshape(3, 4, 5).astype(np.float32) / 7 - 4  # distinct values: indices are unique
WITH_NAN = X.copy()
WITH_NAN[0, 1, 2] = np.nan
WITH_NAN[2, 3, :] = np.nan
WITH_ZEROS = np.round(X).astype(np.float64)
INTS = RNG.integers(-5, 5, (4, 6)).astype(np.int32)

CASES = {
    "sort": lambda m: m.sort(m.tensor(X)),
    "sort_dim0_descending": lambda m: m.tensor(X).sort(0, descending=True),
    "sort_nan": lambda m: m.sort(m.tensor(WITH_NAN), dim=-1),
    "sort_nan_descending": lambda m: m.sort(m.tensor(WITH_NAN), dim=1, descending=True),
    "sort_stable_ties": lambda m: m.sort(m.tensor(INTS), dim=1, stable=True),
    "sort_zero_dim": lambda m: m.sort(m.tensor(3.0)),
    "sort_empty": lambda m: m.sort(m.zeros(2, 0)),
    "sort_non_contiguous": lambda m: m.tensor(X).transpose(0, 2).sort(1),
    "argsort": lambda m: m.argsort(m.tensor(X), dim=1, descending=True),
    "msort": lambda m: m.msort(m.tensor(X)),
    "topk": lambda m: m.topk(m.tensor(X), 3),
    "topk_smallest_dim0": lambda m: m.tensor(X).topk(2, dim=0, largest=False),
    "kthvalue": lambda m: m.kthvalue(m.tensor(X), 2, 1),
    "kthvalue_keepdim": lambda m: m.tensor(X).kthvalue(5, -1, keepdim=True),
    "median_all": lambda m: m.median(m.tensor(X)),
    "median_dim": lambda m: m.tensor(X).median(1),
    "median_even_keepdim": lambda m: m.median(m.tensor(X), 1, keepdim=True),
    "median_nan": lambda m: m.tensor(WITH_NAN).median(2),
    "median_all_nan": lambda m: m.median(m.tensor(WITH_NAN)),
    "nanmedian": lambda m: m.nanmedian(m.tensor(WITH_NAN), 2),
    "nanmedian_all": lambda m: m.tensor(WITH_NAN).nanmedian(),
    "median_int": lambda m: m.tensor(INTS).median(0),
    "searchsorted": lambda m: m.searchsorted(m.tensor([1.0, 3.0, 5.0, 7.0]), m.tensor([[3.0, 6.0, 9.0], [0.0, 1.0, 7.0]])),
    "searchsorted_right": lambda m: m.searchsorted(m.tensor([1, 3, 3, 7]), m.tensor([3, 4]), right=True),
    "searchsorted_side_int32": lambda m: m.searchsorted(m.tensor([1, 3, 3, 7]), m.tensor([3]), side="right", out_int32=True),
    "searchsorted_rows": lambda m: m.searchsorted(m.tensor([[1, 3, 5], [2, 4, 6]]), m.tensor([[4], [4]])),
    "searchsorted_sorter": lambda m: m.searchsorted(m.tensor([5, 1, 3]), m.tensor([2, 4]), sorter=m.tensor([1, 2, 0])),
    "searchsorted_promotes": lambda m: m.searchsorted(m.tensor([1, 2]), m.tensor([1.5])),
    "median_empty": lambda m: m.median(m.zeros(0)),
    "searchsorted_scalar": lambda m: m.searchsorted(m.tensor([1.0, 3.0]), 2.0),
    "bucketize": lambda m: m.bucketize(m.tensor(X), m.tensor([-2.0, 0.0, 2.0])),
    "bincount": lambda m: m.bincount(m.tensor([0, 1, 1, 3, 1])),
    "bincount_weights_minlength": lambda m: m.bincount(m.tensor([0, 1, 1]), weights=m.tensor([0.5, 1.0, 2.0]),
                                                       minlength=5),
    "bincount_empty": lambda m: m.bincount(m.tensor([], dtype=m.int64), minlength=2),
    # (X + 0.01: X's values sit exactly on these bin edges, where rounding decides the bin)
    "histc": lambda m: m.histc(m.tensor(X + 0.01), bins=7, min=-3, max=3),
    "histc_auto_range": lambda m: m.tensor(X).histc(5),
    "unique": lambda m: m.unique(m.tensor(INTS)),
    "unique_inverse_counts": lambda m: m.unique(m.tensor(INTS), return_inverse=True, return_counts=True),
    "unique_method_counts": lambda m: m.tensor(np.round(X)).unique(return_counts=True),
    "unique_consecutive": lambda m: m.unique_consecutive(m.tensor([1, 1, 2, 2, 3, 1, 1, 2]), return_inverse=True,
                                                         return_counts=True),
    "cumsum": lambda m: m.cumsum(m.tensor(X), 1),
    "cumsum_int32_promotes": lambda m: m.tensor(INTS).cumsum(-1),
    "cumsum_bool": lambda m: m.cumsum(m.tensor(INTS) > 0, 0),
    "cumsum_dtype": lambda m: m.cumsum(m.tensor(INTS), 1, dtype=m.float64),
    "cumsum_zero_dim": lambda m: m.cumsum(m.tensor(2.5), 0),
    "cumsum_non_contiguous": lambda m: m.tensor(X).transpose(0, 2).cumsum(0),
    "cumprod": lambda m: m.cumprod(m.tensor(X) / 4, 2),
    "cumprod_int": lambda m: m.tensor(INTS).cumprod(0),
    "prod_all": lambda m: m.prod(m.tensor(X[0, :2]) / 3),
    "prod_dim": lambda m: m.tensor(X).prod(1) ,
    "prod_keepdim_dtype": lambda m: m.prod(m.tensor(INTS), 1, keepdim=True, dtype=m.float64),
    "prod_int32": lambda m: m.tensor(INTS[:, :3]).prod(),
    "prod_bool": lambda m: (m.tensor(INTS) > -6).prod(0),
    "prod_empty": lambda m: m.zeros(0, 3).prod(0),
}


def flatten(result):
    if isinstance(result, (tuple, list)):
        return [x for r in result for x in flatten(r)]
    return [result]


def check_same(actual, expected):
    actual, expected = flatten(actual), flatten(expected)
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        assert tuple(a.shape) == tuple(e.shape)
        assert str(a.dtype).split(".")[1] == str(e.dtype).split(".")[1]
        np.testing.assert_allclose(np.array(a.tolist(), dtype=np.float64), np.array(e.tolist(), dtype=np.float64),
                                   rtol=1e-5, atol=1e-6, equal_nan=True)


@pytest.mark.parametrize("name", CASES)
def test_matches_torch(name):
    check_same(CASES[name](vt), CASES[name](torch))


def test_named_fields():
    result = vt.sort(vt.tensor([2.0, 1.0]))
    assert result.values.tolist() == [1.0, 2.0] and result.indices.tolist() == [1, 0]
    assert vt.topk(vt.tensor([2.0, 1.0]), 1).indices.tolist() == [0]
    assert vt.tensor([[1.0, 5.0, 3.0]]).median(1).indices.tolist() == [2]


GRADS = {
    "sort": lambda m, x: (m.sort(x, 1).values * m.arange(5.0)).sum(),
    "topk": lambda m, x: (x.topk(2, 0).values ** 2).sum(),
    "kthvalue": lambda m, x: m.kthvalue(x, 3, 2).values.sum(),
    "median": lambda m, x: x.median() * 3,
    "median_dim": lambda m, x: m.median(x, 1).values.sum(),
    "cumsum": lambda m, x: (m.cumsum(x, 1) * m.arange(4.0)[:, None]).sum(),
    "cumprod": lambda m, x: (x.cumprod(2) * m.arange(5.0)).sum(),
    "cumprod_zeros": lambda m, x: (m.round(x).cumprod(1) + x.cumprod(0)).sum(),
    "prod": lambda m, x: x.prod(1).sum(),
    "prod_all_one_zero": lambda m, x: (x - x[0, 0, 0]).prod(),
    "prod_two_zeros": lambda m, x: (x * (m.arange(60.0).reshape(3, 4, 5) % 7 != 0)).prod(2).sum(),
}


# The selections (kthvalue, median) pick one of equal elements as torch does only when there are
# no ties, so they run on distinct values; the products run on values with zeros.
DISTINCT_INPUT = {"kthvalue", "median", "median_dim", "sort", "topk"}


@pytest.mark.parametrize("name", GRADS)
def test_gradient_matches_torch(name):
    grads = []
    for m in (torch, vt):
        x = m.tensor(X.astype(np.float64) if name in DISTINCT_INPUT else WITH_ZEROS / 2, requires_grad=True)
        GRADS[name](m, x).backward()
        grads.append(np.array(x.grad.tolist()))
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-6, atol=1e-8)


ERRORS = {
    "topk_k_too_big": lambda m: m.topk(m.zeros(3), 4),
    "kthvalue_zero": lambda m: m.kthvalue(m.zeros(3), 0),
    "sort_bad_dim": lambda m: m.sort(m.zeros(3), 1),
    "searchsorted_side": lambda m: m.searchsorted(m.tensor([1, 2]), m.tensor([1]), side="middle"),
    "searchsorted_shape": lambda m: m.searchsorted(m.zeros(2, 3), m.zeros(3, 1)),
    "bincount_negative": lambda m: m.bincount(m.tensor([-1, 2])),
    "bincount_float": lambda m: m.bincount(m.tensor([1.0])),
    "histc_int": lambda m: m.histc(m.tensor([1, 2])),
    "histc_range": lambda m: m.histc(m.tensor([1.0]), min=2, max=1),
    "cumsum_bad_dim": lambda m: m.cumsum(m.zeros(2), 1),
    "prod_bad_dim": lambda m: m.zeros(2).prod(2),
}


@pytest.mark.parametrize("name", ERRORS)
def test_error_type_matches_torch(name):
    same_error_type(ERRORS[name])
