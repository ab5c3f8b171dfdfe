"""vibetensor.optim.Optimizer against torch.optim.Optimizer: param groups, errors, zero_grad,
state_dict format and round trip, hooks, repr. A tiny SGD with momentum, written once for
either library, exercises the base class (the real optimizers are tested in their own files)."""
import copy
import warnings

import pytest
import torch

import vibetensor as vt
from vibetensor.optim.optimizer import _evaluate_closure, _new_step, _params_with_grad

from helpers import assert_same, to_torch, to_vt


def make_plain_sgd_class(m):
    """lr and momentum SGD on `m` (torch or vibetensor); keeps a 'step' tensor and, with
    momentum, a 'momentum_buffer', like torch's optimizers do."""

    class PlainSGD(m.optim.Optimizer):
        def __init__(self, params, lr=0.1, momentum=0.0):
            super().__init__(params, dict(lr=lr, momentum=momentum))

        def step(self, closure=None):
            loss = None
            if closure is not None:
                with m.enable_grad():
                    loss = closure()
            with m.no_grad():  # torch's subclasses must do this themselves; a no-op for vibetensor
                for group in self.param_groups:
                    for p in group["params"]:
                        if p.grad is None:
                            continue
                        state = self.state[p]
                        if len(state) == 0:
                            state["step"] = m.tensor(0.0)
                        state["step"] += 1
                        grad = p.grad
                        if group["momentum"] != 0:
                            if "momentum_buffer" not in state:
                                state["momentum_buffer"] = grad.clone()
                            else:
                                state["momentum_buffer"].mul_(group["momentum"]).add_(grad)
                            grad = state["momentum_buffer"]
                        p.add_(grad, alpha=-group["lr"])
            return loss

    return PlainSGD


TorchSGD = make_plain_sgd_class(torch)
VtSGD = make_plain_sgd_class(vt)


