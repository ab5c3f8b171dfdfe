"""vibetensor.datasets: readers for common image-classification datasets already on disk.

    read_idx(path)                       any IDX file (MNIST's format), raw or gzip
    MNIST, FashionMNIST                  IDX files; FashionMNIST() reads Debian's dataset-fashion-mnist
    CIFAR10                              the CIFAR-10 binary version

Each dataset has `.data` (uint8 tensor), `.targets` (int64 tensor), `(image, label)` samples
for a DataLoader, and `as_tensors()` for the whole split as float32 in [0, 1].
"""
from vibetensor.datasets._idx import read_idx
from vibetensor.datasets.cifar import CIFAR10
from vibetensor.datasets.mnist import MNIST, FashionMNIST

__all__ = ["CIFAR10", "MNIST", "FashionMNIST", "read_idx"]
