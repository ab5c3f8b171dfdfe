"""DataLoader epochs over a Fashion-MNIST-sized TensorDataset (60000 x 1 x 28 x 28 float32 and
int64 labels, batches of 256, shuffled), vibetensor against PyTorch in the same run:

  auto-batching      DataLoader(ds, batch_size=256, shuffle=True)
  per-sample         the same, with a collate_fn wrapper that turns off the whole-batch indexing
                     of TensorDataset (so every sample is indexed, then the batch stacked)
  batch sampler      DataLoader(ds, batch_size=None, sampler=BatchSampler(RandomSampler(ds), 256, False))

    python3 bench/bench_dataloader.py [--quick]
"""
import argparse

import torch

import vibetensor as vt
from timing import best_time_per_call


def epoch(loader):
    for _ in loader:
        pass


def loaders(lib, n):
    data = lib.utils.data
    ds = data.TensorDataset(lib.rand(n, 1, 28, 28), lib.randint(0, 10, (n,)))
    return {
        "auto-batching": data.DataLoader(ds, batch_size=256, shuffle=True),
        "per-sample": data.DataLoader(ds, batch_size=256, shuffle=True, collate_fn=lambda b: data.default_collate(b)),
        "batch sampler": data.DataLoader(ds, batch_size=None,
                                         sampler=data.BatchSampler(data.RandomSampler(ds), 256, drop_last=False)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a 10000-sample dataset, one repeat")
    args = parser.parse_args()
    n, repeats = (10000, 1) if args.quick else (60000, 3)
    times = {lib.__name__: {name: best_time_per_call(lambda: epoch(loader), 1, repeats)
                            for name, loader in loaders(lib, n).items()} for lib in (vt, torch)}
    print(f"one epoch of {n} samples      {'vibetensor':>12} {'torch':>12} {'ratio':>7}")
    for name in times["vibetensor"]:
        v, t = times["vibetensor"][name], times["torch"][name]
        print(f"{name:28} {v * 1e3:9.1f} ms {t * 1e3:9.1f} ms {v / t:7.2f}")


if __name__ == "__main__":
    main()