class HelperSGD(vt.optim.Optimizer):
    """The same optimizer written the way optimizer.py's contract says: no explicit no_grad,
    helpers for the closure, the params with grads and the step counter."""

    def __init__(self, params, lr=0.1, momentum=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    def step(self, closure=None):
        loss = _evaluate_closure(closure)
        self.grad_enabled_inside = vt.is_grad_enabled()
        for group in self.param_groups:
            for p in _params_with_grad(group):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step()
                state["step"] += 1
                p.add_(p.grad, alpha=-group["lr"])
        return loss


def param_pair(shape=(3,), seed=0, dtype="float32"):
    """The same leaf parameter in torch and vibetensor."""
    t = torch.randn(shape, generator=torch.Generator().manual_seed(seed)).to(getattr(torch, dtype))
    return t.clone().requires_grad_(), to_vt(t).requires_grad_()


def params_pairs(n=3, **kwargs):
    pairs = [param_pair(seed=i, **kwargs) for i in range(n)]
    return [t for t, _ in pairs], [v for _, v in pairs]


def set_grads(torch_params, vt_params, seed=100, skip=()):
    for i, (t, v) in enumerate(zip(torch_params, vt_params)):
        if i in skip:
            t.grad, v.grad = None, None
            continue
        g = torch.randn(t.shape, generator=torch.Generator().manual_seed(seed + i)).to(t.dtype)
        t.grad, v.grad = g.clone(), to_vt(g)


def without_params(group):
    return {k: v for k, v in group.items() if k != "params"}


# ---- construction and param groups

def test_params_as_list_generator_and_groups_match_torch():
    tp, vp = params_pairs(3)
    for make_args in (
        lambda ps: (ps,),
        lambda ps: (iter(ps),),
        lambda ps: ([{"params": ps[:2]}, {"params": ps[2], "lr": 0.5}],),
    ):
        t_opt, v_opt = TorchSGD(*make_args(tp), lr=0.2), VtSGD(*make_args(vp), lr=0.2)
        assert [without_params(g) for g in v_opt.param_groups] == [without_params(g) for g in t_opt.param_groups]
        for vg, tg in zip(v_opt.param_groups, t_opt.param_groups):
            assert isinstance(vg["params"], list) and len(vg["params"]) == len(tg["params"])
        assert all(a is b for a, b in zip((p for g in v_opt.param_groups for p in g["params"]), vp))
        assert v_opt.defaults == t_opt.defaults
        assert len(v_opt.state) == 0


def test_named_params_keep_their_names():
    tp, vp = params_pairs(2)
    t_opt = TorchSGD([("w", tp[0]), ("b", tp[1])])
    v_opt = VtSGD([("w", vp[0]), ("b", vp[1])])
    assert v_opt.param_groups[0]["param_names"] == t_opt.param_groups[0]["param_names"] == ["w", "b"]
    assert v_opt.param_groups[0]["params"][0] is vp[0]


def test_add_param_group_fills_defaults():
    tp, vp = params_pairs(3)
    t_opt, v_opt = TorchSGD(tp[:1], lr=0.3, momentum=0.5), VtSGD(vp[:1], lr=0.3, momentum=0.5)
    t_opt.add_param_group({"params": tp[1:], "lr": 0.01})
    v_opt.add_param_group({"params": vp[1:], "lr": 0.01})
    assert [without_params(g) for g in v_opt.param_groups] == [without_params(g) for g in t_opt.param_groups]
    added = v_opt.param_groups[1]["params"]
    assert len(added) == 2 and added[0] is vp[1] and added[1] is vp[2]


def construction_errors(m, SGD):
    """(name, thunk) pairs; each thunk must raise the same error in torch and vibetensor."""
    leaf = m.ones(2, requires_grad=True)
    other = m.ones(2, requires_grad=True)

    def add_group(params_first, group):
        opt = SGD(params_first)
        opt.add_param_group(group)

    return [
        ("tensor", lambda: SGD(leaf)),
        ("empty", lambda: SGD([])),
        ("non-leaf", lambda: SGD([leaf * 2])),
        ("not a tensor", lambda: SGD([leaf, 3])),
        ("set in a group", lambda: SGD([{"params": {leaf}}])),
        ("in two groups", lambda: SGD([{"params": [leaf]}, {"params": [leaf, other]}])),
        ("some names missing", lambda: SGD([("a", leaf), other])),
        ("named and unnamed groups", lambda: add_group([("a", leaf)], {"params": [other]})),
        ("group not a dict", lambda: add_group([leaf], [other])),
    ]


@pytest.mark.parametrize("index", range(9))
def test_construction_errors_match_torch(index):
    name, torch_thunk = construction_errors(torch, TorchSGD)[index]
    _, vt_thunk = construction_errors(vt, VtSGD)[index]
    with pytest.raises(Exception) as expected:
        torch_thunk()
    with pytest.raises(type(expected.value)) as actual:
        vt_thunk()
    assert str(actual.value) == str(expected.value).replace("torch.", "vibetensor."), name


def test_required_hyperparameter_and_duplicate_warning():
    class NeedsLr(vt.optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, dict(lr=vt.optim.optimizer.required))

    p = vt.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="didn't specify a value of required optimization parameter lr"):
        NeedsLr([p])
    assert NeedsLr([{"params": [p], "lr": 1.0}]).param_groups[0]["lr"] == 1.0
    with pytest.warns(UserWarning, match="duplicate parameters"):
        VtSGD([p, p])


def test_retained_grad_non_leaf_is_accepted():
    x = vt.ones(2, requires_grad=True)
    y = x * 2
    y.retain_grad()
    assert VtSGD([y]).param_groups[0]["params"][0] is y


# ---- step

def run_steps(t_opt, v_opt, tp, vp, steps=3, skip=()):
    for s in range(steps):
        set_grads(tp, vp, seed=10 * s, skip=skip)
        t_opt.step()
        v_opt.step()
    for t, v in zip(tp, vp):
        assert_same(v.detach(), t.detach())


