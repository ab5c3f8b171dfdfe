"""vibetensor.optim.lr_scheduler against torch.optim.lr_scheduler: every scheduler's lr (and
momentum) sequence over tens of steps on two param groups, the closed forms behind
step(epoch), resuming with last_epoch, state_dict format and round trip, warnings and errors.

Both sides drive a do-nothing optimizer with the same defaults, so only the schedulers differ."""
import math
import warnings

import pytest
import torch

import vibetensor as vt


def make_noop_optimizer_class(m):
    class Noop(m.optim.Optimizer):
        """Holds param groups for a scheduler to drive; its step changes nothing."""

        def __init__(self, params, **defaults):
            super().__init__(params, defaults)

        def step(self, closure=None):
            return None

    return Noop


NOOP = {torch: make_noop_optimizer_class(torch), vt: make_noop_optimizer_class(vt)}


def make_optimizer(m, kind="momentum"):
    """Two param groups (lr 0.1 and 0.05) with momentum, Adam-style betas, or neither."""
    defaults = {"momentum": {"momentum": 0.9}, "betas": {"betas": (0.9, 0.999)}, "plain": {}}[kind]
    params = [m.zeros(2, requires_grad=True), m.zeros(3, requires_grad=True)]
    return NOOP[m]([{"params": params[:1]}, {"params": params[1:], "lr": 0.05}], lr=0.1, **defaults)


def snapshot(scheduler, optimizer):
    """What a step changes: the reported lrs, and each group's lr, momentum and betas."""
    groups = [(g["lr"], g.get("momentum"), g.get("betas")) for g in optimizer.param_groups]
    return list(scheduler.get_last_lr()), groups


def run(m, build, steps=60, kind="momentum", step_args=None):
    """Build a scheduler with build(lr_scheduler, optimizer) and record `steps` steps.
    step_args(i) gives the arguments of the i-th scheduler.step (default: none)."""
    optimizer = make_optimizer(m, kind)
    scheduler = build(m.optim.lr_scheduler, optimizer)
    history = [snapshot(scheduler, optimizer)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # step(epoch) is deprecated in torch; both warn
        for i in range(steps):
            optimizer.step()
            scheduler.step(*(step_args(i) if step_args else ()))
            history.append(snapshot(scheduler, optimizer))
    return history, scheduler, optimizer


def assert_close(actual, expected, where="value"):
    """Recursive equality, floats to 1e-12 relative (the formulas are the same, so in practice exact)."""
    if isinstance(expected, float):
        assert isinstance(actual, (float, int)), f"{where}: {actual!r} is not a number"
        close = math.isclose(actual, expected, rel_tol=1e-12, abs_tol=1e-300)
        assert close, f"{where}: {actual!r} != torch's {expected!r}"
    elif isinstance(expected, (list, tuple)):
        same_length = isinstance(actual, (list, tuple)) and len(actual) == len(expected)
        assert same_length, f"{where}: {actual!r} != {expected!r}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_close(a, e, f"{where}[{i}]")
    elif isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), (
            f"{where}: keys {sorted(map(str, actual))} != torch's {sorted(map(str, expected))}")
        for k in expected:
            assert_close(actual[k], expected[k], f"{where}[{k!r}]")
    else:
        assert actual == expected, f"{where}: {actual!r} != torch's {expected!r}"


def decay(epoch):
    return 0.95 ** epoch


def wave(epoch):
    return 1.0 + 0.5 * math.sin(epoch)


class ScaleByHalf:
    """A callable object: its attributes go into state_dict (a function's do not)."""

    def __init__(self):
        self.base = 0.5

    def __call__(self, x):
        return self.base ** x


