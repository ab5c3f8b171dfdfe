"""Autograd of each op against torch, in tinygrad's test_ops style: `check` runs one lambda
forward and backward on vibetensor and on torch from the same numpy inputs and compares the
outputs and every input's gradient, in float64 and float32, with the inputs contiguous,
transposed and sliced (strided with an offset). Broadcasting and 0-dim inputs are ordinary
shapes in the calls below. Finite-difference checks (gradcheck, gradgradcheck) and the
registry classification live in test_autograd_gradcheck.py."""
import numpy as np
import pytest
import torch

import vibetensor as vt

LAYOUTS = ("contiguous", "transposed", "sliced")
# (rtol, atol) by the dtype of the compared tensor; sums may run in another order.
TOLERANCES = {"float64": (1e-7, 1e-9), "float32": (2e-5, 1e-5), "float16": (2e-3, 1e-3)}


class Leaf:
    """A float input that requires grad. A plain shape in `check` becomes one in the dtype the
    check runs in; a `Leaf` with a dtype keeps that dtype (for mixed-dtype ops)."""

    def __init__(self, shape, dtype=None, values=None):
        self.shape, self.dtype, self.values = tuple(shape), dtype, values


class Const:
    """An input that does not require grad (a mask, an index tensor, a frozen operand)."""

    def __init__(self, array):
        self.array = np.asarray(array)


def make_leaf(module, array, layout):
    """A tensor of `module` (torch or vt) holding `array`'s values in the given memory layout,
    made a leaf that requires grad. Transposed and sliced leaves are views of a larger base,
    as `torch.randn(4, 3).t().requires_grad_()` is."""
    if layout == "transposed" and array.ndim >= 2:
        base = module.from_numpy(np.ascontiguousarray(np.swapaxes(array, -1, -2)))
        tensor = base.mT
    elif layout == "sliced" and array.ndim >= 1:
        padded = np.zeros(array.shape[:-1] + (2 * array.shape[-1] + 1,), dtype=array.dtype)
        padded[..., 1::2] = array  # the values sit between junk, one element into the storage
        tensor = module.from_numpy(padded)[..., 1::2]
    else:
        tensor = module.from_numpy(array.copy())
    return tensor.requires_grad_()


def to_numpy(tensor):
    return tensor.detach().numpy()


def as_list(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]


def assert_close(actual, expected, what):
    """`actual` is a vibetensor tensor, `expected` a torch one."""
    assert isinstance(actual, vt.Tensor), f"{what}: expected a tensor, got {actual!r}"
    assert str(actual.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1], (
        f"{what}: dtype {actual.dtype} != torch's {expected.dtype}")
    assert tuple(actual.shape) == tuple(expected.shape), (
        f"{what}: shape {tuple(actual.shape)} != {tuple(expected.shape)}")
    rtol, atol = TOLERANCES.get(str(expected.dtype).split(".")[-1], (0, 0))
    np.testing.assert_allclose(to_numpy(actual), to_numpy(expected), rtol=rtol, atol=atol, err_msg=what)


def check_once(fn, arrays, dtype, layout, seed, torch_raises):
    torch_inputs, vt_inputs = [], []
    for a in arrays:
        if isinstance(a, Const):
            torch_inputs.append(torch.from_numpy(a.array.copy()))
            vt_inputs.append(vt.from_numpy(a.array.copy()))
        else:
            values = a.values.astype(a.dtype or dtype)
            torch_inputs.append(make_leaf(torch, values, layout))
            vt_inputs.append(make_leaf(vt, values, layout))
            assert tuple(vt_inputs[-1].stride()) == tuple(torch_inputs[-1].stride()), "inputs differ in layout"

    if torch_raises:
        with pytest.raises(Exception) as torch_error:
            fn(torch, *torch_inputs)
        with pytest.raises(type(torch_error.value)):
            fn(vt, *vt_inputs)
        return
    torch_outputs, vt_outputs = as_list(fn(torch, *torch_inputs)), as_list(fn(vt, *vt_inputs))
    assert len(vt_outputs) == len(torch_outputs), f"{len(vt_outputs)} outputs, torch gives {len(torch_outputs)}"
    for i, (v, t) in enumerate(zip(vt_outputs, torch_outputs)):
        assert_close(v, t, f"output {i}")
        assert v.requires_grad == t.requires_grad, f"output {i}: requires_grad {v.requires_grad} != {t.requires_grad}"

    # A random upstream gradient (not ones) catches transposed or misplaced gradients.
    rng = np.random.default_rng(seed + 1)
    pairs = [(v, t) for v, t in zip(vt_outputs, torch_outputs) if t.requires_grad]
    if not pairs:
        return
    upstream = [rng.standard_normal(tuple(t.shape)).astype(str(t.dtype).split(".")[-1]) for _, t in pairs]
    torch.autograd.backward([t for _, t in pairs], [torch.from_numpy(u.copy()) for u in upstream])
    vt.autograd.backward([v for v, _ in pairs], [vt.from_numpy(u.copy()) for u in upstream])
    for i, (v, t) in enumerate(zip(vt_inputs, torch_inputs)):
        if not t.requires_grad:
            continue
        if t.grad is None:
            assert v.grad is None, f"input {i}: torch leaves grad None, vibetensor gives {v.grad!r}"
        else:
            assert v.grad is not None, f"input {i}: grad is None, torch's is {t.grad}"
            assert_close(v.grad, t.grad, f"grad of input {i}")


