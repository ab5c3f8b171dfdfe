"""vibetensor.utils.data against torch.utils.data (datasets, samplers, collate, DataLoader, worker
processes) and the dataset readers of vibetensor.datasets (IDX and CIFAR-10 files written here,
corrupt ones included, and Debian's Fashion-MNIST when it is installed)."""
import collections
import gc
import gzip
import multiprocessing
import os
import time
import warnings

import numpy as np
import pytest
import torch

import vibetensor as vt
import vibetensor.datasets as vds
from helpers import assert_same, compare, dtype_name

Point = collections.namedtuple("Point", ["x", "y"])


def assert_same_structure(actual, expected, what="result"):
    """Like assert_same, but container types must match exactly (collate turns tuples into
    lists, keeps namedtuples and dicts) and dicts are compared key by key."""
    if isinstance(expected, (dict, list, tuple)):
        assert type(actual) is type(expected), f"{what}: {type(actual).__name__} != torch's {type(expected).__name__}"
        if isinstance(expected, dict):
            assert list(actual) == list(expected), f"{what}: keys {list(actual)} != {list(expected)}"
            for key in expected:
                assert_same_structure(actual[key], expected[key], f"{what}[{key!r}]")
        else:
            assert len(actual) == len(expected), f"{what}: length {len(actual)} != {len(expected)}"
            for i, (a, e) in enumerate(zip(actual, expected)):
                assert_same_structure(a, e, f"{what}[{i}]")
    else:
        assert_same(actual, expected, what=what)


def epoch(loader):
    """One epoch of a table_dataset loader as the flat list of the sample indices it yields."""
    return [i for batch in loader for i in batch[1].tolist()]


def table_dataset(m, n=10):
    """A TensorDataset of n rows: features [i, 100 + i] (float32) and label i (int64)."""
    x = m.stack([m.arange(n, dtype=m.float32), m.arange(n, dtype=m.float32) + 100], 1)
    return m.utils.data.TensorDataset(x, m.arange(n))


# ---- datasets

def test_tensor_dataset():
    compare(lambda m: table_dataset(m)[3])
    compare(lambda m: table_dataset(m)[[4, 0, 4]])
    compare(lambda m: table_dataset(m)[m.tensor([9, 1])])
    compare(lambda m: table_dataset(m)[2:5])
    assert len(table_dataset(vt, 7)) == len(table_dataset(torch, 7)) == 7
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        vt.utils.data.TensorDataset(vt.zeros(3), vt.zeros(4))


def test_concat_subset_stack_datasets():
    def run(m):
        data = m.utils.data
        a, b = table_dataset(m, 3), table_dataset(m, 4)
        concat = a + b
        subset = data.Subset(concat, [6, 0, 3])
        stacked = data.StackDataset(a, data.Subset(b, [3, 2, 1]))
        named = data.StackDataset(left=a, right=a)
        return (len(concat), concat.cumulative_sizes, concat[0], concat[3], concat[-1], concat[-7],
                len(subset), subset[0], subset[[1, 2]], stacked[1], len(stacked), list(named[2].values()))
    compare(run)
    for bad in (-8, 7):
        compare(lambda m: (table_dataset(m, 3) + table_dataset(m, 4))[bad])
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        vt.utils.data.StackDataset(table_dataset(vt, 3), table_dataset(vt, 4))


