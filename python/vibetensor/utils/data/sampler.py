"""Samplers, as torch.utils.data.sampler: iterables of dataset indices (or of lists of indices,
for BatchSampler). All randomness comes from vibetensor's generators, so `vt.manual_seed(s)`
(or a seeded `vt.Generator` passed as `generator=`) reproduces an epoch's order.
"""
import itertools

import vibetensor as vt

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler", "SubsetRandomSampler",
           "WeightedRandomSampler"]

_INT64_MAX = 2**63 - 1


def _random_seed(generator=None):
    """A fresh non-negative int64 seed drawn from `generator` (the default one when None), the
    way torch draws `torch.empty((), dtype=torch.int64).random_(generator=generator)`.
    The bound is explicit because vibetensor's `random_(0, None)` does not mean "up to the
    dtype's maximum" yet."""
    return int(vt.empty((), dtype=vt.int64).random_(0, _INT64_MAX, generator=generator).item())


class Sampler:
    """Base class: subclasses implement `__iter__` (and `__len__` where they can)."""

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices (repeated when `num_samples` exceeds the length), or
    `num_samples` indices drawn with replacement. Without a `generator`, each epoch seeds a
    private generator from the default one, as torch does."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        generator = self.generator
        if generator is None:
            generator = vt.Generator()
            generator.manual_seed(_random_seed())
        if self.replacement:
            # Draw in chunks of 32, as torch does, so a long epoch never holds all its indices.
            for _ in range(self.num_samples // 32):
                yield from vt.randint(high=n, size=(32,), dtype=vt.int64, generator=generator).tolist()
            yield from vt.randint(high=n, size=(self.num_samples % 32,), dtype=vt.int64,
                                  generator=generator).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield from vt.randperm(n, generator=generator).tolist()
            yield from vt.randperm(n, generator=generator).tolist()[:self.num_samples % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order (a new one each epoch)."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in vt.randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """`num_samples` indices into `weights`, drawn with probabilities proportional to them."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        weights_tensor = vt.as_tensor(weights, dtype=vt.float64)
        if len(weights_tensor.shape) != 1:
            raise ValueError("weights should be a 1d sequence but given "
                             f"weights have shape {tuple(weights_tensor.shape)}")
        self.weights = weights_tensor
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        drawn = vt.multinomial(self.weights, self.num_samples, self.replacement, generator=self.generator)
        yield from iter(drawn.tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of `sampler` into lists of `batch_size`; the last, shorter list is
    kept unless `drop_last`."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        sampler_iter = iter(self.sampler)
        if self.drop_last:
            # zip over one iterator repeated batch_size times takes batch_size items per step
            # and stops at the first incomplete group.
            for batch in zip(*[sampler_iter] * self.batch_size):
                yield [*batch]
        else:
            batch = [*itertools.islice(sampler_iter, self.batch_size)]
            while batch:
                yield batch
                batch = [*itertools.islice(sampler_iter, self.batch_size)]

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
