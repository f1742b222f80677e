"""A model's state: every array that defines it, and one helper to copy and put it back.

The state of a model is each parameter's ``data`` followed by every buffer
(non-trained arrays a layer lists in ``own_buffers()``, such as BatchNorm's
running statistics). Early stopping, the interrupt guard, the estimators'
stopping rule and ``gradcheck`` all keep and restore weights through
:class:`Snapshot`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinynet.engine.types import Array
from tinynet.layers.base import named_buffers_of

__all__ = ["Snapshot", "state_arrays"]


def state_arrays(model: Any) -> list[Array]:
    """The live arrays that define ``model``: parameters' ``data``, then buffers.

    Writing into them changes the model.
    """
    return [p.data for p in model.parameters()] + [array for _, array in named_buffers_of(model)]


class Snapshot:
    """A copy of a model's state (and, with ``grads=True``, of each parameter's ``.grad``).

    ``update()`` copies the model's current state into the snapshot (no new
    memory), ``restore()`` writes the snapshot back into the model's own arrays,
    so nothing that holds a reference to a parameter (an optimizer) is cut off.
    """

    def __init__(self, model: Any, *, grads: bool = False) -> None:
        self._live = state_arrays(model)
        self._saved = [array.copy() for array in self._live]
        self._params = list(model.parameters()) if grads else []
        self._grads = [(p.grad, p.grad.copy()) for p in self._params]

    def update(self) -> None:
        """Copy the model's current state into this snapshot."""
        for saved, live in zip(self._saved, self._live):
            np.copyto(saved, live)

    def restore(self) -> None:
        """Put the snapshot back into the model's arrays (and gradients, if taken)."""
        for live, saved in zip(self._live, self._saved):
            np.copyto(live, saved)
        for param, (grad, saved) in zip(self._params, self._grads):
            np.copyto(grad, saved)
            param.grad = grad  # a backward may have bound a new array
