"""vibetensor.backends.cuda: settings of the CUDA matrix products (cuBLASLt), as in torch.

    vt.backends.cuda.matmul.allow_tf32 = True   # float32 products may use TF32 tensor cores

The settings live in the C++ core, so they hold for products from any frontend and thread.
"""
from vibetensor import _C


def is_built():
    """True when vibetensor was compiled with the CUDA backend."""
    return _C._cuda_is_built()


class cuBLASModule:
    """torch.backends.cuda.matmul: attributes read and write the core's settings (through
    torch._C's names: _get_cublas_allow_tf32, _set_cublas_allow_tf32, ...)."""

    _flags = ("allow_tf32", "allow_fp16_reduced_precision_reduction", "allow_bf16_reduced_precision_reduction")

    def __getattr__(self, name):
        if name in self._flags:
            return getattr(_C, f"_get_cublas_{name}")()
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name, value):
        if name in self._flags:
            return getattr(_C, f"_set_cublas_{name}")(bool(value))
        raise AttributeError(f"Unknown attribute {name}")


matmul = cuBLASModule()