# name -> (builder, optimizer kind). Every scheduler shipped appears here at least once.
SCHEDULERS = {
    "LambdaLR": (lambda s, o: s.LambdaLR(o, decay), "momentum"),
    "LambdaLR-per-group": (lambda s, o: s.LambdaLR(o, [decay, wave]), "momentum"),
    "MultiplicativeLR": (lambda s, o: s.MultiplicativeLR(o, lambda e: 0.9 if e % 2 else 1.02), "momentum"),
    "StepLR": (lambda s, o: s.StepLR(o, step_size=7, gamma=0.5), "momentum"),
    "MultiStepLR": (lambda s, o: s.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3), "momentum"),
    "ConstantLR": (lambda s, o: s.ConstantLR(o, factor=0.25, total_iters=8), "momentum"),
    "ConstantLR-default": (lambda s, o: s.ConstantLR(o), "momentum"),
    "LinearLR": (lambda s, o: s.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=15), "momentum"),
    "LinearLR-default": (lambda s, o: s.LinearLR(o), "momentum"),
    "ExponentialLR": (lambda s, o: s.ExponentialLR(o, gamma=0.93), "momentum"),
    "PolynomialLR": (lambda s, o: s.PolynomialLR(o, total_iters=20, power=2.0), "momentum"),
    "CosineAnnealingLR": (lambda s, o: s.CosineAnnealingLR(o, T_max=12, eta_min=0.001), "momentum"),
    "SequentialLR": (lambda s, o: s.SequentialLR(
        o, [s.LinearLR(o, start_factor=0.1, total_iters=5), s.CosineAnnealingLR(o, T_max=20)], milestones=[5]),
        "momentum"),
    "SequentialLR-three": (lambda s, o: s.SequentialLR(
        o, [s.ConstantLR(o, factor=0.5, total_iters=10), s.ExponentialLR(o, gamma=0.9), s.StepLR(o, 4)],
        milestones=[4, 20]), "momentum"),
    "ChainedScheduler": (lambda s, o: s.ChainedScheduler(
        [s.ConstantLR(o, factor=0.5, total_iters=4), s.ExponentialLR(o, gamma=0.9)]), "momentum"),
    "ChainedScheduler-of-sequential": (lambda s, o: s.ChainedScheduler(
        [s.SequentialLR(o, [s.LinearLR(o, total_iters=3), s.CosineAnnealingLR(o, T_max=10)], milestones=[3]),
         s.MultiStepLR(o, milestones=[15, 40], gamma=0.5)], optimizer=o), "momentum"),
    "CyclicLR-triangular": (lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=5,
                                                    step_size_down=3), "momentum"),
    "CyclicLR-triangular2": (lambda s, o: s.CyclicLR(o, 0.01, 0.1, step_size_up=4, mode="triangular2"), "momentum"),
    "CyclicLR-exp_range-betas": (lambda s, o: s.CyclicLR(o, 0.01, 0.1, step_size_up=6, mode="exp_range",
                                                         gamma=0.97), "betas"),
    "CyclicLR-custom-no-momentum": (lambda s, o: s.CyclicLR(o, 0.01, 0.1, step_size_up=5, scale_fn=ScaleByHalf(),
                                                            scale_mode="iterations", cycle_momentum=False), "plain"),
    "CosineAnnealingWarmRestarts": (lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=7, eta_min=0.01), "momentum"),
    "CosineAnnealingWarmRestarts-Tmult": (lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2), "momentum"),
    "OneCycleLR": (lambda s, o: s.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=60), "momentum"),
    "OneCycleLR-three-phase-linear": (lambda s, o: s.OneCycleLR(
        o, max_lr=0.8, epochs=6, steps_per_epoch=10, three_phase=True, anneal_strategy="linear"), "momentum"),
    "OneCycleLR-betas": (lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=70, pct_start=0.25), "betas"),
}


@pytest.mark.parametrize("name", SCHEDULERS)
def test_lr_sequence_matches_torch(name):
    build, kind = SCHEDULERS[name]
    expected, t_sched, _ = run(torch, build, kind=kind)
    actual, v_sched, _ = run(vt, build, kind=kind)
    assert_close(actual, expected, name)
    assert getattr(v_sched, "last_epoch", None) == getattr(t_sched, "last_epoch", None)  # ChainedScheduler has none


