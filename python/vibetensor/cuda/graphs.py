"""CUDA graphs, as torch.cuda's: capture the kernels a stretch of code queues once, replay them
with one launch. Tensors allocated during the capture live in the graph's private memory pool;
replays write to the same addresses, so read a graph's outputs from the tensors the capture
produced, and feed it new inputs by copying into the tensors it captured reading from."""
import gc

from vibetensor import _C


def graph_pool_handle():
    """An id for a memory pool that several graphs may share (pass it as `pool=`)."""
    return _C._cuda_graph_pool_handle()


def is_current_stream_capturing():
    return _C._cuda_is_current_stream_capturing()


class CUDAGraph:
    def __init__(self):
        self._graph = _C._CudaGraph()

    def capture_begin(self, pool=None, capture_error_mode="global"):
        if capture_error_mode != "global":
            raise ValueError(f"CUDAGraph.capture_begin(): only capture_error_mode='global' is supported, got "
                             f"{capture_error_mode!r}")
        self._graph.capture_begin(0 if pool is None else pool)

    def capture_end(self):
        self._graph.capture_end()

    def replay(self):
        self._graph.replay()

    def reset(self):
        self._graph.reset()

    def pool(self):
        return self._graph.pool()


class graph:
    """`with vibetensor.cuda.graph(g):` captures the block into `g` on a side stream (or
    `stream`), after waiting for the work queued so far. On an error inside the block the capture
    is ended and dropped, and the error propagates.

    As in torch, every capture without `stream` uses one side stream per device: the backward of
    a captured forward runs on the forward's stream, which is then the capturing one again."""

    default_capture_streams = {}  # device index -> the side stream captures use by default

    def __init__(self, cuda_graph, pool=None, stream=None, capture_error_mode="global"):
        from vibetensor import cuda
        self.cuda_graph = cuda_graph
        self.pool = pool
        self.capture_error_mode = capture_error_mode
        if stream is None:
            device = cuda.current_device()
            if device not in graph.default_capture_streams:
                graph.default_capture_streams[device] = cuda.Stream()
            stream = graph.default_capture_streams[device]
        self.capture_stream = stream
        self._stream_context = None

    def __enter__(self):
        from vibetensor import cuda
        cuda.synchronize()
        gc.collect()  # tensors awaiting collection free their memory now, not into the capture
        cuda.empty_cache()
        self._stream_context = cuda.stream(self.capture_stream)
        self._stream_context.__enter__()
        try:
            self.cuda_graph.capture_begin(self.pool, capture_error_mode=self.capture_error_mode)
        except BaseException:
            self._stream_context.__exit__(None, None, None)
            raise

    def __exit__(self, exc_type, exc, tb):
        try:
            try:
                self.cuda_graph.capture_end()
            except RuntimeError:
                if exc_type is None:
                    raise
                self.cuda_graph.reset()  # the block's own error is the one to report
        finally:
            self._stream_context.__exit__(None, None, None)
        return False


def make_graphed_callables(callables, sample_args, num_warmup_iters=3, allow_unused_input=False, pool=None):
    """Graphed versions of callables (functions or Modules), as torch.cuda.make_graphed_callables:
    each one's forward and backward are captured into two graphs, replayed by an autograd
    Function. Inputs must keep the sample's shapes, dtypes and devices; a Module's parameters
    are inputs too, and their gradients accumulate into `.grad` as usual.

    `callables` is one callable or a tuple; `sample_args` a tuple of its tensor arguments (a
    tuple of such tuples for several callables)."""
    from vibetensor import nn
    single = not isinstance(callables, tuple)
    if single:
        callables, sample_args = (callables,), (sample_args,)
    graphed = []
    shared_pool = graph_pool_handle() if pool is None else pool
    for fn, args in zip(callables, sample_args):
        if isinstance(fn, nn.Module) and any(b.requires_grad for b in fn.buffers()):
            raise RuntimeError("make_graphed_callables(): a module's buffers must not require grad")
        params = tuple(fn.parameters()) if isinstance(fn, nn.Module) else ()
        graphed.append(_graph_one(fn, tuple(args), params, num_warmup_iters, allow_unused_input, shared_pool))
    return graphed[0] if single else tuple(graphed)


def _graph_one(fn, args, params, num_warmup_iters, allow_unused_input, pool):
    from vibetensor import autograd, cuda, nn
    inputs = args + params
    grad_inputs = tuple(i for i in inputs if i.requires_grad)

    def run_forward():
        out = fn(*args)
        return (out,) if not isinstance(out, (tuple, list)) else tuple(out)

    def run_backward(outputs, grad_outputs):
        needing = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
        return autograd.grad([o for o, _ in needing], grad_inputs, [g for _, g in needing],
                             allow_unused=allow_unused_input)

    # Warm-up on a side stream: lazy initialization (workspaces, caches) happens before capture.
    side = cuda.Stream()
    side.wait_stream(cuda.current_stream())
    with cuda.stream(side):
        for _ in range(num_warmup_iters):
            outputs = run_forward()
            run_backward(outputs, [o.new_ones(o.shape) if o.requires_grad else None for o in outputs])
        del outputs
    cuda.current_stream().wait_stream(side)

    forward_graph, backward_graph = CUDAGraph(), CUDAGraph()
    with graph(forward_graph, pool=pool):
        static_outputs = run_forward()
    static_grad_outputs = [o.new_zeros(o.shape) if o.requires_grad else None for o in static_outputs]
    with graph(backward_graph, pool=pool):
        static_grad_inputs = run_backward(static_outputs, static_grad_outputs)
    # One slot per input, None where no gradient flows.
    grads_by_input = iter(static_grad_inputs)
    static_grads = tuple(next(grads_by_input) if i.requires_grad else None for i in inputs)

    class Graphed(autograd.Function):
        @staticmethod
        def forward(ctx, *user_inputs):
            for static, given in zip(inputs, user_inputs):
                if static.data_ptr() != given.data_ptr():
                    static.copy_(given)
            forward_graph.replay()
            return tuple(o.detach() for o in static_outputs)

        @staticmethod
        def backward(ctx, *grads):
            for static, given in zip(static_grad_outputs, grads):
                if static is not None and given is not None and static.data_ptr() != given.data_ptr():
                    static.copy_(given)
            backward_graph.replay()
            return tuple(g.detach() if g is not None else None for g in static_grads)

    def graphed_call(*user_args):
        if len(user_args) != len(args):
            raise TypeError(f"graphed callable: expected {len(args)} arguments, got {len(user_args)}")
        out = Graphed.apply(*(tuple(user_args) + params))
        return out[0] if len(out) == 1 else out

    if isinstance(fn, nn.Module):
        fn.forward = graphed_call
        return fn
    return graphed_call
