"""The CUDA reductions and scans (src/cuda/reduce_kernels.cu, src/cuda/scan_kernels.cu) against
the same ops on the CPU: sum, mean, prod, max, min, amax, amin, argmax, argmin, cumsum and
cumprod over every dtype, dim argument and keepdim, over layouts the kernels read in place
(contiguous, transposed, offset) and layouts they copy first (sliced with a step, expanded,
kept dims out of order), over empty and 0-dim inputs, NaN, and sizes that cross the kernels'
block, segment and split boundaries; the errors must be the CPU's, message included.

Most inputs hold small integers: every dtype stores them exactly and float32 adds a few million
of them exactly in any order, so the GPU must match the CPU bit for bit and a wrong, missing or
doubled element shows. Random floats check accumulation accuracy with tolerances. Skipped
without a GPU. (tests/python/test_reduce.py also runs on the GPU with VT_TEST_DEVICE=cuda.)"""
import numpy as np
import pytest

import vibetensor as vt

cuda = pytest.mark.skipif(not vt.cuda.is_available(), reason="needs a CUDA device")
pytestmark = cuda
DEVICE = "cuda"

DTYPES = [vt.bool, vt.uint8, vt.int8, vt.int16, vt.int32, vt.int64, vt.float16, vt.bfloat16, vt.float32, vt.float64]
NUMERIC = DTYPES[1:]
FLOATS = [vt.float16, vt.bfloat16, vt.float32, vt.float64]
NUMPY = {vt.bool: np.bool_, vt.uint8: np.uint8, vt.int8: np.int8, vt.int16: np.int16, vt.int32: np.int32,
         vt.int64: np.int64, vt.float16: np.float16, vt.bfloat16: np.float32, vt.float32: np.float32,
         vt.float64: np.float64}


# ---- inputs and comparison

def from_values(values, dtype):
    return vt.from_numpy(np.ascontiguousarray(np.asarray(values).astype(NUMPY[dtype]))).to(dtype)


def make(shape, dtype=vt.float32, low=-3, high=3, seed=0):
    """Small integers in [low, high] (shifted to start at 0 for uint8; 0/1 for bool)."""
    rng = np.random.default_rng(seed)
    if dtype == vt.bool:
        return from_values(rng.integers(0, 2, size=shape), dtype)
    if dtype == vt.uint8:
        low, high = 0, high - low
    return from_values(rng.integers(low, high + 1, size=shape), dtype)


def signs(shape, dtype=vt.float32, seed=0):
    """+-1: products of any length stay exact."""
    rng = np.random.default_rng(seed)
    return from_values(rng.choice([-1, 1], size=shape), dtype)


def random_floats(shape, dtype=vt.float32, seed=0):
    return from_values(np.random.default_rng(seed).standard_normal(shape), dtype)


def host(t):
    t = t.cpu()
    return (t.to(vt.float32) if t.dtype == vt.bfloat16 else t).numpy()


def assert_same(actual, expected, rtol=0.0, atol=0.0):
    """Same type, dtype, shape, strides and values (bit for bit unless given tolerances); NaN
    matches NaN."""
    if isinstance(expected, tuple):
        assert type(actual).__name__ == type(expected).__name__ and len(actual) == len(expected)
        for a, e in zip(actual, expected):
            assert_same(a, e, rtol, atol)
        return
    assert actual.is_cuda, "the result is not on the GPU"
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    assert tuple(actual.shape) == tuple(expected.shape), (actual.shape, expected.shape)
    assert actual.stride() == expected.stride(), (actual.stride(), expected.stride())
    a, e = host(actual), host(expected)
    if rtol == 0 and atol == 0:
        np.testing.assert_array_equal(a, e)
    else:
        np.testing.assert_allclose(a.astype(np.float64), e.astype(np.float64), rtol=rtol, atol=atol, equal_nan=True)


