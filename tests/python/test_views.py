"""View and copy ops against torch: values, shape, strides, storage offset, whether the result
shares memory with its input (and so whether writes go through), the errors, and indexing with
ints, slices, None and Ellipsis, for reading and for assignment."""
import pytest
import torch
from hypothesis import given, settings, strategies as st

from helpers import DTYPE_NAMES, compare, make, raises_like_torch


def storage_start(t):
    """The address of the first element of `t`'s storage (data_ptr less the offset)."""
    return t.data_ptr() - t.storage_offset() * t.element_size()


def layout(m, v, base):
    """Everything a view is judged on: values (compared by `compare`), strides, offset, and
    whether it lives in the same storage as `base`. (torch's data_ptr() is 0 for any empty
    tensor, so sharing is not judged for those.)"""
    shares = storage_start(v) == storage_start(base) if v.numel() and base.numel() else None
    return v, v.stride(), v.storage_offset(), shares


def check_view(fn, x, write=True):
    """`fn(m, t)` is a view of `t`: same layout as torch's, and (if `write`) writes go through."""
    compare(lambda m, t: layout(m, fn(m, t), t), x)
    if write:
        # Write through the view, then return the base: torch and vibetensor must agree on what changed.
        compare(lambda m, t: (fn(m, t).mul_(-2).add_(1), t)[1], x)


X = make((3, 4, 5))