def check(fn, *shapes, low=-2.0, high=2.0, dtypes=("float64", "float32"), layouts=LAYOUTS, seed=0,
          torch_raises=False):
    """Run `fn(module, *inputs)` on torch and vibetensor and compare outputs and input grads.

    Each of `shapes` is a shape tuple or a `Leaf` (float inputs that require grad, with values
    in [low, high)) or a `Const`. Every combination of dtype and layout runs; a layout other
    than contiguous applies to every input that has the dims for it, and is skipped if no
    input has them. With `torch_raises`, torch must raise and vibetensor must raise the same
    exception type (nothing else is compared).
    """
    rng = np.random.default_rng(seed)
    arrays = []
    for spec in shapes:
        if isinstance(spec, Const):
            arrays.append(spec)
        else:
            spec = spec if isinstance(spec, Leaf) else Leaf(spec)
            arrays.append(Leaf(spec.shape, spec.dtype, rng.uniform(low, high, spec.shape)))
    for dtype in dtypes:
        for layout in layouts:
            needed_dims = 2 if layout == "transposed" else 1
            if layout != "contiguous" and not any(isinstance(a, Leaf) and len(a.shape) >= needed_dims for a in arrays):
                continue
            try:
                check_once(fn, arrays, dtype, layout, seed, torch_raises)
            except AssertionError as error:
                raise AssertionError(f"[{dtype}, {layout} inputs] {error}") from None


# ---- binary arithmetic, with broadcasting and 0-dim operands

def test_add(): check(lambda m, x, y: x + y, (3, 4), (3, 4))
def test_add_broadcast(): check(lambda m, x, y: x + y, (3, 1, 4), (5, 1))
def test_add_alpha(): check(lambda m, x, y: m.add(x, y, alpha=-2.5), (2, 3), (3,))
def test_add_0dim(): check(lambda m, x, y: x + y, (2, 3), ())
def test_add_both_0dim(): check(lambda m, x, y: x + y, (), ())
def test_add_scalar(): check(lambda m, x: 3 + x + 1.5, (2, 3))
def test_add_same_input(): check(lambda m, x: x + x, (2, 3))
def test_add_frozen_operand(): check(lambda m, x, c: x + c, (2, 3), Const(np.ones((4, 2, 3))))
def test_sub(): check(lambda m, x, y: x - y, (3, 4), (3, 4))
def test_sub_broadcast(): check(lambda m, x, y: x - y, (4, 1), (1, 5))
def test_sub_alpha(): check(lambda m, x, y: m.sub(x, y, alpha=3), (2, 3), (2, 1))
def test_rsub_scalar(): check(lambda m, x: 2 - x, (2, 3))
def test_mul(): check(lambda m, x, y: x * y, (3, 4), (3, 4))
def test_mul_broadcast(): check(lambda m, x, y: x * y, (2, 1, 3), (4, 1))
def test_mul_0dim(): check(lambda m, x, y: x * y, (), (2, 3))
def test_mul_scalar(): check(lambda m, x: x * 2.5 * -1, (2, 3))
def test_square_by_mul(): check(lambda m, x: x * x, (3, 3))
def test_div(): check(lambda m, x, y: x / y, (3, 4), (3, 4), low=0.5, high=2.0)
def test_div_broadcast(): check(lambda m, x, y: x / y, (2, 3), (3,), low=0.5, high=2.0)
def test_div_0dim_divisor(): check(lambda m, x, y: x / y, (2, 3), (), low=0.5, high=2.0)
def test_rdiv_scalar(): check(lambda m, x: 1 / x, (2, 3), low=0.5, high=2.0)
def test_div_floor(): check(lambda m, x, y: m.div(x, y, rounding_mode="floor"), (3, 4), (3, 4), low=0.5, high=4.0)
def test_div_trunc(): check(lambda m, x, y: m.div(x, y, rounding_mode="trunc"), (3, 4), (4,), low=0.5, high=4.0)
def test_pow(): check(lambda m, x, y: x ** y, (3, 4), (3, 4), low=0.5, high=2.0)
def test_pow_broadcast(): check(lambda m, x, y: m.pow(x, y), (2, 3), (3,), low=0.5, high=2.0)
def test_pow_scalar_exponent(): check(lambda m, x: x ** 3, (2, 3))
def test_pow_negative_base_int_exponent(): check(lambda m, x: x ** 2, (2, 3), low=-2.0, high=-0.5)
def test_pow_scalar_base(): check(lambda m, x: 2 ** x, (2, 3))
def test_pow_zero_base(): check(lambda m, x, y: m.where(x > 0, x, x * 0) ** (y.abs() + 0.5), (3, 4), (3, 4), low=-1.0)
def test_pow_zero_exponent(): check(lambda m, x, y: x ** (y * 0), (2, 3), (2, 3), low=0.5, high=2.0)