def check(fn, x, view=None, **tolerance):
    """fn on the CPU and on the GPU from the same values in the same layout: `view` is applied on
    each device after the copy, so strides and storage offsets match. When the CPU raises, the
    GPU must raise the same exception with the same message. Returns the GPU result."""
    cpu_input = x if view is None else view(x)
    gpu_input = x.to(DEVICE) if view is None else view(x.to(DEVICE))
    try:
        expected = fn(cpu_input)
    except Exception as error:  # noqa: BLE001  (any CPU error must be mirrored)
        with pytest.raises(type(error)) as raised:
            fn(gpu_input)
        assert str(raised.value) == str(error)
        return error
    actual = fn(gpu_input)
    assert_same(actual, expected, **tolerance)
    return actual


def raises_like_cpu(fn, x, view=None):
    assert isinstance(check(fn, x, view), Exception), "the CPU did not raise; the test is wrong"


# ---- sum, mean, prod over dims

DIMS = [None, 0, 1, 2, -1, -3, (0, 1), (0, 2), (1, 2), (-1, 0), (0, 1, 2), (), [2, 0]]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_sum(dtype, dim, keepdim):
    x = make((3, 4, 5), dtype)
    if dim is None:
        check(lambda t: t.sum(), x)
    check(lambda t: vt.sum(t, dim, keepdim), x)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_mean(dtype, dim, keepdim):
    x = make((3, 4, 5), dtype)
    if dim is None:
        check(lambda t: t.mean(), x)
    check(lambda t: vt.mean(t, dim, keepdim), x)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, 1, 2, -1], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_prod(dtype, dim, keepdim):
    # Values in {-1, 1, 2}: products are powers of two, exact (or inf) in every float type.
    x = from_values(np.random.default_rng(1).choice([-1, 1, 2], size=(3, 4, 5)), dtype)
    if dim is None:
        check(lambda t: vt.prod(t), x)
    else:
        check(lambda t: vt.prod(t, dim, keepdim), x)


@pytest.mark.parametrize("out", DTYPES, ids=str)
@pytest.mark.parametrize("dtype", [vt.bool, vt.uint8, vt.int32, vt.int64, vt.float16, vt.float32], ids=str)
def test_dtype_argument(dtype, out):
    x = make((6, 7), dtype)
    check(lambda t: vt.sum(t, dtype=out), x)
    check(lambda t: vt.sum(t, 0, keepdim=True, dtype=out), x)
    check(lambda t: vt.mean(t, 1, dtype=out), x)  # raises for a non-floating `out`, as on the CPU
    check(lambda t: vt.prod(t, 1, dtype=out), x)
    check(lambda t: vt.cumsum(t, 0, dtype=out), x)
    check(lambda t: vt.cumprod(t, 1, dtype=out), x)


@pytest.mark.parametrize("dtype", [vt.uint8, vt.int8, vt.int16, vt.int32])
def test_integer_sum_wraps_only_in_the_narrow_type(dtype):
    info = np.iinfo(NUMPY[dtype])
    x = from_values(np.full(3000, info.max), dtype)
    check(lambda t: vt.sum(t), x)  # int64: no overflow
    check(lambda t: vt.sum(t, dtype=dtype), x)  # wraps, as on the CPU
    check(lambda t: vt.sum(t.reshape(30, 100), 1, dtype=dtype), x)
    check(lambda t: vt.cumsum(t, 0, dtype=dtype), x)


def test_half_precision_accumulates_in_float():
    # 4096 ones summed in float16 would stop at 2048.
    for dtype in [vt.float16, vt.bfloat16]:
        ones = vt.ones(2, 4096, dtype=dtype)
        assert host(check(lambda t: vt.sum(t, 1), ones)).tolist() == [4096, 4096]
        check(lambda t: vt.sum(t, 0), ones.t())
        check(lambda t: vt.mean(t), make((3000, 3), dtype, 0, 1))


# ---- max, min, argmax, argmin, amax, amin

@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_full(op, dtype):
    check(lambda t: getattr(vt, op)(t), make((3, 4), dtype))
    check(lambda t: getattr(vt, op)(t), make((), dtype))


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("op", ["max", "min", "argmax", "argmin"])
def test_extreme_dim(op, dtype, dim, keepdim):
    x = make((3, 4, 5), dtype, -2, 2)  # a small range: ties everywhere, the first must win
    check(lambda t: getattr(vt, op)(t, dim, keepdim), x)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dtype", NUMERIC, ids=str)
