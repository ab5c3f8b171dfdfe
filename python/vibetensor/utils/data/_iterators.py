"""The iterator a DataLoader returns for one epoch: the state both kinds share (index sampler,
base seed) and the single-process iterator, which fetches each batch in the calling thread.
"""
import warnings

from vibetensor.utils.data._fetch import create_fetcher
from vibetensor.utils.data.sampler import _random_seed


class BaseDataLoaderIter:
    """State shared by both iterators: the index sampler's iterator and the epoch's base seed."""

    def __init__(self, loader):
        self._dataset = loader.dataset
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._collate_fn = loader.collate_fn
        self._num_workers = loader.num_workers
        self._timeout = loader.timeout
        if loader.pin_memory:
            warnings.warn("'pin_memory' argument is set as true but vibetensor has no pinned memory yet, "
                          "then device pinned memory won't be used.", stacklevel=3)
        # Drawn every epoch, workers or not, as torch does: so `vt.manual_seed` before an
        # epoch fixes the same generator state whatever num_workers is.
        self._base_seed = _random_seed(loader.generator)
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0

    def __iter__(self):
        return self

    def _next_index(self):
        return next(self._sampler_iter)  # may raise StopIteration

    def __next__(self):
        data = self._next_data()
        self._num_yielded += 1
        return data

    def __len__(self):
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError(f"{type(self).__name__} cannot be pickled")


class SingleProcessDataLoaderIter(BaseDataLoaderIter):
    def __init__(self, loader):
        super().__init__(loader)
        self._fetcher = create_fetcher(self._dataset, self._auto_collation, self._collate_fn, self._drop_last)

    def _next_data(self):
        index = self._next_index()  # may raise StopIteration
        return self._fetcher.fetch(index)  # may raise StopIteration (an exhausted IterableDataset)

