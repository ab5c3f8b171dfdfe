"""Train a character-level GPT on a text file (Tiny Shakespeare by default) and sample from it.

A decoder-only transformer: token and position embeddings, pre-LayerNorm blocks of causal
self-attention (`F.scaled_dot_product_attention(..., is_causal=True)`) and a GELU MLP, a final
LayerNorm and a linear head to the characters. It learns to predict the next character of
random windows of the text, then writes ~200 characters of its own from a prompt.

The same source runs on vibetensor (the default) and on PyTorch (`--backend torch`, the twin):
the model, data, seed and hyperparameters are identical; only `import vibetensor as torch`
differs. It shows a progress bar with the loss and throughput, reports train and validation
loss, writes a loss curve (PNG) and a checkpoint, and `--resume` continues from that checkpoint
(to a larger `--steps`, too).

    python3 examples/char_gpt.py                 # vibetensor, on ../shared/data/tinyshakespeare.txt
    python3 examples/char_gpt.py --backend torch # the PyTorch twin
    python3 examples/char_gpt.py --data my.txt   # any text file
"""
import argparse
import os
import time

import numpy as np
from tqdm import tqdm

from _common import (add_run_arguments, extend_one_cycle, one_cycle, open_run, optimize, save_loss_curve,
                     write_metrics)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(REPO_ROOT, "..", "shared", "data", "tinyshakespeare.txt")
DATA_URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DEFAULT_DATA, help="a text file (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--block-size", type=int, default=64, help="characters of context")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=0.1)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--eval-every", type=int, default=200, help="evaluate and checkpoint every N steps")
    parser.add_argument("--eval-batches", type=int, default=8, help="batches of windows for each loss estimate")
    parser.add_argument("--prompt", default="ROMEO:")
    parser.add_argument("--sample-chars", type=int, default=200)
    parser.add_argument("--temperature", type=float, default=0.8)
    add_run_arguments(parser)
    args = parser.parse_args(argv)
    if not os.path.isfile(args.data):
        parser.error(f"--data: no text file at {os.path.abspath(args.data)}; pass --data PATH, or download "
                     f"Tiny Shakespeare from {DATA_URL} to {os.path.abspath(DEFAULT_DATA)}")
    return args


def define_gpt(torch):
    """The model, written once against whichever library is passed in as `torch`."""
    nn, F = torch.nn, torch.nn.functional

    class CausalSelfAttention(nn.Module):
        def __init__(self, dim, heads):
            super().__init__()
            self.heads = heads
            self.qkv = nn.Linear(dim, 3 * dim)
            self.proj = nn.Linear(dim, dim)

        def forward(self, x):
            batch, time, dim = x.shape
            # [batch, time, 3 * dim] -> three [batch, heads, time, dim / heads]
            q, k, v = (t.reshape(batch, time, self.heads, dim // self.heads).transpose(1, 2)
                       for t in self.qkv(x).split(dim, dim=2))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.proj(y.transpose(1, 2).reshape(batch, time, dim))

    class Block(nn.Module):
        """Pre-LayerNorm: each sublayer sees a normalized input and adds to the residual stream."""

        def __init__(self, dim, heads):
            super().__init__()
            self.norm1 = nn.LayerNorm(dim)
            self.attention = CausalSelfAttention(dim, heads)
            self.norm2 = nn.LayerNorm(dim)
            self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

        def forward(self, x):
            x = x + self.attention(self.norm1(x))
            return x + self.mlp(self.norm2(x))

    class CharGPT(nn.Module):
        def __init__(self, vocab, block_size=64, dim=64, depth=2, heads=4):
            super().__init__()
            self.block_size = block_size
            self.token_embedding = nn.Embedding(vocab, dim)
            self.position_embedding = nn.Embedding(block_size, dim)
            self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
            self.norm = nn.LayerNorm(dim)
            self.head = nn.Linear(dim, vocab, bias=False)
            for embedding in (self.token_embedding, self.position_embedding):
                nn.init.normal_(embedding.weight, std=0.02)  # GPT-2's scale; N(0, 1) swamps the residual stream

        def forward(self, tokens):
            positions = torch.arange(tokens.shape[1], device=tokens.device)
            x = self.token_embedding(tokens) + self.position_embedding(positions)
            for block in self.blocks:
                x = block(x)
            return self.head(self.norm(x))

    return CharGPT


def load_text(torch, path, device):
    """(characters of the vocabulary, train ids, validation ids): the first 90% trains, the rest validates."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    characters = sorted(set(text))
    index = {c: i for i, c in enumerate(characters)}
    ids = np.array([index[c] for c in text], dtype=np.int64)
    split = int(0.9 * len(ids))
    return characters, torch.tensor(ids[:split]).to(device), torch.tensor(ids[split:]).to(device)


def sample_windows(torch, ids, generator, batch_size, block_size):
    """`batch_size` random windows of the text and the same windows shifted by one (the targets)."""
    starts = torch.randint(0, len(ids) - block_size, (batch_size, 1), generator=generator).to(ids.device)
    positions = starts + torch.arange(block_size, device=ids.device)
    return ids[positions], ids[positions + 1]


def evaluate(torch, model, batches):
    """Mean cross entropy (nats per character) over fixed batches of windows."""
    model.eval()
    total = 0.0
    with torch.no_grad():
        for inputs, targets in batches:
            logits = model(inputs)
            total += torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)).item()
    model.train()
    return total / len(batches)


def generate(torch, model, ids, count, generator, temperature):
    """`ids` [1, n] followed by `count` characters drawn one at a time from the model's distribution."""
    model.eval()
    with torch.no_grad():
        for _ in range(count):
            logits = model(ids[:, -model.block_size:])[:, -1, :] / temperature
            next_id = torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=generator)
            ids = torch.cat([ids, next_id], dim=1)
    model.train()
    return ids


