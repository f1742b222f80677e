"""``export``: a tinynet model written as an ONNX file, checked by ``onnx.checker``.

The walk: the example input is checked and run through the model (tinynet's inference
forward), then each layer, from the model down through its containers, is turned into
ONNX nodes by its converter (:mod:`tinynet.onnx.operators`), the graph is checked, and
the file written atomically (the old file stays whole if anything fails).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib.metadata import version
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from tinynet.engine.checks import check_float_dtype
from tinynet.engine.types import Array
from tinynet.layers.base import check_layer
from tinynet.layers.containers.graph import Graph
from tinynet.onnx import operators  # noqa: F401  (registers the built-in converters)
from tinynet.onnx.builder import OnnxGraph
from tinynet.saving.atomic import atomic_file

__all__ = ["export", "DEFAULT_OPSET", "MIN_OPSET"]

DEFAULT_OPSET = 17  # LayerNormalization's; onnxruntime 1.12 (2022) and later run it
MIN_OPSET = 17


def export(model: Any, path: str | os.PathLike[str], example_input: Any, opset: int | None = None, *,
           dtype: DTypeLike | None = None, metadata: Mapping[str, str] | None = None) -> None:
    """Write ``model`` to ``path`` as an ONNX model for inference (``training=False``).

    Args:
        model: a tinynet layer or container (``Sequential``, ``Graph``, ...); every layer in
            it needs a converter (:func:`tinynet.onnx.register_converter`).
        path: the ``.onnx`` file to write (replaced atomically).
        example_input: a batch of inputs, e.g. ``x[:2]``: a float array ``(B, ...)``
            (integer token ids for a model that starts with ``Embedding``; for a ``Graph``
            with several inputs a tuple in the order of its ``inputs`` or a dict by name).
            Its non-batch sizes are fixed in the graph; the batch axis stays dynamic.
        opset: the ONNX opset (default 17; at least 17).
        dtype: the graph's float type; default the model's (its parameters' dtype), so a
            float32 model is exported in float32 and a float64 one in float64.
            ``np.float32`` exports a float64 model in float32 (onnxruntime has no float64
            kernels for ``Conv``, ``AveragePool``, ``Erf``, ``LSTM``, ``GRU``).
        metadata: strings stored in the model's ``metadata_props`` (onnxruntime's
            ``session.get_modelmeta().custom_metadata_map``), e.g. the class names.

    The graph's inputs are ``"input"`` (or a ``Graph``'s input names) and its outputs
    ``"output"`` (or a ``Graph``'s output names); ``Dropout`` is the identity and
    ``BatchNorm`` uses its running statistics, as in ``model(x)``.

    Raises:
        ImportError: the ``onnx`` package is missing (``pip install 'tinynet[onnx]'``).
        TypeError: a layer has no converter (the error names its place in the model), or
            ``example_input`` is not an array of numbers.
        ValueError: ``example_input`` does not fit the model, ``opset`` is out of range,
            ``path`` is a directory, or a layer's configuration has no ONNX form.

    Examples:
        >>> import tinynet.onnx
        >>> model = tn.Sequential(tn.Dense(4, 8), tn.ReLU(), tn.Dense(8, 3), tn.Softmax())
        >>> tinynet.onnx.export(model, "model.onnx", np.zeros((2, 4)))  # doctest: +SKIP
    """
    onnx = _import_onnx()
    check_layer(model, "export model")
    target = _check_path(path)
    opset = _check_opset(opset, onnx)
    graph_dtype = _graph_dtype(model, dtype, example_input)
    properties = _check_metadata(metadata)
    named_inputs = _example_inputs(model, example_input)
    graph = OnnxGraph(opset, graph_dtype)
    inputs = [graph.add_input(name, array) for name, array in named_inputs]
    _run_example(model, [value.example for value in inputs], isinstance(model, Graph) and len(inputs) > 1)
    result = graph.convert(model, inputs if len(inputs) > 1 else inputs[0], "")
    outputs = result if isinstance(result, tuple) else (result,)
    for name, value in zip(_output_names(model, len(outputs)), outputs):
        graph.add_output(name, value)
    proto = graph.model(version("tinynet"), repr(model))
    if properties:
        onnx.helper.set_model_props(proto, properties)
    onnx.checker.check_model(proto, full_check=True)
    with atomic_file(target, "wb") as file:
        file.write(proto.SerializeToString())


def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError as err:
        raise ImportError("tinynet.onnx.export needs the onnx package: pip install 'tinynet[onnx]'") from err
    return onnx


def _check_path(path: Any) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"export path must be a file name (str or path), got {type(path).__name__}")
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"export path {path!r} is a directory; give a file name such as "
                         f"{os.path.join(path, 'model.onnx')!r}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(2, f"export path: the folder {folder!r} does not exist", path)
    return path


def _check_opset(opset: Any, onnx: Any) -> int:
    if opset is None:
        return DEFAULT_OPSET
    latest = int(onnx.defs.onnx_opset_version())
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)):
        raise TypeError(f"export opset must be an int in [{MIN_OPSET}, {latest}], got {opset!r}")
    if not MIN_OPSET <= int(opset) <= latest:
        raise ValueError(f"export opset must be in [{MIN_OPSET}, {latest}] (LayerNormalization needs "
                         f"{MIN_OPSET}; {latest} is the newest this onnx {onnx.__version__} knows), "
                         f"got {opset}")
    return int(opset)


def _check_metadata(metadata: Any) -> dict[str, str]:
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise TypeError(f"export metadata must be a dict of str to str, got {str(metadata)[:80]}")
    return dict(metadata)


def _graph_dtype(model: Any, dtype: Any, example_input: Any) -> np.dtype[Any]:
    """``dtype`` if given, else the parameters' one dtype, else the example's float dtype."""
    if dtype is not None:
        return check_float_dtype(dtype, "export dtype")
    dtypes = {p.data.dtype for p in model.parameters()}
    if len(dtypes) > 1:
        raise ValueError(f"export: the model's parameters mix dtypes {sorted(d.name for d in dtypes)}; "
                         f"pass dtype=np.float32 or np.float64 to choose the graph's")
    if dtypes:
        return dtypes.pop()
    first = example_input[0] if isinstance(example_input, (tuple, list)) and example_input else example_input
    kind = getattr(first, "dtype", None)
    return np.dtype(np.float32) if kind == np.float32 else np.dtype(np.float64)


def _example_inputs(model: Any, example_input: Any) -> list[tuple[str, Array]]:
    """The graph inputs' names and example arrays, checked: numbers, a batch axis."""
    if isinstance(model, Graph):
        names = [model.inputs] if isinstance(model.inputs, str) else list(model.inputs)
    else:
        names = ["input"]
    if len(names) == 1:
        return [(names[0], _example_array(example_input, "example_input", _integer_input(model)))]
    try:
        bound = model.bind_inputs(example_input)
    except ValueError as err:
        kind = ValueError if isinstance(example_input, (Mapping, tuple, list)) else TypeError
        raise kind(f"export example_input: {err}") from None
    arrays = [bound[name] for name in names]
    return [(name, _example_array(array, f"example_input[{name!r}]", False)) for name, array in
            zip(names, arrays)]


def _integer_input(model: Any) -> bool:
    return bool(getattr(model, "integer_input", False))


def _example_array(x: Any, name: str, integer: bool) -> Array:
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)
        except (TypeError, ValueError):
            raise TypeError(f"export {name} must be a numpy array, got {type(x).__name__}") from None
    wanted = "integer token ids" if integer else "floats"
    if x.dtype.kind not in ("iu" if integer else "f"):
        raise TypeError(f"export {name} must be an array of {wanted}, got dtype {x.dtype}"
                        + ("" if integer or x.dtype.kind not in "iub" else
                           f"; pass it as floats, e.g. {name.split('[')[0]}.astype(np.float32)"))
    if x.ndim < 1 or x.shape[0] < 1:
        raise ValueError(f"export {name} must be a batch (B, ...) with at least one row, got shape {x.shape}")
    return x.astype(np.int64) if integer else x


def _run_example(model: Any, arrays: list[Array], several: bool) -> None:
    """The model's forward on the example, so a shape it refuses is an error naming ``example_input``."""
    try:
        model.forward(arrays if several else arrays[0], training=False)
    except (ValueError, TypeError) as err:
        shapes = [a.shape for a in arrays]
        raise ValueError(f"export example_input of shape {shapes[0] if len(shapes) == 1 else shapes} does "
                         f"not fit the model: {err}") from None


def _output_names(model: Any, count: int) -> list[str]:
    if isinstance(model, Graph) and not isinstance(model.output, str):
        return list(model.output)
    return ["output"] if count == 1 else [f"output_{k}" for k in range(count)]