VIEWS = {
    "view": lambda m, t: t.view(12, 5),
    "view_minus_one": lambda m, t: t.view(-1, 10),
    "view_flat": lambda m, t: t.view(-1),
    "view_args_tuple": lambda m, t: t.view((5, 12)),
    "view_add_ones": lambda m, t: t.view(1, 3, 1, 4, 5, 1),
    "view_as": lambda m, t: t.view_as(m.zeros(60)),
    "reshape": lambda m, t: t.reshape(4, 15),
    "reshape_fn": lambda m, t: m.reshape(t, (2, -1, 5)),
    "reshape_as": lambda m, t: t.reshape_as(m.zeros(6, 10)),
    "permute": lambda m, t: t.permute(2, 0, 1),
    "permute_negative": lambda m, t: t.permute(-1, -3, -2),
    "permute_fn": lambda m, t: m.permute(t, (1, 2, 0)),
    "transpose": lambda m, t: t.transpose(0, 2),
    "transpose_fn_negative": lambda m, t: m.transpose(t, -1, 1),
    "swapaxes": lambda m, t: t.swapaxes(0, 1),
    "t": lambda m, t: t[0].t(),
    "t_fn": lambda m, t: m.t(t[:, 0]),
    "t_1d": lambda m, t: t[0, 0].t(),
    "T": lambda m, t: t[1].T,
    "mT": lambda m, t: t.mT,
    "squeeze_none": lambda m, t: t.view(3, 1, 4, 1, 5).squeeze(),
    "squeeze_dim": lambda m, t: t.view(3, 1, 4, 1, 5).squeeze(1),
    "squeeze_negative": lambda m, t: t.view(3, 1, 4, 1, 5).squeeze(-2),
    "squeeze_non_one": lambda m, t: t.squeeze(0),
    "squeeze_tuple": lambda m, t: t.view(3, 1, 4, 1, 5).squeeze((1, 3)),
    "squeeze_fn": lambda m, t: m.squeeze(t.view(1, 60)),
    "unsqueeze_0": lambda m, t: t.unsqueeze(0),
    "unsqueeze_end": lambda m, t: t.unsqueeze(3),
    "unsqueeze_negative": lambda m, t: t.unsqueeze(-1),
    "unsqueeze_fn": lambda m, t: m.unsqueeze(t, 1),
    "flatten": lambda m, t: t.flatten(),
    "flatten_range": lambda m, t: t.flatten(1),
    "flatten_negative": lambda m, t: m.flatten(t, 0, -2),
    "flatten_same_dim": lambda m, t: t.flatten(1, 1),
    "unflatten": lambda m, t: t.unflatten(2, (5, 1)),
    "unflatten_minus_one": lambda m, t: m.unflatten(t, 1, (2, -1)),
    "unflatten_negative_dim": lambda m, t: t.unflatten(-1, (1, 5, 1)),
    "narrow": lambda m, t: t.narrow(1, 1, 2),
    "narrow_fn_negative": lambda m, t: m.narrow(t, -1, 2, 3),
    "narrow_empty": lambda m, t: t.narrow(0, 3, 0),
    "narrow_negative_start": lambda m, t: t.narrow(2, -3, 2),
    "select": lambda m, t: t.select(1, 2),
    "select_negative": lambda m, t: m.select(t, -1, -2),
    "as_strided": lambda m, t: t.as_strided((4, 3), (1, 4)),
    "as_strided_offset": lambda m, t: m.as_strided(t, (2, 2), (10, 1), 7),
    "as_strided_overlapping": lambda m, t: t.as_strided((3, 3), (1, 1)),
    "diagonal": lambda m, t: t[0].diagonal(),
    "diagonal_offset": lambda m, t: t.diagonal(1, 1, 2),
    "diagonal_negative_offset": lambda m, t: m.diagonal(t, -2, 2, 1),
    "diagonal_offset_out_of_range": lambda m, t: t.diagonal(7, 1, 2),
    "unfold": lambda m, t: t.unfold(2, 2, 1),
    "unfold_step": lambda m, t: t.unfold(1, 2, 2),
    "unfold_whole": lambda m, t: t.unfold(0, 3, 3),
    "contiguous_noop": lambda m, t: t.contiguous(),
    "chain": lambda m, t: t.transpose(0, 1)[1:, ::2].unsqueeze(0).select(2, 1).narrow(2, 1, 3),
    "index_int": lambda m, t: t[1],
    "index_negative": lambda m, t: t[-1, -2],
    "index_slice": lambda m, t: t[1:],
    "index_step": lambda m, t: t[:, ::2],
    "index_slice_step_offset": lambda m, t: t[1:3, 1::3, ::4],
    "index_none_middle": lambda m, t: t[:, None, 1],
    "index_ellipsis": lambda m, t: t[..., 2],
    "index_ellipsis_none": lambda m, t: t[None, ..., None],
    "index_ellipsis_middle": lambda m, t: t[1, ..., 1:],
    "index_clamped_slice": lambda m, t: t[1:100, -100:2],
    "index_empty_slice": lambda m, t: t[2:1],
    "index_reversed_bounds": lambda m, t: t[:, -1:-3],
    "index_zero_dim_tensor": lambda m, t: t[m.tensor(1)],
    "index_all": lambda m, t: t[...],
    "index_all_slice": lambda m, t: t[:],
}


@pytest.mark.parametrize("name", VIEWS)
def test_view_ops(name):
    check_view(VIEWS[name], X)


def test_index_none_alone():
    check_view(lambda m, t: t[None], X)


def test_setitem_none_alone():
    compare(setitem(None), make((3, 4)), 1.0)


@pytest.mark.parametrize("name", ["permute", "transpose", "select", "narrow", "index_step", "diagonal_offset",
                                  "unfold_step", "squeeze_non_one", "unsqueeze_end", "as_strided", "mT", "chain"])
def test_view_ops_on_non_contiguous_input(name):
    base = make((5, 3, 4)).permute(1, 2, 0)  # shape (3, 4, 5), not contiguous
    check_view(VIEWS[name], base)
    check_view(VIEWS[name], make((3, 4, 10))[..., 1::2])


@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_views_every_dtype(dtype):
    x = make((3, 4, 5), dtype)
    for name in ["transpose", "index_step", "unfold", "diagonal", "view"]:
        check_view(VIEWS[name], x)


