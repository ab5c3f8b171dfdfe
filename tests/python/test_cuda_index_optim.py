"""The CUDA kernels of the indexing ops (gather, scatter, scatter_add, scatter_reduce,
index_select, index_add, index_copy, nonzero) and of the fused optimizer steps, each against
the same op on the CPU. Skipped without a GPU.

The indexing inputs hold small integers, so that sums and products are exact in every dtype:
the device's atomics add in a varying order, yet must give exactly the CPU's result. Plain
writes with duplicate indices must keep the CPU's last write. Out-of-range indices must raise
the CPU's error (type and message) and leave the device usable. The optimizers run several
steps on both devices from the same start and agree to float rounding.
"""
import numpy as np
import pytest

import vibetensor as vt
from vibetensor import _C

cuda = pytest.mark.skipif(not vt.cuda.is_available(), reason="needs a CUDA device")
pytestmark = cuda
DEVICE = "cuda"

DTYPES = [vt.bool, vt.uint8, vt.int8, vt.int16, vt.int32, vt.int64, vt.float16, vt.bfloat16, vt.float32, vt.float64]
NUMERIC = [t for t in DTYPES if t != vt.bool]
FLOATS = [vt.float16, vt.bfloat16, vt.float32, vt.float64]
# The ops of this file: a test of a composite skips only when some other op lacks a kernel.
OURS = ("gather", "scatter", "index_select", "index_add", "index_copy", "nonzero", "_fused_", "_foreach_add_")


# ---- helpers

def values(shape, dtype, seed=0, low=-4, high=5):
    """Small integers as `dtype` (0/1 for bool, nonnegative for uint8)."""
    rng = np.random.default_rng(seed)
    if dtype == vt.bool:
        low, high = 0, 2
    elif dtype == vt.uint8:
        low = 0
    return vt.tensor(rng.integers(low, high, size=shape)).to(dtype)


def positions(shape, size, seed=1):
    """int64 indices in [0, size), with repeats."""
    return vt.tensor(np.random.default_rng(seed).integers(0, size, size=shape, dtype=np.int64))


def host(t):
    """Values for comparing: float64 numpy for floats (NaN equals NaN there), lists otherwise."""
    t = t.cpu()
    return t.to(vt.float64).numpy() if t.dtype.is_floating_point else t.tolist()


def assert_same(got, expected):
    assert got.device.type == DEVICE, got.device
    assert got.dtype == expected.dtype and tuple(got.shape) == tuple(expected.shape)
    if expected.dtype.is_floating_point:
        np.testing.assert_array_equal(host(got), host(expected))
    else:
        assert host(got) == host(expected)


def skip_if_another_op_is_missing(error):
    message = str(error)
    if "Could not run '" in message:
        op = message.split("Could not run '", 1)[1].split("'", 1)[0]
        if not op.startswith(OURS):
            pytest.skip(f"{op} has no CUDA kernel yet")


def check(fn, *args):
    """fn(*args) on the CPU and with every tensor argument moved to the device first: the same
    values, dtype and shape, or the same error (type and message). Returns the CPU result."""
    device_args = [a.to(DEVICE) if isinstance(a, vt.Tensor) else a for a in args]
    try:
        expected = fn(*args)
    except Exception as error:  # noqa: BLE001
        with pytest.raises(type(error)) as raised:
            fn(*device_args)
        assert str(raised.value) == str(error)
        return None
    try:
        got = fn(*device_args)
    except Exception as error:  # noqa: BLE001
        skip_if_another_op_is_missing(error)
        raise
    assert_same(got, expected)
    return expected


def device_still_works():
    """A bad index must raise before any kernel reads it: the context stays usable."""
    vt.cuda.synchronize()
    x = vt.arange(10.0, device=DEVICE)
    assert_same(x.index_select(0, vt.tensor([3, 1], device=DEVICE)), vt.tensor([3.0, 1.0]))


# ---- gather

