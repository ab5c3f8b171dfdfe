"""The differential sweep: every op of the registry, through the OpInfo table in opinfo.py, against
PyTorch, over dtypes and shape classes (0-dim, empty, broadcast, non-contiguous, large, Python
numbers, mixed dtypes), for values, result dtypes and shapes, and for errors.

Test ids read `test_sweep[<registry op>-<dtype>-<kind>]` (`add_` and `add.out` are the in-place
and out= forms, run from the `add` entry) and `test_sweep_errors[<registry op>-<error>]`. The table
lists exactly the registry: an op without an entry fails `test_every_registry_op_has_an_entry`.
"""
import fnmatch
import multiprocessing
import os

import pytest
import torch

import vibetensor as vt
from helpers import TEST_DEVICE, TOLERANCES, assert_same, clone_arg, convert_arg, dtype_name, error_class, to_torch
from opinfo import OP_DB

REGISTRY = vt.ops.list_ops()
# torch warns where vibetensor silently agrees (var of one element: NaN), about scatter's reduce=
# argument, targets broadcast by a loss, padding='same' with even kernels and non-contiguous
# searchsorted inputs: none of it concerns the comparison
pytestmark = [pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0:UserWarning"),
              pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter:UserWarning"),
              pytest.mark.filterwarnings("ignore:Using a target size:UserWarning"),
              pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning"),
              pytest.mark.filterwarnings("ignore:torch.searchsorted.*non-contiguous:UserWarning")]


@pytest.fixture(scope="module", autouse=True)
def torch_single_threaded():
    """torch, the reference, runs on one thread: its OpenMP threads spin against vibetensor's on a
    loaded 2-core machine (a 1e5-element torch.exp takes 8 ms with 2 threads there, 0.08 ms with
    one). vibetensor keeps its threads: its parallel paths are under test."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ---- running a call on both libraries

def convert_kwargs(kwargs):
    return {k: convert_arg(v) for k, v in kwargs.items()}


def tensors_in(args, kwargs):
    """(label, tensor) for every tensor argument, lists included."""
    found = []

    def visit(label, a):
        if isinstance(a, (torch.Tensor, vt.Tensor)):
            found.append((label, a))
        elif isinstance(a, (list, tuple)):
            for i, v in enumerate(a):
                visit(f"{label}[{i}]", v)
    for i, a in enumerate(args):
        visit(f"input {i}", a)
    for k, v in kwargs.items():
        visit(k, v)
    return found


def quick_same(actual, expected, rtol, atol):
    """True when a vibetensor result passes helpers.assert_same's checks, tested fast (the common
    case: bitwise equal, or within the same tolerances); False sends the pair to assert_same, which
    decides and explains."""
    if isinstance(expected, torch.Tensor):
        if not isinstance(actual, vt.Tensor) or dtype_name(actual.dtype) != dtype_name(expected.dtype) \
                or tuple(actual.shape) != tuple(expected.shape):
            return False
        if expected.numel() == 0:
            return True
        got, want = to_torch(actual), expected.detach()
        if torch.equal(got, want):
            return True
        if not want.is_floating_point():
            return False
        default_rtol, default_atol = TOLERANCES.get(dtype_name(want.dtype), (0, 0))
        return bool(torch.isclose(got, want, rtol=default_rtol if rtol is None else rtol,
                                  atol=default_atol if atol is None else atol, equal_nan=True).all())
    if isinstance(expected, (tuple, list)) and not hasattr(expected, "_fields"):
        return (isinstance(actual, (tuple, list)) and len(actual) == len(expected)
                and all(quick_same(a, e, rtol, atol) for a, e in zip(actual, expected)))
    return False


class Label:
    """A failure message's subject, formatted only when a check fails (most calls pass)."""

    def __init__(self, fn):
        self.fn = fn

    def __str__(self):
        return self.fn()


def check_same(actual, expected, rtol, atol, what, part):
    if not quick_same(actual, expected, rtol, atol):
        assert_same(actual, expected, rtol, atol, what=f"{what}: {part}")