EXPAND = {
    "expand": lambda m, t: t.expand(3, 4),
    "expand_minus_one": lambda m, t: t.expand(-1, 4),
    "expand_new_dims": lambda m, t: t.expand(2, 3, 4),
    "expand_tuple": lambda m, t: t.expand((5, 3, 4)),
    "expand_same": lambda m, t: t.expand(3, 1),
    "expand_as": lambda m, t: t.expand_as(m.zeros(2, 3, 7)),
    "expand_zero": lambda m, t: t.expand(3, 0),
}


@pytest.mark.parametrize("name", EXPAND)
def test_expand(name):
    check_view(EXPAND[name], make((3, 1)), write=False)


def test_expand_then_view_ops():
    check_view(lambda m, t: t.expand(2, 3, 4).transpose(0, 2)[1:], make((3, 1)), write=False)
    check_view(lambda m, t: t.expand(2, 3, 4)[1, :, 2], make((3, 1)), write=True)


# ---- reshape and flatten: view when strides allow, copy otherwise (like torch)

RESHAPES = {
    "contiguous": (lambda t: t, (6, 10)),
    "transposed_flatten": (lambda t: t.transpose(0, 1), (-1,)),
    "transposed_split_dim": (lambda t: t.transpose(0, 2), (5, 2, 2, 3)),
    "transposed_merge_compatible": (lambda t: t.permute(1, 2, 0), (20, 3)),
    "strided_split_last": (lambda t: t[:, :, ::2], (3, 4, 3, 1)),
    "strided_merge_leading": (lambda t: t[:, :, ::2], (12, 3)),
    "strided_flatten": (lambda t: t[:, :, ::2], (-1,)),
    "sliced_rows": (lambda t: t[1:], (8, 5)),
    "size_one_dims": (lambda t: t[:, 1:2, :], (3, 5)),
    "expanded": (lambda t: t[:1].expand(3, 4, 5), (12, 5)),
    "expanded_split": (lambda t: t[:1].expand(3, 4, 5), (3, 2, 2, 5)),
    "zero_dim_target": (lambda t: t[0, 0, :1], ()),
    "empty": (lambda t: t[:, :0], (0, 7)),
    "empty_minus_one": (lambda t: t[:, :0], (3, -1)),
}


@pytest.mark.parametrize("name", RESHAPES)
def test_reshape_view_or_copy(name):
    prepare, shape = RESHAPES[name]
    compare(lambda m, t: layout(m, prepare(t).reshape(shape), t), X)
    compare(lambda m, t: layout(m, m.reshape(prepare(t), shape), t), X)


@pytest.mark.parametrize("name", ["contiguous", "transposed_flatten", "strided_merge_leading", "expanded"])
def test_flatten_view_or_copy(name):
    prepare, _ = RESHAPES[name]
    compare(lambda m, t: layout(m, prepare(t).flatten(), t), X)
    compare(lambda m, t: layout(m, prepare(t).flatten(0, 1), t), X)


def test_flatten_zero_dim():
    compare(lambda m, t: t.flatten(), make(()))
    compare(lambda m, t: m.flatten(t, 0, 0), make(()))


def test_reshape_to_and_from_zero_dim():
    compare(lambda m, t: t.reshape(()), make((1, 1)))
    compare(lambda m, t: t.reshape(1, 1, 1), make(()))
    compare(lambda m, t: t.view(-1), make(()))


# ---- copies: contiguous, clone, to, dtype shortcuts

def test_contiguous_copies_non_contiguous():
    compare(lambda m, t: layout(m, t.t().contiguous(), t), make((3, 4)))
    compare(lambda m, t: layout(m, t[:, ::2].contiguous(), t), make((3, 4)))
    compare(lambda m, t: layout(m, t.expand(3, 4).contiguous(), t), make((1, 4)))


def test_contiguous_returns_self_when_contiguous():
    compare(lambda m, t: t.contiguous() is t, make((3, 4)))


@pytest.mark.parametrize("prepare", [lambda t: t, lambda t: t[1:], lambda t: t[:, 1:3]],
                         ids=["contiguous", "offset", "sliced"])
