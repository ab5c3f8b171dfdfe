"""GradScaler, as torch.amp.GradScaler: multiplies the loss by a scale before backward, divides
the gradients by it before the optimizer steps, skips a step whose gradients hold inf or NaN and
then shrinks the scale, and grows the scale again after `growth_interval` clean steps."""
from collections import defaultdict
from enum import Enum

from vibetensor import _C


class _Stage(Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _fresh_optimizer_state():
    return {"stage": _Stage.READY, "found_inf_per_device": {}}


class GradScaler:
    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        self._device = device
        self._enabled = enabled
        if enabled:
            if growth_factor <= 1.0:
                raise ValueError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise ValueError("The backoff factor must be < 1.0.")
        self._init_scale = init_scale
        self._growth_factor = growth_factor
        self._backoff_factor = backoff_factor
        self._growth_interval = growth_interval
        self._init_growth_tracker = 0
        self._scale = None  # a 0-dim float32 tensor on the device, made on first use
        self._growth_tracker = None
        self._per_optimizer_states = defaultdict(_fresh_optimizer_state)

    def is_enabled(self):
        return self._enabled

    def _lazy_init(self, device):
        import vibetensor as vt
        self._scale = vt.full((), self._init_scale, dtype=vt.float32, device=device)
        self._growth_tracker = vt.full((), self._init_growth_tracker, dtype=vt.int32, device=device)

    def scale(self, outputs):
        """outputs * scale: a tensor, or every tensor of a (nested) list or tuple."""
        import vibetensor as vt
        if not self._enabled:
            return outputs
        if isinstance(outputs, vt.Tensor):
            if self._scale is None:
                self._lazy_init(outputs.device)
            return outputs * self._scale.to(outputs.device)
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def _unscale_grads_(self, optimizer, inv_scale, found_inf, allow_fp16):
        import vibetensor as vt
        for group in optimizer.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                if not allow_fp16 and param.grad.dtype == vt.float16:
                    raise ValueError("Attempting to unscale FP16 gradients.")
                grad = param.grad
                # found_inf counts the gradients holding an inf or NaN, without a host sync.
                found_inf.add_((~vt.isfinite(grad)).any().to(vt.float32).to(found_inf.device))
                grad.mul_(inv_scale.to(grad.device))
        return {found_inf.device: found_inf}

    def unscale_(self, optimizer):
        """Divides the optimizer's gradients by the scale (before clipping them, say)."""
        import vibetensor as vt
        if not self._enabled:
            return
        self._check_scale_initialized("unscale_")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is _Stage.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if state["stage"] is _Stage.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv_scale = self._scale.double().reciprocal().float()
        found_inf = vt.full((), 0.0, dtype=vt.float32, device=self._scale.device)
        state["found_inf_per_device"] = self._unscale_grads_(optimizer, inv_scale, found_inf, False)
        state["stage"] = _Stage.UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """Unscales (unless unscale_ already did) and steps, unless a gradient was not finite."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale_initialized("step")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is _Stage.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is _Stage.READY:
            self.unscale_(optimizer)
        if not state["found_inf_per_device"]:
            raise RuntimeError("No inf checks were recorded for this optimizer.")
        result = None
        if not sum(v.item() for v in state["found_inf_per_device"].values()):
            result = optimizer.step(*args, **kwargs)
        state["stage"] = _Stage.STEPPED
        return result

    def update(self, new_scale=None):
        """Sets the scale for the next iteration: `new_scale`, or backed off after an overflow,
        or grown after growth_interval clean steps."""
        import vibetensor as vt
        if not self._enabled:
            return
        self._check_scale_initialized("update")
        if new_scale is not None:
            if isinstance(new_scale, vt.Tensor):
                if new_scale.numel() != 1 or new_scale.dtype != vt.float32 or new_scale.requires_grad:
                    raise ValueError("new_scale should be a float or a 1-element torch.cuda.FloatTensor or "
                                     "torch.FloatTensor with requires_grad=False.")
                self._scale.copy_(new_scale)
            else:
                self._scale.fill_(new_scale)
        else:
            found_infs = [f.to(self._scale.device) for state in self._per_optimizer_states.values()
                          for f in state["found_inf_per_device"].values()]
            if not found_infs:
                raise RuntimeError("No inf checks were recorded prior to update.")
            found_inf = found_infs[0]
            for f in found_infs[1:]:
                found_inf = found_inf + f
            self._update_scale(found_inf > 0)
        self._per_optimizer_states = defaultdict(_fresh_optimizer_state)

    def _update_scale(self, overflowed):
        """torch's _amp_update_scale_, with tensor ops only (no host sync)."""
        import vibetensor as vt
        successful = vt.where(overflowed, vt.zeros_like(self._growth_tracker), self._growth_tracker + 1)
        grown = self._scale * self._growth_factor
        grow = (successful == self._growth_interval) & vt.isfinite(grown)
        new_scale = vt.where(overflowed, self._scale * self._backoff_factor, vt.where(grow, grown, self._scale))
        self._scale.copy_(new_scale)
        self._growth_tracker.copy_(vt.where(successful == self._growth_interval, vt.zeros_like(successful),
                                            successful))

    def _check_scale_initialized(self, fn):
        if self._scale is None:
            raise RuntimeError(f"Attempted {fn} but _scale is None.  This may indicate your script did not use "
                               "scaler.scale(loss or outputs) earlier in the iteration.")

    def get_scale(self):
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale.item()

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def _get_growth_tracker(self):
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None else self._growth_tracker.item()

    def state_dict(self):
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor, "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval, "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled "
                               "instance of GradScaler.")
        self._init_scale = state_dict["scale"]
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._scale is not None:
            self._scale.fill_(state_dict["scale"])
        if self._growth_tracker is not None:
            self._growth_tracker.fill_(state_dict["_growth_tracker"])
