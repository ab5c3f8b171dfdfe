"""The CUDA ordering kernels (src/cuda/sort_kernels.cu) and the random ops built on them
(multinomial, randperm) against the same ops on the CPU, whose results test_ordering.py and the
op sweep check against torch.

Sort must give the CPU's stable order exactly, indices included: inputs hold few distinct
values (many ties), NaN and both zeros, along every dim, in both directions, for every dtype,
with rows at each edge of the block sort's tiers, of the segmented sort and of the one-row-at-a-
time path.
Skipped without a GPU. (test_ordering.py and the sweep also run on the GPU with
VT_TEST_DEVICE=cuda.)"""
import math

import numpy as np
import pytest

import vibetensor as vt

pytestmark = pytest.mark.skipif(not vt.cuda.is_available(), reason="needs a CUDA device")

DTYPES = [vt.bool, vt.uint8, vt.int8, vt.int16, vt.int32, vt.int64, vt.float16, vt.bfloat16, vt.float32, vt.float64]
FLOATS = [vt.float16, vt.bfloat16, vt.float32, vt.float64]


def ties(shape, dtype, seed=0):
    """Values from a small set (every row has ties): -3..3 (0..6 unsigned, 0/1 bool); floats
    also hold NaN, -0.0, +0.0 and infinities."""
    rng = np.random.default_rng(seed)
    if dtype == vt.bool:
        return vt.tensor(rng.integers(0, 2, size=shape).astype(np.bool_))
    if dtype in FLOATS:
        pool = np.array([-3, -1.5, -0.0, 0.0, 1, 2.5, math.nan, math.inf, -math.inf])
        return vt.tensor(rng.choice(pool, size=shape)).to(dtype)
    low = 0 if dtype == vt.uint8 else -3
    return vt.tensor(rng.integers(low, low + 7, size=shape)).to(dtype)


def assert_equal(actual, expected):
    assert actual.device.type == "cuda"
    a, e = actual.cpu(), expected
    assert a.dtype == e.dtype and tuple(a.shape) == tuple(e.shape)
    if a.dtype in FLOATS:
        a, e = a.to(vt.float64).numpy(), e.to(vt.float64).numpy()
        # NaN matches NaN; signs of zeros must match as well (the values are gathered, not rebuilt)
        np.testing.assert_array_equal(a, e)
        np.testing.assert_array_equal(np.signbit(a), np.signbit(e))
    else:
        assert bool((a == e).all())


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("shape,dim", [((57,), 0), ((40, 33), 1), ((40, 33), 0), ((3, 5, 7), 1),
                                       ((3, 20000), -1), ((70000,), 0), ((0, 4), 1), ((4, 0), 1)])
def test_sort_matches_cpu(dtype, descending, shape, dim):
    x = ties(shape, dtype)
    values, indices = vt.sort(x.cuda(), dim=dim, descending=descending)
    want_values, want_indices = vt.sort(x, dim=dim, descending=descending)
    assert_equal(values, want_values)
    assert_equal(indices, want_indices)


# One dtype per key width (1, 2, 4 and 8 bytes); row lengths at both sides of each path's edge:
# the block sort's tiers (128, 512, 2048, 4096 keys), the segmented sort (below 16384) and the
# one-row-at-a-time sort.
@pytest.mark.parametrize("dtype", [vt.bool, vt.int8, vt.bfloat16, vt.int32, vt.float32, vt.float64], ids=str)
@pytest.mark.parametrize("n", [1, 2, 31, 128, 129, 512, 513, 2048, 2049, 4096, 4097, 16383, 16384])
def test_sort_at_each_path_edge(dtype, n):
    x = ties((3, n), dtype, seed=n)
    for descending in (False, True):
        values, indices = vt.sort(x.cuda(), dim=1, descending=descending)
        want_values, want_indices = vt.sort(x, dim=1, descending=descending)
        assert_equal(values, want_values)
        assert_equal(indices, want_indices)


def test_sort_of_non_contiguous_and_0_dim():
    x = ties((30, 40), vt.float32).cuda()
    for view in (x.t(), x[:, ::3], x[3]):
        assert_equal(vt.sort(view, dim=0)[1], vt.sort(view.cpu(), dim=0)[1])
    v, i = vt.sort(vt.tensor(2.5).cuda())
    assert v.item() == 2.5 and i.item() == 0 and i.dim() == 0


