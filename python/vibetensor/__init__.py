"""vibetensor: a PyTorch-style eager tensor library with a C++20 core.

`import vibetensor as torch` is the goal: names, signatures and behaviour follow PyTorch.
Everything here is bound directly from C++ (`vibetensor._C`); this file only gathers names.
"""
from vibetensor import _C
from vibetensor._C import *  # noqa: F401,F403  (Tensor, dtypes, device, ops)
from vibetensor._C import Tensor, dtype, device
# The fused optimizer steps, under torch's names (torch._fused_adam_ ...); vibetensor.optim calls them.
from vibetensor._C import _foreach_add_, _fused_adagrad_, _fused_adam_, _fused_adamw_, _fused_rmsprop_, _fused_sgd_  # noqa: F401,E501
from vibetensor import return_types, ops, cuda, autograd, nn, linalg, optim, profiler, utils, backends, amp
from vibetensor.amp import autocast
from vibetensor.autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from vibetensor._tensor_str import set_printoptions, tensor_repr as _tensor_repr
from vibetensor.serialization import load, save
from vibetensor.utils.dlpack import from_dlpack

__version__ = "0.1.0"


class Size(tuple):
    """The shape of a tensor: a tuple of ints, printed as `vibetensor.Size([2, 3])`."""

    def __repr__(self):
        return f"vibetensor.Size({list(self)})"

    def numel(self):
        count = 1
        for size in self:
            count *= size
        return count


_C._set_size_type(Size)
Tensor.__repr__ = _tensor_repr
Tensor.__str__ = _tensor_repr
Tensor.__iter__ = lambda self: (self[i] for i in range(len(self)))
Tensor.__array_priority__ = 1000  # numpy defers `ndarray + tensor` to Tensor.__radd__


def numel(input):
    return input.numel()


# torch.float32 etc. come from _C; these are torch's other spellings.
float32, float64, float16, bfloat16 = _C.float32, _C.float64, _C.float16, _C.bfloat16
uint8, int8, int16, int32, int64 = _C.uint8, _C.int8, _C.int16, _C.int32, _C.int64
bool = _C.bool  # noqa: A001  (shadows the builtin inside this module, as torch.bool does)


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    if out is not None:
        raise NotImplementedError("norm(): out= is not supported yet")
    return linalg._tensor_norm(input, p, dim, keepdim, dtype)


Tensor.norm = lambda self, p="fro", dim=None, keepdim=False, dtype=None: linalg._tensor_norm(self, p, dim, keepdim, dtype)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element of `input` is close to `other`'s (see isclose), as a Python bool."""
    return isclose(input, other, rtol=rtol, atol=atol, equal_nan=equal_nan).all().item()


def equal(input, other):
    """Whether both tensors have the same shape and equal elements (NaN equals nothing)."""
    return tuple(input.shape) == tuple(other.shape) and eq(input, other).all().item()


Tensor.allclose = allclose
Tensor.equal = equal


from vibetensor import _tensor_copy  # noqa: E402

_tensor_copy.install()

# ---- creation helpers and Tensor methods written in Python
from vibetensor._creation import as_tensor, linspace, logspace  # noqa: E402
from vibetensor import _creation  # noqa: E402

for _name in ("new_empty", "new_zeros", "new_ones", "new_full", "new_tensor"):
    setattr(Tensor, _name, getattr(_creation, _name))


def compile(model=None, *, fullgraph=False, dynamic=None, backend=None, mode=None, options=None, name=None,  # noqa: A001
            disable=False, recompile_limit=None, isolate_recompiles=False, shapes_spec=None):
    """vibetensor has no graph compiler: compile returns the model or function unchanged (it
    runs eagerly), so scripts that call torch.compile still run. Works as a decorator too."""
    if model is None:
        return lambda fn: fn
    return model


_float32_matmul_precision = "highest"


def set_float32_matmul_precision(precision):
    """'high' and 'medium' let float32 products on CUDA use TF32 (as
    backends.cuda.matmul.allow_tf32 = True does), 'highest' does not; CPU products are always
    full float32."""
    global _float32_matmul_precision
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"Invalid precision {precision!r}: expected 'highest', 'high' or 'medium'")
    _float32_matmul_precision = precision
    _C._set_cublas_allow_tf32(precision != "highest")


def get_float32_matmul_precision():
    # One setting with backends.cuda.matmul.allow_tf32, as in torch.
    if not _C._get_cublas_allow_tf32():
        return "highest"
    return "high" if _float32_matmul_precision == "highest" else _float32_matmul_precision
