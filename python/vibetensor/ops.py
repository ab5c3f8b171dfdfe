"""Introspection of the op registry: every op the C++ dispatcher knows, with its schema."""
from vibetensor import _C


def list_ops():
    """Names of all registered ops (`add`, `add_`, `add.out`, ...), sorted."""
    return _C._registered_ops()


def schema(name):
    """The schema string of an op, e.g. `add(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor`."""
    return _C._op_schema(name)


def dispatch_keys(name):
    """The dispatch keys (`CPU`, `CUDA`, `Autograd`, `Fallback`) that have a kernel for the op."""
    return _C._op_dispatch_keys(name)
