"""Pooling of torch.nn.functional over 1, 2 or 3 spatial dims, with torch's signatures.

Windows are strided views of the (padded) input (`windows`); max pooling takes the first
maximum of each flattened window, which is where torch's scan order puts it, and finds its
index by reading the same window out of a map of flat spatial indices. Adaptive and fractional
pooling gather their uneven windows with index_select/gather instead.
"""
import math

import vibetensor as vt
from vibetensor._C import _nn
from vibetensor.nn._utils import batched, ntuple, power, unbatch, window_count, windows

_INT_MIN = {"uint8": 0, "int8": -2 ** 7, "int16": -2 ** 15, "int32": -2 ** 31, "int64": -2 ** 63}


def _lowest(dtype):
    """The padding that never wins a max."""
    return -math.inf if dtype.is_floating_point else _INT_MIN[repr(dtype).split(".")[-1]]


def _geometry(kernel_size, stride, padding, dilation, nd, fn):
    kernel = ntuple(kernel_size, nd, "kernel_size", fn)
    no_stride = stride is None or (not isinstance(stride, int) and len(stride) == 0)
    stride = kernel if no_stride else ntuple(stride, nd, "stride", fn)
    padding = ntuple(padding, nd, "padding", fn)
    dilation = ntuple(dilation, nd, "dilation", fn)
    for name, values, low in (("kernel_size", kernel, 1), ("stride", stride, 1), ("dilation", dilation, 1)):
        if min(values) < low:
            raise RuntimeError(f"{fn}() {name} must be greater than zero, but got {list(values)}")
    if min(padding) < 0:
        raise RuntimeError(f"{fn}() padding must be non-negative, but got {list(padding)}")
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise RuntimeError(f"{fn}() pad should be at most half of kernel size, but got padding={list(padding)} and "
                           f"kernel_size={list(kernel)}")
    return kernel, stride, padding, dilation


def _check_output_size(x, counts):
    if min(counts) <= 0:
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, x.shape[1:]))}). Calculated output size: "
                           f"({'x'.join(map(str, [x.shape[1]] + list(counts)))}). Output size is too small")


def _argmax_indices(index_windows, positions):
    """The flat spatial index of each window's maximum: `index_windows` [1, 1, *out, K] read at
    the window positions [B, C, *out]."""
    expanded = index_windows.expand(list(positions.shape) + [index_windows.shape[-1]])
    return expanded.gather(-1, positions.unsqueeze(-1)).squeeze(-1)


def _spatial_index_map(x):
    """[1, 1, *spatial]: each position's flat index in its plane (torch's pooling indices)."""
    spatial = list(x.shape[2:])
    return vt.arange(math.prod(spatial), dtype=vt.int64, device=x.device).reshape([1, 1] + spatial)


# ---- max and average pooling

def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, nd, fn):
    """(values, indices) of max pooling over the last `nd` dims."""
    x, unbatched = batched(input, nd, fn)
    geometry = _geometry(kernel_size, stride, padding, dilation, nd, fn)
    cells = windows(x, *geometry, ceil_mode, _lowest(x.dtype))
    counts = list(cells.shape[2:2 + nd])
    _check_output_size(x, counts)
    values, positions = cells.flatten(2 + nd).max(-1)
    index_windows = windows(_spatial_index_map(x), *geometry, ceil_mode, -1)
    indices = _argmax_indices(index_windows.flatten(2 + nd), positions)
    return unbatch(values, unbatched), unbatch(indices, unbatched)


