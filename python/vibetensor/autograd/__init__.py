"""vibetensor.autograd: reverse-mode automatic differentiation (the engine is C++)."""
from vibetensor import _C
from vibetensor.autograd.function import Function, FunctionCtx
from vibetensor.autograd.grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from vibetensor.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
from vibetensor.autograd import forward_ad, functional


def _as_list(value):
    if value is None:
        return None
    return [value] if isinstance(value, _C.Tensor) else list(value)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulates the gradients of `tensors` into the .grad of the leaves (or of `inputs`)."""
    _C._backward(_as_list(tensors), _as_list(grad_tensors), retain_graph, create_graph, _as_list(inputs))


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         materialize_grads=False):
    """Returns the gradients of `outputs` with respect to `inputs`, without touching .grad."""
    result = _C._grad(_as_list(outputs), _as_list(inputs), _as_list(grad_outputs), retain_graph, create_graph,
                      bool(allow_unused) or materialize_grads)
    if materialize_grads:
        import vibetensor as vt
        result = tuple(vt.zeros_like(i) if g is None else g for g, i in zip(result, _as_list(inputs)))
    return result
