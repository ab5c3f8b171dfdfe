"""copy.deepcopy and pickle for tensors (and their subclasses, such as nn.Parameter).

Both copy the values into new storage. Pickle carries a numpy array (bfloat16 travels as
float32, which holds it exactly) and never code: it serves deepcopy of modules and optimizer
state and passing batches between DataLoader workers. Checkpoints use vt.save (safetensors).
"""

import numpy as np

from vibetensor import _C
from vibetensor._C import Tensor

def _rebuild(cls, array, dtype_name, requires_grad, attributes):
    values = _C.from_numpy(np.array(array, copy=True)).to(getattr(_C, dtype_name))
    if cls is Tensor:
        return values.requires_grad_(requires_grad) if requires_grad else values
    rebuilt = Tensor._make_subclass(cls, values, requires_grad)
    rebuilt.__dict__.update(attributes)
    return rebuilt

def _portable_array(tensor):
    values = tensor.detach()
    if values.dtype == _C.bfloat16:
        values = values.float()
    return values.numpy(force=True)

def _reduce_ex(self, protocol):
    dtype_name = repr(self.dtype).split(".")[-1]
    attributes = dict(getattr(self, "__dict__", {}))
    return _rebuild, (type(self), _portable_array(self), dtype_name, self.requires_grad, attributes)

def _deepcopy(self, memo):
    if id(self) in memo:
        return memo[id(self)]
    if not self.is_leaf:
        raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                           "protocol at the moment.  If you were attempting to deepcopy a module, this may be "
                           "because of a torch.nn.utils.weight_norm usage, see "
                           "https://github.com/pytorch/pytorch/pull/103001")
    import copy
    copied = self.detach().clone()
    if type(self) is not Tensor:
        copied = Tensor._make_subclass(type(self), copied, self.requires_grad)
        copied.__dict__.update(copy.deepcopy(self.__dict__, memo))
    elif self.requires_grad:
        copied.requires_grad_(True)
    if self.grad is not None:
        copied.grad = copy.deepcopy(self.grad, memo)
    memo[id(self)] = copied
    return copied

def install():
    Tensor.__reduce_ex__ = _reduce_ex
    Tensor.__deepcopy__ = _deepcopy
