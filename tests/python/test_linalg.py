"""mm, bmm, matmul and @ against torch: every dtype, every rank combination of matmul with batch
broadcasting, transposed and strided operands, empty sizes, and the shape and dtype errors."""
import pytest
import torch

from helpers import DTYPE_NAMES, compare, compare_layouts, expanded, make, raises_like_torch

# float16/bfloat16 products of length-k dot products: torch accumulates in float32 and rounds once.
HALF_TOLERANCE = {"float16": dict(rtol=2e-3, atol=1e-3), "bfloat16": dict(rtol=1.6e-2, atol=1e-2)}


def tolerance(dtype):
    return HALF_TOLERANCE.get(dtype, {})


@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_mm_dtypes(dtype):
    a, b = make((5, 7), dtype, seed=1), make((7, 3), dtype, seed=2)
    compare(lambda m, x, y: m.mm(x, y), a, b, **tolerance(dtype))
    compare(lambda m, x, y: x.mm(y), a, b, **tolerance(dtype))


@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_bmm_dtypes(dtype):
    a, b = make((4, 5, 7), dtype, seed=1), make((4, 7, 3), dtype, seed=2)
    compare(lambda m, x, y: m.bmm(x, y), a, b, **tolerance(dtype))
    compare(lambda m, x, y: x.bmm(y), a, b, **tolerance(dtype))


@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_matmul_dtypes(dtype):
    a, b = make((2, 5, 7), dtype, seed=1), make((7, 3), dtype, seed=2)
    compare(lambda m, x, y: m.matmul(x, y), a, b, **tolerance(dtype))
    compare(lambda m, x, y: x @ y, a, b, **tolerance(dtype))
    compare(lambda m, x, y: x.matmul(y), a, b, **tolerance(dtype))


MATMUL_SHAPES = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
    ((5, 2, 3), (3,)), ((3,), (5, 3, 4)), ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)),
    ((5, 2, 3), (5, 3, 4)), ((5, 2, 3), (1, 3, 4)), ((1, 2, 3), (5, 3, 4)),
    ((2, 1, 2, 3), (5, 3, 4)), ((6, 1, 2, 3), (1, 4, 3, 2)), ((2, 3, 1, 4), (4,)), ((4,), (2, 3, 4, 1)),
    ((1, 3), (3, 1)), ((3, 1), (1, 3)), ((1,), (1,)),
    ((0, 3), (3, 2)), ((2, 3), (3, 0)), ((2, 0), (0, 3)), ((0,), (0,)), ((0, 2, 3), (3, 4)), ((3, 2, 0), (0, 4)),
    ((0,), (0, 4)), ((2, 0), (0,)), ((5, 2, 0), (0,)), ((0,), (5, 0, 4)), ((2, 1, 0), (3, 0, 4)),
    ((0, 2, 3), (0, 3, 4)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_matmul_ranks(dtype, shapes):
    a, b = make(shapes[0], dtype, seed=1), make(shapes[1], dtype, seed=2)
    compare(lambda m, x, y: m.matmul(x, y), a, b)


@pytest.mark.parametrize("shapes", [((2, 3), (4,)), ((3,), (4,)), ((2, 3), (2, 3)), ((5, 2, 3), (4, 3, 4)),
                                    ((2, 2, 3), (3, 3, 4)), ((3,), (2, 4, 5))], ids=str)
def test_matmul_shape_errors(shapes):
    raises_like_torch(lambda m, x, y: m.matmul(x, y), make(shapes[0]), make(shapes[1]))


def test_matmul_zero_dim_errors():
    raises_like_torch(lambda m, x, y: m.matmul(x, y), make(()), make((3,)))
    raises_like_torch(lambda m, x, y: x @ y, make((3,)), make(()))


@pytest.mark.parametrize("shapes", [((2, 3), (4, 5)), ((3,), (3, 4)), ((2, 3, 4), (4, 5)), ((2, 3), (3,))], ids=str)
def test_mm_shape_errors(shapes):
    raises_like_torch(lambda m, x, y: m.mm(x, y), make(shapes[0]), make(shapes[1]))


@pytest.mark.parametrize("shapes", [((2, 3, 4), (3, 4, 5)), ((2, 3, 4), (2, 5, 6)), ((3, 4), (4, 5)),
                                    ((2, 3, 4), (1, 4, 5)), ((1, 2, 3, 4), (1, 2, 4, 5))], ids=str)
def test_bmm_shape_errors(shapes):
    raises_like_torch(lambda m, x, y: m.bmm(x, y), make(shapes[0]), make(shapes[1]))


@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("float32", "int64"), ("int32", "int64"),
                                    ("float16", "float32"), ("bfloat16", "float16")], ids=str)
