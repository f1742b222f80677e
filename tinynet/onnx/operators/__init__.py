"""The built-in converters, one module per layer family; importing this package registers them."""

from tinynet.onnx.operators import containers, conv, core, normalization, recurrent, sequence

__all__ = ["containers", "conv", "core", "normalization", "recurrent", "sequence"]
