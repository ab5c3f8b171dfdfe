"""vibetensor.backends.cudnn: the settings of the cuDNN convolutions, as in torch.

    vt.backends.cudnn.benchmark = True        # time the algorithms of each new shape once
    vt.backends.cudnn.deterministic = True    # only algorithms that give the same bits each run
    vt.backends.cudnn.allow_tf32 = False      # float32 convolutions without TF32 tensor cores
    vt.backends.cudnn.enabled = False         # convolutions without cuDNN (im2col and matmul)

The settings live in the C++ core, so they hold for convolutions from any frontend and thread.
"""
import sys
import types
from contextlib import contextmanager

from vibetensor import _C

_FLAGS = ("enabled", "benchmark", "deterministic", "allow_tf32")


def version():
    """The cuDNN version vibetensor was built with (91000 for 9.10.0), or None without one."""
    return _C._cudnn_version() or None


def is_available():
    """True when vibetensor was built with cuDNN."""
    return version() is not None


@contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False, allow_tf32=True):
    """Sets the four settings for a block (torch's defaults for those not given) and restores them."""
    del benchmark_limit  # torch's limit on benchmarked algorithms; every one is timed here
    saved = {name: getattr(_C, f"_get_cudnn_{name}")() for name in _FLAGS}
    chosen = dict(enabled=enabled, benchmark=benchmark, deterministic=deterministic, allow_tf32=allow_tf32)
    try:
        for name, value in chosen.items():
            getattr(_C, f"_set_cudnn_{name}")(bool(value))
        yield
    finally:
        for name, value in saved.items():
            getattr(_C, f"_set_cudnn_{name}")(value)


class _CudnnModule(types.ModuleType):
    """Reads and writes of the settings as module attributes go to the core."""

    def __getattr__(self, name):
        if name in _FLAGS:
            return getattr(_C, f"_get_cudnn_{name}")()
        raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")

    def __setattr__(self, name, value):
        if name in _FLAGS:
            getattr(_C, f"_set_cudnn_{name}")(bool(value))
        else:
            super().__setattr__(name, value)


sys.modules[__name__].__class__ = _CudnnModule