@pytest.mark.parametrize("op", ["mm", "bmm", "matmul"])
def test_dtype_mismatch_errors(op, dtypes):
    shape_a, shape_b = ((4, 2, 3), (4, 3, 5)) if op == "bmm" else ((2, 3), (3, 5))
    raises_like_torch(lambda m, x, y: getattr(m, op)(x, y), make(shape_a, dtypes[0]), make(shape_b, dtypes[1]))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "float16"])
def test_mm_layouts(dtype):
    a, b = make((6, 5), dtype, seed=1), make((5, 4), dtype, seed=2)
    compare_layouts(lambda m, x, y: m.mm(x, y), a, b, **tolerance(dtype))
    compare(lambda m, x, y: m.mm(x.t(), y.t()), a.t().contiguous(), b.t().contiguous(), **tolerance(dtype))
    compare(lambda m, x, y: m.mm(x, y), expanded((6, 5), dtype), b, **tolerance(dtype))
    compare(lambda m, x, y: m.mm(x[1:, ::2], y[::2, 1:]), make((7, 10), dtype), make((10, 5), dtype),
            **tolerance(dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bmm_layouts(dtype):
    a, b = make((3, 6, 5), dtype, seed=1), make((3, 5, 4), dtype, seed=2)
    compare_layouts(lambda m, x, y: m.bmm(x, y), a, b)
    compare(lambda m, x, y: m.bmm(x.transpose(0, 1), y.permute(1, 0, 2)), a.transpose(0, 1).contiguous(),
            b.transpose(0, 1).contiguous())
    compare(lambda m, x, y: m.bmm(x, y), make((1, 6, 5), dtype).expand(3, 6, 5), b)
    compare(lambda m, x, y: m.bmm(x, y.expand(3, 5, 4)), a, make((1, 5, 4), dtype))


def test_matmul_broadcast_with_transposed_batches():
    a = make((4, 3, 2, 5))
    b = make((3, 5, 6), seed=2)
    compare(lambda m, x, y: m.matmul(x.transpose(0, 1), y), a.transpose(0, 1).contiguous(), b)
    compare(lambda m, x, y: m.matmul(x, y.mT.contiguous().mT), a, b)


def test_matmul_large():
    compare(lambda m, x, y: x @ y, make((130, 257)), make((257, 65), seed=2), rtol=1e-5, atol=1e-4)
    compare(lambda m, x, y: x @ y, make((64, 64), "float64"), make((64, 64), "float64", seed=2))
    compare(lambda m, x, y: x.t() @ y, make((257, 130)), make((257, 65), seed=2), rtol=1e-5, atol=1e-4)


def test_matmul_vector_results_are_fresh():
    # Products of vectors return new tensors (0-dim for vector @ vector).
    compare(lambda m, x, y: (x @ y).shape, make((3,)), make((3,)))
    compare(lambda m, x, y: (x @ y).ndim, make((3,)), make((3,)))


def test_matmul_operator_with_non_tensor():
    raises_like_torch(lambda m, x: x @ 2, make((2, 2)))
    raises_like_torch(lambda m, x: 2 @ x, make((2, 2)))
    raises_like_torch(lambda m, x: x @ [[1.0, 0.0], [0.0, 1.0]], make((2, 2)))


def test_int_matmul_no_overflow_shortcuts():
    # int64 products large enough that accumulating in float64 would lose digits.
    a = torch.tensor([[2 ** 40, 3], [1, 2 ** 45]])
    b = torch.tensor([[2 ** 12 + 1, 1], [7, 2 ** 9 + 3]])
    compare(lambda m, x, y: x @ y, a, b)


def test_mm_rejects_wrong_rank():
    raises_like_torch(lambda m, x, y: m.mm(x, y), make((3,)), make((3,)))
    raises_like_torch(lambda m, x, y: m.bmm(x, y), make((2, 3)), make((3, 2)))
