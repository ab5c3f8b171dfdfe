"""Forward-mode AD (`vibetensor.autograd.forward_ad`) against torch: each case runs on dual tensors
in both libraries, made from the same primal and tangent values, and compares the primal and the
tangent of every output."""
import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as torch_fwad

import vibetensor as vt
import vibetensor.autograd.forward_ad as vt_fwad

# torch's forward_ad module warns about torch.jit.script on its first use.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")

FORWARD_AD = {torch: torch_fwad, vt: vt_fwad}
NN_UNARY = ["silu", "mish"]  # torch.nn.functional functions in torch


def dual(m, primal, tangent, layout):
    """A dual tensor of module `m`; "transposed" gives primal and tangent a transposed layout."""
    if layout == "transposed":
        p, t = m.from_numpy(np.ascontiguousarray(primal.T)).t(), m.from_numpy(np.ascontiguousarray(tangent.T)).t()
    else:
        p, t = m.from_numpy(primal.copy()), m.from_numpy(tangent.copy())
    return FORWARD_AD[m].make_dual(p, t)


def run(m, fn, primals, tangents, layout):
    fwad = FORWARD_AD[m]
    with fwad.dual_level():
        outputs = fn(m, *[dual(m, p, t, layout) for p, t in zip(primals, tangents)])
        outputs = outputs if isinstance(outputs, (tuple, list)) else [outputs]
        unpacked = [fwad.unpack_dual(o) for o in outputs]
        return [(p.detach().numpy().copy(), None if t is None else t.numpy().copy()) for p, t in unpacked]


def check_forward(fn, *shapes, low=-2.0, high=2.0, seed=0, layouts=("contiguous", "transposed")):
    """`fn(module, *duals)` on float64 duals with primals in [low, high) and normal tangents; the
    transposed layout runs where every input is 2-D."""
    rng = np.random.default_rng(seed)
    primals = [rng.uniform(low, high, s) for s in shapes]
    tangents = [rng.standard_normal(s) for s in shapes]
    for layout in layouts:
        if layout == "transposed" and not all(len(s) == 2 for s in shapes):
            continue
        expected, actual = run(torch, fn, primals, tangents, layout), run(vt, fn, primals, tangents, layout)
        assert len(actual) == len(expected)
        for i, ((tp, tt), (vp, vtt)) in enumerate(zip(expected, actual)):
            np.testing.assert_allclose(vp, tp, rtol=1e-7, atol=1e-9, err_msg=f"[{layout}] primal of output {i}")
            if tt is None:
                assert vtt is None, f"[{layout}] output {i}: torch has no tangent, vibetensor has {vtt}"
            else:
                assert vtt is not None, f"[{layout}] output {i}: no tangent, torch's is {tt}"
                np.testing.assert_allclose(vtt, tt, rtol=1e-7, atol=1e-9, err_msg=f"[{layout}] tangent of output {i}")


def unary(m, op, x):
    return getattr(torch.nn.functional, op)(x) if m is torch and op in NN_UNARY else getattr(m, op)(x)


def mul_row_in_place(m, x, y):
    z = x * 1
    z[1].mul_(y[0])
    return z


def assign_row(m, x, y):
    z = x * 1
    z[0] = y[1]
    return z


