"""The optimizers (SGD, Adam, AdamW, RMSprop, Adagrad) against torch.optim.

Each case trains the same small least-squares model in both libraries for several steps from
the same start, with two param groups, a parameter that never gets a gradient and a strided
parameter, and compares every parameter after every step, then the optimizer state_dicts.
torch's default CPU implementation (one op per formula term) is the reference; ours is one
fused kernel per group, so float32 agrees to rounding and float64 to ~1e-12.
"""
import math

import numpy as np
import pytest
import torch

import vibetensor as vt

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.95), weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.01, maximize=True, eps=1e-6)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.02, weight_decay=0.3, amsgrad=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5)),
]
CASE_IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kwargs.items()) or 'defaults'}" for name, kwargs in CASES]
TOL = {"float32": dict(rtol=2e-5, atol=2e-6), "float64": dict(rtol=1e-11, atol=1e-12)}


def start_values(dtype):
    rng = np.random.default_rng(0)
    values = {"weight": rng.standard_normal((4, 3)), "bias": rng.standard_normal(3),
              "scale": rng.standard_normal((3, 2)), "unused": rng.standard_normal(5),
              "x": rng.standard_normal((8, 4)), "y": rng.standard_normal((8, 2))}
    return {k: v.astype(dtype) for k, v in values.items()}


def make_model(m, values):
    """Leaves in each library; `scale` is stored transposed, so it (and its gradient) is strided."""
    params = {k: m.tensor(values[k]).requires_grad_() for k in ("weight", "bias", "unused")}
    params["scale"] = m.tensor(values["scale"].T.copy()).t().detach().requires_grad_()
    return params


def loss_of(m, params, values):
    hidden = m.tanh(m.tensor(values["x"]) @ params["weight"] + params["bias"])
    return ((hidden @ params["scale"] - m.tensor(values["y"])) ** 2).mean()


def param_groups(params, kwargs):
    """Two groups, the second with its own learning rate (half of the default)."""
    lr = kwargs.get("lr", 0.01)
    return [{"params": [params["weight"], params["unused"]]},
            {"params": [params["scale"], params["bias"]], "lr": lr / 2}]


def train(m, name, kwargs, values, steps):
    params = make_model(m, values)
    optimizer = getattr(m.optim, name)(param_groups(params, kwargs), **kwargs)
    history = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss_of(m, params, values).backward()
        optimizer.step()
        history.append({k: p.detach().numpy().copy() for k, p in params.items()})
    return optimizer, params, history


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kwargs", CASES, ids=CASE_IDS)
def test_training_matches_torch(name, kwargs, dtype):
    values = start_values(dtype)
    _, _, ours = train(vt, name, kwargs, values, steps=6)
    _, _, theirs = train(torch, name, kwargs, values, steps=6)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for key in a:
            np.testing.assert_allclose(a[key], b[key], **TOL[dtype], err_msg=f"{key} after step {step + 1}")
    assert not np.array_equal(ours[-1]["weight"], values["weight"]), "the optimizer did not move the weight"
    np.testing.assert_array_equal(ours[-1]["unused"], values["unused"])  # no gradient: untouched


def state_as_numpy(state_dict):
    """The optimizer state_dict with tensors as numpy arrays, for comparing the two libraries."""
    def convert(v):
        if isinstance(v, (torch.Tensor, vt.Tensor)):
            return v.detach().numpy() if v.dim() else float(v.item())
        return v
    state = {i: {k: convert(v) for k, v in s.items()} for i, s in state_dict["state"].items()}
    return state, state_dict["param_groups"]


@pytest.mark.parametrize("name,kwargs", CASES, ids=CASE_IDS)
def test_state_dict_matches_torch(name, kwargs):
    values = start_values("float64")
    ours, _, _ = train(vt, name, kwargs, values, steps=3)
    theirs, _, _ = train(torch, name, kwargs, values, steps=3)
    our_state, our_groups = state_as_numpy(ours.state_dict())
    their_state, their_groups = state_as_numpy(theirs.state_dict())
    assert our_groups == their_groups
    assert our_state.keys() == their_state.keys()
    for index in their_state:
        assert our_state[index].keys() == their_state[index].keys(), index
        for key, value in their_state[index].items():
            np.testing.assert_allclose(our_state[index][key], value, rtol=1e-11, atol=1e-12, err_msg=f"{index}.{key}")
    for index, state in ours.state_dict()["state"].items():
        if "step" in state:
            assert state["step"].dtype == vt.float32 and state["step"].dim() == 0


