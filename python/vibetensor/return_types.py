"""Named tuples returned by ops with several results (`vibetensor.max(x, dim)`), like
`torch.return_types`."""
from collections import namedtuple


def _return_type(name, fields):
    cls = namedtuple(name, fields)
    cls.__module__ = "vibetensor.return_types"
    # One field per line, as torch prints them.
    cls.__repr__ = lambda self: f"vibetensor.return_types.{name}(\n" + ",\n".join(
        f"{field}={value!r}" for field, value in zip(fields, self)) + ")"
    return cls


max = _return_type("max", ["values", "indices"])  # noqa: A001
min = _return_type("min", ["values", "indices"])  # noqa: A001
sort = _return_type("sort", ["values", "indices"])
topk = _return_type("topk", ["values", "indices"])
kthvalue = _return_type("kthvalue", ["values", "indices"])
median = _return_type("median", ["values", "indices"])
nanmedian = _return_type("nanmedian", ["values", "indices"])
mode = _return_type("mode", ["values", "indices"])
cummax = _return_type("cummax", ["values", "indices"])
cummin = _return_type("cummin", ["values", "indices"])
aminmax = _return_type("aminmax", ["min", "max"])