def run_both(fn, args, kwargs, rtol=None, atol=None, torch_may_raise=False, torch_must_raise=False, layout=False,
             what=""):
    """fn(torch, ...) and fn(vt, ...) on copies of the same inputs: the same result (values, dtype,
    shape), the same inputs afterwards (in-place ops, out=), or the same exception class."""
    t_args, t_kwargs = clone_arg(args), {k: clone_arg(v) for k, v in kwargs.items()}
    v_args, v_kwargs = convert_arg(t_args), convert_kwargs(t_kwargs)
    try:
        expected = fn(torch, *t_args, **t_kwargs)
    except Exception as torch_exc:  # noqa: BLE001
        if not torch_may_raise:
            raise AssertionError(f"{what}: torch raised {type(torch_exc).__name__}({torch_exc}): the sample is "
                                 "wrong") from torch_exc
        cls = error_class(torch_exc)
        try:
            actual = fn(vt, *v_args, **v_kwargs)
        except Exception as vt_exc:  # noqa: BLE001
            assert isinstance(vt_exc, cls), (
                f"{what}: torch raised {type(torch_exc).__name__}({str(torch_exc).splitlines()[0]}) but vibetensor "
                f"raised {type(vt_exc).__name__}({vt_exc})")
            return None
        pytest.fail(f"{what}: torch raised {type(torch_exc).__name__}({str(torch_exc).splitlines()[0]}) but "
                    f"vibetensor returned {actual!r}")
    assert not torch_must_raise, f"{what}: torch did not raise: the error input is wrong"
    actual = fn(vt, *v_args, **v_kwargs)
    check_same(actual, expected, rtol, atol, what, "result")
    for (label, e), (_, a) in zip(tensors_in(t_args, t_kwargs), tensors_in(v_args, v_kwargs)):
        check_same(a, e, rtol, atol, what, f"{label} after the call")
    if layout:
        check_layout(actual, expected, v_args[0], t_args[0], what)
    return expected


def storage_base(t):
    return t.data_ptr() - t.storage_offset() * t.element_size()


def check_layout(actual, expected, vt_input, torch_input, what):
    """Views: the result's strides and storage offset are torch's, and it shares the input's
    storage exactly when torch's does (reshape and contiguous copy only where torch copies).
    Ops returning several views (split, unbind) are checked part by part."""
    if isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected), f"{what}: {len(actual)} parts; torch's has {len(expected)}"
        for a, e in zip(actual, expected):
            check_layout(a, e, vt_input, torch_input, what)
        return
    if expected.numel() == 0:
        return
    assert tuple(actual.stride()) == tuple(expected.stride()), (
        f"{what}: strides {tuple(actual.stride())} != torch's {tuple(expected.stride())}")
    torch_view = storage_base(expected) == storage_base(torch_input)
    vt_view = storage_base(actual) == storage_base(vt_input)
    assert vt_view == torch_view, (
        f"{what}: {'a view' if vt_view else 'a copy'}; torch's is {'a view' if torch_view else 'a copy'}")
    if torch_view:
        assert actual.storage_offset() == expected.storage_offset(), (
            f"{what}: storage offset {actual.storage_offset()} != torch's {expected.storage_offset()}")


def tolerances(info, dtype, sample):
    rtol, atol = info.tolerance(dtype)
    return (sample.rtol if sample.rtol is not None else rtol, sample.atol if sample.atol is not None else atol)


def run_function(info, dtype, sample):
    rtol, atol = tolerances(info, dtype, sample)
    run_both(sample.fn or info.fn, sample.args, sample.kwargs, rtol, atol, layout=info.view,
             torch_may_raise=info.may_raise, what=Label(lambda: f"{info.name}{sample}"))
    if info.method:
        run_both(lambda m, x, *a, **k: getattr(x, info.method)(*a, **k), sample.args, sample.kwargs, rtol, atol,
                 layout=info.view, what=Label(lambda: f"Tensor.{info.method}{sample}"))


def run_inplace(info, dtype, sample):
    """The in-place form: where torch refuses (a result dtype self can't hold, a broadcast shape
    self doesn't have, an expanded self), vibetensor must refuse too."""
    rtol, atol = tolerances(info, dtype, sample)
    run_both(info.inplace_fn, sample.args, sample.kwargs, rtol, atol, torch_may_raise=True,
             what=Label(lambda: f"{info.base}_{sample}"))


