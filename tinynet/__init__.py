"""tinynet: a small, fast, readable neural-network framework on numpy.

Every layer's forward and backward pass is an Einstein summation, run at BLAS
speed by :mod:`tinynet.contract`.
"""

from tinynet.callbacks import Callback, History, Run
from tinynet.contract import einsum
from tinynet.data import DataLoader, one_hot
from tinynet.early_stopping import EarlyStopping, RestoreOnInterrupt
from tinynet.gradcheck import gradcheck, gradcheck_details
from tinynet.io import load, save
from tinynet.layers import (
    Add,
    Concat,
    Dense,
    Einsum,
    Graph,
    Identity,
    Layer,
    LeakyReLU,
    Parallel,
    ReLU,
    Residual,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from tinynet.layers.batchnorm import BatchNorm
from tinynet.layers.dropout import Dropout
from tinynet.losses import Loss, MeanSquaredError, SigmoidBinaryCrossEntropy, SoftmaxCrossEntropy
from tinynet.optim import SGD, Adam, AdamW, Optimizer
from tinynet.parameter import Parameter
from tinynet.plot import plot_history
from tinynet.schedules import CosineAnnealingLR, ExponentialLR, LRScheduler, StepLR
from tinynet.summary import summary
from tinynet.training import TrainingDiverged, evaluate, fit

__version__ = "0.1.0"

__all__ = [
    "Callback", "History", "Run", "einsum", "DataLoader", "one_hot", "gradcheck",
    "gradcheck_details", "Dense", "Identity", "Layer", "LeakyReLU", "ReLU", "Sequential",
    "Sigmoid", "Softmax", "Tanh", "Loss", "SoftmaxCrossEntropy", "SGD", "Optimizer",
    "Parameter", "TrainingDiverged", "evaluate", "fit", "__version__",
    "save", "load", "plot_history",
    "Dropout", "BatchNorm", "SigmoidBinaryCrossEntropy", "MeanSquaredError", "Adam", "AdamW",
    "LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "EarlyStopping", "RestoreOnInterrupt",
    "summary",
    "Einsum", "Residual", "Parallel", "Graph", "Add", "Concat",
]
