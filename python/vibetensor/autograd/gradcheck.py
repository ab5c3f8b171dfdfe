"""Gradient checks by finite differences (torch.autograd.gradcheck / gradgradcheck)."""
import vibetensor as vt


class GradcheckError(RuntimeError):
    """Raised when analytical and numerical gradients disagree."""


def _differentiable_inputs(inputs):
    return [i for i, x in enumerate(inputs) if isinstance(x, vt.Tensor) and x.requires_grad]


def _flat_outputs(func, inputs):
    out = func(*inputs)
    outs = (out,) if isinstance(out, vt.Tensor) else tuple(out)
    return [o for o in outs if isinstance(o, vt.Tensor) and o.dtype.is_floating_point]


def _numerical_jacobian(func, inputs, index, eps):
    """d(flattened outputs)/d(input[index]) by central differences, one column per element."""
    x = inputs[index]
    columns = []
    flat = x.detach().reshape(-1)  # writes through to x without recording history

    def evaluate():
        # clone: an output may be a view of the input that is being perturbed.
        return [o.detach().reshape(-1).double().clone() for o in _flat_outputs(func, inputs)]

    for k in range(x.numel()):
        original = flat[k].item()
        flat[k] = original + eps
        plus = evaluate()
        flat[k] = original - eps
        minus = evaluate()
        flat[k] = original
        columns.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
    return columns  # columns[k][output] is a vector over that output's elements


def _analytical_rows(outputs, inputs, index):
    """Rows of the Jacobian from one backward per output element."""
    rows = []
    for out in outputs:
        flat_rows = []
        if not out.requires_grad:  # not differentiable: its Jacobian is zero
            rows.append([vt.zeros(inputs[index].numel(), dtype=vt.float64) for _ in range(out.numel())])
            continue
        for j in range(out.numel()):
            basis = vt.zeros(out.numel(), dtype=out.dtype)
            basis[j] = 1
            grads = vt.autograd.grad([out], [inputs[index]], [basis.reshape(out.shape)], retain_graph=True,
                                     allow_unused=True)
            g = grads[0]
            flat_rows.append(vt.zeros(inputs[index].numel(), dtype=vt.float64) if g is None
                             else g.reshape(-1).double())
        rows.append(flat_rows)
    return rows


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, **_ignored):
    """Checks the gradients of `func` at `inputs` (float64 tensors that require grad)."""
    inputs = (inputs,) if isinstance(inputs, vt.Tensor) else tuple(inputs)
    for index in _differentiable_inputs(inputs):
        numerical = _numerical_jacobian(func, inputs, index, eps)
        # Fresh outputs: the finite differences wrote into the inputs (bumping their versions).
        outputs = _flat_outputs(func, inputs)
        analytical = _analytical_rows(outputs, inputs, index)
        for o, out in enumerate(outputs):
            for j in range(out.numel()):
                for k in range(inputs[index].numel()):
                    a = analytical[o][j][k].item()
                    n = numerical[k][o][j].item()
                    if abs(a - n) > atol + rtol * abs(n):
                        message = (f"Jacobian mismatch for output {o} with respect to input {index},\n"
                                   f"numerical:{n}\nanalytical:{a}\n(at output element {j}, input element {k})")
                        if raise_exception:
                            raise GradcheckError(message)
                        return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
                  **_ignored):
    """Checks second derivatives: gradcheck of the function input -> vjp(func, input, v)."""
    inputs = (inputs,) if isinstance(inputs, vt.Tensor) else tuple(inputs)
    outputs = _flat_outputs(func, inputs)
    if grad_outputs is None:
        # Deterministic, distinct weights for the vector-Jacobian product.
        grad_outputs = [(vt.arange(o.numel(), dtype=vt.float64) / (o.numel() + 1) + 0.5).reshape(o.shape)
                        .to(dtype=o.dtype, device=o.device).requires_grad_() for o in outputs]
    differentiable = _differentiable_inputs(inputs)
    count = len(inputs)

    def first_derivative(*args):
        ins, vs = args[:count], args[count:]
        outs = _flat_outputs(func, ins)
        pairs = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
        if not pairs:
            return ()
        grads = vt.autograd.grad([o for o, _ in pairs], [ins[i] for i in differentiable], [v for _, v in pairs],
                                 create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
