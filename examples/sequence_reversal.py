"""Train a small transformer encoder to reverse random token sequences.

Every position must output the token at the mirrored position of the input, so the model has
to learn attention that depends on position alone: a quick test that embeddings, attention,
LayerNorm, AdamW and the schedule all work together. Batches are drawn on the fly from the
backend's seeded generator, so there is no data set to download.

The same source runs on vibetensor (the default) and on PyTorch (`--backend torch`, the twin):
the model, data, seed and hyperparameters are identical; only `import vibetensor as torch`
differs. It shows a progress bar with the loss and throughput, evaluates token and whole-
sequence accuracy on held-out batches, writes a loss curve (PNG) and a checkpoint, and
`--resume` continues from that checkpoint (to a larger `--steps`, too).

    python3 examples/sequence_reversal.py                 # vibetensor
    python3 examples/sequence_reversal.py --backend torch # the PyTorch twin
"""
import argparse
import os
import time

from tqdm import tqdm

from _common import (add_run_arguments, extend_one_cycle, one_cycle, open_run, optimize, save_loss_curve,
                     write_metrics)

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--vocab", type=int, default=16)
    parser.add_argument("--length", type=int, default=12)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--eval-every", type=int, default=200, help="evaluate and checkpoint every N steps")
    parser.add_argument("--eval-batches", type=int, default=8, help="held-out batches of --batch-size sequences")
    add_run_arguments(parser)
    return parser.parse_args(argv)

def define_reverser(torch):
    """The model, written once against whichever library is passed in as `torch`."""
    nn = torch.nn

    class SequenceReverser(nn.Module):
        """Token embedding + learned positions, a pre-LayerNorm encoder, a linear head to the vocabulary."""

        def __init__(self, vocab=16, length=12, dim=64, depth=2, heads=4, mlp_ratio=2):
            super().__init__()
            self.embed = nn.Embedding(vocab, dim)
            self.pos_embedding = nn.Parameter(torch.zeros(1, length, dim))
            nn.init.trunc_normal_(self.pos_embedding, std=0.02)
            layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=mlp_ratio * dim, dropout=0.0,
                                               activation="gelu", batch_first=True, norm_first=True)
            # norm_first leaves the last layer's output unnormalized: the encoder's final norm does it.
            self.encoder = nn.TransformerEncoder(layer, depth, norm=nn.LayerNorm(dim), enable_nested_tensor=False)
            self.head = nn.Linear(dim, vocab)

        def forward(self, tokens):
            return self.head(self.encoder(self.embed(tokens) + self.pos_embedding))

    return SequenceReverser

def make_batch(torch, generator, args, device):
    """`batch_size` random sequences and their reversals (the targets)."""
    tokens = torch.randint(0, args.vocab, (args.batch_size, args.length), generator=generator).to(device)
    return tokens, tokens.flip(1)

def evaluate(torch, model, batches):
    """(token accuracy, fraction of sequences reversed without a single wrong token)."""
    model.eval()
    correct_tokens = correct_sequences = tokens = sequences = 0
    with torch.no_grad():
        for inputs, targets in batches:
            hits = model(inputs).argmax(dim=-1) == targets
            correct_tokens += hits.sum().item()
            correct_sequences += hits.all(dim=1).sum().item()
            tokens += targets.numel()
            sequences += targets.shape[0]
    model.train()
    return correct_tokens / tokens, correct_sequences / sequences

def main(argv=None):
    args = parse_args(argv)
    run = open_run(args, "sequence-reversal")
    torch, device, out, checkpoint_path = run.torch, run.device, run.out, run.checkpoint_path

    torch.manual_seed(args.seed)
    model = define_reverser(torch)(vocab=args.vocab, length=args.length, dim=args.dim, depth=args.depth,
                                   heads=args.heads).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)

    scheduler = one_cycle(torch, optimizer, args.lr, args.steps)
    # Held-out sequences come from their own generator, so they do not depend on how far training got.
    held_out_generator = torch.Generator().manual_seed(args.seed + 1)
    held_out = [make_batch(torch, held_out_generator, args, device) for _ in range(args.eval_batches)]
    generator = torch.Generator().manual_seed(args.seed)

    start_step, losses = 0, []
    if args.resume and os.path.exists(checkpoint_path):
        state = torch.load(checkpoint_path)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        generator.set_state(state["generator"])  # the data stream continues where it stopped
        start_step, losses = state["step"], list(state["losses"])
        scheduler = extend_one_cycle(torch, scheduler, optimizer, args.lr, args.steps, start_step)
        print(f"resumed from {checkpoint_path} after step {start_step}")

    def save_checkpoint(step):
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "generator": generator.get_state(),
                    "step": step, "losses": losses}, checkpoint_path)

    print(f"{args.backend}: sequence reverser with {sum(p.numel() for p in model.parameters())} parameters, "
          f"vocabulary {args.vocab}, length {args.length}, device {device}")
    started = time.perf_counter()
    progress = tqdm(range(start_step, args.steps), desc="training", unit="step", initial=start_step, total=args.steps)
    for step in progress:
        inputs, targets = make_batch(torch, generator, args, device)
        logits = model(inputs)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, args.vocab), targets.reshape(-1))
        losses.append(optimize(loss, optimizer, scheduler))
        tokens_per_s = (step + 1 - start_step) * targets.numel() / (time.perf_counter() - started)
        progress.set_postfix(loss=f"{losses[-1]:.3f}", tok_per_s=f"{tokens_per_s:.0f}")
        if (step + 1) % args.eval_every == 0 and step + 1 < args.steps:
            token_accuracy, sequence_accuracy = evaluate(torch, model, held_out)
            progress.write(f"step {step + 1}: token accuracy {token_accuracy:.4f}, "
                           f"sequence accuracy {sequence_accuracy:.4f}")
            save_checkpoint(step + 1)
    progress.close()
    train_seconds = time.perf_counter() - started
    save_checkpoint(max(start_step, args.steps))

    token_accuracy, sequence_accuracy = evaluate(torch, model, held_out)
    save_loss_curve(losses, os.path.join(out, "loss.png"), f"Sequence reversal ({args.backend})", log_scale=True)
    metrics = {"backend": args.backend, "token_accuracy": token_accuracy, "sequence_accuracy": sequence_accuracy,
               "train_seconds": round(train_seconds, 1), "steps": max(start_step, args.steps),
               "final_loss": losses[-1] if losses else None}
    write_metrics(out, metrics)
    print(f"token accuracy {token_accuracy:.4f}, sequence accuracy {sequence_accuracy:.4f} after "
          f"{metrics['steps']} steps ({train_seconds:.0f} s of training); checkpoint, loss curve and metrics in {out}/")
    return metrics

if __name__ == "__main__":
    main()
