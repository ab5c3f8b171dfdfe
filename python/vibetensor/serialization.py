"""vt.save and vt.load: checkpoints as safetensors files, never pickle.

A checkpoint holds a tensor or a nested structure (dicts with string keys, lists, tuples,
numbers, strings, booleans, None) of them. The tensors are stored as safetensors entries
named by their path in the structure (`model.fc.weight`, `optimizer.state.0.exp_avg`), so a
plain state dict saved here is exactly what `safetensors.torch.load_file` hands to a PyTorch
model's `load_state_dict`. The structure itself (everything that is not a tensor) is JSON
kept in the file's `__metadata__` under "vibetensor.structure": one self-contained file,
which the safetensors library and PyTorch read as they read any other.

Loading parses the header defensively (sizes, offsets, dtypes, shapes, duplicate keys, UTF-8,
nesting) so a corrupt, truncated or hostile file raises `CheckpointError` (a ValueError)
naming the problem, and can run no code.
"""
import json
import os

import numpy as np

from vibetensor import _C
from vibetensor._C import Tensor

__all__ = ["save", "load", "CheckpointError"]

STRUCTURE_KEY = "vibetensor.structure"
MAX_HEADER_BYTES = 100 * 1024 * 1024  # the safetensors library's own limit
MAX_NESTING = 64

# safetensors dtype name -> (vibetensor dtype name, numpy dtype of the stored bytes)
DTYPES = {
    "BOOL": ("bool", np.dtype("bool")), "U8": ("uint8", np.dtype("uint8")), "I8": ("int8", np.dtype("int8")),
    "I16": ("int16", np.dtype("<i2")), "I32": ("int32", np.dtype("<i4")), "I64": ("int64", np.dtype("<i8")),
    "F16": ("float16", np.dtype("<f2")), "BF16": ("bfloat16", np.dtype("<u2")),
    "F32": ("float32", np.dtype("<f4")), "F64": ("float64", np.dtype("<f8")),
}
SAFETENSORS_NAME = {vt_name: name for name, (vt_name, _) in DTYPES.items()}


class CheckpointError(ValueError):
    """A file that is not a valid vibetensor/safetensors checkpoint."""


# ---- tensors <-> bytes

def _dtype_name(tensor):
    return repr(tensor.dtype).split(".")[-1]


def _tensor_bytes(tensor):
    """The tensor's values, C-ordered and little-endian, as safetensors stores them."""
    values = tensor.detach()
    if _dtype_name(values) == "bfloat16":
        # bfloat16 is the top half of a float32: widening is exact, the shift recovers the bits.
        wide = values.float().numpy(force=True)
        return (wide.view(np.uint32) >> 16).astype("<u2").tobytes()
    array = values.numpy(force=True)
    return np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"), copy=False).tobytes()


def _tensor_from_bytes(buffer, dtype_name, shape):
    vt_name, stored = DTYPES[dtype_name]
    array = np.frombuffer(buffer, dtype=stored).reshape(shape)
    if vt_name == "bfloat16":
        wide = (array.astype(np.uint32) << 16).view(np.float32)
        return _C.from_numpy(wide).to(_C.bfloat16)
    return _C.from_numpy(array.astype(array.dtype.newbyteorder("="), copy=True))


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
        if isinstance(obj, float) and not np.isfinite(obj):
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
    header = {"__metadata__": {STRUCTURE_KEY: json.dumps(structure, separators=(",", ":"))}}
    chunks, offset = [], 0
    for name, tensor in tensors.items():
        data = _tensor_bytes(tensor)
        header[name] = {"dtype": SAFETENSORS_NAME[_dtype_name(tensor)], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)  # the data starts 8-byte aligned
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as out:
            _write(out, header_bytes, chunks)
    else:
        _write(f, header_bytes, chunks)


def _write(out, header_bytes, chunks):
    out.write(len(header_bytes).to_bytes(8, "little"))
    out.write(header_bytes)
    for chunk in chunks:
        out.write(chunk)


# ---- load

def _reject_duplicates(pairs):
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        duplicate = next(key for key in keys if keys.count(key) > 1)
        raise CheckpointError(f"load(): the header names '{duplicate}' twice")
    return dict(pairs)


