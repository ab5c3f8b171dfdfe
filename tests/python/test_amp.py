"""Automatic mixed precision against torch on the CPU: the dtypes and values autocast gives each
op of its lists (and leaves the others alone), nesting and restoring the state, gradients through
the casts, and GradScaler's scaling, skipping and scale updates step for step."""
import warnings

import pytest
import torch

import vibetensor as vt
from helpers import dtype_name, make, to_vt


def run_both(fn, *torch_inputs, dtype="bfloat16"):
    """fn under each library's CPU autocast; returns (vibetensor result, torch result)."""
    vt_inputs = [to_vt(t) if isinstance(t, torch.Tensor) else t for t in torch_inputs]
    with torch.autocast("cpu", dtype=getattr(torch, dtype)):
        expected = fn(torch, *torch_inputs)
    with vt.autocast("cpu", dtype=getattr(vt, dtype)):
        actual = fn(vt, *vt_inputs)
    return actual, expected


def f32(*shape, seed=0, low=None, high=None):
    return make(shape, "float32", seed=seed, low=low, high=high)


CASES = {
    "mm": (lambda m, a, b: m.mm(a, b), [f32(4, 8), f32(8, 3, seed=1)]),
    "matmul": (lambda m, a, b: a @ b, [f32(2, 4, 8), f32(8, 3, seed=1)]),
    "bmm": (lambda m, a, b: m.bmm(a, b), [f32(2, 4, 8), f32(2, 8, 3, seed=1)]),
    "addmm": (lambda m, c, a, b: m.addmm(c, a, b), [f32(4, 3, seed=2), f32(4, 8), f32(8, 3, seed=1)]),
    "baddbmm": (lambda m, c, a, b: m.baddbmm(c, a, b), [f32(2, 4, 3, seed=2), f32(2, 4, 8), f32(2, 8, 3, seed=1)]),
    "linear": (lambda m, x, w, b: m.nn.functional.linear(x, w, b), [f32(4, 8), f32(5, 8, seed=1), f32(5, seed=2)]),
    "conv2d": (lambda m, x, w: m.nn.functional.conv2d(x, w, padding=1), [f32(1, 2, 6, 6), f32(3, 2, 3, 3, seed=1)]),
    "conv1d": (lambda m, x, w: m.nn.functional.conv1d(x, w), [f32(1, 2, 9), f32(3, 2, 3, seed=1)]),
    "sdpa": (lambda m, q, k, v: m.nn.functional.scaled_dot_product_attention(q, k, v),
             [f32(1, 2, 5, 8), f32(1, 2, 5, 8, seed=1), f32(1, 2, 5, 8, seed=2)]),
    "mse_loss": (lambda m, a, b: m.nn.functional.mse_loss(a.to(m.bfloat16), b), [f32(4, 3), f32(4, 3, seed=1)]),
    "l1_loss": (lambda m, a, b: m.nn.functional.l1_loss(a.to(m.bfloat16), b), [f32(4, 3), f32(4, 3, seed=1)]),
    "cross_entropy": (lambda m, x, t: m.nn.functional.cross_entropy(x.to(m.bfloat16), t),
                      [f32(4, 5), torch.tensor([0, 3, 1, 4])]),
    "bce_with_logits": (lambda m, x, t: m.nn.functional.binary_cross_entropy_with_logits(x.to(m.bfloat16), t),
                        [f32(4, 3), f32(4, 3, seed=1, low=0, high=1)]),
    "prod": (lambda m, x: x.to(m.bfloat16).prod(), [f32(6, low=0.5, high=1.5)]),
    # (the region's dtype with float32: torch refuses to promote float16 with bfloat16 here)
    "cat": (lambda m, a, b: m.cat([a.to(m.get_autocast_dtype("cpu")), b]), [f32(2, 3), f32(2, 3, seed=1)]),
    "stack": (lambda m, a, b: m.stack([a, b.to(m.get_autocast_dtype("cpu"))]), [f32(2, 3), f32(2, 3, seed=1)]),
    # Not on the CPU lists: left in their dtypes.
    "exp": (lambda m, x: m.exp(x.to(m.bfloat16)), [f32(4)]),
    "softmax": (lambda m, x: m.softmax(x.to(m.bfloat16), dim=-1), [f32(2, 5)]),
    "sum": (lambda m, x: x.to(m.bfloat16).sum(), [f32(7)]),
    "add": (lambda m, a, b: a + b.to(m.bfloat16), [f32(3), f32(3, seed=1)]),
    "float64 mm": (lambda m, a, b: m.mm(a.double(), b.double()), [f32(4, 8), f32(8, 3, seed=1)]),
}


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("case", list(CASES))
def test_each_op_gets_torchs_dtype_and_values(case, dtype):
    fn, inputs = CASES[case]
    actual, expected = run_both(fn, *inputs, dtype=dtype)
    assert dtype_name(actual.dtype) == dtype_name(expected.dtype)
    tolerance = 2e-2 if expected.dtype in (torch.bfloat16, torch.float16) else 1e-2
    got = torch.tensor(actual.float().tolist()) if actual.dim() else torch.tensor(actual.float().item())
    torch.testing.assert_close(got, expected.float(), rtol=tolerance, atol=tolerance)


