"""F.multi_head_attention_forward and its mask helpers (torch.nn.functional), composed of
registered ops so autograd covers them.

The public function takes torch's sequence-first layout, query (L, N, E) and key and value
(S, N, E), and works batch-first inside, where splitting the heads out of a projection is a
view. With need_weights=False the heads go through F.scaled_dot_product_attention; with
need_weights=True the softmax weights are computed explicitly so they can be returned.
"""
import math
import warnings

from vibetensor import _C
from vibetensor._C import _nn

__all__ = ["multi_head_attention_forward"]


def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A boolean mask (True = masked) as an additive float mask of `target_type`; float masks pass through."""
    if mask is None:
        return None
    is_float = mask.is_floating_point()
    if mask.dtype != _C.bool and not is_float:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for both "
                      "instead.", stacklevel=3)
    if not is_float:
        mask = _C.zeros_like(mask, dtype=target_type).masked_fill_(mask, float("-inf"))
    return mask


def _none_or_dtype(input):
    if input is None:
        return None
    if isinstance(input, _C.Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or vibetensor.Tensor")


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Whether the input is batched (3-D) or not (2-D), after torch's shape checks."""
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but "
                                 f"found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                                 f"found {attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but "
                                 f"found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                                     f"but found {attn_mask.dim()}-D tensor instead")
            if attn_mask.dim() == 3:
                expected_shape = (num_heads, query.shape[0], key.shape[0])
                if tuple(attn_mask.shape) != expected_shape:
                    raise AssertionError(f"Expected `attn_mask` shape to be {expected_shape} but got "
                                         f"{attn_mask.shape}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D query "
                         "tensor")


def _in_projection_packed(q, k, v, w, b=None):
    """q, k, v projected by the stacked (3E, E) weight, with one matmul when they are the same tensor."""
    E = q.size(-1)
    if k is v and q is k:  # self-attention
        return _nn.linear(q, w, b).unflatten(-1, (3, E)).unbind(-2)
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    if k is v:  # encoder-decoder attention: key and value share one matmul
        kv = _nn.linear(k, _C.cat([w_k, w_v]), None if b is None else _C.cat([b_k, b_v])).unflatten(-1, (2, E))
        return (_nn.linear(q, w_q, b_q), *kv.unbind(-2))
    return _nn.linear(q, w_q, b_q), _nn.linear(k, w_k, b_k), _nn.linear(v, w_v, b_v)


def _map_distinct(fn, query, key, value):
    """fn applied to query, key and value, once per distinct tensor: `query is key` and `key is
    value` stay as they were, so self-attention keeps its single packed projection."""
    k = fn(key)
    v = k if value is key else fn(value)
    q = k if query is key else fn(query)
    return q, k, v


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False, _batch_first=False):
    """torch's F.multi_head_attention_forward. `_batch_first` (ours) takes and returns (N, L, E)
    tensors, the layout the work is done in: nn.MultiheadAttention(batch_first=True) passes its
    inputs straight through, and then no step copies for a change of layout."""
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    batch_dim = 0 if _batch_first else 1
    if not is_batched:  # treat an unbatched input as a batch of one
        query, key, value = _map_distinct(lambda x: x.unsqueeze(batch_dim), query, key, value)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    if not _batch_first:
        query, key, value = _map_distinct(lambda x: x.transpose(0, 1), query, key, value)
    output, weights = _attention_batch_first(
        query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
        add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training, key_padding_mask, need_weights,
        attn_mask, use_separate_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight, static_k, static_v,
        average_attn_weights, is_causal)
    if not _batch_first:
        output = output.transpose(0, 1)
    if not is_batched:
        output = output.squeeze(batch_dim)
        if weights is not None:
            weights = weights.squeeze(0)
    return output, weights


def _split_heads(x, num_heads):
    """(N, L, E) -> (N, heads, L, head_dim): a view, as the attention kernel takes strided heads."""
    return x.unflatten(-1, (num_heads, -1)).transpose(1, 2)


def _attention_batch_first(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k,
                           bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training,
                           key_padding_mask, need_weights, attn_mask, use_separate_proj_weight, q_proj_weight,
                           k_proj_weight, v_proj_weight, static_k, static_v, average_attn_weights, is_causal):
    """The batched body: query (N, L, E), key and value (N, S, E); returns (N, L, E) and the weights."""
    bsz, tgt_len, embed_dim = query.shape
    src_len = key.shape[1]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", _none_or_dtype(attn_mask), "attn_mask",
                                       query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # scaled_dot_product_attention builds the causal mask itself
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False  # the masks are merged below, so the hint no longer describes the mask
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"key's sequence and batch dims {key.shape[1::-1]} do not match value's "
                                 f"{value.shape[1::-1]}")
        b_q, b_k, b_v = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
        q = _nn.linear(query, q_proj_weight, b_q)
        k = _nn.linear(key, k_proj_weight, b_k)
        v = _nn.linear(value, v_proj_weight, b_v)
    else:
        if key.shape != value.shape:
            raise AssertionError(f"key shape {key.transpose(0, 1).shape} does not match value shape "
                                 f"{value.transpose(0, 1).shape}")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)

    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")

    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = _C.cat([k, bias_k.transpose(0, 1).expand(bsz, 1, embed_dim)], dim=1)
        v = _C.cat([v, bias_v.transpose(0, 1).expand(bsz, 1, embed_dim)], dim=1)
        if attn_mask is not None:
            attn_mask = _nn.pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = _nn.pad(key_padding_mask, (0, 1))
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k is set but bias_v is None" if bias_k is not None
                             else "bias_v is set but bias_k is None")

    # static_k and static_v come as (N * heads, S, head_dim), as in torch.
    q = _split_heads(q, num_heads)
    k = _split_heads(k, num_heads) if static_k is None else static_k.unflatten(0, (bsz, num_heads))
    v = _split_heads(v, num_heads) if static_v is None else static_v.unflatten(0, (bsz, num_heads))
    if add_zero_attn:
        zeros = _C.zeros((bsz, num_heads, 1, head_dim), dtype=k.dtype, device=k.device)
        k = _C.cat([k, zeros], dim=2)
        v = _C.cat([v, zeros], dim=2)
        if attn_mask is not None:
            attn_mask = _nn.pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = _nn.pad(key_padding_mask, (0, 1))
    src_len = k.size(2)

    if attn_mask is not None:  # (1 or N * heads, L, S) -> 4-D
        attn_mask = attn_mask.unsqueeze(0) if attn_mask.size(0) == 1 else attn_mask.unflatten(0, (bsz, num_heads))
    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got {key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.shape[1]}")
        key_padding_mask = key_padding_mask.reshape(bsz, 1, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    # attn_mask is now None or 4-D, broadcasting against (N, heads, L, S).
    if not training:
        dropout_p = 0.0

    if need_weights:
        if is_causal and attn_mask is None:
            raise AssertionError("FIXME: is_causal not implemented for need_weights")
        weights = _C.matmul(q * math.sqrt(1.0 / float(head_dim)), k.transpose(-2, -1))
        if attn_mask is not None:
            weights = weights + attn_mask
        weights = _nn.softmax(weights, dim=-1)
        if dropout_p > 0.0:
            weights = _nn.dropout(weights, p=dropout_p)
        output = _C.matmul(weights, v).transpose(1, 2).flatten(2)
        output = _nn.linear(output, out_proj_weight, out_proj_bias)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        return output, weights

    output = _nn.scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    return _nn.linear(output.transpose(1, 2).flatten(2), out_proj_weight, out_proj_bias), None
