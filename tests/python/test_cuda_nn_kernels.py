"""The CUDA kernels of the nn ops: softmax and log_softmax (forward and backward), layer norm
(forward and backward) and the elementwise activations with parameters. Each is checked against
the CPU kernel, whose semantics it shares (same dtype, shape, NaN positions, values within a
rounding of the dtype), and the float32/float64 results also against torch. Skipped without a
GPU, except the check that a CUDA build registers the kernels."""
import numpy as np
import pytest
import torch

import vibetensor as vt
import vibetensor.nn.functional as F

cuda = pytest.mark.skipif(not vt.cuda.is_available(), reason="needs a CUDA device")
DEVICE = "cuda"

FLOATS = [vt.float16, vt.bfloat16, vt.float32, vt.float64]
INTS = [vt.uint8, vt.int8, vt.int16, vt.int32, vt.int64]

# (rtol, atol) between the two backends: the same formulas summed in another order, with exp,
# erf and tanh from other libraries, each rounded once to the dtype (two ulps for 16 bits).
TOL = {
    vt.float16: (2e-3, 1e-5),
    vt.bfloat16: (1.6e-2, 1e-5),
    vt.float32: (2e-5, 1e-6),
    vt.float64: (1e-10, 1e-12),
}


def make(shape, dtype=vt.float32, seed=0, scale=3.0, offset=0.0):
    """A CPU tensor of normal values (scaled, shifted), rounded to `dtype`."""
    values = np.random.default_rng(seed).standard_normal(shape) * scale + offset
    return vt.from_numpy(np.asarray(values, dtype=np.float64)).to(dtype)


def numpy_of(t):
    return t.detach().cpu().to(vt.float64).numpy()


def assert_matches(actual, expected, rtol=None, atol=None, what="result"):
    """A CUDA result against the CPU's: device, dtype, shape, then values (NaN exactly where the
    CPU has NaN)."""
    assert str(actual.device).startswith(DEVICE), f"{what}: on {actual.device}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != {expected.dtype}"
    assert tuple(actual.shape) == tuple(expected.shape), f"{what}: shape {tuple(actual.shape)} != {tuple(expected.shape)}"
    default_rtol, default_atol = TOL.get(expected.dtype, (0, 0))
    np.testing.assert_allclose(numpy_of(actual), numpy_of(expected), equal_nan=True, err_msg=what,
                               rtol=default_rtol if rtol is None else rtol, atol=default_atol if atol is None else atol)


def assert_equal(actual, expected, what="result"):
    assert str(actual.device).startswith(DEVICE), f"{what}: on {actual.device}"
    assert actual.dtype == expected.dtype and tuple(actual.shape) == tuple(expected.shape), what
    np.testing.assert_array_equal(actual.cpu().numpy() if actual.dtype != vt.bfloat16 else numpy_of(actual),
                                  expected.numpy() if expected.dtype != vt.bfloat16 else numpy_of(expected),
                                  err_msg=what)


def both(fn, x, *args, **kwargs):
    """fn on the CPU tensor x, and on its copy on the device."""
    return fn(x, *args, **kwargs), fn(x.to(DEVICE), *args, **kwargs)


@pytest.mark.skipif(not vt.cuda.is_built(), reason="a build without CUDA")
@pytest.mark.parametrize("op", [
    "_softmax", "_log_softmax", "_softmax_backward_data", "_log_softmax_backward_data",
    "native_layer_norm", "native_layer_norm_backward",
    "isnan", "isinf", "isfinite", "gelu", "gelu_backward", "softplus", "elu", "leaky_relu", "hardtanh", "logit",
    "nan_to_num", "round.decimals"])
def test_cuda_build_registers_the_kernel(op):
    assert "CUDA" in vt.ops.dispatch_keys(op)


# ---- softmax

