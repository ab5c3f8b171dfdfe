"""The CUDA runtime: devices, host<->device copies for every dtype, streams, events, pinned
memory and the caching allocator's statistics, cap and OOM path. Skipped without a GPU; the
allocator's logic is also tested without one (tests/cpp/test_caching_allocator.cpp)."""
import numpy as np
import pytest

import vibetensor as vt

cuda = pytest.mark.skipif(not vt.cuda.is_available(), reason="needs a CUDA device")

def same(a, b):
    """Equal dtype, shape and values (compared on the host)."""
    return a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape) and a.tolist() == b.tolist()


DTYPES = [vt.bool, vt.uint8, vt.int8, vt.int16, vt.int32, vt.int64, vt.float16, vt.bfloat16, vt.float32, vt.float64]


def test_without_a_device_the_api_says_so():
    if vt.cuda.is_available():
        pytest.skip("a device is present")
    assert vt.cuda.device_count() == 0
    with pytest.raises(RuntimeError):
        vt.cuda.current_device()
    with pytest.raises(RuntimeError):
        vt.zeros(3, device="cuda")
    with pytest.raises(RuntimeError):
        vt.ones(2).cuda()
    assert not vt.ones(2).is_pinned()


@cuda
def test_devices_and_properties():
    assert vt.cuda.device_count() >= 1
    assert vt.cuda.current_device() == 0
    props = vt.cuda.get_device_properties(0)
    assert props.total_memory > 1 << 30 and props.multi_processor_count > 0
    assert vt.cuda.get_device_capability() == (props.major, props.minor)
    assert isinstance(vt.cuda.get_device_name(), str) and vt.cuda.get_device_name()
    with pytest.raises(ValueError, match="Invalid device ordinal"):
        vt.cuda.set_device(vt.cuda.device_count())
    with vt.cuda.device(0):
        assert vt.cuda.current_device() == 0


@cuda
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_round_trip_every_dtype(dtype):
    values = (np.arange(-12, 12) % 7).reshape(4, 6)
    x = vt.tensor(values).to(dtype)
    y = x.cuda()
    assert y.device == vt.device("cuda:0") and y.is_cuda and y.dtype == dtype
    assert same(y.cpu(), x)
    assert y.tolist() == x.tolist()
    # Strided on either side: a transposed source and a transposed destination.
    assert same(x.t().cuda().cpu(), x.t())
    target = vt.zeros(6, 4, dtype=dtype, device="cuda").t()
    target.copy_(x)
    assert same(target.cpu(), x)


@cuda
@pytest.mark.parametrize("src_dtype", DTYPES, ids=str)
def test_conversions_on_the_device_match_the_cpu(src_dtype):
    x = vt.tensor([[0.0, 1.5, -2.25, 3.0], [100.0, -0.5, 7.0, 0.0]]).to(src_dtype)
    on_device = x.cuda()
    for dtype in DTYPES:
        assert same(on_device.to(dtype).cpu(), x.to(dtype)), (src_dtype, dtype)


@cuda
def test_fill_broadcast_and_item():
    x = vt.full((3, 5), 2.5, device="cuda")
    assert same(x.cpu(), vt.full((3, 5), 2.5))
    x[:, 1].fill_(-1)
    expected = vt.full((3, 5), 2.5)
    expected[:, 1] = -1
    assert same(x.cpu(), expected)
    row = vt.arange(5.0).cuda()
    x.copy_(row)  # broadcast over rows
    assert same(x.cpu(), vt.arange(5.0).expand(3, 5))
    assert x[1, 4].item() == 4.0
    with pytest.raises(RuntimeError, match="overflow"):
        vt.zeros(2, dtype=vt.int8, device="cuda").fill_(300)
    assert "device='cuda:0'" in repr(x)


@cuda
def test_numpy_of_a_cuda_tensor_is_refused():
    with pytest.raises(TypeError, match="cuda:0 device type tensor to numpy"):
        vt.ones(2, device="cuda").numpy()


@cuda
def test_streams_and_events():
    default = vt.cuda.current_stream()
    assert default == vt.cuda.default_stream() and default.cuda_stream == 0
    side = vt.cuda.Stream()
    assert side != default and side.cuda_stream != 0
    with vt.cuda.stream(side):
        assert vt.cuda.current_stream() == side
        y = vt.ones(1 << 20, device="cuda")
    assert vt.cuda.current_stream() == default
    default.wait_stream(side)
    assert same(y[:4].cpu(), vt.ones(4))
    start, end = vt.cuda.Event(enable_timing=True), vt.cuda.Event(enable_timing=True)
    start.record()
    big = vt.zeros(1 << 24, device="cuda")
    big.fill_(3)
    end.record()
    end.synchronize()
    assert end.query() and start.elapsed_time(end) > 0
    untimed = vt.cuda.Event()
    with pytest.raises(RuntimeError, match="recorded"):
        untimed.elapsed_time(end)
    untimed.record()
    with pytest.raises(RuntimeError, match="enable_timing"):
        untimed.elapsed_time(end)
    side.synchronize()
    assert side.query()
    high = vt.cuda.Stream(priority=-1)
    assert high.priority <= side.priority