def _cell_sizes(size, kernel, stride, padding, ceil_mode, count_include_pad):
    """How many elements each window along one dim averages: with count_include_pad the padding
    counts but the extra cells of ceil mode do not, as in torch."""
    sizes = []
    for o in range(window_count(size, kernel, stride, padding, 1, ceil_mode)):
        start = o * stride - padding
        end = min(start + kernel, size + padding)
        if not count_include_pad:
            start, end = max(start, 0), min(end, size)
        sizes.append(end - start)
    return sizes


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, nd, fn):
    x, unbatched = batched(input, nd, fn)
    kernel, stride, padding, dilation = _geometry(kernel_size, stride, padding, 1, nd, fn)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    cells = windows(x, kernel, stride, padding, dilation, ceil_mode, 0)
    counts = list(cells.shape[2:2 + nd])
    _check_output_size(x, counts)
    sums = cells.sum(tuple(range(2 + nd, 2 + 2 * nd)))
    if divisor_override is not None:
        return unbatch(sums / divisor_override, unbatched)
    divisor = None
    for i in range(nd):
        sizes = _cell_sizes(x.shape[2 + i], kernel[i], stride[i], padding[i], ceil_mode, count_include_pad)
        if len(set(sizes)) == 1:
            factor = sizes[0]
        else:
            shape = [1] * nd
            shape[i] = len(sizes)
            factor = vt.tensor(sizes, dtype=x.dtype, device=x.device).reshape(shape)
        divisor = factor if divisor is None else divisor * factor
    return unbatch(sums / divisor, unbatched)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, 1, "max_pool1d")


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, 2, "max_pool2d")


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, 3, "max_pool3d")


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    result = _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, 1, "max_pool1d")
    return result if return_indices else result[0]


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    if not return_indices:
        return _nn.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode)  # the C++ kernel
    result = _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, 2, "max_pool2d")
    return result if return_indices else result[0]


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    result = _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, 3, "max_pool3d")
    return result if return_indices else result[0]


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return _nn.avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 3,
                     "avg_pool3d")


# ---- power-average pooling

def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, nd, max_pool, avg_pool):
    kernel = ntuple(kernel_size, nd, "kernel_size", f"lp_pool{nd}d")
    if norm_type == math.inf:
        return max_pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -math.inf:
        return -max_pool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    mean = avg_pool(power(input, float(norm_type)), kernel_size, stride, 0, ceil_mode)
    # torch keeps the sign of the window sum (odd powers of negative inputs).
    return power((mean.sign() * mean.abs().relu()).mul(math.prod(kernel)), 1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1, max_pool1d, avg_pool1d)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2, max_pool2d, avg_pool2d)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 3, max_pool3d, avg_pool3d)


# ---- adaptive pooling

def _adaptive_output_size(input, output_size, nd, fn):
    if isinstance(output_size, int):
        return [output_size] * nd
    output_size = list(output_size)
    if input.dim() <= len(output_size):
        raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
    if len(output_size) != nd:
        raise RuntimeError(f"{fn}(): internal error: output_size.size() must be {nd}")
    # None keeps the input's size along that dim.
    return [input.shape[input.dim() - nd + i] if s is None else s for i, s in enumerate(output_size)]


