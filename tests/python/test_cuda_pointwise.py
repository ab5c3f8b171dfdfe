"""Elementwise kernels and random fills on CUDA, against the same ops on the CPU. The op sweep
(test_op_sweep.py with VT_TEST_DEVICE=cuda) covers every op's dtypes and shape classes; these
tests aim at the CUDA loop itself: its vectorized path (full blocks and the tail, 16-byte
alignment), its strided path, Python numbers and 0-dim tensors as inputs, out= of another
dtype, and the Philox fills that must draw the CPU's numbers. Skipped without a GPU."""
import math

import pytest

import vibetensor as vt

cuda = pytest.mark.skipif(not vt.cuda.is_available(), reason="needs a CUDA device")

FLOATS = [vt.float16, vt.bfloat16, vt.float32, vt.float64]
TOL = {vt.float16: 1e-3, vt.bfloat16: 1e-2, vt.float32: 1e-6, vt.float64: 1e-12}


def close(gpu, cpu, rel):
    assert gpu.device.type == "cuda"
    assert gpu.dtype == cpu.dtype and tuple(gpu.shape) == tuple(cpu.shape)
    got, want = gpu.cpu().to(vt.float64).flatten().tolist(), cpu.to(vt.float64).flatten().tolist()
    for i, (g, w) in enumerate(zip(got, want)):
        if math.isnan(w):
            assert math.isnan(g), f"element {i}: {g} != nan"
        else:
            assert g == w or abs(g - w) <= rel * max(abs(w), 1e-30), f"element {i}: {g} != {w}"


def same(gpu, cpu):
    assert gpu.device.type == "cuda"
    assert gpu.dtype == cpu.dtype and tuple(gpu.shape) == tuple(cpu.shape)
    assert gpu.cpu().tolist() == cpu.tolist()


@cuda
@pytest.mark.parametrize("n", [1, 7, 1000, 4096, 1 << 20, (1 << 20) + 13])
@pytest.mark.parametrize("dtype", FLOATS)
def test_binary_and_unary_over_sizes(n, dtype):
    """Sizes on both sides of the vectorized kernel's block size, with and without a tail."""
    a = vt.randn(n).to(dtype)
    b = vt.rand(n).to(dtype) + 0.5
    ga, gb = a.cuda(), b.cuda()
    close(ga + gb, a + b, TOL[dtype])
    close(ga * gb, a * b, TOL[dtype])
    close(ga / gb, a / b, TOL[dtype])
    close(vt.exp(ga), vt.exp(a), 4 * TOL[dtype])
    close(vt.tanh(ga), vt.tanh(a), 4 * TOL[dtype])
    same(ga > gb, a > b)


@cuda
@pytest.mark.parametrize("offset", [1, 2, 3])
def test_misaligned_views_take_the_safe_path(offset):
    """A view starting mid-vector cannot use 16-byte loads; the result is still right."""
    a = vt.arange(10000, dtype=vt.float32)
    ga = a.cuda()
    close(ga[offset:] * 3.0, a[offset:] * 3.0, 0)
    close(ga[offset:] + ga[:-offset], a[offset:] + a[:-offset], 0)


@cuda
def test_broadcasts_python_numbers_and_zero_dim_tensors():
    a = vt.randn(300, 257)
    ga = a.cuda()
    bias = vt.randn(257)
    column = vt.randn(300, 1)
    close(ga + bias.cuda(), a + bias, 1e-6)
    close(ga * column.cuda(), a * column, 1e-6)
    close(ga - 1.5, a - 1.5, 1e-6)
    close(2.0 ** ga, 2.0 ** a, 1e-6)
    close(ga * vt.tensor(3.0).cuda(), a * 3.0, 1e-6)
    close(ga * vt.tensor(3.0), a * 3.0, 1e-6)  # a 0-dim CPU tensor joins a CUDA op, as in torch
    with pytest.raises(RuntimeError, match="same device"):
        ga + vt.ones(257)


@cuda
def test_non_contiguous_operands_and_outputs():
    a = vt.randn(64, 48)
    b = vt.randn(48, 64)
    ga, gb = a.cuda(), b.cuda()
    close(ga.t() + gb, a.t() + b, 1e-6)
    close(ga[::2, ::3].exp(), a[::2, ::3].exp(), 1e-6)
    out = vt.zeros(48, 64).cuda().t()  # a transposed destination
    vt.mul(ga, 2.0, out=out)
    close(out, a * 2.0, 0)
    x = ga.clone()
    x[:, ::2].mul_(10)
    y = a.clone()
    y[:, ::2].mul_(10)
    close(x, y, 0)


@cuda
def test_out_of_another_dtype_and_in_place():
    a = vt.randn(1000)
    ga = a.cuda()
    out = vt.empty(1000, dtype=vt.float64).cuda()
    vt.add(ga, 1.0, out=out)  # computed in float32, written to float64
    close(out, (a + 1.0).to(vt.float64), 0)
    g = ga.clone()
    g.add_(ga, alpha=2)
    close(g, a + 2 * a, 1e-6)
    with pytest.raises(RuntimeError):
        vt.ones(3, dtype=vt.int64).cuda().add_(vt.ones(3).cuda())  # float result into int64 in place