def test_every_scheduler_is_covered():
    covered = {name.split("-")[0] for name in SCHEDULERS} | {"ReduceLROnPlateau", "LRScheduler"}
    assert covered == set(vt.optim.lr_scheduler.__all__) == set(torch.optim.lr_scheduler.__all__)


METRICS = [1.0, 0.9, 0.95, 0.95, 0.96, 0.97, 0.89, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5, 0.5001, 0.5, 0.6, 0.7] * 3


@pytest.mark.parametrize("kwargs", [
    {"patience": 2},
    {"mode": "max", "patience": 1, "factor": 0.5, "cooldown": 2},
    {"threshold_mode": "abs", "threshold": 0.05, "patience": 0, "min_lr": [0.02, 0.001]},
    {"mode": "max", "threshold_mode": "abs", "patience": 1, "min_lr": 0.03, "eps": 0.02},
])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    def build(s, o):
        return s.ReduceLROnPlateau(o, **kwargs)

    def metric(i):
        return (METRICS[i],)

    expected, t_sched, _ = run(torch, build, steps=len(METRICS), step_args=metric)
    actual, v_sched, _ = run(vt, build, steps=len(METRICS), step_args=metric)
    assert_close(actual, expected)
    assert_close(v_sched.state_dict(), t_sched.state_dict())


def test_reduce_lr_on_plateau_takes_a_tensor_metric():
    optimizer = make_optimizer(vt)
    scheduler = vt.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=0)
    scheduler.step(vt.tensor(1.0))
    scheduler.step(vt.tensor(2.0))
    assert scheduler.get_last_lr() == [0.1 * 0.1, 0.05 * 0.1]


# step(epoch): the closed form where a scheduler has one, get_lr otherwise.
EPOCHS = [1, 2, 3, 5, 8, 13, 14, 14, 20, 21, 34, 30, 55, 12]
CLOSED_FORM = ["LambdaLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR", "PolynomialLR",
               "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "CosineAnnealingWarmRestarts-Tmult"]


@pytest.mark.parametrize("name", CLOSED_FORM)
def test_step_with_epoch_matches_torch(name):
    build, kind = SCHEDULERS[name]
    if name.startswith("CosineAnnealingWarm"):  # it also takes fractional epochs
        def args(i):
            return (EPOCHS[i] + (i % 3) / 3,)
    else:
        def args(i):
            return (EPOCHS[i],)
    expected, _, _ = run(torch, build, steps=len(EPOCHS), kind=kind, step_args=args)
    actual, _, _ = run(vt, build, steps=len(EPOCHS), kind=kind, step_args=args)
    assert_close(actual, expected, name)


@pytest.mark.parametrize("name", ["StepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR", "MultiStepLR",
                                  "PolynomialLR", "OneCycleLR"])
def test_resuming_with_last_epoch_matches_torch(name):
    """A scheduler rebuilt with last_epoch=k on an optimizer whose groups hold initial_lr."""
    build, kind = SCHEDULERS[name]

    def rebuild(s, o):
        first = build(s, o)
        for _ in range(10):
            o.step()
            first.step()
        return type(first)(o, **constructor_args(name), last_epoch=10)

    expected, _, _ = run(torch, rebuild, steps=30, kind=kind)
    actual, _, _ = run(vt, rebuild, steps=30, kind=kind)
    assert_close(actual, expected, name)


def constructor_args(name):
    return {
        "StepLR": {"step_size": 7, "gamma": 0.5},
        "ExponentialLR": {"gamma": 0.93},
        "CosineAnnealingLR": {"T_max": 12, "eta_min": 0.001},
        "LinearLR": {"start_factor": 0.2, "end_factor": 0.9, "total_iters": 15},
        "MultiStepLR": {"milestones": [5, 12, 12, 30], "gamma": 0.3},
        "PolynomialLR": {"total_iters": 20, "power": 2.0},
        "OneCycleLR": {"max_lr": [1.0, 0.5], "total_steps": 60},
    }[name]


def test_tensor_lr_is_updated_in_place():
    histories = []
    for m in (torch, vt):
        optimizer = make_optimizer(m)
        lr = m.tensor(0.1, dtype=m.float64)
        optimizer.param_groups[0]["lr"] = lr
        scheduler = m.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.5)
        for _ in range(3):
            optimizer.step()
            scheduler.step()
        assert optimizer.param_groups[0]["lr"] is lr
        assert scheduler.get_last_lr()[0] is not lr  # a copy
        histories.append([float(lr), float(scheduler.base_lrs[0])])
    assert histories[0] == histories[1] == [0.1 * 0.125, 0.1]


