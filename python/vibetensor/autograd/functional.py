"""Higher-level differentiation (torch.autograd.functional): vjp, jvp, jacobian, hessian.
Everything is built on vibetensor.autograd.grad; jvp uses the double-vjp identity, so the
function's ops need double backward."""
import vibetensor as vt
from vibetensor.autograd.grad_mode import enable_grad


def _as_tuple(value):
    if isinstance(value, vt.Tensor):
        return False, (value,)
    return True, tuple(value)


def _grad_inputs(inputs, create_graph):
    # Fresh leaves, so the caller's tensors are neither modified nor part of the graph.
    return tuple(x.detach().requires_grad_(True) for x in inputs)


def _grad_or_zeros(grads, like, create_graph):
    out = tuple(vt.zeros_like(x) if g is None else g for g, x in zip(grads, like))
    return out if create_graph else tuple(g.detach() for g in out)


def _unpack(is_tuple, values):
    return values if is_tuple else values[0]


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product at `inputs`."""
    inputs_tuple, inputs = _as_tuple(inputs)
    with enable_grad():
        inputs = _grad_inputs(inputs, create_graph)
        outputs_tuple, outputs = _as_tuple(func(*inputs))
        if v is None:
            if any(o.numel() != 1 for o in outputs):
                raise RuntimeError("The vector v can only be None if the user-provided function returns a single "
                                   "Tensor with a single element.")
            v = tuple(vt.ones_like(o) for o in outputs)
        else:
            v = _as_tuple(v)[1]
        grads = vt.autograd.grad(outputs, inputs, v, create_graph=create_graph, allow_unused=True)
    result = _grad_or_zeros(grads, inputs, create_graph)
    outputs = outputs if create_graph else tuple(o.detach() for o in outputs)
    return _unpack(outputs_tuple, outputs), _unpack(inputs_tuple, result)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product, as the vjp of a vjp."""
    inputs_tuple, inputs = _as_tuple(inputs)
    with enable_grad():
        inputs = _grad_inputs(inputs, create_graph)
        if v is None:
            if any(x.numel() != 1 for x in inputs):
                raise RuntimeError("The vector v can only be None if the input to the user-provided function is a "
                                   "single Tensor with a single element.")
            v = tuple(vt.ones_like(x) for x in inputs)
        else:
            v = _as_tuple(v)[1]
        outputs_tuple, outputs = _as_tuple(func(*inputs))
        dummies = tuple(vt.zeros_like(o).requires_grad_(True) for o in outputs)
        grads = vt.autograd.grad(outputs, inputs, dummies, create_graph=True, allow_unused=True)
        pairs = [(g, w) for g, w in zip(grads, v) if g is not None]
        if pairs:
            result = vt.autograd.grad([g for g, _ in pairs], dummies, [w for _, w in pairs],
                                      create_graph=create_graph, allow_unused=True)
        else:
            result = (None,) * len(outputs)
    result = _grad_or_zeros(result, outputs, create_graph)
    outputs = outputs if create_graph else tuple(o.detach() for o in outputs)
    return _unpack(outputs_tuple, outputs), _unpack(outputs_tuple, result)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """d func(inputs) / d inputs, with shape output.shape + input.shape for each pair."""
    if strategy != "reverse-mode":
        raise NotImplementedError("jacobian(): only strategy='reverse-mode' is supported")
    inputs_tuple, inputs = _as_tuple(inputs)
    with enable_grad():
        inputs = _grad_inputs(inputs, create_graph)
        outputs_tuple, outputs = _as_tuple(func(*inputs))
        table = []
        for out in outputs:
            rows = [[] for _ in inputs]
            flat = out.reshape(-1)
            for j in range(out.numel()):
                grads = vt.autograd.grad([flat[j]], inputs, retain_graph=True, create_graph=create_graph,
                                         allow_unused=True)
                for i, (g, x) in enumerate(zip(grads, inputs)):
                    rows[i].append(vt.zeros_like(x) if g is None else g)
            blocks = []
            for i, x in enumerate(inputs):
                stacked = _stack([r.reshape(-1) for r in rows[i]], out.numel(), x.numel(), x.dtype)
                block = stacked.reshape(tuple(out.shape) + tuple(x.shape))
                blocks.append(block if create_graph else block.detach())
            table.append(tuple(blocks))
    if not outputs_tuple and not inputs_tuple:
        return table[0][0]
    if not outputs_tuple:
        return table[0]
    if not inputs_tuple:
        return tuple(row[0] for row in table)
    return tuple(table)


def _stack(rows, count, width, dtype):
    # A [count, width] tensor from `count` rows (no stack op yet: copy them into place).
    result = vt.zeros(count, width, dtype=dtype)
    for j, row in enumerate(rows):
        result[j] = row
    return result


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar function: the Jacobian of its gradient."""
    inputs_tuple, inputs = _as_tuple(inputs)

    def gradient(*xs):
        out = func(*xs)
        if not isinstance(out, vt.Tensor) or out.numel() != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor with a single element")
        grads = vt.autograd.grad([out], xs, create_graph=True, allow_unused=True)
        return tuple(vt.zeros_like(x) if g is None else g for g, x in zip(grads, xs))

    result = jacobian(gradient, inputs, create_graph=create_graph)
    return result if inputs_tuple else result[0][0]
