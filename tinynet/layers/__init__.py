"""Level 2, the model: ``Parameter``, initializers, the ``Layer`` protocol, every layer and
container. Imports the engine only."""

from tinynet.layers.base import Layer, LayerLike
from tinynet.layers.containers.branches import Parallel, Residual
from tinynet.layers.containers.graph import Graph
from tinynet.layers.containers.merging import Add, Concat, EinsumMerge, Merge
from tinynet.layers.containers.sequential import Sequential
from tinynet.layers.conv.convolution import Conv1D, Conv2D
from tinynet.layers.conv.pooling import AvgPool1D, AvgPool2D, GlobalAvgPool2D, MaxPool1D, MaxPool2D
from tinynet.layers.core.activations import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from tinynet.layers.core.dense import Dense
from tinynet.layers.core.dropout import Dropout
from tinynet.layers.core.einsum import Einsum
from tinynet.layers.core.reshaping import Flatten, Reshape
from tinynet.layers.normalization.batch_norm import BatchNorm
from tinynet.layers.parameter import Parameter
from tinynet.layers.recurrent.gru import GRU
from tinynet.layers.recurrent.lstm import LSTM

__all__ = [
    "Add", "AvgPool1D", "AvgPool2D", "BatchNorm", "Concat", "Conv1D", "Conv2D", "Dense", "Dropout",
    "Einsum", "EinsumMerge", "Flatten", "GRU", "GlobalAvgPool2D", "Graph", "Identity", "LSTM", "Layer",
    "LayerLike", "LeakyReLU", "MaxPool1D", "MaxPool2D", "Merge", "Parallel", "Parameter", "ReLU", "Reshape",
    "Residual", "Sequential", "Sigmoid", "Softmax", "Tanh",
]
