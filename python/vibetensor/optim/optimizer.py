"""The base class of every optimizer: parameter groups, per-parameter state, state_dict, hooks.

Semantics, names, state_dict format and error messages follow torch.optim.Optimizer (2.13).

Contract for a concrete optimizer (SGD, Adam, ...):

    from vibetensor.optim.optimizer import Optimizer, _evaluate_closure, _new_step, _params_with_grad

    class SGD(Optimizer):
        def __init__(self, params, lr=1e-3, momentum=0, ...):
            if lr < 0.0: raise ValueError(f"Invalid learning rate: {lr}")   # torch's checks
            super().__init__(params, dict(lr=lr, momentum=momentum, ..., differentiable=False))

        def step(self, closure=None):
            loss = _evaluate_closure(closure)          # runs it with grad enabled, as torch does
            for group in self.param_groups:
                for p in _params_with_grad(group):     # params whose .grad is not None
                    state = self.state[p]              # a dict, created on first access
                    if len(state) == 0:
                        state["step"] = _new_step()    # 0-dim float32 tensor (float64 if default)
                    ...                                # in-place updates: p.add_(grad, alpha=-lr)
            return loss

- `step` is wrapped automatically when the subclass is defined (`__init_subclass__`): the
  wrapper runs the global and per-instance step pre-hooks, then the body under no_grad
  (grad mode = `defaults["differentiable"]`, False unless the optimizer sets it), then the
  post-hooks. Do not decorate `step` yourself. A subclass's `step` calling `super().step()`
  runs the hooks once, not twice.
- `defaults` holds every hyperparameter; each param group gets the missing ones filled in.
  Use `required` as a default to make a hyperparameter mandatory in every group.
- Keep per-parameter state in `self.state[p]`; floating-point tensors in it are cast to the
  param's dtype by `load_state_dict`, except under the key "step", which keeps its dtype.
  `_get_value(state["step"])` gives it as a Python number for the update formulas.
- Optional hyperparameters may be tensors (torch allows a tensor lr); LR schedulers fill
  such a tensor in place, so read it at every step rather than caching it.
"""
import copy
import functools
import warnings
from collections import OrderedDict, defaultdict
from itertools import chain

import vibetensor as vt

