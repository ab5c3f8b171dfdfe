"""vibetensor.utils.data: datasets, samplers and the DataLoader, as torch.utils.data.

    dataset.py       Dataset, IterableDataset, TensorDataset, ConcatDataset, Subset, random_split, ...
    sampler.py       Sampler, SequentialSampler, RandomSampler, BatchSampler, ...
    _collate.py      default_collate, default_convert
    dataloader.py    DataLoader
    _fetch.py        dataset + indices -> collated batch (main process and workers alike)
    _iterators.py    the per-epoch iterator, single process
    _multiprocessing.py, _worker.py   the per-epoch iterator with worker processes
"""
from vibetensor.utils.data._collate import default_collate, default_convert
from vibetensor.utils.data._worker import WorkerInfo, get_worker_info
from vibetensor.utils.data.dataloader import DataLoader
from vibetensor.utils.data.dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset,
                                           Subset, TensorDataset, random_split)
from vibetensor.utils.data.sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                                           SubsetRandomSampler, WeightedRandomSampler)

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset",
           "RandomSampler", "Sampler", "SequentialSampler", "StackDataset", "Subset", "SubsetRandomSampler",
           "TensorDataset", "WeightedRandomSampler", "WorkerInfo", "default_collate", "default_convert",
           "get_worker_info", "random_split"]