def test_step_with_groups_momentum_and_missing_grad_matches_torch():
    tp, vp = params_pairs(3)
    t_opt = TorchSGD([{"params": tp[:2], "momentum": 0.9}, {"params": tp[2:], "lr": 0.05}], lr=0.1)
    v_opt = VtSGD([{"params": vp[:2], "momentum": 0.9}, {"params": vp[2:], "lr": 0.05}], lr=0.1)
    run_steps(t_opt, v_opt, tp, vp, skip=(1,))
    assert vp[1] not in v_opt.state  # no grad, no state, as in torch
    assert len(v_opt.state) == len(t_opt.state) == 2


def test_step_runs_under_no_grad_and_closure_with_grad():
    p = vt.ones(3, requires_grad=True)
    opt = HelperSGD([p], lr=0.5)
    seen = []

    def closure():
        seen.append(vt.is_grad_enabled())
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert seen == [True] and opt.grad_enabled_inside is False
    assert vt.is_grad_enabled()  # restored after step
    assert loss.item() == 3.0
    assert p.grad_fn is None and p.is_leaf  # the update was not recorded
    assert p.detach().tolist() == [0.0, 0.0, 0.0]  # 1 - 0.5 * 2
    step = opt.state[p]["step"]
    assert step.dtype == vt.float32 and step.dim() == 0 and step.item() == 1.0


def test_base_step_is_not_implemented():
    opt = vt.optim.Optimizer([vt.ones(1, requires_grad=True)], {"lr": 1.0})
    with pytest.raises(NotImplementedError):
        opt.step()


# ---- zero_grad

def test_zero_grad_set_to_none_and_in_place():
    p = vt.ones(3, requires_grad=True)
    q = vt.ones(2, requires_grad=True)  # never gets a grad
    opt = VtSGD([p, q])
    (p * 3).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert p.grad is not None and p.grad.tolist() == [0.0, 0.0, 0.0] and q.grad is None
    (p * 3).sum().backward()  # accumulates into the zeroed grad
    assert p.grad.tolist() == [3.0, 3.0, 3.0]
    opt.zero_grad()
    assert p.grad is None


def test_zero_grad_in_place_detaches_a_grad_with_history():
    p = vt.ones(3, requires_grad=True)
    x = vt.full([3], 2.0, requires_grad=True)
    (p * p * x).sum().backward(create_graph=True)
    assert p.grad.grad_fn is not None
    VtSGD([p]).zero_grad(set_to_none=False)
    assert p.grad.grad_fn is None and not p.grad.requires_grad
    assert p.grad.tolist() == [0.0, 0.0, 0.0]


# ---- state_dict

def trained_pair(momentum=0.9, named=False):
    tp, vp = params_pairs(3)
    if named:
        tp_in, vp_in = [(f"p{i}", t) for i, t in enumerate(tp)], [(f"p{i}", v) for i, v in enumerate(vp)]
        groups = lambda ps: [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.03}]  # noqa: E731
        t_opt, v_opt = TorchSGD(groups(tp_in), momentum=momentum), VtSGD(groups(vp_in), momentum=momentum)
    else:
        t_opt = TorchSGD([{"params": tp[:1]}, {"params": tp[1:], "lr": 0.03}], momentum=momentum)
        v_opt = VtSGD([{"params": vp[:1]}, {"params": vp[1:], "lr": 0.03}], momentum=momentum)
    run_steps(t_opt, v_opt, tp, vp, steps=2)
    return t_opt, v_opt, tp, vp


def assert_state_dicts_equal(v_sd, t_sd):
    assert v_sd.keys() == t_sd.keys() == {"state", "param_groups"}
    assert v_sd["param_groups"] == t_sd["param_groups"]
    assert v_sd["state"].keys() == t_sd["state"].keys()
    for index, t_state in t_sd["state"].items():
        assert v_sd["state"][index].keys() == t_state.keys()
        for key, value in t_state.items():
            assert_same(v_sd["state"][index][key], value, what=f"state[{index}][{key!r}]")