def _adaptive_cells(x, sizes):
    """[B, C, *spatial] -> [B, C, *sizes, *widest]: cell j of a dim covers [floor(j*L/O), ceil((j+1)*L/O)),
    padded to the widest cell by repeating its last element. Also the cell lengths per dim."""
    nd = len(sizes)
    lengths = []
    for i, out in enumerate(sizes):
        dim = 2 + 2 * i  # each earlier spatial dim is now two: (cells, width)
        size = x.shape[dim]
        starts = [(j * size) // out for j in range(out)]
        ends = [-(-((j + 1) * size) // out) for j in range(out)]
        width = max([e - s for s, e in zip(starts, ends)], default=1)
        index = [min(s + t, e - 1) for s, e in zip(starts, ends) for t in range(width)]
        x = x.index_select(dim, vt.tensor(index, dtype=vt.int64, device=x.device))
        x = x.reshape(list(x.shape[:dim]) + [out, width] + list(x.shape[dim + 1:]))
        lengths.append([e - s for s, e in zip(starts, ends)])
    order = [0, 1] + [2 + 2 * i for i in range(nd)] + [3 + 2 * i for i in range(nd)]
    return x.permute(order), lengths


def _check_adaptive_input(x, nd, fn):
    if x.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"{fn}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {list(x.shape)}")
    if any(s == 0 for s in x.shape[-nd:]) or (x.dim() == nd + 2 and x.shape[1] == 0):
        raise RuntimeError(f"{fn}(): Expected input to have non-zero size for non-batch dimensions, but input has "
                           f"sizes {list(x.shape)} with dimension {x.dim() - nd - 1 if x.dim() == nd + 2 else 0} "
                           f"being empty")


def _adaptive_max_pool(input, output_size, nd, fn):
    _check_adaptive_input(input, nd, fn)
    sizes = _adaptive_output_size(input, output_size, nd, fn)
    x, unbatched = batched(input, nd, fn)
    cells, _ = _adaptive_cells(x, sizes)
    values, positions = cells.flatten(2 + nd).max(-1)
    index_cells, _ = _adaptive_cells(_spatial_index_map(x), sizes)
    indices = _argmax_indices(index_cells.flatten(2 + nd), positions)
    return unbatch(values, unbatched), unbatch(indices, unbatched)


def _adaptive_avg_pool(input, output_size, nd, fn):
    _check_adaptive_input(input, nd, fn)
    sizes = _adaptive_output_size(input, output_size, nd, fn)
    x, unbatched = batched(input, nd, fn)
    cells, lengths = _adaptive_cells(x, sizes)
    # The repeated elements that pad narrow cells are masked out; each cell divides by its own size.
    mask, divisor = None, None
    for i, cell_lengths in enumerate(lengths):
        width = cells.shape[2 + nd + i]
        shape = [1] * (2 * nd)
        shape[i], shape[nd + i] = len(cell_lengths), width
        member = vt.tensor([[t < n for t in range(width)] for n in cell_lengths], dtype=vt.bool, device=x.device)
        member = member.reshape(shape)
        mask = member if mask is None else mask.logical_and(member)
        shape = [1] * nd
        shape[i] = len(cell_lengths)
        size = vt.tensor(cell_lengths, dtype=x.dtype, device=x.device).reshape(shape)
        divisor = size if divisor is None else divisor * size
    sums = vt.where(mask, cells, 0).sum(tuple(range(2 + nd, 2 + 2 * nd)))
    return unbatch(sums / divisor, unbatched)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max_pool(input, output_size, 1, "adaptive_max_pool1d")


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max_pool(input, output_size, 2, "adaptive_max_pool2d")


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max_pool(input, output_size, 3, "adaptive_max_pool3d")


def adaptive_max_pool1d(input, output_size, return_indices=False):
    result = _adaptive_max_pool(input, output_size, 1, "adaptive_max_pool1d")
    return result if return_indices else result[0]


def adaptive_max_pool2d(input, output_size, return_indices=False):
    result = _adaptive_max_pool(input, output_size, 2, "adaptive_max_pool2d")
    return result if return_indices else result[0]


def adaptive_max_pool3d(input, output_size, return_indices=False):
    result = _adaptive_max_pool(input, output_size, 3, "adaptive_max_pool3d")
    return result if return_indices else result[0]


def adaptive_avg_pool1d(input, output_size):
    if not isinstance(output_size, int) and len(output_size) != 1:
        raise RuntimeError(f"adaptive_avg_pool1d() argument 'output_size' should contain one int (got "
                           f"{len(output_size)})")
    return _adaptive_avg_pool(input, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool3d(input, output_size):
    return _adaptive_avg_pool(input, output_size, 3, "adaptive_avg_pool3d")


# ---- fractional max pooling (Graham, 2014)

def _fractional_starts(samples, size, out, kernel):
    """Window starts [N, C, out] along one dim from uniform samples [N, C], computed in the input's
    dtype as torch does, so the same samples give the same windows."""
    device, dtype = samples.device, samples.dtype
    last = vt.full(list(samples.shape) + [1], size - kernel, dtype=vt.int64, device=device)
    if out == 1:
        return last
    alpha = vt.tensor(float(size - kernel), dtype=dtype, device=device) / vt.tensor(float(out - 1), dtype=dtype,
                                                                                    device=device)
    steps = vt.arange(out - 1, dtype=dtype, device=device)
    u = samples.unsqueeze(-1)
    starts = ((steps + u) * alpha).to(vt.int64) - (u * alpha).to(vt.int64)
    return vt.cat([starts, last], -1)


# Which column of _random_samples drives each spatial dim, in torch's kernels.
_SAMPLE_COLUMN = {2: (1, 0), 3: (0, 1, 2)}


def _fractional_max_pool(input, kernel_size, output_size, output_ratio, _random_samples, nd, fn):
    if output_size is None and output_ratio is None:
        raise ValueError(f"{fn} requires specifying either an output_size or an output_ratio")
    kernel = ntuple(kernel_size, nd, "kernel_size", fn)
    if output_size is None:
        ratio = [output_ratio] * nd if isinstance(output_ratio, (int, float)) else list(output_ratio)
        if len(ratio) == 1:
            ratio = ratio * nd
        if len(ratio) != nd:
            raise ValueError(f"{fn} requires output_ratio to either be a single Int or tuple of Ints.")
        output_size = [int(input.shape[input.dim() - nd + i] * ratio[i]) for i in range(nd)]
    sizes = list(ntuple(output_size, nd, "output_size", fn))
    x, unbatched = batched(input, nd, fn)
    n, c, spatial = x.shape[0], x.shape[1], list(x.shape[2:])
    samples = _random_samples
    if samples is None:
        samples = vt.rand(n, c, nd, dtype=input.dtype, device=input.device)
    if samples.dim() != 3 or tuple(samples.shape) != (n, c, nd):
        raise RuntimeError(f"{fn}(): Expected _random_samples to have shape [{n}, {c}, {nd}], but got "
                           f"{list(samples.shape)}")
    names = ("time", "height", "width")[3 - nd:]
    for size, out, k, name in zip(spatial, sizes, kernel, names):
        # torch's 3-d check is strict: its windows must end before the input's last element.
        if out + k - 1 > size or (nd == 3 and out + k - 1 == size):
            raise RuntimeError(f"{fn}_out(): pool {name} {k} too large relative to input {name} {size}")
    # The flat spatial index of every window element: [N, C, *sizes, *kernel].
    index = None
    stride = 1
    for i in reversed(range(nd)):
        starts = _fractional_starts(samples.select(2, _SAMPLE_COLUMN[nd][i]), spatial[i], sizes[i], kernel[i])
        along = starts.unsqueeze(-1) + vt.arange(kernel[i], dtype=vt.int64, device=x.device)  # [N, C, out, k]
        shape = [n, c] + [1] * (2 * nd)
        shape[2 + i], shape[2 + nd + i] = sizes[i], kernel[i]
        along = along.reshape(shape) * stride
        index = along if index is None else index + along
        stride *= spatial[i]
    index = index.flatten(2 + nd)
    gathered = x.flatten(2).gather(2, index.flatten(2)).reshape(index.shape)
    values, positions = gathered.max(-1)
    indices = index.gather(-1, positions.unsqueeze(-1)).squeeze(-1)
    return unbatch(values, unbatched), unbatch(indices, unbatched)


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                                       _random_samples=None):
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, _random_samples, 2,
                                "fractional_max_pool2d")


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                                       _random_samples=None):
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, _random_samples, 3,
                                "fractional_max_pool3d")


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    result = fractional_max_pool2d_with_indices(input, kernel_size, output_size, output_ratio, False, _random_samples)
    return result if return_indices else result[0]


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    result = fractional_max_pool3d_with_indices(input, kernel_size, output_size, output_ratio, False, _random_samples)
    return result if return_indices else result[0]


