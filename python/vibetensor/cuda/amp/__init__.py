"""torch.cuda.amp's names: autocast and GradScaler for CUDA (vibetensor.amp is the general form)."""
from vibetensor import amp


class autocast(amp.autocast):
    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        import vibetensor as vt
        super().__init__("cuda", dtype=vt.float16 if dtype is None else dtype, enabled=enabled)


class GradScaler(amp.GradScaler):
    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                 enabled=True):
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled)


__all__ = ["GradScaler", "autocast"]
