"""Hook plumbing for Module: RemovableHandle (torch.utils.hooks.RemovableHandle) and the
identity autograd functions that let full backward hooks see a module's gradients.

Full backward hooks work as in torch: the module's tensor inputs and outputs are passed
through an identity Function, so autograd calls us back once with the gradients of the
outputs (grad_output, where backward pre-hooks run) and once with the gradients of the
inputs (grad_input, where backward hooks run and may replace them).
"""
import weakref
from collections import OrderedDict

from vibetensor._C import Tensor
from vibetensor.autograd.function import Function

__all__ = ["RemovableHandle", "BackwardHook"]


class RemovableHandle:
    """Removes one hook (by id) from the dicts it was registered in."""

    next_id = 0

    def __init__(self, hooks_dict, *, extra_dict=None):
        # Weak references, so a handle kept by the user does not keep a dead module alive.
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        if isinstance(extra_dict, dict):
            extra_dict = [extra_dict]
        self.extra_dict_ref = tuple(weakref.ref(d) for d in (extra_dict or ()))

    def remove(self):
        for ref in (self.hooks_dict_ref, *self.extra_dict_ref):
            hooks = ref()
            if hooks is not None and self.id in hooks:
                del hooks[self.id]

    def __getstate__(self):
        return (self.hooks_dict_ref(), self.id, tuple(ref() for ref in self.extra_dict_ref))

    def __setstate__(self, state):
        hooks, self.id, extras = state
        self.hooks_dict_ref = weakref.ref(OrderedDict() if hooks is None else hooks)
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extras if d is not None)
        RemovableHandle.next_id = max(RemovableHandle.next_id, self.id + 1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class _HookedIdentity(Function):
    """Returns its tensors unchanged; its backward hands their gradients to `on_grads`."""

    @staticmethod
    def forward(ctx, on_grads, *tensors):
        ctx.on_grads = on_grads
        return tuple(tensors)

    @staticmethod
    def backward(ctx, *grads):
        return (None, *ctx.on_grads(grads))


class BackwardHook:
    """One forward call's worth of backward-hook state (torch.utils.hooks.BackwardHook)."""

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs = None
        self.n_inputs = 0
        self.input_positions = None  # positions of the hooked tensors among the inputs

    @staticmethod
    def _wrap(values, on_grads):
        """Route the tensors of `values` that require grad through _HookedIdentity."""
        positions = [i for i, v in enumerate(values) if isinstance(v, Tensor) and v.requires_grad]
        if not positions:
            return values, None
        aliases = _HookedIdentity.apply(on_grads, *(values[i] for i in positions))
        values = list(values)
        for i, alias in zip(positions, aliases):
            values[i] = alias
        return tuple(values), positions

    def setup_input_hook(self, args):
        self.n_inputs = len(args)
        args, self.input_positions = self._wrap(tuple(args), self._on_grad_inputs)
        return args

    def setup_output_hook(self, result):
        single = isinstance(result, Tensor)
        outputs = (result,) if single else result
        if not isinstance(outputs, tuple):
            return result
        outputs, positions = self._wrap(outputs, self._on_grad_outputs)
        self.n_outputs = len(outputs)
        self.output_positions = positions
        return outputs[0] if single else outputs

    def _on_grad_outputs(self, grads):
        grad_outputs = [None] * self.n_outputs
        for i, grad in zip(self.output_positions, grads):
            grad_outputs[i] = grad
        grad_outputs = tuple(grad_outputs)
        for hook in self.user_pre_hooks:
            replaced = hook(self.module, grad_outputs)
            if replaced is not None:
                grad_outputs = self._checked(replaced, len(grad_outputs),
                                             "Backward pre hook returned an invalid number of grad_output")
        self.grad_outputs = grad_outputs
        if self.input_positions is None:
            # No input requires grad: torch still calls the hooks, with grad_input all None.
            self._run_hooks((None,) * self.n_inputs)
        return tuple(grad_outputs[i] for i in self.output_positions)

    def _on_grad_inputs(self, grads):
        grad_inputs = [None] * self.n_inputs
        for i, grad in zip(self.input_positions, grads):
            grad_inputs[i] = grad
        grad_inputs = self._run_hooks(tuple(grad_inputs))
        return tuple(grad_inputs[i] for i in self.input_positions)

    def _run_hooks(self, grad_inputs):
        for hook in self.user_hooks:
            replaced = hook(self.module, grad_inputs, self.grad_outputs)
            if replaced is not None:
                grad_inputs = self._checked(replaced, len(grad_inputs),
                                            "Backward hook returned an invalid number of grad_input")
        return grad_inputs

    @staticmethod
    def _checked(values, expected, what):
        """A hook's replacement gradients, which must be as many as the ones it was given."""
        values = (values,) if isinstance(values, Tensor) else tuple(values)
        if len(values) != expected:
            raise RuntimeError(f"{what}, got {len(values)}, but expected {expected}")
        return values
