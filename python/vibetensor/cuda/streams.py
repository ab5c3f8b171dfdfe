"""Stream and Event, as torch.cuda's."""
from vibetensor import _C


class Stream:
    """A queue of work on one device. `Stream()` makes a new stream on the current device;
    priority -1 is high, 0 (default) low. Usable as a context manager, like torch's."""

    def __init__(self, device=None, priority=0, **kwargs):
        from vibetensor.cuda import _device_index
        if "_stream" in kwargs:
            self._stream = kwargs["_stream"]
        else:
            self._stream = _C._CudaStream.create(_device_index(device), priority)
        self._context = None

    @classmethod
    def _wrap(cls, raw):
        return cls(_stream=raw)

    @property
    def device_index(self):
        return self._stream.device_index

    @property
    def device(self):
        return _C.device(f"cuda:{self.device_index}")

    @property
    def cuda_stream(self):
        return self._stream.cuda_stream

    @property
    def priority(self):
        return self._stream.priority

    def query(self):
        return self._stream.query()

    def synchronize(self):
        self._stream.synchronize()

    def wait_stream(self, stream):
        """This stream's later work waits for the work queued on `stream` so far."""
        self._stream.wait_stream(stream._stream)

    def wait_event(self, event):
        event.wait(self)

    def record_event(self, event=None):
        event = Event() if event is None else event
        event.record(self)
        return event

    def __enter__(self):
        from vibetensor.cuda import stream
        self._context = stream(self)
        self._context.__enter__()
        return self

    def __exit__(self, *exc):
        context, self._context = self._context, None
        return context.__exit__(*exc)

    def __eq__(self, other):
        return isinstance(other, Stream) and self._stream == other._stream

    def __hash__(self):
        return hash(self._stream)

    def __repr__(self):
        return f"<vibetensor.cuda.Stream device=cuda:{self.device_index} cuda_stream={self.cuda_stream:#x}>"


class Event:
    """A marker in a stream's work: record it, wait for it from another stream, or time the
    work between two events (enable_timing=True)."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        self._event = _C._CudaEvent(enable_timing, blocking, interprocess)

    def record(self, stream=None):
        from vibetensor.cuda import current_stream
        stream = current_stream() if stream is None else stream
        self._event.record(stream._stream)

    def wait(self, stream=None):
        from vibetensor.cuda import current_stream
        stream = current_stream() if stream is None else stream
        self._event.wait(stream._stream)

    def query(self):
        return self._event.query()

    def synchronize(self):
        self._event.synchronize()

    def elapsed_time(self, end_event):
        """Milliseconds from this event to `end_event`."""
        return self._event.elapsed_time(end_event._event)

    @property
    def cuda_event(self):
        return self._event.cuda_event

    def __repr__(self):
        return f"<vibetensor.cuda.Event {self.cuda_event:#x}>" if self.cuda_event else "<vibetensor.cuda.Event uninitialized>"
