"""Custom differentiable operations from Python (torch.autograd.Function)."""
from vibetensor import _C
from vibetensor._C import Tensor
from vibetensor.autograd.grad_mode import no_grad

_RELEASED = ("Trying to backward through the graph a second time (or directly access saved tensors after they have "
             "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
             "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or "
             "if you need to access saved tensors after calling backward.")


class FunctionCtx:
    """The `ctx` passed to forward and backward."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self._saved = ()
        self._saved_versions = ()
        self._released = False
        self._dirty = ()
        self._non_differentiable = ()

    def save_for_backward(self, *tensors):
        self._saved = tensors
        self._saved_versions = tuple(t._version if isinstance(t, Tensor) else None for t in tensors)

    @property
    def saved_tensors(self):
        if self._released:
            raise RuntimeError(_RELEASED)
        for tensor, version in zip(self._saved, self._saved_versions):
            if isinstance(tensor, Tensor) and tensor._version != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an inplace operation: "
                    f"[{tensor.dtype} {list(tensor.shape)}] is at version {tensor._version}; expected version "
                    f"{version} instead.")
        return self._saved

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable = tensors

    def set_materialize_grads(self, value):
        self._materialize_grads = value

    def _release_saved(self):
        self._saved = ()
        self._released = True


class Function:
    """Subclass with static `forward(ctx, *args)` and `backward(ctx, *grads)`, call `apply`."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx = FunctionCtx(needs_input_grad)
        with no_grad():
            outputs = cls.forward(ctx, *args, **kwargs)
        single = isinstance(outputs, Tensor)
        output_tuple = (outputs,) if single else tuple(outputs)
        if not (_C.is_grad_enabled() and any(needs_input_grad)):
            return outputs
        dirty = {id(t) for t in ctx._dirty}
        # An input returned unchanged becomes a new alias, so its own history stays intact.
        inputs_by_id = {id(a) for a in args if isinstance(a, Tensor)}
        output_tuple = tuple(
            o.detach() if isinstance(o, Tensor) and id(o) in inputs_by_id and id(o) not in dirty else o
            for o in output_tuple)
        saved_ids = {id(t) for t in ctx._saved if isinstance(t, Tensor)}
        _C._record_function(cls.__name__ + "Backward", ctx, lambda *a: cls.backward(*a),
                            [a if isinstance(a, Tensor) else None for a in args],
                            [o for o in output_tuple if isinstance(o, Tensor)],
                            list(ctx._non_differentiable))
        # Saved outputs would hold their own node alive (a cycle through ctx): keep their data only.
        output_ids = {id(o) for o in output_tuple}
        if saved_ids & output_ids:
            ctx._saved = tuple(t.detach() if id(t) in output_ids else t for t in ctx._saved)
        return output_tuple[0] if single else output_tuple
