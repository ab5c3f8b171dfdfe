"""vibetensor.optim: optimizers and learning-rate schedulers, following torch.optim.

`Optimizer` (optimizer.py) holds param groups, state, state_dict and hooks; each concrete
optimizer is one file implementing `step` (see the contract at the top of optimizer.py).
"""
from vibetensor.optim import lr_scheduler
from vibetensor.optim.optimizer import Optimizer

# ---- concrete optimizers: one file each, every step a fused C++ call per param group
from vibetensor.optim.sgd import SGD
from vibetensor.optim.adam import Adam
from vibetensor.optim.adamw import AdamW
from vibetensor.optim.rmsprop import RMSprop
from vibetensor.optim.adagrad import Adagrad

__all__ = ["Optimizer", "lr_scheduler", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]
