"""nn.Parameter and nn.Buffer: tensor subclasses that tell a Module how to register a value.

A Parameter is a leaf that shares its data's storage (`Tensor._make_subclass`), so wrapping
costs no copy and `Module.__setattr__` recognizes it by type. A Buffer only carries its
`persistent` flag to `Module.__setattr__`; modules store it like any other buffer tensor.
"""
from vibetensor import _C
from vibetensor._C import Tensor

__all__ = ["Parameter", "Buffer", "is_lazy"]


class Parameter(Tensor):
    """A tensor that is a module parameter: assigning one to a Module attribute registers it."""

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = _C.empty(0)
        return Tensor._make_subclass(cls, data, requires_grad)

    def __init__(self, *args, **kwargs):
        pass  # __new__ built the tensor; the bound Tensor.__init__ would try to build it again

    def __deepcopy__(self, memo):
        # Like torch: a fresh Parameter over cloned values; the gradient is not copied.
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(), self.requires_grad)
        memo[id(self)] = result
        return result

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__  # print(param) shows the header too, as in torch


class Buffer(Tensor):
    """A tensor that is a module buffer: `module.name = Buffer(t, persistent=False)` registers it."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = _C.empty(0)
        buffer = Tensor._make_subclass(cls, data, data.requires_grad)
        buffer.persistent = persistent
        return buffer

    def __init__(self, *args, **kwargs):
        pass


def is_lazy(param):
    """vibetensor has no lazy (uninitialized) parameters."""
    return False
