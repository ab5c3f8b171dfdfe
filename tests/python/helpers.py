"""The differential-testing helper: run one lambda on torch and on vibetensor, compare.

`compare(fn, *inputs)` calls `fn(torch, *torch_inputs)` and `fn(vt, *vt_inputs)`, where each
vibetensor input reproduces its torch input exactly: values, dtype, shape, strides and storage
offset (zero strides of `expand` included). It then checks that both results (tensors, numbers,
tuples of them) agree in values, dtype and shape, that the inputs were mutated the same way (for
in-place ops and `out=`), and, when torch raises, that vibetensor raises the same exception type.
"""
import builtins
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import vibetensor as vt

# The device vibetensor's inputs are put on: `VT_TEST_DEVICE=cuda` runs the differential suites
# with vibetensor on the GPU against torch on the CPU (scripts/gpu.sh does).
TEST_DEVICE = os.environ.get("VT_TEST_DEVICE", "cpu")

# ---- dtypes

DTYPE_NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64"]
INT_NAMES = ["uint8", "int8", "int16", "int32", "int64"]
FLOAT_NAMES = ["float16", "bfloat16", "float32", "float64"]


def torch_dtype(name):
    return getattr(torch, name)


def vt_dtype(name):
    return getattr(vt, name)


def dtype_name(dtype):
    """`torch.float32` and `vibetensor.float32` both give 'float32'."""
    return repr(dtype).split(".")[-1]


# ---- inputs

def make(shape, dtype="float32", low=None, high=None, seed=0):
    """A deterministic torch tensor of `shape` whose values suit `dtype` (small ints, no overflow)."""
    gen = torch.Generator().manual_seed(seed)
    dt = torch_dtype(dtype) if isinstance(dtype, str) else dtype
    if dt == torch.bool:
        return torch.randint(0, 2, shape, generator=gen).bool()
    if dt.is_floating_point:
        lo = -3.0 if low is None else low
        hi = 3.0 if high is None else high
        return (torch.rand(shape, generator=gen, dtype=torch.float64) * (hi - lo) + lo).to(dt)
    info = torch.iinfo(dt)
    lo = builtins.max(info.min, -9 if low is None else low)
    hi = builtins.min(info.max, 9 if high is None else high)
    return torch.randint(lo, hi + 1, shape, generator=gen, dtype=dt)


def layouts(x):
    """`x` and views of other tensors holding the same values with other layouts: transposed,
    strided with a storage offset, and (where a dim has size 1 in a copy) zero-stride expanded."""
    out = {"contiguous": x}
    if x.ndim >= 2:
        out["transposed"] = x.mT.contiguous().mT
    if x.ndim >= 1 and x.numel() > 0:
        padded = torch.stack([torch.zeros_like(x), x], dim=-1)  # every value sits between junk
        out["strided"] = padded[..., 1]
    return out


def expanded(shape, dtype="float32", seed=0):
    """A zero-stride tensor of `shape`: a single row made with `make`, expanded along dim 0."""
    row = make((1,) + tuple(shape[1:]), dtype, seed=seed)
    return row.expand(*shape)


# ---- torch -> vibetensor

def to_vt_contiguous(t):
    """A contiguous vibetensor copy of a torch tensor's values (any layout), on TEST_DEVICE."""
    if t.numel() == 0:  # numpy gives empty arrays all-zero strides; torch gives them row-major ones
        return vt.empty(list(t.shape), dtype=vt_dtype(dtype_name(t.dtype)), device=TEST_DEVICE)
    if t.dtype == torch.bfloat16:
        return vt.from_numpy(t.float().numpy().copy()).to(vt.bfloat16).to(TEST_DEVICE)
    return vt.from_numpy(t.contiguous().numpy().copy()).to(TEST_DEVICE)


def storage_span(t):
    """How many elements of its storage `t` reaches, from the storage's start."""
    return t.storage_offset() + 1 + builtins.sum((s - 1) * st for s, st in zip(t.shape, t.stride()))


