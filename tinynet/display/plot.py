"""Training curves as a PNG: loss (and accuracy, and validation curves) against epochs.

matplotlib is optional (``pip install "tinynet[plot]"``) and imported only
inside :func:`plot_history`. The figure is drawn on matplotlib's Agg canvas
directly, without pyplot, so it never changes the backend of a running
notebook or opens a window.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["plot_history"]

INSTALL_HINT = 'plotting needs matplotlib: pip install "tinynet[plot]"'


def plot_history(history: Any, path: str | os.PathLike[str] | None = None, *,
                 loss: Any = None, title: str | None = None, dpi: int = 100) -> Any:
    """Plot a training history and write it to ``path`` (PNG by default); return the Figure.

    ``history``: a :class:`tinynet.History`, a dict of per-epoch lists (``"loss"``,
    ``"accuracy"``, ``"val_loss"``, ...), or a plain list of epoch losses (e.g. an
    estimator's ``loss_curve_``). The loss is on the left axes, labelled with the
    loss's name (``loss``: a loss instance, class or name; by default
    ``"categorical cross-entropy loss"`` when the history has an accuracy, else ``"loss"``);
    accuracy, when present, on a second axes. Validation curves are dashed.
    """
    curves = _curves(history)
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError(INSTALL_HINT) from err
    from tinynet.registry import loss_label

    classification = "accuracy" in curves
    if loss is not None:
        ylabel = loss_label(loss)
    else:
        ylabel = "categorical cross-entropy loss" if classification else "loss"
    panels = [("loss", ylabel)] + ([("accuracy", "accuracy")] if classification else [])
    figure = Figure(figsize=(5.5 * len(panels), 4.0), dpi=dpi)
    FigureCanvasAgg(figure)
    for index, (key, label) in enumerate(panels, 1):
        axes = figure.add_subplot(1, len(panels), index)
        for name, style in ((key, "-"), (f"val_{key}", "--")):
            values = curves.get(name)
            if values:
                axes.plot(range(1, len(values) + 1), values, style,
                          label="validation" if name.startswith("val_") else "training")
        axes.set_xlabel("epochs")
        axes.set_ylabel(label)
        axes.grid(alpha=0.3)
        if f"val_{key}" in curves:
            axes.legend()
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    if path is not None:
        figure.savefig(os.fspath(path))
    return figure


def _curves(history: Any) -> dict[str, list[float]]:
    """``{"loss": [...], ...}`` from a History, a dict of lists or a list of losses."""
    raw = getattr(history, "history", history)
    if isinstance(raw, Mapping):
        curves = {str(k): [float(v) for v in values] for k, values in raw.items()}
    elif (isinstance(raw, Sequence) and not isinstance(raw, str)) or hasattr(raw, "__array__"):
        curves = {"loss": [float(v) for v in raw]}
    else:
        raise TypeError(f"plot_history: history must be a tinynet History, a dict of per-epoch "
                        f"lists or a list of losses, got {type(history).__name__}")
    if not curves.get("loss"):
        raise ValueError("plot_history: the history has no loss values to plot (did training run?)")
    return curves
