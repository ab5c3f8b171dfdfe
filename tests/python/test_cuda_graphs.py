"""CUDA graphs: capture and replay, private and shared memory pools, the errors of an illegal
capture, and a captured training step of a small MLP that must leave bit-identical parameters
to the same steps run eagerly. Skipped without a GPU."""
import pytest

import vibetensor as vt

cuda = pytest.mark.skipif(not vt.cuda.is_available(), reason="needs a CUDA device")


@cuda
def test_replay_recomputes_from_the_captured_inputs():
    x = vt.zeros(1000).cuda()
    g = vt.cuda.CUDAGraph()
    with vt.cuda.graph(g):
        y = vt.exp(x * 2.0) + 1.0
    for value in (0.5, -1.0, 3.0):
        x.copy_(vt.full((1000,), value))
        g.replay()
        expected = vt.exp(vt.full((1000,), value) * 2.0) + 1.0
        assert y.cpu().tolist() == expected.tolist()


@cuda
def test_capture_runs_nothing_until_replayed():
    x = vt.ones(10).cuda()
    out = vt.zeros(10).cuda()
    g = vt.cuda.CUDAGraph()
    with vt.cuda.graph(g):
        out.copy_(x * 5.0)
    assert out.cpu().tolist() == [0.0] * 10
    g.replay()
    assert out.cpu().tolist() == [5.0] * 10


@cuda
def test_graphs_can_share_a_pool():
    pool = vt.cuda.graph_pool_handle()
    x = vt.arange(100, dtype=vt.float32).cuda()
    g1, g2 = vt.cuda.CUDAGraph(), vt.cuda.CUDAGraph()
    with vt.cuda.graph(g1, pool=pool):
        a = x + 1.0
    with vt.cuda.graph(g2, pool=pool):
        b = a * 2.0
    assert g1.pool() == g2.pool() == pool
    g1.replay()
    g2.replay()
    assert b.cpu().tolist() == [(i + 1.0) * 2.0 for i in range(100)]
    g1.reset()
    g2.reset()


@cuda
def test_the_pool_is_private_while_the_graph_lives():
    """Memory the capture allocated is not handed to tensors made after it."""
    g = vt.cuda.CUDAGraph()
    x = vt.ones(1 << 16).cuda()
    with vt.cuda.graph(g):
        temp = x * 3.0
        y = temp + 1.0
        del temp  # freed inside the capture: stays in the graph's pool
    fresh = [vt.zeros(1 << 16).cuda() for _ in range(8)]
    g.replay()
    assert all(set(t.cpu().tolist()) == {0.0} for t in fresh)  # the replay wrote none of them
    assert set(y.cpu().tolist()) == {4.0}


@cuda
def test_illegal_operations_raise_a_clear_error_and_leave_the_device_usable():
    x = vt.ones(10).cuda()
    g = vt.cuda.CUDAGraph()
    with pytest.raises(RuntimeError, match="capture"):
        with vt.cuda.graph(g):
            y = x * 2.0
            y.cpu()  # a copy to pageable host memory waits for the stream: not capturable
    assert not vt.cuda.is_current_stream_capturing()
    assert (x * 3.0).cpu().tolist() == [3.0] * 10


@cuda
def test_capture_on_the_default_stream_is_refused():
    g = vt.cuda.CUDAGraph()
    with pytest.raises(RuntimeError, match="non-default stream"):
        g.capture_begin()
    with pytest.raises(RuntimeError, match="nothing was captured"):
        g.replay()


@cuda
def test_a_backward_captured_on_another_stream_keeps_its_memory_in_the_pool():
    # The backward's nodes run on the forward's capture stream, which so joins the backward's
    # capture: their temporaries must come from the graph's pool, or memory handed out later
    # on that stream would be overwritten by every replay.
    forward_stream, backward_stream = vt.cuda.Stream(), vt.cuda.Stream()
    x = vt.zeros(64, 64, device="cuda", requires_grad=True)
    forward_graph, backward_graph = vt.cuda.CUDAGraph(), vt.cuda.CUDAGraph()
    with vt.cuda.graph(forward_graph, stream=forward_stream):
        y = (x.exp() * 3.0).sum()
    with vt.cuda.graph(backward_graph, stream=backward_stream):
        (grad,) = vt.autograd.grad(y, [x])
    with vt.cuda.stream(forward_stream):
        bystanders = [vt.full((64, 64), 7.0, device="cuda") for _ in range(8)]
    vt.cuda.synchronize()
    for value in (0.5, -1.0):
        with vt.no_grad():
            x.copy_(vt.full((64, 64), value))
        forward_graph.replay()
        backward_graph.replay()
        vt.cuda.synchronize()
        assert vt.allclose(grad.cpu(), vt.full((64, 64), 3.0) * vt.exp(vt.tensor(value)))
        assert all(set(t.cpu().flatten().tolist()) == {7.0} for t in bystanders)


def mlp_parameters():
    vt.manual_seed(0)
    shapes = [(32, 64), (64,), (64, 10), (10,)]
    return [(vt.randn(*s) * 0.1).cuda().requires_grad_() for s in shapes]


def train_step(params, x, y, lr=0.05):
    w1, b1, w2, b2 = params
    out = vt.relu(x @ w1 + b1) @ w2 + b2
    loss = ((out - y) ** 2).mean()
    loss.backward()
    with vt.no_grad():
        for p in params:
            p.sub_(p.grad * lr)
    return loss


