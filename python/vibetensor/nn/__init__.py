"""vibetensor.nn: neural-network building blocks, as torch.nn.

`nn.functional` holds the stateless functions; the layers live in `nn.modules`, one file per
theme, and are re-exported here; `nn.Parameter` and `nn.Buffer` mark module state; `nn.init`
initializes weights; `nn.utils` clips gradients and flattens parameters.
"""
from vibetensor.nn import functional
from vibetensor.nn import init
from vibetensor.nn.parameter import Buffer, Parameter
from vibetensor.nn.modules import *  # noqa: F401,F403  (the layers, one file per theme)
from vibetensor.nn import modules, parameter  # noqa: E402
import importlib as _importlib  # noqa: E402

# The star import above bound `utils` to nn.modules.utils (a helper module), and `from
# vibetensor.nn import utils` would keep that name: import the nn.utils package explicitly.
utils = _importlib.import_module("vibetensor.nn.utils")
