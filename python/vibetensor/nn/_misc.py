"""Distances, channel rearrangements, dropout variants, normalizations, embedding bags, affine
grids and torch's `__torch_function__` helpers, composed from vibetensor's ops with torch's signatures."""
import math
import warnings

import vibetensor as vt
from vibetensor._C import _nn
from vibetensor.nn._utils import broadcast_shape, clamp_min_straight_through, power


# ---- distances

def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    denom = vt.linalg.vector_norm(input, p, dim, keepdim=True).clamp(min=eps).expand_as(input)
    if out is None:
        return input / denom
    return vt.div(input, denom, out=out)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    common = vt.result_type(x1, x2)
    if not common.is_floating_point:
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is {common}")
    # Each side is divided by its own norm before the dot product (no overflow, |result| <= 1);
    # torch clamps the norms at eps outside autograd.
    shape = broadcast_shape(x1.shape, x2.shape)
    x1, x2 = x1.expand(shape), x2.expand(shape)
    norm1 = clamp_min_straight_through(vt.linalg.vector_norm(x1, 2, dim, keepdim=True), eps)
    norm2 = clamp_min_straight_through(vt.linalg.vector_norm(x2, 2, dim, keepdim=True), eps)
    return ((x1 / norm1) * (x2 / norm2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    # eps is added to the difference (not the distance), over the last dim of the broadcast shape.
    return vt.linalg.vector_norm(x1 - x2 + eps, p, -1, keepdim=keepdim)


def pdist(input, p=2):
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = input.shape[0]
    if n < 2:
        return input.reshape(-1).narrow(0, 0, 0)
    # Pairs (i, j) with i < j in row-major order, as torch lists them: row i against the rows
    # below it (slices and broadcasting, cheaper than gathering every pair).
    return vt.cat([vt.linalg.vector_norm(input[i + 1:] - input[i], p, 1) for i in range(n - 1)])


# ---- channel rearrangements

def _check_shuffle_input(input, fn):
    if input.dim() < 3:
        raise RuntimeError(f"{fn} expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")


def pixel_shuffle(input, upscale_factor):
    _check_shuffle_input(input, "pixel_shuffle")
    r = upscale_factor
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *batch, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    nb = len(batch)
    x = input.reshape(batch + [c // (r * r), r, r, h, w])
    x = x.permute(list(range(nb)) + [nb, nb + 3, nb + 1, nb + 4, nb + 2])  # (..., C, H, r, W, r)
    return x.reshape(batch + [c // (r * r), h * r, w * r])


def pixel_unshuffle(input, downscale_factor):
    _check_shuffle_input(input, "pixel_unshuffle")
    r = downscale_factor
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *batch, c, h, w = input.shape
    if h % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)="
                           f"{h} is not divisible by {r}")
    if w % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by downscale_factor, but input.size(-1)="
                           f"{w} is not divisible by {r}")
    nb = len(batch)
    x = input.reshape(batch + [c, h // r, r, w // r, r])
    x = x.permute(list(range(nb)) + [nb, nb + 2, nb + 4, nb + 1, nb + 3])  # (..., C, r, r, H/r, W/r)
    return x.reshape(batch + [c * r * r, h // r, w // r])


def channel_shuffle(input, groups):
    if input.dim() <= 2:
        raise RuntimeError(f"channel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    n, c, *rest = input.shape
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups.")
    return input.reshape([n, groups, c // groups] + rest).transpose(1, 2).reshape(input.shape)


native_channel_shuffle = channel_shuffle


# ---- dropout variants

_ALPHA_DROPOUT_ALPHA = 1.7580993408473766  # SELU's -alpha * scale: the value dropped units saturate to


def _check_probability(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _noise_dropout(input, p, training, inplace, feature, alpha):
    """Dropout with a Bernoulli keep mask per element (per channel when `feature`); alpha dropout
    also maps dropped units to SELU's saturation value and rescales to keep mean and variance."""
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        return input.mul_(0) if inplace else input * 0
    if feature:
        if input.dim() < 2:
            raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
        shape = list(input.shape[:2]) + [1] * (input.dim() - 2)
    else:
        shape = list(input.shape)
    keep = vt.empty(shape, dtype=input.dtype, device=input.device).bernoulli_(1 - p)
    if not alpha:
        scale = keep / (1 - p)
        return input.mul_(scale) if inplace else input * scale
    a = 1.0 / math.sqrt((_ALPHA_DROPOUT_ALPHA ** 2 * p + 1) * (1 - p))
    shift = (keep - 1) * (_ALPHA_DROPOUT_ALPHA * a) + _ALPHA_DROPOUT_ALPHA * a * p
    scale = keep * a
    return input.mul_(scale).add_(shift) if inplace else input * scale + shift


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    _check_probability(p)
    return _noise_dropout(input, p, training, inplace, feature=False, alpha=True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    _check_probability(p)
    return _noise_dropout(input, p, training, inplace, feature=True, alpha=True)


def _channel_dropout(input, p, training, inplace, batched_dim):
    """Feature dropout of an input that has a batch dim when it has `batched_dim` dims."""
    if input.dim() != batched_dim - 1:
        return _noise_dropout(input, p, training, inplace, feature=True, alpha=False)
    result = _noise_dropout(input.unsqueeze(0), p, training, inplace, feature=True, alpha=False)
    # In place, the batched view was written, so the input itself is the result.
    return input if inplace and training and p != 0 else result.squeeze(0)


def dropout1d(input, p=0.5, training=True, inplace=False):
    _check_probability(p)
    if input.dim() not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.dim()}D input. Note that "
                           "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a "
                           "channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _channel_dropout(input, p, training, inplace, batched_dim=3)


def _warn_unusual_rank(input, spatial):
    """torch's deprecation warning for a dropout{2,3}d input that is not (N,) C + `spatial` dims."""
    if input.dim() not in (spatial + 1, spatial + 2):
        name = f"dropout{spatial}d"
        warnings.warn(f"{name}: Received a {input.dim()}-D input to {name}, which is deprecated and will result in an "
                      "error in a future release. To retain the behavior and silence this warning, please use dropout "
                      f"instead. Note that {name} exists to provide channel-wise dropout on inputs with {spatial} "
                      "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. "
                      f"{spatial + 1}D or {spatial + 2}D inputs).", stacklevel=3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    _check_probability(p)
    _warn_unusual_rank(input, 2)
    if input.dim() == 3:
        # torch keeps its historical reading of 3-D inputs as (N, C, L), not as unbatched (C, H, W).
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                      "This behavior will change in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please "
                      "switch to using dropout1d instead.", stacklevel=2)
    return _noise_dropout(input, p, training, inplace, feature=True, alpha=False)


def dropout3d(input, p=0.5, training=True, inplace=False):
    _check_probability(p)
    _warn_unusual_rank(input, 3)
    return _channel_dropout(input, p, training, inplace, batched_dim=5)


# ---- normalization

def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be None")
    if use_input_stats and math.prod(input.shape[2:]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {list(input.shape)}")
    # Batch norm over (1, N * C, *): every (sample, channel) pair is its own channel.
    n, c = input.shape[0], input.shape[1]
    if n * c == 0:
        return input.clone()
    repeat = (lambda t: None if t is None else t.repeat(n))
    mean_rows, var_rows = repeat(running_mean), repeat(running_var)
    out = _nn.batch_norm(input.reshape([1, n * c] + list(input.shape[2:])), mean_rows, var_rows, repeat(weight),
                         repeat(bias), use_input_stats, momentum, eps)
    if use_input_stats:
        # The running statistics move by the average of the per-sample updates.
        with vt.no_grad():
            if running_mean is not None:
                running_mean.copy_(mean_rows.view(n, c).mean(0))
            if running_var is not None:
                running_var.copy_(var_rows.view(n, c).mean(0))
    return out.reshape(input.shape)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    if input.dim() < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.dim()} dimensions)")
    if input.numel() == 0:
        return input
    n, c = input.shape[0], input.shape[1]
    squares = (input * input).flatten(2)
    # Mean of the squares over `size` neighbouring channels, zero-padded size // 2 before and
    # (size - 1) // 2 after.
    padded = _nn.pad(squares, [0, 0, size // 2, (size - 1) // 2])
    div = padded.unfold(1, size, 1).mean(-1).reshape(input.shape)
    return input / power(div * alpha + k, float(beta))


# ---- embedding bags

def _bags(input, offsets, per_sample_weights, include_last_offset):
    """torch's two ways of giving bags (a 2-D batch of equal bags, or 1-D indices with offsets)
    as flat indices, flat per-sample weights, and each bag's [start, end)."""
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError(f"if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {type(offsets)}")
        length = input.shape[1]
        starts = [b * length for b in range(input.shape[0])]
        ends = [s + length for s in starts]
        flat_weights = None if per_sample_weights is None else per_sample_weights.reshape(-1)
        return input.reshape(-1), flat_weights, starts, ends
    if input.dim() != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    if offsets.dim() != 1:
        raise ValueError("offsets has to be a 1D Tensor")
    bounds, count = offsets.tolist(), input.numel()
    if bounds and bounds[0] != 0:
        raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                           f"position 0. However, got {bounds[0]}")
    if bounds and bounds[-1] > count:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {count}, but got {bounds[-1]}")
    if any(b < a for a, b in zip(bounds, bounds[1:])):
        raise RuntimeError(f"embedding_bag: offsets has to be non-decreasing, got {bounds}")
    if include_last_offset:  # CSR offsets: the last one ends the last bag
        starts, ends = bounds[:-1], bounds[1:]
        used = ends[-1] if ends else 0  # indices past the last bag belong to none
        input = input.narrow(0, 0, used)
        per_sample_weights = None if per_sample_weights is None else per_sample_weights.narrow(0, 0, used)
        return input, per_sample_weights, starts, ends
    return input, per_sample_weights, bounds, bounds[1:] + [count]


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    if weight.dtype == vt.int64 and input.is_floating_point():
        warnings.warn("Argument order of nn.functional.embedding_bag was changed. Usage `embedding_bag(weight, "
                      "input, ...)` is deprecated, and should now be `embedding_bag(input, weight, ...)`.",
                      stacklevel=2)
        weight, input = input, weight
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, then it "
                         f"must have the same shape as the input ({input.shape})")
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    input, per_sample_weights, starts, ends = _bags(input, offsets, per_sample_weights, include_last_offset)
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if max_norm is not None:
        raise NotImplementedError("embedding_bag(): max_norm is not supported yet")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  f"GitHub.")
    if sparse:
        raise NotImplementedError("embedding_bag(): sparse gradients are not supported yet")
    if input.is_floating_point():
        raise RuntimeError(f"embedding_bag: expected input to be an integer tensor, got {input.dtype}")
    count, rows, device = input.numel(), weight.shape[0], weight.device
    if count and (int(input.min()) < 0 or int(input.max()) >= rows):
        position, value = next((i, v) for i, v in enumerate(input.tolist()) if not 0 <= v < rows)
        raise RuntimeError(f"Index {position} of input takes value {value} which is not in the valid range "
                           f"[0, {rows})")
    if padding_idx is not None and not -rows <= padding_idx < rows:
        raise RuntimeError(f"padding_idx must be within the number of embeddings, -{rows} through {rows - 1}, but "
                           f"got {padding_idx}")

    # Entries equal to padding_idx are left out of their bag (and of its size, for the mean).
    kept = None if padding_idx is None else input != padding_idx % rows
    vectors = weight.index_select(0, input)  # [count, D]
    if scale_grad_by_freq and vectors.requires_grad:
        # Each row's gradient is divided by how often its index occurs in the batch.
        freq = vt.bincount(input, minlength=rows).index_select(0, input).to(weight.dtype).unsqueeze(1)
        vectors.register_hook(lambda grad: grad / freq)
    if per_sample_weights is not None:
        vectors = vectors * per_sample_weights.unsqueeze(1)
    if kept is not None:
        vectors = vt.where(kept.unsqueeze(1), vectors, 0)
    if mode == "max":
        return _bag_max(vectors, kept, starts, ends, weight)
    bag_of = vt.repeat_interleave(vt.arange(len(starts), device=device),
                                  vt.tensor([e - s for s, e in zip(starts, ends)], dtype=vt.int64, device=device))
    total = vt.zeros(len(starts), weight.shape[1], dtype=weight.dtype, device=device).index_add(0, bag_of, vectors)
    if mode == "sum":
        return total
    members = vt.ones(count, dtype=weight.dtype, device=device) if kept is None else kept.to(weight.dtype)
    sizes = vt.zeros(len(starts), dtype=weight.dtype, device=device).index_add(0, bag_of, members)
    return total / sizes.clamp(min=1).unsqueeze(1)  # empty bags stay 0


def _bag_max(vectors, kept, starts, ends, weight):
    """Elementwise max over each bag (0 for an empty bag): the bags padded to a common length
    with -inf, by repeating their last index."""
    bags, longest = len(starts), max([e - s for s, e in zip(starts, ends)], default=0)
    if longest == 0:
        return vt.zeros(bags, weight.shape[1], dtype=weight.dtype, device=weight.device)
    device = vectors.device
    positions = vt.tensor([[min(s + j, e - 1) if e > s else 0 for j in range(longest)] for s, e in zip(starts, ends)],
                          dtype=vt.int64, device=device).reshape(-1)
    valid = vt.tensor([[s + j < e for j in range(longest)] for s, e in zip(starts, ends)], dtype=vt.bool,
                      device=device)
    if kept is not None:
        valid = valid.logical_and(kept.index_select(0, positions).reshape(bags, longest))
    padded = vectors.index_select(0, positions).reshape(bags, longest, weight.shape[1])
    best = padded.masked_fill(valid.logical_not().unsqueeze(-1), -math.inf).max(1).values
    return vt.where(valid.any(1, keepdim=True), best, 0)


# ---- affine grids

def _unit_range(steps, align_corners, dtype, device):
    """`steps` points spanning [-1, 1] (their corners) or, without align_corners, their centres."""
    if steps <= 1:
        return vt.zeros(max(steps, 0), dtype=dtype, device=device)
    scale = 1.0 if align_corners else (steps - 1) / steps
    values = [(-1.0 + 2.0 * i / (steps - 1)) * scale for i in range(steps)]
    return vt.tensor(values, dtype=dtype, device=device)


def affine_grid(theta, size, align_corners=None):
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                      "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                      "grid_sample for details.", stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = list(size)
    if len(size) == 4:
        if theta.dim() != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. "
                             f"Got {theta.shape}.")
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.dim() != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. "
                             f"Got {theta.shape}.")
        spatial = size[-3:]
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the documentation "
                      "of affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    n = size[0]
    # Homogeneous coordinates of every output point, x (the last spatial dim) first: [*spatial, nd + 1].
    nd = len(spatial)
    axes = []
    for i, steps in enumerate(spatial):
        shape = [1] * nd
        shape[i] = steps
        axes.append(_unit_range(steps, align_corners, theta.dtype, theta.device).reshape(shape).expand(spatial))
    ones = vt.ones(spatial, dtype=theta.dtype, device=theta.device)
    base = vt.stack(axes[::-1] + [ones], -1).reshape(1, -1, nd + 1)
    grid = base.matmul(theta.transpose(1, 2))  # [N, points, nd]
    return grid.reshape([n] + spatial + [nd])


# ---- __torch_function__ helpers (vibetensor's own tensors never override functions)

def _overriding(args):
    return [a for a in args if not isinstance(a, vt.Tensor) and hasattr(type(a), "__torch_function__")]


def has_torch_function(relevant_args):
    return bool(_overriding(relevant_args))


def has_torch_function_unary(input):
    return bool(_overriding((input,)))


def has_torch_function_variadic(*args):
    return bool(_overriding(args))


def handle_torch_function(public_api, relevant_args, *args, **kwargs):
    overriding = _overriding(relevant_args)
    types = tuple(type(a) for a in overriding)
    for arg in overriding:
        result = type(arg).__torch_function__(public_api, types, args, kwargs)
        if result is not NotImplemented:
            return result
    raise TypeError(f"no implementation found for '{getattr(public_api, '__name__', public_api)}' on types that "
                    f"implement __torch_function__: {[type(a) for a in overriding]}")


def boolean_dispatch(arg_name, arg_index, default, if_true, if_false, module_name, func_name):
    """A function that calls `if_true` or `if_false` depending on a boolean argument, given by
    keyword or at position `arg_index` (torch picks max_pool's return_indices variants this way)."""
    def fn(*args, **kwargs):
        if arg_name in kwargs:
            flag = kwargs[arg_name]
        elif arg_index < len(args):
            flag = args[arg_index]
        else:
            flag = default
        return if_true(*args, **kwargs) if flag else if_false(*args, **kwargs)

    if module_name is not None:
        fn.__module__ = module_name
    if func_name is not None:
        fn.__name__ = func_name
        fn.__qualname__ = func_name
    fn.__doc__ = if_true.__doc__ or if_false.__doc__
    return fn


def assert_int_or_pair(arg, arg_name, message):
    assert isinstance(arg, int) or len(arg) == 2, message.format(arg_name)
