"""F.interpolate (and the older upsample spellings), F.unfold and F.fold over the C++ ops
`_nn.upsample`, `_nn.im2col` and `_nn.col2im`."""
import math
import warnings

from vibetensor._C import _nn
from vibetensor.nn._utils import ntuple

_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    spatial = input.dim() - 2
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | "
                         "bicubic | trilinear")
    if antialias:
        raise NotImplementedError("interpolate(): antialias=True is not supported yet")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined" if size is not None
                         else "either size or scale_factor should be defined")
    if spatial < 1 or spatial > 3:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) "
                                  f"for the modes: nearest | linear | bilinear | bicubic | trilinear | area | "
                                  f"nearest-exact (got {mode})")
    if size is not None:
        sizes = [int(s) for s in ntuple(size, spatial, "size", "interpolate")] if not isinstance(size, int) \
            else [size] * spatial
        if len(sizes) != spatial:
            raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input with "
                             f"spatial dimensions of {list(input.shape[2:])} and output size of {size}.")
        scales = None
    else:
        scales = [float(scale_factor)] * spatial if isinstance(scale_factor, (int, float)) else list(scale_factor)
        if len(scales) != spatial:
            raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got input "
                             f"with spatial dimensions of {list(input.shape[2:])} and scale_factor of {scale_factor}.")
        sizes = None
        if recompute_scale_factor:
            # The output size from the factor, then the scales from the sizes (as torch).
            sizes = [math.floor(input.shape[2 + k] * scales[k]) for k in range(spatial)]
            scales = None
    if mode == "area":
        out_size = sizes if sizes is not None else [math.floor(input.shape[2 + k] * scales[k]) for k in range(spatial)]
        from vibetensor.nn import functional as F
        return getattr(F, f"adaptive_avg_pool{spatial}d")(input, out_size)
    if mode in ("nearest", "nearest-exact"):
        return _nn.upsample(input, mode, sizes, scales, False)
    if mode in _LINEAR_MODES:
        if _LINEAR_MODES[mode] != spatial:
            raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs "
                                      f"{_LINEAR_MODES[mode] + 2}D input")
        return _nn.upsample(input, "linear", sizes, scales, bool(align_corners))
    if mode == "bicubic":
        raise NotImplementedError("interpolate(): mode 'bicubic' is not supported yet")
    raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for the "
                              f"modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact "
                              f"(got {mode})")


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    warnings.warn("nn.functional.upsample is deprecated. Use nn.functional.interpolate instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    warnings.warn("nn.functional.upsample_nearest is deprecated. Use nn.functional.interpolate instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    warnings.warn("nn.functional.upsample_bilinear is deprecated. Use nn.functional.interpolate instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    pair = lambda v, name: list(ntuple(v, 2, name, "unfold"))  # noqa: E731
    return _nn.im2col(input, pair(kernel_size, "kernel_size"), pair(dilation, "dilation"), pair(padding, "padding"),
                      pair(stride, "stride"))


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    pair = lambda v, name: list(ntuple(v, 2, name, "fold"))  # noqa: E731
    return _nn.col2im(input, pair(output_size, "output_size"), pair(kernel_size, "kernel_size"),
                      pair(dilation, "dilation"), pair(padding, "padding"), pair(stride, "stride"))