@cuda
def test_pinned_memory_and_non_blocking_copies():
    x = vt.arange(1000.0)
    pinned = x.pin_memory()
    assert pinned.is_pinned() and not x.is_pinned() and same(pinned, x)
    y = pinned.to("cuda", non_blocking=True)
    vt.cuda.synchronize()
    assert same(y.cpu(), x)
    back = vt.empty(1000).pin_memory()
    back.copy_(y, non_blocking=True)
    vt.cuda.current_stream().synchronize()
    assert same(back, x)
    # A strided host destination is written by the CPU after the transfer: correct at once.
    strided = vt.zeros(40, 25).t()
    strided.copy_(y.view(25, 40), non_blocking=True)
    assert same(strided, x.view(25, 40))
    with pytest.raises(RuntimeError, match="only CPU tensors can be pinned"):
        y.pin_memory()


@cuda
def test_allocator_statistics_and_steady_state():
    vt.cuda.synchronize()
    vt.cuda.empty_cache()
    base = vt.cuda.memory_allocated()
    x = vt.empty(1000, device="cuda")  # 4000 bytes, rounded to 4096
    assert vt.cuda.memory_allocated() - base == 4096
    assert vt.cuda.memory_reserved() >= vt.cuda.memory_allocated()
    del x
    assert vt.cuda.memory_allocated() == base
    stats = vt.cuda.memory_stats()
    assert "allocated_bytes.all.current" in stats and "reserved_bytes.large_pool.peak" in stats
    for _ in range(3):  # warm the cache
        [vt.empty(n, device="cuda") for n in (10, 1000, 300000, 5000000)]
    device_allocs = vt.cuda.memory_stats()["num_device_alloc"]
    for _ in range(100):
        [vt.empty(n, device="cuda") for n in (10, 1000, 300000, 5000000)]
    assert vt.cuda.memory_stats()["num_device_alloc"] == device_allocs  # no cudaMalloc in steady state
    vt.cuda.reset_peak_memory_stats()
    assert vt.cuda.max_memory_allocated() == vt.cuda.memory_allocated()
    reserved = vt.cuda.memory_reserved()
    vt.cuda.empty_cache()
    assert vt.cuda.memory_reserved() <= reserved


@cuda
def test_memory_fraction_and_out_of_memory_recovery():
    total = vt.cuda.get_device_properties().total_memory
    try:
        vt.cuda.set_per_process_memory_fraction(0.1)
        with pytest.raises(vt.cuda.OutOfMemoryError, match="out of memory"):
            vt.empty(int(total * 0.2) // 4, device="cuda")
        assert vt.cuda.memory_stats()["num_ooms"] >= 1
        ok = vt.empty(int(total * 0.05) // 4, device="cuda")  # the allocator still serves
        del ok
    finally:
        vt.cuda.set_per_process_memory_fraction(1.0)
    with pytest.raises(ValueError):
        vt.cuda.set_per_process_memory_fraction(1.5)
    with pytest.raises(vt.OutOfMemoryError):
        vt.empty(total * 2 // 4, device="cuda")
    assert issubclass(vt.cuda.OutOfMemoryError, RuntimeError)


@cuda
def test_snapshot_with_history():
    vt.cuda.memory._record_memory_history()
    try:
        x = vt.empty(12345, device="cuda")
        segments = vt.cuda.memory_snapshot()
        blocks = [b for s in segments for b in s["blocks"] if b["state"] == "active_allocated"]
        mine = [b for b in blocks if b["address"] == x.data_ptr()]
        assert len(mine) == 1 and mine[0]["requested_size"] == 12345 * 4
        assert "test_cuda_runtime.py" in mine[0]["frames"][0]
    finally:
        vt.cuda.memory._record_memory_history(None)


@cuda
def test_record_stream_delays_reuse():
    side = vt.cuda.Stream()
    x = vt.empty(1 << 20, device="cuda")
    address = x.data_ptr()
    with vt.cuda.stream(side):
        x.fill_(1)  # work on the side stream
    x.record_stream(side)
    del x
    y = vt.empty(1 << 20, device="cuda")
    # The block may only come back once the side stream's work is done: either it is a
    # different block, or the side stream had already finished.
    assert y.data_ptr() != address or side.query()