def test_clone(prepare):
    compare(lambda m, t: layout(m, prepare(t).clone(), t), make((3, 4)))
    compare(lambda m, t: layout(m, m.clone(prepare(t)), t), make((3, 4)))
    compare(lambda m, t: (m.clone(prepare(t)).fill_(0), t)[1], make((3, 4)))


def test_clone_preserves_permuted_strides():
    compare(lambda m, t: t.t().clone().stride(), make((3, 4)))
    compare(lambda m, t: t.permute(2, 0, 1).clone().stride(), make((3, 4, 5)))


def test_clone_of_expanded_and_strided_is_contiguous():
    compare(lambda m, t: t.expand(3, 4).clone().stride(), make((1, 4)))
    compare(lambda m, t: t[:, ::2].clone().stride(), make((3, 4)))


@pytest.mark.parametrize("target", DTYPE_NAMES)
@pytest.mark.parametrize("source", DTYPE_NAMES)
def test_to_dtype(source, target):
    x = make((3, 4), source, low=-100, high=100)
    compare(lambda m, t: t.to(getattr(m, target)), x)
    compare(lambda m, t: t.t().to(dtype=getattr(m, target)), x)


@pytest.mark.parametrize("method", ["float", "double", "half", "bfloat16", "int", "long", "short", "char", "byte",
                                    "bool"])
def test_dtype_shortcut_methods(method):
    compare(lambda m, t: getattr(t, method)(), make((3, 4), low=-100, high=100))
    compare(lambda m, t: getattr(t, method)(), make((3, 4), "int64", low=-300, high=300))


def test_float_to_int_conversion_edge_values():
    x = torch.tensor([-2.7, -0.5, 0.5, 2.7, 255.9, -1.0e-3, 127.5])
    for target in ["int64", "int32", "int8", "int16"]:
        compare(lambda m, t: t.to(getattr(m, target)), x)
    compare(lambda m, t: t.to(m.uint8), x.abs())
    compare(lambda m, t: t.bool(), torch.tensor([0.0, -0.0, 1e-30, float("nan"), float("inf")]))


def test_int_to_narrow_int_wraps():
    x = torch.tensor([300, -129, 255, 65537, -1])
    for target in ["uint8", "int8", "int16", "int32"]:
        compare(lambda m, t: t.to(getattr(m, target)), x)


def test_to_same_dtype_shares_storage():
    compare(lambda m, t: layout(m, t.to(m.float32), t), make((3,)))
    compare(lambda m, t: layout(m, t.float(), t), make((3,)))
    compare(lambda m, t: layout(m, t.to("cpu"), t), make((3,)))
    compare(lambda m, t: layout(m, t.cpu(), t), make((3,)))
    compare(lambda m, t: layout(m, t.to(m.float32, copy=True), t), make((3,)))


@pytest.mark.parametrize("fn", [lambda m, t: t.to(m.float32), lambda m, t: t.float(), lambda m, t: t.to("cpu"),
                                lambda m, t: t.cpu()], ids=["to_dtype", "float", "to_cpu", "cpu"])
def test_to_without_change_returns_self(fn):
    compare(lambda m, t: fn(m, t) is t, make((3,)))


def test_to_device_and_other_tensor():
    compare(lambda m, t: t.to(m.device("cpu")).dtype, make((3,)))
    compare(lambda m, t: t.to("cpu", m.float64), make((3,)))
    compare(lambda m, t: t.to(m.zeros(1, dtype=m.int32)), make((3,)))


def test_to_bad_arguments():
    raises_like_torch(lambda m, t: t.to("nope"), make((3,)))


def test_to_bad_dtype_keyword():
    raises_like_torch(lambda m, t: t.to(dtype="float32"), make((3,)))


def test_to_preserves_strides_like_torch():
    compare(lambda m, t: t.t().to(m.float64).stride(), make((3, 4)))


# ---- copy_, fill_, zero_

