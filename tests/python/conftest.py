"""pytest configuration shared by the suite.

An expected failure (a test marked xfail, statically or with request.applymarker) reports only its
reason, but pytest still formats the traceback of its exception in full, parsing the source of
every file on the way (torch/nn/functional.py included): a second per xfail, most of the suite's
run time. Their tracebacks are formatted in the "line" style instead, which reads no source.
Tests without an xfail marker keep the configured style.

With VT_TEST_DEVICE=cuda (tests/python/helpers.py), a test that stops at an op without a CUDA
kernel, or at a dtype that torch's CUDA kernels refuse as well ("addmm_cuda" not implemented for
'Int'), is reported as an expected failure naming it, so the run counts what is missing; any
other failure stays a failure.

Every test starts from the same random state, so statistical checks (dropout rates, samplers)
see the same draws whatever ran before them: unseeded, a new test order once failed one
(14 of 20 channels dropped at p=0.4).

VT_TEST_SHARD=K/N keeps every N-th collected test starting at the K-th (0-based), so N
processes can share a long run (scripts/gpu.sh splits the GPU op sweep this way).
"""
import os

import pytest
import torch

import vibetensor as vt
from helpers import TEST_DEVICE


def pytest_collection_modifyitems(config, items):
    shard = os.environ.get("VT_TEST_SHARD")
    if not shard:
        return
    index, count = (int(part) for part in shard.split("/"))
    if not 0 <= index < count:
        raise pytest.UsageError(f"VT_TEST_SHARD={shard}: want K/N with 0 <= K < N")
    keep = items[index::count]
    config.hook.pytest_deselected(items=[item for i, item in enumerate(items) if i % count != index])
    items[:] = keep


def pytest_configure(config):
    # The differential suites on CUDA compare with torch on the CPU in full float32: cuDNN's
    # TF32 convolutions (on by default, as in torch) differ from it by up to 1e-3 relative per
    # product. (Matrix products leave TF32 off by default already.) The CUDA conv tests turn
    # it on where they test it.
    if TEST_DEVICE == "cuda":
        vt.backends.cudnn.allow_tf32 = False


@pytest.fixture(autouse=True)
def seeded_generators():
    vt.manual_seed(0)
    torch.manual_seed(0)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    if call.excinfo is None or item.get_closest_marker("xfail") is None:
        return (yield)
    option = item.config.option
    saved = getattr(option, "tbstyle", "auto")
    option.tbstyle = "line"
    try:
        return (yield)
    finally:
        option.tbstyle = saved


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    try:
        return (yield)
    except Exception as exc:  # noqa: BLE001
        if TEST_DEVICE != "cpu":
            message = str(exc)
            if f"' with arguments from the '{TEST_DEVICE.upper()}' backend" in message:
                op = message.split("Could not run '", 1)[-1].split("'", 1)[0]
                pytest.xfail(f"no {TEST_DEVICE.upper()} kernel for {op}")
            if f'_{TEST_DEVICE}" not implemented for' in message:
                # A dtype torch's own CUDA kernels refuse too (integer matmul); torch on the
                # CPU, the reference here, serves it.
                pytest.xfail(message.split("\n")[0][-120:])
        raise