# (shape, dim): rows of 1 .. 5000 elements along the last dim (a warp per row up to 1024,
# slices of a warp for short rows, a block per row beyond), and other dims (threads walking a
# strided dim, few or many columns).
SOFTMAX_CASES = [
    ((300, 1), -1), ((300, 7), 1), ((257, 32), -1), ((3, 33), -1), ((65, 1000), 1), ((9, 1024), -1),
    ((33, 1025), -1), ((9, 5000), 1), ((2, 70000), -1),
    ((1025, 6), 0), ((5000, 3), 0), ((7, 70000), 0), ((4, 7, 300), 1), ((5, 1000, 3), -2), ((3, 5, 7), -2),
    ((2, 3, 4, 5), 0), ((2, 3, 4, 5), 2), ((6, 1, 40), -3), ((4, 5, 1), 1),
    ((), 0), ((), -1), ((0, 5), 1), ((5, 0), 1), ((5, 0), 0),
]


@cuda
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("shape,dim", SOFTMAX_CASES, ids=str)
@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_softmax_forward_matches_cpu(shape, dim, dtype, log):
    x = make(shape, dtype)
    fn = F.log_softmax if log else F.softmax
    expected, actual = both(fn, x, dim)
    assert_matches(actual, expected)
    if dtype in (vt.float32, vt.float64) and x.numel() > 0:
        t = torch.from_numpy(numpy_of(x)).to(torch.float32 if dtype == vt.float32 else torch.float64)
        reference = (torch.log_softmax if log else torch.softmax)(t, dim)
        np.testing.assert_allclose(numpy_of(actual), reference.double().numpy(), rtol=TOL[dtype][0] * 5, atol=1e-6)


@cuda
@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("layout", ["transposed", "sliced", "permuted", "expanded", "offset"])
def test_softmax_of_non_contiguous_inputs(layout, log):
    views = {
        "transposed": (lambda t: t.t(), (40, 1100)),
        "sliced": (lambda t: t[:, ::3], (50, 3000)),
        "permuted": (lambda t: t.permute(2, 0, 1), (6, 7, 30)),
        "expanded": (lambda t: t.expand(5, 1200, 9), (1, 1200, 9)),
        "offset": (lambda t: t[3:, 1:], (20, 900)),
    }
    view, shape = views[layout]
    base = make(shape)
    fn = F.log_softmax if log else F.softmax
    for dim in range(-view(base).dim(), view(base).dim()):
        expected = fn(view(base), dim)
        actual = fn(view(base.to(DEVICE)), dim)
        assert_matches(actual, expected, what=f"dim {dim}")


