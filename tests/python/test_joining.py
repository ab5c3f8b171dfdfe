"""cat, stack, split, split_with_sizes, chunk and unbind against torch: every dtype, mixed dtypes
(cat promotes), negative dims, empty tensors (and cat's legacy 1-D empty operand), 0-dim errors,
non-contiguous inputs, out=, whether the pieces are views, and the errors torch raises."""
import pytest
import torch

from helpers import DTYPE_NAMES, compare, compare_layouts, expanded, make, raises_like_torch


# ---- cat

@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_cat(dtype, dim):
    shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]]
    for i, size in enumerate([1, 3, 2]):
        shapes[i][dim] = size
    a, b, c = (make(tuple(s), dtype, seed=i) for i, s in enumerate(shapes))
    compare(lambda m, x, y, z: m.cat([x, y, z], dim), a, b, c)
    compare(lambda m, x, y, z: m.cat((x, y, z), dim=dim), a, b, c)
    compare(lambda m, x: m.cat([x], dim), a)


@pytest.mark.parametrize("dtypes", [("int64", "float32"), ("bool", "int8"), ("uint8", "int8"), ("float16", "bfloat16"),
                                    ("int32", "float64"), ("bool", "bool"), ("float32", "float64"),
                                    ("bfloat16", "int64")], ids=str)
def test_cat_mixed_dtypes(dtypes):
    a, b = make((2, 3), dtypes[0], seed=1), make((1, 3), dtypes[1], seed=2)
    compare(lambda m, x, y: m.cat([x, y]), a, b)
    compare(lambda m, x, y: m.cat([y, x, y]), a, b)


def test_cat_layouts():
    a, b = make((3, 4)), make((3, 2), seed=1)
    compare_layouts(lambda m, x, y: m.cat([x, y], 1), a, b)
    compare_layouts(lambda m, x, y: m.cat([x, y.t().contiguous().t()], 1), a, b)
    compare(lambda m, x, y: m.cat([x, y], 0), expanded((3, 4)), make((2, 4)))
    compare(lambda m, x: m.cat([x, x[1:], x.t()[:2].t()], 0), make((3, 2)))
    compare(lambda m, x: m.cat([x.t(), x.t()], 1), make((300, 200)))


def test_cat_empty():
    compare(lambda m, x, y: m.cat([x, y]), make((0, 3)), make((2, 3)))
    compare(lambda m, x, y: m.cat([x, y], 1), make((2, 0)), make((2, 3)))
    compare(lambda m, x, y: m.cat([x, y]), make((0, 3)), make((0, 3)))
    compare(lambda m, x, y: m.cat([x, y], 1), make((0, 3)), make((0, 2)))
    compare(lambda m, x, y: m.cat([x, y]), make((0,)), make((2, 3)))  # legacy: a 1-D empty operand is skipped
    compare(lambda m, x, y: m.cat([y, x], 1), make((0,), "int64"), make((2, 3)))


@pytest.mark.xfail(strict=True, reason="cat and stack have no out= (TypeError: incompatible function arguments); "
                   "torch.cat(tensors, out=o) and torch.stack(tensors, out=o) work")
def test_cat_out():
    a, b = make((2, 3)), make((1, 3), seed=1)
    compare(lambda m, x, y, o: m.cat([x, y], out=o), a, b, torch.empty(3, 3))
    compare(lambda m, x, y, o: m.cat([x, y], out=o), a, b, torch.empty(0))
    compare(lambda m, x, y, o: m.cat([x, y], 0, out=o), a, b, torch.empty(3, 3, dtype=torch.float64))
    compare(lambda m, x, y, o: m.cat([x, y], out=o) is o, a, b, torch.empty(3, 3))
    compare(lambda m, x, y, o: m.cat([x, y], out=o), a, b, torch.empty(3, 3, dtype=torch.int64))  # can't cast


def test_cat_errors():
    raises_like_torch(lambda m, x, y: m.cat([x, y]), make((2, 3)), make((2, 4)))
    raises_like_torch(lambda m, x, y: m.cat([x, y]), make((2, 3)), make((3,)))
    raises_like_torch(lambda m, x, y: m.cat([x, y], 2), make((2, 3)), make((2, 3)))
    raises_like_torch(lambda m, x, y: m.cat([x, y]), make(()), make(()))
    raises_like_torch(lambda m, x: m.cat(x), make((2, 3)))
    raises_like_torch(lambda m, x: m.cat([x, 1]), make((2, 3)))


@pytest.mark.xfail(strict=True, reason="cat([]) raises NotImplementedError 'Could not run 'cat' with arguments from "
                   "the 'CPU' backend'; torch raises ValueError 'torch.cat(): expected a non-empty list of Tensors'")
def test_cat_empty_list_errors():
    raises_like_torch(lambda m: m.cat([]))
    raises_like_torch(lambda m: m.cat(()))


# ---- stack

@pytest.mark.parametrize("dim", [0, 1, 2, 3, -1, -4])
@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_stack(dtype, dim):
    a, b = make((2, 3, 4), dtype, seed=1), make((2, 3, 4), dtype, seed=2)
    compare(lambda m, x, y: m.stack([x, y, x], dim), a, b)
    compare(lambda m, x, y: m.stack((x, y), dim=dim), a, b)


