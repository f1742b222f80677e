"""Layers: each owns its einsum forward and backward."""

from tinynet.layers.activations import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from tinynet.layers.base import Layer, LayerLike
from tinynet.layers.batchnorm import BatchNorm
from tinynet.layers.blocks import Add, Concat, Merge, Parallel, Residual
from tinynet.layers.dense import Dense
from tinynet.layers.dropout import Dropout
from tinynet.layers.einsum_layer import Einsum
from tinynet.layers.graph import Graph
from tinynet.layers.sequential import Sequential

__all__ = [
    "Layer", "LayerLike", "Dense", "Sequential",
    "LeakyReLU", "ReLU", "Sigmoid", "Tanh", "Identity", "Softmax",
    "Dropout", "BatchNorm",
    "Einsum", "Residual", "Parallel", "Graph", "Add", "Concat", "Merge",
]
