"""One training step (forward, loss, backward, optimizer step) of each example workload, for
vibetensor and its PyTorch twin in the same run, from the same weights and on the same batch.

    python3 bench/bench_training.py [--quick] [--threads N]

Prints the best time per step over several repeats (taken in turns, vibetensor then torch) and
the ratio vibetensor / torch (below 1: vibetensor is faster). Both libraries use the same number of threads (default: all cores).
"""
import argparse
import os
import sys

import numpy as np
import torch

import vibetensor as vt
from timing import best_times_interleaved

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
from char_gpt import define_gpt  # noqa: E402
from sequence_reversal import define_reverser  # noqa: E402
from vit_fashion_mnist import define_vit  # noqa: E402


def copy_weights(source, target, lib):
    """Loads `source`'s parameters into `target` (the other library's model) through numpy."""
    state = {k: lib.tensor(v.detach().numpy()) for k, v in source.state_dict().items()}
    target.load_state_dict(state)


def training_step_workload(build_model, inputs, targets):
    """`make(lib)` returns one AdamW training step of `build_model(lib)` on (inputs, targets), numpy
    arrays; both libraries start from the same weights (torch's initialization, copied)."""
    models = {}
    for lib in (torch, vt):
        lib.manual_seed(0)
        models[lib] = build_model(lib)
    copy_weights(models[torch], models[vt], vt)

    def make(lib):
        model = models[lib]
        optimizer = lib.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
        x, y = lib.tensor(inputs), lib.tensor(targets)

        def step():
            logits = model(x)  # [batch, classes] or [batch, positions, classes]: every position counts
            loss = lib.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        return step
    return make


def vit_workload(batch_size):
    """The README's main job: the ViT of examples/vit_fashion_mnist.py on a Fashion-MNIST-sized batch."""
    rng = np.random.default_rng(0)
    images = rng.standard_normal((batch_size, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, batch_size)
    return training_step_workload(lambda lib: define_vit(lib)(), images, labels)


def sequence_reversal_workload(batch_size, vocab=16, length=12):
    """The transformer encoder of examples/sequence_reversal.py at its default sizes."""
    tokens = np.random.default_rng(0).integers(0, vocab, (batch_size, length))
    return training_step_workload(lambda lib: define_reverser(lib)(vocab=vocab, length=length),
                                  tokens, np.ascontiguousarray(tokens[:, ::-1]))


def char_gpt_workload(batch_size, block_size=64, vocab=65):
    """The GPT of examples/char_gpt.py at its default sizes (Tiny Shakespeare has 65 characters)."""
    text = np.random.default_rng(0).integers(0, vocab, (batch_size, block_size + 1))
    return training_step_workload(lambda lib: define_gpt(lib)(vocab, block_size=block_size),
                                  text[:, :-1].copy(), text[:, 1:].copy())


WORKLOADS = {
    "vit_fashion_mnist (batch 128)": lambda: vit_workload(128),
    "sequence_reversal (batch 64)": lambda: sequence_reversal_workload(64),
    "char_gpt (batch 32 x 64)": lambda: char_gpt_workload(32),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    vt.set_num_threads(args.threads)
    calls, repeats = (3, 2) if args.quick else (10, 5)
    print(f"{'workload':32s} {'vibetensor ms':>14s} {'torch ms':>10s} {'ratio':>7s}   ({args.threads} threads)")
    for name, build in WORKLOADS.items():
        make = build()
        times = best_times_interleaved({lib: make(lib) for lib in (vt, torch)}, calls, repeats)
        print(f"{name:32s} {times[vt] * 1e3:14.2f} {times[torch] * 1e3:10.2f} {times[vt] / times[torch]:7.2f}")


if __name__ == "__main__":
    main()
