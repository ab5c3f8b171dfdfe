"""vt.save / vt.load: safetensors checkpoints, read and written by the safetensors library and
PyTorch too, and corrupt files that must raise CheckpointError (never crash, never run code)."""
import io
import json
import struct

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from safetensors.torch import load_file, save_file

import vibetensor as vt
from helpers import DTYPE_NAMES, make, to_torch, to_vt
from vibetensor.serialization import CheckpointError


@pytest.mark.parametrize("dtype", DTYPE_NAMES)
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3, 4)])
def test_every_dtype_round_trips_and_reads_in_safetensors(tmp_path, dtype, shape):
    reference = make(shape, dtype, seed=3)
    path = tmp_path / "t.safetensors"
    vt.save({"x": to_vt(reference)}, path)
    loaded = vt.load(path)["x"]
    assert loaded.dtype == getattr(vt, dtype) and tuple(loaded.shape) == shape
    assert torch.equal(to_torch(loaded), reference)
    from_library = load_file(str(path))["x"]
    assert from_library.dtype == reference.dtype and torch.equal(from_library, reference)


@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_files_written_by_safetensors_load_as_flat_dicts(tmp_path, dtype):
    tensors = {"a.weight": make((4, 5), dtype, seed=1), "b": make((7,), dtype, seed=2)}
    path = tmp_path / "torch.safetensors"
    save_file(tensors, str(path), metadata={"format": "pt"})
    loaded = vt.load(path)
    assert sorted(loaded) == sorted(tensors)
    for name, reference in tensors.items():
        assert torch.equal(to_torch(loaded[name]), reference)


def test_nested_structures_and_plain_values_round_trip(tmp_path):
    weight = vt.randn(3, 2)
    checkpoint = {
        "model": {"fc.weight": weight, "fc.bias": vt.zeros(2)},
        "optimizer": {"state": {0: {"step": vt.tensor(3.0), "exp_avg": vt.ones(3, 2)}},
                      "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0], "name": None,
                                        "amsgrad": False}]},
        "epoch": 7, "best": float("inf"), "tied": [weight, weight], "note": "héllo",
    }
    path = tmp_path / "ck.safetensors"
    vt.save(checkpoint, path)
    loaded = vt.load(path)
    assert loaded["epoch"] == 7 and loaded["best"] == float("inf") and loaded["note"] == "héllo"
    assert loaded["optimizer"]["param_groups"] == checkpoint["optimizer"]["param_groups"]
    assert list(loaded["optimizer"]["state"]) == [0]  # int keys stay ints
    assert isinstance(loaded["optimizer"]["param_groups"][0]["betas"], tuple)
    np.testing.assert_array_equal(loaded["model"]["fc.weight"].numpy(), weight.numpy())
    assert loaded["tied"][0] is loaded["tied"][1]  # one tensor saved once
    assert sorted(load_file(str(path))) == ["model.fc.bias", "model.fc.weight", "optimizer.state.0.exp_avg",
                                            "optimizer.state.0.step"]


