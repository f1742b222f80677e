"""Level 3, optimizers: they update ``Parameter.data`` in place from ``Parameter.grad``.

As in ``torch.optim``, one module per rule: each holds its class and its functional
single-parameter update in plain numpy (the readable reference); the classes' ``fused``
flag picks between that and the one-pass BLAS update. ``clipping`` holds gradient
clipping (``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_``).
"""

from tinynet.optim.adagrad import Adagrad, adagrad_step
from tinynet.optim.adam import Adam, AdamW, adam_step
from tinynet.optim.clipping import clip_grad_norm, clip_grad_value
from tinynet.optim.optimizer import Optimizer
from tinynet.optim.rmsprop import RMSprop, rmsprop_step
from tinynet.optim.sgd import SGD, sgd_step

__all__ = ["Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "SGD", "adagrad_step", "adam_step",
           "clip_grad_norm", "clip_grad_value", "rmsprop_step", "sgd_step"]