@pytest.mark.parametrize("src_dtype", DTYPE_NAMES)
@pytest.mark.parametrize("dst_dtype", ["float32", "int64", "bool", "float16", "bfloat16", "uint8"])
def test_copy_dtypes(dst_dtype, src_dtype):
    compare(lambda m, d, s: d.copy_(s), make((3, 4), dst_dtype), make((3, 4), src_dtype, low=0, high=50, seed=1))


def test_copy_broadcast_and_layouts():
    compare(lambda m, d, s: d.copy_(s), make((3, 4)), make((4,), seed=1))
    compare(lambda m, d, s: d.copy_(s), make((3, 4)), make((1, 1), seed=1))
    compare(lambda m, d, s: d.copy_(s), make((3, 4)), make((), seed=1))
    compare(lambda m, d, s: d.t().copy_(s), make((3, 4)), make((4, 3), seed=1))
    compare(lambda m, d, s: d[:, ::2].copy_(s.t()), make((3, 4)), make((2, 3), seed=1))
    compare(lambda m, d, s: d.copy_(s.expand(3, 4)), make((3, 4)), make((1, 4), seed=1))


def test_copy_errors():
    raises_like_torch(lambda m, d, s: d.copy_(s), make((3, 4)), make((3,), seed=1))
    raises_like_torch(lambda m, d, s: d.copy_(s), make((4,)), make((3, 4), seed=1))


def test_copy_from_itself():
    compare(lambda m, d: d.copy_(d), make((6,)))


def test_copy_partially_overlapping_source():
    compare(lambda m, d: d[1:].copy_(d[:-1]), make((6,)))


@pytest.mark.parametrize("value", [0, 1, -3, 2.5, True, 1e10, float("nan")], ids=repr)
@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_fill(dtype, value):
    compare(lambda m, t: t.fill_(value), make((3, 4), dtype))
    compare(lambda m, t: t[:, 1::2].fill_(value), make((3, 4), dtype))


def test_fill_with_zero_dim_tensor():
    compare(lambda m, t: t.fill_(m.tensor(2.5)), make((3, 4)))


def test_zero():
    compare(lambda m, t: t.zero_(), make((3, 4), "int32"))
    compare(lambda m, t: t.t()[1:].zero_(), make((3, 4)))


# ---- errors

VIEW_ERRORS = {
    "view_non_contiguous": lambda m, t: t.t().view(-1),
    "view_bad_size": lambda m, t: t.view(7, 9),
    "view_two_minus_one": lambda m, t: t.view(-1, -1),
    "view_negative": lambda m, t: t.view(-2, 30),
    "reshape_bad_size": lambda m, t: t.reshape(7, 9),
    "expand_shrink": lambda m, t: t.expand(2, 4, 5),
    "expand_fewer_dims": lambda m, t: t.expand(4, 5),
    "expand_minus_one_new_dim": lambda m, t: t.expand(-1, 3, 4, 5),
    "expand_non_one": lambda m, t: t.expand(3, 4, 10),
    "permute_repeated": lambda m, t: t.permute(0, 0, 1),
    "permute_too_few": lambda m, t: t.permute(0, 1),
    "permute_out_of_range": lambda m, t: t.permute(0, 1, 3),
    "transpose_out_of_range": lambda m, t: t.transpose(0, 3),
    "t_3d": lambda m, t: t.t(),
    "squeeze_out_of_range": lambda m, t: t.squeeze(3),
    "unsqueeze_out_of_range": lambda m, t: t.unsqueeze(5),
    "unsqueeze_negative_out_of_range": lambda m, t: t.unsqueeze(-5),
    "flatten_start_after_end": lambda m, t: t.flatten(2, 1),
    "flatten_out_of_range": lambda m, t: t.flatten(0, 3),
    "unflatten_bad_product": lambda m, t: t.unflatten(1, (3, 2)),
    "unflatten_two_minus_one": lambda m, t: t.unflatten(1, (-1, -1)),
    "unflatten_out_of_range": lambda m, t: t.unflatten(3, (1, 5)),
    "narrow_too_long": lambda m, t: t.narrow(1, 2, 3),
    "narrow_start_out_of_range": lambda m, t: t.narrow(1, 5, 0),
    "narrow_negative_length": lambda m, t: t.narrow(1, 0, -1),
    "narrow_bad_dim": lambda m, t: t.narrow(3, 0, 1),
    "select_out_of_range": lambda m, t: t.select(1, 4),
    "select_negative_out_of_range": lambda m, t: t.select(0, -4),
    "select_bad_dim": lambda m, t: t.select(3, 0),
    "diagonal_same_dims": lambda m, t: t.diagonal(0, 1, 1),
    "diagonal_bad_dim": lambda m, t: t.diagonal(0, 0, 3),
    "unfold_too_big": lambda m, t: t.unfold(1, 5, 1),
    "unfold_zero_step": lambda m, t: t.unfold(1, 2, 0),
    "unfold_bad_dim": lambda m, t: t.unfold(3, 1, 1),
    "as_strided_out_of_bounds": lambda m, t: t.as_strided((10, 10), (10, 1)),
    "as_strided_negative_stride": lambda m, t: t.as_strided((2, 2), (-1, 1), 5),
    "as_strided_rank_mismatch": lambda m, t: t.as_strided((2, 2), (1,)),
    "index_out_of_range": lambda m, t: t[3],
    "index_negative_out_of_range": lambda m, t: t[0, -5],
    "index_too_many": lambda m, t: t[0, 0, 0, 0],
    "index_negative_step": lambda m, t: t[::-1],
    "index_zero_step": lambda m, t: t[::0],
    "index_float": lambda m, t: t[1.5],
    "index_zero_dim": lambda m, t: t[0, 0, 0][0],
    "index_float_tensor": lambda m, t: t[m.tensor(1.0)],
}