@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_arg_extreme_without_dim(op, dtype, keepdim):
    check(lambda t: getattr(vt, op)(t, None, keepdim), make((3, 4, 5), dtype, -2, 2))
    check(lambda t: getattr(vt, op)(t), make((), dtype))


AMAX_DIMS = [(), 0, 1, -1, (0, 2), [2, 0], (1, 2), (0, 1, 2)]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", AMAX_DIMS, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("op", ["amax", "amin"])
def test_amax_amin(op, dtype, dim, keepdim):
    check(lambda t: getattr(vt, op)(t, dim, keepdim), make((3, 4, 5), dtype))


def test_extreme_values_are_elements():
    x = from_values([[-0.0, 0.0, -5.0], [7.5, -7.5, 7.5]], vt.float32)
    values, indices = vt.max(x.cuda(), 1)
    assert host(values).tolist() == [0.0, 7.5] and host(indices).tolist() == [0, 0]
    assert np.signbit(host(values)[0]), "of tied zeros the first (-0.0) is the CPU's answer"
    values, indices = vt.min(x.cuda(), 1)
    assert host(values).tolist() == [-5.0, -7.5] and host(indices).tolist() == [2, 1]


# ---- NaN

NAN_ROWS = [[1.0, np.nan, 5.0, np.nan], [np.inf, 2.0, -np.inf, 0.0], [-1.0, -2.0, np.nan, 9.0],
            [-np.inf, -np.inf, -np.inf, -np.inf]]


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("op", ["max", "min", "argmax", "argmin", "amax", "amin"])
def test_nan_wins(op, dtype):
    x = from_values(NAN_ROWS, dtype)
    fn = getattr(vt, op)
    check(lambda t: fn(t), x)
    check(lambda t: fn(t, 1), x)
    check(lambda t: fn(t, 0), x)
    check(lambda t: fn(t, 0), x, lambda t: t.t())
    if op.startswith("arg"):
        expected = [1, 0 if op == "argmax" else 2, 2, 0]
        assert host(fn(x.cuda(), 1)).tolist() == expected


def test_nan_sums():
    x = from_values([[1.0, np.nan, 2.0], [np.inf, 1.0, -np.inf], [np.inf, np.inf, 1.0]], vt.float32)
    for op in [vt.sum, vt.mean, vt.prod]:
        check(lambda t: op(t), x)
        check(lambda t: op(t, 0), x)
        check(lambda t: op(t, 1), x)
    check(lambda t: vt.cumsum(t, 1), x)
    check(lambda t: vt.cumprod(t, 0), x)


def test_nan_far_from_the_start():
    # Past every block and segment boundary; two NaNs, so the first must win across segments.
    n = (1 << 22) + 7
    values = np.random.default_rng(2).integers(-3, 4, size=n).astype(np.float32)
    values[n - 1000] = values[n - 10] = np.nan
    x = from_values(values, vt.float32)
    for op in [vt.argmax, vt.argmin]:
        assert int(op(x.cuda()).item()) == n - 1000
    for op in [vt.max, vt.min, vt.amax, vt.amin, vt.sum]:
        assert np.isnan(op(x.cuda()).item())
    as_matrix = lambda t: t[: 1024 * 4096].reshape(1024, 4096)  # noqa: E731  (the NaNs are in the last row)
    check(lambda t: vt.max(t, 1), x, as_matrix)
    check(lambda t: vt.argmin(t, 0), x, as_matrix)
    check(lambda t: vt.amax(t, 0), x, as_matrix)


# ---- layouts

def base_3d(dtype=vt.float32):
    return make((4, 6, 10), dtype)


VIEWS = {
    "contiguous": lambda t: t,
    "transposed": lambda t: t.transpose(0, 2),
    "permuted": lambda t: t.permute(1, 2, 0),
    "reversed": lambda t: t.permute(2, 1, 0),
    "sliced": lambda t: t[:, ::2, 1:],
    "offset": lambda t: t[1:, 1:],
    "unsqueezed": lambda t: t.unsqueeze(1).transpose(1, 3),
}