def test_chain_dataset():
    class Count(vt.utils.data.IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

        def __len__(self):
            return self.n

    chain = Count(2) + Count(3)
    assert isinstance(chain, vt.utils.data.ChainDataset)
    assert list(chain) == [0, 1, 0, 1, 2] and len(chain) == 5
    with pytest.raises(AssertionError, match="does not support IterableDataset"):
        vt.utils.data.ConcatDataset([Count(2)])


@pytest.mark.parametrize("n, lengths", [(10, [3, 7]), (10, [0.3, 0.3, 0.4]), (11, [0.5, 0.5]),
                                        (7, [0.1] * 10), (5, [5])], ids=str)
def test_random_split_sizes_like_torch(n, lengths):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        expected = [len(s) for s in torch.utils.data.random_split(range(n), lengths)]
        torch_warnings = [str(w.message) for w in caught]
        caught.clear()
        splits = vt.utils.data.random_split(range(n), lengths, generator=vt.Generator().manual_seed(0))
        assert [str(w.message) for w in caught] == torch_warnings  # zero-length splits warn
    assert [len(s) for s in splits] == expected
    assert sorted(i for s in splits for i in s) == list(range(n))  # disjoint and covering


def test_random_split_reproducible_and_errors():
    def split(seed):
        vt.manual_seed(seed)
        return [list(s) for s in vt.utils.data.random_split(range(20), [0.5, 0.5])]
    assert split(3) == split(3) and split(3) != split(4)
    seeded = [list(s) for s in vt.utils.data.random_split(range(20), [10, 10], vt.Generator().manual_seed(3))]
    assert seeded == [list(s) for s in vt.utils.data.random_split(range(20), [10, 10], vt.Generator().manual_seed(3))]
    for lengths, message in [([3, 3], "Sum of input lengths does not equal"), ([1.5, -0.5], "Fraction at index 0")]:
        with pytest.raises(ValueError, match=message):
            torch.utils.data.random_split(range(10), lengths)
        with pytest.raises(ValueError, match=message):
            vt.utils.data.random_split(range(10), lengths)


# ---- samplers

@pytest.mark.parametrize("n, batch_size, drop_last", [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False),
                                                      (2, 5, True), (1, 1, False)])
def test_batch_sampler_like_torch(n, batch_size, drop_last):
    def run(m):
        data = m.utils.data
        sampler = data.BatchSampler(data.SequentialSampler(range(n)), batch_size, drop_last)
        return list(sampler), len(sampler)
    compare(run)


@pytest.mark.parametrize("make_sampler", [
    lambda m: m.utils.data.BatchSampler(range(3), 0, False),
    lambda m: m.utils.data.BatchSampler(range(3), True, False),
    lambda m: m.utils.data.BatchSampler(range(3), 2, 1),
    lambda m: m.utils.data.RandomSampler(range(3), replacement=1),
    lambda m: m.utils.data.RandomSampler(range(3), num_samples=0),
    lambda m: m.utils.data.RandomSampler(range(0)),
    lambda m: m.utils.data.WeightedRandomSampler([1.0, 2.0], 0),
    lambda m: m.utils.data.WeightedRandomSampler([1.0, 2.0], True),
    lambda m: m.utils.data.WeightedRandomSampler([1.0, 2.0], 2, replacement=None),
    lambda m: m.utils.data.WeightedRandomSampler([[1.0, 2.0]], 2),
])
def test_sampler_errors_like_torch(make_sampler):
    with pytest.raises(Exception) as expected:
        make_sampler(torch)
    with pytest.raises(type(expected.value)) as actual:
        make_sampler(vt)
    assert str(actual.value) == str(expected.value)


def test_random_sampler():
    data = vt.utils.data
    sampler = data.RandomSampler(range(10), generator=vt.Generator().manual_seed(1))
    first, second = list(sampler), list(sampler)
    assert sorted(first) == sorted(second) == list(range(10)) and first != second  # a new order each epoch
    assert list(data.RandomSampler(range(10), generator=vt.Generator().manual_seed(1))) == first
    longer = data.RandomSampler(range(4), num_samples=10)  # two whole permutations, then 2 more
    drawn = list(longer)
    assert len(longer) == len(drawn) == 10 and sorted(drawn[:4]) == sorted(drawn[4:8]) == [0, 1, 2, 3]
    replaced = data.RandomSampler(range(3), replacement=True, num_samples=70)
    drawn = list(replaced)
    assert len(drawn) == len(replaced) == 70 and set(drawn) == {0, 1, 2}

    def seeded_epoch(seed):
        vt.manual_seed(seed)
        return list(data.RandomSampler(range(50)))  # no generator: seeded from the default one
    assert seeded_epoch(5) == seeded_epoch(5) != seeded_epoch(6)


