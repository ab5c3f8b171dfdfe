"""Helpers for the nn.Module tests: build a layer in torch and in vibetensor from one lambda,
copy torch's state dict across (through numpy), and compare outputs and gradients.

`make(nn)` receives `torch.nn` or `vibetensor.nn`, so every layer is written once.
"""
from collections import OrderedDict

import numpy as np
import torch

import vibetensor as vt
from helpers import to_torch, to_vt


def vt_state(torch_state):
    """A torch state dict as vibetensor tensors (same keys, values, dtypes)."""
    return OrderedDict((k, to_vt(v.detach())) for k, v in torch_state.items())


def torch_state(vt_state_dict):
    """A vibetensor state dict as torch tensors."""
    return OrderedDict((k, to_torch(v.detach())) for k, v in vt_state_dict.items())


def twins(make, dtype=torch.float64, train=False):
    """(torch module, vibetensor module) built by `make`, vibetensor's loaded with torch's state."""
    torch.manual_seed(0)
    torch_module = make(torch.nn).to(dtype)
    vt_module = make(vt.nn).to(getattr(vt, str(dtype).split(".")[-1]))
    vt_module.load_state_dict(vt_state(torch_module.state_dict()))
    torch_module.train(train)
    vt_module.train(train)
    return torch_module, vt_module


def assert_close(actual, expected, tol, what=""):
    """vibetensor `actual` against torch `expected`: same shape, values within tol (relative to scale)."""
    actual_np = to_torch(actual.detach()).numpy()
    expected_np = expected.detach().numpy()
    assert actual_np.shape == expected_np.shape, (what, actual_np.shape, expected_np.shape)
    scale = max(1.0, float(np.abs(expected_np).max())) if expected_np.size else 1.0
    np.testing.assert_allclose(actual_np, expected_np, rtol=0, atol=tol * scale, err_msg=what)


def _outputs(result):
    return [r for r in (result if isinstance(result, (tuple, list)) else (result,)) if r is not None]


def check_layer(make, *inputs, dtype=torch.float64, train=False, tol=1e-10, grad_inputs=True, call=None):
    """Run the twin layers on the same inputs and compare outputs, then backpropagate the same
    random cotangent and compare every parameter's gradient and the inputs' gradients.

    `inputs` are torch tensors; floating ones are cast to `dtype` and, with grad_inputs, require
    grad. `call(module, *inputs)` overrides calling the module directly. Returns the twins."""
    torch_module, vt_module = twins(make, dtype, train)
    call = call or (lambda module, *args: module(*args))
    torch_inputs = [x.to(dtype) if isinstance(x, torch.Tensor) and x.is_floating_point() else x for x in inputs]
    torch_inputs = [x.detach().requires_grad_(grad_inputs) if isinstance(x, torch.Tensor) and x.is_floating_point()
                    else x for x in torch_inputs]
    vt_inputs = [to_vt(x.detach()).requires_grad_(x.requires_grad) if isinstance(x, torch.Tensor) else x
                 for x in torch_inputs]
    expected = _outputs(call(torch_module, *torch_inputs))
    actual = _outputs(call(vt_module, *vt_inputs))
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        assert_close(a, e, tol, "forward")
    differentiable = [(a, e) for a, e in zip(actual, expected) if e.requires_grad]
    if not differentiable:
        return torch_module, vt_module
    generator = torch.Generator().manual_seed(1)
    torch_loss, vt_loss = 0, 0
    for a, e in differentiable:
        cotangent = torch.randn(e.shape, generator=generator, dtype=e.dtype)
        torch_loss = torch_loss + (e * cotangent).sum()
        vt_loss = vt_loss + (a * to_vt(cotangent)).sum()
    torch_loss.backward()
    vt_loss.backward()
    vt_params = dict(vt_module.named_parameters())
    for name, param in torch_module.named_parameters():
        if param.grad is None:
            assert vt_params[name].grad is None, name
        else:
            assert_close(vt_params[name].grad, param.grad, tol, f"grad of {name}")
    for x, y in zip(vt_inputs, torch_inputs):
        if isinstance(y, torch.Tensor) and y.grad is not None:
            assert_close(x.grad, y.grad, tol, "grad of input")
    return torch_module, vt_module