def _parse_header(blob, source):
    if len(blob) < 8:
        raise CheckpointError(f"load(): {source} is too short to be a checkpoint ({len(blob)} bytes)")
    header_size = int.from_bytes(blob[:8], "little")
    if header_size > MAX_HEADER_BYTES:
        raise CheckpointError(f"load(): {source} declares a {header_size}-byte header (more than the "
                              f"{MAX_HEADER_BYTES}-byte limit): not a checkpoint, or corrupt")
    if 8 + header_size > len(blob):
        raise CheckpointError(f"load(): {source} is truncated: its header needs {header_size} bytes, "
                              f"{len(blob) - 8} follow")
    try:
        text = bytes(blob[8:8 + header_size]).decode("utf-8")
        header = json.loads(text, object_pairs_hook=_reject_duplicates)
    except UnicodeDecodeError as error:
        raise CheckpointError(f"load(): the header of {source} is not UTF-8") from error
    except RecursionError as error:
        raise CheckpointError(f"load(): the header of {source} is nested too deeply") from error
    except json.JSONDecodeError as error:
        raise CheckpointError(f"load(): the header of {source} is not valid JSON ({error})") from error
    if not isinstance(header, dict):
        raise CheckpointError(f"load(): the header of {source} is not a JSON object")
    return header, 8 + header_size


def _check_entry(name, entry, data_size):
    """(dtype, shape, begin, end) of one tensor entry, after checking it describes real bytes."""
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise CheckpointError(f"load(): tensor '{name}' needs exactly dtype, shape and data_offsets")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype not in DTYPES:
        raise CheckpointError(f"load(): tensor '{name}' has unsupported dtype {dtype!r}")
    if not isinstance(shape, list) or not all(type(s) is int and s >= 0 for s in shape):
        raise CheckpointError(f"load(): tensor '{name}' has an invalid shape {shape!r}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int for o in offsets)):
        raise CheckpointError(f"load(): tensor '{name}' has invalid data_offsets {offsets!r}")
    begin, end = offsets
    if not 0 <= begin <= end <= data_size:
        raise CheckpointError(f"load(): tensor '{name}' spans bytes [{begin}, {end}) outside the "
                              f"{data_size} bytes of data (a truncated or corrupt file)")
    numel = 1
    for s in shape:
        numel *= s
    if numel * DTYPES[dtype][1].itemsize != end - begin:
        raise CheckpointError(f"load(): tensor '{name}' of shape {shape} and dtype {dtype} needs "
                              f"{numel * DTYPES[dtype][1].itemsize} bytes but its offsets span {end - begin}")
    return dtype, shape, begin, end


def _tensors_of(header, data, source):
    entries = {name: _check_entry(name, entry, len(data)) for name, entry in header.items() if name != "__metadata__"}
    spans = sorted((begin, end, name) for name, (_, _, begin, end) in entries.items())
    position = 0
    for begin, end, name in spans:  # the safetensors rule: entries tile the data, no gaps, no overlap
        if begin != position:
            problem = "overlaps another" if begin < position else "leaves a gap before it"
            raise CheckpointError(f"load(): tensor '{name}' in {source} {problem}")
        position = end
    if position != len(data):
        raise CheckpointError(f"load(): {source} has {len(data) - position} bytes after its last tensor")
    return {name: _tensor_from_bytes(data[begin:end], dtype, shape)
            for name, (dtype, shape, begin, end) in entries.items()}


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Reads a checkpoint written by `save` (or any safetensors file: then a flat dict of
    tensors). `map_location` moves the tensors. Pickle is never used, so `weights_only` has
    nothing to switch off: None and True are accepted, False and a pickle module are refused."""
    if weights_only is False or pickle_module is not None or pickle_load_args:
        raise ValueError("load(): vibetensor checkpoints never hold pickled objects; weights_only=False, "
                         "pickle_module and pickle load arguments are not supported")
    source = repr(os.fspath(f)) if isinstance(f, (str, os.PathLike)) else "the file"
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as file:
            blob = file.read()
    else:
        blob = f.read()
    header, data_start = _parse_header(blob, source)
    metadata = header.get("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise CheckpointError(f"load(): the __metadata__ of {source} must map strings to strings")
    tensors = _tensors_of(header, memoryview(blob)[data_start:], source)
    if map_location is not None:
        tensors = {name: t.to(map_location) for name, t in tensors.items()}
    if STRUCTURE_KEY not in metadata:
        return tensors
    try:
        structure = json.loads(metadata[STRUCTURE_KEY])
    except (json.JSONDecodeError, RecursionError) as error:
        raise CheckpointError(f"load(): the structure metadata of {source} is not valid JSON") from error
    return _unflatten(structure, tensors)