def main(argv=None):
    args = parse_args(argv)
    run = open_run(args, "char-gpt")
    torch, device, out, checkpoint_path = run.torch, run.device, run.out, run.checkpoint_path

    torch.manual_seed(args.seed)
    characters, train_ids, val_ids = load_text(torch, args.data, device)
    model = define_gpt(torch)(len(characters), block_size=args.block_size, dim=args.dim, depth=args.depth,
                              heads=args.heads).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)

    scheduler = one_cycle(torch, optimizer, args.lr, args.steps)
    # Loss estimates use fixed windows from their own generator, so they are comparable across steps.
    eval_generator = torch.Generator().manual_seed(args.seed + 1)
    held_out = {name: [sample_windows(torch, ids, eval_generator, args.batch_size, args.block_size)
                       for _ in range(args.eval_batches)]
                for name, ids in (("train", train_ids), ("val", val_ids))}
    generator = torch.Generator().manual_seed(args.seed)

    start_step, losses, evaluations = 0, [], []
    if args.resume and os.path.exists(checkpoint_path):
        state = torch.load(checkpoint_path)
        if state["vocabulary"] != "".join(characters):
            raise ValueError(f"--resume: {checkpoint_path} was trained on a text with another character set")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        generator.set_state(state["generator"])  # the data stream continues where it stopped
        start_step, losses = state["step"], list(state["losses"])
        evaluations = [tuple(row) for row in state["evaluations"]]
        scheduler = extend_one_cycle(torch, scheduler, optimizer, args.lr, args.steps, start_step)
        print(f"resumed from {checkpoint_path} after step {start_step}")

    def evaluate_and_save(step):
        evaluations.append((step, evaluate(torch, model, held_out["train"]), evaluate(torch, model, held_out["val"])))
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "generator": generator.get_state(),
                    "vocabulary": "".join(characters), "step": step, "losses": losses,
                    "evaluations": [list(row) for row in evaluations]}, checkpoint_path)
        return evaluations[-1]

    print(f"{args.backend}: GPT with {sum(p.numel() for p in model.parameters())} parameters, "
          f"{len(characters)} characters, {len(train_ids)} training / {len(val_ids)} validation characters, "
          f"device {device}")
    started = time.perf_counter()
    progress = tqdm(range(start_step, args.steps), desc="training", unit="step", initial=start_step, total=args.steps)
    for step in progress:
        inputs, targets = sample_windows(torch, train_ids, generator, args.batch_size, args.block_size)
        logits = model(inputs)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, len(characters)), targets.reshape(-1))
        losses.append(optimize(loss, optimizer, scheduler))
        tokens_per_s = (step + 1 - start_step) * targets.numel() / (time.perf_counter() - started)
        progress.set_postfix(loss=f"{losses[-1]:.3f}", tok_per_s=f"{tokens_per_s:.0f}")
        if (step + 1) % args.eval_every == 0 and step + 1 < args.steps:
            _, train_loss, val_loss = evaluate_and_save(step + 1)
            progress.write(f"step {step + 1}: train loss {train_loss:.4f}, val loss {val_loss:.4f}")
    progress.close()
    train_seconds = time.perf_counter() - started
    steps = max(start_step, args.steps)
    if not evaluations or evaluations[-1][0] != steps:  # a resumed run that had already finished has one
        evaluate_and_save(steps)
    _, train_loss, val_loss = evaluations[-1]
    print(f"step {steps}: train loss {train_loss:.4f}, val loss {val_loss:.4f}")

    prompt = "".join(c for c in args.prompt if c in characters) or characters[0]
    index = {c: i for i, c in enumerate(characters)}
    prompt_ids = torch.tensor([[index[c] for c in prompt]]).to(device)
    sample_generator = torch.Generator().manual_seed(args.seed)
    sample_ids = generate(torch, model, prompt_ids, args.sample_chars, sample_generator, args.temperature)
    sample = "".join(characters[i] for i in sample_ids[0].tolist())
    print(f"--- sample (temperature {args.temperature}) ---\n{sample}\n---")

    save_loss_curve(losses, os.path.join(out, "loss.png"), f"Character GPT ({args.backend})",
                    ylabel="cross entropy (nats / character)", evaluations=evaluations)
    metrics = {"backend": args.backend, "train_loss": train_loss, "val_loss": val_loss,
               "train_seconds": round(train_seconds, 1), "steps": steps,
               "final_loss": losses[-1] if losses else None, "sample": sample}
    write_metrics(out, metrics)
    print(f"val loss {val_loss:.4f} after {steps} steps ({train_seconds:.0f} s of training); "
          f"checkpoint, loss curve and metrics in {out}/")
    return metrics


if __name__ == "__main__":
    main()
