"""What the example workloads share: the backend switch (vibetensor or its PyTorch twin), the
run folder and checkpoint name, the one-cycle schedule (rebuilt when a resumed run is made
longer), the loss-curve plot and the metrics file."""
import argparse
import importlib
import json
import os
from dataclasses import dataclass

import numpy as np


def add_run_arguments(parser: argparse.ArgumentParser):
    parser.add_argument("--backend", choices=["vibetensor", "torch"], default="vibetensor",
                        help="vibetensor, or torch for the PyTorch twin of the same code")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="folder for the checkpoint, loss curve and metrics")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")


@dataclass
class Run:
    torch: object  # the backend module: vibetensor or torch
    device: str
    out: str
    checkpoint_path: str

    @property
    def resuming(self):
        return os.path.exists(self.checkpoint_path)


def open_run(args, name):
    """Imports the backend and makes the run folder (runs/<name>-<backend> by default).
    vibetensor checkpoints are safetensors files (vt.save); torch's are its pickles."""
    torch = importlib.import_module(args.backend)
    # The CPU unless asked: vibetensor's CUDA backend has its runtime and copies but not yet
    # the op kernels a training step needs.
    device = args.device or "cpu"
    out = args.out or os.path.join("runs", f"{name}-{args.backend}")
    os.makedirs(out, exist_ok=True)
    filename = "checkpoint.safetensors" if args.backend == "vibetensor" else "checkpoint.pt"
    return Run(torch, device, out, os.path.join(out, filename))


def one_cycle(torch, optimizer, max_lr, total_steps, last_epoch=-1):
    return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=total_steps, pct_start=0.15,
                                               last_epoch=last_epoch)


def extend_one_cycle(torch, scheduler, optimizer, max_lr, total_steps, steps_done):
    """After loading a checkpoint: OneCycleLR cannot step past the total it was built with, so a
    longer run rebuilds the cycle for `total_steps` at the step reached (its constructor steps once)."""
    if total_steps <= scheduler.total_steps:
        return scheduler
    return one_cycle(torch, optimizer, max_lr, total_steps, last_epoch=steps_done - 1)


def save_loss_curve(losses, path, title, ylabel="training loss", log_scale=False, evaluations=None):
    """The per-step training loss, and (step, train, validation) estimates when given."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot(np.arange(1, len(losses) + 1), losses, linewidth=0.8, label="training batch")
    if evaluations:
        steps, train_losses, val_losses = zip(*evaluations)
        axes.plot(steps, train_losses, "o-", label="train (fixed windows)")
        axes.plot(steps, val_losses, "s-", label="validation")
        axes.legend()
    if log_scale:
        axes.set_yscale("log")
    axes.set_xlabel("step")
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def write_metrics(out, metrics):
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
    return metrics


def optimize(loss, optimizer, scheduler):
    """One update from `loss` (gradients reset, backward, optimizer and schedule steps); returns its value."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    scheduler.step()
    return loss.item()