@pytest.mark.parametrize("name", VIEW_ERRORS)
def test_view_errors(name):
    raises_like_torch(VIEW_ERRORS[name], X)


def test_mT_1d_error_type():
    raises_like_torch(lambda m, t: t.mT, make((3,)))


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence for multidimensional indexing")
def test_index_with_string_error_type():
    raises_like_torch(lambda m, t: t["a"], make((3,)))


@pytest.mark.filterwarnings("ignore:The use of `x.T` on tensors of dimension other than 2")
def test_T_on_3d():
    # Deprecated in torch for ndim != 2 (it warns), but still reverses all dims.
    check_view(lambda m, t: t.T, X)


# ---- indexing: assignment

def setitem(index):
    def fn(m, t, value):
        t[index] = value
        return t
    return fn


SETITEMS = {
    "int_number": ((1,), 5.0),
    "negative_int": ((-1, 2), -2),
    "slice_number": ((slice(None), slice(None, None, 2)), 7),
    "ellipsis": ((Ellipsis,), 0),
    "ellipsis_last": ((Ellipsis, 1), 3.5),
    "none": ((None, 0), 1),
    "bool_value": ((0,), True),
}


@pytest.mark.parametrize("name", SETITEMS)
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "uint8", "float16", "bfloat16"])
def test_setitem_number(dtype, name):
    index, value = SETITEMS[name]
    compare(setitem(index), make((3, 4, 5), dtype), value)


@pytest.mark.parametrize("index, value_shape", [
    ((1,), (4, 5)), ((1,), (5,)), ((1,), ()), ((1,), (1, 5)), ((slice(None), 2), (3, 5)),
    ((slice(None), slice(1, None, 2), 0), (3, 2)), ((Ellipsis, 0), (4,)), ((None,), (3, 4, 5)),
    ((0, slice(0, 0)), (0, 5)), ((None, 1), (4, 5)),
], ids=str)
def test_setitem_tensor(index, value_shape):
    compare(setitem(index), make((3, 4, 5)), make(value_shape, seed=1))


