"""vibetensor.nn: neural-network building blocks (so far the functional activations)."""
from vibetensor.nn import functional
