"""Names -> classes for layers, activations, losses and optimizers.

Looked up from the ``tinynet.layers``, ``tinynet.losses`` and ``tinynet.optim``
namespaces, so a class exported there (e.g. a new ``Adam`` or ``Tanh``) is known
here without editing this file. Names match case- and separator-insensitively:
``"leaky_relu"``, ``"LeakyReLU"`` and ``"leaky-relu"`` all find ``LeakyReLU``.
"""

from __future__ import annotations

import re
from typing import Any

import tinynet.layers
import tinynet.losses
import tinynet.optim
from tinynet.engine.checks import check_choice

__all__ = ["layer_classes", "activations", "losses", "optimizers", "lookup", "snake_name",
           "loss_label"]

# Extra short names users know from Keras / scikit-learn.
ALIASES = {
    "losses": {"cross_entropy": "SoftmaxCrossEntropy", "categorical_crossentropy": "SoftmaxCrossEntropy",
               "mse": "MeanSquaredError", "squared_error": "MeanSquaredError",
               "bce": "SigmoidBinaryCrossEntropy", "binary_crossentropy": "SigmoidBinaryCrossEntropy",
               "binary_cross_entropy": "SigmoidBinaryCrossEntropy"},
    "activations": {"linear": "Identity", "logistic": "Sigmoid"},
}
LOSS_LABELS = {"SoftmaxCrossEntropy": "categorical cross-entropy loss",
               "SigmoidBinaryCrossEntropy": "binary cross-entropy loss",
               "MeanSquaredError": "mean squared error loss"}


def snake_name(cls: type) -> str:
    """``LeakyReLU`` -> ``"leaky_relu"``, ``SoftmaxCrossEntropy`` -> ``"softmax_cross_entropy"``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z][a-z])", "_", cls.__name__.replace("ReLU", "Relu")).lower()


def _namespace() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for module in (tinynet.losses, tinynet.optim, tinynet.layers):
        found.update(vars(module))
    return {name: obj for name, obj in found.items() if isinstance(obj, type) and not name.startswith("_")}


def _subclasses_of(base: type) -> dict[str, type]:
    return {name: cls for name, cls in _namespace().items() if issubclass(cls, base) and cls is not base}


def layer_classes() -> dict[str, type]:
    """Every ``Layer`` subclass exported from ``tinynet.layers``, by class name."""
    exported = vars(tinynet.layers)
    return {name: cls for name, cls in _subclasses_of(tinynet.layers.Layer).items()
            if exported.get(name) is cls}


def activations() -> dict[str, type]:
    """Elementwise activation layers (``snake_name -> class``): the parameter-free layers
    of ``tinynet.layers.core.activations`` that take no required argument, except ``Softmax``
    (an inference output, not a hidden activation)."""
    import inspect

    found = {}
    for cls in layer_classes().values():
        if cls.__module__ != "tinynet.layers.core.activations" or cls.__name__ == "Softmax":
            continue
        required = [p for p in inspect.signature(cls).parameters.values()
                    if p.default is inspect.Parameter.empty
                    and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if not required:
            found[snake_name(cls)] = cls
    return found


def losses() -> dict[str, type]:
    """Every ``Loss`` subclass in ``tinynet.losses`` (``snake_name -> class``)."""
    return {snake_name(cls): cls for cls in _subclasses_of(tinynet.losses.Loss).values()}


def optimizers() -> dict[str, type]:
    """Every ``Optimizer`` subclass in ``tinynet.optim`` (``snake_name -> class``)."""
    return {snake_name(cls): cls for cls in _subclasses_of(tinynet.optim.Optimizer).values()}


def _key(name: str) -> str:
    return re.sub(r"[_\-\s]", "", name).lower()


def lookup(kind: str, name: str, argument: str | None = None) -> type:
    """The class registered as ``name`` in ``kind`` (``"activations"``, ``"losses"``,
    ``"optimizers"``). Raises ``ValueError`` listing the known names (and the closest)."""
    table = {"activations": activations, "losses": losses, "optimizers": optimizers}[kind]()
    argument = argument or {"activations": "activation", "losses": "loss", "optimizers": "optimizer"}[kind]
    if isinstance(name, str):
        by_key = {_key(snake): cls for snake, cls in table.items()}
        by_class = {cls.__name__: cls for cls in table.values()}
        alias = ALIASES.get(kind, {}).get(name.lower().replace("-", "_"))
        if alias in by_class:
            return by_class[alias]
        if _key(name) in by_key:
            return by_key[_key(name)]
    names = sorted(table) + sorted(a for a, target in ALIASES.get(kind, {}).items()
                                   if target in {c.__name__ for c in table.values()})
    check_choice(name, argument, names)  # not found above, so this raises with the known names
    raise ValueError(f"{argument}: unknown name {name!r}")


def loss_label(loss: Any) -> str:
    """An axis label for a loss (instance, class or name): the article's
    ``"categorical cross-entropy loss"`` for ``SoftmaxCrossEntropy``."""
    if isinstance(loss, str):
        try:
            loss = lookup("losses", loss)
        except ValueError:
            return loss if loss.endswith("loss") else f"{loss} loss"
    cls = loss if isinstance(loss, type) else type(loss)
    return LOSS_LABELS.get(cls.__name__, snake_name(cls).replace("_", " ") + " loss")