@cuda
@pytest.mark.parametrize("n", [7, 1000, 3000])
@pytest.mark.parametrize("along", ["last", "first"])
def test_softmax_with_infinities_and_nan(n, along):
    x = np.random.default_rng(0).standard_normal((6, n)).astype(np.float32) * 3
    x[0, ::2] = -np.inf  # masked scores weigh nothing
    x[1, :] = -np.inf    # a row of nothing but -inf: NaN throughout
    x[2, n // 2] = np.nan
    x[3, 0] = np.inf     # NaN throughout, as inf - inf
    x[4, 1:] = -np.inf   # everything on one element
    rows = vt.from_numpy(x)
    cpu, dev, dim = (rows, rows.to(DEVICE), 1) if along == "last" else (rows.t(), rows.to(DEVICE).t(), 0)
    for log in (False, True):
        fn = F.log_softmax if log else F.softmax
        expected, actual = fn(cpu, dim), fn(dev, dim)
        assert_matches(actual, expected, what="log_softmax" if log else "softmax")
        got = numpy_of(actual if along == "last" else actual.t())
        assert np.isnan(got[1:4]).all() and not np.isnan(got[[0, 4, 5]]).any()
        if log:
            assert (got[0, ::2] == -np.inf).all() and got[4, 0] == 0 and (got[4, 1:] == -np.inf).all()
        else:
            assert (got[0, ::2] == 0).all() and got[4, 0] == 1 and (got[4, 1:] == 0).all()
            np.testing.assert_allclose(got[[0, 5]].sum(axis=1), 1, rtol=1e-5)


@cuda
def test_softmax_of_large_values_stays_finite():
    x = make((4, 2000), scale=1.0, offset=1e4)  # exp would overflow without the max shift
    for fn in (F.softmax, F.log_softmax):
        for dim in (0, 1):
            expected, actual = both(fn, x, dim)
            assert np.isfinite(numpy_of(actual)).all()
            assert_matches(actual, expected, atol=1e-5)


# The backward reads the forward's output, which may differ between the backends in a last
# bit: for 16 bits that moves the gradient by more than a rounding.
SOFTMAX_BACKWARD_TOL = {vt.float16: (1e-2, 1e-3), vt.bfloat16: (6e-2, 1e-2), vt.float32: (1e-4, 1e-5),
                        vt.float64: (1e-9, 1e-12)}


@cuda
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("shape,dim", [((300, 7), -1), ((65, 1000), 1), ((9, 5000), -1), ((1025, 6), 0),
                                       ((4, 7, 300), 1), ((5, 1000, 3), 1), ((), 0)], ids=str)
@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_softmax_backward_matches_cpu(shape, dim, dtype, log):
    x, g = make(shape, dtype), make(shape, dtype, seed=1)
    fn = F.log_softmax if log else F.softmax
    grads = []
    for device in ("cpu", DEVICE):
        leaf = x.detach().to(device).requires_grad_()
        fn(leaf, dim).backward(g.to(device))
        grads.append(leaf.grad)
    rtol, atol = SOFTMAX_BACKWARD_TOL[dtype]
    assert_matches(grads[1], grads[0], rtol=rtol, atol=atol)
    if dtype == vt.float64:
        t = torch.from_numpy(numpy_of(x)).requires_grad_()
        (torch.log_softmax if log else torch.softmax)(t, dim).backward(torch.from_numpy(numpy_of(g)))
        np.testing.assert_allclose(numpy_of(grads[1]), t.grad.numpy(), rtol=1e-9, atol=1e-12)


@cuda
def test_softmax_dtype_argument_and_errors():
    x = make((4, 50), vt.float16)
    expected, actual = both(F.softmax, x, 1, dtype=vt.float32)
    assert actual.dtype == vt.float32
    assert_matches(actual, expected)
    ints = vt.from_numpy(np.arange(12).reshape(3, 4))
    for tensor in (ints, ints.to(DEVICE)):
        with pytest.raises(RuntimeError, match="not implemented for 'Long'"):
            F.softmax(tensor, 1)
        with pytest.raises(IndexError):
            F.log_softmax(tensor.float(), 2)


@cuda
def test_softmax_on_a_side_stream():
    side = vt.cuda.Stream()
    with vt.cuda.stream(side):
        x = make((512, 1000)).to(DEVICE)
        y = F.softmax(x, 0)
        z = F.log_softmax(x, 1)
    side.synchronize()
    assert_matches(y, F.softmax(x.cpu(), 0))
    assert_matches(z, F.log_softmax(x.cpu(), 1))


# ---- layer norm

LAYER_NORM_CASES = [((300, 1), (1,)), ((300, 7), (7,)), ((257, 32), (32,)), ((65, 1000), (1000,)),
                    ((33, 1025), (1025,)), ((9, 5000), (5000,)), ((4, 6, 10), (6, 10)), ((2, 3, 4, 5), (3, 4, 5)),
                    ((10,), (10,)), ((0, 8), (8,))]


def layer_norm_parameters(normalized, dtype, affine):
    """weight and bias for `affine` in none, weight, bias, both."""
    weight = make(normalized, dtype, seed=2, scale=1.0, offset=1.0) if affine in ("weight", "both") else None
    bias = make(normalized, dtype, seed=3) if affine in ("bias", "both") else None
    return weight, bias


def to_device(t):
    return None if t is None else t.to(DEVICE)


@cuda
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("shape,normalized", LAYER_NORM_CASES, ids=str)
@pytest.mark.parametrize("affine", ["none", "both", "weight", "bias"])
def test_native_layer_norm_matches_cpu(shape, normalized, dtype, affine):
    x = make(shape, dtype, offset=2.0)
    weight, bias = layer_norm_parameters(normalized, dtype, affine)
    expected = vt.native_layer_norm(x, list(normalized), weight, bias, 1e-5)
    actual = vt.native_layer_norm(x.to(DEVICE), list(normalized), to_device(weight), to_device(bias), 1e-5)
    for name, a, e in zip(("output", "mean", "rstd"), actual, expected):
        assert_matches(a, e, atol=1e-5 if dtype == vt.float32 else None, what=name)
    if dtype in (vt.float32, vt.float64) and x.numel() > 0:
        tdtype = torch.float32 if dtype == vt.float32 else torch.float64
        as_torch = lambda t: None if t is None else torch.from_numpy(numpy_of(t)).to(tdtype)  # noqa: E731
        reference = torch.native_layer_norm(as_torch(x), list(normalized), as_torch(weight), as_torch(bias), 1e-5)
        for name, a, e in zip(("output", "mean", "rstd"), actual, reference):
            np.testing.assert_allclose(numpy_of(a).reshape(e.shape), e.double().numpy(), rtol=1e-4, atol=1e-5,
                                       err_msg=f"{name} against torch")


@cuda
def test_layer_norm_far_from_zero_and_non_contiguous():
    # Rows of mean 1e4 and spread 1: a one-pass variance would cancel away.
    x = make((64, 1500), vt.float32, scale=1.0, offset=1e4)
    out, mean, rstd = vt.native_layer_norm(x.to(DEVICE).t(), [64], None, None, 1e-5)
    expected = vt.native_layer_norm(x.t(), [64], None, None, 1e-5)
    # float32 sums of values near 1e4 round at 1e-3: the backends' means differ by about that.
    for a, e in zip((out, mean, rstd), expected):
        assert_matches(a, e, rtol=1e-3, atol=1e-2)
    np.testing.assert_allclose(numpy_of(rstd), 1 / numpy_of(x.t()).std(axis=1, keepdims=True), rtol=2e-3)
    sliced = make((40, 3000), vt.float64)
    expected, actual = vt.native_layer_norm(sliced[:, ::4], [750], None, None, 1e-6), \
        vt.native_layer_norm(sliced.to(DEVICE)[:, ::4], [750], None, None, 1e-6)
    for a, e in zip(actual, expected):
        assert_matches(a, e)


# 16-bit backward: mean and rstd are stored in the dtype, and a last bit that differs between
# the backends' forwards moves the gradients by more than a rounding.
BACKWARD_TOL = {vt.float16: (2e-2, 2e-2), vt.bfloat16: (8e-2, 8e-2), vt.float32: (1e-4, 1e-5),
                vt.float64: (1e-9, 1e-11)}


def layer_norm_grads(device, x, normalized, weight, bias, g):
    leaves = [None if t is None else t.detach().to(device).requires_grad_() for t in (x, weight, bias)]
    F.layer_norm(leaves[0], list(normalized), leaves[1], leaves[2], 1e-5).backward(g.to(device))
    return [None if t is None else t.grad for t in leaves]


@cuda
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("shape,normalized", [((300, 7), (7,)), ((65, 1000), (1000,)), ((9, 5000), (5000,)),
                                              ((4, 6, 10), (6, 10)), ((5000, 64), (64,)), ((3, 2048), (2048,)),
                                              ((1, 33), (33,))], ids=str)
@pytest.mark.parametrize("affine", ["none", "both", "weight", "bias"])
def test_layer_norm_backward_matches_cpu_autograd(shape, normalized, dtype, affine):
    x, g = make(shape, dtype), make(shape, dtype, seed=1)
    weight, bias = layer_norm_parameters(normalized, dtype, affine)
    expected = layer_norm_grads("cpu", x, normalized, weight, bias, g)
    actual = layer_norm_grads(DEVICE, x, normalized, weight, bias, g)
    rtol, atol = BACKWARD_TOL[dtype]
    for name, a, e in zip(("grad_input", "grad_weight", "grad_bias"), actual, expected):
        assert (a is None) == (e is None), name
        if e is not None:
            # The parameter gradients sum over every row: their scale grows with the row count.
            scale = 1 if name == "grad_input" else np.sqrt(x.numel() / numpy_of(e).size)
            assert_matches(a, e, rtol=rtol, atol=atol * scale, what=name)
    if dtype in (vt.float32, vt.float64):
        tdtype = torch.float32 if dtype == vt.float32 else torch.float64
        leaves = [None if t is None else torch.from_numpy(numpy_of(t)).to(tdtype).requires_grad_()
                  for t in (x, weight, bias)]
        torch.nn.functional.layer_norm(leaves[0], normalized, leaves[1], leaves[2], 1e-5).backward(
            torch.from_numpy(numpy_of(g)).to(tdtype))
        for name, a, t in zip(("grad_input", "grad_weight", "grad_bias"), actual, leaves):
            if t is not None:
                scale = 1 if name == "grad_input" else np.sqrt(x.numel() / t.numel())
                np.testing.assert_allclose(numpy_of(a), t.grad.double().numpy(), rtol=rtol * 10, atol=atol * 10 * scale,
                                           err_msg=f"{name} against torch")


@cuda
def test_layer_norm_parameter_gradients_are_deterministic():
    x, g = make((20000, 96)), make((20000, 96), seed=1)
    weight, bias = layer_norm_parameters((96,), vt.float32, "both")
    first = layer_norm_grads(DEVICE, x, (96,), weight, bias, g)
    second = layer_norm_grads(DEVICE, x, (96,), weight, bias, g)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.cpu().numpy(), b.cpu().numpy())