def test_other_samplers():
    data = vt.utils.data
    assert list(data.SequentialSampler(range(4))) == list(torch.utils.data.SequentialSampler(range(4)))
    subset = data.SubsetRandomSampler([10, 20, 30, 40], generator=vt.Generator().manual_seed(0))
    assert len(subset) == 4 and sorted(subset) == [10, 20, 30, 40]
    weighted = data.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 50, generator=vt.Generator().manual_seed(0))
    drawn = list(weighted)
    assert len(weighted) == len(drawn) == 50 and set(drawn) == {1, 3}  # zero weights are never drawn
    distinct = list(data.WeightedRandomSampler([1.0, 2.0, 3.0, 4.0, 5.0], 5, replacement=False))
    assert sorted(distinct) == [0, 1, 2, 3, 4]
    assert isinstance(weighted.weights, vt.Tensor) and weighted.weights.dtype == vt.float64


# ---- collate

def collate_batches(m):
    """Batches of every kind default_collate handles, built with library m."""
    return {
        "tensors": [m.tensor([1.0, 2.0]), m.tensor([3.0, 4.0])],
        "scalar_tensors": [m.tensor(1), m.tensor(2)],
        "ints": [0, 1, 2],
        "floats": [0.5, 1.5],
        "bools": [True, False],
        "numpy_arrays": [np.array([1, 2], dtype=np.int16), np.array([3, 4], dtype=np.int16)],
        "numpy_scalars": [np.float32(1.5), np.float32(2.5)],
        "numpy_int32_scalars": [np.int32(1), np.int32(2)],
        "numpy_float64_scalars": [np.float64(1.5), np.float64(2.5)],
        "numpy_bools": [np.bool_(True), np.bool_(False)],
        "strings": ["a", "b"],
        "bytes": [b"a", b"b"],
        "tuples": [(m.tensor(1.0), 2), (m.tensor(3.0), 4)],
        "lists": [[1, "x"], [2, "y"]],
        "dicts": [{"a": 1, "b": m.tensor([1])}, {"a": 2, "b": m.tensor([2])}],
        "ordered_dicts": [collections.OrderedDict(z=1.0), collections.OrderedDict(z=2.0)],
        "namedtuples": [Point(1, m.tensor(1.0)), Point(2, m.tensor(2.0))],
        "nested": [{"p": [Point(np.array(1.0), "s")]}, {"p": [Point(np.array(2.0), "t")]}],
    }


@pytest.mark.parametrize("kind", list(collate_batches(torch)))
def test_default_collate_like_torch(kind):
    expected = torch.utils.data.default_collate(collate_batches(torch)[kind])
    actual = vt.utils.data.default_collate(collate_batches(vt)[kind])
    assert_same_structure(actual, expected)


@pytest.mark.parametrize("batch", [[object(), object()], [np.array(["a"]), np.array(["b"])], [[1, 2], [1]],
                                   [None, None]], ids=["object", "numpy_str", "ragged", "none"])
def test_default_collate_errors_like_torch(batch):
    with pytest.raises(Exception) as expected:
        torch.utils.data.default_collate(batch)
    with pytest.raises(type(expected.value)) as actual:
        vt.utils.data.default_collate(batch)
    assert str(actual.value) == str(expected.value)


def test_default_collate_unequal_tensors_like_torch():
    messages = []
    for m in (torch, vt):
        with pytest.raises(RuntimeError) as error:
            m.utils.data.default_collate([m.zeros(2), m.zeros(3)])
        messages.append(str(error.value))
    assert messages[1] == messages[0]


@pytest.mark.parametrize("kind", ["numpy_array", "tuple", "namedtuple", "dict", "int", "str_array", "list"])
def test_default_convert_like_torch(kind):
    samples = {
        "numpy_array": np.arange(4, dtype=np.float32), "tuple": (np.int64(3), 1.5), "int": 7,
        "namedtuple": Point(np.array([1, 2]), "a"), "dict": {"k": np.zeros(2, dtype=np.uint8)},
        "str_array": np.array(["a", "b"]), "list": [np.array(True), b"x"],
    }
    expected = torch.utils.data.default_convert(samples[kind])
    actual = vt.utils.data.default_convert(samples[kind])
    if isinstance(expected, np.ndarray):
        assert actual is samples[kind]
    else:
        assert_same_structure(actual, expected)


