"""vibetensor.cuda: devices, streams, events and the caching allocator's memory API, as in
torch.cuda. Every function that needs a device raises a RuntimeError when there is none."""
import contextlib
from collections import namedtuple

from vibetensor import _C
from vibetensor.cuda.graphs import (
    CUDAGraph, graph, graph_pool_handle, is_current_stream_capturing, make_graphed_callables,
)
from vibetensor.cuda.streams import Event, Stream
from vibetensor.cuda import amp
from vibetensor.cuda.memory import (
    empty_cache, max_memory_allocated, max_memory_reserved, memory_allocated, memory_reserved, memory_snapshot,
    memory_stats, reset_accumulated_memory_stats, reset_max_memory_allocated, reset_peak_memory_stats,
    set_per_process_memory_fraction,
)

OutOfMemoryError = _C.OutOfMemoryError


def _record_stream(self, stream):
    """The tensor's memory is also used by `stream`: it is reused only after the work queued
    there by the time the tensor is freed has completed."""
    self._record_stream(stream._stream)


_C.Tensor.record_stream = _record_stream

__all__ = [
    "CUDAGraph", "Event", "OutOfMemoryError", "Stream", "current_device", "current_stream", "default_stream",
    "device", "device_count", "device_of", "empty_cache", "get_device_capability", "get_device_name",
    "get_device_properties", "graph", "graph_pool_handle", "initial_seed", "is_available", "is_built",
    "is_current_stream_capturing", "is_initialized", "make_graphed_callables", "manual_seed", "manual_seed_all",
    "max_memory_allocated", "max_memory_reserved", "memory_allocated", "memory_reserved", "memory_snapshot",
    "memory_stats", "reset_accumulated_memory_stats", "reset_max_memory_allocated", "reset_peak_memory_stats",
    "set_device", "set_per_process_memory_fraction", "set_stream", "stream", "synchronize",
]


# One counter-based generator serves every device (element i of a draw depends only on the
# seed and the counter), so a seed gives the same numbers on the CPU and on any GPU.
def manual_seed(seed):
    """Seeds the generator that CUDA tensors draw from (the default generator)."""
    _C.manual_seed(seed)


def manual_seed_all(seed):
    _C.manual_seed(seed)


def initial_seed():
    return _C.initial_seed()


def is_available():
    """True when this build has CUDA and a device is present."""
    return _C._cuda_device_count() > 0


def is_built():
    """True when vibetensor was compiled with the CUDA backend."""
    return _C._cuda_is_built()


def is_initialized():
    return is_available()


def device_count():
    return _C._cuda_device_count()


def _device_index(device, optional=True):
    """The index of `device` (an int, 'cuda:N', a vibetensor.device or None for the current)."""
    if device is None:
        if not optional:
            raise ValueError("Expected a cuda device, but got: None")
        return _C._cuda_current_device()
    if isinstance(device, int):
        return device
    if isinstance(device, str):
        device = _C.device(device)
    if isinstance(device, _C.device):
        if device.type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {device}")
        return _C._cuda_current_device() if device.index is None else device.index
    raise TypeError(f"Expected a cuda device (int, str or vibetensor.device), but got: {type(device).__name__}")


def current_device():
    return _C._cuda_current_device()


def set_device(device):
    index = _device_index(device)
    if index >= 0:
        _C._cuda_set_device(index)


class device:
    """Context manager that makes `device` current and restores the previous one."""

    def __init__(self, device):
        self.idx = -1 if device is None else _device_index(device)
        self.prev_idx = -1

    def __enter__(self):
        if self.idx >= 0:
            self.prev_idx = _C._cuda_current_device()
            _C._cuda_set_device(self.idx)

    def __exit__(self, *exc):
        if self.prev_idx >= 0:
            _C._cuda_set_device(self.prev_idx)
        return False


class device_of(device):
    """The device of a tensor, as a context manager (CPU tensors change nothing)."""

    def __init__(self, obj):
        super().__init__(obj.get_device() if obj.is_cuda else None)


_CudaDeviceProperties = namedtuple(
    "_CudaDeviceProperties",
    "name major minor total_memory multi_processor_count L2_cache_size warp_size max_threads_per_multi_processor uuid")


def get_device_properties(device=None):
    p = _C._cuda_get_device_properties(_device_index(device))
    return _CudaDeviceProperties(**p)


def get_device_name(device=None):
    return get_device_properties(device).name


def get_device_capability(device=None):
    p = get_device_properties(device)
    return p.major, p.minor


def synchronize(device=None):
    """Waits for all work queued on the device."""
    _C._cuda_synchronize(_device_index(device))


def current_stream(device=None):
    return Stream._wrap(_C._cuda_current_stream(_device_index(device)))


def default_stream(device=None):
    return Stream._wrap(_C._cuda_default_stream(_device_index(device)))


def set_stream(stream):
    if stream is not None:
        _C._cuda_set_stream(stream._stream)


@contextlib.contextmanager
def stream(stream):
    """Makes `stream` (and its device) current inside the block; None changes nothing."""
    if stream is None:
        yield
        return
    previous_device = _C._cuda_current_device()
    previous_stream = _C._cuda_current_stream(stream.device_index)
    _C._cuda_set_device(stream.device_index)
    _C._cuda_set_stream(stream._stream)
    try:
        yield
    finally:
        _C._cuda_set_stream(previous_stream)
        _C._cuda_set_device(previous_device)
