"""Losses of torch.nn.functional that compose vibetensor's ops, with torch's signatures.

Each computes the unreduced loss and hands it to `_reduce` (`apply_reduction`: `reduce` is the
name of torch's legacy argument), which owns the reduction names.
"""
import math
import warnings

import vibetensor as vt
from vibetensor._C import _nn
from vibetensor.nn._utils import apply_reduction as _reduce
from vibetensor.nn._utils import check_reduction, clamp_min_straight_through, legacy_reduction
from vibetensor.nn._misc import pairwise_distance


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    batchmean = reduction == "batchmean"
    if not batchmean:
        check_reduction(reduction)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = vt.xlogy(target, target) - target * input
    if batchmean:
        total = loss.sum()
        return total / input.shape[0] if input.dim() != 0 else total
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    reduction = check_reduction(legacy_reduction(size_average, reduce, reduction))
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        # Stirling's approximation of log(target!), which torch counts only for targets above 1.
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = vt.ones_like(input) * var
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)  # one variance per row of the last dim (homoscedastic)
        elif not (input.dim() == var.dim()
                  and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = clamp_min_straight_through(var, eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                      "This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=2)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    if weight is not None and tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    check_reduction(reduction)
    diff = input - target
    distance = diff.abs()
    loss = vt.where(distance < delta, 0.5 * diff * diff, delta * (distance - 0.5 * delta))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = check_reduction(legacy_reduction(size_average, reduce, reduction))
    # torch's result has the input's dtype whatever the target's.
    return _reduce((-input * target).exp().log1p().to(input.dtype), reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    reduction = check_reduction(legacy_reduction(size_average, reduce, reduction))
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ")
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    reduction = check_reduction(legacy_reduction(size_average, reduce, reduction))
    # A target of 1 charges the input itself, -1 the hinge; other values (torch allows them) charge both.
    hinge = vt.where(target != 1, (margin - input).clamp(min=0), 0)
    direct = vt.where(target != -1, input, 0)
    return _reduce(hinge + direct, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    reduction = check_reduction(legacy_reduction(size_average, reduce, reduction))
    if target.dim() not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    expected = target.dim() + 1
    if input1.dim() != expected or input2.dim() != expected:
        raise RuntimeError(f"{target.dim()}D target tensor expects {expected}D input tensors, but found inputs with "
                           f"sizes {list(input1.shape)} and {list(input2.shape)}.")
    dim = target.dim()
    dot = (input1 * input2).sum(dim)
    # torch adds this epsilon to both squared magnitudes before the square root.
    squared1 = (input1 * input1).sum(dim) + 1e-12
    squared2 = (input2 * input2).sum(dim) + 1e-12
    cos = dot / (squared1 * squared2).sqrt()
    loss = vt.where(target == 1, 1 - cos, 0) + vt.where(target == -1, (cos - margin).clamp(min=0), 0)
    return _reduce(loss, reduction)


def _margin_loss_shape(input, fn):
    """(samples, classes) of a margin loss input: a vector, a matrix, or a scalar (one class)."""
    nd = input.dim()
    if not ((nd == 2 and input.shape[1] != 0) or (nd == 1 and input.shape[0] != 0) or nd == 0):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(input.shape)}")
    samples = input.shape[0] if nd == 2 else 1
    classes = input.shape[-1] if nd >= 1 else 1
    return samples, classes


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = check_reduction(legacy_reduction(size_average, reduce, reduction))
    samples, classes = _margin_loss_shape(input, "multilabel_margin_loss")
    if input.dim() <= 1:
        consistent = target.dim() <= 1 and target.numel() == classes
    else:
        consistent = target.dim() == 2 and tuple(target.shape) == tuple(input.shape)
    if not consistent:
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: {list(input.shape)}")
    x = input.reshape(samples, classes)
    t = target.reshape(samples, classes)
    if t.numel() and (int(t.min()) < -1 or int(t.max()) >= classes):
        raise RuntimeError("argument #2 'target' is out of range")
    # A row lists its target classes up to the first -1.
    valid = (t < 0).cumsum(1) == 0
    labels = t.clamp(min=0)
    is_target = (_nn.one_hot(labels, classes) * valid.unsqueeze(-1).to(vt.int64)).amax(1) > 0
    # hinge(j, i) = max(0, 1 - (x[target_j] - x[i])) for every valid target j and non-target class i;
    # relu has torch's zero gradient at the kink.
    hinge = (1 - x.gather(1, labels).unsqueeze(-1) + x.unsqueeze(1)).relu()
    counted = valid.unsqueeze(-1).logical_and(is_target.logical_not().unsqueeze(1))
    loss = vt.where(counted, hinge, 0).sum((1, 2)) / classes
    if input.dim() <= 1:
        loss = loss.reshape([])
    return _reduce(loss, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    loss = -(target * _log_sigmoid(input) + (1 - target) * _log_sigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(class_dim) / input.shape[class_dim]
    return _reduce(loss, reduction)


def _log_sigmoid(x):
    return -_nn.softplus(-x)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    reduction = check_reduction(legacy_reduction(size_average, reduce, reduction))
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    samples, classes = _margin_loss_shape(input, "multi_margin_loss")
    if target.dim() > 1 or target.numel() != samples:
        raise RuntimeError(f"multi_margin_loss: target tensor should be 1-D with size equal to the number of input "
                           f"samples (batch size). Expected target size [{samples}], but got {list(target.shape)}. "
                           f"Input has shape {list(input.shape)}.")
    if weight is not None and weight.numel() != classes:
        raise RuntimeError(f"inconsistent weight size, expected {classes} but got {list(weight.shape)}")
    labels = target.reshape(samples, 1)
    if samples and (int(labels.min()) < 0 or int(labels.max()) >= classes):
        raise RuntimeError("target out of range")
    x = input.reshape(samples, classes)
    hinge = (margin - x.gather(1, labels) + x).relu()
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * weight.index_select(0, labels.reshape(-1)).unsqueeze(1)
    own_class = _nn.one_hot(labels.reshape(-1), classes) != 0
    loss = hinge.masked_fill(own_class, 0).sum(1) / classes
    return _reduce(loss.reshape(target.shape), reduction)


def _check_triplet_dims(anchor, positive, negative):
    a, p, n = anchor.dim(), positive.dim(), negative.dim()
    if not (a == p and p == n):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a}D, positive {p}D, and negative {n}D inputs")


def _triplet_loss(anchor, positive, negative, distance, margin, swap, reduction):
    distance_positive = distance(anchor, positive)
    distance_negative = distance(anchor, negative)
    if swap:
        # Balntas et al.: if the positive is closer to the negative than the anchor is, use that distance.
        distance_negative = vt.minimum(distance_negative, distance(positive, negative))
    return _reduce((margin + distance_positive - distance_negative).clamp(min=0), reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    reduction = check_reduction(legacy_reduction(size_average, reduce, reduction))
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    return _triplet_loss(anchor, positive, negative, lambda a, b: pairwise_distance(a, b, p, eps), margin, swap,
                         reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    distance = pairwise_distance if distance_function is None else distance_function
    return _triplet_loss(anchor, positive, negative, distance, margin, swap, reduction)


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None, reduction="mean",
                         ignore_index=None, label_smoothing=0.0, options=None):
    # `options` selects torch's memory-saving chunked evaluation; the value is the same without it.
    if input.dim() < 1 or input.dim() > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.dim()}")
    if linear_weight.dim() < 2:
        raise RuntimeError(f"expected linear_weight with dimensionality at least 2, got {linear_weight.dim()}")
    batch = tuple(input.shape[:-1])
    in_features = input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError(f"expected equal input and linear_weight last dimensions (in_features), got "
                           f"{in_features} and {linear_weight.shape[-1]}, respectively")
    classes = linear_weight.shape[0]
    out_features = tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(classes, *out_features)}, got {tuple(linear_bias.shape)}")
    if out_features and not batch:
        raise RuntimeError(f"K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)} requires "
                           f"batched input, (N, {in_features}), got unbatched input with shape {tuple(input.shape)}")
    logits_shape = (*batch, classes, *out_features)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    logits = input.matmul(linear_weight.reshape(-1, in_features).t()).reshape(logits_shape)
    if linear_bias is not None:
        logits = logits + linear_bias
    return _nn.cross_entropy(logits, target, weight, ignore_index=-100 if ignore_index is None else ignore_index,
                             reduction=reduction, label_smoothing=label_smoothing)


# A stand-in for log(0) in the CTC recursion: finite, so that the log-sum-exp of unreachable
# states and its gradient stay finite (with -inf they would be NaN), yet so far below any real
# log-likelihood that it marks an impossible alignment.
_CTC_IMPOSSIBLE = -1e30


def _lengths(lengths, name):
    values = lengths.reshape(-1).tolist() if isinstance(lengths, vt.Tensor) else [int(v) for v in lengths]
    for v in values:
        if v < 0:
            raise RuntimeError(f"Expected {name} to have value at least 0, but got value {v} (while checking "
                               f"arguments for ctc_loss)")
    return values


def _ctc_padded_targets(targets, target_lengths, blank, device):
    """[N, longest] target labels, from a padded matrix or all targets concatenated; entries past
    a sample's length become blank, so that they index a real class."""
    longest = max(target_lengths, default=0)
    targets = targets.to(vt.int64)
    if targets.dim() == 1:
        if targets.shape[0] != sum(target_lengths):
            raise RuntimeError(f"Expected tensor to have size {sum(target_lengths)} at dimension 0, but got size "
                               f"{targets.shape[0]} for argument #2 'targets' (while checking arguments for ctc_loss)")
        rows, start = [], 0
        for length in target_lengths:
            rows.append(_nn.pad(targets.narrow(0, start, length), [0, longest - length], value=blank))
            start += length
        targets = vt.stack(rows) if rows else vt.zeros(0, longest, dtype=vt.int64, device=device)
    elif targets.shape[-1] < longest:
        raise RuntimeError(f"Expected tensor to have size at least {longest} at dimension 1, but got size "
                           f"{targets.shape[-1]} for argument #2 'targets' (while checking arguments for ctc_loss)")
    lengths = vt.tensor(target_lengths, dtype=vt.int64, device=device)
    past_end = vt.arange(longest, device=device) >= lengths.unsqueeze(1)
    return targets.narrow(1, 0, longest).masked_fill(past_end, blank)


def _ctc_log_likelihood(log_probs, targets, input_lengths, target_lengths, blank):
    """log p(target | input) per sample by the forward (alpha) recursion over the extended target
    blank, l1, blank, l2, ..., blank; _CTC_IMPOSSIBLE where no alignment exists."""
    steps, batch, _ = log_probs.shape
    device = log_probs.device
    states = 2 * targets.shape[1] + 1
    extended = vt.full((batch, states), blank, dtype=vt.int64, device=device)
    extended[:, 1::2] = targets
    emit = log_probs.gather(2, extended.unsqueeze(0).expand(steps, batch, states))  # [T, N, states]
    # A label state (odd position) may also be entered from two back, skipping the blank, when
    # its label differs from the previous one.
    skip = vt.zeros(batch, states, dtype=vt.bool, device=device)
    skip[:, 3::2] = extended[:, 3::2] != extended[:, 1:-2:2]
    input_len = vt.tensor(input_lengths, dtype=vt.int64, device=device)
    target_len = vt.tensor(target_lengths, dtype=vt.int64, device=device)

    unreachable = vt.full((batch, 2), _CTC_IMPOSSIBLE, dtype=log_probs.dtype, device=device)
    alpha = vt.where(vt.arange(states, device=device) < 2, emit[0], _CTC_IMPOSSIBLE)  # start on blank or l1
    for t in range(1, max(input_lengths, default=0)):
        one_back = vt.cat([unreachable[:, :1], alpha[:, :-1]], 1)
        two_back = vt.where(skip, vt.cat([unreachable, alpha[:, :-2]], 1), _CTC_IMPOSSIBLE)
        advanced = vt.stack([alpha, one_back, two_back]).logsumexp(0) + emit[t]
        alpha = vt.where((input_len > t).unsqueeze(1), advanced, alpha)  # finished samples keep theirs
    # A path ends on the last label or on the blank after it.
    last = alpha.gather(1, (2 * target_len).unsqueeze(1))
    before = alpha.gather(1, (2 * target_len - 1).clamp(min=0).unsqueeze(1))
    before = vt.where((target_len > 0).unsqueeze(1), before, _CTC_IMPOSSIBLE)
    likelihood = vt.cat([last, before], 1).logsumexp(1)
    # With no input steps only the empty target is possible (with probability 1).
    return vt.where(input_len == 0, vt.where(target_len == 0, 0.0, _CTC_IMPOSSIBLE), likelihood)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """Connectionist temporal classification (Graves et al., 2006), in log space, all samples
    and target positions at once."""
    check_reduction(reduction)
    if log_probs.dtype not in (vt.float32, vt.float64):
        raise NotImplementedError(f'"ctc_loss_cpu" not implemented for {log_probs.dtype}')
    if log_probs.numel() == 0:
        raise RuntimeError("log_probs tensor must not be empty")
    unbatched = log_probs.dim() == 2
    if unbatched:
        log_probs, targets = log_probs.unsqueeze(1), targets.unsqueeze(0)
    if log_probs.dim() != 3:
        raise RuntimeError(f"ctc_loss: expected log_probs to be 2-D or 3-D, got {log_probs.dim()}-D")
    steps, batch, classes = log_probs.shape
    input_lengths = _lengths(input_lengths, "input_lengths")
    target_lengths = _lengths(target_lengths, "target_lengths")
    if len(input_lengths) != batch:
        raise RuntimeError("input_lengths must be of size batch_size")
    if len(target_lengths) != batch:
        raise RuntimeError("target_lengths must be of size batch_size")
    if not 0 <= blank < classes:
        raise RuntimeError("blank must be in label range")
    for length in input_lengths:
        if length > steps:
            raise RuntimeError(f"Expected input_lengths to have value at most {steps}, but got value {length} (while "
                               f"checking arguments for ctc_loss)")
    targets = _ctc_padded_targets(targets, target_lengths, blank, log_probs.device)
    likelihood = _ctc_log_likelihood(log_probs, targets, input_lengths, target_lengths, blank)
    impossible = likelihood < _CTC_IMPOSSIBLE / 2
    loss = vt.where(impossible, 0.0 if zero_infinity else math.inf, -likelihood)
    if reduction == "mean":  # each sample's loss per target label, then the batch mean
        lengths = vt.tensor(target_lengths, dtype=loss.dtype, device=loss.device)
        return (loss / lengths.clamp(min=1)).mean()
    return _reduce(loss.reshape([]) if unbatched else loss, reduction)


def _weighted_elementwise_loss(unreduced, input, target, size_average, reduce, reduction, weight):
    """torch's weighted mse_loss / l1_loss: the weighted losses, and for 'mean' their sum over the sum of weights."""
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    loss = unreduced(input, target, reduction="none") * weight
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.sum() / weight.sum()


# The C++ losses, with torch 2.13's `weight` handled here.
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    if weight is None:
        return _nn.mse_loss(input, target, size_average, reduce, reduction)
    return _weighted_elementwise_loss(_nn.mse_loss, input, target, size_average, reduce, reduction, weight)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    if weight is None:
        return _nn.l1_loss(input, target, size_average, reduce, reduction)
    return _weighted_elementwise_loss(_nn.l1_loss, input, target, size_average, reduce, reduction, weight)