# ---- DataLoader

@pytest.mark.parametrize("batch_size, drop_last", [(1, False), (3, False), (3, True), (5, True), (20, False),
                                                   (20, True)])
def test_dataloader_batches_like_torch(batch_size, drop_last):
    def run(m):
        loader = m.utils.data.DataLoader(table_dataset(m), batch_size=batch_size, drop_last=drop_last)
        return len(loader), list(loader)
    compare(run)


def test_dataloader_without_auto_batching_like_torch():
    def run(m):
        data = m.utils.data
        ds = table_dataset(m)
        batched = data.DataLoader(ds, batch_size=None, sampler=data.BatchSampler(data.SequentialSampler(ds), 4, False))
        samples = data.DataLoader(ds, batch_size=None)
        numpy_rows = data.DataLoader([np.full(2, i, dtype=np.int32) for i in range(3)], batch_size=None)
        return len(batched), list(batched), len(samples), list(samples)[:2], list(numpy_rows)
    compare(run)


def test_dataloader_sampler_and_batch_sampler_like_torch():
    def run(m):
        data = m.utils.data
        ds = table_dataset(m)
        by_sampler = data.DataLoader(ds, batch_size=2, sampler=[9, 1, 5])
        by_batches = data.DataLoader(ds, batch_sampler=[[3, 1], [0], [2, 2, 2]])
        custom = data.DataLoader(ds, batch_size=4, collate_fn=lambda batch: len(batch))
        return list(by_sampler), list(by_batches), list(custom), len(by_batches)
    compare(run)


def test_dataloader_collates_samples_like_torch():
    def run(m):
        class Samples(m.utils.data.Dataset):
            def __getitem__(self, i):
                return {"image": m.full((2, 2), i, dtype=m.uint8), "label": i, "name": f"s{i}",
                        "pair": (float(i), np.float64(i))}

            def __len__(self):
                return 5
        return [batch for batch in m.utils.data.DataLoader(Samples(), batch_size=2)]
    torch_batches, vt_batches = run(torch), run(vt)
    assert_same_structure(vt_batches, torch_batches)


def test_dataloader_batches_a_tensor_dataset_at_once():
    """The whole-batch path of TensorDataset gives exactly the per-sample path's batches."""
    class CountingDataset(vt.utils.data.TensorDataset):
        calls = 0

        def __getitem__(self, index):  # overriding __getitem__ also turns the fast collate path off
            CountingDataset.calls += 1
            return super().__getitem__(index)

    ds = table_dataset(vt, 23)
    counting = CountingDataset(*ds.tensors)
    fast = vt.utils.data.DataLoader(ds, batch_size=4, shuffle=True, generator=vt.Generator().manual_seed(0))
    slow = vt.utils.data.DataLoader(counting, batch_size=4, shuffle=True, generator=vt.Generator().manual_seed(0))
    for a, b in zip(fast, slow, strict=True):
        assert type(a) is list and len(a) == 2
        for x, y in zip(a, b):
            assert x.dtype == y.dtype and tuple(x.shape) == tuple(y.shape) and x.tolist() == y.tolist()
    assert CountingDataset.calls == 23  # the per-sample path, for comparison
    CountingDataset.calls = 0
    sampler = vt.utils.data.BatchSampler(vt.utils.data.RandomSampler(counting), 8, drop_last=False)
    batches = list(vt.utils.data.DataLoader(counting, batch_size=None, sampler=sampler))
    assert CountingDataset.calls == len(batches) == 3  # one __getitem__ per batch
    assert sorted(i for x, _ in batches for i in x[:, 0].tolist()) == list(range(23))


