"""vibetensor.backends: the switches of torch.backends that apply here (backends.cuda.matmul)."""
from vibetensor.backends import cuda  # noqa: F401