@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_gather(dtype):
    x = values((4, 5), dtype)
    for dim, index in ((0, positions((3, 5), 4)), (1, positions((4, 7), 5)), (-1, positions((2, 3), 5))):
        check(lambda x, i: x.gather(dim, i), x, index)
    check(lambda x, i: x.t().gather(0, i), values((5, 4), dtype, seed=2), positions((4, 4), 4))  # strided self
    check(lambda x, i: x.gather(1, i.t()), x, positions((3, 4), 5))  # strided index
    check(lambda x, i: x.gather(1, i.expand(4, 6)), x, positions((1, 6), 5))  # broadcast index
    check(lambda x, i: x.gather(1, i), values((3, 4, 5), dtype), positions((3, 2, 5), 4))
    check(lambda x, i: x.gather(0, i), x, vt.zeros(0, 5, dtype=vt.int64))  # empty
    check(lambda x, i: x.gather(0, i), values((), dtype), vt.zeros(3, dtype=vt.int64))  # 0-dim self


# ---- scatter, scatter_add, scatter_reduce

@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_scatter_keeps_the_last_write(dtype):
    x, src = values((4, 5), dtype), values((6, 5), dtype, seed=3)
    for _ in range(3):  # a race would show as a varying winner
        check(lambda x, i, s: x.scatter(0, i, s), x, positions((6, 5), 4), src)
        check(lambda x, i, s: x.scatter(1, i, s), x, vt.zeros(4, 5, dtype=vt.int64), src)  # one target per row
    check(lambda x, i, s: x.t().scatter(0, i, s.t()), values((5, 4), dtype), positions((3, 4), 4),
          values((5, 3), dtype))
    check(lambda x, i, s: x.scatter(0, i, s), x, vt.zeros(0, 5, dtype=vt.int64), src)
    check(lambda x, i: x.scatter(1, i, 2), x, positions((4, 3), 5))  # scatter.value


@pytest.mark.parametrize("dtype", NUMERIC, ids=str)
def test_scatter_add_with_duplicates(dtype):
    x = values((4, 5), dtype, low=-2, high=3)
    src = values((40, 5), dtype, seed=4, low=-2, high=3)  # sums stay exact in bfloat16
    check(lambda x, i, s: x.scatter_add(0, i, s), x, positions((40, 5), 4), src)
    check(lambda x, i, s: x.scatter_add(0, i, s), x, vt.zeros(40, 5, dtype=vt.int64), src)  # all on one row
    check(lambda x, i, s: x.scatter_add(1, i, s), x, positions((4, 5), 5, seed=5), src)
    check(lambda x, i, s: x.t().scatter_add(1, i, s), values((5, 4), dtype), positions((4, 9), 5), src.t())
    check(lambda x, i, s: x.scatter_add(0, i, s), values((), dtype), vt.tensor(0), values((), dtype))


