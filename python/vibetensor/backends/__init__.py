"""vibetensor.backends: the switches of torch.backends that apply here (backends.cuda.matmul,
backends.cudnn)."""
from vibetensor.backends import cuda, cudnn  # noqa: F401
