"""ONNX export (the optional extra ``tinynet[onnx]``): ``tinynet.onnx.export(model, path,
example_input)`` writes a model that onnxruntime and other ONNX runtimes run, its batch
axis dynamic. ``import tinynet`` does not import this package, and this package imports
``onnx`` only when a model is exported.

Each layer class has a converter (:mod:`tinynet.onnx.operators`); a layer of your own
gets one with :func:`register_converter`.
"""

from tinynet.onnx.converters import exportable_layers, register_converter
from tinynet.onnx.export import export

__all__ = ["export", "exportable_layers", "register_converter"]