@pytest.mark.parametrize("named", [False, True])
def test_state_dict_format_matches_torch(named):
    t_opt, v_opt, _, vp = trained_pair(named=named)
    v_sd, t_sd = v_opt.state_dict(), t_opt.state_dict()
    assert_state_dicts_equal(v_sd, t_sd)
    assert v_sd["param_groups"][1]["params"] == [1, 2]
    # The live state, not a copy (torch's state_dict does not copy either).
    assert v_sd["state"][0]["momentum_buffer"] is v_opt.state[vp[0]]["momentum_buffer"]


def test_state_dict_round_trip_continues_like_the_original():
    t_opt, v_opt, tp, vp = trained_pair()
    fresh = [v.detach().clone().requires_grad_() for v in vp]
    v_new = VtSGD([{"params": fresh[:1]}, {"params": fresh[1:]}], lr=0.7, momentum=0.0)
    v_new.load_state_dict(v_opt.state_dict())
    assert [without_params(g) for g in v_new.param_groups] == [without_params(g) for g in v_opt.param_groups]
    assert v_new.param_groups[0]["params"][0] is fresh[0]  # its own params are kept
    assert set(v_new.state) == set(fresh)
    run_steps(t_opt, v_new, tp, fresh, steps=2)


def test_load_state_dict_shares_and_casts_like_torch():
    t_opt, v_opt, _, _ = trained_pair()
    t_sd, v_sd = t_opt.state_dict(), v_opt.state_dict()
    tp64, vp64 = params_pairs(3, dtype="float64")
    t_new = TorchSGD([{"params": tp64[:1]}, {"params": tp64[1:]}])
    v_new = VtSGD([{"params": vp64[:1]}, {"params": vp64[1:]}])
    t_new.load_state_dict(t_sd)
    v_new.load_state_dict(v_sd)
    assert_state_dicts_equal(v_new.state_dict(), t_new.state_dict())  # momentum float64, step float32
    assert v_new.state[vp64[0]]["step"] is v_sd["state"][0]["step"]  # 'step' is never cast
    assert v_new.param_groups[0] is not v_sd["param_groups"][0]  # the groups are copies

    # Same dtype: torch keeps the loaded tensors themselves (no copy); so does vibetensor.
    t_same = TorchSGD([{"params": tp64[:1]}, {"params": tp64[1:]}])
    v_same = VtSGD([{"params": vp64[:1]}, {"params": vp64[1:]}])
    t_same.load_state_dict(t_sd)
    v_same.load_state_dict(v_sd)
    t_shared = t_same.state[tp64[0]]["momentum_buffer"] is t_sd["state"][0]["momentum_buffer"]
    v_shared = v_same.state[vp64[0]]["momentum_buffer"] is v_sd["state"][0]["momentum_buffer"]
    assert v_shared == t_shared


@pytest.mark.parametrize("groups", [[[0, 1, 2]], [[0], [1]]])
def test_load_state_dict_rejects_other_group_layouts_like_torch(groups):
    t_opt, v_opt, tp, vp = trained_pair()
    messages = []
    for opt_cls, params, opt in ((TorchSGD, tp, t_opt), (VtSGD, vp, v_opt)):
        other = opt_cls([{"params": [params[i] for i in g]} for g in groups])
        with pytest.raises(ValueError) as info:
            other.load_state_dict(opt.state_dict())
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_load_state_dict_keeps_state_of_unknown_keys():
    p = vt.ones(2, requires_grad=True)
    opt = VtSGD([p])
    sd = opt.state_dict()
    sd["state"]["extra"] = {"x": 1}
    opt.load_state_dict(sd)
    assert opt.state["extra"] == {"x": 1}


# ---- hooks

