"""torch.nn.functional's activations. Each is the C++-bound function itself (no Python
wrapper per call)."""
from vibetensor._C import _nn

elu, gelu, hardtanh, leaky_relu, mish = _nn.elu, _nn.gelu, _nn.hardtanh, _nn.leaky_relu, _nn.mish
relu, sigmoid, silu, softplus, tanh = _nn.relu, _nn.sigmoid, _nn.silu, _nn.softplus, _nn.tanh
softmax, log_softmax = _nn.softmax, _nn.log_softmax
mse_loss, l1_loss, smooth_l1_loss = _nn.mse_loss, _nn.l1_loss, _nn.smooth_l1_loss
binary_cross_entropy, binary_cross_entropy_with_logits = _nn.binary_cross_entropy, _nn.binary_cross_entropy_with_logits
nll_loss, cross_entropy = _nn.nll_loss, _nn.cross_entropy
layer_norm, rms_norm, embedding = _nn.layer_norm, _nn.rms_norm, _nn.embedding
dropout = _nn.dropout
linear, one_hot, pad, scaled_dot_product_attention = _nn.linear, _nn.one_hot, _nn.pad, _nn.scaled_dot_product_attention
conv1d, conv2d, max_pool2d, avg_pool2d = _nn.conv1d, _nn.conv2d, _nn.max_pool2d, _nn.avg_pool2d
adaptive_avg_pool2d = _nn.adaptive_avg_pool2d
batch_norm, group_norm = _nn.batch_norm, _nn.group_norm