def test_strided_tensors_and_file_objects(tmp_path):
    base = vt.arange(24, dtype=vt.float32).reshape(4, 6)
    view = base.t()[1:, ::2]
    buffer = io.BytesIO()
    vt.save(view, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(vt.load(buffer).numpy(), view.numpy())


def test_a_state_dict_loads_into_a_torch_module(tmp_path):
    torch_layer = torch.nn.Linear(4, 3)
    state = {k: to_vt(v.detach()) for k, v in torch_layer.state_dict().items()}
    state = {k: v * 2 for k, v in state.items()}
    path = tmp_path / "linear.safetensors"
    vt.save(state, path)
    torch_layer.load_state_dict(load_file(str(path)))
    np.testing.assert_allclose(torch_layer.weight.detach().numpy(), state["weight"].numpy())


def test_unsupported_objects_are_refused_when_saving(tmp_path):
    with pytest.raises(TypeError, match="cannot store an object of type object at 'a.0'"):
        vt.save({"a": [object()]}, tmp_path / "x")
    with pytest.raises(TypeError, match="dict keys must be str or int"):
        vt.save({(1, 2): vt.zeros(1)}, tmp_path / "x")


def test_weights_only_false_is_refused(tmp_path):
    vt.save(vt.zeros(1), tmp_path / "x")
    with pytest.raises(ValueError, match="never hold pickled objects"):
        vt.load(tmp_path / "x", weights_only=False)


# ---- corrupt and hostile files

def file_with_header(header, data=b"", size=None):
    text = json.dumps(header).encode() if isinstance(header, dict) else header
    return struct.pack("<Q", len(text) if size is None else size) + text + data


def good_file():
    buffer = io.BytesIO()
    vt.save({"a": vt.arange(6, dtype=vt.float32), "b": {"c": vt.ones(2, 2, dtype=vt.int64)}}, buffer)
    return buffer.getvalue()


ENTRY = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
CORRUPT = {
    "empty": (b"", "too short"),
    "header_size_only": (struct.pack("<Q", 16), "truncated"),
    "huge_header_size": (struct.pack("<Q", 2**62) + b"{}", "limit"),
    "not_json": (file_with_header(b"{nope"), "not valid JSON"),
    "not_utf8": (file_with_header(b'{"\xff\xfe": 1}'), "not UTF-8"),
    "not_an_object": (file_with_header(b"[1, 2]"), "not a JSON object"),
    "duplicate_names": (file_with_header(b'{"a": %s, "a": %s}' % ((json.dumps(ENTRY).encode(),) * 2), bytes(8)),
                        "names 'a' twice"),
    "unknown_dtype": (file_with_header({"a": {**ENTRY, "dtype": "F8"}}, bytes(8)), "unsupported dtype"),
    "negative_shape": (file_with_header({"a": {**ENTRY, "shape": [-2]}}, bytes(8)), "invalid shape"),
    "float_shape": (file_with_header({"a": {**ENTRY, "shape": [2.0]}}, bytes(8)), "invalid shape"),
    "missing_offsets": (file_with_header({"a": {"dtype": "F32", "shape": [2]}}, bytes(8)), "exactly dtype"),
    "offsets_past_end": (file_with_header({"a": {**ENTRY, "data_offsets": [0, 800]}}, bytes(8)), "outside"),
    "offsets_reversed": (file_with_header({"a": {**ENTRY, "data_offsets": [8, 0]}}, bytes(8)), "outside"),
    "byte_count_mismatch": (file_with_header({"a": {**ENTRY, "shape": [3]}}, bytes(8)), "needs 12 bytes"),
    "overlap": (file_with_header({"a": ENTRY, "b": {**ENTRY, "data_offsets": [4, 12]}}, bytes(12)), "overlaps"),
    "gap": (file_with_header({"a": {**ENTRY, "data_offsets": [4, 12]}}, bytes(12)), "gap"),
    "trailing_bytes": (file_with_header({"a": ENTRY}, bytes(16)), "after its last tensor"),
    "bad_metadata": (file_with_header({"__metadata__": {"k": 1}}), "must map strings to strings"),
    "bad_structure": (file_with_header({"__metadata__": {"vibetensor.structure": '{"module": "os"}'}}),
                      "malformed"),
    "structure_names_missing_tensor": (
        file_with_header({"__metadata__": {"vibetensor.structure": '{"tensor": "zz"}'}}), "does not hold"),
    "deeply_nested_header": (file_with_header(b"[" * 100000 + b"]" * 100000), "nested too deeply"),
}


@pytest.mark.parametrize("case", sorted(CORRUPT))
def test_corrupt_files_raise_checkpoint_errors(tmp_path, case):
    blob, message = CORRUPT[case]
    path = tmp_path / "bad.safetensors"
    path.write_bytes(blob)
    with pytest.raises(CheckpointError, match=message):
        vt.load(path)


@pytest.mark.parametrize("cut", [1, 7, 8, 20, -9, -1])
def test_truncated_checkpoints_raise(cut):
    blob = good_file()[:cut]
    with pytest.raises(CheckpointError):
        vt.load(io.BytesIO(blob))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_random_corruption_only_ever_raises_checkpoint_error(data):
    blob = bytearray(good_file())
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(blob) - 1))
        blob[position] = data.draw(st.integers(0, 255))
    try:
        vt.load(io.BytesIO(bytes(blob)))
    except CheckpointError:
        pass