def test_setitem_tensor_dtype_conversion():
    compare(setitem((0,)), make((2, 3), "int64"), make((3,), "float32", seed=1))
    compare(setitem((0,)), make((2, 3), "float32"), make((3,), "int64", seed=1))
    compare(setitem((1,)), make((2, 3), "bool"), make((3,), "float32", seed=1))
    compare(setitem((1,)), make((2, 3), "uint8"), torch.tensor([-1, 256, 3]))


def test_setitem_number_conversion():
    compare(setitem((0,)), make((2, 3), "int64"), 2.7)
    compare(setitem((0,)), make((2, 3), "int64"), -2.7)
    compare(setitem((0,)), make((2, 3), "bool"), 0.5)


def test_setitem_number_overflow():
    raises_like_torch(setitem((0,)), make((2, 3), "uint8"), 300)


def test_setitem_on_view():
    compare(lambda m, t, v: setitem((1,))(m, t.t(), v), make((3, 4)), make((3,), seed=1))
    compare(lambda m, t, v: (setitem((slice(None), 0))(m, t[:, 1:], v), t)[1], make((3, 4)), 9)


def test_setitem_from_overlapping_source():
    compare(lambda m, t: setitem((slice(1, None),))(m, t, t[:-1]), make((6,)))


@pytest.mark.parametrize("index, value", [((3,), 1.0), ((0, 0, 0, 0), 1.0), ((slice(None, None, -1),), 1.0)], ids=str)
def test_setitem_bad_index(index, value):
    raises_like_torch(setitem(index), make((3, 4, 5)), value)


@pytest.mark.parametrize("value_shape", [(3,), (2, 5), (4, 4)], ids=str)
def test_setitem_shape_mismatch(value_shape):
    raises_like_torch(setitem((0,)), make((3, 4, 5)), make(value_shape, seed=1))


def test_setitem_bad_value_type():
    raises_like_torch(setitem((0,)), make((3, 4)), "a")
    raises_like_torch(setitem((0,)), make((3, 4)), None)


def test_setitem_list_value():
    compare(setitem((0,)), make((3, 4)), [1.0, 2.0, 3.0, 4.0])


# ---- indexing results on every dtype and on small shapes

@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_index_every_dtype(dtype):
    x = make((3, 4), dtype)
    compare(lambda m, t: t[1, 2], x)
    compare(lambda m, t: t[1, 2].item(), x)
    compare(lambda m, t: t[:, ::3], x)


def test_index_zero_dim_and_empty():
    compare(lambda m, t: t[...], make(()))
    compare(lambda m, t: t[None, ...], make(()))
    compare(lambda m, t: layout(m, t[..., None], t), make(()))
    compare(lambda m, t: layout(m, t[1:], t), make((0, 3)))
    compare(lambda m, t: t[:, 1], make((0, 3)))
    raises_like_torch(lambda m, t: t[0], make((0, 3)))


def test_iteration_and_len():
    compare(lambda m, t: [row for row in t], make((3, 2)))
    compare(lambda m, t: len(t), make((3, 2)))
    raises_like_torch(lambda m, t: len(t), make(()))
    raises_like_torch(lambda m, t: list(t), make(()))


# ---- random index expressions (hypothesis): reading, views' layout, and assignment

def index_items(ndim):
    """One item of an index tuple: an int (possibly out of range), a slice with a positive step,
    None, or Ellipsis."""
    ints = st.integers(-6, 6)
    bounds = st.none() | ints
    slices = st.builds(slice, bounds, bounds, st.none() | st.integers(1, 4))
    return st.lists(ints | slices | st.none() | st.just(Ellipsis), max_size=ndim + 2)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(shape=st.lists(st.integers(0, 5), min_size=0, max_size=4), data=st.data())
def test_random_indexing(shape, data):
    items = data.draw(index_items(len(shape)))
    if items.count(Ellipsis) > 1:  # torch allows several ellipses, numpy and vibetensor don't
        items = [i for i in items if i is not Ellipsis] + [Ellipsis]
    index = tuple(items)
    x = make(tuple(shape))
    compare(lambda m, t: layout(m, t[index], t), x)
    compare(setitem(index), x, -1.0)