def test_scatter_add_of_bool_is_refused_and_floats_agree_to_rounding():
    check(lambda x, i, s: x.scatter_add(0, i, s), values((3,), vt.bool), positions((3,), 3), values((3,), vt.bool))
    rng = np.random.default_rng(0)
    x, src = vt.tensor(rng.standard_normal((8, 16))), vt.tensor(rng.standard_normal((500, 16)))
    index = positions((500, 16), 8)
    expected = x.scatter_add(0, index, src)
    got = x.to(DEVICE).scatter_add(0, index.to(DEVICE), src.to(DEVICE))
    np.testing.assert_allclose(host(got), host(expected), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_scatter_reduce(dtype, reduce, include_self):
    x = values((4, 5), dtype, low=-2, high=3)
    src = values((6, 5), dtype, seed=6, low=-2, high=3)
    for dim, index in ((0, positions((6, 5), 4)), (1, positions((4, 5), 3, seed=7))):
        check(lambda x, i, s: x.scatter_reduce(dim, i, s, reduce, include_self=include_self), x, index, src)
    check(lambda x, i, s: x.t().scatter_reduce(0, i, s.t(), reduce, include_self=include_self), values((5, 4), dtype),
          positions((6, 4), 4), values((4, 6), dtype, seed=7, low=-2, high=3))
    check(lambda x, i, s: x.scatter_reduce(0, i, s, reduce, include_self=include_self), values((), dtype),
          vt.tensor(0), values((), dtype, seed=8))


@pytest.mark.parametrize("reduce", ["amax", "amin", "sum", "prod", "mean"])
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_scatter_reduce_propagates_nan(dtype, reduce):
    src = values((6, 5), dtype, seed=9)
    src[2, 1] = float("nan")
    src[4, 3] = float("-inf")
    for include_self in (True, False):
        check(lambda x, i, s: x.scatter_reduce(0, i, s, reduce, include_self=include_self), values((3, 5), dtype),
              positions((6, 5), 3), src)


def test_scatter_reduce_rejects_an_unknown_reduction():
    check(lambda x, i, s: x.scatter_reduce(0, i, s, "median"), values((3,), vt.float32), positions((3,), 3),
          values((3,), vt.float32))


# ---- index_select, index_add, index_copy

@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_index_select(dtype):
    x = values((4, 5, 3), dtype)
    for dim in (0, 1, 2, -1):
        size = x.shape[dim]
        check(lambda x, i: x.index_select(dim, i), x, positions((7,), size))
        check(lambda x, i: x.index_select(dim, i), x, positions((7,), size).to(vt.int32))
        check(lambda x, i: x.transpose(0, 2).index_select(dim, i), x, positions((5,), x.transpose(0, 2).shape[dim]))
    check(lambda x, i: x.index_select(0, i), x, vt.zeros(0, dtype=vt.int64))
    check(lambda x, i: x.index_select(0, i), x, vt.tensor(2))  # 0-dim index
    check(lambda x, i: x.index_select(0, i), values((), dtype), vt.tensor([0, 0]))
    check(lambda x, i: x[:, 1:4:2].index_select(1, i), values((3, 6, 2), dtype), positions((4,), 2))


def test_index_select_moves_rows_of_every_width():
    # Rows of 1 to 65 bytes and an embedding table: every unit the kernel picks (1 to 16 bytes).
    for dtype in (vt.uint8, vt.float16, vt.float32, vt.float64):
        for width in (1, 2, 3, 4, 8, 16, 33):
            check(lambda x, i: x.index_select(0, i), values((50, width), dtype), positions((70,), 50))
    table = vt.tensor(np.random.default_rng(0).standard_normal((1000, 64)).astype(np.float32))
    check(lambda x, i: x.index_select(0, i), table, positions((4096,), 1000))
    check(lambda x, i: x[1:].index_select(0, i), table, positions((300,), 999))  # row offset, still aligned
    check(lambda x, i: x[:, 1:].index_select(0, i), table, positions((300,), 1000))  # copied, then 252-byte rows


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_index_add_with_duplicates(dtype):
    x = values((4, 5), dtype, low=-2, high=3)
    alphas = [1, 2] if dtype != vt.bool else [1, True]
    if dtype.is_floating_point:
        alphas += [0.5, -1.5]  # 16-bit floats: products rounded once, as on the CPU
    for alpha in alphas:
        check(lambda x, i, s: x.index_add(0, i, s, alpha=alpha), x, positions((30,), 4),
              values((30, 5), dtype, seed=10, low=-2, high=3))
        check(lambda x, i, s: x.index_add(1, i, s, alpha=alpha), x, positions((9,), 5),
              values((4, 9), dtype, seed=11, low=-2, high=3))
    check(lambda x, i, s: x.index_add(0, i, s), x, vt.zeros(40, dtype=vt.int64),
          values((40, 5), dtype, seed=12, low=-2, high=3))  # all on one row
    check(lambda x, i, s: x.t().index_add(1, i, s.t()), values((5, 4), dtype), positions((6,), 5),
          values((6, 4), dtype))
    check(lambda x, i, s: x.index_add(1, i, s), x, positions((3,), 5).to(vt.int32), values((4, 3), dtype))
    check(lambda x, i, s: x.index_add(0, i, s), x, positions((3,), 4), values((), dtype))  # 0-dim source
    check(lambda x, i, s: x.index_add(0, i, s), values((), dtype), vt.tensor([0, 0]), values((2,), dtype))
    check(lambda x, i, s: x.index_add(0, i, s), x, vt.zeros(0, dtype=vt.int64), values((0, 5), dtype))


def test_index_add_of_floats_agrees_to_rounding():
    rng = np.random.default_rng(1)
    x = vt.tensor(rng.standard_normal((10, 32)).astype(np.float32))
    src = vt.tensor(rng.standard_normal((900, 32)).astype(np.float32))
    index = positions((900,), 10)
    expected = x.index_add(0, index, src, alpha=0.3)
    got = x.to(DEVICE).index_add(0, index.to(DEVICE), src.to(DEVICE), alpha=0.3)
    np.testing.assert_allclose(host(got), host(expected), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_index_copy_keeps_the_last_write(dtype):
    x = values((4, 5), dtype)
    for _ in range(3):
        check(lambda x, i, s: x.index_copy(0, i, s), x, positions((9,), 4), values((9, 5), dtype, seed=13))
        check(lambda x, i, s: x.index_copy(1, i, s), x, vt.tensor([2, 2, 0, 2]), values((4, 4), dtype, seed=14))
    check(lambda x, i, s: x.t().index_copy(0, i, s), values((5, 4), dtype), positions((3,), 4), values((3, 5), dtype))
    check(lambda x, i, s: x.index_copy(0, i, s), x, positions((3,), 4), values((), dtype))  # 0-dim source
    check(lambda x, i, s: x.index_copy(0, i, s), x, positions((2,), 4), values((2,), dtype))  # broadcast slices
    check(lambda x, i, s: x.index_copy(0, i, s), values((), dtype), vt.tensor([0, 0]), values((2,), dtype))
    check(lambda x, i, s: x.index_copy(0, i, s), x, vt.zeros(0, dtype=vt.int64), values((0, 5), dtype))
    check(lambda x, i, s: x.index_copy(0, i, s), x, vt.tensor([1, 2]).to(vt.int32), values((2, 5), dtype))  # refused


# ---- nonzero

@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_nonzero(dtype):
    for shape in ((), (0,), (1,), (7,), (3, 4, 5), (2, 0, 3), (3, 5000)):
        check(lambda x: x.nonzero(), values(shape, dtype, low=-1, high=2))
    check(lambda x: x.t().nonzero(), values((40, 30), dtype, low=-1, high=2))
    check(lambda x: vt.nonzero(x, as_tuple=True)[1], values((4, 6), dtype, low=-1, high=2))


def test_nonzero_across_many_tiles_and_special_floats():
    # Over 1024 tiles of 2048 elements: the scan of the tile counts takes several passes.
    rng = np.random.default_rng(2)
    sparse = vt.tensor(rng.random(3_000_000) < 0.01)
    check(lambda x: x.nonzero(), sparse)
    check(lambda x: x.view(1000, 3000).nonzero(), sparse)
    check(lambda x: x.nonzero(), vt.ones(5000, dtype=vt.bool))
    for dtype in FLOATS:
        x = vt.tensor([0.0, -0.0, float("nan"), float("inf"), 1e-30, 0.0]).to(dtype)
        check(lambda x: x.nonzero(), x)


# ---- out-of-range indices

BAD_INDEX_CASES = [
    ("gather", lambda x, i: x.gather(0, i.view(2, 2))),
    ("scatter", lambda x, i: x.scatter(0, i.view(2, 2), x[:2])),
    ("scatter_add", lambda x, i: x.scatter_add(1, i.view(2, 2), x)),
    ("scatter_reduce", lambda x, i: x.scatter_reduce(0, i.view(2, 2), x, "amax", include_self=False)),
    ("index_select", lambda x, i: x.index_select(0, i)),
    ("index_select int32", lambda x, i: x.index_select(1, i.to(vt.int32))),
    ("index_add", lambda x, i: x.index_add(0, i, vt.ones(4, 4, dtype=x.dtype, device=x.device))),
    ("index_add 1-d", lambda x, i: x[0].index_add(0, i, vt.ones(4, dtype=x.dtype, device=x.device))),
    ("index_copy", lambda x, i: x.index_copy(1, i, vt.ones(4, 4, dtype=x.dtype, device=x.device))),
]


@pytest.mark.parametrize("bad", [[0, 9, -1, 1], [1, -3, 0, 7], [0, 1, 2, 4]], ids=["high", "negative", "edge"])
@pytest.mark.parametrize("name,fn", BAD_INDEX_CASES, ids=[c[0] for c in BAD_INDEX_CASES])
def test_out_of_range_indices_raise_the_cpu_error(name, fn, bad):
    # The message names the first bad index in order, as the CPU's does (9, -3, 4).
    x = values((4, 4), vt.float32)
    check(fn, x, vt.tensor(bad))
    device_still_works()


def test_argument_errors_match_the_cpu():
    x = values((4, 5), vt.float32)
    check(lambda x, i: x.gather(0, i), x, vt.tensor([[0, 1]]).to(vt.int32))  # dtype
    check(lambda x, i: x.gather(0, i), x, vt.zeros(5, 6, dtype=vt.int64))  # size
    check(lambda x, i, s: x.scatter(0, i, s), x, positions((2, 5), 4), values((2, 5), vt.float64))
    check(lambda x, i: x.index_select(0, i), x, vt.zeros(2, 2, dtype=vt.int64))
    check(lambda x, i, s: x.index_add(0, i, s), x, positions((3,), 4), values((2, 5), vt.float32))
    check(lambda x, i, s: x.index_add(0, i, s), x, positions((2,), 4), values((2,), vt.float32))  # slice shape
    check(lambda x, i, s: x.index_copy(0, i, s), x, positions((3,), 4), values((3, 4), vt.float32))
    device_still_works()


def test_mixed_devices():
    x, index = values((4, 5), vt.float32), positions((3,), 4)
    # An index from the CPU is taken over (x_cuda[cpu_index] reaches these kernels that way).
    assert_same(x.to(DEVICE).index_select(0, index), x.index_select(0, index))
    assert_same(x.to(DEVICE).gather(0, index.view(3, 1)), x.gather(0, index.view(3, 1)))
    with pytest.raises(RuntimeError, match="same device"):
        x.gather(0, index.view(3, 1).to(DEVICE))
    with pytest.raises(RuntimeError, match="same device"):
        x.to(DEVICE).index_add(0, index, values((3, 5), vt.float32))
    with pytest.raises(RuntimeError, match="same device"):
        x.to(DEVICE).scatter(0, index.view(3, 1), x)


# ---- the composites built on these kernels

def test_advanced_indexing_on_the_device():
    x = values((5, 6, 4), vt.float32)
    mask = values((5, 6), vt.bool, seed=15)
    rows, cols = positions((3, 2), 5, seed=16), positions((3, 2), 6, seed=17)
    check(lambda x, m: x[m], x, mask)
    check(lambda x, r, c: x[r, :, c % 4], x, rows, cols)
    check(lambda x, r, c: x[r, c], x, rows, cols)
    check(lambda x, m: x.masked_select(m.unsqueeze(-1)), x, mask)
    check(lambda x, i: x.take(i), x, positions((10,), 120))

    def put(x, r, v, accumulate):
        y = x.clone()
        y.index_put_((r,), v, accumulate=accumulate)
        return y
    check(lambda x, r, v: put(x, r, v, False), x, rows.view(-1), values((6, 6, 4), vt.float32, seed=18))
    check(lambda x, r, v: put(x, r, v, True), x, rows.view(-1), values((6, 6, 4), vt.float32, seed=18))

    def assign(x, m):
        y = x.clone()
        y[m] = -7.0
        return y
    check(assign, x, mask)


# ---- fused optimizers

OPTIMIZER_CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.95), weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.01, maximize=True, eps=1e-6)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.02, weight_decay=0.3, amsgrad=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5)),
]
OPTIMIZER_IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for name, kw in OPTIMIZER_CASES]
# One or two units in the last place of the stored type (the device fuses multiply-adds).
OPTIMIZER_TOL = {vt.float32: dict(rtol=2e-5, atol=2e-6), vt.float64: dict(rtol=1e-12, atol=1e-13),
                 vt.float16: dict(rtol=4e-3, atol=4e-3), vt.bfloat16: dict(rtol=3e-2, atol=0.25)}