def test_dataloader_shuffle_reproducible():
    ds = table_dataset(vt, 30)

    def seeded_epoch(seed):
        vt.manual_seed(seed)
        return epoch(vt.utils.data.DataLoader(ds, batch_size=4, shuffle=True))
    first = seeded_epoch(0)
    assert sorted(first) == list(range(30)) and first == seeded_epoch(0) and first != seeded_epoch(1)
    loader = vt.utils.data.DataLoader(ds, batch_size=7, shuffle=True, generator=vt.Generator().manual_seed(2))
    epoch1, epoch2 = epoch(loader), epoch(loader)
    assert epoch1 != epoch2 and sorted(epoch2) == list(range(30))
    again = vt.utils.data.DataLoader(ds, batch_size=7, shuffle=True, generator=vt.Generator().manual_seed(2))
    assert epoch(again) == epoch1
    assert len(loader) == len(torch.utils.data.DataLoader(range(30), batch_size=7, shuffle=True)) == 5


class Numbers(vt.utils.data.IterableDataset):
    """0..n-1; with workers, each worker yields every num_workers-th number (torch's sharding idiom)."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = vt.utils.data.get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))

    def __len__(self):
        return self.n


def test_dataloader_iterable_dataset_like_torch():
    def run(m):
        class Count(m.utils.data.IterableDataset):
            def __iter__(self):
                return iter(range(7))

            def __len__(self):
                return 7
        data = m.utils.data
        return [(len(loader), list(loader)) for loader in (
            data.DataLoader(Count(), batch_size=3), data.DataLoader(Count(), batch_size=3, drop_last=True),
            data.DataLoader(Count(), batch_size=None))]
    compare(run)


@pytest.mark.parametrize("kwargs", [
    dict(sampler=[0, 1], shuffle=True), dict(batch_sampler=[[0]], batch_size=2),
    dict(batch_sampler=[[0]], drop_last=True),
    dict(batch_size=None, drop_last=True), dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2),
    dict(persistent_workers=True), dict(multiprocessing_context="fork"),
    dict(num_workers=1, multiprocessing_context="no-such-method"), dict(num_workers=1, prefetch_factor=-1),
    dict(iterable=True, shuffle=True), dict(iterable=True, sampler=[0]), dict(iterable=True, batch_sampler=[[0]]),
], ids=str)
def test_dataloader_argument_errors_like_torch(kwargs):
    def make(m):
        kw = dict(kwargs)
        ds = m.utils.data.ChainDataset([]) if kw.pop("iterable", False) else table_dataset(m)
        return m.utils.data.DataLoader(ds, **kw)
    with pytest.raises(Exception) as expected:
        make(torch)
    with pytest.raises(type(expected.value)) as actual:
        make(vt)
    assert str(actual.value) == str(expected.value)


def test_dataloader_attributes_frozen_and_options_accepted():
    loader = vt.utils.data.DataLoader(table_dataset(vt), batch_size=2)
    assert (loader.batch_size, loader.drop_last, loader.num_workers) == (2, False, 0)
    assert isinstance(loader.sampler, vt.utils.data.SequentialSampler)
    assert isinstance(loader.batch_sampler, vt.utils.data.BatchSampler)
    with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader is initialized"):
        loader.batch_size = 3
    pinned = vt.utils.data.DataLoader(table_dataset(vt), batch_size=5, pin_memory=True)
    with pytest.warns(UserWarning, match="pin_memory"):
        assert len(list(pinned)) == 2
    assert vt.utils.data.get_worker_info() is None


# ---- worker processes

def test_workers_match_single_process():
    ds = table_dataset(vt, 37)
    results = []
    for num_workers in (0, 1, 2):
        loader = vt.utils.data.DataLoader(ds, batch_size=4, shuffle=True, num_workers=num_workers,
                                          generator=vt.Generator().manual_seed(7))
        results.append([[t.tolist() for t in batch] for batch in loader])
    assert results[0] == results[1] == results[2]  # same order, in order, whatever the worker count
    assert len(results[0]) == 10


class WorkerTagged(vt.utils.data.Dataset):
    """Sample i: (i, the id of the worker that fetched it, a random draw made there). Worker 0
    is slow, so worker 1's batches arrive early and must wait their turn."""

    def __getitem__(self, i):
        worker_id = vt.utils.data.get_worker_info().id
        if worker_id == 0:
            time.sleep(0.01)
        return i, worker_id, float(vt.rand(()).item())

    def __len__(self):
        return 12