LAYOUT_OPS = {
    "sum": lambda t, d: vt.sum(t, d),
    "sum_keepdim": lambda t, d: vt.sum(t, d, True),
    "mean": lambda t, d: vt.mean(t, d),
    "amax": lambda t, d: vt.amax(t, d if d is not None else ()),
    "amin": lambda t, d: vt.amin(t, d if d is not None else ()),
    "prod": lambda t, d: vt.prod(t) if d is None else vt.prod(t, d if isinstance(d, int) else d[0]),
    "max": lambda t, d: vt.max(t) if d is None else vt.max(t, d if isinstance(d, int) else d[0]),
    "argmin": lambda t, d: vt.argmin(t, d if d is None or isinstance(d, int) else d[0]),
}


@pytest.mark.parametrize("dim", [None, 0, 1, 2, -1, (0, 1), (0, 2), (1, 2)], ids=str)
@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("op", LAYOUT_OPS)
def test_layouts(op, view, dim):
    x = signs((4, 6, 10)) if op == "prod" else base_3d()
    if op.startswith("arg") or op == "max":
        x = make((4, 6, 10), low=-2, high=2)
    check(lambda t: LAYOUT_OPS[op](t, dim), x, VIEWS[view])


@pytest.mark.parametrize("op", ["sum", "amax", "max", "argmax", "cumsum"])
def test_expanded(op):
    row = make((1, 6, 10), low=-2, high=2)
    fns = {"sum": lambda t: vt.sum(t, 0), "amax": lambda t: vt.amax(t, (0, 2)), "max": lambda t: vt.max(t, 0),
           "argmax": lambda t: vt.argmax(t, 1), "cumsum": lambda t: vt.cumsum(t, 0)}
    check(fns[op], row, lambda t: t.expand(5, 6, 10))


@pytest.mark.parametrize("offset", [1, 2, 3, 5])
@pytest.mark.parametrize("dtype", [vt.float32, vt.float16, vt.uint8, vt.float64], ids=str)
def test_misaligned_storage_offsets(dtype, offset):
    # Values in {-1, 0, 1, 2}: products of 240 stay within float32's range (an overflow to inf
    # meeting a zero gives NaN where the CPU's double product gives 0).
    x = make((4 * 6 * 10 + 8,), dtype, low=-1, high=2, seed=offset)
    view = lambda t: t[offset: offset + 240].reshape(4, 6, 10)  # noqa: E731
    for dim in [None, 0, 1, 2, (0, 2)]:
        single = dim if dim is None or isinstance(dim, int) else dim[0]
        check(lambda t: vt.sum(t, dim), x, view)
        check(lambda t: vt.amin(t, () if dim is None else dim), x, view)
        check(lambda t: vt.argmax(t, single), x, view)
        check(lambda t: vt.prod(t) if dim is None else vt.prod(t, single), x, view)
        check(lambda t: vt.cumsum(t, single or 0), x, view)


# ---- empty and 0-dim inputs, errors

@pytest.mark.parametrize("shape, dim", [((0,), None), ((0, 3), 0), ((0, 3), 1), ((2, 0), 1), ((2, 0), None),
                                        ((2, 0, 3), (0, 1)), ((2, 0, 3), 2), ((2, 0, 3), 1)], ids=str)
@pytest.mark.parametrize("op", ["sum", "mean", "prod", "amax", "amin", "max", "argmax", "cumsum", "cumprod"])
def test_empty(op, shape, dim):
    x = make(shape)
    single = dim if dim is None or isinstance(dim, int) else dim[0]
    fns = {
        "sum": lambda t: vt.sum(t, dim), "mean": lambda t: vt.mean(t, dim, True),
        "prod": lambda t: vt.prod(t) if dim is None else vt.prod(t, single),
        "amax": lambda t: vt.amax(t, () if dim is None else dim), "amin": lambda t: vt.amin(t, () if dim is None else dim, True),
        "max": lambda t: vt.max(t) if dim is None else vt.max(t, single),
        "argmax": lambda t: vt.argmax(t, single),
        "cumsum": lambda t: vt.cumsum(t, 0 if dim is None else single),
        "cumprod": lambda t: vt.cumprod(t, -1),
    }
    check(fns[op], x)
    check(fns[op], make(shape, vt.int32))


