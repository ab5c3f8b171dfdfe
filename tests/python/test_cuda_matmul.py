"""Matrix products on CUDA (cuBLASLt): mm, bmm, addmm and matmul against vibetensor's CPU
results for every float dtype, over transposed, sliced, strided and misaligned operands, the
bias epilogue and the general beta path of addmm, TF32 on and off, zero sizes, errors and
autograd. Skipped without a GPU, apart from the settings of vt.backends.cuda.matmul."""
import subprocess
import sys

import numpy as np
import pytest

import vibetensor as vt

cuda = pytest.mark.skipif(not vt.cuda.is_available(), reason="needs a CUDA device")

FLOATS = [vt.float32, vt.float64, vt.float16, vt.bfloat16]
# Relative to the largest magnitude of the result: float32 without TF32 must match the CPU's
# float32 to 1e-5; float16/bfloat16 results may differ from the CPU's by a rounding or two.
TOL = {vt.float32: 1e-5, vt.float64: 1e-12, vt.float16: 2e-3, vt.bfloat16: 1.6e-2}


@pytest.fixture(autouse=True)
def full_float32():
    """Each test starts with TF32 off (the default) and leaves it as it found it."""
    saved = vt.backends.cuda.matmul.allow_tf32
    vt.backends.cuda.matmul.allow_tf32 = False
    yield
    vt.backends.cuda.matmul.allow_tf32 = saved


def randn(*shape, dtype=vt.float32):
    return vt.randn(*shape).to(dtype)


def assert_close(got, want, dtype=None):
    """got (CUDA) against want (CPU): dtype, shape and values within TOL of the dtype."""
    dtype = dtype or want.dtype
    assert got.device.type == "cuda"
    assert got.dtype == want.dtype and tuple(got.shape) == tuple(want.shape)
    g = got.cpu().to(vt.float64).numpy()
    w = want.to(vt.float64).numpy()
    tol = TOL[dtype]
    scale = max(1.0, float(np.abs(w).max())) if w.size else 1.0
    np.testing.assert_allclose(g, w, rtol=tol, atol=tol * scale)


# ---- operand layouts: each builds, on the GPU, a view with the values of the CPU matrix x.

def contiguous(x):
    return x.cuda()


def transposed(x):  # unit row stride: cuBLASLt reads it with op T
    return x.t().contiguous().cuda().t()


def row_slice(x):  # leading dimension larger than the row
    return vt.cat([x, vt.zeros(x.shape[0], 3, dtype=x.dtype)], 1).cuda()[:, : x.shape[1]]


def transposed_slice(x):
    return vt.cat([x.t(), vt.zeros(x.shape[1], 5, dtype=x.dtype)], 1).cuda()[:, : x.shape[0]].t()


def column_step(x):  # no unit stride: copied to contiguous first
    return vt.stack([x, vt.zeros(*x.shape, dtype=x.dtype)], dim=2).reshape(x.shape[0], -1).cuda()[:, ::2]


def misaligned(x):  # the data starts one element past an aligned address
    flat = vt.cat([vt.zeros(1, dtype=x.dtype), x.reshape(-1)]).cuda()
    return flat[1:].view(*x.shape)


LAYOUTS = [contiguous, transposed, row_slice, transposed_slice, column_step, misaligned]


def test_matmul_settings():
    matmul = vt.backends.cuda.matmul
    saved_fp16 = matmul.allow_fp16_reduced_precision_reduction
    try:
        vt.set_float32_matmul_precision("highest")
        assert matmul.allow_tf32 is False
        matmul.allow_tf32 = True
        assert matmul.allow_tf32 is True and vt.get_float32_matmul_precision() == "high"
        matmul.allow_tf32 = False
        assert matmul.allow_tf32 is False and vt.get_float32_matmul_precision() == "highest"
        vt.set_float32_matmul_precision("medium")
        assert matmul.allow_tf32 is True and vt.get_float32_matmul_precision() == "medium"
        vt.set_float32_matmul_precision("highest")
        assert matmul.allow_tf32 is False
        matmul.allow_fp16_reduced_precision_reduction = False
        assert matmul.allow_fp16_reduced_precision_reduction is False
        with pytest.raises(AttributeError):
            matmul.allow_something_else = True
        with pytest.raises(AttributeError):
            matmul.allow_something_else  # noqa: B018
    finally:
        matmul.allow_fp16_reduced_precision_reduction = saved_fp16


