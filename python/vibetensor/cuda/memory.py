"""The caching allocator's statistics and controls, with torch.cuda's names and keys."""
from vibetensor import _C


def _index(device):
    from vibetensor.cuda import _device_index
    return _device_index(device)


def memory_stats(device=None):
    """Counters of the device's caching allocator (torch's keys: "allocated_bytes.all.current",
    "reserved_bytes.large_pool.peak", "num_alloc_retries", ...), sorted by key."""
    return dict(sorted(_C._cuda_memory_stats(_index(device)).items()))


def memory_allocated(device=None):
    """Bytes held by tensors on the device now."""
    return _C._cuda_memory_stats(_index(device))["allocated_bytes.all.current"]


def max_memory_allocated(device=None):
    return _C._cuda_memory_stats(_index(device))["allocated_bytes.all.peak"]


def memory_reserved(device=None):
    """Bytes the allocator holds from the driver (allocated plus cached)."""
    return _C._cuda_memory_stats(_index(device))["reserved_bytes.all.current"]


def max_memory_reserved(device=None):
    return _C._cuda_memory_stats(_index(device))["reserved_bytes.all.peak"]


def reset_peak_memory_stats(device=None):
    _C._cuda_reset_peak_memory_stats(_index(device))


def reset_max_memory_allocated(device=None):
    reset_peak_memory_stats(device)


def reset_accumulated_memory_stats(device=None):
    _C._cuda_reset_accumulated_memory_stats(_index(device))


def empty_cache():
    """Returns every wholly free cached segment to the driver."""
    if _C._cuda_device_count() > 0:
        _C._cuda_empty_cache()


def set_per_process_memory_fraction(fraction, device=None):
    """Caps this process's reserved memory on the device at `fraction` of its total."""
    if not isinstance(fraction, float):
        raise TypeError("Invalid type for fraction argument, must be `float`")
    _C._cuda_set_memory_fraction(fraction, _index(device))


def memory_snapshot():
    """Every segment of every device with its blocks (address, size, state, and the Python
    stack that allocated it while _record_memory_history is on)."""
    return _C._cuda_memory_snapshot()


def _record_memory_history(enabled="all", *args, **kwargs):
    """Records the Python stack of each allocation (enabled=None turns it off)."""
    _C._cuda_record_memory_history(bool(enabled))