def test_ops_built_on_sort():
    x = vt.tensor(np.random.default_rng(1).standard_normal((6, 300)).astype(np.float32))
    g = x.cuda()
    assert_equal(vt.argsort(g, dim=1, descending=True), vt.argsort(x, dim=1, descending=True))
    for a, b in zip(vt.topk(g, 7, dim=1), vt.topk(x, 7, dim=1)):
        assert_equal(a, b)
    for a, b in zip(vt.kthvalue(g, 5, dim=0), vt.kthvalue(x, 5, dim=0)):
        assert_equal(a, b)
    assert_equal(vt.median(g), vt.median(x))
    assert_equal(vt.unique(g.round()), vt.unique(x.round()))


def test_sort_backward_on_cuda():
    x = vt.tensor(np.random.default_rng(2).standard_normal((4, 50)).astype(np.float32)).cuda().requires_grad_()
    values, _ = vt.sort(x, dim=1)
    (values * vt.arange(50, dtype=vt.float32).cuda()).sum().backward()
    cpu = x.detach().cpu().requires_grad_()
    values, _ = vt.sort(cpu, dim=1)
    (values * vt.arange(50, dtype=vt.float32)).sum().backward()
    assert_equal(x.grad, cpu.grad)


@pytest.mark.parametrize("dtype", [vt.int32, vt.int64, vt.float16, vt.float32, vt.float64], ids=str)
@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_matches_cpu(dtype, right):
    sequence = vt.sort(ties((5, 40), dtype, seed=3), dim=1)[0]
    values = ties((5, 17), dtype, seed=4)
    got = vt.searchsorted(sequence.cuda(), values.cuda(), right=right)
    assert_equal(got, vt.searchsorted(sequence, values, right=right))
    one = sequence[0]
    assert_equal(vt.searchsorted(one.cuda(), values.cuda(), right=right, out_int32=True),
                 vt.searchsorted(one, values, right=right, out_int32=True))
    assert_equal(vt.bucketize(values.cuda(), one.cuda(), right=right), vt.bucketize(values, one, right=right))


def test_searchsorted_with_sorter_and_its_errors():
    sequence = ties((60,), vt.float32, seed=5)
    sorter = vt.argsort(sequence)
    values = ties((9,), vt.float32, seed=6)
    got = vt.searchsorted(sequence.cuda(), values.cuda(), sorter=sorter.cuda())
    assert_equal(got, vt.searchsorted(sequence, values, sorter=sorter))
    with pytest.raises(IndexError, match="sorter index out of range"):
        vt.searchsorted(sequence.cuda(), values.cuda(), sorter=(sorter + 1).cuda())
    with pytest.raises(RuntimeError, match="side can only be 'left' or 'right'"):
        vt.searchsorted(sequence.cuda(), values.cuda(), side="up")


def test_searchsorted_of_a_python_number():
    sequence = vt.tensor([1.0, 2.0, 3.0]).cuda()
    assert vt.searchsorted(sequence, 2.5).item() == 2


def test_multinomial_on_cuda_draws_the_distribution():
    probs = [[0.1, 0.0, 0.6, 0.3], [1.0, 1.0, 0.0, 2.0]]
    vt.manual_seed(0)
    draws = vt.multinomial(vt.tensor(probs).cuda(), 4000, replacement=True)
    assert draws.device.type == "cuda" and draws.dtype == vt.int64 and tuple(draws.shape) == (2, 4000)
    for row, weights in enumerate(probs):
        freq = draws[row].cpu().bincount(minlength=4).double() / 4000
        want = vt.tensor(weights, dtype=vt.float64) / sum(weights)
        assert bool(((freq - want).abs() < 0.04).all()), (row, freq.tolist())


def test_multinomial_without_replacement_on_cuda():
    p = vt.tensor([[0.1, 0.0, 0.6, 0.3], [1.0, 1.0, 0.0, 2.0]]).cuda()
    draws = vt.multinomial(p, 3).cpu().tolist()
    # three draws of three possible categories: each one once, never a zero-probability one
    assert sorted(draws[0]) == [0, 2, 3] and sorted(draws[1]) == [0, 1, 3]
    with pytest.raises(RuntimeError, match="not enough non-negative category"):
        vt.multinomial(p, 4)
    with pytest.raises(RuntimeError, match="probability tensor contains"):
        vt.multinomial(vt.tensor([0.5, -0.1]).cuda(), 1)


def test_randperm_on_cuda_matches_cpu_draws():
    vt.manual_seed(3)
    on_gpu = vt.randperm(1000, device="cuda")
    vt.manual_seed(3)
    on_cpu = vt.randperm(1000)
    assert on_gpu.device.type == "cuda"
    assert on_gpu.cpu().tolist() == on_cpu.tolist()
    assert sorted(on_cpu.tolist()) == list(range(1000))
