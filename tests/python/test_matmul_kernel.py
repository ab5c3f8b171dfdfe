"""The float32 matrix multiply (src/cpu/sgemm.cpp on AVX-512 CPUs for the shapes it takes,
OpenBLAS for the others; the sizes below reach both) against a float64 reference: shapes that end in partial register tiles and cross the kernel's
blocks of K (128), rows (144) and columns (512), every transposed layout, strided operands,
and addmm's alpha with a broadcast bias."""
import numpy as np
import pytest

import vibetensor as vt

SIZES = [(1, 1, 1), (5, 3, 7), (12, 32, 128), (13, 33, 129), (145, 40, 300), (30, 1100, 70), (290, 65, 600)]


def reference(a, b):
    return a.astype(np.float64) @ b.astype(np.float64)


def assert_matches(actual, expected, k):
    # float32 rounding grows with the length of each dot product
    tolerance = 4 * np.finfo(np.float32).eps * np.sqrt(k) * (np.abs(expected).max() + 1)
    np.testing.assert_allclose(actual.numpy().astype(np.float64), expected, rtol=0, atol=tolerance)


def operand(rng, rows, cols, transposed):
    """A float32 rows x cols matrix as a vibetensor tensor, stored transposed when asked."""
    data = rng.standard_normal((rows, cols)).astype(np.float32)
    stored = vt.tensor(np.ascontiguousarray(data.T)).t() if transposed else vt.tensor(data)
    return data, stored


@pytest.mark.parametrize("m, n, k", SIZES)
@pytest.mark.parametrize("a_transposed", [False, True])
@pytest.mark.parametrize("b_transposed", [False, True])
def test_mm_matches_float64(m, n, k, a_transposed, b_transposed):
    rng = np.random.default_rng(m * 1000 + n * 10 + k)
    a, va = operand(rng, m, k, a_transposed)
    b, vb = operand(rng, k, n, b_transposed)
    assert_matches(vt.mm(va, vb), reference(a, b), k)


def test_mm_of_strided_views():
    """Every other row and column: neither operand has a unit stride BLAS could use directly."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((60, 300)).astype(np.float32)
    b = rng.standard_normal((300, 90)).astype(np.float32)
    actual = vt.mm(vt.tensor(a)[::2, ::2], vt.tensor(b)[::2, ::2])
    assert_matches(actual, reference(a[::2, ::2], b[::2, ::2]), 150)


@pytest.mark.parametrize("m, n, k", [(13, 33, 129), (145, 40, 300), (30, 1100, 70)])
@pytest.mark.parametrize("alpha", [1.0, -0.5])
def test_addmm_with_bias_row(m, n, k, alpha):
    rng = np.random.default_rng(7)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32)
    actual = vt.addmm(vt.tensor(bias), vt.tensor(a), vt.tensor(b), alpha=alpha)
    assert_matches(actual, bias.astype(np.float64) + alpha * reference(a, b), k)


def test_mm_writes_no_nan_from_uninitialized_output():
    """beta 0: the kernel never reads the (uninitialized) output, so NaN garbage cannot leak in."""
    for _ in range(20):
        out = vt.mm(vt.ones(13, 129), vt.ones(129, 33))
        assert bool((out == 129).all())