def test_stack_forms():
    compare(lambda m, x, y: m.stack([x, y]), make(()), make((), seed=1))
    compare(lambda m, x, y: m.stack([x, y], -1), make((0, 2)), make((0, 2), seed=1))
    compare(lambda m, x, y: m.stack([x, y]), make((3,), "int64"), make((3,), "float16", seed=1))
    compare_layouts(lambda m, x, y: m.stack([x, y], 1), make((3, 4)), make((3, 4), seed=1))


@pytest.mark.xfail(strict=True, reason="stack has no out= (TypeError: incompatible function arguments); "
                   "torch.stack(tensors, out=o) works")
def test_stack_out():
    compare(lambda m, x, y, o: m.stack([x, y], out=o), make((3,)), make((3,), seed=1), torch.empty(2, 3))


def test_stack_errors():
    raises_like_torch(lambda m, x, y: m.stack([x, y]), make((2, 3)), make((3, 2)))
    raises_like_torch(lambda m, x, y: m.stack([x, y], 3), make((2, 3)), make((2, 3)))
    raises_like_torch(lambda m, x, y: m.stack([x, y], -4), make((2, 3)), make((2, 3)))
    raises_like_torch(lambda m: m.stack([]))


# ---- split, split_with_sizes, chunk, unbind

SPLITS = {
    "split_2": lambda m, t, d: m.split(t, 2, d), "split_3": lambda m, t, d: t.split(3, dim=d),
    "split_1": lambda m, t, d: t.split(1, d), "split_big": lambda m, t, d: t.split(10, d),
    "split_sizes": lambda m, t, d: m.split(t, [1, 0, t.shape[d] - 1], d),
    "split_sizes_method": lambda m, t, d: t.split([t.shape[d] - 2, 2], dim=d),
    "chunk_2": lambda m, t, d: m.chunk(t, 2, d), "chunk_3": lambda m, t, d: t.chunk(3, dim=d),
    "chunk_4": lambda m, t, d: t.chunk(4, d), "chunk_big": lambda m, t, d: t.chunk(9, d),
    "chunk_1": lambda m, t, d: t.chunk(1, d),
    "unbind": lambda m, t, d: m.unbind(t, d), "unbind_method": lambda m, t, d: t.unbind(dim=d),
}


@pytest.mark.xfail(strict=True, reason="torch.split_with_sizes and Tensor.split_with_sizes are missing "
                   "(AttributeError); split(t, [sizes]) works")
def test_split_with_sizes():
    compare(lambda m, t: t.split_with_sizes([2, 3], 0), make((5, 3)))
    compare(lambda m, t: m.split_with_sizes(t, [1, 2], dim=1), make((5, 3)))


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", SPLITS)
def test_split(name, dim):
    x = make((5, 6, 4))
    compare(lambda m, t: SPLITS[name](m, t, dim), x)
    compare(lambda m, t: [p.stride() for p in SPLITS[name](m, t, dim)], x)  # views
    compare(lambda m, t: [p.storage_offset() for p in SPLITS[name](m, t, dim)], x)


@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_split_dtypes(dtype):
    x = make((5, 3), dtype)
    for fn in SPLITS.values():
        compare(lambda m, t: fn(m, t, 0), x)


@pytest.mark.parametrize("name", SPLITS)
def test_split_layouts(name):
    compare_layouts(lambda m, t: SPLITS[name](m, t, 1), make((4, 6)))
    compare(lambda m, t: SPLITS[name](m, t, 1), expanded((4, 6)))


@pytest.mark.parametrize("name", SPLITS)
def test_split_pieces_are_views(name):
    """Writing into a piece writes into the input (compare checks the input after the call)."""
    compare(lambda m, t: [p.fill_(i) for i, p in enumerate(SPLITS[name](m, t, 1))][-1], make((4, 6)))


def test_split_returns_a_tuple():
    compare(lambda m, t: type(m.split(t, 2)).__name__, make((5,)))
    compare(lambda m, t: type(t.chunk(2)).__name__, make((5,)))
    compare(lambda m, t: type(t.unbind()).__name__, make((5,)))


def test_split_empty():
    compare(lambda m, t: m.split(t, 2), make((0, 3)))
    compare(lambda m, t: m.split(t, 2, 1), make((0, 3)))
    compare(lambda m, t: m.chunk(t, 3, 0), make((0, 3)))
    compare(lambda m, t: m.unbind(t, 0), make((0, 3)))
    compare(lambda m, t: m.split(t, [0, 0], 0), make((0, 3)))
    compare(lambda m, t: m.split(t, 0, 0), make((0, 3)))


def test_split_errors():
    x = make((5, 3))
    raises_like_torch(lambda m, t: m.split(t, [2, 2], 0), x)  # sizes do not add up
    raises_like_torch(lambda m, t: m.split(t, [6, -1], 0), x)
    raises_like_torch(lambda m, t: m.split(t, 2, 2), x)
    raises_like_torch(lambda m, t: m.split(t, -1, 0), x)
    raises_like_torch(lambda m, t: m.split(t, 0, 0), x)
    raises_like_torch(lambda m, t: m.chunk(t, 0, 0), x)
    raises_like_torch(lambda m, t: m.chunk(t, -2, 0), x)
    raises_like_torch(lambda m, t: m.chunk(t, 2, 3), x)
    raises_like_torch(lambda m, t: m.unbind(t, 2), x)
    raises_like_torch(lambda m, t: m.split(t, 1), make(()))
    raises_like_torch(lambda m, t: m.chunk(t, 1), make(()))


def test_unbind_0dim_errors():
    raises_like_torch(lambda m, t: m.unbind(t), make(()))