def run_out(info, dtype, sample, kind):
    """The out= form, into a tensor of the result's shape and dtype (prefilled, so that elements
    left unwritten show) and, for the basic kind, into an empty tensor that is resized."""
    rtol, atol = tolerances(info, dtype, sample)
    expected = info.fn(torch, *clone_arg(sample.args), **{k: clone_arg(v) for k, v in sample.kwargs.items()})
    outs = [torch.full(expected.shape, 3, dtype=expected.dtype)]
    if kind == "basic":
        outs.append(torch.empty(0, dtype=expected.dtype))
    for out in outs:
        run_both(lambda m, *a, out, **k: info.out_fn(m, *a, out=out, **k), sample.args, dict(sample.kwargs, out=out),
                 rtol, atol, what=Label(lambda: f"{info.base}(out=T{tuple(out.shape)}){sample}"))


def run_meta(info, dtype, sample):
    """Shape and dtype only (uninitialized values)."""
    expected = info.fn(torch, *clone_arg(sample.args), **sample.kwargs)
    actual = info.fn(vt, *convert_arg(sample.args), **convert_kwargs(sample.kwargs))
    assert dtype_name(actual.dtype) == dtype_name(expected.dtype), f"{info.name}{sample}: dtype"
    assert tuple(actual.shape) == tuple(expected.shape), f"{info.name}{sample}: shape"


def run_random(info, dtype, sample, fn=None):
    """Random ops: the same shape and dtype as torch's; statistics (`info.stats`, a dict of
    numbers with tolerances, or invariants that must hold) agree; the same seed gives the same
    result, another seed another one."""
    fn = fn or info.fn

    def vt_call(seed):
        vt.manual_seed(seed)
        return fn(vt, *convert_arg(clone_arg(sample.args)), **convert_kwargs(clone_arg(sample.kwargs)))

    def torch_call(seed):
        torch.manual_seed(seed)
        return fn(torch, *clone_arg(sample.args), **{k: clone_arg(v) for k, v in sample.kwargs.items()})
    # (torch seeds other than 0: after torch.manual_seed(0), torch.bernoulli of some float64 tensors of
    # 102,720 probabilities returns all zeros)
    expected = torch_call(1234)
    actual = vt_call(0)
    assert dtype_name(actual.dtype) == dtype_name(expected.dtype), f"{info.name}{sample}: dtype"
    assert tuple(actual.shape) == tuple(expected.shape), f"{info.name}{sample}: shape"
    got = to_torch(actual)
    for stat, (want, tol) in info.stats(expected, sample).items():
        value = info.stats(got, sample)[stat][0]
        if isinstance(want, bool):
            assert value == want, f"{info.name}{sample}: {stat} is {value}, torch's {want}"
        else:
            assert abs(value - want) <= tol, f"{info.name}{sample}: {stat} = {value}, torch's {want} (tolerance {tol})"
    again = to_torch(vt_call(0))
    torch.testing.assert_close(again, got, equal_nan=True, rtol=0, atol=0,
                               msg=lambda m: f"{info.name}{sample}: the same seed gave another result: {m}")
    if got.numel() >= 64 and not torch.equal(torch_call(4321), expected):  # (dropout(training=False) is no draw)
        other = to_torch(vt_call(1))
        assert not torch.equal(other, got), f"{info.name}{sample}: seeds 0 and 1 gave the same result"


def run_sample(info, variant, dtype, kind, sample):
    if info.compare == "random":
        return run_random(info, dtype, sample, fn=sample.fn)
    if info.compare == "meta":
        return run_meta(info, dtype, sample)
    if variant == "function":
        return run_function(info, dtype, sample)
    if variant == "inplace":
        return run_inplace(info, dtype, sample) if sample.inplace else None
    if variant == "out":
        return run_out(info, dtype, sample, kind) if sample.out else None
    raise AssertionError(variant)


# ---- parametrization

def marks(reason):
    # The table's xfails describe the CPU kernels; on another device a case may pass.
    return [pytest.mark.xfail(strict=TEST_DEVICE == "cpu", reason=reason)] if reason else []


