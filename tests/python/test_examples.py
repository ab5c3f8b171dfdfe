"""The training examples (examples/*.py), run for a few steps on vibetensor: each returns its
metrics and writes a loss curve and a checkpoint, `--resume` continues from that checkpoint, and
the checkpoint is a safetensors file whose model weights load into the example's PyTorch twin,
which then computes what the vibetensor model does."""
import os
import sys

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import vibetensor as vt

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples"))
import char_gpt  # noqa: E402
import sequence_reversal  # noqa: E402
import vit_fashion_mnist  # noqa: E402

FASHION = "/usr/share/datasets/fashion-mnist"


def assert_run_outputs(out, metrics, metric_names):
    for name in metric_names:
        assert name in metrics, f"metrics lack '{name}': {metrics}"
    assert metrics["backend"] == "vibetensor" and np.isfinite(metrics["final_loss"])
    for name in ("loss.png", "metrics.json", "checkpoint.safetensors"):
        assert (out / name).stat().st_size > 0, f"{name} is missing or empty"


def assert_torch_twin_matches(checkpoint, build_model, inputs):
    """The checkpoint's model weights, read by the safetensors library, load into the PyTorch twin
    (`build_model(torch)`), which computes the same outputs as `build_model(vt)` with them."""
    tensors = load_file(str(checkpoint))
    weights = {name[len("model."):]: tensor for name, tensor in tensors.items() if name.startswith("model.")}
    twin = build_model(torch)
    twin.load_state_dict(weights)  # strict: every parameter and buffer is in the file
    model = build_model(vt)
    model.load_state_dict(vt.load(checkpoint)["model"])
    twin.eval()
    model.eval()
    with torch.no_grad():
        expected = twin(torch.tensor(inputs)).numpy()
    with vt.no_grad():
        actual = model(vt.tensor(inputs)).numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(not os.path.isfile(f"{FASHION}/train-images-idx3-ubyte.gz"),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_vit_fashion_mnist(tmp_path):
    args = ["--train-limit", "512", "--test-limit", "256", "--batch-size", "64", "--out", str(tmp_path)]
    metrics = vit_fashion_mnist.main(args + ["--epochs", "1"])
    assert_run_outputs(tmp_path, metrics, ["test_accuracy", "train_seconds", "epochs"])
    assert 0 <= metrics["test_accuracy"] <= 1 and metrics["epochs"] == 1

    vit_fashion_mnist.main(args + ["--epochs", "2", "--resume"])  # one more epoch than the checkpoint's run
    state = vt.load(tmp_path / "checkpoint.safetensors")
    assert state["epoch"] == 2 and len(state["losses"]) == 2 * 512 // 64
    assert state["scheduler"]["last_epoch"] == 2 * 512 // 64

    images = np.random.default_rng(0).standard_normal((4, 1, 28, 28), dtype=np.float32)
    assert_torch_twin_matches(tmp_path / "checkpoint.safetensors",
                              lambda lib: vit_fashion_mnist.define_vit(lib)(), images)


def test_sequence_reversal(tmp_path):
    sizes = {"vocab": 10, "length": 8, "dim": 32, "depth": 1, "heads": 2}
    args = ["--batch-size", "16", "--eval-every", "3", "--eval-batches", "2", "--out", str(tmp_path)]
    args += [f"--{name}={value}" for name, value in sizes.items()]
    metrics = sequence_reversal.main(args + ["--steps", "6"])
    assert_run_outputs(tmp_path, metrics, ["token_accuracy", "sequence_accuracy", "train_seconds", "steps"])
    assert 0 <= metrics["sequence_accuracy"] <= metrics["token_accuracy"] <= 1 and metrics["steps"] == 6

    metrics = sequence_reversal.main(args + ["--steps", "10", "--resume"])
    state = vt.load(tmp_path / "checkpoint.safetensors")
    assert metrics["steps"] == state["step"] == 10 and len(state["losses"]) == 10
    assert state["scheduler"]["last_epoch"] == 10

    tokens = np.random.default_rng(0).integers(0, sizes["vocab"], (4, sizes["length"]))
    assert_torch_twin_matches(tmp_path / "checkpoint.safetensors",
                              lambda lib: sequence_reversal.define_reverser(lib)(**sizes), tokens)


def test_char_gpt(tmp_path):
    text = "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n" * 40
    data = tmp_path / "text.txt"
    data.write_text(text)
    vocab = len(set(text))
    sizes = {"block-size": 16, "dim": 32, "depth": 1, "heads": 2}
    args = ["--data", str(data), "--batch-size", "8", "--eval-every", "3", "--eval-batches", "2",
            "--sample-chars", "20", "--prompt", "To be", "--out", str(tmp_path / "run")]
    args += [f"--{name}={value}" for name, value in sizes.items()]
    metrics = char_gpt.main(args + ["--steps", "6"])
    assert_run_outputs(tmp_path / "run", metrics, ["train_loss", "val_loss", "train_seconds", "steps", "sample"])
    assert np.isfinite(metrics["val_loss"]) and metrics["steps"] == 6
    assert metrics["sample"].startswith("To be") and len(metrics["sample"]) == len("To be") + 20
    assert set(metrics["sample"]) <= set(text)

    metrics = char_gpt.main(args + ["--steps", "10", "--resume"])
    state = vt.load(tmp_path / "run" / "checkpoint.safetensors")
    assert metrics["steps"] == state["step"] == 10 and len(state["losses"]) == 10
    assert [row[0] for row in state["evaluations"]] == [3, 6, 9, 10]

    windows = np.random.default_rng(0).integers(0, vocab, (4, sizes["block-size"]))
    assert_torch_twin_matches(tmp_path / "run" / "checkpoint.safetensors",
                              lambda lib: char_gpt.define_gpt(lib)(vocab, block_size=16, dim=32, depth=1, heads=2),
                              windows)


def test_char_gpt_names_a_missing_data_file(tmp_path, capsys):
    missing = tmp_path / "missing.txt"
    with pytest.raises(SystemExit):
        char_gpt.main(["--data", str(missing)])
    assert f"no text file at {missing}" in capsys.readouterr().err


@pytest.mark.parametrize("build_model,inputs", [
    (lambda m: vit_fashion_mnist.define_vit(m)(),
     np.random.default_rng(0).standard_normal((3, 1, 28, 28), dtype=np.float32)),
    (lambda m: sequence_reversal.define_reverser(m)(), np.random.default_rng(0).integers(0, 16, (3, 12))),
    (lambda m: char_gpt.define_gpt(m)(65, block_size=16), np.random.default_rng(0).integers(0, 65, (2, 16))),
], ids=["vit", "sequence_reversal", "char_gpt"])
def test_a_torch_state_dict_saved_as_safetensors_loads_into_vibetensor(tmp_path, build_model, inputs):
    """The reverse direction: the PyTorch twin's weights, written by the safetensors library, are
    read by vt.load and give the vibetensor model the twin's outputs."""
    from safetensors.torch import save_file
    torch.manual_seed(3)
    twin = build_model(torch).eval()
    save_file({k: v.contiguous() for k, v in twin.state_dict().items()}, str(tmp_path / "twin.safetensors"))
    model = build_model(vt).eval()
    model.load_state_dict(vt.load(tmp_path / "twin.safetensors"))
    with torch.no_grad():
        expected = twin(torch.tensor(inputs)).numpy()
    with vt.no_grad():
        actual = model(vt.tensor(inputs)).numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)