# name -> (fn, shapes, keyword arguments of check_forward)
CASES = {
    "add": (lambda m, x, y: x + y, [(3, 4), (3, 4)]),
    "add_broadcast_alpha": (lambda m, x, y: m.add(x, y[0], alpha=-2), [(3, 4), (3, 4)]),
    "sub": (lambda m, x, y: m.sub(x, y, alpha=3), [(3, 4), (3, 4)]),
    "mul": (lambda m, x, y: x * y * 2, [(3, 4), (3, 4)]),
    "div": (lambda m, x, y: x / y, [(3, 4), (3, 4)], {"low": 0.5}),
    "div_floor": (lambda m, x, y: m.div(x, y, rounding_mode="floor") * x, [(3, 4), (3, 4)], {"low": 0.5}),
    "pow_positive_base": (lambda m, x, y: x ** y, [(3, 4), (3, 4)], {"low": 0.5}),
    "pow_scalar_base": (lambda m, x: 2 ** x, [(3, 4)]),
    "pow_negative_base_scalar_exponent": (lambda m, x: x ** 2, [(3, 4)], {"low": -2.0, "high": -0.5}),
    "pow_negative_base_tensor_exponent": (lambda m, x: x ** m.full((3, 4), 3.0, dtype=m.float64), [(3, 4)],
                                          {"low": -2.0, "high": -0.5}),
    "square": (lambda m, x: m.square(x), [(3, 4)]),
    "where": (lambda m, x, y: m.where(x > 0, x, y), [(3, 4), (3, 4)]),
    "clamp": (lambda m, x: x.clamp(-0.5, 0.5), [(3, 4)]),
    "relu": (lambda m, x: x.relu(), [(3, 4)]),
    "abs": (lambda m, x: x.abs(), [(3, 4)]),
    "sum_dim": (lambda m, x: x.sum(1), [(3, 4)]),
    "mean": (lambda m, x: x.mean(), [(3, 4)]),
    "max": (lambda m, x: x.max(), [(3, 4)]),
    "max_dim": (lambda m, x: x.max(1).values, [(3, 4)]),
    "min_dim": (lambda m, x: tuple(x.min(0)), [(3, 4)]),
    "mm": (lambda m, x, y: x @ y, [(3, 4), (4, 2)]),
    "bmm": (lambda m, x, y: m.bmm(x, y), [(2, 3, 4), (2, 4, 2)]),
    "matmul_matrix_vector": (lambda m, x, y: x @ y, [(3, 4), (4,)]),
    "view": (lambda m, x: x.view(12), [(3, 4)], {"layouts": ("contiguous",)}),
    "reshape": (lambda m, x: x.reshape(12), [(3, 4)]),
    "permute": (lambda m, x: x.permute(1, 0), [(3, 4)]),
    "expand": (lambda m, x: x.expand(2, 3, 4), [(3, 4)]),
    "squeeze": (lambda m, x: x.unsqueeze(0).squeeze(0), [(3, 4)]),
    "narrow": (lambda m, x: x.narrow(1, 1, 2), [(3, 4)]),
    "select": (lambda m, x: x[1], [(3, 4)]),
    "slice": (lambda m, x: x[1:, ::2], [(3, 4)]),
    "diagonal": (lambda m, x: x.diagonal(), [(3, 4)]),
    "unfold": (lambda m, x: x.unfold(1, 2, 1), [(3, 4)]),
    "as_strided": (lambda m, x: x.as_strided((2, 2), (1, 2)), [(3, 4)], {"layouts": ("contiguous",)}),
    "as_strided_overlapping": (lambda m, x: m.as_strided(x, (3, 3), (1, 1), 1), [(3, 4)],
                               {"layouts": ("contiguous",)}),
    "clone": (lambda m, x: x.clone(), [(3, 4)]),
    "contiguous": (lambda m, x: x.t().contiguous(), [(3, 4)]),
    "to_float32": (lambda m, x: x.to(m.float32).to(m.float64), [(3, 4)]),
    "copy_": (lambda m, x, y: (x * 1).copy_(y[0]), [(3, 4), (3, 4)]),
    "add_": (lambda m, x, y: (x * 1).add_(y, alpha=2), [(3, 4), (3, 4)]),
    "mul_": (lambda m, x, y: (x * 1).mul_(y), [(3, 4), (3, 4)]),
    "fill_": (lambda m, x: (x * 1).fill_(2.0) * x, [(3, 4)]),
    "lt_": (lambda m, x, y: (x * 1).lt_(y) * x, [(3, 4), (3, 4)]),
    "inplace_on_view": (mul_row_in_place, [(3, 4), (3, 4)]),
    "setitem": (assign_row, [(3, 4), (3, 4)]),
    "maximum": (lambda m, x, y: m.maximum(x, y), [(3, 4), (3, 4)]),
    "fmod": (lambda m, x, y: m.fmod(x * 3, y), [(3, 4), (3, 4)], {"low": 0.5}),
    "remainder": (lambda m, x, y: m.remainder(x * 3, y), [(3, 4), (3, 4)], {"low": 0.5}),
    "atan2": (lambda m, x, y: m.atan2(x, y), [(3, 4), (3, 4)], {"low": 0.5}),
    "hypot": (lambda m, x, y: m.hypot(x, y), [(3, 4), (3, 4)]),
    "copysign": (lambda m, x, y: m.copysign(x, y), [(3, 4), (3, 4)]),
    "xlogy": (lambda m, x, y: m.xlogy(x, y), [(3, 4), (3, 4)], {"low": 0.5}),
    "elu": (lambda m, x: m.nn.functional.elu(x, alpha=0.5), [(3, 4)]),
    "elu_inplace": (lambda m, x: m.nn.functional.elu(x * 1, inplace=True), [(3, 4)]),
    "gelu": (lambda m, x: m.nn.functional.gelu(x), [(3, 4)]),
    "gelu_tanh": (lambda m, x: m.nn.functional.gelu(x, approximate="tanh"), [(3, 4)]),
    "hardtanh": (lambda m, x: m.nn.functional.hardtanh(x, -0.5, 0.7), [(3, 4)]),
    "leaky_relu": (lambda m, x: m.nn.functional.leaky_relu(x, 0.2), [(3, 4)]),
    "softplus": (lambda m, x: m.nn.functional.softplus(x, beta=2, threshold=1), [(3, 4)]),
    "logit": (lambda m, x: m.logit(x), [(3, 4)], {"low": 0.05, "high": 0.95}),
    "logit_eps": (lambda m, x: m.logit(x, eps=0.2), [(3, 4)], {"low": 0.0, "high": 1.0}),
    "nan_to_num": (lambda m, x: m.nan_to_num(x.log(), nan=0.5), [(3, 4)]),
    "round_decimals": (lambda m, x: m.round(x, decimals=1), [(3, 4)]),
}

