"""The base of the image-classification datasets: a whole split held in two tensors.

Unlike torchvision, which returns PIL images, a sample is `(image, label)` with `image` a
uint8 tensor (H x W for MNIST-like data, 3 x H x W for CIFAR) and `label` a Python int;
`transform` and `target_transform`, when given, are applied to them. `as_tensors()` gives the
whole split at once as float32 images in [0, 1] with a channel dimension, for training loops
that index batches themselves.
"""
import os

import vibetensor as vt
from vibetensor.utils.data import Dataset


def find_file(folders, names, hint):
    """The first of `names` found in the first folder holding one; FileNotFoundError with
    every place looked at and `hint` otherwise."""
    for folder in folders:
        for name in names:
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                return path
    looked = ", ".join(os.path.join(folder, names[0]) for folder in folders)
    raise FileNotFoundError(f"dataset file not found: looked for {looked}. {hint}")


class ImageClassificationDataset(Dataset):
    classes = []
    train = True  # subclasses set the split they read

    def __init__(self, data, targets, transform=None, target_transform=None):
        if data.shape[0] != targets.shape[0]:
            raise ValueError(f"{type(self).__name__}: {data.shape[0]} images but {targets.shape[0]} labels")
        self.data = data  # uint8, N x H x W or N x C x H x W
        self.targets = targets.to(vt.int64)
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return self.data.shape[0]

    def __getitem__(self, index):
        image, label = self.data[index], int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    def as_tensors(self):
        """(images, labels): float32 N x C x H x W in [0, 1] (the value / 255 that torchvision's
        ToTensor gives) and int64 N. Ignores transform and target_transform."""
        images = self.data.to(vt.float32).div_(255)  # .to makes the copy the in-place div needs
        if images.ndim == 3:
            images = images.unsqueeze(1)
        return images, self.targets.clone()

    def __repr__(self):
        return f"{type(self).__name__}(split={'train' if self.train else 'test'}, {len(self)} samples)"