def test_step_hooks_order_arguments_and_removal():
    p = vt.ones(2, requires_grad=True)
    p.grad = vt.ones(2)
    opt = VtSGD([p], lr=1.0)
    calls = []
    global_pre = vt.optim.optimizer.register_optimizer_step_pre_hook(lambda o, a, k: calls.append(("global_pre", a, k)))
    global_post = vt.optim.optimizer.register_optimizer_step_post_hook(lambda o, a, k: calls.append(("global_post",)))
    pre = opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", o is opt)))
    post = opt.register_step_post_hook(lambda o, a, k: calls.append(("post",)))
    try:
        opt.step()
    finally:
        global_pre.remove()
        global_post.remove()
    assert calls == [("global_pre", (), {}), ("pre", True), ("post",), ("global_post",)]
    pre.remove()
    post.remove()
    calls.clear()
    opt.step()
    assert calls == []


def test_step_pre_hook_can_replace_arguments():
    p = vt.ones(2, requires_grad=True)
    opt = HelperSGD([p])
    opt.register_step_pre_hook(lambda o, args, kwargs: ((), {"closure": lambda: 42}))
    assert opt.step() == 42
    opt.register_step_pre_hook(lambda o, args, kwargs: "bad")
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        opt.step()


def test_overriding_step_runs_hooks_once():
    class Wrapped(HelperSGD):
        def step(self, closure=None):
            return super().step(closure)

    opt = Wrapped([vt.ones(1, requires_grad=True)])
    count = []
    opt.register_step_pre_hook(lambda *a: count.append(1))
    opt.step()
    assert count == [1] and opt.grad_enabled_inside is False


def test_state_dict_and_load_hooks():
    t_opt, opt, _, _ = trained_pair()
    order = []
    opt.register_state_dict_pre_hook(lambda o: order.append("pre"))
    opt.register_state_dict_pre_hook(lambda o: order.append("pre first"), prepend=True)

    def add_note(o, sd):
        sd["note"] = 1
        return sd

    opt.register_state_dict_post_hook(add_note)
    sd = opt.state_dict()
    assert order == ["pre first", "pre"] and sd["note"] == 1

    def change_lr(o, sd):
        sd["param_groups"] = [dict(g, lr=0.5) for g in sd["param_groups"]]
        return sd

    handle = opt.register_load_state_dict_pre_hook(change_lr)
    opt.register_load_state_dict_post_hook(lambda o: order.append("loaded"))
    opt.load_state_dict(sd)
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.5] and order[-1] == "loaded"
    assert sd["param_groups"][0]["lr"] == 0.1  # the hook saw a shallow copy of the dict
    handle.remove()
    opt.load_state_dict(sd)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.03]


# ---- repr, copy

def test_repr_matches_torch():
    tp, vp = params_pairs(2)
    t_opt = TorchSGD([{"params": tp[:1]}, {"params": tp[1:], "lr": 0.5}], momentum=0.9)
    v_opt = VtSGD([{"params": vp[:1]}, {"params": vp[1:], "lr": 0.5}], momentum=0.9)
    assert repr(v_opt) == repr(t_opt)
    assert repr(v_opt).startswith("PlainSGD (\nParameter Group 0\n    lr: 0.1\n")


def test_copy_goes_through_getstate_and_drops_hooks():
    _, opt, _, vp = trained_pair()
    opt.register_step_pre_hook(lambda *a: None)
    clone = copy.copy(opt)
    assert clone.param_groups is opt.param_groups and clone.state is opt.state
    assert len(clone._optimizer_step_pre_hooks) == 0
    assert clone.defaults["differentiable"] is False
    vp[0].grad = vt.ones(3)
    clone.step()  # the copy still steps, with its own (empty) hooks
    assert to_torch(opt.state[vp[0]]["step"]).item() == 3.0


def test_no_warnings_on_ordinary_use():
    _, opt, _, _ = trained_pair()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.load_state_dict(opt.state_dict())
        opt.zero_grad()
