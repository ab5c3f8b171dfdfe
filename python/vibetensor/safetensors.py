"""safetensors files, with the API of the `safetensors` library's torch module.

    vt.safetensors.save_file({"w": w}, "model.safetensors", metadata={"format": "pt"})
    tensors = vt.safetensors.load_file("model.safetensors", device="cuda")
    with vt.safetensors.safe_open("model.safetensors", framework="pt") as f:
        w = f.get_tensor("w")          # reads only this tensor's bytes

The format is parsed and written in C++ (`vt/safetensors.h`). Files are memory-mapped, so
opening one reads only its header, and each tensor is read when asked for. A malformed or
hostile file raises ValueError naming the problem; nothing in a file can run code.
Tensors returned here own their memory (the bytes are copied out of the mapping); vt.load
with mmap=True keeps them in the mapping instead.
"""
import os

from vibetensor import _C
from vibetensor._C import Tensor

__all__ = ["load_file", "save_file", "load", "save", "safe_open"]


def _checked(tensors, metadata, op):
    if not isinstance(tensors, dict):
        raise TypeError(f"{op}(): tensors must be a dict of names to tensors, got {type(tensors).__name__}")
    for name, tensor in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"{op}(): tensor names must be str, got {type(name).__name__}")
        if not isinstance(tensor, Tensor):
            raise TypeError(f"{op}(): '{name}' is a {type(tensor).__name__}, not a tensor")
    metadata = {} if metadata is None else metadata
    if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise TypeError(f"{op}(): metadata must be a dict of str to str")
    for text in (*tensors, *metadata.keys(), *metadata.values()):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:  # a lone surrogate, from a file name decoded with errors
            raise ValueError(f"{op}(): names and metadata must be UTF-8 text, got {text!r}") from error
    return [(name, tensor.detach()) for name, tensor in tensors.items()], list(metadata.items())


def save_file(tensors, filename, metadata=None):
    """Writes a dict of tensors (any device, dtype and layout) and optional str->str metadata.
    The file is written beside `filename` and renamed over it when complete."""
    _C._safetensors_save_file(*_checked(tensors, metadata, "save_file"), os.fspath(filename))


def save(tensors, metadata=None):
    """The bytes of the safetensors file that save_file would write."""
    return _C._safetensors_serialize(*_checked(tensors, metadata, "save"))


def _open(source):
    """A parsed file: from a path (mapped) or from bytes."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _C._SafetensorsFile.from_bytes(bytes(source), "the buffer")
    return _C._SafetensorsFile.open(os.fspath(source))


def _read(file, name, device, copy=True):
    """One tensor on `device`; on the CPU a copy unless `copy` is False (then it stays in the
    file's mapping)."""
    tensor = file.tensor(name)
    if device is not None and str(device) != "cpu":
        return tensor.to(device)
    return tensor.clone() if copy else tensor


def load_file(filename, device="cpu"):
    """A dict of every tensor in the file, on `device`."""
    file = _open(filename)
    return {name: _read(file, name, device) for name in file.keys()}


def load(data):
    """A dict of every tensor in safetensors bytes (as `save` returns them)."""
    file = _open(data)
    return {name: _read(file, name, None) for name in file.keys()}


class safe_open:  # noqa: N801  (the safetensors library's name)
    """Lazy access to one file: keys(), metadata() and get_tensor(name), which reads only
    that tensor. `framework` is accepted for compatibility ("pt", "torch" or "vt")."""

    def __init__(self, filename, framework="pt", device="cpu"):
        if framework not in ("pt", "torch", "vt", "vibetensor"):
            raise ValueError(f"safe_open(): framework must be 'pt' (vibetensor tensors), got {framework!r}")
        self._file = _open(filename)
        self._device = device

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._file = None
        return False

    def _opened(self):
        if self._file is None:
            raise RuntimeError("safe_open(): the file is closed")
        return self._file

    def keys(self):
        return self._opened().keys()

    def metadata(self):
        """The file's __metadata__ (a dict of str to str), or None when it has none."""
        return dict(self._opened().metadata()) or None

    def get_tensor(self, name):
        file = self._opened()
        if name not in file:
            raise KeyError(f"safe_open(): the file holds no tensor named {name!r}")
        return _read(file, name, self._device)