# bfloat16 keeps 8 bits: a one-ulp difference from a fused multiply-add in one step grows over
# five steps where momentum and gradient cancel (seen: 4.5 against 4.72 in a buffer reaching
# 32, whose ulp there is 0.25).
# A matrix, a vector, a transposed (strided) matrix, one parameter of several chunks of the
# multi-tensor launch (16384 elements each), an empty one, and one that never gets a gradient.
PARAM_SHAPES = [(4, 3), (5,), (3, 2), (40000,), (0, 3), (6,)]


def make_params(dtype, device):
    rng = np.random.default_rng(0)
    params = []
    for k, shape in enumerate(PARAM_SHAPES):
        if k == 2:
            p = vt.tensor(rng.standard_normal(shape[::-1])).to(dtype).to(device).t()
        else:
            p = vt.tensor(rng.standard_normal(shape)).to(dtype).to(device)
        params.append(p.detach().requires_grad_())
    return params


def set_gradients(params, step, dtype):
    rng = np.random.default_rng(100 + step)
    for k, p in enumerate(params):
        grad = vt.tensor(rng.standard_normal(tuple(p.shape))).to(dtype)
        if k == 2:
            grad = grad.t().contiguous().t()  # a strided gradient too
        p.grad = None if k == len(params) - 1 else grad.to(p.device)


