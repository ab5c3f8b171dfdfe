"""MNIST and Fashion-MNIST from their IDX files (raw or .gz), like torchvision.datasets.

Files are looked for in `root` itself (Debian's `dataset-fashion-mnist` layout:
/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz, ...) and then in torchvision's
`root/<ClassName>/raw/`. Nothing is downloaded.
"""
import os

from vibetensor.datasets._idx import read_idx
from vibetensor.datasets._vision import ImageClassificationDataset, find_file


class MNIST(ImageClassificationDataset):
    """The MNIST digits: `.data` uint8 N x 28 x 28, `.targets` int64 N (60000 train, 10000 test)."""

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    missing_hint = "Put the MNIST IDX files there (train-images-idx3-ubyte[.gz] and the others)."

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        if download:
            raise NotImplementedError(f"{type(self).__name__}(): download=True is not supported; "
                                      "vibetensor only reads files already on disk")
        self.root = root
        self.train = train
        split = "train" if train else "t10k"
        folders = [root, os.path.join(root, type(self).__name__, "raw")]
        images = read_idx(self._find(folders, f"{split}-images-idx3-ubyte"))
        labels = read_idx(self._find(folders, f"{split}-labels-idx1-ubyte"))
        if images.ndim != 3 or labels.ndim != 1:
            raise ValueError(f"{type(self).__name__}(): expected 3-d images and 1-d labels, "
                             f"got shapes {list(images.shape)} and {list(labels.shape)}")
        super().__init__(images, labels, transform, target_transform)

    def _find(self, folders, name):
        return find_file(folders, [name + ".gz", name], self.missing_hint)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: ten classes of clothing, the same format and sizes as MNIST.
    `root=None` reads Debian's copy (package `dataset-fashion-mnist`)."""

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    default_root = "/usr/share/datasets/fashion-mnist"
    missing_hint = "On Debian or Ubuntu: apt-get install dataset-fashion-mnist"

    def __init__(self, root=None, train=True, transform=None, target_transform=None, download=False):
        super().__init__(self.default_root if root is None else root, train, transform, target_transform, download)
