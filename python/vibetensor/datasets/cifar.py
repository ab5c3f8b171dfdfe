"""CIFAR-10 from its binary version (cifar-10-binary.tar.gz, extracted).

Each of data_batch_1.bin .. data_batch_5.bin (train) and test_batch.bin (test) is a run of
3073-byte records: one label byte, then 1024 red, 1024 green and 1024 blue pixel bytes, each a
32 x 32 row-major plane, so the records reshape directly to N x 3 x 32 x 32. Files are looked
for in `root` and in `root/cifar-10-batches-bin`. Nothing is downloaded.
"""
import os

import numpy as np

import vibetensor as vt
from vibetensor.datasets._vision import ImageClassificationDataset, find_file

_IMAGE_BYTES = 3 * 32 * 32
_RECORD_BYTES = 1 + _IMAGE_BYTES


def read_cifar_batch(path):
    """(images uint8 N x 3 x 32 x 32, labels uint8 N) from one CIFAR-10 binary file."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) == 0 or len(raw) % _RECORD_BYTES != 0:
        raise ValueError(f"CIFAR10(): {path} is truncated or not a CIFAR-10 binary file: {len(raw)} bytes "
                         f"is not a whole number of {_RECORD_BYTES}-byte records")
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _RECORD_BYTES)
    labels = records[:, 0]
    if labels.max() >= len(CIFAR10.classes):  # the format has no magic number: this is its sanity check
        raise ValueError(f"CIFAR10(): {path} is not a CIFAR-10 binary file: label {int(labels.max())} "
                         f"found, labels are 0..{len(CIFAR10.classes) - 1}")
    return records[:, 1:].reshape(-1, 3, 32, 32), labels


class CIFAR10(ImageClassificationDataset):
    """CIFAR-10: `.data` uint8 N x 3 x 32 x 32 (channels first, unlike torchvision's N x 32 x 32
    x 3 numpy array), `.targets` int64 N (50000 train, 10000 test)."""

    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    train_files = [f"data_batch_{i}.bin" for i in range(1, 6)]
    test_files = ["test_batch.bin"]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        if download:
            raise NotImplementedError("CIFAR10(): download=True is not supported; "
                                      "vibetensor only reads files already on disk")
        self.root = root
        self.train = train
        folders = [root, os.path.join(root, "cifar-10-batches-bin")]
        hint = ("Download and extract the binary version, cifar-10-binary.tar.gz, from "
                "https://www.cs.toronto.edu/~kriz/cifar.html")
        batches = [read_cifar_batch(find_file(folders, [name], hint))
                   for name in (self.train_files if train else self.test_files)]
        images = np.concatenate([images for images, _ in batches])
        labels = np.concatenate([labels for _, labels in batches])
        super().__init__(vt.from_numpy(images), vt.from_numpy(labels), transform, target_transform)