@cuda
@pytest.mark.parametrize("dtype", [vt.uint8, vt.int8, vt.int16, vt.int32, vt.int64])
def test_integer_arithmetic_matches_the_cpu(dtype):
    a = vt.randint(-50, 50, (5000,)).to(dtype)
    b = vt.randint(1, 9, (5000,)).to(dtype)
    ga, gb = a.cuda(), b.cuda()
    same(ga + gb, a + b)
    same(ga * gb, a * b)
    same(vt.div(ga, gb, rounding_mode="floor"), vt.div(a, b, rounding_mode="floor"))
    same(vt.div(ga, gb, rounding_mode="trunc"), vt.div(a, b, rounding_mode="trunc"))
    same(vt.remainder(ga, gb), vt.remainder(a, b))
    same(ga ** 3, a ** 3)
    same(ga.abs(), a.abs())
    same(vt.bitwise_xor(ga, gb), vt.bitwise_xor(a, b))


@cuda
def test_where_clamp_and_special_values():
    a = vt.tensor([-math.inf, -2.0, -0.0, 0.0, 0.5, 3.0, math.inf, math.nan])
    ga = a.cuda()
    close(vt.clamp(ga, -1, 1), vt.clamp(a, -1, 1), 0)
    close(vt.where(ga > 0, ga, -ga), vt.where(a > 0, a, -a), 0)
    close(vt.relu(ga), vt.relu(a), 0)
    close(vt.maximum(ga, ga.flip(0)), vt.maximum(a, a.flip(0)), 0)
    same(ga != ga, a != a)
    close(vt.sigmoid(ga), vt.sigmoid(a), 1e-6)
    close(vt.erfinv(ga / 4), vt.erfinv(a / 4), 1e-6)


@cuda
def test_errors_name_the_op():
    with pytest.raises(RuntimeError, match="bool"):
        -vt.ones(3, dtype=vt.bool).cuda()
    with pytest.raises(NotImplementedError):
        vt.bitwise_and(vt.ones(3).cuda(), vt.ones(3).cuda())


@cuda
def test_autograd_through_cuda_elementwise_ops():
    a = vt.randn(100, requires_grad=True)
    ga = a.detach().cuda().requires_grad_()
    grad = vt.randn(100)
    (vt.tanh(a) * a).backward(grad)
    (vt.tanh(ga) * ga).backward(grad.cuda())
    assert ga.grad.device.type == "cuda"
    close(ga.grad, a.grad, 1e-5)


# ---- random numbers: one generator, the same draws on both devices

@cuda
@pytest.mark.parametrize("dtype", FLOATS)
def test_uniform_draws_the_cpu_numbers(dtype):
    vt.manual_seed(123)
    cpu = vt.rand(10001, dtype=dtype)
    vt.manual_seed(123)
    gpu = vt.rand(10001, dtype=dtype, device="cuda")
    same(gpu, cpu)
    assert 0 <= float(gpu.cpu().min()) and float(gpu.cpu().max()) < 1


@cuda
def test_normal_integers_and_bernoulli_reproduce():
    vt.manual_seed(7)
    cpu = [vt.randn(5000, dtype=vt.float64), vt.randint(-3, 11, (5000,)), vt.bernoulli(vt.full((5000,), 0.3))]
    vt.manual_seed(7)
    gpu = [vt.randn(5000, dtype=vt.float64, device="cuda"), vt.randint(-3, 11, (5000,), device="cuda"),
           vt.bernoulli(vt.full((5000,), 0.3).cuda())]
    close(gpu[0], cpu[0], 1e-12)
    same(gpu[1], cpu[1])
    same(gpu[2], cpu[2])
    mean = float(gpu[2].cpu().mean())
    assert 0.27 < mean < 0.33


@cuda
def test_fills_of_non_contiguous_tensors_and_dropout():
    vt.manual_seed(3)
    base = vt.zeros(100, 100).cuda()
    view = base.t()[::2]
    view.uniform_(-1, 1)
    assert float(base.cpu().abs().max()) <= 1 and float((base.cpu() != 0).to(vt.float32).mean()) == pytest.approx(0.5)
    x = vt.ones(20000).cuda()
    y = vt.nn.functional.dropout(x, p=0.25, training=True)
    kept = (y.cpu() != 0).to(vt.float32).mean()
    assert 0.72 < float(kept) < 0.78
    assert all(v == 0 or v == pytest.approx(1 / 0.75) for v in y.cpu().tolist())
    with pytest.raises(RuntimeError, match="p must be in"):
        vt.bernoulli(vt.full((3,), 1.5).cuda())


@cuda
def test_gradients_return_to_the_device_of_their_input():
    x = vt.ones(3, requires_grad=True)
    y = x.to("cuda") * 2.0
    y.backward(vt.ones(3).cuda())
    assert x.grad.device.type == "cpu" and x.grad.tolist() == [2.0, 2.0, 2.0]
    z = vt.ones(3, device="cuda", requires_grad=True)
    (z.cpu() * 3.0).backward(vt.ones(3))
    assert z.grad.device.type == "cuda" and z.grad.cpu().tolist() == [3.0, 3.0, 3.0]


@cuda
def test_a_python_number_never_sends_a_cuda_call_to_a_cpu_kernel():
    """searchsorted(cuda tensor, 2.0) used to find no CUDA kernel, fall through to the CPU one
    (the number is a CPU tensor) and read device memory from the host: a crash."""
    sequence = vt.arange(5.0).cuda()
    try:
        result = vt.searchsorted(sequence, 2.0)
    except NotImplementedError as exc:
        assert "CUDA" in str(exc)
    else:
        assert result.device.type == "cuda" and result.cpu().item() == 2
