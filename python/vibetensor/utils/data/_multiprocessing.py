"""The DataLoader iterator for num_workers > 0: batches are fetched in forked worker processes.

Tasks (one per batch) are numbered in sampler order and sent round-robin to the workers' own
index queues, at most `prefetch_factor` per worker ahead of what has been yielded. Results come
back on one shared queue in any order; those that arrive early wait in a buffer, so batches are
yielded in sampler order. While waiting, the main process checks every second that the workers
it still expects answers from are alive, so a crashed worker raises instead of hanging.
"""
import functools
import itertools
import multiprocessing
import queue
import time

from vibetensor.utils.data._fetch import create_fetcher
from vibetensor.utils.data._iterators import BaseDataLoaderIter
from vibetensor.utils.data._worker import ExceptionWrapper, IterableDatasetEnd, loads, worker_loop

_POLL_SECONDS = 1.0  # how often a waiting main process checks that its workers are alive
_JOIN_SECONDS = 5.0  # how long shutdown waits for a worker to finish its current batch


def fork_context(multiprocessing_context):
    """The multiprocessing context for workers. Only "fork" is supported: the workers inherit
    the dataset, collate_fn and worker_init_fn instead of receiving them pickled."""
    if multiprocessing_context is None:
        multiprocessing_context = "fork"
    if isinstance(multiprocessing_context, str):
        valid = multiprocessing.get_all_start_methods()
        if multiprocessing_context not in valid:
            raise ValueError("multiprocessing_context option should specify a valid start method in "
                             f"{valid!r}, but got multiprocessing_context={multiprocessing_context!r}")
        multiprocessing_context = multiprocessing.get_context(multiprocessing_context)
    if not isinstance(multiprocessing_context, multiprocessing.context.BaseContext):
        raise TypeError("multiprocessing_context option should be a valid context object or a string "
                        f"specifying the start method, but got multiprocessing_context={multiprocessing_context}")
    method = multiprocessing_context.get_start_method()
    if method != "fork":
        raise NotImplementedError(
            "DataLoader(): multiprocessing_context must be 'fork': workers inherit the dataset; "
            f"'{method}' workers are not supported yet")
    return multiprocessing_context


class MultiProcessingDataLoaderIter(BaseDataLoaderIter):
    def __init__(self, loader):
        # Everything shutdown touches exists before anything can fail.
        self._shutdown = True
        self._workers = []
        self._index_queues = []
        super().__init__(loader)
        if loader.prefetch_factor <= 0:
            raise ValueError("prefetch_factor must be greater than 0 for multi-process loading, "
                             f"but got prefetch_factor={loader.prefetch_factor}")
        context = fork_context(loader.multiprocessing_context)
        self._result_queue = context.Queue()
        self._done_event = context.Event()
        self._shutdown = False
        make_fetcher = functools.partial(create_fetcher, self._dataset, self._auto_collation,
                                         self._collate_fn, self._drop_last)
        try:
            for worker_id in range(self._num_workers):
                index_queue = context.Queue()
                index_queue.cancel_join_thread()  # a dead worker must not block the main process's exit
                worker = context.Process(
                    target=worker_loop, daemon=True,
                    args=(make_fetcher, self._dataset, index_queue, self._result_queue, self._done_event,
                          self._base_seed, loader.worker_init_fn, worker_id, self._num_workers))
                worker.start()
                self._index_queues.append(index_queue)
                self._workers.append(worker)
        except BaseException:
            self._shutdown_workers()
            raise
        self._worker_active = [True] * self._num_workers  # False once its IterableDataset copy ran out
        self._worker_cycle = itertools.cycle(range(self._num_workers))
        self._send_idx = 0  # the next task number to send
        self._rcvd_idx = 0  # the next task number to yield
        self._task_worker = {}  # task number -> worker, for tasks sent and not yet yielded
        self._early_results = {}  # task number -> result that arrived before its turn
        for _ in range(loader.prefetch_factor * self._num_workers):
            self._try_put_index()

    def _try_put_index(self):
        if not any(self._worker_active):
            return
        try:
            index = self._next_index()
        except StopIteration:
            return
        worker_id = next(w for w in self._worker_cycle if self._worker_active[w])
        self._index_queues[worker_id].put((self._send_idx, index))
        self._task_worker[self._send_idx] = worker_id
        self._send_idx += 1

    def _next_data(self):
        while True:
            # Tasks sent to a worker whose IterableDataset ran out will never be answered.
            while (self._rcvd_idx < self._send_idx and self._rcvd_idx not in self._early_results
                   and not self._worker_active[self._task_worker[self._rcvd_idx]]):
                del self._task_worker[self._rcvd_idx]
                self._rcvd_idx += 1
            if self._rcvd_idx == self._send_idx:
                self._shutdown_workers()
                raise StopIteration
            if self._rcvd_idx in self._early_results:
                return self._yield_result(self._early_results.pop(self._rcvd_idx))
            task_idx, data = self._get_result()
            if isinstance(data, IterableDatasetEnd):
                self._worker_active[data.worker_id] = False
                self._index_queues[data.worker_id].put(None)  # nothing left for it to do
                self._try_put_index()
            elif task_idx == self._rcvd_idx:
                return self._yield_result(data)
            else:
                self._early_results[task_idx] = data

    def _yield_result(self, data):
        del self._task_worker[self._rcvd_idx]
        self._rcvd_idx += 1
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return data

    def _get_result(self):
        """The next (task number, data) from any worker; raises if the wait exceeds the
        loader's timeout or a worker we wait on has died."""
        start = time.monotonic()
        while True:
            poll = _POLL_SECONDS if self._timeout <= 0 else min(_POLL_SECONDS, self._timeout)
            try:
                task_idx, payload = self._result_queue.get(timeout=poll)
                return task_idx, loads(payload)
            except queue.Empty:
                pass
            if self._timeout > 0 and time.monotonic() - start >= self._timeout:
                self._shutdown_workers()
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
            dead = [str(w.pid) for w, active in zip(self._workers, self._worker_active)
                    if active and not w.is_alive()]
            if dead:
                self._shutdown_workers()
                raise RuntimeError(f"DataLoader worker (pid(s) {', '.join(dead)}) exited unexpectedly")

    def _shutdown_workers(self):
        if self._shutdown:
            return
        self._shutdown = True
        # Each signal on its own: when the cycle collector frees the iterator, it may have
        # finalized the event or a queue first, and the workers must still be stopped below.
        signals = [self._done_event.set] + [lambda q=q: q.put(None) for q in self._index_queues]
        for signal in signals:  # done_event: workers skip any task still queued
            try:
                signal()
            except (ValueError, OSError):
                pass
        for worker in self._workers:
            worker.join(timeout=_JOIN_SECONDS)
            if worker.is_alive():  # stuck in a long batch or in user code: stop it
                worker.terminate()
                worker.join()
        for index_queue in self._index_queues:
            index_queue.close()
        self._result_queue.cancel_join_thread()
        self._result_queue.close()

    def __del__(self):
        try:
            self._shutdown_workers()
        except Exception:  # noqa: BLE001  (at interpreter exit, modules may already be gone)
            pass
