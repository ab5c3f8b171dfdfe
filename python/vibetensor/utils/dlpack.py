"""DLPack, zero-copy exchange with numpy, PyTorch, CuPy, JAX, ... (torch.utils.dlpack).

    t = vt.from_dlpack(torch_tensor)      # shares torch_tensor's memory (CPU or CUDA)
    x = torch.from_dlpack(t)              # and back: vibetensor tensors have __dlpack__

`from_dlpack` asks the producer for the versioned protocol (DLPack 1.x) and falls back to the
legacy capsule for producers that predate it. For CUDA tensors it passes the current
vibetensor stream of the tensor's device, so the producer makes that stream wait for its
pending work (the consumer's side of the stream contract). A capsule can be consumed once.
"""
from vibetensor import _C

__all__ = ["from_dlpack", "to_dlpack"]

_DL_CUDA = 2
_MAX_VERSION = (1, 1)


def from_dlpack(ext_tensor):
    """A vibetensor tensor sharing the memory of `ext_tensor`: an object with __dlpack__ and
    __dlpack_device__, or a DLPack capsule (legacy or versioned)."""
    if not hasattr(ext_tensor, "__dlpack__"):
        return _C._from_dlpack(ext_tensor)
    device_type, device_id = ext_tensor.__dlpack_device__()
    kwargs = {}
    if device_type == _DL_CUDA:
        from vibetensor import cuda
        handle = cuda.current_stream(device_id).cuda_stream
        kwargs["stream"] = handle if handle != 0 else 1  # 1: the legacy default stream
    try:
        capsule = ext_tensor.__dlpack__(max_version=_MAX_VERSION, **kwargs)
    except TypeError:  # a producer that predates max_version
        capsule = ext_tensor.__dlpack__(**kwargs)
    return _C._from_dlpack(capsule)


def to_dlpack(tensor):
    """A legacy DLPack capsule of `tensor` (torch.utils.dlpack.to_dlpack); it shares memory."""
    return tensor.__dlpack__()