def to_vt(t):
    """A vibetensor tensor with the same values, dtype, shape, strides and storage offset as `t`.

    Non-contiguous tensors are rebuilt by copying the storage span they read and taking
    `as_strided` of it, so expanded (zero-stride) and offset views come through as views.
    """
    if (t.is_contiguous() and t.storage_offset() == 0) or t.numel() == 0:
        return to_vt_contiguous(t)
    storage = torch.as_strided(t, (storage_span(t),), (1,), 0)
    return vt.as_strided(to_vt_contiguous(storage), list(t.shape), list(t.stride()), t.storage_offset())


def to_torch(x):
    """A torch tensor on the CPU with a vibetensor tensor's values and dtype (contiguous)."""
    x = x.cpu()
    if x.dtype == vt.bfloat16:
        return torch.from_numpy(x.to(vt.float32).numpy().copy()).to(torch.bfloat16)
    return torch.from_numpy(np.array(x.numpy(), copy=True))


def convert_arg(a):
    """Map an argument for the torch call to the matching argument for the vibetensor call."""
    if isinstance(a, torch.Tensor):
        return to_vt(a)
    if isinstance(a, torch.dtype):
        return vt_dtype(dtype_name(a))
    if isinstance(a, (list, tuple)):
        return type(a)(convert_arg(v) for v in a)
    return a


def clone_arg(a):
    """A copy with the same layout, so an in-place op in one call can't leak into the next."""
    if isinstance(a, torch.Tensor):
        if a.numel() == 0:
            return a.clone()
        storage = torch.as_strided(a, (storage_span(a),), (1,), 0).clone()
        return torch.as_strided(storage, a.shape, a.stride(), a.storage_offset())
    if isinstance(a, (list, tuple)):
        return type(a)(clone_arg(v) for v in a)
    return a


# ---- comparison

TOLERANCES = {  # (rtol, atol), torch.testing's defaults widened a little for different summation orders
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
}


def assert_tensor_equal(actual, expected, rtol=None, atol=None, what="result"):
    assert isinstance(actual, vt.Tensor), f"{what}: expected a Tensor, got {type(actual).__name__}: {actual!r}"
    assert dtype_name(actual.dtype) == dtype_name(expected.dtype), (
        f"{what}: dtype {dtype_name(actual.dtype)} != torch's {dtype_name(expected.dtype)}")
    assert tuple(actual.shape) == tuple(expected.shape), (
        f"{what}: shape {tuple(actual.shape)} != torch's {tuple(expected.shape)}")
    default_rtol, default_atol = TOLERANCES.get(dtype_name(expected.dtype), (0, 0))
    torch.testing.assert_close(
        to_torch(actual), expected.detach().contiguous(), equal_nan=True, check_stride=False,
        rtol=default_rtol if rtol is None else rtol, atol=default_atol if atol is None else atol,
        msg=lambda m: f"{what}: {m}")


def assert_same(actual, expected, rtol=None, atol=None, what="result"):
    """Recursive comparison of a vibetensor result against a torch result."""
    if isinstance(expected, torch.Tensor):
        assert_tensor_equal(actual, expected, rtol, atol, what)
    elif isinstance(expected, torch.Size):
        assert isinstance(actual, vt.Size), f"{what}: expected vibetensor.Size, got {type(actual).__name__}"
        assert tuple(actual) == tuple(expected), f"{what}: {actual} != {expected}"
    elif isinstance(expected, torch.dtype):
        assert isinstance(actual, vt.dtype), f"{what}: expected a dtype, got {actual!r}"
        assert dtype_name(actual) == dtype_name(expected), f"{what}: {actual!r} != {expected!r}"
    elif isinstance(expected, (tuple, list)):
        assert isinstance(actual, (tuple, list)), f"{what}: expected a sequence, got {type(actual).__name__}"
        assert len(actual) == len(expected), f"{what}: length {len(actual)} != {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_same(a, e, rtol, atol, f"{what}[{i}]")
        if hasattr(expected, "_fields"):
            assert getattr(actual, "_fields", None) == expected._fields, f"{what}: fields differ"
    elif isinstance(expected, float):
        assert type(actual) is float, f"{what}: expected float, got {type(actual).__name__} {actual!r}"
        if expected != expected:
            assert actual != actual, f"{what}: {actual} != nan"
        else:
            close = actual == pytest.approx(expected, rel=rtol or 1e-6, abs=atol or 1e-6)
            assert close, f"{what}: {actual} != {expected}"
    else:  # int, bool, str, None
        assert type(actual) is type(expected), (
            f"{what}: expected {type(expected).__name__}, got {type(actual).__name__}")
        assert actual == expected, f"{what}: {actual!r} != torch's {expected!r}"


