"""DLPack: zero-copy both ways with PyTorch and numpy (writes through one side are read through
the other), every dtype, strided and offset views, the versioned and legacy capsules, the
stream contract on CUDA, and the errors. (The C++ checks of bad descriptors: tests/cpp.)"""
import gc

import numpy as np
import pytest
import torch

import vibetensor as vt
from helpers import DTYPE_NAMES, make, to_torch

cuda = pytest.mark.skipif(not vt.cuda.is_available(), reason="needs a CUDA device")


def first_element_changed(t):
    """Writes a new value into element 0 of a torch tensor, whatever its dtype."""
    flat = t.view(-1)
    flat[0] = not bool(flat[0]) if t.dtype == torch.bool else flat[0] + 1


@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_torch_and_vibetensor_share_memory_both_ways(dtype):
    source = make((3, 4), dtype, seed=1)
    shared = vt.from_dlpack(source)
    assert shared.dtype == getattr(vt, dtype) and tuple(shared.shape) == (3, 4)
    first_element_changed(source)
    assert torch.equal(to_torch(shared), source)  # sees torch's write

    ours = vt.from_dlpack(make((2, 5), dtype, seed=2)).clone()
    theirs = torch.from_dlpack(ours)
    first_element_changed(theirs)
    assert torch.equal(to_torch(ours), theirs)  # sees the write made through torch


@pytest.mark.parametrize("dtype", [d for d in DTYPE_NAMES if d != "bfloat16"])  # numpy has no bfloat16
def test_numpy_and_vibetensor_share_memory_both_ways(dtype):
    array = make((4, 3), dtype, seed=3).numpy()
    shared = vt.from_dlpack(array)
    array.reshape(-1)[0] = not array.reshape(-1)[0] if dtype == "bool" else array.reshape(-1)[0] + 1
    assert np.array_equal(shared.numpy(), array)
    ours = vt.from_dlpack(array).clone()
    back = np.from_dlpack(ours)
    back[1, 1] = back[0, 0]
    assert np.array_equal(ours.numpy(), back)


def test_views_with_offsets_and_strides_keep_their_geometry():
    base = torch.arange(24.0).view(4, 6)
    view = base[1:, ::2]
    shared = vt.from_dlpack(view)
    assert tuple(shared.shape) == (3, 3) and tuple(shared.stride()) == (6, 2)
    shared[0, 0] = -1.0
    assert base[1, 0] == -1.0
    back = torch.from_dlpack(vt.from_dlpack(base)[2:, 1::3])
    assert torch.equal(back, base[2:, 1::3]) and back.data_ptr() == base[2:, 1::3].data_ptr()


@pytest.mark.parametrize("shape", [(), (0,), (0, 3), (1,)])
def test_scalars_and_empty_tensors(shape):
    source = torch.zeros(shape)
    assert tuple(vt.from_dlpack(source).shape) == shape
    assert tuple(torch.from_dlpack(vt.zeros(*shape)).shape) == shape


def test_versioned_and_legacy_capsules():
    source = torch.arange(3.0)
    for capsule in (source.__dlpack__(max_version=(1, 0)), source.__dlpack__(), torch.utils.dlpack.to_dlpack(source)):
        assert vt.from_dlpack(capsule).tolist() == [0.0, 1.0, 2.0]
    ours = vt.arange(3.0)
    assert "dltensor_versioned" in repr(ours.__dlpack__(max_version=(1, 1)))
    assert '"dltensor"' in repr(ours.__dlpack__())
    assert torch.utils.dlpack.from_dlpack(vt.utils.dlpack.to_dlpack(ours)).tolist() == [0.0, 1.0, 2.0]


def test_a_producer_without_max_version_gets_the_legacy_call():
    class OldProducer:
        def __init__(self, t):
            self.t = t

        def __dlpack__(self, stream=None):
            return self.t.__dlpack__(stream=stream)

        def __dlpack_device__(self):
            return self.t.__dlpack_device__()

    assert vt.from_dlpack(OldProducer(torch.ones(2))).tolist() == [1.0, 1.0]


def test_a_capsule_is_consumed_once():
    capsule = torch.ones(2).__dlpack__(max_version=(1, 0))
    vt.from_dlpack(capsule)
    with pytest.raises(ValueError, match="already consumed"):
        vt.from_dlpack(capsule)