# ---- state_dict

def plain_values(state):
    """state_dict with callables (lambdas inside chained schedulers) left out of the comparison."""
    if isinstance(state, dict):
        return {k: plain_values(v) for k, v in state.items()}
    if isinstance(state, list):
        return [plain_values(v) for v in state]
    return "<callable>" if callable(state) else state


@pytest.mark.parametrize("name", SCHEDULERS)
def test_state_dict_matches_torch(name):
    build, kind = SCHEDULERS[name]
    _, t_sched, _ = run(torch, build, steps=17, kind=kind)
    _, v_sched, _ = run(vt, build, steps=17, kind=kind)
    assert_close(plain_values(v_sched.state_dict()), plain_values(t_sched.state_dict()), name)


@pytest.mark.parametrize("name", SCHEDULERS)
def test_state_dict_round_trip_continues_the_schedule(name):
    build, kind = SCHEDULERS[name]
    uninterrupted, _, _ = run(vt, build, steps=50, kind=kind)
    _, sched, opt = run(vt, build, steps=25, kind=kind)
    opt_state, sched_state = opt.state_dict(), sched.state_dict()

    optimizer = make_optimizer(vt, kind)
    scheduler = build(vt.optim.lr_scheduler, optimizer)
    scheduler.load_state_dict(sched_state)
    optimizer.load_state_dict(opt_state)  # after the scheduler, as torch's docs say
    history = [snapshot(scheduler, optimizer)]
    for _ in range(25):
        optimizer.step()
        scheduler.step()
        history.append(snapshot(scheduler, optimizer))
    assert_close(history, uninterrupted[25:], name)


def test_lambda_state_dict_saves_callable_objects_only():
    optimizer = make_optimizer(vt)
    scale = ScaleByHalf()
    scheduler = vt.optim.lr_scheduler.LambdaLR(optimizer, [decay, scale])
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [None, {"base": 0.5}]
    scale.base = 0.9
    scheduler.load_state_dict(state)
    assert scale.base == 0.5 and "lr_lambdas" in state


def test_cyclic_state_dict_drops_scale_functions():
    for m in (torch, vt):
        scheduler = m.optim.lr_scheduler.CyclicLR(make_optimizer(m), 0.01, 0.1, scale_fn=decay)
        state = scheduler.state_dict()
        assert "_scale_fn_ref" not in state and state["_scale_fn_custom"] is None


# ---- warnings