def test_worker_info_init_fn_and_seeds():
    ids_seen = multiprocessing.get_context("fork").Queue()

    def init(worker_id):
        info = vt.utils.data.get_worker_info()
        ids_seen.put((worker_id, info.id, info.num_workers, isinstance(info.dataset, WorkerTagged)))

    loader = vt.utils.data.DataLoader(WorkerTagged(), batch_size=3, num_workers=2, worker_init_fn=init)
    batches = list(loader)
    assert [i for b in batches for i in b[0].tolist()] == list(range(12))
    assert [b[1].tolist() for b in batches] == [[0] * 3, [1] * 3, [0] * 3, [1] * 3]  # round-robin
    assert sorted(ids_seen.get(timeout=10) for _ in range(2)) == [(0, 0, 2, True), (1, 1, 2, True)]
    draws = [b[2].tolist() for b in batches]
    assert draws[0] != draws[1]  # workers are seeded differently
    vt.manual_seed(11)
    first = [b[2].tolist() for b in loader]
    vt.manual_seed(11)
    assert [b[2].tolist() for b in loader] == first  # and reproducibly from the main seed


def test_workers_iterable_dataset():
    loader = vt.utils.data.DataLoader(Numbers(10), batch_size=2, num_workers=2)
    values = sorted(i for batch in loader for i in batch.tolist())
    assert values == list(range(10))
    unbatched = list(vt.utils.data.DataLoader(Numbers(5), batch_size=None, num_workers=2))
    assert sorted(int(v) for v in unbatched) == list(range(5))


class Failing(vt.utils.data.Dataset):
    def __getitem__(self, i):
        if i == 5:
            raise ValueError("sample 5 is broken")
        if i == 7:
            os._exit(3)  # a worker that dies without a word
        return vt.tensor(float(i), dtype=vt.bfloat16), vt.tensor([i], dtype=vt.float32, requires_grad=True)

    def __len__(self):
        return 8


def test_worker_tensors_cross_process():
    image, weight = next(iter(vt.utils.data.DataLoader(Failing(), batch_size=2, num_workers=1)))
    assert image.dtype == vt.bfloat16 and image.tolist() == [0.0, 1.0]
    assert dtype_name(weight.dtype) == "float32" and weight.tolist() == [[0.0], [1.0]] and weight.requires_grad


def test_worker_errors_reach_the_main_process():
    loader = vt.utils.data.DataLoader(Failing(), batch_size=None, sampler=[1, 5], num_workers=2)
    it = iter(loader)
    next(it)
    with pytest.raises(ValueError, match="Caught ValueError in DataLoader worker process 1") as error:
        next(it)
    assert "sample 5 is broken" in str(error.value)
    del it
    dying = iter(vt.utils.data.DataLoader(Failing(), batch_size=None, sampler=[7], num_workers=1))
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly"):
        next(dying)


def test_workers_shut_down():
    before = set(multiprocessing.active_children())
    it = iter(vt.utils.data.DataLoader(table_dataset(vt, 40), batch_size=2, num_workers=2))
    next(it)
    assert len(set(multiprocessing.active_children()) - before) == 2
    del it  # leaving an epoch early stops its workers
    assert set(multiprocessing.active_children()) - before == set()
    cyclic = iter(vt.utils.data.DataLoader(table_dataset(vt, 40), batch_size=2, num_workers=2))
    next(cyclic)
    cyclic.cycle = cyclic  # freed by the cycle collector, which finalizes its queues first
    del cyclic
    start = time.monotonic()
    gc.collect()
    assert time.monotonic() - start < 2 and set(multiprocessing.active_children()) - before == set()
    with pytest.raises(NotImplementedError, match="multiprocessing_context must be 'fork'"):
        vt.utils.data.DataLoader(table_dataset(vt), num_workers=1, multiprocessing_context="spawn")


# ---- dataset readers: IDX

IDX_CODES = {"uint8": 0x08, "int8": 0x09, "int16": 0x0B, "int32": 0x0C, "float32": 0x0D, "float64": 0x0E}


def idx_bytes(array, code=None):
    """An IDX file holding `array` (big-endian, as the format says)."""
    code = IDX_CODES[array.dtype.name] if code is None else code
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path, data, compress=False):
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