__all__ = ["Optimizer", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook", "required"]


class _RequiredParameter:
    """A default that every param group must override (torch.optim.optimizer.required)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class RemovableHandle:
    """Returned by the register_*_hook methods: `.remove()` takes the hook out of its dict.

    Also a context manager, like torch.utils.hooks.RemovableHandle."""

    _next_id = 0

    def __init__(self, hooks_dict):
        self.hooks_dict = hooks_dict
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self):
        self.hooks_dict.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


def _register(hooks_dict, hook, prepend=False):
    handle = RemovableHandle(hooks_dict)
    hooks_dict[handle.id] = hook
    if prepend:
        hooks_dict.move_to_end(handle.id, last=False)
    return handle


# Hooks run around the step of every optimizer (torch.optim.optimizer's module-level registry).
_global_step_pre_hooks = OrderedDict()
_global_step_post_hooks = OrderedDict()


def register_optimizer_step_pre_hook(hook):
    """`hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs)`, before every step."""
    return _register(_global_step_pre_hooks, hook)


def register_optimizer_step_post_hook(hook):
    """`hook(optimizer, args, kwargs) -> None`, after every step."""
    return _register(_global_step_post_hooks, hook)


# ---- helpers for the concrete optimizers

def _params_with_grad(group):
    """The params of `group` that have a gradient; torch's optimizers skip the others."""
    return [p for p in group["params"] if p.grad is not None]


def _get_scalar_dtype():
    """The dtype torch keeps 'step' in: float64 when that is the default dtype, else float32."""
    return vt.float64 if vt.get_default_dtype() == vt.float64 else vt.float32


def _new_step(param=None, group=None):
    """A fresh `state["step"]`: a 0-dim tensor (torch keeps step as a tensor, not an int). A
    capturable group keeps it on the param's device, where a captured step counts it. State
    made during a capture would be made again by every replay: a step must run before."""
    if vt.cuda.is_available() and vt.cuda.is_current_stream_capturing():
        raise RuntimeError("optimizer.step(): the optimizer's state does not exist yet; run a step (warm up) before "
                           "capturing one in a CUDA graph")
    device = param.device if group is not None and group.get("capturable", False) else "cpu"
    return vt.zeros((), dtype=_get_scalar_dtype(), device=device)


def _get_value(x):
    """A Python number from a 0-dim tensor (hyperparameters and 'step' may be either)."""
    return x.item() if isinstance(x, vt.Tensor) else x


def _to_scalar(x):
    """A 1-element hyperparameter tensor of any rank as a 0-dim one; numbers pass through."""
    if isinstance(x, vt.Tensor) and x.dim() != 0:
        return x.squeeze()
    return x


def _evaluate_closure(closure):
    """Run the optional `closure` with grad enabled (step runs under no_grad) and return its loss."""
    if closure is None:
        return None
    with vt.enable_grad():
        return closure()


_LEGACY_TENSOR_NAMES = {  # torch.typename spells tensors by their legacy type name
    "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
    "bfloat16": "BFloat16Tensor", "int64": "LongTensor", "int32": "IntTensor",
    "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor",
}


def _typename(obj):
    """torch.typename: 'vibetensor.FloatTensor' for a tensor, else the (qualified) name."""
    if isinstance(obj, vt.Tensor):
        return "vibetensor." + _LEGACY_TENSOR_NAMES.get(repr(obj.dtype).split(".")[-1], "Tensor")
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:  # an instance: name its class
        module, qualname = type(obj).__module__ or "", type(obj).__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def _with_step_hooks(step):
    """Wrap a subclass's `step`: pre-hooks, the body under the right grad mode, post-hooks."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        if getattr(self, "_inside_step", False):  # super().step() from an overriding step
            return step(self, *args, **kwargs)
        for pre_hook in chain(_global_step_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
            result = pre_hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        f"{step} must return None or a tuple of (new_args, new_kwargs), but got {result}.")
                args, kwargs = result
        # Lets an LR scheduler tell whether optimizer.step() ran before its own step().
        self._opt_called = True
        self._inside_step = True
        try:
            with vt.set_grad_enabled(self.defaults.get("differentiable", False)):
                out = step(self, *args, **kwargs)
        finally:
            self._inside_step = False
        for post_hook in chain(self._optimizer_step_post_hooks.values(), _global_step_post_hooks.values()):
            post_hook(self, args, kwargs)
        return out

    wrapper._wraps_optimizer_step = True
    return wrapper


class Optimizer:
    """Base class for all optimizers.

    Args:
        params: an iterable of tensors, of (name, tensor) pairs, or of dicts (param groups).
            Use an ordered collection, so that state_dict indices are stable between runs.
        defaults: default hyperparameters, used where a param group does not set them.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_wraps_optimizer_step", False):
            cls.step = _with_step_hooks(step)

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._init_hook_dicts()
        if isinstance(params, vt.Tensor):
            raise TypeError("params argument given to the optimizer should be "
                            "an iterable of Tensors or dicts, but got " + _typename(params))
        self.state = defaultdict(dict)
        self.param_groups = []

        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def _init_hook_dicts(self):
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                     "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks", "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())

    # Pickling keeps the optimizer's data, not its hooks (as torch does).
    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._init_hook_dicts()
        self.defaults.setdefault("differentiable", False)

    def __repr__(self):
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):  # groups are separated by a blank line
            text += f"\nParameter Group {i}\n"
            text += "".join(f"    {key}: {group[key]}\n" for key in sorted(group.keys()) if key != "params")
        return text + ")"

    def step(self, closure=None):
        """Perform one optimization step; implemented by each optimizer."""
        raise NotImplementedError

    def _cuda_graph_capture_health_check(self):
        """torch's check: a step captured in a CUDA graph needs capturable groups, whose step
        counts live on the device (a CPU count would be frozen into the graph)."""
        if not vt.cuda.is_available() or not vt.cuda.is_current_stream_capturing():
            return
        if not all(group.get("capturable", False) for group in self.param_groups):
            raise RuntimeError(f"Attempting CUDA graph capture of step() for an instance of {type(self).__name__} "
                               "but param_groups' capturable is False.")

    # ---- parameter groups

    def add_param_group(self, param_group):
        """Add a group of params (with optional per-group hyperparameters), e.g. when
        unfreezing layers during fine tuning."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, vt.Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but "
                "the ordering of tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)

        # named_parameters() gives (name, tensor) pairs: keep the names beside the tensors.
        names = [p[0] for p in params if isinstance(p, tuple)]
        param_group["params"] = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names

        for param in param_group["params"]:
            if not isinstance(param, vt.Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + _typename(param))
            if not self.defaults.get("differentiable", None) and not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)

        params = param_group["params"]
        if len(params) != len(set(params)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "in future, this will cause an error; "
                          "see github.com/pytorch/pytorch/issues/40967 for more information", stacklevel=3)

        existing = set()
        for group in self.param_groups:
            existing.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if not existing.isdisjoint(params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Reset the gradients: drop them (default) or zero them in place."""
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                # A grad with history (create_graph=True) is cut from it before zeroing.
                if grad.grad_fn is not None:
                    grad.detach_()
                else:
                    grad.requires_grad_(False)
                grad.zero_()

    # ---- hooks

    def register_step_pre_hook(self, hook):
        """`hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs)`, before step()."""
        return _register(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """`hook(optimizer, args, kwargs) -> None`, after step()."""
        return _register(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """`hook(optimizer) -> None`, before state_dict() builds the dict."""
        return _register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """`hook(optimizer, state_dict) -> state_dict or None`, on the dict state_dict() returns."""
        return _register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """`hook(optimizer, state_dict) -> state_dict or None`, on a shallow copy of the dict
        given to load_state_dict()."""
        return _register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """`hook(optimizer) -> None`, after load_state_dict()."""
        return _register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ---- state_dict

    def state_dict(self):
        """{'state': {index: per-param state}, 'param_groups': [group with 'params' as indices]}.

        Params are numbered in group order; the state's tensors are the live ones, not copies."""
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)

        index_of = {}  # id(param) -> index; a param repeated in a group keeps its first index
        param_groups = []
        start = 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index_of.setdefault(id(p), i)
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            start += len(packed["params"])
            param_groups.append(packed)
        state = {(index_of[id(k)] if isinstance(k, vt.Tensor) else k): v for k, v in self.state.items()}

        state_dict = {"state": state, "param_groups": param_groups}
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    @staticmethod
    def _cast_state_value(param, value, param_id, saved_groups, key):
        """Floating-point state follows the param's dtype and device; 'step' keeps its dtype
        (torch issue 74424) unless the group is fused or capturable."""
        group = next((g for g in saved_groups if param_id in g["params"]), {})
        if key == "step":
            if group.get("fused", False) or group.get("capturable", False):
                return value.to(dtype=vt.float32, device=param.device)
            return value
        if param.is_floating_point():
            return value.to(dtype=param.dtype, device=param.device)
        return value.to(device=param.device)

    def load_state_dict(self, state_dict):
        """Load a dict from state_dict(): hyperparameters and per-param state, mapped by index
        onto this optimizer's params (which are kept). Call it after creating LR schedulers.

        As in torch, state tensors whose dtype and device already match are shared with
        `state_dict`, not copied; the param groups are deep-copied."""
        state_dict = state_dict.copy()  # shallow: pre-hooks may replace entries
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result

        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group "
                             "that doesn't match the size of optimizer's group")

        param_of = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                            chain.from_iterable(g["params"] for g in groups)))

        def cast(param, value, param_id, key=None):
            if isinstance(value, vt.Tensor):
                return Optimizer._cast_state_value(param, value, param_id, state_dict["param_groups"], key)
            if isinstance(value, dict):
                return {k: cast(param, v, param_id, k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v, param_id) for v in value)
            return value

        # State of an index with no param is kept as it is (torch does so for old checkpoints).
        state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in param_of:
                state[param_of[key]] = cast(param_of[key], value, key)
            else:
                state[key] = value

        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self.__setstate__({"state": state, "param_groups": saved_groups})

        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)
