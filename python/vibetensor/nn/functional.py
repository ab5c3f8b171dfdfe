"""torch.nn.functional's activations. Each is the C++-bound function itself (no Python
wrapper per call)."""
from vibetensor._C import _nn

elu, gelu, hardtanh, leaky_relu, mish = _nn.elu, _nn.gelu, _nn.hardtanh, _nn.leaky_relu, _nn.mish
relu, sigmoid, silu, softplus, tanh = _nn.relu, _nn.sigmoid, _nn.silu, _nn.softplus, _nn.tanh
softmax, log_softmax = _nn.softmax, _nn.log_softmax
