"""conv2d, matmul and softmax at typical training sizes (CIFAR/MNIST CNNs, a small ViT and
GPT), forward and forward+backward, vibetensor against PyTorch in the same run.

    python3 bench/bench_nn_ops.py [--quick]

Prints the best time per call over several repeats and the ratio vibetensor / torch (below
1: faster).
"""
import argparse

import numpy as np
import torch

import vibetensor as vt
from timing import best_times_interleaved


def arrays(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s, dtype=np.float32) for s in shapes]


def conv_case(x_shape, w_shape, **kw):
    x, w = arrays(x_shape, w_shape)
    b = np.zeros(w_shape[0], dtype=np.float32)

    def make(lib, backward):
        xs, ws, bs = lib.tensor(x), lib.tensor(w, requires_grad=backward), lib.tensor(b, requires_grad=backward)
        if not backward:
            return lambda: lib.nn.functional.conv2d(xs, ws, bs, **kw)
        return lambda: lib.nn.functional.conv2d(xs, ws, bs, **kw).sum().backward()
    return make


def matmul_case(a_shape, b_shape):
    a, b = arrays(a_shape, b_shape)

    def make(lib, backward):
        x, y = lib.tensor(a, requires_grad=backward), lib.tensor(b, requires_grad=backward)
        if not backward:
            return lambda: x @ y
        return lambda: (x @ y).sum().backward()
    return make


def softmax_case(shape):
    (a,) = arrays(shape)
    g = arrays(shape, seed=1)[0]

    def make(lib, backward):
        x, grad = lib.tensor(a, requires_grad=backward), lib.tensor(g)
        if not backward:
            return lambda: x.softmax(-1)
        return lambda: x.softmax(-1).backward(grad)
    return make


CASES = [
    ("conv2d 3->32, 3x3 pad 1, 32x32, batch 32", conv_case((32, 3, 32, 32), (32, 3, 3, 3), padding=1)),
    ("conv2d 32->64, 3x3 pad 1, 16x16, batch 32", conv_case((32, 32, 16, 16), (64, 32, 3, 3), padding=1)),
    ("conv2d 64->64, 3x3 stride 2, 16x16, batch 32", conv_case((32, 64, 16, 16), (64, 64, 3, 3), stride=2, padding=1)),
    ("conv2d 1->64 patchify 4x4/4, 28x28, batch 128", conv_case((128, 1, 28, 28), (64, 1, 4, 4), stride=4)),
    ("matmul [4096,256] @ [256,1024]", matmul_case((4096, 256), (256, 1024))),
    ("matmul [8,4,64,32] @ [8,4,32,64] (attention)", matmul_case((8, 4, 64, 32), (8, 4, 32, 64))),
    ("matmul [512,512] @ [512,512]", matmul_case((512, 512), (512, 512))),
    ("softmax [8,4,64,64] (attention scores)", softmax_case((8, 4, 64, 64))),
    ("softmax [4096,512] (logits)", softmax_case((4096, 512))),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    calls, repeats = (2, 2) if args.quick else (5, 12)
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), vibetensor {vt.__version__} "
          f"({vt.get_num_threads()} threads)")
    print(f"{'case':52} {'pass':>8} {'vibetensor':>12} {'torch':>12} {'ratio':>7}")
    for name, make in CASES:
        for backward in (False, True):
            best = best_times_interleaved({lib: make(lib, backward) for lib in (vt, torch)}, calls, repeats)
            times = [best[vt], best[torch]]
            label = "fwd+bwd" if backward else "fwd"
            print(f"{name:52} {label:>8} {times[0] * 1e3:9.3f} ms {times[1] * 1e3:9.3f} ms {times[0] / times[1]:7.2f}")


if __name__ == "__main__":
    main()
