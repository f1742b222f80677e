"""Layers: each owns its einsum forward and backward."""

from tinynet.layers.activations import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from tinynet.layers.base import Layer, LayerLike
from tinynet.layers.dense import Dense
from tinynet.layers.sequential import Sequential

__all__ = [
    "Layer", "LayerLike", "Dense", "Sequential",
    "LeakyReLU", "ReLU", "Sigmoid", "Tanh", "Identity", "Softmax",
]
