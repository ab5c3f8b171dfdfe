"""vt.safetensors: files written by vibetensor read by the safetensors library and PyTorch and
the reverse, for every dtype; lazy access; the errors of bad arguments and bad files.
(Corrupt checkpoints through vt.load are in test_checkpoint.py; the parser's own cases and
the fuzzer are in tests/cpp and tests/fuzz.)"""
import json
import struct

import pytest
import safetensors.torch
import torch

import vibetensor as vt
from helpers import DTYPE_NAMES, make, to_torch, to_vt
from vibetensor import safetensors as vst

SHAPES = [(), (0,), (5,), (2, 3, 4)]


@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_written_by_vibetensor_read_by_safetensors_and_torch(tmp_path, dtype):
    references = {f"t{i}": make(shape, dtype, seed=i) for i, shape in enumerate(SHAPES)}
    path = tmp_path / "vt.safetensors"
    vst.save_file({name: to_vt(t) for name, t in references.items()}, path, metadata={"who": "vt"})
    loaded = safetensors.torch.load_file(str(path))
    assert sorted(loaded) == sorted(references)
    for name, reference in references.items():
        assert loaded[name].dtype == reference.dtype and torch.equal(loaded[name], reference)
    with safetensors.safe_open(str(path), framework="pt") as f:
        assert f.metadata() == {"who": "vt"}
    from_bytes = safetensors.torch.load(vst.save({name: to_vt(t) for name, t in references.items()}))
    assert all(torch.equal(from_bytes[name], reference) for name, reference in references.items())


@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_written_by_torch_read_by_vibetensor(tmp_path, dtype):
    references = {f"t{i}": make(shape, dtype, seed=i) for i, shape in enumerate(SHAPES)}
    path = tmp_path / "torch.safetensors"
    safetensors.torch.save_file(references, str(path), metadata={"format": "pt"})
    for loaded in (vst.load_file(path), vst.load(safetensors.torch.save(references))):
        assert sorted(loaded) == sorted(references)
        for name, reference in references.items():
            assert loaded[name].dtype == getattr(vt, dtype)
            assert torch.equal(to_torch(loaded[name]), reference)


def test_non_contiguous_tensors_are_written_by_value(tmp_path):
    base = make((4, 6), "float32")
    path = tmp_path / "views.safetensors"
    vst.save_file({"t": to_vt(base).t(), "step": to_vt(base)[:, ::2]}, path)
    loaded = safetensors.torch.load_file(str(path))
    assert torch.equal(loaded["t"], base.t()) and torch.equal(loaded["step"], base[:, ::2])


def test_safe_open_reads_lazily_and_names_its_keys(tmp_path):
    path = tmp_path / "lazy.safetensors"
    vst.save_file({"a": vt.arange(4.0), "b": vt.ones(2, 2, dtype=vt.int64)}, path)
    with vst.safe_open(path, framework="pt") as f:
        assert sorted(f.keys()) == ["a", "b"]
        assert f.metadata() is None
        assert f.get_tensor("a").tolist() == [0.0, 1.0, 2.0, 3.0]
        with pytest.raises(KeyError, match="no tensor named 'c'"):
            f.get_tensor("c")
    with pytest.raises(RuntimeError, match="closed"):
        f.keys()


def test_loaded_tensors_own_their_memory_and_mmap_checkpoints_leave_the_file_alone(tmp_path):
    path = tmp_path / "own.safetensors"
    vst.save_file({"x": vt.zeros(4)}, path)
    before = path.read_bytes()
    copied = vst.load_file(path)["x"]
    mapped = vt.load(path, mmap=True)["x"]
    copied.fill_(1.0)
    mapped.fill_(2.0)  # a private mapping: the page is copied on write
    assert path.read_bytes() == before
    assert vst.load_file(path)["x"].tolist() == [0.0] * 4
    assert mapped.tolist() == [2.0] * 4


def test_dtypes_vibetensor_lacks_raise_when_read_and_leave_the_rest_readable(tmp_path):
    path = tmp_path / "u16.safetensors"
    safetensors.torch.save_file({"u": torch.tensor([1, 2, 3], dtype=torch.uint16), "f": torch.ones(2)}, str(path))
    with pytest.raises(ValueError, match="dtype U16, which vibetensor does not support"):
        vst.load_file(path)
    with vst.safe_open(path, framework="pt") as f:
        assert f.get_tensor("f").tolist() == [1.0, 1.0]


def test_bad_arguments_raise_typed_errors(tmp_path):
    path = tmp_path / "x.safetensors"
    with pytest.raises(TypeError, match="tensors must be a dict"):
        vst.save_file([vt.ones(1)], path)
    with pytest.raises(TypeError, match="'a' is a list, not a tensor"):
        vst.save_file({"a": [1.0]}, path)
    with pytest.raises(TypeError, match="tensor names must be str"):
        vst.save_file({1: vt.ones(1)}, path)
    with pytest.raises(TypeError, match="metadata must be a dict of str to str"):
        vst.save_file({"a": vt.ones(1)}, path, metadata={"k": 1})
    with pytest.raises(ValueError, match="'__metadata__' is reserved"):
        vst.save_file({"__metadata__": vt.ones(1)}, path)
    with pytest.raises(ValueError, match="UTF-8"):
        vst.save_file({"bad\udcff": vt.ones(1)}, path)
    with pytest.raises(FileNotFoundError):
        vst.load_file(tmp_path / "missing.safetensors")
    with pytest.raises(ValueError, match="framework"):
        vst.safe_open(path, framework="numpy")


def test_a_refused_save_leaves_the_previous_file(tmp_path):
    path = tmp_path / "keep.safetensors"
    vst.save_file({"a": vt.ones(3)}, path)
    before = path.read_bytes()
    with pytest.raises(ValueError):
        vst.save_file({"__metadata__": vt.ones(1)}, path)
    assert path.read_bytes() == before
    assert not (tmp_path / "keep.safetensors.partial").exists()


def test_bad_bytes_raise_value_errors():
    header = json.dumps({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    with pytest.raises(ValueError, match="outside"):
        vst.load(struct.pack("<Q", len(header)) + header + bytes(4))
    with pytest.raises(ValueError, match="too short"):
        vst.load(b"\x00")


@pytest.mark.skipif(not vt.cuda.is_available(), reason="needs a CUDA device")
def test_load_file_onto_cuda(tmp_path):
    path = tmp_path / "gpu.safetensors"
    reference = make((3, 5), "bfloat16")
    safetensors.torch.save_file({"w": reference}, str(path))
    loaded = vst.load_file(path, device="cuda")["w"]
    assert loaded.device.type == "cuda"
    assert torch.equal(to_torch(loaded.cpu()), reference)
    vst.save_file({"w": loaded}, path)  # written from the device
    assert torch.equal(safetensors.torch.load_file(str(path))["w"], reference)