@cuda
def test_layer_norm_mixed_dtypes_and_errors():
    x = make((8, 16), vt.float16)
    weight, bias = layer_norm_parameters((16,), vt.float32, "both")
    # 16-bit inputs take float32 parameters, as on the CPU.
    expected = vt.native_layer_norm(x, [16], weight, bias, 1e-5)
    actual = vt.native_layer_norm(x.to(DEVICE), [16], weight.to(DEVICE), bias.to(DEVICE), 1e-5)
    for a, e in zip(actual, expected):
        assert_matches(a, e)
    grads = layer_norm_grads(DEVICE, x, (16,), weight, bias, make((8, 16), vt.float16, seed=1))
    assert [t.dtype for t in grads] == [vt.float16, vt.float32, vt.float32]
    x32 = make((8, 16))
    for device in ("cpu", DEVICE):
        with pytest.raises(RuntimeError, match="mixed dtype"):
            vt.native_layer_norm(x32.to(device), [16], weight.to(vt.float16).to(device), None, 1e-5)
        with pytest.raises(RuntimeError, match="normalized_shape"):
            vt.native_layer_norm(x32.to(device), [8], None, None, 1e-5)
        with pytest.raises(RuntimeError, match="weight to be of same shape"):
            vt.native_layer_norm(x32.to(device), [16], make((8,)).to(device), None, 1e-5)
        with pytest.raises(RuntimeError, match="not implemented for 'Long'"):
            vt.native_layer_norm(vt.from_numpy(np.arange(16).reshape(2, 8)).to(device), [8], None, None, 1e-5)
    with pytest.raises(RuntimeError, match="same device"):
        vt.native_layer_norm(x32.to(DEVICE), [16], weight, None, 1e-5)
    with pytest.raises(RuntimeError, match="same device"):
        vt.native_layer_norm(x32, [16], weight.to(DEVICE), None, 1e-5)


