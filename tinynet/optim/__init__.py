"""Level 3, optimizers: they update ``Parameter.data`` in place from ``Parameter.grad``.

As in ``torch.optim``, one module per rule: each holds its class and its functional
single-parameter update in plain numpy (the readable reference); the classes' ``fused``
flag picks between that and the one-pass BLAS update.
"""

from tinynet.optim.adam import Adam, AdamW, adam_step
from tinynet.optim.optimizer import Optimizer
from tinynet.optim.sgd import SGD, sgd_step

__all__ = ["Adam", "AdamW", "Optimizer", "SGD", "adam_step", "sgd_step"]
