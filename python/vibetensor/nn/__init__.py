"""vibetensor.nn: neural-network building blocks (so far torch.nn.functional)."""
from vibetensor.nn import functional
