"""default_collate and default_convert, as torch.utils.data._utils.collate: turn a list of
samples into a batch (collate) or a single sample's numpy arrays into tensors (convert).

`collate` walks the structure of the first sample: a type found in `collate_fn_map` is handled
by its function, mappings, namedtuples and sequences are collated field by field, anything else
raises torch's TypeError. Extend it by adding entries to `default_collate_fn_map`.
"""
import collections.abc
import copy
import re

import numpy as np

import vibetensor as vt

__all__ = ["collate", "default_collate", "default_collate_fn_map", "default_convert"]

# numpy dtype strings of bytes, unicode and object arrays: these have no tensor dtype.
np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}")


def _is_namedtuple(value):
    return isinstance(value, tuple) and hasattr(value, "_fields")


def _map_mapping(mapping, fn):
    """`mapping` with fn(key) as each value, keeping its type where the type allows it."""
    try:
        if isinstance(mapping, collections.abc.MutableMapping):
            # A clone keeps any extra attributes a mapping subclass may carry.
            clone = copy.copy(mapping)
            clone.update({key: fn(key) for key in mapping})
            return clone
        return type(mapping)({key: fn(key) for key in mapping})
    except TypeError:  # the type supports neither copy/update nor construction from a dict
        return {key: fn(key) for key in mapping}


def _map_sequence(sequence, values):
    """A sequence of `sequence`'s type holding `values`, falling back to a list."""
    try:
        if isinstance(sequence, collections.abc.MutableSequence):
            clone = copy.copy(sequence)
            for i, value in enumerate(values):
                clone[i] = value
            return clone
        return type(sequence)(values)
    except TypeError:  # e.g. range: no item assignment, no construction from a list
        return list(values)


def default_convert(data):
    """Numpy arrays and numpy scalars inside `data` become tensors; containers keep their
    structure (tuples become lists, as in torch); everything else is returned unchanged."""
    elem_type = type(data)
    if isinstance(data, vt.Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_"):
        if elem_type.__name__ == "ndarray" and np_str_obj_array_pattern.search(data.dtype.str) is not None:
            return data
        return vt.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _map_mapping(data, lambda key: default_convert(data[key]))
    if _is_namedtuple(data):
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]  # torch returns a list here (backwards compatibility)
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _map_sequence(data, [default_convert(d) for d in data])
    return data


def collate(batch, *, collate_fn_map=None):
    """Collates `batch` (a list of samples) by the type of its first sample."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _map_mapping(elem, lambda key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map))
    if _is_namedtuple(elem):
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        elem_size = len(elem)
        if not all(len(e) == elem_size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        collated = [collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return collated  # a list, as in torch (backwards compatibility)
        return _map_sequence(elem, collated)
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(batch, *, collate_fn_map=None):
    return vt.stack(batch, 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return collate([vt.as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    # Through a numpy array: vt.as_tensor of a list of numpy scalars does not keep their dtype
    # yet (a list of np.int32 gives int64, of np.float64 float32), while torch's does.
    return vt.as_tensor(np.asarray(batch))


def collate_float_fn(batch, *, collate_fn_map=None):
    return vt.tensor(batch, dtype=vt.float64)  # Python floats are doubles, as in torch


def collate_int_fn(batch, *, collate_fn_map=None):
    return vt.tensor(batch)  # int64, or bool for Python bools


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {
    vt.Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,  # memmap is a subclass
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,  # numpy's string scalars are left out
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """Stacks a list of samples into a batch: tensors and numpy arrays -> a stacked tensor,
    Python floats -> float64 tensor, ints -> int64 tensor (bools -> bool), strings and bytes ->
    the list unchanged, mappings/namedtuples/sequences -> the same structure collated field by
    field (tuples become lists, as in torch)."""
    return collate(batch, collate_fn_map=default_collate_fn_map)