@cuda
def test_exports_hold_the_memory_until_their_capsule_or_consumer_goes():
    gc.collect()
    base = vt.cuda.memory_allocated()
    t = vt.empty(1 << 20, device="cuda")
    capsule = t.__dlpack__(max_version=(1, 0))
    del t
    assert vt.cuda.memory_allocated() > base  # the unconsumed capsule holds it
    del capsule
    gc.collect()
    assert vt.cuda.memory_allocated() == base
    t = vt.empty(1 << 20, device="cuda")
    theirs = torch.from_dlpack(t)
    del t
    assert vt.cuda.memory_allocated() > base  # torch's tensor holds it
    del theirs
    gc.collect()
    assert vt.cuda.memory_allocated() == base


def test_read_only_arrays_are_shared_as_torch_shares_them():
    array = np.arange(4.0)
    array.flags.writeable = False
    assert vt.from_dlpack(array).data_ptr() == torch.from_dlpack(array).data_ptr() == array.ctypes.data


def test_errors():
    with pytest.raises(BufferError, match="require gradient"):
        vt.ones(2, requires_grad=True).__dlpack__()
    with pytest.raises(TypeError, match="expected an object with __dlpack__"):
        vt.from_dlpack(123)
    with pytest.raises(TypeError, match="unsupported dtype"):
        vt.from_dlpack(torch.ones(2, dtype=torch.complex64))
    with pytest.raises(TypeError, match="unsupported dtype"):
        vt.from_dlpack(torch.ones(2, dtype=torch.uint16))
    with pytest.raises(BufferError, match="stream must be None"):
        vt.ones(2).__dlpack__(stream=5)
    with pytest.raises(BufferError, match="cannot be exported"):
        vt.ones(2).__dlpack__(dl_device=(2, 0), copy=False)
    assert vt.ones(2).__dlpack_device__() == (1, 0)


def test_copy_true_exports_a_copy():
    ours = vt.zeros(3)
    copy = torch.from_dlpack(ours.__dlpack__(max_version=(1, 1), copy=True))
    copy[0] = 5.0
    assert ours.tolist() == [0.0, 0.0, 0.0]


@cuda
@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_cuda_tensors_share_memory_with_torch_both_ways(dtype):
    source = make((3, 4), dtype, seed=4).cuda()
    shared = vt.from_dlpack(source)
    assert shared.device.type == "cuda" and shared.data_ptr() == source.data_ptr()
    first_element_changed(source)
    torch.cuda.synchronize()
    assert torch.equal(to_torch(shared.cpu()), source.cpu())
    ours = vt.from_dlpack(make((2, 5), dtype, seed=5)).cuda()
    theirs = torch.from_dlpack(ours)
    assert theirs.device.type == "cuda" and theirs.data_ptr() == ours.data_ptr()
    first_element_changed(theirs)
    torch.cuda.synchronize()
    assert torch.equal(to_torch(ours.cpu()), theirs.cpu())
    assert ours.__dlpack_device__() == (2, ours.device.index)


@cuda
@pytest.mark.parametrize("producer, consumer", [(vt, torch), (torch, vt)], ids=["vt_to_torch", "torch_to_vt"])
def test_cuda_consumer_stream_waits_for_the_producer(producer, consumer):
    # The producer computes on a side stream (slow products); the consumer copies the result on
    # its own stream at once: __dlpack__ must order the consumer's stream after the products.
    a = producer.randn(4096, 4096, device="cuda")
    side = producer.cuda.Stream()
    side.wait_stream(producer.cuda.current_stream())
    with producer.cuda.stream(side):
        for _ in range(3):
            product = a @ a
        seen = consumer.from_dlpack(product).clone()
    vt.cuda.synchronize()
    torch.cuda.synchronize()
    assert torch.equal(torch.from_dlpack(seen.cpu()), torch.from_dlpack(product.cpu()))


@cuda
def test_cuda_export_to_the_host_with_copy():
    ours = vt.arange(4.0, device="cuda")
    host = torch.from_dlpack(ours.__dlpack__(max_version=(1, 1), dl_device=(1, 0), copy=True))
    assert host.device.type == "cpu" and host.tolist() == [0.0, 1.0, 2.0, 3.0]