def assert_close(got, expected, dtype, what):
    np.testing.assert_allclose(host(got), host(expected), err_msg=what, **OPTIMIZER_TOL[dtype])


def run_optimizer(name, kwargs, dtype, device, steps=5, reload=False):
    params = make_params(dtype, device)
    groups = [{"params": params[:3]}, {"params": params[3:], "lr": kwargs.get("lr", 0.01) / 2}]
    if reload:  # a fused optimizer loads its steps onto the params' device
        kwargs = dict(kwargs, fused=True)
    optimizer = getattr(vt.optim, name)(groups, **kwargs)
    history = []
    for step in range(steps):
        set_gradients(params, step, dtype)
        optimizer.step()
        if reload and step == 1:
            state = optimizer.state_dict()
            optimizer = getattr(vt.optim, name)(groups, **kwargs)
            optimizer.load_state_dict(state)
        history.append([p.detach().clone() for p in params])
    return params, optimizer, history


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("name,kwargs", OPTIMIZER_CASES, ids=OPTIMIZER_IDS)
def test_optimizer_steps_match_the_cpu(name, kwargs, dtype):
    cpu_params, cpu_opt, cpu_history = run_optimizer(name, kwargs, dtype, "cpu")
    params, opt, history = run_optimizer(name, kwargs, dtype, DEVICE)
    for step, (got, expected) in enumerate(zip(history, cpu_history)):
        for k, (g, e) in enumerate(zip(got, expected)):
            assert_close(g, e, dtype, f"step {step}, param {k}")
    for k, (p, cpu_p) in enumerate(zip(params, cpu_params)):
        state, cpu_state = opt.state[p], cpu_opt.state[cpu_p]
        assert sorted(state) == sorted(cpu_state)
        for key, value in cpu_state.items():
            if isinstance(value, vt.Tensor) and key != "step":
                assert state[key].device.type == DEVICE
                assert_close(state[key], value, dtype, f"param {k} state {key}")
        if k == 2 and p.grad is not None:
            assert not p.is_contiguous()  # updated in place through a dense copy