def to_vt_state_dict(state_dict):
    def convert(v):
        return vt.tensor(v.numpy()) if isinstance(v, torch.Tensor) else v
    return {"state": {i: {k: convert(v) for k, v in s.items()} for i, s in state_dict["state"].items()},
            "param_groups": state_dict["param_groups"]}


@pytest.mark.parametrize("name,kwargs", [CASES[1], CASES[5], CASES[11], CASES[15]], ids=lambda c: str(c))
def test_resuming_from_a_torch_state_dict_continues_identically(name, kwargs):
    """torch trains 3 steps; vibetensor loads its parameters and optimizer state and both go on."""
    values = start_values("float64")
    torch_optimizer, torch_params, _ = train(torch, name, kwargs, values, steps=3)
    resumed = {k: p.detach().numpy().copy() for k, p in torch_params.items()}
    params = make_model(vt, {**values, **resumed})
    optimizer = getattr(vt.optim, name)(param_groups(params, kwargs), **kwargs)
    optimizer.load_state_dict(to_vt_state_dict(torch_optimizer.state_dict()))
    for _ in range(3):
        for m, opt, ps in ((vt, optimizer, params), (torch, torch_optimizer, torch_params)):
            opt.zero_grad()
            loss_of(m, ps, values).backward()
            opt.step()
    for key in params:
        np.testing.assert_allclose(params[key].detach().numpy(), torch_params[key].detach().numpy(), rtol=1e-11,
                                   atol=1e-12, err_msg=key)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_parameters_follow_float32(name, dtype):
    """16-bit parameters update in float arithmetic: close to the same run in float32."""
    kwargs = {"lr": 0.01, "momentum": 0.9} if name == "SGD" else {"lr": 0.01}
    results = {}
    for run_dtype in (dtype, "float32"):
        p = vt.tensor(np.linspace(-1, 1, 64).astype(np.float32)).to(getattr(vt, run_dtype)).requires_grad_()
        optimizer = getattr(vt.optim, name)([p], **kwargs)
        for _ in range(5):
            optimizer.zero_grad()
            (p.float() ** 2).sum().backward()
            optimizer.step()
        assert p.dtype == getattr(vt, run_dtype)
        results[run_dtype] = p.detach().float().numpy()
    np.testing.assert_allclose(results[dtype], results["float32"], atol=2e-2 if dtype == "bfloat16" else 3e-3)


def test_params_of_several_dtypes_in_one_group():
    """A group mixing float32 and float64 parameters takes one fused call per dtype."""
    a = vt.ones(3, dtype=vt.float32).requires_grad_()
    b = vt.ones(2, dtype=vt.float64).requires_grad_()
    optimizer = vt.optim.Adam([a, b], lr=0.1)
    (a.sum() * 2 + b.sum() * 3).backward()
    optimizer.step()
    # Adam's first step moves every element by lr (the normalized gradient is 1).
    np.testing.assert_allclose(a.detach().numpy(), 0.9, rtol=1e-6)
    np.testing.assert_allclose(b.detach().numpy(), 0.9, rtol=1e-9)  # eps shifts it by 3e-10
    assert optimizer.state[a]["exp_avg"].dtype == vt.float32
    assert optimizer.state[b]["exp_avg"].dtype == vt.float64


def test_tensor_learning_rate_is_read_at_every_step():
    p = vt.zeros(2).requires_grad_()
    lr = vt.tensor(0.5)
    optimizer = vt.optim.SGD([p], lr=lr)
    for expected in (-0.5, -0.75):
        optimizer.zero_grad()
        p.sum().backward()
        optimizer.step()
        lr.fill_(0.25)
        np.testing.assert_allclose(p.detach().numpy(), expected)


def test_closure_is_evaluated_with_grad_enabled():
    p = vt.tensor([1.0, 2.0]).requires_grad_()
    optimizer = vt.optim.SGD([p], lr=0.1)

    def closure():
        optimizer.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss
    loss = optimizer.step(closure)
    assert math.isclose(loss.item(), 5.0)
    np.testing.assert_allclose(p.detach().numpy(), [0.8, 1.6], rtol=1e-6)


