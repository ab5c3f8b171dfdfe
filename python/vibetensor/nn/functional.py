"""torch.nn.functional for vibetensor.

The functions bound from C++ are the bound functions themselves (no Python wrapper per call).
The rest are Python compositions of registered ops, so autograd covers them with no code of
their own; they live by theme in `_activations`, `_losses`, `_pooling`, `_conv`, `_sampling` and `_misc`.
"""
from vibetensor._C import _nn

# ---- bound from C++
elu, gelu, hardtanh, leaky_relu, mish = _nn.elu, _nn.gelu, _nn.hardtanh, _nn.leaky_relu, _nn.mish
relu, sigmoid, silu, softplus, tanh = _nn.relu, _nn.sigmoid, _nn.silu, _nn.softplus, _nn.tanh
softmax, log_softmax = _nn.softmax, _nn.log_softmax
smooth_l1_loss = _nn.smooth_l1_loss
binary_cross_entropy, binary_cross_entropy_with_logits = _nn.binary_cross_entropy, _nn.binary_cross_entropy_with_logits
nll_loss, cross_entropy = _nn.nll_loss, _nn.cross_entropy
layer_norm, rms_norm, embedding = _nn.layer_norm, _nn.rms_norm, _nn.embedding
dropout = _nn.dropout
linear, one_hot, pad, scaled_dot_product_attention = _nn.linear, _nn.one_hot, _nn.pad, _nn.scaled_dot_product_attention
conv1d, conv2d = _nn.conv1d, _nn.conv2d
adaptive_avg_pool2d = _nn.adaptive_avg_pool2d
batch_norm, group_norm = _nn.batch_norm, _nn.group_norm

# ---- composed in Python
from vibetensor.nn._activations import (  # noqa: E402
    celu, celu_, elu_, glu, gumbel_softmax, hardshrink, hardsigmoid, hardswish, hardtanh_, leaky_relu_, logsigmoid,
    prelu, relu6, relu_, rrelu, rrelu_, selu, selu_, softmin, softshrink, softsign, tanhshrink, threshold, threshold_,
)
from vibetensor.nn._conv import (  # noqa: E402
    bilinear, conv3d, conv_tbc, conv_transpose1d, conv_transpose2d, conv_transpose3d,
)
from vibetensor.nn._losses import (  # noqa: E402
    cosine_embedding_loss, ctc_loss, gaussian_nll_loss, hinge_embedding_loss, huber_loss, kl_div, l1_loss,
    linear_cross_entropy, mse_loss,
    margin_ranking_loss, multi_margin_loss, multilabel_margin_loss, multilabel_soft_margin_loss, poisson_nll_loss,
    soft_margin_loss, triplet_margin_loss, triplet_margin_with_distance_loss,
)
from vibetensor.nn._misc import (  # noqa: E402
    affine_grid, alpha_dropout, assert_int_or_pair, boolean_dispatch, channel_shuffle, cosine_similarity, dropout1d,
    dropout2d, dropout3d, embedding_bag, feature_alpha_dropout, handle_torch_function, has_torch_function,
    has_torch_function_unary, has_torch_function_variadic, instance_norm, local_response_norm, native_channel_shuffle,
    normalize, pairwise_distance, pdist, pixel_shuffle, pixel_unshuffle,
)
# max_pool2d and avg_pool2d call the C++ kernels unless asked for what those lack (indices, ceil_mode).
from vibetensor.nn._pooling import (  # noqa: E402
    adaptive_avg_pool1d, adaptive_avg_pool3d, adaptive_max_pool1d, adaptive_max_pool1d_with_indices,
    adaptive_max_pool2d, adaptive_max_pool2d_with_indices, adaptive_max_pool3d, adaptive_max_pool3d_with_indices,
    avg_pool1d, avg_pool2d, avg_pool3d, fractional_max_pool2d, fractional_max_pool2d_with_indices,
    fractional_max_pool3d, fractional_max_pool3d_with_indices, lp_pool1d, lp_pool2d, lp_pool3d, max_pool1d,
    max_pool1d_with_indices, max_pool2d, max_pool2d_with_indices, max_pool3d, max_pool3d_with_indices, max_unpool1d,
    max_unpool2d, max_unpool3d,
)
from vibetensor.nn._sampling import fold, interpolate, unfold, upsample, upsample_bilinear, upsample_nearest  # noqa: E402
from vibetensor.nn._attention import (  # noqa: E402
    _canonical_mask, _in_projection_packed, _mha_shape_check, _none_or_dtype, multi_head_attention_forward,
)
