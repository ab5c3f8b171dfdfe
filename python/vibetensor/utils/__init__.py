"""vibetensor.utils: the counterparts of torch.utils (data loading so far)."""
from vibetensor.utils import data