def test_matmul_setting_defaults_are_torchs():
    code = ("import vibetensor as vt; m = vt.backends.cuda.matmul; print(m.allow_tf32, "
            "m.allow_fp16_reduced_precision_reduction, m.allow_bf16_reduced_precision_reduction)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True", "True"]


@cuda
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("n,k,m", [(1, 1, 1), (7, 5, 3), (37, 53, 29), (128, 256, 64), (1, 300, 1), (300, 1, 200),
                                   (65, 129, 257)])
def test_mm_shapes(dtype, n, k, m):
    a, b = randn(n, k, dtype=dtype), randn(k, m, dtype=dtype)
    assert_close(vt.mm(a.cuda(), b.cuda()), vt.mm(a, b))


@cuda
@pytest.mark.parametrize("dtype", [vt.float32, vt.bfloat16], ids=str)
@pytest.mark.parametrize("layout_b", LAYOUTS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("layout_a", LAYOUTS, ids=lambda f: f.__name__)
def test_mm_layouts(layout_a, layout_b, dtype):
    a, b = randn(33, 20, dtype=dtype), randn(20, 17, dtype=dtype)
    ga, gb = layout_a(a), layout_b(b)
    assert ga.device.type == "cuda" and (ga.cpu() == a).all().item() and (gb.cpu() == b).all().item()
    assert_close(vt.mm(ga, gb), vt.mm(a, b))


@cuda
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_mm_vectors_and_odd_strides(dtype):
    # Single rows and columns whose other stride is never followed, and expanded operands.
    a, b = randn(1, 40, dtype=dtype), randn(40, 1, dtype=dtype)
    row = vt.cat([a, a]).cuda()[:1]
    col = randn(40, 6, dtype=dtype)
    col[:, 3] = b[:, 0]
    assert_close(vt.mm(row, col.cuda()[:, 3:4]), vt.mm(a, b))
    strided_row = vt.stack([a[0], a[0], a[0]], dim=1).cuda()[:, 0:1].t()  # [1, 40], strides (1, 3)
    assert strided_row.stride() == (1, 3)
    assert_close(vt.mm(strided_row, b.cuda()), vt.mm(a, b))
    wide = randn(1, 24, dtype=dtype)
    expanded = wide.cuda().expand(9, 24)  # row stride 0: copied
    w = randn(24, 7, dtype=dtype)
    assert_close(vt.mm(expanded, w.cuda()), vt.mm(wide.expand(9, 24), w))


@cuda
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_fp32_without_tf32_matches_the_cpu(dtype):
    a, b = randn(256, 512, dtype=dtype), randn(512, 384, dtype=dtype)
    assert_close(vt.mm(a.cuda(), b.cuda()), vt.mm(a, b))
    assert_close(vt.mm(a.cuda().t().contiguous().t(), b.cuda()), vt.mm(a, b))


@cuda
def test_allow_tf32_rounds_inputs_only_when_set():
    # 1 + 2^-15 is a float32 but not a TF32 (10 mantissa bits): in float32 each of the 512
    # dot products is exactly 512 + 2^-6, with TF32 it is 512.
    k = 512
    a = vt.full((256, k), 1 + 2.0 ** -15).cuda()
    b = vt.ones(k, 256).cuda()
    exact = k * (1 + 2.0 ** -15)
    assert (vt.mm(a, b).cpu().numpy() == exact).all()
    vt.backends.cuda.matmul.allow_tf32 = True
    tf32 = vt.mm(a, b).cpu().numpy()
    assert (tf32 == k).all(), "TF32 was allowed but cuBLASLt computed in full float32"
    vt.set_float32_matmul_precision("highest")  # the same switch
    assert (vt.mm(a, b).cpu().numpy() == exact).all()  # the cached plan did not outlive it
    # TF32 results stay close to float32 ones
    vt.backends.cuda.matmul.allow_tf32 = True
    x, y = randn(128, 256), randn(256, 64)
    np.testing.assert_allclose(vt.mm(x.cuda(), y.cuda()).cpu().numpy(), vt.mm(x, y).numpy(), rtol=0, atol=0.1)


@cuda
@pytest.mark.parametrize("flag", ["allow_fp16_reduced_precision_reduction", "allow_bf16_reduced_precision_reduction"])
def test_reduced_precision_reduction_off(flag):
    # A long k and a small output, where cuBLASLt likes to split k.
    dtype = vt.float16 if "fp16" in flag else vt.bfloat16
    a, b = randn(32, 8192, dtype=dtype) / 16, randn(8192, 32, dtype=dtype) / 16
    setattr(vt.backends.cuda.matmul, flag, False)
    try:
        assert_close(vt.mm(a.cuda(), b.cuda()), vt.mm(a, b))
    finally:
        setattr(vt.backends.cuda.matmul, flag, True)
    assert_close(vt.mm(a.cuda(), b.cuda()), vt.mm(a, b))


# ---- bmm

def batch_contiguous(x):
    return x.cuda()


def batch_transposed(x):  # inner matrices with unit row stride
    return x.transpose(1, 2).contiguous().cuda().transpose(1, 2)


def batch_outer(x):  # the batch dim is not the outermost in memory
    return x.permute(1, 0, 2).contiguous().cuda().permute(1, 0, 2)


def batch_strided(x):  # no unit stride in the inner matrices: copied
    return vt.stack([x, vt.zeros(*x.shape, dtype=x.dtype)], dim=3).reshape(x.shape[0], x.shape[1], -1).cuda()[:, :, ::2]


BATCH_LAYOUTS = [batch_contiguous, batch_transposed, batch_outer, batch_strided]


@cuda
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("layout_b", BATCH_LAYOUTS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("layout_a", BATCH_LAYOUTS, ids=lambda f: f.__name__)
def test_bmm_layouts(layout_a, layout_b, dtype):
    a, b = randn(5, 17, 9, dtype=dtype), randn(5, 9, 11, dtype=dtype)
    assert_close(vt.bmm(layout_a(a), layout_b(b)), vt.bmm(a, b))


@cuda
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("batch,n,k,m", [(1, 64, 32, 16), (3, 1, 7, 1), (7, 40, 1, 33), (2, 128, 96, 80)])
def test_bmm_shapes(dtype, batch, n, k, m):
    a, b = randn(batch, n, k, dtype=dtype), randn(batch, k, m, dtype=dtype)
    assert_close(vt.bmm(a.cuda(), b.cuda()), vt.bmm(a, b))


@cuda
def test_bmm_broadcast_batch_stride_zero():
    a, b = randn(6, 10, 12), randn(1, 12, 8)
    got = vt.bmm(a.cuda(), b.cuda().expand(6, 12, 8))
    assert_close(got, vt.bmm(a, b.expand(6, 12, 8)))


# ---- addmm

@cuda
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("case", ["bias", "bias_alpha", "bias_row_2d", "bias_transposed_mat2", "bias_misaligned",
                                  "bias_one_row", "full_beta", "column_beta", "scalar_self", "beta_zero_nan",
                                  "beta_one_full", "alpha_zero"])
def test_addmm(case, dtype):
    n, k, m = 24, 40, 36
    a, b = randn(n, k, dtype=dtype), randn(k, m, dtype=dtype)
    ga, gb = a.cuda(), b.cuda()
    beta, alpha = 1, 1
    if case == "bias":  # linear's case: the epilogue
        self = randn(m, dtype=dtype)
        gself = self.cuda()
    elif case == "bias_alpha":
        self, alpha = randn(m, dtype=dtype), 0.5
        gself = self.cuda()
    elif case == "bias_row_2d":
        self = randn(1, m, dtype=dtype)
        gself = self.cuda()
    elif case == "bias_transposed_mat2":  # addmm(bias, x, w.t()), as linear calls it
        self = randn(m, dtype=dtype)
        gself, gb = self.cuda(), b.t().contiguous().cuda().t()
    elif case == "bias_misaligned":  # not aligned enough for the epilogue: the general path
        self = randn(m, dtype=dtype)
        gself = misaligned(self.reshape(1, m)).reshape(m)
    elif case == "bias_one_row":  # a single row stays away from the epilogue
        a = a[:1]
        ga = a.cuda()
        self = randn(m, dtype=dtype)
        gself = self.cuda()
    elif case == "full_beta":
        self, beta, alpha = randn(n, m, dtype=dtype), 0.5, 2
        gself = self.cuda()
    elif case == "column_beta":
        self, beta = randn(n, 1, dtype=dtype), -1.5
        gself = self.cuda()
    elif case == "scalar_self":
        self, beta = randn(dtype=dtype), 2
        gself = self.cuda()
    elif case == "beta_zero_nan":  # self is not read: its NaNs do not reach the result
        self, beta, alpha = vt.full((n, m), float("nan")).to(dtype), 0, 3
        gself = self.cuda()
    elif case == "beta_one_full":
        self = randn(n, m, dtype=dtype)
        gself = self.t().contiguous().t().cuda()
    else:  # alpha_zero
        self, alpha = randn(m, dtype=dtype), 0
        gself = self.cuda()
    got = vt.addmm(gself, ga, gb, beta=beta, alpha=alpha)
    if case == "beta_zero_nan":  # torch's rule (the CPU's decomposed addmm lets the NaNs through)
        want = vt.mm(a, b) * alpha
    else:
        want = vt.addmm(self, a, b, beta=beta, alpha=alpha)
    assert not got.isnan().any().item()
    assert_close(got, want)


@cuda
def test_addmm_self_of_another_dtype_promotes_as_on_the_cpu():
    self, a, b = randn(8, dtype=vt.float64), randn(4, 6), randn(6, 8)
    assert_close(vt.addmm(self.cuda(), a.cuda(), b.cuda()), vt.addmm(self, a, b), dtype=vt.float32)


@cuda
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_linear(dtype):
    x, w, bias = randn(3, 5, 16, dtype=dtype), randn(12, 16, dtype=dtype), randn(12, dtype=dtype)
    F = vt.nn.functional
    assert_close(F.linear(x.cuda(), w.cuda(), bias.cuda()), F.linear(x, w, bias))
    assert_close(F.linear(x[0].cuda(), w.cuda(), bias.cuda()), F.linear(x[0], w, bias))
    assert_close(F.linear(x.cuda(), w.cuda()), F.linear(x, w))


# ---- matmul

@cuda
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("shape_a,shape_b", [((7,), (7,)), ((5, 7), (7,)), ((7,), (7, 4)), ((3, 5, 7), (7, 4)),
                                             ((5, 7), (3, 7, 4)), ((2, 1, 5, 7), (3, 7, 4)), ((3, 5, 7), (7,)),
                                             ((2, 3, 5, 7), (2, 3, 7, 4))])
def test_matmul(shape_a, shape_b, dtype):
    a, b = randn(*shape_a, dtype=dtype), randn(*shape_b, dtype=dtype)
    assert_close(vt.matmul(a.cuda(), b.cuda()), vt.matmul(a, b))
    assert_close(a.cuda() @ b.cuda(), a @ b)


@cuda
def test_matmul_on_another_stream():
    a, b = randn(200, 300), randn(300, 100)
    ga, gb = a.cuda(), b.cuda()
    vt.cuda.synchronize()
    streams = [vt.cuda.Stream(), vt.cuda.Stream()]
    outs = []
    for s in streams:  # each stream gets its own workspace
        with vt.cuda.stream(s):
            outs.append(vt.mm(ga, gb))
    for s in streams:
        s.synchronize()
    for out in outs:
        assert_close(out, vt.mm(a, b))


# ---- zero sizes

@cuda
@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_zero_sizes(dtype):
    for n, k, m in [(0, 5, 3), (4, 0, 3), (4, 5, 0), (0, 0, 0)]:
        a, b = randn(n, k, dtype=dtype), randn(k, m, dtype=dtype)
        assert_close(vt.mm(a.cuda(), b.cuda()), vt.mm(a, b))
        self = randn(m, dtype=dtype)
        for beta in (1, 0.5, 0):
            assert_close(vt.addmm(self.cuda(), a.cuda(), b.cuda(), beta=beta, alpha=2),
                         vt.addmm(self, a, b, beta=beta, alpha=2))
    for batch, n, k, m in [(0, 2, 3, 4), (2, 3, 0, 4), (2, 0, 3, 4)]:
        a, b = randn(batch, n, k, dtype=dtype), randn(batch, k, m, dtype=dtype)
        assert_close(vt.bmm(a.cuda(), b.cuda()), vt.bmm(a, b))
    # k = 0 gives zeros, or beta * self; self's NaNs are dropped with beta 0
    zeros = vt.mm(vt.empty(3, 0, dtype=dtype, device="cuda"), vt.empty(0, 2, dtype=dtype, device="cuda"))
    assert (zeros.cpu() == 0).all().item()
    nan_self = vt.full((3, 2), float("nan")).to(dtype).cuda()
    out = vt.addmm(nan_self, vt.empty(3, 0, dtype=dtype, device="cuda"), vt.empty(0, 2, dtype=dtype, device="cuda"),
                   beta=0)
    assert (out.cpu() == 0).all().item()


# ---- errors

@cuda
def test_errors():
    a, b = randn(2, 3).cuda(), randn(4, 5).cuda()
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"):
        vt.mm(a, b)
    with pytest.raises(RuntimeError, match="Expected size for first two dimensions of batch2"):
        vt.bmm(randn(2, 3, 4).cuda(), randn(3, 4, 5).cuda())
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        vt.mm(randn(2, 3).cuda(), randn(3, 4))
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        vt.mm(randn(2, 3), randn(3, 4).cuda())
    with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype"):
        vt.mm(randn(2, 3).cuda(), randn(3, 4, dtype=vt.float16).cuda())
    with pytest.raises(RuntimeError, match="self must be a matrix"):
        vt.mm(randn(3).cuda(), randn(3, 4).cuda())


@cuda
@pytest.mark.parametrize("dtype,name", [(vt.int32, "Int"), (vt.int64, "Long"), (vt.uint8, "Byte"), (vt.bool, "Bool")])
def test_integer_products_are_not_implemented(dtype, name):
    a, b = vt.ones(2, 3, dtype=dtype).cuda(), vt.ones(3, 4, dtype=dtype).cuda()
    with pytest.raises(NotImplementedError, match=f"\"addmm_cuda\" not implemented for '{name}'"):
        vt.mm(a, b)
    with pytest.raises(NotImplementedError, match=f"\"addmm_cuda\" not implemented for '{name}'"):
        a @ b
    with pytest.raises(NotImplementedError, match=f"\"addmm_cuda\" not implemented for '{name}'"):
        vt.addmm(vt.ones(4, dtype=dtype).cuda(), a, b)
    with pytest.raises(NotImplementedError, match=f"\"bmm_cuda\" not implemented for '{name}'"):
        vt.bmm(a.unsqueeze(0), b.unsqueeze(0))


# ---- autograd

@cuda
@pytest.mark.parametrize("dtype", [vt.float32, vt.float64], ids=str)
@pytest.mark.parametrize("shape_a,shape_b", [((6, 8), (8, 5)), ((3, 6, 8), (3, 8, 5)), ((3, 6, 8), (8, 5)),
                                             ((8,), (8, 5))])
def test_matmul_backward(shape_a, shape_b, dtype):
    a, b = randn(*shape_a, dtype=dtype), randn(*shape_b, dtype=dtype)
    grad = randn(*(a @ b).shape, dtype=dtype)
    grads = []
    for device in ("cpu", "cuda"):
        x = a.detach().to(device).requires_grad_()
        y = b.detach().to(device).requires_grad_()
        (x @ y).backward(grad.to(device))
        grads.append((x.grad, y.grad))
    (gx, gy), (cx, cy) = grads
    assert_close(cx, gx)
    assert_close(cy, gy)


@cuda
def test_linear_backward():
    x, w, bias = randn(10, 16), randn(12, 16), randn(12)
    grad = randn(10, 12)
    results = []
    for device in ("cpu", "cuda"):
        params = [t.detach().to(device).requires_grad_() for t in (x, w, bias)]
        vt.nn.functional.linear(*params).backward(grad.to(device))
        results.append([p.grad for p in params])
    for cpu_grad, cuda_grad in zip(*results):
        assert_close(cuda_grad, cpu_grad)
