"""What runs inside a DataLoader worker process, and how its results cross the process boundary.

A worker is forked from the main process, so it inherits the dataset, collate_fn and
worker_init_fn without pickling. It reads `(task_index, indices)` from its own index queue,
fetches and collates the batch, and puts `(task_index, pickled batch)` on the shared result
queue; tensors pickle as their values (numpy), dtype and requires_grad. Exceptions are caught and sent back as `ExceptionWrapper`s, to be
re-raised in the main process.
"""
import os
import pickle
import queue
import random
import sys
import traceback
from dataclasses import dataclass

import numpy as np

import vibetensor as vt


@dataclass
class WorkerInfo:
    """What `get_worker_info()` returns inside a worker: its id, how many workers there are,
    the seed this worker's generators got, and this process's copy of the dataset."""
    id: int
    num_workers: int
    seed: int
    dataset: object
    worker_method: str = "multiprocessing"


_worker_info = None  # set once in each worker process; None in the main process


def get_worker_info():
    """The current worker's WorkerInfo, or None in the main process. Use it in an
    IterableDataset's `__iter__` or in `worker_init_fn` to split the work between workers."""
    return _worker_info


class ExceptionWrapper:
    """An exception and its formatted traceback, picklable, re-raised as torch does: the same
    exception type with "Caught <type> <where>.\\nOriginal Traceback ..." as its message."""

    def __init__(self, exc_info=None, where="in background"):
        exc_info = sys.exc_info() if exc_info is None else exc_info
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            raise KeyError(msg) from None
        try:
            exception = self.exc_type(msg)
        except Exception:  # an exception type that does not take a single message
            raise RuntimeError(msg) from None
        raise exception


@dataclass
class IterableDatasetEnd:
    """Sent by a worker whose copy of an IterableDataset is exhausted."""
    worker_id: int


# ---- tensors across processes

def dumps(obj):
    """Pickles `obj`, tensors anywhere inside it included (vibetensor/_tensor_copy.py makes
    tensors picklable: values as a numpy array, dtype and requires_grad)."""
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


loads = pickle.loads


# ---- the worker loop

# How often an idle worker checks whether it should stop: when the main process has died, or
# has set done_event. The None that shutdown sends is not enough: when the iterator is freed by
# the cycle collector, the collector finalizes its queues first, which stops their feeder
# threads, so that None never reaches the pipe.
_IDLE_CHECK_SECONDS = 0.1


def _seed_worker(seed):
    """Each worker gets its own seed (base_seed + worker id, as in torch) for vibetensor's,
    Python's and numpy's generators, so random transforms differ between workers."""
    vt.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)


def worker_loop(make_fetcher, dataset, index_queue, result_queue, done_event, base_seed, init_fn,
                worker_id, num_workers):
    global _worker_info
    orphaned = False
    try:
        # One thread per worker: workers already run in parallel, and a forked child must not
        # rely on the parent's thread pool (its threads do not exist after fork).
        vt.set_num_threads(1)
        seed = base_seed + worker_id
        _seed_worker(seed)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        init_error = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = make_fetcher()
        except Exception:
            init_error = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
        exhausted = False
        parent = os.getppid()
        while True:
            try:
                task = index_queue.get(timeout=_IDLE_CHECK_SECONDS)
            except queue.Empty:
                orphaned = os.getppid() != parent  # the main process died without shutting us down
                if orphaned or done_event.is_set():
                    break
                continue
            if task is None:  # the main process asks us to stop
                break
            if done_event.is_set() or exhausted:
                continue
            task_index, indices = task
            if init_error is not None:  # every batch reports it: this worker cannot fetch anything
                data = init_error
            else:
                try:
                    data = fetcher.fetch(indices)
                except StopIteration:
                    data, exhausted = IterableDatasetEnd(worker_id), True
                except Exception:
                    data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
            try:
                payload = dumps(data)
            except Exception:  # an unpicklable batch is the user's error: report it, don't hang
                payload = dumps(ExceptionWrapper(where=f"in DataLoader worker process {worker_id}"))
            result_queue.put((task_index, payload))
            del data, payload  # don't hold a batch while blocked on the next task
    except KeyboardInterrupt:
        pass  # the main process handles Ctrl-C and shuts us down
    if done_event.is_set() or orphaned:
        # Nobody reads our results any more: don't block exiting on flushing them.
        result_queue.cancel_join_thread()
        result_queue.close()