@pytest.mark.parametrize("dim", [None, 0, -1, (), [0]], ids=str)
def test_zero_dim(dim):
    for dtype in [vt.bool, vt.int32, vt.float16, vt.float32]:
        x = make((), dtype)
        single = dim if dim is None or isinstance(dim, int) else 0
        check(lambda t: vt.sum(t, dim, True), x)
        check(lambda t: vt.amax(t, () if dim is None else dim), x)
        check(lambda t: vt.amin(t, () if dim is None else dim, True), x)
        check(lambda t: vt.prod(t) if dim is None else vt.prod(t, single, True), x)
        check(lambda t: vt.max(t) if dim is None else vt.max(t, single, True), x)
        check(lambda t: vt.argmin(t, None if dim is None else single), x)
        check(lambda t: vt.cumsum(t, single or 0), x)
        check(lambda t: vt.cumprod(t, -1), x)
        if dtype.is_floating_point:
            check(lambda t: vt.mean(t, dim), x)


@pytest.mark.parametrize("op", ["max", "min", "argmax", "argmin", "amax", "amin"])
def test_empty_errors(op):
    fn = getattr(vt, op)
    raises_like_cpu(lambda t: fn(t), make((0, 3)))  # no identity to return
    raises_like_cpu(lambda t: fn(t, 0), make((0, 3)))
    raises_like_cpu(lambda t: fn(t, 1), make((3, 0, 2)))


@pytest.mark.parametrize("op", ["sum", "mean", "prod", "max", "argmax", "amax", "cumsum", "cumprod"])
def test_bad_dims(op):
    fn = getattr(vt, op)
    for dim in [3, -4, 10]:
        raises_like_cpu(lambda t: fn(t, dim), make((2, 3, 4)))
    raises_like_cpu(lambda t: fn(t, 1), make(()))
    if op in ("sum", "mean", "amax"):
        raises_like_cpu(lambda t: fn(t, (0, 0)), make((2, 3, 4)))
        raises_like_cpu(lambda t: fn(t, [2, -1]), make((2, 3, 4)))


def test_dtype_errors():
    raises_like_cpu(lambda t: vt.argmax(t), make((2, 3), vt.bool))
    raises_like_cpu(lambda t: vt.argmin(t, 1), make((2, 3), vt.bool))
    raises_like_cpu(lambda t: vt.mean(t), make((2, 3), vt.int32))
    raises_like_cpu(lambda t: vt.mean(t, 0, dtype=vt.int64), make((2, 3), vt.float32))
    raises_like_cpu(lambda t: vt.prod(t, dtype=vt.bool), make((2, 3), vt.bool))
    raises_like_cpu(lambda t: vt.cumsum(t, 0, dtype=vt.bool), make((2, 3), vt.bool))


def test_results_do_not_alias_the_input():
    x = make((3, 1)).cuda()
    results = [vt.sum(x, 1), vt.amax(x, 1), vt.max(x, 1).values, vt.prod(x, 1), vt.cumsum(x, 1)]
    expected = [host(r).copy() for r in results]
    x.fill_(7)
    assert all((host(r) == e).all() for r, e in zip(results, expected))


# ---- sizes across block, segment and split boundaries

BIG_SHAPES = {
    "one_long_row": ((1 << 22) + 3,),
    "few_long_rows": (3, 1_000_003),
    "many_rows": (3000, 1029),
    "rows_of_4096": (1024, 4096),
    "tall_columns": (4096, 1000),
    "narrow_columns": (1 << 20, 3),
    "middle": (5, 20000, 37),
}
BIG_DIMS = {
    "one_long_row": [None, 0],
    "few_long_rows": [None, 1, 0],
    "many_rows": [1, 0, None],
    "rows_of_4096": [-1, 0],
    "tall_columns": [0, 1],
    "narrow_columns": [0, 1],
    "middle": [1, (0, 1), (1, 2), 2],
}


