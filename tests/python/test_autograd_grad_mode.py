"""Grad modes against torch: no_grad, enable_grad, set_grad_enabled and inference_mode as
context managers and decorators, nesting, exceptions, and thread-locality."""
import threading

import pytest
import torch

import vibetensor as vt
from test_autograd_engine import leaf, same_in_both


@pytest.fixture(autouse=True)
def restore_grad_mode():
    """A failing scenario must not leave either library with grad mode off for later tests."""
    yield
    torch.set_grad_enabled(True)
    vt.set_grad_enabled(True)


def test_no_grad_context():
    def scenario(m):
        x = leaf(m)
        with m.no_grad():
            inside = m.is_grad_enabled()
            y = x * 2
        return inside, m.is_grad_enabled(), y.requires_grad, y.grad_fn is None
    same_in_both(scenario)


def test_no_grad_decorator():
    def scenario(m):
        @m.no_grad()
        def double(t):
            return t * 2, m.is_grad_enabled()

        y, enabled = double(leaf(m))
        return y.requires_grad, enabled, m.is_grad_enabled(), double.__name__
    same_in_both(scenario)


def test_no_grad_bare_decorator():
    def scenario(m):
        @m.no_grad
        def enabled():
            return m.is_grad_enabled()

        return enabled()
    same_in_both(scenario)


def test_no_grad_decorator_on_generator():
    def scenario(m):
        @m.no_grad()
        def modes():
            yield m.is_grad_enabled()
            yield m.is_grad_enabled()

        return list(modes()), m.is_grad_enabled()
    same_in_both(scenario)


def test_grad_mode_decorators_on_generators_switch_around_each_step():
    """Bare and called decorators; the caller's mode comes back between the steps."""
    def scenario(m):
        @m.no_grad
        def off():
            yield m.is_grad_enabled()
            yield m.is_grad_enabled()

        @m.enable_grad()
        def on():
            yield m.is_grad_enabled()
            yield m.is_grad_enabled()

        steps = off()
        between_off = (next(steps), m.is_grad_enabled(), next(steps), m.is_grad_enabled())
        with m.no_grad():
            steps = on()
            between_on = (next(steps), m.is_grad_enabled(), next(steps), m.is_grad_enabled())
        return between_off, between_on
    same_in_both(scenario)


def test_enable_grad_inside_no_grad():
    def scenario(m):
        x = leaf(m)
        with m.no_grad():
            with m.enable_grad():
                y = x * 2
                inside = m.is_grad_enabled()
            after = m.is_grad_enabled()
        return y.requires_grad, inside, after

    same_in_both(scenario)


def test_enable_grad_decorator():
    def scenario(m):
        @m.enable_grad()
        def square(t):
            return t * t

        x = leaf(m)
        with m.no_grad():
            y = square(x)
        return y.requires_grad, m.is_grad_enabled()
    same_in_both(scenario)


def test_set_grad_enabled_context_and_function():
    def scenario(m):
        x = leaf(m)
        with m.set_grad_enabled(False):
            a = x * 2
            off = m.is_grad_enabled()
        with m.set_grad_enabled(True):
            b = x * 2
        m.set_grad_enabled(False)
        c = x * 2
        now_off = m.is_grad_enabled()
        m.set_grad_enabled(True)
        return a.requires_grad, off, b.requires_grad, c.requires_grad, now_off, m.is_grad_enabled()
    same_in_both(scenario)


def test_set_grad_enabled_decorator():
    def scenario(m):
        @m.set_grad_enabled(False)
        def double(t):
            return t * 2

        enabled_after_decorating = m.is_grad_enabled()
        y = double(leaf(m))
        return enabled_after_decorating, y.requires_grad, m.is_grad_enabled()
    same_in_both(scenario)


def test_inference_mode_context_and_decorator():
    def scenario(m):
        x = leaf(m)
        with m.inference_mode():
            a = x * 2
            inside = m.is_grad_enabled()
        with m.inference_mode(False):
            b = x * 2

        @m.inference_mode()
        def double(t):
            return t * 2

        return a.requires_grad, inside, b.requires_grad, double(x).requires_grad, m.is_grad_enabled()
    same_in_both(scenario)


def test_grad_mode_restored_after_exception():
    def scenario(m):
        try:
            with m.no_grad():
                raise ValueError("boom")
        except ValueError:
            pass
        return m.is_grad_enabled()
    same_in_both(scenario)


def test_nested_grad_modes_restore_in_order():
    def scenario(m):
        seen = []
        with m.no_grad():
            seen.append(m.is_grad_enabled())
            with m.enable_grad():
                seen.append(m.is_grad_enabled())
                with m.no_grad():
                    seen.append(m.is_grad_enabled())
                seen.append(m.is_grad_enabled())
            seen.append(m.is_grad_enabled())
        seen.append(m.is_grad_enabled())
        return seen
    same_in_both(scenario)


def test_grad_mode_is_thread_local():
    def scenario(m):
        seen = {}

        def worker():
            x = leaf(m)
            seen["enabled"] = m.is_grad_enabled()
            seen["requires_grad"] = (x * 2).requires_grad

        with m.no_grad():
            thread = threading.Thread(target=worker)
            thread.start()
            thread.join()
            still_off = m.is_grad_enabled()
        return seen["enabled"], seen["requires_grad"], still_off
    same_in_both(scenario)


def test_no_grad_in_a_thread_does_not_leak_out():
    def scenario(m):
        inside = threading.Event()
        release = threading.Event()

        def worker():
            with m.no_grad():
                inside.set()
                release.wait(5)

        thread = threading.Thread(target=worker)
        thread.start()
        inside.wait(5)
        main_enabled = m.is_grad_enabled()
        release.set()
        thread.join()
        return main_enabled
    same_in_both(scenario)


def test_backward_in_threads():
    """Independent graphs run backward concurrently from several threads."""
    def scenario(m):
        results = [None] * 4

        def worker(i):
            x = m.tensor([float(i), 1.0], requires_grad=True)
            for _ in range(200):
                x.grad = None
                (x.exp() * x).sum().backward()
            results[i] = x.grad

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results
    same_in_both(scenario)
