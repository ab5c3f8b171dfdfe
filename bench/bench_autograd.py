"""Autograd overhead: a tiny forward+backward (4 elementwise ops on a 4x4 tensor, then
.backward()), vibetensor against PyTorch in the same run.

    python3 bench/bench_autograd.py [--quick]
"""
import argparse

import numpy as np
import torch

import vibetensor as vt
from timing import best_times_interleaved


def step(lib, x, w):
    y = ((x * w).tanh() + x).sigmoid().sum()
    y.backward()
    x.grad = None
    w.grad = None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    calls = 1000 if args.quick else 10000
    data = np.random.default_rng(0).standard_normal((4, 4), dtype=np.float32)
    steps = {}
    for lib in (vt, torch):
        x = lib.tensor(data.tolist(), requires_grad=True)
        w = lib.tensor((data * 0.5).tolist(), requires_grad=True)
        steps[lib.__name__] = lambda lib=lib, x=x, w=w: step(lib, x, w)
    times = best_times_interleaved(steps, calls, 5)
    ratio = times["vibetensor"] / times["torch"]
    print(f"{'case':44} {'vibetensor':>12} {'torch':>12} {'ratio':>7}")
    print(f"{'forward+backward, 4 ops on 4x4 float32':44} {times['vibetensor'] * 1e6:9.2f} us "
          f"{times['torch'] * 1e6:9.2f} us {ratio:7.2f}")


if __name__ == "__main__":
    main()
