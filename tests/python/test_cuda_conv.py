"""conv2d on CUDA (cuDNN's kernels, src/cuda/conv_cudnn.cpp, or the decomposed ones in a build
without cuDNN) against the CPU, whose results the op sweep checks against torch: the forward,
the gradients of input, weight and bias, every float dtype, strides, padding, dilation, groups,
non-contiguous and empty inputs, double backward, and the settings of vt.backends.cudnn. The
kernel tests skip without a GPU; the settings are tested everywhere."""
import subprocess
import sys

import numpy as np
import pytest

import vibetensor as vt
import vibetensor.nn.functional as F

cuda = pytest.mark.skipif(not vt.cuda.is_available(), reason="needs a CUDA device")

# (rtol, atol) against the CPU in float64: cuDNN's algorithms sum in other orders
TOLERANCE = {vt.float64: (1e-10, 1e-10), vt.float32: (1e-4, 1e-4), vt.float16: (1e-2, 2e-2),
             vt.bfloat16: (5e-2, 1e-1)}
CASES = [  # x shape, weight shape, keyword arguments
    ((2, 3, 9, 8), (4, 3, 3, 3), {}),
    ((2, 3, 9, 8), (5, 3, 3, 2), {"stride": 2, "padding": 1}),
    ((1, 4, 10, 10), (6, 4, 3, 3), {"dilation": 2, "padding": 2}),
    ((2, 4, 7, 7), (6, 2, 3, 3), {"groups": 2, "padding": 1}),
    ((3, 8, 6, 6), (16, 8, 1, 1), {}),
    ((2, 3, 12, 11), (8, 3, 5, 5), {"stride": (2, 1), "padding": (2, 0)}),
]


def operands(x_shape, w_shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = vt.tensor(rng.standard_normal(x_shape)).to(dtype)
    w = vt.tensor(rng.standard_normal(w_shape) / np.sqrt(np.prod(w_shape[1:]))).to(dtype)
    b = vt.tensor(rng.standard_normal(w_shape[0])).to(dtype)
    return x, w, b


def gradients(x, w, b, device, **kwargs):
    """conv2d's output and the gradients of x, w and b on `device`, in float64 on the CPU."""
    inputs = [t.to(device).detach().requires_grad_() for t in (x, w, b)]
    out = F.conv2d(*inputs, **kwargs)
    grad = (vt.arange(out.numel()).remainder(5).sub(2).to(out.dtype) / 2).reshape(out.shape).to(device)
    out.backward(grad)
    return [t.cpu().to(vt.float64).numpy() for t in [out.detach()] + [i.grad for i in inputs]]


def assert_matches_cpu(x, w, b, dtype, **kwargs):
    rtol, atol = TOLERANCE[dtype]
    on_gpu = gradients(x, w, b, "cuda", **kwargs)
    on_cpu = gradients(x.to(vt.float64), w.to(vt.float64), b.to(vt.float64), "cpu", **kwargs)
    for name, got, want in zip(("output", "grad x", "grad weight", "grad bias"), on_gpu, on_cpu):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol * max(1.0, np.abs(want).max()), err_msg=name)


@cuda
@pytest.mark.parametrize("dtype", [vt.float64, vt.float32, vt.float16, vt.bfloat16], ids=str)
@pytest.mark.parametrize("case", range(len(CASES)))
def test_conv2d_and_its_gradients_match_the_cpu(dtype, case):
    x_shape, w_shape, kwargs = CASES[case]
    with vt.backends.cudnn.flags(enabled=True, allow_tf32=False):
        assert_matches_cpu(*operands(x_shape, w_shape, dtype, seed=case), dtype, **kwargs)


@cuda
@pytest.mark.parametrize("setting", ["benchmark", "deterministic", "disabled"])
def test_each_cudnn_setting_gives_the_same_results(setting):
    x, w, b = operands((2, 3, 9, 8), (4, 3, 3, 3), vt.float32)
    flags = dict(enabled=setting != "disabled", benchmark=setting == "benchmark",
                 deterministic=setting == "deterministic", allow_tf32=False)
    with vt.backends.cudnn.flags(**flags):
        assert_matches_cpu(x, w, b, vt.float32, padding=1)


