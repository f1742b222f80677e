"""`tinynet summary FILE.npz`: what any tinynet file holds.

A model saved by ``tn.save``, an estimator saved by ``tn.save`` or a model saved by
`tinynet train --save`: the file's kind, tinynet and format versions, dtype and
parameter count; the estimator's settings or the command's metadata (features,
target, task, classes, preprocessing) when the file has them; then the layer table
(``tn.summary``). A file that is not a tinynet ``.npz`` is one clear error.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.table import Table
from rich.text import Text

from tinynet.cli.tables import DataError, Preprocessing
from tinynet.display.console import get_console

__all__ = ["summary", "describe_file"]

SHOWN_FEATURES = 8


def summary(args: argparse.Namespace) -> int:
    from tinynet.display.layer_table import summary as layer_summary

    facts, model, input_features = describe_file(args.model)
    console = get_console()
    table = Table(title=Text(args.model), show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in facts.items():
        table.add_row(key, Text(value))
    console.print(table)
    try:
        layer_summary(model, input_features, console=console)
    except (ValueError, TypeError):  # the guessed input width does not fit (several inputs, ...)
        layer_summary(model, None, console=console)
    return 0


def describe_file(path: str) -> tuple[dict[str, str], Any, int | None]:
    """``(facts, network, input features)`` of the tinynet file ``path``: ``facts`` are the
    summary's lines by name; the input features are ``None`` when the file does not tell."""
    from tinynet.layers.base import Layer
    from tinynet.saving.files import load_with_metadata

    obj, metadata = load_with_metadata(path)
    header = _header(path)
    model = obj if isinstance(obj, Layer) else obj.model_
    params = model.parameters()
    facts = {"kind": _kind(obj, metadata),
             "saved by": f"tinynet {header.get('tinynet_version', '?')} (file format "
                         f"{header.get('format_version', '?')})",
             "dtype": str(params[0].data.dtype) if params else "-",
             "parameters": f"{sum(p.data.size for p in params):,}"}
    input_features: int | None = None
    cli = metadata.get("tinynet_cli")
    if isinstance(cli, dict):
        facts |= _cli_facts(cli, model, path)
        input_features = cli["preprocessing"].get("width") or len(cli["features"])  # one-hot: wider
    elif not isinstance(obj, Layer):
        facts |= _estimator_facts(obj, header)
        input_features = int(getattr(obj, "n_features_in_", 0)) or None
    else:
        input_features = _first_in_features(model)
    user = {k: v for k, v in metadata.items() if k != "tinynet_cli"}
    if user:
        facts["metadata"] = json.dumps(user)[:200]
    return facts, model, input_features


def _kind(obj: Any, metadata: dict[str, Any]) -> str:
    from tinynet.layers.base import Layer

    if not isinstance(obj, Layer):
        return f"{type(obj).__name__} (a fitted scikit-learn estimator, tn.save)"
    if "tinynet_cli" in metadata:
        return f"{type(obj).__name__} saved by `tinynet train --save`"
    return f"{type(obj).__name__} (tn.save)"


def _cli_facts(meta: dict[str, Any], model: Any, path: str) -> dict[str, str]:
    from tinynet.cli.metadata import checked_metadata

    checked_metadata(meta, model, path)  # a damaged file says so here, not with a KeyError below
    features = meta["features"]
    shown = ", ".join(features[:SHOWN_FEATURES]) + (" ..." if len(features) > SHOWN_FEATURES else "")
    return {"task": meta["task"], "target": str(meta["target"]), "loss": meta["loss"],
            "features": f"{len(features)}: {shown}",
            "classes": ", ".join(meta["labels"] or []) or "-",
            "preprocessing": describe_preprocessing(meta["preprocessing"], len(features), path)}


def describe_preprocessing(saved: Any, n_features: int, path: str) -> str:
    """The saved preprocessing in words: ``rows scaled to unit length, then standardized``."""
    try:
        prep = Preprocessing.from_json(saved, n_features)
    except DataError as err:
        raise DataError(f"{path}: {err}") from None
    return prep.describe()


def _estimator_facts(estimator: Any, header: dict[str, Any]) -> dict[str, str]:
    facts = {"features": str(getattr(estimator, "n_features_in_", "?"))}
    classes = getattr(estimator, "classes_", None)
    if classes is not None:
        facts["classes"] = ", ".join(str(c) for c in classes)
    settings = header.get("estimator", {}).get("params", {})
    if settings:
        facts["settings"] = ", ".join(f"{k}={v!r}" for k, v in sorted(settings.items()))
    return facts


def _first_in_features(model: Any) -> int | None:
    """The input width of a model whose first layer with weights says it (a ``Dense``)."""
    for _, layer in model.named_layers():
        if layer.parameters() and not list(layer.named_children()):  # the first leaf with weights
            width = getattr(layer, "in_features", None)
            return width if isinstance(width, int) else None
    return None


def _header(path: str) -> dict[str, Any]:
    from tinynet.saving.archive import Archive
    from tinynet.saving.files import HEADER
    from tinynet.saving.header import decode_header

    with Archive(path, f"summary {path!r}") as archive:
        return decode_header(archive.read_header(HEADER), f"summary {path!r}")[0]