STEP_CASES = [(case, i) for case, i in zip(OPTIMIZER_CASES, OPTIMIZER_IDS) if case[0] in ("Adam", "AdamW", "Adagrad")]


@pytest.mark.parametrize("name,kwargs", [case for case, _ in STEP_CASES], ids=[i for _, i in STEP_CASES])
def test_optimizer_steps_held_on_the_device(name, kwargs):
    """After load_state_dict a fused optimizer's steps live on the device: the step counters
    are advanced there and the kernel reads them there."""
    _, _, cpu_history = run_optimizer(name, kwargs, vt.float32, "cpu", reload=True)
    params, opt, history = run_optimizer(name, kwargs, vt.float32, DEVICE, reload=True)
    assert opt.state[params[0]]["step"].device.type == DEVICE
    assert opt.state[params[0]]["step"].item() == 5
    for step, (got, expected) in enumerate(zip(history, cpu_history)):
        for k, (g, e) in enumerate(zip(got, expected)):
            assert_close(g, e, vt.float32, f"step {step}, param {k}")


def adam_inputs(device):
    """params, grads, exp_avgs, exp_avg_sqs: three parameters, one of several chunks."""
    rng = np.random.default_rng(3)
    shapes = [(3, 4), (20000,), (7,)]
    lists = [[vt.tensor(rng.standard_normal(s).astype(np.float32)).to(device) for s in shapes] for _ in range(4)]
    lists[3] = [t.abs() for t in lists[3]]
    return lists


