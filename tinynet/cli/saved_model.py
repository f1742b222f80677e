"""A model saved by `tinynet train --save`, loaded for `evaluate`, `predict` and `summary`:
the network with its checked metadata and preprocessing, and what it says about new rows
(class codes, class probabilities or numbers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tinynet import registry
from tinynet.cli.metadata import checked_metadata
from tinynet.cli.tables import DataError, Preprocessing
from tinynet.engine.stable_functions import sigmoid, softmax
from tinynet.engine.types import Array

__all__ = ["SavedModel", "load_saved_model"]


@dataclass
class SavedModel:
    """The network, its metadata (features, target, task, labels, loss) and the preprocessing
    fitted on the training rows."""

    model: Any
    meta: dict[str, Any]
    prep: Preprocessing

    @property
    def features(self) -> list[str]:
        return list(self.meta["features"])

    @property
    def labels(self) -> list[str] | None:
        return self.meta["labels"]

    @property
    def task(self) -> str:
        return str(self.meta["task"])

    def loss(self) -> Any:
        return registry.lookup("losses", self.meta["loss"])()

    def inputs(self, x: Array) -> Array:
        """Raw feature columns ``(N, F)`` -> the network's inputs ``(N, F)`` in its dtype."""
        params = self.model.parameters()
        dtype = params[0].data.dtype if params else np.float64
        return np.asarray(self.prep.apply(x), dtype=dtype)

    def outputs(self, inputs: Array) -> Array:
        """The network's outputs ``(N, K)`` (logits) in inference mode."""
        out = self.model(inputs)
        return out.reshape(len(out), -1)

    def predictions(self, outputs: Array) -> Array:
        """Class codes ``(N,)`` (classification) or numbers ``(N,)`` (regression) from outputs."""
        if self.task == "regression":
            return outputs[:, 0]
        if outputs.shape[1] == 1:  # one logit: the second class's (sigmoid)
            return (outputs[:, 0] > 0).astype(np.intp)
        return outputs.argmax(axis=1)

    def probabilities(self, outputs: Array) -> Array:
        """Class probabilities ``(N, K)``, one column per label, from the logits ``(N, K)`` (softmax)
        or ``(N, 1)`` (sigmoid, the second class's)."""
        if self.task == "regression":
            raise DataError("class probabilities need a classification model; this one predicts numbers")
        if outputs.shape[1] == 1:
            second = sigmoid(outputs[:, 0])
            return np.stack([1.0 - second, second], axis=1)
        return softmax(outputs)


def load_saved_model(path: str) -> SavedModel:
    """The model at ``path`` with its metadata, checked; a :class:`DataError` if the file is not
    a model saved by `tinynet train --save` (an estimator, or a model without its metadata)."""
    from tinynet.layers.base import Layer
    from tinynet.saving.files import load_with_metadata

    model, metadata = load_with_metadata(path)
    if not isinstance(model, Layer):
        raise DataError(f"{path} holds a scikit-learn estimator, not a model saved by `tinynet train --save` "
                        f"(`tinynet summary {path}` describes it)")
    meta = checked_metadata(metadata.get("tinynet_cli"), model, path)
    try:
        prep = Preprocessing.from_json(meta["preprocessing"], len(meta["features"]))
    except DataError as err:
        raise DataError(f"{path}: {err}") from None
    return SavedModel(model, meta, prep)