@pytest.mark.parametrize("name,kwargs,message", [
    ("SGD", dict(lr=-0.1), "Invalid learning rate: -0.1"),
    ("SGD", dict(lr=0.1, momentum=-1), "Invalid momentum value: -1"),
    ("SGD", dict(lr=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    ("Adam", dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    ("Adam", dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    ("AdamW", dict(weight_decay=-0.5), "Invalid weight_decay value: -0.5"),
    ("RMSprop", dict(alpha=-0.5), "Invalid alpha value: -0.5"),
    ("Adagrad", dict(lr_decay=-1.0), "Invalid lr_decay value: -1.0"),
])
def test_invalid_hyperparameters_raise_torchs_errors(name, kwargs, message):
    with pytest.raises(ValueError) as ours:
        getattr(vt.optim, name)([vt.zeros(2).requires_grad_()], **kwargs)
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)
    assert str(ours.value) == str(theirs.value) == message


def test_differentiable_is_refused_clearly():
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        vt.optim.Adam([vt.zeros(2).requires_grad_()], differentiable=True)


# ---- the fused kernels themselves, on layouts torch's fused kernels get wrong

def test_fused_sgd_updates_strided_parameters_and_gradients():
    param = vt.tensor(np.arange(12.0).reshape(4, 3)).t()  # strided (3, 4)
    grad = vt.tensor(np.ones((3, 8)))[:, ::2]  # strided too
    expected = param.numpy() - 0.5 * grad.numpy()
    vt._fused_sgd_([param], [grad], [], weight_decay=0.0, momentum=0.0, lr=0.5, dampening=0.0, nesterov=False,
                   maximize=False, is_first_step=False)
    np.testing.assert_array_equal(param.numpy(), expected)
    assert param.stride() == (1, 3)


def test_fused_rmsprop_grad_scale_unscales_gradients_in_place():
    param, grad = vt.ones(4), vt.full((4,), 6.0)
    square_avg = vt.zeros(4)
    vt._fused_rmsprop_([param], [grad], [square_avg], [], [], lr=0.1, alpha=0.5, eps=0.0, weight_decay=0.0,
                       momentum=0.0, centered=False, maximize=False, grad_scale=vt.tensor(3.0))
    np.testing.assert_allclose(grad.numpy(), 2.0)  # unscaled, as torch's fused kernels leave it
    np.testing.assert_allclose(square_avg.numpy(), 2.0)  # (1 - alpha) * 2^2
    np.testing.assert_allclose(param.numpy(), 1 - 0.1 * 2 / math.sqrt(2.0), rtol=1e-6)
    vt._fused_rmsprop_([param], [grad], [square_avg], [], [], lr=0.1, alpha=0.5, eps=0.0, weight_decay=0.0,
                       momentum=0.0, centered=False, maximize=False, found_inf=vt.tensor(1.0))
    np.testing.assert_allclose(square_avg.numpy(), 2.0)  # found_inf: the step is skipped


@pytest.mark.parametrize("bad,match", [
    (dict(grads=[vt.zeros(3, dtype=vt.float64)]), r"grads\[0\] has dtype float64 but self\[0\] has float32"),
    (dict(grads=[vt.zeros(4)]), r"grads\[0\] has shape \[4\] but self\[0\] has shape \[3\]"),
    (dict(grads=[]), "grads has 0 tensors but self has 1"),
    (dict(square_avgs=[vt.zeros(3)], centered=True), "centered=True needs grad_avgs"),
])
def test_fused_rmsprop_refuses_mismatched_lists(bad, match):
    args = dict(self=[vt.zeros(3)], grads=[vt.zeros(3)], square_avgs=[vt.zeros(3)], grad_avgs=[],
                momentum_buffer_list=[], lr=0.1, alpha=0.9, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                maximize=False)
    with pytest.raises(RuntimeError, match=match):
        vt._fused_rmsprop_(**{**args, **bad})


def test_fused_step_refuses_mixed_dtypes_in_one_call():
    params = [vt.zeros(2), vt.zeros(2, dtype=vt.float64)]
    with pytest.raises(RuntimeError, match="one call takes one dtype and device"):
        vt._fused_sgd_(params, [p.clone() for p in params], [], weight_decay=0.0, momentum=0.0, lr=0.1,
                       dampening=0.0, nesterov=False, maximize=False, is_first_step=False)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "RMSprop"])
def test_capturable_needs_params_on_a_cuda_device(name):
    # As in torch: capturable keeps the step counts on the params' device, which must be CUDA.
    p = vt.nn.Parameter(vt.ones(3))
    p.grad = vt.ones(3)
    optimizer = getattr(vt.optim, name)([p], capturable=True)
    with pytest.raises(RuntimeError, match="If capturable=True, params and state_steps must be on supported devices"):
        optimizer.step()