@pytest.mark.parametrize("dtype", [vt.float32, vt.float16, vt.int32, vt.uint8, vt.float64, vt.bfloat16], ids=str)
@pytest.mark.parametrize("name", BIG_SHAPES)
def test_big_sum_mean_amax(name, dtype):
    x = make(BIG_SHAPES[name], dtype, seed=3)
    for dim in BIG_DIMS[name]:
        check(lambda t: vt.sum(t, dim), x)
        check(lambda t: vt.amax(t, () if dim is None else dim), x)
        check(lambda t: vt.amin(t, () if dim is None else dim, True), x)
        if dtype.is_floating_point:
            check(lambda t: vt.mean(t, dim), x)
    # Storage offsets that break the 16-byte alignment of the rows or of the whole.
    check(lambda t: vt.sum(t, 0), x, lambda t: t[1:])
    check(lambda t: vt.amax(t), x, lambda t: t.reshape(-1)[5:])


@pytest.mark.parametrize("name", BIG_SHAPES)
def test_big_extreme_dims(name):
    shape = BIG_SHAPES[name]
    dims = [d for d in BIG_DIMS[name] if d is None or isinstance(d, int)]
    x = make(shape, vt.float32, -2, 2, seed=4)
    for dim in dims:
        if dim is None:
            check(lambda t: vt.argmax(t), x)
            check(lambda t: vt.min(t), x)
        else:
            check(lambda t: vt.max(t, dim), x)
            check(lambda t: vt.argmin(t, dim), x)
            check(lambda t: vt.min(t, dim, True), make(shape, vt.int16, -2, 2, seed=5))
            check(lambda t: vt.argmax(t, dim), make(shape, vt.uint8, -2, 2, seed=5))


