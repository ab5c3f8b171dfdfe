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