# ---- unary

def test_neg(): check(lambda m, x: -x, (3, 4))
def test_neg_0dim(): check(lambda m, x: m.neg(x), ())
def test_abs(): check(lambda m, x: m.abs(x), (3, 4))
def test_abs_at_zero(): check(lambda m, x: (x * 0).abs() + x.abs(), (3, 4))
def test_exp(): check(lambda m, x: m.exp(x), (3, 4))
def test_exp_0dim(): check(lambda m, x: x.exp(), ())
def test_log(): check(lambda m, x: m.log(x), (3, 4), low=0.1, high=3.0)
def test_sqrt(): check(lambda m, x: m.sqrt(x), (3, 4), low=0.1, high=3.0)
def test_rsqrt(): check(lambda m, x: m.rsqrt(x), (3, 4), low=0.1, high=3.0)
def test_relu(): check(lambda m, x: m.relu(x), (3, 4))
def test_relu_at_zero(): check(lambda m, x: (x * 0).relu() * x, (3, 4))
def test_sigmoid(): check(lambda m, x: m.sigmoid(x), (3, 4), low=-4.0, high=4.0)
def test_tanh(): check(lambda m, x: m.tanh(x), (3, 4), low=-3.0, high=3.0)
def test_clamp(): check(lambda m, x: m.clamp(x, -0.5, 0.7), (3, 4))
def test_clamp_min(): check(lambda m, x: x.clamp(min=0.1), (3, 4))
def test_clamp_max(): check(lambda m, x: x.clamp(max=-0.3), (3, 4))
def test_clamp_at_bounds(): check(lambda m, x: (x * 0 + 1).clamp(1, 2) * x + (x * 0 + 2).clamp(1, 2) * x, (3,))
def test_clamp_min_above_max(): check(lambda m, x: x.clamp(1.0, -1.0), (3, 4))
def test_chain(): check(lambda m, x: (x.exp() * x.tanh() - x.sigmoid()).abs().sqrt(), (4, 5))


# The rest of the unary op table, by the interval the inputs come from. silu and mish are
# torch.nn.functional functions in torch.
UNARY_TABLE = {
    "exp2": (-2.0, 2.0), "expm1": (-2.0, 2.0), "log2": (0.1, 3.0), "log10": (0.1, 3.0), "log1p": (-0.9, 3.0),
    "reciprocal": (0.5, 2.0), "sin": (-3.0, 3.0), "cos": (-3.0, 3.0), "tan": (-1.2, 1.2), "asin": (-0.9, 0.9),
    "acos": (-0.9, 0.9), "atan": (-3.0, 3.0), "sinh": (-2.0, 2.0), "cosh": (-2.0, 2.0), "asinh": (-3.0, 3.0),
    "acosh": (1.1, 3.0), "atanh": (-0.9, 0.9), "erf": (-2.0, 2.0), "erfinv": (-0.9, 0.9), "floor": (-3.0, 3.0),
    "ceil": (-3.0, 3.0), "trunc": (-3.0, 3.0), "round": (-3.0, 3.0), "frac": (-3.0, 3.0), "sign": (-2.0, 2.0),
    "square": (-2.0, 2.0), "silu": (-3.0, 3.0), "mish": (-3.0, 3.0),
}
NN_UNARY = ["silu", "mish"]


def unary(m, op, x, inplace=False):
    if m is torch and op in NN_UNARY:
        return getattr(torch.nn.functional, op)(x, inplace=inplace)
    return getattr(x, op + "_")() if inplace else getattr(m, op)(x)


@pytest.mark.parametrize("op", UNARY_TABLE)
def test_unary_table(op):
    check(lambda m, x: unary(m, op, x), (3, 4), low=UNARY_TABLE[op][0], high=UNARY_TABLE[op][1])


