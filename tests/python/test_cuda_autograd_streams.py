"""Stream semantics of backward on CUDA, as torch defines them: each backward op runs on the
stream its forward op ran on; a gradient passed between streams, or from the caller, is waited
for; and when backward returns, the caller's current stream has waited for all of it.

The waits are tested with a slow producer: a large matrix product queued just before the
gradient is used. Without the wait the consumer reads the gradient's memory before the product
has written it. Skipped without a GPU."""
import pytest

import vibetensor as vt

pytestmark = pytest.mark.skipif(not vt.cuda.is_available(), reason="needs a CUDA device")

N = 4096  # ones(N, N) @ ones(N, N) is exactly N in every entry, and takes milliseconds


class StreamSpy(vt.autograd.Function):
    """The identity, whose backward notes the stream it runs on."""

    seen = []

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        StreamSpy.seen.append(vt.cuda.current_stream())
        return grad


def slow_full(value):
    """An N x N tensor of `value`, computed by a matrix product queued on the current stream."""
    ones = vt.ones(N, N, device="cuda")
    return (ones @ ones) * (value / N)


def test_backward_runs_on_the_forward_stream():
    side = vt.cuda.Stream()
    x = vt.ones(8, device="cuda", requires_grad=True)
    with vt.cuda.stream(side):
        y = StreamSpy.apply(x * 3)
    StreamSpy.seen.clear()
    y.sum().backward()
    assert StreamSpy.seen == [side]
    assert vt.cuda.current_stream() == vt.cuda.default_stream()
    assert x.grad.tolist() == [3.0] * 8


def test_each_branch_runs_on_its_own_stream():
    first, second = vt.cuda.Stream(), vt.cuda.Stream()
    x = vt.ones(4, device="cuda", requires_grad=True)
    with vt.cuda.stream(first):
        a = StreamSpy.apply(x * 2)
    with vt.cuda.stream(second):
        second.wait_stream(first)
        b = StreamSpy.apply(a * 5)
    StreamSpy.seen.clear()
    b.sum().backward()
    assert StreamSpy.seen == [second, first]
    assert x.grad.tolist() == [10.0] * 4


def test_forward_stream_waits_for_the_callers_gradient():
    side = vt.cuda.Stream()
    x = vt.ones(N, N, device="cuda", requires_grad=True)
    with vt.cuda.stream(side):
        y = x * 2
    vt.cuda.synchronize()
    y.backward(slow_full(1.5))  # queued on the default stream; y's backward runs on `side`
    grad = x.grad.cpu()  # the default stream, which backward made wait for `side`
    assert float(grad.min()) == 3.0 and float(grad.max()) == 3.0


def test_gradient_crossing_streams_is_waited_for():
    side = vt.cuda.Stream()
    x = vt.ones(N, N, device="cuda", requires_grad=True)
    with vt.cuda.stream(side):
        y = x * 2
    # z's backward runs on the default stream, slowly; y's on `side` must wait for it
    side_done = vt.cuda.Event()
    side_done.record(side)
    side_done.wait(vt.cuda.current_stream())
    z = SlowBackward.apply(y)
    z.sum().backward()
    grad = x.grad.cpu()
    assert float(grad.min()) == 2.0 * 7.0 and float(grad.max()) == 2.0 * 7.0


class SlowBackward(vt.autograd.Function):
    """The identity, whose gradient is 7 and comes from a slow matrix product."""

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return slow_full(7.0)


def test_accumulating_from_two_streams():
    first, second = vt.cuda.Stream(), vt.cuda.Stream()
    x = vt.ones(N, N, device="cuda", requires_grad=True)
    with vt.cuda.stream(first):
        a = SlowBackward.apply(x)
    with vt.cuda.stream(second):
        b = SlowBackward.apply(x)
    vt.cuda.synchronize()
    (a + b).sum().backward()
    grad = x.grad.cpu()
    assert float(grad.min()) == 14.0 and float(grad.max()) == 14.0


def test_default_stream_backward_stays_on_it():
    # The common case: no stream is entered, and the result is the plain one.
    x = vt.randn(64, 64, device="cuda", requires_grad=True)
    StreamSpy.seen.clear()
    StreamSpy.apply(x @ x).sum().backward()
    assert StreamSpy.seen == [vt.cuda.default_stream()]
    expected = vt.ones(64, 64, device="cuda") @ x.detach().T + x.detach().T @ vt.ones(64, 64, device="cuda")
    assert vt.allclose(x.grad, expected, rtol=1e-4, atol=1e-4)
