"""vt.save and vt.load: checkpoints as safetensors files, never pickle.

A checkpoint holds a tensor or a nested structure (dicts with string keys, lists, tuples,
numbers, strings, booleans, None) of them. The tensors are stored as safetensors entries
named by their path in the structure (`model.fc.weight`, `optimizer.state.0.exp_avg`), so a
plain state dict saved here is exactly what `safetensors.torch.load_file` hands to a PyTorch
model's `load_state_dict`. The structure itself (everything that is not a tensor) is JSON
kept in the file's `__metadata__` under "vibetensor.structure": one self-contained file,
which the safetensors library and PyTorch read as they read any other.

The file format is vibetensor.safetensors (C++): loading checks the header defensively (sizes,
offsets, dtypes, shapes, duplicate keys, UTF-8, nesting) so a corrupt, truncated or hostile
file raises `CheckpointError` (a ValueError) naming the problem, and can run no code.
"""
import json
import math
import os

from vibetensor import safetensors
from vibetensor._C import Tensor

__all__ = ["save", "load", "CheckpointError"]

STRUCTURE_KEY = "vibetensor.structure"
MAX_NESTING = 64


class CheckpointError(ValueError):
    """A file that is not a valid vibetensor/safetensors checkpoint."""


# ---- the structure

def _flatten(obj, path, tensors, seen, depth=0):
    """The JSON description of `obj`; tensors are collected into `tensors` by path."""
    if depth > MAX_NESTING:
        raise ValueError(f"save(): the object is nested deeper than {MAX_NESTING} levels")
    if isinstance(obj, Tensor):
        if id(obj) in seen:  # the same tensor twice (tied weights): stored once
            return {"tensor": seen[id(obj)]}
        name = path or "tensor"
        while name in tensors:  # dict keys with dots can spell the same path twice
            name += "_"
        tensors[name] = obj
        seen[id(obj)] = name
        return {"tensor": name}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        if isinstance(obj, float) and not math.isfinite(obj):
            return {"float": repr(obj)}  # JSON has no inf/nan
        return {"value": obj}
    if isinstance(obj, dict):
        for key in obj:
            if not isinstance(key, (str, int)):
                raise TypeError(f"save(): dict keys must be str or int, got {type(key).__name__} at '{path}'")
        return {"dict": [[key, _flatten(value, f"{path}.{key}" if path else str(key), tensors, seen, depth + 1)]
                         for key, value in obj.items()]}
    if isinstance(obj, (list, tuple)):
        items = [_flatten(value, f"{path}.{i}" if path else str(i), tensors, seen, depth + 1)
                 for i, value in enumerate(obj)]
        return {"tuple" if isinstance(obj, tuple) else "list": items}
    raise TypeError(f"save(): cannot store an object of type {type(obj).__name__} at '{path or '<root>'}' "
                    "(checkpoints hold tensors, numbers, strings, None and dicts/lists/tuples of them)")


def _unflatten(node, tensors, depth=0):
    if depth > MAX_NESTING or not isinstance(node, dict) or len(node) != 1:
        raise CheckpointError("load(): the checkpoint's structure metadata is malformed")
    (kind, value), = node.items()
    if kind == "tensor":
        if value not in tensors:
            raise CheckpointError(f"load(): the structure names a tensor '{value}' the file does not hold")
        return tensors[value]
    if kind == "value" and (value is None or isinstance(value, (bool, int, float, str))):
        return value
    if kind == "float" and value in ("inf", "-inf", "nan"):
        return float(value)
    if kind in ("list", "tuple") and isinstance(value, list):
        items = [_unflatten(item, tensors, depth + 1) for item in value]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict" and isinstance(value, list):
        out = {}
        for pair in value:
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], (str, int))):
                raise CheckpointError("load(): the checkpoint's structure metadata is malformed")
            out[pair[0]] = _unflatten(pair[1], tensors, depth + 1)
        return out
    raise CheckpointError("load(): the checkpoint's structure metadata is malformed")


# ---- save

def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Writes `obj` (a tensor or a nested dict/list/tuple of tensors and plain values) to the
    path or binary file object `f` as one safetensors file. torch's pickle arguments are
    accepted for compatibility; a pickle module cannot be used."""
    if pickle_module is not None:
        raise ValueError("save(): vibetensor checkpoints are safetensors files, never pickles; "
                         "pickle_module is not supported")
    tensors = {}
    structure = _flatten(obj, "", tensors, {})
    metadata = {STRUCTURE_KEY: json.dumps(structure, separators=(",", ":"))}
    if isinstance(f, (str, os.PathLike)):
        safetensors.save_file(tensors, f, metadata)
    else:
        f.write(safetensors.save(tensors, metadata))


# ---- load

def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Reads a checkpoint written by `save` (or any safetensors file: then a flat dict of
    tensors). `map_location` moves the tensors. Pickle is never used, so `weights_only` has
    nothing to switch off: None and True are accepted, False and a pickle module are refused."""
    if weights_only is False or pickle_module is not None or pickle_load_args:
        raise ValueError("load(): vibetensor checkpoints never hold pickled objects; weights_only=False, "
                         "pickle_module and pickle load arguments are not supported")
    try:
        file = safetensors._open(f if isinstance(f, (str, os.PathLike)) else f.read())
    except ValueError as error:
        raise CheckpointError(f"load(): {error}") from error
    # With mmap=True the CPU tensors stay in the file's (private, copy-on-write) mapping.
    keep_mapped = bool(mmap) and isinstance(f, (str, os.PathLike))
    try:
        tensors = {name: safetensors._read(file, name, map_location, copy=not keep_mapped) for name in file.keys()}
    except ValueError as error:  # a dtype of the format that vibetensor lacks
        raise CheckpointError(f"load(): {error}") from error
    metadata = dict(file.metadata())
    source = repr(os.fspath(f)) if isinstance(f, (str, os.PathLike)) else "the file"
    if STRUCTURE_KEY not in metadata:
        return tensors
    try:
        structure = json.loads(metadata[STRUCTURE_KEY])
    except (json.JSONDecodeError, RecursionError) as error:
        raise CheckpointError(f"load(): the structure metadata of {source} is not valid JSON") from error
    return _unflatten(structure, tensors)