# torch has no derivative for in-place asinh_, acosh_ and atanh_ (NotImplementedError "the
# derivative for 'inplace version of asinh' is not implemented"); gradcheck checks vibetensor's.
@pytest.mark.parametrize("op", [op for op in UNARY_TABLE if op not in ("asinh", "acosh", "atanh")])
def test_unary_table_inplace(op):
    check(lambda m, x: unary(m, op, x * 1, inplace=True), (3, 4), low=UNARY_TABLE[op][0], high=UNARY_TABLE[op][1])


# ---- activations, logit, nan_to_num, round(decimals=)

def test_elu(): check(lambda m, x: m.nn.functional.elu(x, alpha=0.5), (3, 4))
def test_gelu(): check(lambda m, x: m.nn.functional.gelu(x), (3, 4), low=-4.0, high=4.0)
def test_gelu_tanh(): check(lambda m, x: m.nn.functional.gelu(x, approximate="tanh"), (3, 4), low=-4.0, high=4.0)
def test_hardtanh(): check(lambda m, x: m.nn.functional.hardtanh(x, -0.5, 0.7), (3, 4))
def test_leaky_relu(): check(lambda m, x: m.nn.functional.leaky_relu(x, 0.2), (3, 4))
def test_softplus(): check(lambda m, x: m.nn.functional.softplus(x, beta=2, threshold=1), (3, 4))
def test_relu_nn_inplace(): check(lambda m, x: m.nn.functional.relu(x * 1, inplace=True), (3, 4))


# In place on a tensor with history: torch records EluBackward1 (etc.) over the modified tensor.
@pytest.mark.parametrize("call", [
    lambda m, y: m.nn.functional.elu(y, inplace=True),
    lambda m, y: m.nn.functional.silu(y, inplace=True),
    lambda m, y: m.nn.functional.leaky_relu(y, 0.2, inplace=True),
    lambda m, y: m.nn.functional.hardtanh(y, inplace=True),
], ids=["elu", "silu", "leaky_relu", "hardtanh"])
def test_nn_inplace_on_non_leaf(call): check(lambda m, x: call(m, x * 1), (3, 4))


def test_logit(): check(lambda m, x: m.logit(x), (3, 4), low=0.05, high=0.95)
def test_logit_eps(): check(lambda m, x: x.logit(eps=0.2), (3, 4), low=0.0, high=1.0)
def test_nan_to_num(): check(lambda m, x: m.nan_to_num(m.where(x > 1, (x * 0).log(), x.log()), posinf=3.0), (3, 4))
def test_round_decimals(): check(lambda m, x: m.round(x, decimals=1) * x, (3, 4))
def test_predicates_cut_the_graph(): check(lambda m, x: (m.isnan(x.log()), m.isinf(x), x.isfinite()), (3, 4))


# ---- where

def test_where(): check(lambda m, x, y: m.where(x > y, x, y), (3, 4), (3, 4))
def test_where_broadcast(): check(lambda m, c, x, y: m.where(c, x, y), Const([True, False, True]), (2, 3), (2, 1))
def test_where_scalar_other(): check(lambda m, x: m.where(x > 0, x, 0.0), (3, 4))
def test_where_0dim(): check(lambda m, x, y: m.where(x > 0, x, y), (2, 3), ())
def test_where_nan_in_unselected_branch(): check(lambda m, x: m.where(x > 0, (x * 0).log(), x), (2, 3))
def test_where_method(): check(lambda m, x, y: x.where(x < 0.5, y), (2, 3), (2, 3))


# ---- reductions

def test_sum(): check(lambda m, x: x.sum(), (3, 4))
def test_sum_0dim(): check(lambda m, x: x.sum(), ())
def test_sum_dim(): check(lambda m, x: x.sum(1), (3, 4, 2))
def test_sum_dims_keepdim(): check(lambda m, x: m.sum(x, (0, 2), keepdim=True), (3, 4, 2))
def test_sum_negative_dim(): check(lambda m, x: x.sum(-1), (3, 4))
def test_sum_to_double(): check(lambda m, x: x.sum(0, dtype=m.float64), (3, 4), dtypes=("float32",))
def test_mean(): check(lambda m, x: x.mean(), (3, 4))
def test_mean_dim(): check(lambda m, x: m.mean(x, 0), (3, 4))
def test_mean_dims_keepdim(): check(lambda m, x: x.mean((0, 1), keepdim=True), (2, 3, 4))
def test_max(): check(lambda m, x: x.max(), (3, 4))
def test_min(): check(lambda m, x: m.min(x), (3, 4))
def test_max_ties(): check(lambda m, x: (x * 0 + 1).max() * x, (2, 3))
def test_max_ties_direct(): check(lambda m, x: m.where(x > 0, x * 0 + 5, x).max(), (3, 4))
def test_min_ties_direct(): check(lambda m, x: m.where(x > 0, x * 0 + 5, x * 0 - 5).min(), (3, 4))
def test_max_0dim(): check(lambda m, x: x.max(), ())
def test_max_dim_ties(): check(lambda m, x: m.where(x > 0, x * 0 + 1, x).max(1).values, (3, 4))
def test_min_dim_ties(): check(lambda m, x: m.where(x < 0, x * 0 - 1, x).min(0).values, (3, 4))
def test_max_dim(): check(lambda m, x: x.max(1).values, (3, 4))
def test_max_dim_keepdim(): check(lambda m, x: m.max(x, 0, keepdim=True)[0], (3, 4))
def test_min_dim(): check(lambda m, x: x.min(dim=-1).values, (2, 3, 4))
def test_max_dim_tuple(): check(lambda m, x: tuple(x.max(1)), (3, 4))
def test_min_dim_0dim(): check(lambda m, x: x.min(0).values, ())