@cuda
def test_a_captured_training_step_matches_eager_bit_for_bit():
    vt.manual_seed(1)
    batches = [(vt.randn(16, 32).cuda(), vt.randn(16, 10).cuda()) for _ in range(6)]
    warmup = 2

    eager = mlp_parameters()
    for x, y in batches:
        for p in eager:
            p.grad = None
        train_step(eager, x, y)

    graphed = mlp_parameters()
    side = vt.cuda.Stream()
    side.wait_stream(vt.cuda.current_stream())
    with vt.cuda.stream(side):
        for x, y in batches[:warmup]:
            for p in graphed:
                p.grad = None
            train_step(graphed, x, y)
    vt.cuda.current_stream().wait_stream(side)
    static_x, static_y = vt.zeros(16, 32).cuda(), vt.zeros(16, 10).cuda()
    for p in graphed:
        p.grad = None
    g = vt.cuda.CUDAGraph()
    with vt.cuda.graph(g):
        train_step(graphed, static_x, static_y)
    for x, y in batches[warmup:]:
        static_x.copy_(x)
        static_y.copy_(y)
        g.replay()
    vt.cuda.synchronize()
    for e, p in zip(eager, graphed):
        assert e.detach().cpu().tolist() == p.detach().cpu().tolist()


def adam_training(optimizer_class):
    """A small MLP, its optimizer (capturable) and one eager step function on given tensors."""
    vt.manual_seed(3)
    model = vt.nn.Sequential(vt.nn.Linear(32, 64), vt.nn.ReLU(), vt.nn.Linear(64, 10)).cuda()
    optimizer = optimizer_class(model.parameters(), lr=0.01, capturable=True)

    def step(x, y):
        loss = vt.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()

    return model, optimizer, step


@cuda
@pytest.mark.parametrize("optimizer_class", [vt.optim.Adam, vt.optim.AdamW, vt.optim.RMSprop])
def test_a_captured_step_of_a_capturable_optimizer_matches_eager_bit_for_bit(optimizer_class):
    # torch's whole-network capture recipe: warm up on a side stream, capture forward, backward
    # and the optimizer's step, then replay on new data. The step counts live on the device.
    vt.manual_seed(4)
    batches = [(vt.randn(16, 32).cuda(), vt.randn(16, 10).cuda()) for _ in range(7)]
    warmup = 3

    eager_model, eager_optimizer, eager_step = adam_training(optimizer_class)
    for x, y in batches:
        eager_optimizer.zero_grad(set_to_none=True)
        eager_step(x, y)

    model, optimizer, step = adam_training(optimizer_class)
    side = vt.cuda.Stream()
    side.wait_stream(vt.cuda.current_stream())
    with vt.cuda.stream(side):
        for x, y in batches[:warmup]:
            optimizer.zero_grad(set_to_none=True)
            step(x, y)
    vt.cuda.current_stream().wait_stream(side)
    static_x, static_y = vt.zeros(16, 32).cuda(), vt.zeros(16, 10).cuda()
    optimizer.zero_grad(set_to_none=True)
    g = vt.cuda.CUDAGraph()
    with vt.cuda.graph(g):
        step(static_x, static_y)
    for x, y in batches[warmup:]:
        static_x.copy_(x)
        static_y.copy_(y)
        g.replay()
    vt.cuda.synchronize()
    assert all(state["step"].device.type == "cuda" for state in optimizer.state.values())
    assert float(next(iter(optimizer.state.values()))["step"]) == len(batches)
    for e, p in zip(eager_model.parameters(), model.parameters()):
        assert e.detach().cpu().tolist() == p.detach().cpu().tolist()


@cuda
def test_capturing_a_step_that_is_not_capturable_is_refused():
    model = vt.nn.Linear(4, 4).cuda()
    optimizer = vt.optim.Adam(model.parameters())
    model(vt.ones(2, 4).cuda()).sum().backward()
    side = vt.cuda.Stream()
    with vt.cuda.stream(side):
        optimizer.step()  # warm-up: the state exists before the capture
    vt.cuda.synchronize()
    g = vt.cuda.CUDAGraph()
    with pytest.raises(RuntimeError, match="capturable is False"):
        with vt.cuda.graph(g):
            optimizer.step()
    assert not vt.cuda.is_current_stream_capturing()


@cuda
def test_make_graphed_callables_gives_the_eager_outputs_and_gradients():
    vt.manual_seed(2)
    eager = vt.nn.Sequential(vt.nn.Linear(32, 64), vt.nn.ReLU(), vt.nn.Linear(64, 8)).cuda()
    vt.manual_seed(2)
    module = vt.nn.Sequential(vt.nn.Linear(32, 64), vt.nn.ReLU(), vt.nn.Linear(64, 8)).cuda()
    sample = vt.randn(16, 32).cuda().requires_grad_()
    graphed = vt.cuda.make_graphed_callables(module, (sample,))
    for step in range(3):
        x = vt.randn(16, 32).cuda().requires_grad_()
        x_eager = x.detach().clone().requires_grad_()
        out, out_eager = graphed(x), eager(x_eager)
        assert out.cpu().tolist() == out_eager.detach().cpu().tolist()
        grad = vt.randn(16, 8).cuda()
        out.backward(grad)
        out_eager.backward(grad)
        assert x.grad.cpu().tolist() == x_eager.grad.cpu().tolist()
        for p, q in zip(module.parameters(), eager.parameters()):
            assert p.grad.cpu().tolist() == q.grad.cpu().tolist()


@cuda
def test_make_graphed_callables_checks_its_arguments():
    fn = vt.cuda.make_graphed_callables(lambda x: x * 2.0, (vt.ones(4).cuda().requires_grad_(),))
    with pytest.raises(TypeError, match="expected 1 arguments"):
        fn(vt.ones(4).cuda(), vt.ones(4).cuda())