# ---- max unpooling

def _max_unpool(input, indices, kernel_size, stride, padding, output_size, nd, fn):
    kernel = ntuple(kernel_size, nd, "kernel_size", fn)
    stride = kernel if stride is None else ntuple(stride, nd, "stride", fn)
    padding = ntuple(padding, nd, "padding", fn)
    default = [(input.shape[input.dim() - nd + d] - 1) * stride[d] + kernel[d] - 2 * padding[d] for d in range(nd)]
    if output_size is None:
        size = default
    else:
        size = list(output_size)
        if len(size) == nd + 2:
            size = size[2:]
        if len(size) != nd:
            raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it has a "
                             f"length of '{len(size)}'")
        for d in range(nd):
            low, high = default[d] - stride[d], default[d] + stride[d]
            if not low < size[d] < high:
                raise ValueError(f'invalid output_size "{size}" (dim {d} must be between {low} and {high})')
    for d in range(nd):
        if size[d] < 0:
            raise ValueError(f"max_unpooling: output_size must contain non-negative spatial dimensions, but got "
                             f"output_size[{d}]={size[d]}")
    if indices.dtype != vt.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: {indices.dtype}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor ({list(input.shape)}) "
                           f"but got indices tensor with shape: {list(indices.shape)}")
    x, unbatched = batched(input, nd, fn)
    flat_indices = indices.reshape(x.shape).flatten(2)
    total = math.prod(size)
    if flat_indices.numel():
        low, high = int(flat_indices.min()), int(flat_indices.max())
        if low < 0 or high >= total:
            raise RuntimeError(f"Found an invalid max index: {high if high >= total else low} (output volumes are of "
                               f"size {'x'.join(map(str, size))}")
    out = vt.zeros(x.shape[0], x.shape[1], total, dtype=x.dtype, device=x.device)
    out = out.scatter(2, flat_indices, x.flatten(2))
    return unbatch(out.reshape(list(x.shape[:2]) + size), unbatched)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1, "max_unpool1d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2, "max_unpool2d")


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3, "max_unpool3d")