def test_amax(): check(lambda m, x: m.amax(x, 1), (3, 4))
def test_amax_ties(): check(lambda m, x: m.amax(m.where(x > 0, x * 0 + 1, x), (0, 1)), (3, 4))
def test_amin_keepdim(): check(lambda m, x: x.amin(0, keepdim=True), (3, 4))
def test_amin_ties(): check(lambda m, x: m.where(x < 0, x * 0 - 1, x).amin(1), (3, 4))
def test_logsumexp(): check(lambda m, x: m.logsumexp(x, 1), (3, 4))
def test_logsumexp_dims_keepdim(): check(lambda m, x: x.logsumexp((0, 1), keepdim=True), (3, 4))
def test_softmax(): check(lambda m, x: m.softmax(x, 1), (3, 4))
def test_softmax_nn(): check(lambda m, x: m.nn.functional.softmax(x, dim=0), (3, 4))
def test_softmax_to_double(): check(lambda m, x: x.softmax(1, dtype=m.float64), (3, 4), dtypes=("float32",))
def test_log_softmax(): check(lambda m, x: m.log_softmax(x, -1), (3, 4))
def test_log_softmax_nn(): check(lambda m, x: m.nn.functional.log_softmax(x, dim=1), (3, 4))


# ---- joining

def test_cat(): check(lambda m, x, y: m.cat([x, y, x], 0), (2, 3), (1, 3))
def test_cat_last_dim(): check(lambda m, x, y: m.cat((x, y), dim=-1), (2, 3), (2, 2))
def test_stack(): check(lambda m, x, y: m.stack([x, y], 1), (2, 3), (2, 3))
def test_cat_with_tensor_without_grad(): check(lambda m, x, c: m.cat([c, x]), (2, 3), Const(np.ones((1, 3))))


# ---- matrix products

def test_mm(): check(lambda m, x, y: m.mm(x, y), (3, 4), (4, 5))
def test_mm_method(): check(lambda m, x, y: x.mm(y), (1, 4), (4, 1))
def test_bmm(): check(lambda m, x, y: m.bmm(x, y), (2, 3, 4), (2, 4, 5))
def test_matmul_2d(): check(lambda m, x, y: x @ y, (3, 4), (4, 2))
def test_matmul_vector_vector(): check(lambda m, x, y: m.matmul(x, y), (4,), (4,))
def test_matmul_matrix_vector(): check(lambda m, x, y: x @ y, (3, 4), (4,))
def test_matmul_vector_matrix(): check(lambda m, x, y: x @ y, (4,), (4, 3))
def test_matmul_batched(): check(lambda m, x, y: x @ y, (2, 3, 4), (2, 4, 5))
def test_matmul_broadcast_batch(): check(lambda m, x, y: x @ y, (2, 1, 3, 4), (5, 4, 2))
def test_matmul_batched_matrix(): check(lambda m, x, y: x @ y, (2, 3, 4), (4, 5))
def test_matmul_vector_batched(): check(lambda m, x, y: x @ y, (4,), (2, 4, 3))


# ---- views and shape ops

