"""vibetensor.cuda: device discovery (streams, events, memory and kernels come with the
CUDA backend)."""
from vibetensor import _C


def is_available():
    """True when this build has CUDA and a device is present."""
    return _C._cuda_device_count() > 0


def device_count():
    return _C._cuda_device_count()


def is_built():
    """True when vibetensor was compiled with the CUDA backend."""
    return _C._cuda_is_built()
