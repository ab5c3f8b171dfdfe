"""An op-level CPU profiler with torch.profiler's interface.

    with vt.profiler.profile() as prof:
        train_step()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))

Every op call through the dispatcher, every autograd node the backward pass runs and every
`record_function` range becomes one timed event (the recording is in C++: vt/profiler.h).
An event's self time is its time minus that of the events nested directly inside it, so the
self times of a table add up to the profiled time spent inside ops.
"""
import enum
import json
from collections import defaultdict

from vibetensor import _C


class ProfilerActivity(enum.Enum):
    CPU = "cpu"
    CUDA = "cuda"


class FunctionEvent:
    """One timed event; times in microseconds, as torch reports them."""

    def __init__(self, name, kind, thread, depth, start_ns, end_ns):
        self.name, self.kind, self.thread, self.depth = name, kind, thread, depth
        self.time_range_start_us = start_ns / 1e3
        self.cpu_time_total = (end_ns - start_ns) / 1e3
        self.self_cpu_time_total = self.cpu_time_total  # less its children, set by the profile
        self.cpu_children = []

    @property
    def key(self):
        return self.name

    def __repr__(self):
        return (f"<FunctionEvent {self.name} ({self.kind}) cpu_time_total={self.cpu_time_total:.1f}us "
                f"self={self.self_cpu_time_total:.1f}us>")


class FunctionEventAvg:
    """The events of one name, summed; `cpu_time` is the mean per call."""

    def __init__(self, key):
        self.key, self.count = key, 0
        self.cpu_time_total = self.self_cpu_time_total = 0.0

    def add(self, event):
        self.count += 1
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total

    @property
    def cpu_time(self):
        return self.cpu_time_total / self.count


class EventList(list):
    """A list of FunctionEvent or FunctionEventAvg that prints as torch's table."""

    _SORT_KEYS = ("cpu_time_total", "self_cpu_time_total", "cpu_time", "count")

    def table(self, sort_by=None, row_limit=100, max_name_column_width=55):
        rows = list(self)
        if sort_by is not None:
            if sort_by not in self._SORT_KEYS:
                raise ValueError(f"table(): sort_by must be one of {self._SORT_KEYS}, got {sort_by!r}")
            rows.sort(key=lambda e: getattr(e, sort_by), reverse=True)
        if row_limit is not None and row_limit >= 0:
            rows = rows[:row_limit]
        total = sum(e.self_cpu_time_total for e in self) or 1.0
        width = max([len("Name")] + [min(len(e.key), max_name_column_width) for e in rows])
        header = (f"{'Name':<{width}}  {'Self CPU %':>10}  {'Self CPU':>10}  {'CPU total %':>11}  "
                  f"{'CPU total':>10}  {'CPU time avg':>12}  {'# of Calls':>10}")
        lines = ["-" * len(header), header, "-" * len(header)]
        for e in rows:
            count = getattr(e, "count", 1)
            lines.append(f"{e.key[:width]:<{width}}  {100 * e.self_cpu_time_total / total:9.2f}%  "
                         f"{_format_us(e.self_cpu_time_total):>10}  {100 * e.cpu_time_total / total:10.2f}%  "
                         f"{_format_us(e.cpu_time_total):>10}  {_format_us(e.cpu_time_total / count):>12}  "
                         f"{count:>10}")
        lines += ["-" * len(header), f"Self CPU time total: {_format_us(total)}"]
        return "\n".join(lines)

    def __str__(self):
        return self.table()


def _format_us(us):
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _link_children(events):
    """Sets each event's children (the events directly inside it, on its thread) and self time."""
    by_thread = defaultdict(list)
    for e in events:
        by_thread[e.thread].append(e)
    for thread_events in by_thread.values():
        thread_events.sort(key=lambda e: (e.time_range_start_us, -e.cpu_time_total))
        open_events = []
        for e in thread_events:
            while open_events and open_events[-1].depth >= e.depth:
                open_events.pop()
            if open_events:
                parent = open_events[-1]
                parent.cpu_children.append(e)
                parent.self_cpu_time_total -= e.cpu_time_total
            open_events.append(e)


class profile:
    """Records op events while active (a context manager, or `start()`/`stop()`)."""

    def __init__(self, *, activities=None, record_shapes=False, profile_memory=False, with_stack=False,
                 with_flops=False, with_modules=False):
        activities = set(activities) if activities is not None else {ProfilerActivity.CPU}
        if ProfilerActivity.CUDA in activities:
            raise NotImplementedError("profile(): CUDA activity is not recorded yet; use ProfilerActivity.CPU")
        unsupported = [name for name, value in (("record_shapes", record_shapes), ("profile_memory", profile_memory),
                                                ("with_stack", with_stack), ("with_flops", with_flops),
                                                ("with_modules", with_modules)) if value]
        if unsupported:
            raise NotImplementedError(f"profile(): {', '.join(unsupported)} not supported; only op timing is recorded")
        self._events = None

    def start(self):
        _C._profiler_start()

    def stop(self):
        self._events = EventList(FunctionEvent(*raw) for raw in _C._profiler_stop())
        _link_children(self._events)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def events(self):
        if self._events is None:
            raise RuntimeError("profile: no events yet; they are available once the profiler has stopped")
        return self._events

    def key_averages(self):
        averages = {}
        for e in self.events():
            averages.setdefault(e.key, FunctionEventAvg(e.key)).add(e)
        return EventList(averages.values())

    def export_chrome_trace(self, path):
        """Writes the events as a Chrome trace (chrome://tracing, Perfetto)."""
        trace = [{"name": e.name, "cat": e.kind, "ph": "X", "ts": e.time_range_start_us, "dur": e.cpu_time_total,
                  "pid": 0, "tid": e.thread} for e in self.events()]
        with open(path, "w") as f:
            json.dump({"traceEvents": trace}, f)


class record_function:
    """Marks a user range (a context manager or a decorator); it shows in the table by name."""

    def __init__(self, name):
        if not isinstance(name, str):
            raise TypeError(f"record_function(): name must be a str, got {type(name).__name__}")
        self.name = name
        self._range = _C._ProfilerRange(name)

    def __enter__(self):
        self._range.enter()
        return self

    def __exit__(self, *exc):
        self._range.exit()
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with record_function(self.name):
                return fn(*args, **kwargs)
        return wrapper
