"""The timing rule every benchmark here uses: the best time per call over several repeats."""
import time

# Idle threads of the library timed just before keep spinning for a while (torch's OpenMP
# workers spin for milliseconds after each parallel region) and would take a core from the next
# contender; this pause lets them fall asleep first.
SETTLE_SECONDS = 0.05


def settle():
    """Waits SETTLE_SECONDS busy, not asleep: on a virtual machine a sleeping caller lets its
    CPU halt, and the first milliseconds after waking ran up to 5x slower (512x512 matmuls of
    1.6 ms took 2 to 17 ms after a 50 ms sleep, 1.2 to 2.3 ms after a 50 ms busy wait)."""
    end = time.perf_counter() + SETTLE_SECONDS
    while time.perf_counter() < end:
        pass


def best_time_per_call(fn, calls, repeats):
    return best_times_interleaved({None: fn}, calls, repeats)[None]


def best_times_interleaved(fns, calls, repeats):
    """The best time per call of each function in `fns` (a dict), repeats taken in turns: on a
    shared machine whose speed drifts, every contender sees the same slow and fast spells."""
    for fn in fns.values():
        fn()  # warm up (allocator, lazy init)
    best = {key: float("inf") for key in fns}
    for _ in range(repeats):
        for key, fn in fns.items():
            if len(fns) > 1:
                settle()
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            best[key] = min(best[key], (time.perf_counter() - start) / calls)
    return best