def test_view(): check(lambda m, x: x.contiguous().view(4, 3) * 2, (3, 4))
def test_view_minus_one(): check(lambda m, x: x.contiguous().view(-1), (3, 4))
def test_reshape(): check(lambda m, x: x.reshape(2, 6), (3, 4))
def test_reshape_0dim(): check(lambda m, x: x.reshape(1, 1), ())
def test_reshape_to_0dim(): check(lambda m, x: x.reshape(()), (1, 1))
def test_permute(): check(lambda m, x: x.permute(2, 0, 1), (2, 3, 4))
def test_transpose(): check(lambda m, x: x.transpose(0, 2), (2, 3, 4))
def test_t(): check(lambda m, x: x.t(), (3, 4))
def test_t_1d(): check(lambda m, x: m.t(x), (3,))
def test_T(): check(lambda m, x: x.T, (3, 4))
def test_mT(): check(lambda m, x: x.mT, (2, 3, 4))
def test_expand(): check(lambda m, x: x.expand(2, 3, 4), (3, 1))
def test_expand_minus_one(): check(lambda m, x: x.expand(5, -1), (3,))
def test_expand_as(): check(lambda m, x, y: x.expand_as(y) * y, (1, 4), (3, 4))
def test_squeeze(): check(lambda m, x: x.squeeze(), (3, 1, 4, 1))
def test_squeeze_dim(): check(lambda m, x: x.squeeze(1), (3, 1, 4))
def test_unsqueeze(): check(lambda m, x: x.unsqueeze(1), (3, 4))
def test_unsqueeze_0dim(): check(lambda m, x: x.unsqueeze(0), ())
def test_flatten(): check(lambda m, x: x.flatten(), (2, 3, 4))
def test_flatten_range(): check(lambda m, x: m.flatten(x, 1, 2), (2, 3, 4))
def test_unflatten(): check(lambda m, x: x.unflatten(1, (2, 2)), (3, 4))
def test_narrow(): check(lambda m, x: x.narrow(1, 1, 2), (3, 4))
def test_select(): check(lambda m, x: x.select(0, 1), (3, 4))
def test_select_negative(): check(lambda m, x: x.select(-1, -1), (3, 4))
def test_index_int(): check(lambda m, x: x[1], (3, 4))
def test_index_slice(): check(lambda m, x: x[1:, ::2], (3, 4))
def test_index_ellipsis_none(): check(lambda m, x: x[..., None, -1], (2, 3, 4))
def test_index_0dim_result(): check(lambda m, x: x[1, 2] * x[0, 0], (3, 4))
def test_index_overlapping_reads(): check(lambda m, x: x[:2] * x[1:], (3, 4))
def test_diagonal(): check(lambda m, x: x.diagonal(), (3, 4))
def test_diagonal_offset(): check(lambda m, x: m.diagonal(x, -1, 1, 2), (2, 4, 3))
def test_unfold(): check(lambda m, x: x.unfold(1, 2, 1), (3, 5))
def test_unfold_step(): check(lambda m, x: x.unfold(0, 2, 3), (7, 2))
def test_unfold_0dim(): check(lambda m, x: x.unfold(0, 1, 1), ())
def test_view_chain(): check(lambda m, x: x.permute(1, 0, 2)[1:].reshape(-1, 2).t().sum(1), (2, 3, 4))
def test_split(): check(lambda m, x: x.split(2, 1), (3, 5))
def test_split_with_sizes(): check(lambda m, x: m.split(x, [1, 2], 0), (3, 4))
def test_chunk(): check(lambda m, x: x.chunk(3, 1), (2, 7))
def test_unbind(): check(lambda m, x: x.unbind(1), (2, 3))
# as_strided addresses the storage: on transposed and sliced leaves it reads their base's layout (and the
# junk between the sliced values), the same storage in both libraries.
def test_as_strided(): check(lambda m, x: x.as_strided((2, 2), (1, 2)), (2, 3))
def test_as_strided_offset(): check(lambda m, x: m.as_strided(x, (2, 2), (3, 1), 1), (3, 4))
def test_as_strided_overlapping(): check(lambda m, x: x.as_strided((3, 3), (1, 1)), (3, 4))
def test_as_strided_zero_stride(): check(lambda m, x: x.as_strided((2, 3), (0, 1)), (3, 4))
def test_as_strided_of_non_leaf(): check(lambda m, x: (x * x).as_strided((3, 2), (1, 3)), (3, 4))
def test_as_strided_of_view(): check(lambda m, x: (x * 2)[1:].as_strided((2, 2), (1, 4)), (3, 4))


# ---- copies and dtype conversion

def test_clone(): check(lambda m, x: x.clone() * 2, (3, 4))
def test_contiguous(): check(lambda m, x: x.contiguous(), (3, 4))
def test_to_float64(): check(lambda m, x: x.to(m.float64) * 3, (3, 4), dtypes=("float32",))
def test_to_float32(): check(lambda m, x: x.to(m.float32), (3, 4), dtypes=("float64",))
def test_to_float16(): check(lambda m, x: x.to(m.float16).to(m.float32), (3, 4), low=-1.0, dtypes=("float32",))
def test_to_same_dtype(): check(lambda m, x: x.to(x.dtype), (3, 4))
def test_double_method(): check(lambda m, x: x.double(), (3,), dtypes=("float32",))
def test_to_int_not_differentiable(): check(lambda m, x: x.to(m.int64), (3, 4))
def test_int_cast_blocks_gradient(): check(lambda m, x: x.to(m.int64).to(x.dtype) * x, (3, 4))
def test_copy_(): check(lambda m, x, y: (x * 1).copy_(y), (3, 4), (3, 4))
def test_copy_broadcast(): check(lambda m, x, y: (x * 1).copy_(y), (3, 4), (4,))
def test_copy_from_other_dtype(): check(lambda m, x: m.zeros(3, 4, dtype=m.float64).copy_(x), (3, 4),
                                         dtypes=("float32",))
