"""Per-op overhead and throughput of vibetensor against PyTorch, measured in the same run.

    python3 bench/bench_ops.py [--quick]

Each case runs the same operation on both libraries with the same inputs; the table gives the
best time per call over several repeats and the ratio vibetensor / torch (below 1: faster).
"""
import argparse

import numpy as np
import torch

import vibetensor as vt
from timing import best_times_interleaved


def cases(quick):
    small = np.arange(4, dtype=np.float32)
    small_2d = np.arange(16, dtype=np.float32).reshape(4, 4)
    n_large = 16 * 1024 * 1024
    big_a = np.random.default_rng(0).standard_normal(n_large, dtype=np.float32)
    big_b = np.random.default_rng(1).standard_normal(n_large, dtype=np.float32)
    mat_a = np.random.default_rng(2).standard_normal((1024, 1024), dtype=np.float32)
    mat_b = np.random.default_rng(3).standard_normal((1024, 1024), dtype=np.float32)
    overhead_calls = 2000 if quick else 20000
    return [
        # name, setup(lib, from_numpy) -> callable, calls, repeats, unit label
        ("add, 4 elements (a + b)", lambda lib: (lambda a, b: (lambda: a + b))(lib.from_numpy(small), lib.from_numpy(small)), overhead_calls, 7),
        ("view, 4x4 -> 16 (x.view(16))", lambda lib: (lambda x: (lambda: x.view(16)))(lib.from_numpy(small_2d)), overhead_calls, 7),
        ("index, x[1] on 4x4", lambda lib: (lambda x: (lambda: x[1]))(lib.from_numpy(small_2d)), overhead_calls, 7),
        ("sum, 4x4 over dim 1", lambda lib: (lambda x: (lambda: x.sum(1)))(lib.from_numpy(small_2d)), overhead_calls, 7),
        ("add, 16M float32", lambda lib: (lambda a, b: (lambda: a + b))(lib.from_numpy(big_a), lib.from_numpy(big_b)), 5 if quick else 20, 3),
        ("sum, 16M float32", lambda lib: (lambda a: (lambda: a.sum()))(lib.from_numpy(big_a)), 5 if quick else 20, 3),
        ("exp, 16M float32", lambda lib: (lambda a: (lambda: a.exp()))(lib.from_numpy(big_a)), 5 if quick else 20, 3),
        ("gelu, 16M float32", lambda lib: (lambda a: (lambda: lib.nn.functional.gelu(a)))(lib.from_numpy(big_a)),
         5 if quick else 20, 3),
        ("matmul, 1024x1024 float32", lambda lib: (lambda a, b: (lambda: a @ b))(lib.from_numpy(mat_a), lib.from_numpy(mat_b)), 3 if quick else 10, 3),
    ]


def format_time(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:9.2f} us"
    return f"{seconds * 1e3:9.2f} ms"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    args = parser.parse_args()
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"vibetensor {vt.__version__} ({vt.get_num_threads()} threads)")
    print(f"{'case':34} {'vibetensor':>12} {'torch':>12} {'ratio':>7}")
    for name, make, calls, repeats in cases(args.quick):
        best = best_times_interleaved({lib: make(lib) for lib in (vt, torch)}, calls, repeats)
        vt_time, torch_time = best[vt], best[torch]
        print(f"{name:34} {format_time(vt_time):>12} {format_time(torch_time):>12} {vt_time / torch_time:7.2f}")


if __name__ == "__main__":
    main()
