"""End to end: a small MLP trained by hand (manual SGD under no_grad, cross-entropy from
exp/log/sum/mean) on a fixed synthetic problem, checked against the same loop in torch; and
resource checks: process memory stays flat over many forward+backward iterations, and a
very deep graph can be freed."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import vibetensor as vt

# ---- the data: XOR of two coordinates' signs, as four Gaussian blobs

def xor_blobs(points_per_blob=50, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    labels = np.array([0, 0, 1, 1])
    x = np.concatenate([c + 0.35 * rng.standard_normal((points_per_blob, 2)) for c in centers])
    y = np.repeat(labels, points_per_blob)
    return x, np.eye(2)[y]  # inputs, one-hot targets


def initial_parameters(hidden=16, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((2, hidden)) / np.sqrt(2), np.zeros(hidden),
            rng.standard_normal((hidden, 2)) / np.sqrt(hidden), np.zeros(2)]


def cross_entropy(m, logits, one_hot):
    """Mean negative log-likelihood of softmax(logits), with the max subtracted for stability."""
    shifted = logits - m.max(logits, 1, keepdim=True)[0]
    log_probs = shifted - shifted.exp().sum(1, keepdim=True).log()
    return -(one_hot * log_probs).sum(1).mean()


def train(m, steps, lr=0.5, dtype="float64"):
    """Full-batch SGD; returns the loss of every step and the final accuracy."""
    x_np, y_np = xor_blobs()
    x, one_hot = m.from_numpy(x_np.astype(dtype)), m.from_numpy(y_np.astype(dtype))
    w1, b1, w2, b2 = params = [m.from_numpy(p.astype(dtype)).requires_grad_() for p in initial_parameters()]
    losses = []
    for _ in range(steps):
        logits = (x @ w1 + b1).tanh() @ w2 + b2
        loss = cross_entropy(m, logits, one_hot)
        loss.backward()
        with m.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad.zero_()
        losses.append(loss.item())
    with m.no_grad():
        logits = (x @ w1 + b1).tanh() @ w2 + b2
        predicted = logits.argmax(1).numpy()
    accuracy = float((predicted == y_np.argmax(1)).mean())
    return losses, accuracy, [p.detach().numpy() for p in params]


def test_mlp_learns_xor():
    losses, accuracy, _ = train(vt, steps=300)
    assert losses[0] > 0.5, f"the initial loss {losses[0]:.3f} should be near log(2)"
    assert losses[-1] < 0.25 * losses[0], f"loss fell only from {losses[0]:.3f} to {losses[-1]:.3f}"
    assert accuracy > 0.95


def test_mlp_steps_match_torch_float64():
    vt_losses, _, vt_params = train(vt, steps=25)
    torch_losses, _, torch_params = train(torch, steps=25)
    np.testing.assert_allclose(vt_losses, torch_losses, rtol=1e-10, atol=1e-12)
    for p_vt, p_torch in zip(vt_params, torch_params):
        np.testing.assert_allclose(p_vt, p_torch, rtol=1e-9, atol=1e-12)


def test_mlp_steps_match_torch_float32():
    vt_losses, _, _ = train(vt, steps=25, dtype="float32")
    torch_losses, _, _ = train(torch, steps=25, dtype="float32")
    np.testing.assert_allclose(vt_losses, torch_losses, rtol=1e-4)


# ---- memory

def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Square(vt.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x


def elementwise_step(x):
    x.grad = None
    ((x * 2 + 1).exp().sigmoid() * x).sum().backward()


def saved_outputs_and_retain_grad_step(x):
    h = x.tanh()
    h.retain_grad()
    y = (h.sigmoid() * h).sum()
    y.backward(retain_graph=True)
    y.backward()


def custom_function_step(x):
    vt.autograd.grad(Square.apply(x * 1).sum(), x)


def double_backward_step(x):
    (g,) = vt.autograd.grad((x.exp() * x).sum(), x, create_graph=True)
    vt.autograd.grad(g.sum(), x)


def hook_step(x):
    h = x * 3
    handle = h.register_hook(lambda g: g * 2)
    (h * h).sum().backward()
    handle.remove()


def rss_growth(step, iterations, warmup=1000):
    x = vt.ones(4, 4, requires_grad=True)
    for _ in range(warmup):
        step(x)
    before = resident_bytes()
    for _ in range(iterations):
        step(x)
    return resident_bytes() - before


LIMIT = 10 * 2**20  # a graph of a few nodes kept alive per iteration costs about 2 KiB: 40 MiB over 20k


@pytest.mark.parametrize("step, iterations", [
    (elementwise_step, 100_000), (saved_outputs_and_retain_grad_step, 20000), (custom_function_step, 20000),
    (double_backward_step, 20000), (hook_step, 20000),
], ids=["elementwise", "saved outputs + retain_grad", "custom Function", "double backward", "hooks"])
def test_no_memory_growth(step, iterations):
    growth = rss_growth(step, iterations)
    assert growth < LIMIT, f"RSS grew by {growth / 2**20:.1f} MiB over {iterations} iterations"


def test_memory_check_detects_a_leak():
    kept = []
    growth = rss_growth(lambda x: kept.append((x * 2).exp()), 20000, warmup=0)
    assert growth > LIMIT, f"keeping 20k small graphs alive grew RSS by only {growth / 2**20:.1f} MiB"


def test_freeing_a_very_deep_graph():
    program = textwrap.dedent("""
        import vibetensor as vt
        x = vt.ones(1, requires_grad=True)
        y = x
        for _ in range(200_000):
            y = y * 1.0
        del y
        print("freed")
    """)
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "freed" in result.stdout, f"exit code {result.returncode}: {result.stderr[-500:]}"
