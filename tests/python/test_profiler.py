"""vt.profiler: op, autograd-node and user-range events, self times, the table and the trace."""
import json

import pytest

import vibetensor as vt
from vibetensor.profiler import ProfilerActivity, profile, record_function


def test_records_each_op_call_with_its_count():
    a = vt.ones(64, 64)
    with profile() as prof:
        b = a + a
        c = vt.mm(b, b)
        c.exp()
        vt.mm(a, a)
    averages = {e.key: e for e in prof.key_averages()}
    assert averages["add"].count == 1
    assert averages["mm"].count == 2
    assert averages["exp"].count == 1
    for e in averages.values():
        assert 0 <= e.self_cpu_time_total <= e.cpu_time_total + 1e-6


def test_an_op_through_autograd_is_one_event():
    a = vt.ones(8, 8, requires_grad=True)
    with profile() as prof:
        vt.mm(a, a)
    assert [e.name for e in prof.events()] == ["mm"]


def test_nothing_is_recorded_outside_the_profiler():
    a = vt.ones(4)
    with profile() as prof:
        pass
    a + a
    assert list(prof.events()) == []


def test_self_time_excludes_nested_ops():
    """A composite op's self time leaves out the ops it calls, so self times add up to the total."""
    x = vt.randn(32, 16)
    w = vt.randn(8, 16)
    with profile() as prof:
        with record_function("my_block"):
            vt.nn.functional.linear(x, w)
    events = prof.events()
    block = next(e for e in events if e.name == "my_block")
    assert block.kind == "user"
    nested = [e for e in events if e is not block]
    assert nested and all(e.depth > block.depth for e in nested)
    assert block.cpu_children
    children_time = sum(c.cpu_time_total for c in block.cpu_children)
    assert block.self_cpu_time_total == pytest.approx(block.cpu_time_total - children_time)
    top_level = [e for e in events if e.depth == 0]
    assert sum(e.self_cpu_time_total for e in events) == pytest.approx(sum(e.cpu_time_total for e in top_level))


def test_backward_records_autograd_nodes():
    x = vt.randn(5, 3, requires_grad=True)
    loss = (x * x).sum()
    with profile() as prof:
        loss.backward()
    kinds = {e.name: e.kind for e in prof.events()}
    assert kinds.get("MulBackward0") == "autograd"
    assert kinds.get("SumBackward0") == "autograd"


def test_record_function_as_decorator():
    @record_function("step")
    def step(t):
        return t * 3

    with profile() as prof:
        step(vt.ones(2))
    names = [e.name for e in prof.events()]
    assert "step" in names and "mul" in names


def test_table_and_chrome_trace(tmp_path):
    with profile() as prof:
        vt.ones(8) * 2
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=5)
    assert "Self CPU %" in table and "mul" in table
    with pytest.raises(ValueError, match="sort_by"):
        prof.key_averages().table(sort_by="cuda_time_total")
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())
    assert any(event["name"] == "mul" and event["ph"] == "X" for event in trace["traceEvents"])


def test_misuse_raises_clear_errors():
    prof = profile()
    with pytest.raises(RuntimeError, match="no events yet"):
        prof.events()
    with profile():
        with pytest.raises(RuntimeError, match="already running"):
            profile().start()
    with pytest.raises(NotImplementedError, match="CUDA"):
        profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA])
    with pytest.raises(NotImplementedError, match="record_shapes"):
        profile(record_shapes=True)
    with pytest.raises(TypeError, match="name must be a str"):
        record_function(3)