# ---- activations


@cuda
@pytest.mark.parametrize("dtype", FLOATS + INTS + [vt.bool], ids=str)
def test_predicates_match_cpu(dtype):
    if dtype in FLOATS:
        values = vt.from_numpy(np.array([[0.0, -1.5, np.nan, np.inf], [-np.inf, 3.0, 1e30, -0.0]] * 3)).to(dtype)
    else:
        values = vt.from_numpy(np.arange(-6, 6).reshape(3, 4) % 3 > 0 if dtype == vt.bool else
                               np.arange(0, 24).reshape(4, 6) % 7).to(dtype)
    for name in ("isnan", "isinf", "isfinite"):
        fn = getattr(vt, name)
        expected, actual = both(fn, values)
        assert_equal(actual, expected, what=name)
        assert_equal(fn(values.to(DEVICE).t()), fn(values.t()), what=f"{name} transposed")
    if dtype == vt.float32:
        assert numpy_of(vt.isnan(values.to(DEVICE))).sum() == 3


# (name, call, input): every parameter form the CPU kernels take.
ACTIVATIONS = [
    ("gelu", lambda x: F.gelu(x), "normal"),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), "normal"),
    ("softplus", lambda x: F.softplus(x), "normal"),
    ("softplus_beta", lambda x: F.softplus(x, 2.0, 5.0), "normal"),
    ("softplus_low", lambda x: F.softplus(x, 0.5, 1.0), "normal"),
    ("elu", lambda x: F.elu(x), "normal"),
    ("elu_alpha", lambda x: F.elu(x, 0.3), "normal"),
    ("leaky_relu", lambda x: F.leaky_relu(x), "normal"),
    ("leaky_relu_slope", lambda x: F.leaky_relu(x, 0.2), "normal"),
    ("hardtanh", lambda x: F.hardtanh(x), "normal"),
    ("hardtanh_limits", lambda x: F.hardtanh(x, -0.5, 2.5), "normal"),
    ("logit", lambda x: vt.logit(x), "probability"),
    ("logit_eps", lambda x: vt.logit(x, 0.05), "probability"),
    ("nan_to_num", lambda x: vt.nan_to_num(x), "normal"),
    ("nan_to_num_values", lambda x: vt.nan_to_num(x, nan=1.5, posinf=7.0, neginf=-3.0), "normal"),
    ("round_2", lambda x: vt.round(x, decimals=2), "normal"),
    ("round_-1", lambda x: vt.round(x, decimals=-1), "wide"),
]