@cuda
def test_deterministic_algorithms_repeat_bit_for_bit():
    x, w, b = operands((4, 16, 20, 20), (32, 16, 3, 3), vt.float32)
    with vt.backends.cudnn.flags(enabled=True, deterministic=True):
        first, second = (gradients(x, w, b, "cuda", padding=1) for _ in range(2))
    for a, c in zip(first, second):
        assert np.array_equal(a, c)


@cuda
def test_tf32_rounds_float32_inputs_only_when_allowed():
    # 1 + 2^-15 is not a TF32 number (10 mantissa bits): with TF32 each of the 64 products is 1.
    x = vt.full((1, 64, 4, 4), 1 + 2.0 ** -15).cuda()
    w = vt.ones(1, 64, 1, 1).cuda()
    with vt.backends.cudnn.flags(enabled=True, allow_tf32=False):
        assert set(F.conv2d(x, w).cpu().flatten().tolist()) == {64 * (1 + 2.0 ** -15)}
    with vt.backends.cudnn.flags(enabled=True, allow_tf32=True):
        values = set(F.conv2d(x, w).cpu().flatten().tolist())
    assert values <= {64.0, 64 * (1 + 2.0 ** -15)}  # cuDNN may still choose a non-TF32 algorithm


@cuda
def test_non_contiguous_and_empty_inputs():
    x, w, b = operands((2, 3, 9, 8), (4, 3, 3, 3), vt.float32)
    x_t = x.transpose(2, 3).contiguous().transpose(2, 3)  # same values, other strides
    with vt.backends.cudnn.flags(enabled=True, allow_tf32=False):
        assert_matches_cpu(x_t, w, b, vt.float32)
        empty = vt.zeros(0, 3, 9, 8).cuda().requires_grad_()
        out = F.conv2d(empty, w.cuda(), b.cuda())
        assert tuple(out.shape) == (0, 4, 7, 6)
        out.sum().backward()
        assert tuple(empty.grad.shape) == (0, 3, 9, 8)


@cuda
def test_double_backward_on_cuda():
    x, w, b = operands((1, 2, 5, 5), (3, 2, 3, 3), vt.float64)
    inputs = [t.cuda().requires_grad_() for t in (x, w, b)]
    with vt.backends.cudnn.flags(enabled=True):
        assert vt.autograd.gradgradcheck(lambda *a: F.conv2d(*a, padding=1), inputs)


@cuda
def test_mixed_dtypes_raise_as_on_the_cpu():
    x, w, _ = operands((1, 2, 5, 5), (3, 2, 3, 3), vt.float32)
    with pytest.raises(RuntimeError) as on_cpu:
        F.conv2d(x, w.double())
    with pytest.raises(type(on_cpu.value)):
        F.conv2d(x.cuda(), w.double().cuda())


def test_cudnn_setting_defaults_are_torchs():
    code = ("import vibetensor as vt; c = vt.backends.cudnn; "
            "print(c.enabled, c.benchmark, c.deterministic, c.allow_tf32)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "False", "False", "True"]


def test_cudnn_module():
    version = vt.backends.cudnn.version()
    assert vt.backends.cudnn.is_available() == (version is not None)
    assert version is None or version >= 90000
    saved = vt.backends.cudnn.benchmark
    vt.backends.cudnn.benchmark = not saved
    assert vt.backends.cudnn.benchmark == (not saved)
    vt.backends.cudnn.benchmark = saved
    with vt.backends.cudnn.flags(enabled=False, deterministic=True):
        assert vt.backends.cudnn.enabled is False and vt.backends.cudnn.deterministic is True
    assert vt.backends.cudnn.enabled is True and vt.backends.cudnn.deterministic is False
    with pytest.raises(AttributeError):
        vt.backends.cudnn.no_such_setting  # noqa: B018
