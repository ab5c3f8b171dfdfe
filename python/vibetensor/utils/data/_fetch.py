"""Fetchers, as torch.utils.data._utils.fetch: turn what the index sampler yields (one index,
or a list of indices when batching automatically) into a collated batch. The same fetcher runs
in the main process and in worker processes.
"""
from vibetensor.utils.data._collate import default_collate
from vibetensor.utils.data.dataset import IterableDataset, TensorDataset


class MapDatasetFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        # default_collate of TensorDataset samples is, tensor by tensor, the stack of t[i] for
        # the batch's i, which equals t[indices]: index each tensor once instead of stacking
        # one row at a time: same values, dtypes and shapes, and an epoch of Fashion-MNIST-sized
        # data in batches of 256 runs 4.6x faster (bench/bench_dataloader.py).
        self.index_tensors_at_once = (auto_collation and collate_fn is default_collate
                                      and type(dataset).__getitem__ is TensorDataset.__getitem__)

    def fetch(self, index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self.index_tensors_at_once:
            return list(self.dataset[index])
        if callable(getattr(self.dataset, "__getitems__", None)):
            data = self.dataset.__getitems__(index)
        else:
            data = [self.dataset[i] for i in index]
        return self.collate_fn(data)


class IterableDatasetFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset_iter = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.ended = False

    def fetch(self, index):
        """`index` is only a count here: None per sample, or a list of Nones per batch."""
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.dataset_iter))
        data = []
        for _ in index:
            try:
                data.append(next(self.dataset_iter))
            except StopIteration:
                self.ended = True
                break
        if len(data) == 0 or (self.drop_last and len(data) < len(index)):
            raise StopIteration
        return self.collate_fn(data)


def create_fetcher(dataset, auto_collation, collate_fn, drop_last):
    kind = IterableDatasetFetcher if isinstance(dataset, IterableDataset) else MapDatasetFetcher
    return kind(dataset, auto_collation, collate_fn, drop_last)