# Inputs in each op's domain.
UNARY_DOMAINS = {
    "log": (0.1, 3.0), "sqrt": (0.1, 3.0), "rsqrt": (0.1, 3.0), "log2": (0.1, 3.0), "log10": (0.1, 3.0),
    "log1p": (-0.9, 3.0), "reciprocal": (0.5, 2.0), "tan": (-1.2, 1.2), "asin": (-0.9, 0.9), "acos": (-0.9, 0.9),
    "atanh": (-0.9, 0.9), "erfinv": (-0.9, 0.9), "acosh": (1.1, 3.0),
}
for _op in ["neg", "exp", "sigmoid", "tanh", "exp2", "expm1", "sin", "cos", "atan", "sinh", "cosh", "asinh", "erf",
            "floor", "ceil", "trunc", "round", "frac", "sign", *NN_UNARY, *UNARY_DOMAINS]:
    _low, _high = UNARY_DOMAINS.get(_op, (-2.0, 2.0))
    CASES["unary_" + _op] = (lambda m, x, op=_op: unary(m, op, x), [(3, 4)], {"low": _low, "high": _high})

# name -> reason, for cases that are strict xfails (vibetensor bugs).
BUGS = {}


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=[pytest.mark.xfail(strict=True, reason=BUGS[name])] if name in BUGS else [])
    for name in CASES])
def test_forward_ad(name):
    fn, shapes, *kwargs = CASES[name]
    check_forward(fn, *shapes, **(kwargs[0] if kwargs else {}))


def test_as_strided_forward_ad_needs_a_contiguous_input():
    """torch supports this; vibetensor raises NotImplementedError. When it stops raising, the
    as_strided cases above should run transposed too."""
    x = vt.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=vt.float64)
    with vt_fwad.dual_level():
        d = vt_fwad.make_dual(x.t(), vt.ones(2, 2, dtype=vt.float64).t())
        with pytest.raises(NotImplementedError, match="as_strided"):
            d.as_strided((2,), (1,))


def test_unpack_dual_outside_dual_level_has_no_tangent():
    def scenario(m):
        fwad = FORWARD_AD[m]
        with fwad.dual_level():
            d = fwad.make_dual(m.tensor([1.0, 2.0]), m.tensor([0.5, 0.5]))
            y = d * 3
            inside = fwad.unpack_dual(y).tangent.tolist()
        return inside, fwad.unpack_dual(y).tangent
    assert scenario(vt) == scenario(torch)
