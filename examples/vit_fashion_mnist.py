"""Train a small Vision Transformer on Fashion-MNIST: the main job of the README's demo command.

The same source runs on vibetensor (the default) and on PyTorch (`--backend torch`, the twin):
the model, data, seed and hyperparameters are identical; only `import vibetensor as torch`
differs. It shows a progress bar with the loss and throughput, evaluates on the test set,
writes a loss curve (PNG) and a checkpoint, and `--resume` continues from that checkpoint.

    python3 examples/vit_fashion_mnist.py                 # vibetensor, 3 epochs
    python3 examples/vit_fashion_mnist.py --backend torch # the PyTorch twin
"""
import argparse
import math
import os
import time

from tqdm import tqdm

from _common import (add_run_arguments, extend_one_cycle, one_cycle, open_run, optimize, save_loss_curve,
                     write_metrics)

from vibetensor.datasets import FashionMNIST

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--patch", type=int, default=7)
    parser.add_argument("--train-limit", type=int, default=None, help="train on the first N images (smoke tests)")
    parser.add_argument("--test-limit", type=int, default=None, help="evaluate on the first N test images")
    add_run_arguments(parser)
    return parser.parse_args(argv)

def define_vit(torch):
    """The model, written once against whichever library is passed in as `torch`."""
    nn = torch.nn

    class PatchEmbedding(nn.Module):
        """Cuts a 1 x 28 x 28 image into (28 / patch)^2 patches and projects each to `dim`."""

        def __init__(self, patch, dim):
            super().__init__()
            self.patch = patch
            self.proj = nn.Linear(patch * patch, dim)

        def forward(self, images):
            batch, side, p = images.shape[0], images.shape[-1], self.patch
            grid = side // p
            patches = images.reshape(batch, grid, p, grid, p).permute(0, 1, 3, 2, 4).reshape(batch, grid * grid, p * p)
            return self.proj(patches)

    class ViT(nn.Module):
        def __init__(self, patch=7, dim=64, depth=3, heads=4, mlp_ratio=2, classes=10, side=28):
            super().__init__()
            tokens = (side // patch) ** 2
            self.embed = PatchEmbedding(patch, dim)
            self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
            self.pos_embedding = nn.Parameter(torch.zeros(1, tokens + 1, dim))
            nn.init.trunc_normal_(self.pos_embedding, std=0.02)
            nn.init.trunc_normal_(self.cls_token, std=0.02)
            layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=mlp_ratio * dim, dropout=0.0,
                                               activation="gelu", batch_first=True, norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(dim)
            self.head = nn.Linear(dim, classes)

        def forward(self, images):
            x = self.embed(images)
            x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embedding
            x = self.encoder(x)
            return self.head(self.norm(x[:, 0]))

    return ViT

def load_data(torch, args, device):
    """Fashion-MNIST as float tensors in [0, 1] (from Debian's dataset-fashion-mnist), normalized."""
    splits = []
    for train, limit in ((True, args.train_limit), (False, args.test_limit)):
        images, labels = FashionMNIST(train=train).as_tensors()
        images, labels = images.numpy()[:limit], labels.numpy()[:limit]
        images = (images - 0.2860) / 0.3530  # the training set's mean and std
        splits.append((torch.tensor(images).to(device), torch.tensor(labels).to(device)))
    return splits

def evaluate(torch, model, images, labels, batch_size=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(labels), batch_size):
            logits = model(images[start:start + batch_size])
            correct += (logits.argmax(dim=1) == labels[start:start + batch_size]).sum().item()
    model.train()
    return correct / len(labels)

def main(argv=None):
    args = parse_args(argv)
    run = open_run(args, "vit")
    torch, device, out, checkpoint_path = run.torch, run.device, run.out, run.checkpoint_path

    torch.manual_seed(args.seed)
    (train_images, train_labels), (test_images, test_labels) = load_data(torch, args, device)
    model = define_vit(torch)(patch=args.patch, dim=args.dim, depth=args.depth, heads=args.heads).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps_per_epoch = math.ceil(len(train_labels) / args.batch_size)

    scheduler = one_cycle(torch, optimizer, args.lr, args.epochs * steps_per_epoch)
    dataset = torch.utils.data.TensorDataset(train_images, train_labels)
    generator = torch.Generator().manual_seed(args.seed)
    sampler = torch.utils.data.BatchSampler(torch.utils.data.RandomSampler(dataset, generator=generator),
                                            args.batch_size, drop_last=False)
    # batch_size=None: each index list from the sampler fetches one whole batch in one indexing op.
    loader = torch.utils.data.DataLoader(dataset, batch_size=None, sampler=sampler)

    start_epoch, losses = 0, []
    if args.resume and os.path.exists(checkpoint_path):
        state = torch.load(checkpoint_path)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, losses = state["epoch"], list(state["losses"])
        scheduler = extend_one_cycle(torch, scheduler, optimizer, args.lr, args.epochs * steps_per_epoch,
                                     start_epoch * steps_per_epoch)
        print(f"resumed from {checkpoint_path} after epoch {start_epoch}")

    print(f"{args.backend}: ViT with {sum(p.numel() for p in model.parameters())} parameters, "
          f"{len(train_labels)} training images, device {device}")
    started = time.perf_counter()
    for epoch in range(start_epoch, args.epochs):
        progress = tqdm(loader, desc=f"epoch {epoch + 1}/{args.epochs}", unit="batch", leave=True)
        epoch_start, seen = time.perf_counter(), 0
        for images, labels in progress:
            loss = torch.nn.functional.cross_entropy(model(images), labels)
            losses.append(optimize(loss, optimizer, scheduler))
            seen += len(labels)
            progress.set_postfix(loss=f"{losses[-1]:.3f}", img_per_s=f"{seen / (time.perf_counter() - epoch_start):.0f}")
        accuracy = evaluate(torch, model, test_images, test_labels)
        print(f"epoch {epoch + 1}: test accuracy {accuracy:.4f}")
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "epoch": epoch + 1, "losses": losses}, checkpoint_path)
    train_seconds = time.perf_counter() - started

    accuracy = evaluate(torch, model, test_images, test_labels)
    save_loss_curve(losses, os.path.join(out, "loss.png"), f"ViT on Fashion-MNIST ({args.backend})")
    metrics = {"backend": args.backend, "test_accuracy": accuracy, "train_seconds": round(train_seconds, 1),
               "epochs": args.epochs, "final_loss": losses[-1] if losses else None}
    write_metrics(out, metrics)
    print(f"test accuracy {accuracy:.4f} after {args.epochs} epochs ({train_seconds:.0f} s of training); "
          f"checkpoint, loss curve and metrics in {out}/")
    return metrics

if __name__ == "__main__":
    main()
