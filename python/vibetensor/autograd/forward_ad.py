"""Forward-mode automatic differentiation (torch.autograd.forward_ad): dual tensors carry a
tangent through every op, so one forward pass gives a Jacobian-vector product."""
from collections import namedtuple

from vibetensor import _C

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])

_current_level = -1


def enter_dual_level():
    global _current_level
    _current_level = _C._enter_dual_level()
    return _current_level


def exit_dual_level(*, level=None):
    global _current_level
    _C._exit_dual_level(_current_level if level is None else level)
    _current_level = -1


def make_dual(tensor, tangent, *, level=None):
    """A view of `tensor` whose tangent is `tangent` (inside a dual_level)."""
    if _current_level < 0 and level is None:
        raise RuntimeError("To create a dual tensor, you must first enter a dual level with `with dual_level():`")
    return _C._make_dual(tensor, tangent, _current_level if level is None else level)


def unpack_dual(tensor, *, level=None):
    """(primal, tangent); tangent is None for a tensor that is not dual."""
    primal, tangent = _C._unpack_dual(tensor)
    return UnpackedDualTensor(primal, tangent)


class dual_level:
    """`with dual_level():` scopes the tangents made inside it."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()
        return False