def activation_input(dtype, kind="normal", shape=(64, 130)):
    """Values of `kind` with the special ones among them: infinities and NaN, halves that round
    to even, 0 and 1 for logit."""
    rng = np.random.default_rng(0)
    if kind == "probability":
        x = rng.uniform(0, 1, shape)
        x[0, :6] = [0.0, 1.0, np.nan, 0.5, 1e-3, 0.999]
    else:
        x = rng.standard_normal(shape) * (400.0 if kind == "wide" else 4.0)
        x[0, :6] = [np.nan, np.inf, -np.inf, 0.0, 25.0, -25.0]
        x[1, :6] = [0.125, -0.125, 1.25, 2.5, 15.0, 25.0] if kind == "normal" else [5, 15, 25, -35, 45, 0]
    return vt.from_numpy(x).to(dtype)


@cuda
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("name,fn,kind", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_matches_cpu(name, fn, kind, dtype):
    x = activation_input(dtype, kind)
    expected, actual = both(fn, x)
    # float32 gelu's tails (erf(x) + 1 near 0) round at 1e-7 of |x| on both sides.
    atol = 1e-5 if dtype == vt.float32 else None
    assert_matches(actual, expected, atol=atol, what=name)
    # A strided input takes the iterator's strided loop.
    assert_matches(fn(x.to(DEVICE).t()), fn(x.t()), atol=atol, what=f"{name} transposed")
    assert_matches(fn(x.to(DEVICE)[:, 1::3]), fn(x[:, 1::3]), atol=atol, what=f"{name} sliced")
    empty = vt.empty(0, 3, dtype=dtype)
    assert_matches(fn(empty.to(DEVICE)), fn(empty), what=f"{name} empty")


@cuda
@pytest.mark.parametrize("dtype", [vt.float32, vt.float64], ids=str)
def test_activations_match_torch(dtype):
    # Finite inputs but for nan_to_num (torch's vectorized gelu makes NaN of inf).
    x, special, p = make((64, 130), dtype, scale=4.0), activation_input(dtype), activation_input(dtype, "probability")
    tdtype = torch.float32 if dtype == vt.float32 else torch.float64
    t, ts, tp = (torch.from_numpy(numpy_of(v)).to(tdtype) for v in (x, special, p))
    d = x.to(DEVICE)
    checks = [
        (F.gelu(d), torch.nn.functional.gelu(t)),
        (F.gelu(d, approximate="tanh"), torch.nn.functional.gelu(t, approximate="tanh")),
        (F.softplus(d, 2.0, 5.0), torch.nn.functional.softplus(t, 2.0, 5.0)),
        (F.elu(d, 0.3), torch.nn.functional.elu(t, 0.3)),
        (F.leaky_relu(d, 0.2), torch.nn.functional.leaky_relu(t, 0.2)),
        (F.hardtanh(d, -0.5, 2.5), torch.nn.functional.hardtanh(t, -0.5, 2.5)),
        (vt.logit(p.to(DEVICE), 0.05), torch.logit(tp, 0.05)),
        (vt.logit(p.to(DEVICE)), torch.logit(tp)),
        (vt.nan_to_num(special.to(DEVICE), nan=1.5), torch.nan_to_num(ts, nan=1.5)),
        (vt.round(d, decimals=2), torch.round(t, decimals=2)),
    ]
    for i, (a, e) in enumerate(checks):
        np.testing.assert_allclose(numpy_of(a), e.double().numpy(), rtol=1e-5, atol=1e-6, equal_nan=True,
                                   err_msg=f"check {i}")


@cuda
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_backward_matches_cpu(dtype, approximate):
    x, g = activation_input(dtype), make((64, 130), dtype, seed=1)
    grads = []
    for device in ("cpu", DEVICE):
        leaf = x.detach().to(device).requires_grad_()
        F.gelu(leaf, approximate=approximate).backward(g.to(device))
        grads.append(leaf.grad)
    # The CPU's vectorized tanh and erf differ from CUDA's by a few ulps; the backward's
    # cancellation where the gradient crosses zero turns that into up to ~1.3e-5 absolute.
    assert_matches(grads[1], grads[0], atol=3e-5 if dtype == vt.float32 else None)


@cuda
@pytest.mark.parametrize("dtype", INTS, ids=str)
def test_integer_activations_match_cpu(dtype):
    x = vt.from_numpy(np.arange(-40, 40).reshape(8, 10)).to(dtype)
    for name, fn in [("hardtanh", lambda t: F.hardtanh(t, 3, 20)), ("nan_to_num", vt.nan_to_num),
                     ("logit", lambda t: vt.logit(t, 0.25))]:
        expected, actual = both(fn, x)
        if name == "logit":  # integers promote to float
            assert_matches(actual, expected, what=name)
        else:
            assert_equal(actual, expected, what=name)


@cuda
def test_activation_errors_match_cpu():
    ints = vt.from_numpy(np.arange(12).reshape(3, 4))
    cases = [
        (lambda t: F.gelu(t.float(), approximate="exact"), RuntimeError, "approximate argument"),
        (lambda t: F.gelu(t), RuntimeError, "not implemented for 'Long'"),
        (lambda t: F.softplus(t), RuntimeError, "not implemented for 'Long'"),
        (lambda t: F.hardtanh(t.to(vt.uint8), -1, 3), RuntimeError, "negative limits"),
        (lambda t: F.hardtanh(t > 2), RuntimeError, "Bool inputs not supported"),
        (lambda t: vt.round(t, decimals=2), RuntimeError, "decimals != 0"),
        (lambda t: vt.round(t > 2, decimals=1), RuntimeError, "not implemented for 'Bool'"),
    ]
    for fn, error, message in cases:
        for tensor in (ints, ints.to(DEVICE)):
            with pytest.raises(error, match=message):
                fn(tensor)
