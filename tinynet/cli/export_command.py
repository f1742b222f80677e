"""`tinynet export MODEL.npz MODEL.onnx`: a saved network written as an ONNX model.

The file may be a model saved by `tinynet train --save` or ``tn.save``, or a saved
scikit-learn estimator (its network is exported). The example input's shape comes from
``--input-shape`` or, when the first layer names its input width (``Dense``), from it; the
batch axis of the graph is dynamic. The graph is the network alone: `tinynet predict`
applies the saved preprocessing before it, so the rows given to the graph must be
preprocessed the same way; the command's metadata (features, target, classes,
preprocessing) is kept in the ONNX file's ``metadata_props`` as JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from tinynet.cli.errors import DataError
from tinynet.cli.outputs import check_output
from tinynet.display.console import get_console

__all__ = ["export", "add_export_parser", "parse_input_shape"]

DESCRIPTION = """Write a network saved by `tinynet train --save` or tn.save (or a saved estimator's
network) as an ONNX model, checked by onnx.checker, its batch axis dynamic. The
graph is the network alone: give it rows preprocessed as `tinynet predict` does; the
saved metadata (features, classes, preprocessing) is kept in the file's metadata_props."""


def add_export_parser(commands: Any, **kw: Any) -> None:
    """The ``export`` subcommand's arguments, on the parser's subparsers ``commands``."""
    parser = commands.add_parser("export", help="write a saved model as ONNX (needs tinynet[onnx])",
                                 description=DESCRIPTION, **kw)
    parser.add_argument("model", help="the saved .npz")
    parser.add_argument("output", help="the .onnx file to write")
    parser.add_argument("--input-shape", type=parse_input_shape, metavar="N[,N...]",
                        help="one sample's shape without the batch axis, e.g. 1,28,28 (default: the first "
                             "layer's input width)")
    parser.add_argument("--opset", type=int, help="ONNX opset (default: 17)")
    parser.add_argument("--dtype", default="model", choices=("model", "float32", "float64"),
                        help="the graph's float type (model: the saved weights' dtype)")


def parse_input_shape(text: str) -> tuple[int, ...]:
    """``"1,28,28"`` -> ``(1, 28, 28)``; each size a positive integer."""
    try:
        sizes = tuple(int(part) for part in text.replace(" ", "").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes separated by commas, e.g. 1,28,28; got {text!r}") \
            from None
    if not sizes or any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be positive integers, got {text!r}")
    return sizes


def export(args: argparse.Namespace) -> int:
    from tinynet.layers.base import Layer
    from tinynet.onnx import export as export_onnx
    from tinynet.saving.files import load_with_metadata

    if Path(args.output).is_dir():
        raise DataError(f"output {args.output}: that is a folder; name a file in it, e.g. "
                        f"{Path(args.output) / 'model.onnx'}")
    check_output("output", args.output, [("model", args.model)])
    obj, metadata = load_with_metadata(args.model)
    model = obj if isinstance(obj, Layer) else getattr(obj, "model_", None)
    if not isinstance(model, Layer):
        raise DataError(f"{args.model} holds no tinynet network to export")
    shape = args.input_shape or _first_input_shape(model, args.model)
    integer = bool(getattr(model, "integer_input", False))
    dtype = None if args.dtype == "model" else np.dtype(args.dtype)
    params = model.parameters()
    example_dtype = np.int64 if integer else (dtype or (params[0].data.dtype if params else np.float64))
    example = np.zeros((2, *shape), dtype=example_dtype)
    properties = {key: json.dumps(value) for key, value in metadata.items()}
    export_onnx(model, args.output, example, opset=args.opset, dtype=dtype, metadata=properties)
    out = model(example)
    console = get_console()
    kind = "int64 ids" if integer else np.dtype(dtype or example_dtype).name
    console.print(f"wrote {args.output}: input (batch, {', '.join(map(str, shape))}) {kind} -> output "
                  f"(batch, {', '.join(map(str, np.shape(out)[1:]))})", highlight=False)
    if "tinynet_cli" in metadata:
        console.print("the graph is the network alone: give it rows preprocessed as `tinynet predict` does "
                      "(the preprocessing is in the file's metadata, key tinynet_cli)", highlight=False)
    return 0


def _first_input_shape(model: Any, path: str) -> tuple[int, ...]:
    """One sample's shape from the first layer that computes, when it names all of it: a
    ``Dense``'s ``(in_features,)``; otherwise a :class:`DataError` asking for ``--input-shape``."""
    layers = [layer for _, layer in model.named_layers()] if hasattr(model, "named_layers") else [model]
    first = next((layer for layer in layers if not list(layer.named_children())), model)
    if getattr(first, "input_ndim", None) is None and isinstance(getattr(first, "in_features", None), int):
        return (first.in_features,)
    raise DataError(f"{path}: its first layer ({type(first).__name__}) does not fix the shape of a sample; "
                    f"give it with --input-shape, e.g. --input-shape 1,28,28 for 28x28 images of 1 channel")
