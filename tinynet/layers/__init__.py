"""Level 2, the model: ``Parameter``, initializers, the ``Layer`` protocol, every layer and
container. Imports the engine only."""

from tinynet.layers.base import Layer, LayerLike
from tinynet.layers.containers.branches import Parallel, Residual
from tinynet.layers.containers.graph import Graph
from tinynet.layers.containers.merging import Add, Concat, EinsumMerge, Merge
from tinynet.layers.containers.sequential import Sequential
from tinynet.layers.conv.convolution import Conv1D, Conv2D
from tinynet.layers.conv.pooling import AvgPool1D, AvgPool2D, GlobalAvgPool2D, MaxPool1D, MaxPool2D
from tinynet.layers.core.activations import GELU, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from tinynet.layers.core.dense import Dense
from tinynet.layers.core.dropout import Dropout
from tinynet.layers.core.einsum import Einsum
from tinynet.layers.core.reshaping import Flatten, Reshape
from tinynet.layers.normalization.batch_norm import BatchNorm
from tinynet.layers.normalization.layer_norm import LayerNorm, RMSNorm
from tinynet.layers.parameter import Parameter
from tinynet.layers.recurrent.gru import GRU
from tinynet.layers.recurrent.lstm import LSTM
from tinynet.layers.sequence.attention import MultiHeadAttention
from tinynet.layers.sequence.embedding import Embedding
from tinynet.layers.sequence.positional import PositionalEmbedding, SinusoidalPositionalEncoding
from tinynet.layers.sequence.transformer import TransformerBlock

__all__ = [
    "Add", "AvgPool1D", "AvgPool2D", "BatchNorm", "Concat", "Conv1D", "Conv2D", "Dense", "Dropout",
    "Einsum", "EinsumMerge", "Embedding", "Flatten", "GELU", "GRU", "GlobalAvgPool2D", "Graph", "Identity",
    "LSTM", "Layer", "LayerLike", "LayerNorm", "LeakyReLU", "MaxPool1D", "MaxPool2D", "Merge",
    "MultiHeadAttention", "Parallel", "Parameter", "PositionalEmbedding", "RMSNorm", "ReLU", "Reshape",
    "Residual", "Sequential", "Sigmoid", "SinusoidalPositionalEncoding", "Softmax", "Tanh",
    "TransformerBlock",
]