def test_copy_into_tensor_without_grad(): check(lambda m, x: m.zeros(3, 4, dtype=x.dtype).copy_(x) * x, (3, 4))
def test_fill_(): check(lambda m, x: (x * 1).fill_(2.0) * x, (3, 4))


# ---- in-place forms on non-leaf tensors

def test_add_inplace(): check(lambda m, x, y: (x * 1).add_(y), (3, 4), (4,))
def test_add_inplace_alpha(): check(lambda m, x, y: (x * 1).add_(y, alpha=2), (3, 4), (3, 4))
def test_sub_inplace(): check(lambda m, x, y: (x * 1).sub_(y), (3, 4), ())
def test_mul_inplace(): check(lambda m, x, y: (x * 1).mul_(y), (3, 4), (3, 4))
def test_mul_inplace_by_self(): check(lambda m, x: (x + 0).mul_(x), (3, 4))
def test_div_inplace(): check(lambda m, x, y: (x * 1).div_(y), (3, 4), (3, 4), low=0.5, high=2.0)
def test_pow_inplace(): check(lambda m, x, y: (x * 1).pow_(y), (3, 4), (3, 4), low=0.5, high=2.0)
def test_pow_inplace_scalar(): check(lambda m, x: (x * 1).pow_(2), (3, 4))
def test_neg_inplace(): check(lambda m, x: (x * 1).neg_(), (3, 4))
def test_abs_inplace(): check(lambda m, x: (x * 1).abs_(), (3, 4))
def test_exp_inplace(): check(lambda m, x: (x * 1).exp_(), (3, 4))
def test_log_inplace(): check(lambda m, x: (x * 1).log_(), (3, 4), low=0.1, high=3.0)
def test_sqrt_inplace(): check(lambda m, x: (x * 1).sqrt_(), (3, 4), low=0.1, high=3.0)
def test_rsqrt_inplace(): check(lambda m, x: (x * 1).rsqrt_(), (3, 4), low=0.1, high=3.0)
def test_relu_inplace(): check(lambda m, x: (x * 1).relu_(), (3, 4))
def test_sigmoid_inplace(): check(lambda m, x: (x * 1).sigmoid_(), (3, 4))
def test_tanh_inplace(): check(lambda m, x: (x * 1).tanh_(), (3, 4))
def test_clamp_inplace(): check(lambda m, x: (x * 1).clamp_(-0.5, 0.5), (3, 4))
def test_inplace_chain(): check(lambda m, x, y: (x * 1).mul_(y).add_(x).tanh_(), (3, 4), (3, 4))
def test_inplace_into_tensor_without_grad(): check(lambda m, x: m.ones(3, 4, dtype=x.dtype).mul_(x).add_(x), (3, 4))
# ---- in-place ops on views (the base's history is rewritten, as torch's CopySlices does)

def scale_rows(m, x):
    y = x * 1
    y[0:1].mul_(3)
    return y


def mul_row_by(m, x, z):
    y = x * 1
    y[1].mul_(z)
    return y


def add_to_transposed_row(m, x, z):
    y = x * 1
    y.t()[0].add_(z)
    return y, y.t()


def assign_items(m, x, z):
    y = x * 1
    y[0] = z
    y[1:, 1] = 0.5
    return y


def fill_diagonal(m, x):
    y = x * 1
    y.diagonal().fill_(0)
    return y * x


def write_into_view_of_view(m, x):
    y = (x * 2).contiguous()
    y.view(-1)[1::3].sigmoid_()
    return y


def assign_into_tensor_without_grad(m, z):
    y = m.zeros(3, 4, dtype=z.dtype)
    y[1] = z
    y[:, 0].add_(z[:3])
    return y


def use_view_modified_in_place(m, x):
    y = x * 1
    v = y[1:]
    v.tanh_()
    return v * 2, y


def base_modified_then_old_view_used(m, x):
    y = x * 1
    v = y[0:2]
    y.mul_(2)
    return v * 1


