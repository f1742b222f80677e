"""Level 3, optimizers: they update ``Parameter.data`` in place from ``Parameter.grad``."""

from tinynet.optim.optimizers import SGD, Adam, AdamW, Optimizer

__all__ = ["Adam", "AdamW", "Optimizer", "SGD"]