def test_scheduler_step_before_optimizer_step_warns_like_torch():
    for m in (torch, vt):
        scheduler = m.optim.lr_scheduler.StepLR(make_optimizer(m), step_size=3)
        with pytest.warns(UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`"):
            scheduler.step()


def test_right_order_and_last_lr_do_not_warn():
    optimizer = make_optimizer(vt)
    scheduler = vt.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(5):
            optimizer.step()
            scheduler.step()
        scheduler.get_last_lr()


def test_get_lr_outside_step_warns():
    scheduler = vt.optim.lr_scheduler.ExponentialLR(make_optimizer(vt), gamma=0.5)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        scheduler.get_lr()


def test_step_with_epoch_warns_deprecation():
    optimizer = make_optimizer(vt)
    scheduler = vt.optim.lr_scheduler.StepLR(optimizer, step_size=2)
    optimizer.step()
    with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)` was not necessary"):
        scheduler.step(4)
    assert scheduler.get_last_lr() == pytest.approx([0.1 * 0.01, 0.05 * 0.01], rel=1e-12)


# ---- errors: same type and message as torch

def error_cases(m):
    s = m.optim.lr_scheduler

    def other():
        return make_optimizer(m)

    return [
        lambda o: s.StepLR(object(), 3),
        lambda o: s.LambdaLR(o, [decay]),
        lambda o: s.MultiplicativeLR(o, 0.5),
        lambda o: s.ConstantLR(o, factor=1.5),
        lambda o: s.LinearLR(o, start_factor=0),
        lambda o: s.LinearLR(o, end_factor=1.5),
        lambda o: s.StepLR(o, 3, last_epoch=4),
        lambda o: s.SequentialLR(o, [], milestones=[]),
        lambda o: s.SequentialLR(o, [s.StepLR(o, 2), s.StepLR(o, 3)], milestones=[]),
        lambda o: s.SequentialLR(o, [s.ReduceLROnPlateau(o)], milestones=[]),
        lambda o: s.SequentialLR(o, [s.StepLR(other(), 2)], milestones=[]),
        lambda o: s.SequentialLR(o, [3], milestones=[]),
        lambda o: s.ChainedScheduler([]),
        lambda o: s.ReduceLROnPlateau(o, factor=1.0),
        lambda o: s.ReduceLROnPlateau(o, mode="mean"),
        lambda o: s.ReduceLROnPlateau(o, threshold_mode="pct"),
        lambda o: s.ReduceLROnPlateau(o, min_lr=[0.1]),
        lambda o: s.CyclicLR(o, 0.01, 0.1, mode="square"),
        lambda o: s.CyclicLR(o, [0.01], 0.1),
        lambda o: s.CosineAnnealingWarmRestarts(o, T_0=0),
        lambda o: s.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0),
        lambda o: s.CosineAnnealingWarmRestarts(o, T_0=2, eta_min="0"),
        lambda o: s.CosineAnnealingWarmRestarts(o, T_0=2).step(-1),
        lambda o: s.OneCycleLR(o, 1.0),
        lambda o: s.OneCycleLR(o, 1.0, total_steps=0),
        lambda o: s.OneCycleLR(o, 1.0, epochs=0, steps_per_epoch=3),
        lambda o: s.OneCycleLR(o, 1.0, total_steps=10, pct_start=1),
        lambda o: s.OneCycleLR(o, 1.0, total_steps=10, anneal_strategy="exp"),
        lambda o: step_times(s.OneCycleLR(o, 1.0, total_steps=2), 3),
    ]


def step_times(scheduler, times):
    for _ in range(times):
        scheduler.optimizer.step()
        scheduler.step()


def no_momentum_cases(m):
    s = m.optim.lr_scheduler
    return [lambda o: s.CyclicLR(o, 0.01, 0.1), lambda o: s.OneCycleLR(o, 1.0, total_steps=5)]


@pytest.mark.parametrize("index", range(len(error_cases(vt))))
def test_errors_match_torch(index):
    check_same_error(error_cases, index, "momentum")


@pytest.mark.parametrize("index", range(2))
def test_cycling_momentum_needs_momentum_like_torch(index):
    check_same_error(no_momentum_cases, index, "plain")


def check_same_error(cases, index, kind):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as expected:
            cases(torch)[index](make_optimizer(torch, kind))
        with pytest.raises(type(expected.value)) as actual:
            cases(vt)[index](make_optimizer(vt, kind))
    assert str(actual.value) == str(expected.value)
