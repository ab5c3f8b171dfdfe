"""The timing rule every benchmark here uses: the best time per call over several repeats."""
import time


def best_time_per_call(fn, calls, repeats):
    fn()  # warm up (allocator, lazy init)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best