@pytest.mark.parametrize("dtype", list(IDX_CODES))
@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_dtypes(tmp_path, dtype, compress):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    tensor = vds.read_idx(write(tmp_path / "a.idx", idx_bytes(array), compress))
    assert dtype_name(tensor.dtype) == dtype and tuple(tensor.shape) == (2, 3, 4)
    np.testing.assert_array_equal(tensor.numpy(), array)


GOOD = idx_bytes(np.arange(12, dtype=np.uint8).reshape(3, 4))
CORRUPT_IDX = {
    "empty": (b"", "too short for an IDX header"),
    "wrong_magic": (b"\x08\x03" + GOOD[2:], "not an IDX file"),
    "unknown_dtype": (GOOD[:2] + b"\x0a" + GOOD[3:], "unknown IDX dtype code 0x0A"),
    "truncated_header": (GOOD[:10], "truncated inside its header"),
    "truncated_data": (GOOD[:-1], "is truncated: shape \\[3, 4\\] of uint8 needs 24 bytes, the file has 23"),
    "extra_data": (GOOD + b"\x00", "longer than its header says"),
    "huge_shape": (bytes([0, 0, 8, 2]) + np.array([2**31, 2**31], dtype=">u4").tobytes(), "is truncated"),
}


@pytest.mark.parametrize("kind", list(CORRUPT_IDX))
@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_corrupt_files(tmp_path, kind, compress):
    data, message = CORRUPT_IDX[kind]
    path = write(tmp_path / "bad-idx1-ubyte", data, compress)
    with pytest.raises(ValueError, match=message) as error:
        vds.read_idx(path)
    assert str(path) in str(error.value)


def test_read_idx_damaged_gzip_and_missing_file(tmp_path):
    path = write(tmp_path / "cut.gz", gzip.compress(GOOD * 50)[:-12])
    with pytest.raises(ValueError, match="damaged or truncated gzip") as error:
        vds.read_idx(path)
    assert str(path) in str(error.value)
    with pytest.raises(FileNotFoundError):
        vds.read_idx(tmp_path / "absent.gz")


# ---- dataset readers: MNIST, Fashion-MNIST, CIFAR-10

def write_mnist(folder, n_train=5, n_test=3, compress=True):
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = (np.arange(n * 28 * 28) % 251).astype(np.uint8).reshape(n, 28, 28)
        labels = (np.arange(n) % 10).astype(np.uint8)
        suffix = ".gz" if compress else ""
        write(folder / f"{split}-images-idx3-ubyte{suffix}", idx_bytes(images), compress)
        write(folder / f"{split}-labels-idx1-ubyte{suffix}", idx_bytes(labels), compress)
    return images, labels  # the test split's


def test_mnist_from_files(tmp_path):
    test_images, test_labels = write_mnist(tmp_path)
    train = vds.MNIST(tmp_path)
    assert len(train) == 5 and train.train and tuple(train.data.shape) == (5, 28, 28)
    assert train.data.dtype == vt.uint8 and train.targets.dtype == vt.int64
    test = vds.MNIST(tmp_path, train=False, transform=lambda img: img.to(vt.float32), target_transform=lambda y: -y)
    image, label = test[2]
    assert image.dtype == vt.float32 and label == -int(test_labels[2])
    np.testing.assert_array_equal(image.numpy(), test_images[2])
    images, labels = test.as_tensors()
    assert tuple(images.shape) == (3, 1, 28, 28) and images.dtype == vt.float32 and labels.dtype == vt.int64
    np.testing.assert_allclose(images.numpy()[:, 0], torch.tensor(test_images).float().div(255).numpy(), rtol=0)
    batches = list(vt.utils.data.DataLoader(test, batch_size=2))
    assert tuple(batches[0][0].shape) == (2, 28, 28) and batches[0][1].dtype == vt.int64