def test_state_nests_restores_and_survives_errors():
    assert not vt.is_autocast_enabled("cpu")
    with vt.autocast("cpu"):
        assert vt.is_autocast_enabled("cpu") and vt.get_autocast_dtype("cpu") == vt.bfloat16
        with vt.autocast("cpu", enabled=False):
            assert not vt.is_autocast_enabled("cpu")
            assert (vt.ones(2, 2) @ vt.ones(2, 2)).dtype == vt.float32
        with vt.autocast("cpu", dtype=vt.float16):
            assert (vt.ones(2, 2) @ vt.ones(2, 2)).dtype == vt.float16
        assert vt.get_autocast_dtype("cpu") == vt.bfloat16
    assert not vt.is_autocast_enabled("cpu")
    with pytest.raises(KeyError):
        with vt.autocast("cpu"):
            raise KeyError("inside")
    assert not vt.is_autocast_enabled("cpu")

    @vt.autocast("cpu")
    def product(a, b):
        return a @ b
    assert product(vt.ones(2, 2), vt.ones(2, 2)).dtype == vt.bfloat16
    assert not vt.is_autocast_enabled("cpu")


def test_cpu_autocast_leaves_other_devices_and_python_numbers_alone():
    with vt.autocast("cuda", dtype=vt.bfloat16):  # the CUDA region does not touch CPU tensors
        assert (vt.ones(2, 2) @ vt.ones(2, 2)).dtype == vt.float32


def test_gradients_flow_through_the_casts():
    x_t = f32(4, 8).requires_grad_()
    w_t = f32(3, 8, seed=1).requires_grad_()
    x, w = to_vt(x_t.detach()).requires_grad_(), to_vt(w_t.detach()).requires_grad_()
    with torch.autocast("cpu"):
        torch.nn.functional.linear(x_t, w_t).float().sum().backward()
    with vt.autocast("cpu"):
        vt.nn.functional.linear(x, w).float().sum().backward()
    assert x.grad.dtype == vt.float32 and w.grad.dtype == vt.float32
    torch.testing.assert_close(torch.tensor(x.grad.tolist()), x_t.grad, rtol=2e-2, atol=2e-2)
    torch.testing.assert_close(torch.tensor(w.grad.tolist()), w_t.grad, rtol=2e-2, atol=2e-2)


def test_bad_arguments():
    with pytest.raises(RuntimeError, match="unsupported autocast device_type"):
        vt.autocast("xla")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        region = vt.autocast("cpu", dtype=vt.float32)
    assert any("not supported" in str(w.message) for w in caught)
    with region:
        assert not vt.is_autocast_enabled("cpu")
    with pytest.raises(ValueError, match="float16 or bfloat16"):
        vt._C.set_autocast_dtype("cpu", vt.float32)


def test_every_op_with_a_policy_is_in_the_registry():
    registry = set(vt.ops.list_ops())
    named = {op for op, _, _ in vt._C._autocast_policies()}
    assert named and named <= registry, sorted(named - registry)


@pytest.mark.skipif(not vt.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_lists():
    a, b = vt.randn(8, 16).cuda(), vt.randn(16, 4).cuda()
    with vt.autocast("cuda", dtype=vt.bfloat16):
        out = a @ b
        assert out.dtype == vt.bfloat16
        assert vt.softmax(out, dim=-1).dtype == vt.float32  # float32 on CUDA's list
        assert out.sum(dim=0).dtype == vt.float32
        assert vt.exp(out).dtype == vt.float32
        assert (out + 1).dtype == vt.bfloat16
    assert (a @ b).dtype == vt.float32


# ---- GradScaler, step for step against torch's

def scaler_run(lib, scaler, steps, poison_step):
    lib.manual_seed(0)
    torch.manual_seed(0)
    weight = lib.tensor(make((3, 4), "float32", seed=5).tolist(), requires_grad=True)
    opt = lib.optim.SGD([weight], lr=0.1)
    history = []
    for step in range(steps):
        x = lib.tensor(make((2, 4), "float32", seed=10 + step).tolist())
        loss = (x @ weight.t()).pow(2).mean()
        opt.zero_grad()
        scaler.scale(loss).backward()
        if step == poison_step:
            weight.grad[0, 0] = float("inf")
        scaler.unscale_(opt)
        scaler.step(opt)
        scaler.update()
        history.append((scaler.get_scale(), scaler._get_growth_tracker(), weight.detach().tolist()))
    return history


def test_grad_scaler_matches_torch():
    kwargs = dict(init_scale=1024.0, growth_factor=2.0, backoff_factor=0.25, growth_interval=2)
    ours = scaler_run(vt, vt.amp.GradScaler("cpu", **kwargs), 7, poison_step=3)
    theirs = scaler_run(torch, torch.amp.GradScaler("cpu", **kwargs), 7, poison_step=3)
    for step, ((s1, g1, w1), (s2, g2, w2)) in enumerate(zip(ours, theirs)):
        assert (s1, g1) == (s2, g2), f"step {step}: scale/tracker {(s1, g1)} != torch's {(s2, g2)}"
        torch.testing.assert_close(torch.tensor(w1), torch.tensor(w2), rtol=1e-6, atol=1e-6)
    assert ours[3][2] == ours[2][2]  # the poisoned step was skipped


def test_grad_scaler_misuse_and_state():
    scaler = vt.amp.GradScaler("cpu", init_scale=8.0)
    weight = vt.ones(2, requires_grad=True)
    opt = vt.optim.SGD([weight], lr=0.1)
    with pytest.raises(RuntimeError, match="_scale is None"):
        scaler.step(opt)
    scaler.scale((weight * 2).sum()).backward()
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="already been called"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    scaler.update(new_scale=4.0)
    assert scaler.get_scale() == 4.0
    state = scaler.state_dict()
    fresh = vt.amp.GradScaler("cpu")
    fresh.load_state_dict(state)
    assert fresh.get_scale() == 4.0 and fresh.state_dict() == state
    with pytest.raises(ValueError, match="growth factor"):
        vt.amp.GradScaler("cpu", growth_factor=0.5)
    disabled = vt.amp.GradScaler("cpu", enabled=False)
    loss = (weight * 3).sum()
    assert disabled.scale(loss) is loss and disabled.get_scale() == 1.0