def test_ties_across_segments_and_splits_pick_the_first():
    # The maximum appears twice, far from the start: the first occurrence must win even when
    # the two copies are reduced by different segments (rows) or splits (columns).
    n = (1 << 22) + 5
    values = np.random.default_rng(6).integers(-3, 3, size=n).astype(np.float32)
    values[n // 2 + 17] = values[n - 3] = 9
    values[n // 3] = values[n // 3 + 5000] = -9
    x = from_values(values, vt.float32).cuda()
    assert int(vt.argmax(x).item()) == n // 2 + 17
    assert int(vt.argmin(x).item()) == n // 3
    cols = np.random.default_rng(7).integers(-3, 3, size=(4096, 64)).astype(np.float32)
    cols[3000, :] = cols[3500, :] = 9
    values, indices = vt.max(from_values(cols, vt.float32).cuda(), 0)
    assert (host(indices) == 3000).all() and (host(values) == 9).all()
    rows = np.ascontiguousarray(cols.T)
    assert (host(vt.argmax(from_values(rows, vt.float64).cuda(), 1)) == 3000).all()


@pytest.mark.parametrize("name", ["one_long_row", "few_long_rows", "tall_columns", "middle"])
def test_big_prod(name):
    x = signs(BIG_SHAPES[name], vt.float32, seed=8)
    check(lambda t: vt.prod(t), x)
    check(lambda t: vt.prod(t, 0), x)
    check(lambda t: vt.prod(t, -1, True), signs(BIG_SHAPES[name], vt.int64, seed=9))


# ---- scans

@pytest.mark.parametrize("dim", [0, 1, 2, -1])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
def test_scans(op, dtype, dim):
    x = from_values(np.random.default_rng(10).choice([-1, 1, 2], size=(3, 4, 5)), dtype)
    check(lambda t: getattr(vt, op)(t, dim), x)
    check(lambda t: getattr(vt, op)(t, dim), x, VIEWS["transposed"])
    check(lambda t: getattr(vt, op)(t, dim), x, lambda t: t[:, ::2])


SCAN_SHAPES = {
    "one_long_row": (((1 << 22) + 3,), 0),
    "few_long_rows": ((3, 1_000_003), 1),
    "many_short_rows": ((20000, 37), 1),
    "long_columns": ((1_000_003, 3), 0),
    "wide_columns": ((1000, 4000), 0),
    "middle": ((5, 100003, 7), 1),
}


@pytest.mark.parametrize("dtype", [vt.float32, vt.float16, vt.int64, vt.int32, vt.float64], ids=str)
@pytest.mark.parametrize("name", SCAN_SHAPES)
def test_big_scans(name, dtype):
    shape, dim = SCAN_SHAPES[name]
    check(lambda t: vt.cumsum(t, dim), make(shape, dtype, seed=11))
    check(lambda t: vt.cumprod(t, dim), signs(shape, dtype, seed=12))


# ---- accuracy and determinism with random floats

@pytest.mark.parametrize("shape, dim", [(((1 << 22) + 3,), None), ((1024, 4096), 1), ((4096, 1000), 0),
                                        ((3, 1_000_003), 1), ((5, 20000, 37), 1)], ids=str)
def test_float32_sum_accuracy(shape, dim):
    """float32 accumulation in a tree (not one long running sum): the error of a sum of n
    standard normal values stays within 2.5e-6 * sqrt(n), about ten times the expected error of
    the kernels' order and a twentieth of a sequential float32 sum's over 4M elements. The
    reference is the CPU's double accumulation."""
    x = random_floats(shape, seed=13)
    dims = () if dim is None else dim
    reference = host(vt.sum(x.to(vt.float64), dims))
    n = x.numel() // reference.size
    bound = 2.5e-6 * np.sqrt(n) + 1e-7
    error = np.abs(host(vt.sum(x.cuda(), dims)).astype(np.float64) - reference)
    assert error.max() <= bound, f"worst error {error.max():.3g}, bound {bound:.3g}"
    mean_error = np.abs(host(vt.mean(x.cuda(), dims)).astype(np.float64) - reference / n)
    assert mean_error.max() <= bound / n + 1e-7


@pytest.mark.parametrize("dtype, rtol", [(vt.float16, 2e-3), (vt.bfloat16, 1.6e-2)], ids=str)
def test_half_precision_results_round_once(dtype, rtol):
    x = random_floats((2000, 3000), dtype, seed=14)
    for dim in [0, 1, None]:
        check(lambda t: vt.sum(t, dim), x, rtol=rtol, atol=1e-2)
        check(lambda t: vt.mean(t, dim), x, rtol=rtol, atol=1e-4)


def test_float32_scan_accuracy():
    x = random_floats((2, 1_000_003), seed=15)
    reference = np.cumsum(host(x).astype(np.float64), axis=1)
    scale = np.cumsum(np.abs(host(x)).astype(np.float64), axis=1)
    error = np.abs(host(vt.cumsum(x.cuda(), 1)).astype(np.float64) - reference)
    assert (error <= 1e-6 * scale + 1e-5).all(), f"worst error {(error / scale).max():.3g} of the magnitude"


def test_same_bits_every_run():
    x = random_floats(((1 << 22) + 3,), seed=16).cuda()
    y = random_floats((4096, 1000), seed=17).cuda()
    runs = [(host(vt.sum(x)), host(vt.sum(y, 0)), host(vt.mean(y, 1)), host(vt.cumsum(x, 0)[-5:])) for _ in range(3)]
    for later in runs[1:]:
        for a, b in zip(runs[0], later):
            np.testing.assert_array_equal(a, b)


def test_runs_on_the_current_stream():
    x = make((4096, 1000), seed=18)
    expected = host(vt.sum(x, 0))
    side = vt.cuda.Stream()
    with vt.cuda.stream(side):
        on_device = x.cuda()
        result = vt.sum(on_device, 0)
        indices = vt.argmax(on_device, 1)
    side.synchronize()
    np.testing.assert_array_equal(host(result), expected)
    np.testing.assert_array_equal(host(indices), host(vt.argmax(x, 1)))
