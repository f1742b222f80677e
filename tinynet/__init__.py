"""tinynet: a small, fast, readable neural-network framework on numpy.

Every layer's forward and backward pass is an Einstein summation, run at BLAS
speed by :mod:`tinynet.engine.contraction`. The sub-packages are levels, each
importing only those below it (``docs/architecture.md``): ``engine``;
``layers`` and ``losses``; ``optim`` and ``data``; ``training``; ``registry``;
``saving``, ``display`` and ``gradient_check``; the faces ``sklearn`` and ``cli``
(not imported here: ``import tinynet`` loads neither scikit-learn nor matplotlib).
"""

from importlib import metadata as _metadata

from tinynet.data.loader import DataLoader, one_hot
from tinynet.display.layer_table import summary
from tinynet.display.plot import plot_history
from tinynet.engine.contraction import einsum
from tinynet.gradient_check import gradcheck, gradcheck_details
from tinynet.layers import (
    GELU,
    GRU,
    LSTM,
    Add,
    AvgPool1D,
    AvgPool2D,
    BatchNorm,
    Concat,
    Conv1D,
    Conv2D,
    Dense,
    Dropout,
    Einsum,
    EinsumMerge,
    Embedding,
    Flatten,
    GlobalAvgPool2D,
    Graph,
    Identity,
    Layer,
    LayerNorm,
    LeakyReLU,
    MaxPool1D,
    MaxPool2D,
    MultiHeadAttention,
    Parallel,
    Parameter,
    PositionalEmbedding,
    ReLU,
    Reshape,
    Residual,
    RMSNorm,
    Sequential,
    Sigmoid,
    SinusoidalPositionalEncoding,
    Softmax,
    Tanh,
    TransformerBlock,
)
from tinynet.losses import Loss, MeanSquaredError, SigmoidBinaryCrossEntropy, SoftmaxCrossEntropy
from tinynet.optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop, clip_grad_norm, clip_grad_value
from tinynet.saving.checkpoint import ModelCheckpoint
from tinynet.saving.files import load, save
from tinynet.training import (
    Callback,
    CosineAnnealingLR,
    CSVLogger,
    EarlyStopping,
    ExponentialLR,
    History,
    LinearLR,
    LRScheduler,
    ReduceLROnPlateau,
    RestoreOnInterrupt,
    Run,
    SequentialLR,
    StepLR,
    TrainingDiverged,
    evaluate,
    fit,
    predict,
    predict_proba,
)

try:
    __version__ = _metadata.version("tinynet")  # written once, in pyproject.toml
except _metadata.PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "Adagrad", "Adam", "AdamW", "Add", "AvgPool1D", "AvgPool2D", "BatchNorm", "CSVLogger", "Callback",
    "Concat", "Conv1D", "Conv2D", "CosineAnnealingLR", "DataLoader", "Dense", "Dropout", "EarlyStopping",
    "Einsum", "EinsumMerge", "Embedding", "ExponentialLR", "Flatten", "GELU", "GRU", "GlobalAvgPool2D",
    "Graph", "History", "Identity", "LRScheduler", "LSTM", "Layer", "LayerNorm", "LeakyReLU", "LinearLR",
    "Loss", "MaxPool1D", "MaxPool2D", "MeanSquaredError", "ModelCheckpoint", "MultiHeadAttention",
    "Optimizer", "Parallel", "Parameter", "PositionalEmbedding", "RMSNorm", "RMSprop", "ReLU",
    "ReduceLROnPlateau", "Reshape", "Residual", "RestoreOnInterrupt", "Run", "SGD", "Sequential",
    "SequentialLR", "Sigmoid", "SigmoidBinaryCrossEntropy", "SinusoidalPositionalEncoding", "Softmax",
    "SoftmaxCrossEntropy", "StepLR", "Tanh", "TrainingDiverged", "TransformerBlock", "__version__",
    "clip_grad_norm", "clip_grad_value", "einsum", "evaluate", "fit", "gradcheck", "gradcheck_details",
    "load", "one_hot", "plot_history", "predict", "predict_proba", "save", "summary"
]
