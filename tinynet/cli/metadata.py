"""What `tinynet train --save` writes beside a model, checked on load: the feature and target
names, the task, the class labels, the loss and the preprocessing, each of the right type and
consistent with the model's inputs and outputs. A damaged or hand-edited file gives one
:class:`DataError` line, never a ``KeyError`` or ``IndexError`` later."""

from __future__ import annotations

from typing import Any

from tinynet import registry
from tinynet.cli.errors import DataError
from tinynet.layers.base import output_shape_of

__all__ = ["checked_metadata"]

KEYS = {"features", "target", "task", "labels", "loss", "preprocessing"}


def checked_metadata(meta: Any, model: Any, path: str) -> dict[str, Any]:
    """``meta`` (the file's ``tinynet_cli`` metadata) checked against ``model``; returned as is."""
    if not isinstance(meta, dict) or not KEYS <= set(meta):
        raise DataError(f"{path} was not saved by `tinynet train --save`, so its preprocessing is unknown")

    def bad(what: str) -> DataError:
        return DataError(f"{path}: the saved {what} is malformed; save the model again with "
                         f"`tinynet train --save`")

    features, target, task, labels = meta["features"], meta["target"], meta["task"], meta["labels"]
    if not _names(features) or not features:
        raise bad("feature list")
    if target is not None and not isinstance(target, str):
        raise bad("target name")
    if task not in ("classification", "regression"):
        raise bad("task")
    if task == "classification" and not (_names(labels) and len(labels) >= 2):
        raise bad("list of classes")
    if task == "regression" and labels is not None:
        raise bad("list of classes")
    if not isinstance(meta["loss"], str):
        raise bad("loss")
    try:
        loss: Any = registry.lookup("losses", meta["loss"], "the saved loss")
    except ValueError:
        raise bad("loss") from None
    if (loss.task == "regression") != (task == "regression"):
        raise bad("loss")
    if not isinstance(meta["preprocessing"], dict):
        raise bad("preprocessing")
    width = meta["preprocessing"].get("width") or len(features)  # one-hot columns make more inputs
    if not isinstance(width, int) or width < 1:
        raise bad("preprocessing")
    try:
        shape = output_shape_of(model, (None, width))
    except (TypeError, ValueError) as err:
        raise DataError(f"{path}: the model does not take the {width} inputs its preprocessing gives "
                        f"({err})") from None
    outputs = shape[-1] if isinstance(shape, tuple) and len(shape) == 2 else None
    expected = len(labels) if loss.task == "multiclass" else 1
    if outputs != expected:
        raise DataError(f"{path}: the model gives {outputs} outputs per row, but its saved task and "
                        f"classes need {expected}")
    return meta


def _names(value: Any) -> bool:
    """A list of distinct strings."""
    return (isinstance(value, list) and all(isinstance(v, str) for v in value)
            and len(set(value)) == len(value))