def sweep_params():
    params = []
    for info in OP_DB:
        for variant, regname in info.registry_names().items():
            for kind in info.all_kinds():
                for dtype in info.kind_dtypes(kind, variant):
                    test_id = f"{regname}-{dtype}-{kind}"
                    params.append(pytest.param(info, variant, dtype, kind, id=test_id,
                                               marks=marks(info.xfail_reason(test_id))))
    return params


def error_params():
    params = []
    for info in OP_DB:
        if info.errors is None or info.skip_reason:
            continue
        for e in info.errors():
            test_id = f"{info.name}-{e.desc}"
            params.append(pytest.param(info, e, id=test_id, marks=marks(info.xfail_reason(test_id, errors=True))))
    return params


def run_in_child_process(info, variant, dtype, kind):
    """Calls that crash the interpreter run in a forked child process: a failure, not a lost test
    run. (Forking is fast; the child only runs the small calls of one test.) A forked child cannot
    use the parent's CUDA context, so on a GPU the test runs in this process."""
    if TEST_DEVICE != "cpu":
        run_test(info, variant, dtype, kind)
        return
    def target():
        try:
            run_test(info, variant, dtype, kind)
        except BaseException:  # noqa: BLE001  (a failure that is not a crash)
            os._exit(1)
        os._exit(0)
    child = multiprocessing.get_context("fork").Process(target=target)
    child.start()
    child.join(timeout=120)
    if child.is_alive():
        child.kill()
        child.join()
        pytest.fail("the child process running the test hung")
    assert child.exitcode == 0, f"the test {'failed' if child.exitcode == 1 else 'crashed'} in a child process " \
                                f"(exit code {child.exitcode})"


def run_test(info, variant, dtype, kind):
    samples = list(info.samples(dtype, kind))
    assert samples, f"{info.name} declares kind {kind!r} but its generator gives no sample"
    for sample in samples:
        run_sample(info, variant, dtype, kind, sample)


@pytest.mark.parametrize("info, variant, dtype, kind", sweep_params())
def test_sweep(info, variant, dtype, kind):
    if info.skip_reason:
        pytest.skip(info.skip_reason)
    if info.crash_reason(f"{info.registry_names()[variant]}-{dtype}-{kind}"):
        run_in_child_process(info, variant, dtype, kind)
    else:
        run_test(info, variant, dtype, kind)


@pytest.mark.parametrize("info, error", error_params())
def test_sweep_errors(info, error):
    fn = error.fn or {"function": info.fn, "inplace": info.inplace_fn, "out": info.out_fn}[error.variant]
    run_both(fn, error.args, error.kwargs, torch_may_raise=True, torch_must_raise=True,
             what=f"{info.name}[{error.desc}]")


# ---- the table against the registry

def test_every_registry_op_has_an_entry():
    owner = {}
    duplicates = []
    for info in OP_DB:
        for name in info.exercised():
            if name in owner:
                duplicates.append(f"{name} (entries {owner[name]} and {info.name})")
            owner[name] = info.name
    missing = sorted(set(REGISTRY) - set(owner))
    stale = sorted(set(owner) - set(REGISTRY))
    assert not duplicates, f"registry ops exercised by two entries: {duplicates}"
    assert not missing, f"registry ops without an entry in tests/python/opinfo.py: {missing}"
    assert not stale, f"opinfo.py entries naming ops the registry does not have: {stale}"


def test_xfail_patterns_match_tests():
    """Every strict xfail names tests that exist (a pattern matching nothing is stale)."""
    sweep_ids = [p.id for p in sweep_params()]
    error_ids = [p.id for p in error_params()]
    stale = [f"{info.name}: {pattern}" for info in OP_DB
             for patterns, ids in ((list(info.xfail) + list(info.crashes), sweep_ids), (info.xfail_errors, error_ids))
             for pattern in patterns if not any(fnmatch.fnmatchcase(i, pattern) for i in ids)]
    assert not stale, f"xfail patterns that match no test: {stale}"


def test_skips_are_rare():
    skipped = [info.name for info in OP_DB if info.skip_reason]
    assert len(skipped) <= 5, f"too many entries skipped: {skipped}"


def test_every_entry_has_error_inputs_or_a_reason():
    """Every entry that takes a tensor checks some inputs torch refuses."""
    lacking = [info.name for info in OP_DB if info.errors is None and not info.skip_reason]
    assert not lacking, f"entries without error inputs: {lacking}"
