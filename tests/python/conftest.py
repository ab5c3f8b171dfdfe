"""pytest configuration shared by the suite.

An expected failure (a test marked xfail, statically or with request.applymarker) reports only its
reason, but pytest still formats the traceback of its exception in full, parsing the source of
every file on the way (torch/nn/functional.py included): a second per xfail, most of the suite's
run time. Their tracebacks are formatted in the "line" style instead, which reads no source.
Tests without an xfail marker keep the configured style.

Every test starts from the same random state, so statistical checks (dropout rates, samplers)
see the same draws whatever ran before them: unseeded, a new test order once failed one
(14 of 20 channels dropped at p=0.4).
"""
import pytest
import torch

import vibetensor as vt


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
