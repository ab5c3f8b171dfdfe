"""vibetensor.utils: the counterparts of torch.utils (data loading, DLPack)."""
from vibetensor.utils import data, dlpack