def test_inplace_on_slice_view(): check(scale_rows, (3, 4))
def test_inplace_on_select_view_with_grad_operand(): check(mul_row_by, (3, 4), (4,))
def test_inplace_on_transposed_view(): check(add_to_transposed_row, (3, 4), (3,))
def test_setitem(): check(assign_items, (3, 4), (4,))
def test_fill_on_diagonal_view(): check(fill_diagonal, (3, 3))
def test_inplace_on_view_of_view(): check(write_into_view_of_view, (3, 4))
def test_setitem_into_tensor_without_grad(): check(assign_into_tensor_without_grad, (4,))
def test_view_used_after_its_own_inplace(): check(use_view_modified_in_place, (3, 4))

def test_view_used_after_inplace_on_its_base(): check(base_modified_then_old_view_used, (3, 4))
def test_div_inplace_into_tensor_without_grad(): check(lambda m, x: m.ones(3, 4).double().div_(x), (3, 4), low=0.5)
def test_pow_inplace_into_tensor_without_grad(): check(lambda m, x: m.full((3, 4), 2.0, dtype=x.dtype).pow_(x), (3, 4))
def test_add_inplace_into_tensor_without_grad(): check(lambda m, x: m.ones(3, 4, dtype=x.dtype).add_(x), (3, 4))
def test_iadd_operator(): check(lambda m, x, y: iadd(x * 1, y), (3, 4), (3, 4))


def iadd(a, b):
    a += b
    a *= b
    return a


# ---- Python operators and several uses of one tensor

def test_operators(): check(lambda m, x, y: (-x + y * 2 - x / (y.abs() + 1)) ** 2 @ y.t(), (3, 4), (3, 4))
def test_diamond(): check(lambda m, x: (lambda a: a.exp() * a.sigmoid() + a)(x * 2), (3, 4))
def test_multiple_outputs(): check(lambda m, x, y: (x * y, x + y, (x - y).sum()), (3, 4), (3, 4))
def test_unused_input(): check(lambda m, x, y: x * 2, (3, 4), (3, 4))
def test_output_is_input_view(): check(lambda m, x: (x[0], x[1:]), (3, 4))
def test_output_without_grad(): check(lambda m, x, c: c * 2, (3, 4), Const(np.ones((3, 4))))


# ---- mixed dtypes: the result promotes, each gradient comes back in its input's dtype

def test_mul_float32_float64(): check(lambda m, x, y: x * y, Leaf((2, 3), "float32"), Leaf((2, 3), "float64"))
def test_add_float64_broadcast_float32(): check(lambda m, x, y: x + y, Leaf((2, 3), "float64"), Leaf((3,), "float32"))
def test_div_float16_float32(): check(lambda m, x, y: x / y, Leaf((2, 3), "float16"), Leaf((3,), "float32"), low=0.5)
def test_matmul_same_dtype_float16(): check(lambda m, x, y: (x.float() @ y.float()).half(), Leaf((2, 3), "float16"),
                                            Leaf((3, 2), "float16"))
def test_int_tensor_times_leaf(): check(lambda m, c, x: c * x, Const(np.arange(6).reshape(2, 3)), (2, 3))
def test_bool_tensor_plus_leaf(): check(lambda m, c, x: x + c, Const(np.array([True, False, True])), (2, 3))
def test_where_mixed_dtypes(): check(lambda m, x, y: m.where(x > 0, x, y), Leaf((2, 3), "float32"),
                                      Leaf((2, 3), "float64"))


# ---- empty tensors, and gradients at singular points (inf and NaN must match too)

def test_sum_empty(): check(lambda m, x: x.sum(), (0, 3))
def test_exp_empty(): check(lambda m, x: x.exp() * 2, (0, 3))
def test_mean_dim_empty_other_dim(): check(lambda m, x: x.mean(1), (0, 3))
def test_mm_empty_inner(): check(lambda m, x, y: x @ y, (2, 0), (0, 3))
def test_sqrt_at_zero(): check(lambda m, x: (x * 0).sqrt(), (2, 3))
def test_log_at_zero(): check(lambda m, x: (x * 0).log() + x, (2, 3))
def test_div_by_zero(): check(lambda m, x, y: x / (y * 0), (2, 3), (2, 3))
def test_pow_negative_base_float_exponent(): check(lambda m, x, y: x ** y, (2, 3), (2, 3), low=-2.0, high=-0.5)
def test_rsqrt_at_zero(): check(lambda m, x: (x * 0).rsqrt(), (2, 3))
def test_pow_zero_to_negative(): check(lambda m, x: (x * 0) ** -1.5, (2, 3))
def test_expand_0dim(): check(lambda m, x: x.expand(3, 2), ())
def test_sum_negative_dims(): check(lambda m, x: x.sum((-1, -3)), (2, 3, 4))
def test_mean_dtype(): check(lambda m, x: x.mean(0, dtype=m.float64), (3, 4), dtypes=("float32",))