def test_mnist_torchvision_layout_and_errors(tmp_path):
    write_mnist(tmp_path / "MNIST" / "raw", compress=False)
    assert len(vds.MNIST(tmp_path, train=False)) == 3
    write_mnist(tmp_path / "fashion")
    assert vds.FashionMNIST(tmp_path / "fashion").classes[9] == "Ankle boot"
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        vds.FashionMNIST(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        vds.MNIST(tmp_path / "nowhere")
    write(tmp_path / "fashion" / "t10k-labels-idx1-ubyte.gz", idx_bytes(np.zeros(4, dtype=np.uint8)), True)
    with pytest.raises(ValueError, match="3 images but 4 labels"):
        vds.FashionMNIST(tmp_path / "fashion", train=False)
    with pytest.raises(NotImplementedError, match="download=True"):
        vds.MNIST(tmp_path, download=True)


def write_cifar(folder, records_per_file=3):
    """CIFAR-10 binary files; record r of file f has label (f + r) % 10 and pixel bytes
    counting up from 7 * (f + r), so every record is recognisable."""
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    for f, name in enumerate(names):
        records = []
        for r in range(records_per_file):
            pixels = ((np.arange(3072) + 7 * (f + r)) % 256).astype(np.uint8)
            records.append(np.concatenate([[(f + r) % 10], pixels]).astype(np.uint8))
        (folder / name).write_bytes(np.concatenate(records).tobytes())


def test_cifar10_from_files(tmp_path):
    write_cifar(tmp_path / "cifar-10-batches-bin")
    train = vds.CIFAR10(tmp_path)
    assert len(train) == 15 and tuple(train.data.shape) == (15, 3, 32, 32) and train.data.dtype == vt.uint8
    assert train.targets.tolist() == [(f + r) % 10 for f in range(5) for r in range(3)]
    image, label = train[4]  # file 1, record 1: pixels count up from 14, red plane first, rows of 32
    assert label == 2 and int(image[0, 0, 0]) == 14 and int(image[1, 0, 0]) == (14 + 1024) % 256
    assert int(image[2, 1, 3]) == (14 + 2048 + 32 + 3) % 256
    test = vds.CIFAR10(tmp_path, train=False)
    images, labels = test.as_tensors()
    assert tuple(images.shape) == (3, 3, 32, 32) and labels.tolist() == [5, 6, 7]
    assert float(images.max()) <= 1.0 and images.dtype == vt.float32


def test_cifar10_corrupt_and_missing(tmp_path):
    write_cifar(tmp_path)
    test_file = tmp_path / "test_batch.bin"
    test_file.write_bytes(test_file.read_bytes()[:-1])
    with pytest.raises(ValueError, match="truncated or not a CIFAR-10 binary file") as error:
        vds.CIFAR10(tmp_path, train=False)
    assert str(test_file) in str(error.value)
    test_file.write_bytes(bytes([10]) + bytes(3072))
    with pytest.raises(ValueError, match="label 10 found"):
        vds.CIFAR10(tmp_path, train=False)
    (tmp_path / "data_batch_3.bin").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_3.bin"):
        vds.CIFAR10(tmp_path)


FASHION = "/usr/share/datasets/fashion-mnist"


@pytest.mark.skipif(not os.path.isfile(f"{FASHION}/t10k-images-idx3-ubyte.gz"),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_installed_fashion_mnist():
    test = vds.FashionMNIST(train=False)
    assert len(test) == 10000 and tuple(test.data.shape) == (10000, 28, 28)
    assert np.bincount(test.targets.numpy()).tolist() == [1000] * 10  # the test split is balanced
    with gzip.open(f"{FASHION}/t10k-images-idx3-ubyte.gz") as f:  # an independent read of the first image
        first = np.frombuffer(f.read(16 + 784), dtype=np.uint8, offset=16).reshape(28, 28)
    np.testing.assert_array_equal(test[0][0].numpy(), first)
    images, labels = test.as_tensors()
    assert tuple(images.shape) == (10000, 1, 28, 28) and float(images.min()) == 0.0 and float(images.max()) == 1.0
    sampler = vt.utils.data.BatchSampler(vt.utils.data.RandomSampler(range(10000)), 256, drop_last=False)
    batches = vt.utils.data.DataLoader(vt.utils.data.TensorDataset(images, labels), batch_size=None, sampler=sampler)
    assert len(batches) == 40 and sum(len(y) for _, y in batches) == 10000