def adam_call(device, scalars_device, grad_scale=None, found_inf=None):
    """One _fused_adam_ call, with its steps, grad_scale and found_inf on `scalars_device`."""
    params, grads, exp_avgs, exp_avg_sqs = adam_inputs(device)
    steps = [vt.tensor(float(k + 2)).to(scalars_device) for k in range(len(params))]
    def scalar(value):
        return None if value is None else vt.tensor(value).to(scalars_device)
    _C._fused_adam_(params, grads, exp_avgs, exp_avg_sqs, [], steps, lr=0.01, beta1=0.9, beta2=0.99,
                    weight_decay=0.01, eps=1e-8, amsgrad=False, maximize=False, grad_scale=scalar(grad_scale),
                    found_inf=scalar(found_inf))
    return params, grads, exp_avgs, exp_avg_sqs


@pytest.mark.parametrize("scalars_on", ["cpu", "device"])
def test_fused_step_scalars_grad_scale_and_found_inf(scalars_on):
    scalars_device = "cpu" if scalars_on == "cpu" else DEVICE
    for grad_scale, found_inf in ((None, None), (4.0, None), (4.0, 0.0), (4.0, 1.0), (None, 1.0)):
        expected = adam_call("cpu", "cpu", grad_scale, found_inf)
        got = adam_call(DEVICE, scalars_device, grad_scale, found_inf)
        for what, g_list, e_list in zip(("param", "grad", "exp_avg", "exp_avg_sq"), got, expected):
            for g, e in zip(g_list, e_list):
                assert_close(g, e, vt.float32, f"{what} with grad_scale={grad_scale}, found_inf={found_inf}")
    # found_inf skips the step: nothing changes, the gradients stay scaled; without it they are unscaled
    start = adam_inputs("cpu")
    skipped = adam_call(DEVICE, scalars_device, 4.0, 1.0)
    for got, expected in zip(skipped, start):
        for g, e in zip(got, expected):
            assert_same(g, e)
    unscaled = adam_call(DEVICE, scalars_device, 4.0, 0.0)
    assert_same(unscaled[1][0], start[1][0] / 4)


def test_fused_step_argument_errors():
    p = vt.zeros(3, device=DEVICE)
    with pytest.raises(RuntimeError, match="has dtype"):
        _C._fused_sgd_([p], [vt.zeros(3, dtype=vt.float64, device=DEVICE)], [], weight_decay=0.0, momentum=0.0,
                       lr=0.1, dampening=0.0, nesterov=False, maximize=False, is_first_step=False)
    with pytest.raises(RuntimeError, match="is on"):
        _C._fused_sgd_([p], [vt.zeros(3)], [], weight_decay=0.0, momentum=0.0, lr=0.1, dampening=0.0,
                       nesterov=False, maximize=False, is_first_step=False)
    with pytest.raises(NotImplementedError):
        _C._fused_sgd_([vt.zeros(3, dtype=vt.int32, device=DEVICE)], [vt.zeros(3, dtype=vt.int32, device=DEVICE)], [],
                       weight_decay=0.0, momentum=0.0, lr=0.1, dampening=0.0, nesterov=False, maximize=False,
                       is_first_step=False)
