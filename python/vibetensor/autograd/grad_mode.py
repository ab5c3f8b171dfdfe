"""Grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode. Each works as a
context manager and as a decorator; the state itself is thread-local, in C++."""
import functools
import inspect

from vibetensor import _C


class _GradMode:
    """Switches grad mode on entry and restores the previous mode on exit (re-entrant)."""

    def _target(self, current):
        raise NotImplementedError

    def __enter__(self):
        current = _C.is_grad_enabled()
        self.__dict__.setdefault("_saved", []).append(current)
        _C._set_grad_enabled(self._target(current))
        return self

    def __exit__(self, *exc):
        _C._set_grad_enabled(self._saved.pop())
        return False

    def __call__(self, fn):
        if inspect.isgeneratorfunction(fn):
            return self._wrap_generator(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)

        return wrapper

    def _wrap_generator(self, fn):
        # The mode holds while the generator body runs, not while its caller does.
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            generator = fn(*args, **kwargs)
            value_to_send = None
            while True:
                try:
                    with self:
                        item = generator.send(value_to_send)
                except StopIteration as stop:
                    return stop.value
                value_to_send = yield item

        return wrapper


class _NoArgDecorator(_GradMode):
    """Also usable as a bare decorator: `@no_grad` as well as `@no_grad()`."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoArgDecorator):
    """Ops inside record no graph."""

    def _target(self, current):
        return False


class enable_grad(_NoArgDecorator):
    """Ops inside record the graph, even within no_grad."""

    def _target(self, current):
        return True


class _FixedMode(_GradMode):
    def __init__(self, mode):
        self._mode = mode

    def _target(self, current):
        return self._mode


class set_grad_enabled(_GradMode):
    """Sets grad mode to `mode` at once; used with `with`, restores the previous mode on exit."""

    def __init__(self, mode):
        self._mode = bool(mode)
        self._saved = [_C.is_grad_enabled()]
        _C._set_grad_enabled(self._mode)

    def _target(self, current):
        return self._mode

    def __enter__(self):
        return self  # the mode was set in __init__, as torch does

    def __call__(self, fn):
        _C._set_grad_enabled(self._saved.pop())  # as a decorator it must not change the mode now
        return _FixedMode(self._mode)(fn)


class inference_mode(_GradMode):
    """Like no_grad (vibetensor has no separate inference tensors yet); inference_mode(False)
    leaves the mode unchanged."""

    def __init__(self, mode=True):
        self._mode = bool(mode)

    def _target(self, current):
        return False if self._mode else current


def is_grad_enabled():
    return _C.is_grad_enabled()