# Exception types in the order we test them: a torch error is matched to its most specific class.
# NotImplementedError is a RuntimeError in Python, and torch's "not implemented for 'Bool'" is
# one, so a plain RuntimeError from vibetensor matches it.
ERROR_TYPES = (IndexError, TypeError, ValueError, RuntimeError)


def error_class(exc):
    for cls in ERROR_TYPES:
        if isinstance(exc, cls):
            return cls
    return type(exc)


def compare(fn, *inputs, rtol=None, atol=None, check_inputs=True):
    """Run `fn(torch, *inputs)` and `fn(vt, *converted inputs)`, and check they agree.

    Returns the pair of results so a test can check more (strides, storage sharing).
    """
    torch_inputs = [clone_arg(a) for a in inputs]
    vt_inputs = [convert_arg(a) for a in torch_inputs]
    try:
        expected = fn(torch, *torch_inputs)
    except Exception as torch_exc:  # noqa: BLE001  (any torch error must be mirrored)
        cls = error_class(torch_exc)
        try:
            actual = fn(vt, *vt_inputs)
        except Exception as vt_exc:  # noqa: BLE001
            assert isinstance(vt_exc, cls), (
                f"torch raised {type(torch_exc).__name__}({torch_exc}) but vibetensor raised "
                f"{type(vt_exc).__name__}({vt_exc})")
            return torch_exc, vt_exc
        pytest.fail(f"torch raised {type(torch_exc).__name__}({str(torch_exc).splitlines()[0]}) "
                    f"but vibetensor returned {actual!r}")
    actual = fn(vt, *vt_inputs)
    assert_same(actual, expected, rtol, atol)
    if check_inputs:
        for i, (a, e) in enumerate(zip(vt_inputs, torch_inputs)):
            if isinstance(e, torch.Tensor):
                assert_same(a, e, rtol, atol, what=f"input {i} after the call")
    return actual, expected


def compare_layouts(fn, *inputs, **kwargs):
    """`compare` with every tensor input in each of its layouts (one at a time)."""
    compare(fn, *inputs, **kwargs)
    for i, x in enumerate(inputs):
        if isinstance(x, torch.Tensor):
            for name, variant in layouts(x).items():
                if name != "contiguous":
                    args = list(inputs)
                    args[i] = variant
                    compare(fn, *args, **kwargs)


def raises_like_torch(fn, *inputs):
    """Like `compare`, but the test asserts that torch does raise (guards against stale tests)."""
    result = compare(fn, *inputs)
    assert isinstance(result[0], BaseException), "torch did not raise; the test is wrong"
    return result


def run_in_child(code, timeout=120):
    """Run Python `code` (which imports vibetensor itself) in a child process, for calls whose
    failure mode is a crash (SIGFPE, SIGSEGV). Returns the CompletedProcess (text output)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)


def same_error_type(fn):
    """fn(torch) and fn(vibetensor) both raise, and vibetensor's exception is an instance of
    torch's exception class (so `except` clauses written for torch catch it)."""
    with pytest.raises(Exception) as expected:
        fn(torch)
    with pytest.raises(Exception) as actual:
        fn(vt)
    assert isinstance(actual.value, type(expected.value)), (type(actual.value), expected.value)
