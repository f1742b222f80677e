"""Gradient clipping with PyTorch's semantics: by global norm (``clip_grad_norm_``) and by
value (``clip_grad_value_``), in place on every parameter's ``.grad``.

Call either between ``backward`` and the optimizer's ``step``, as in PyTorch, or let
``fit`` do it with ``fit(..., clip_grad_norm=max_norm)`` / ``clip_grad_value=clip_value``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tinynet.engine.checks import check_number
from tinynet.layers.parameter import Parameter

__all__ = ["clip_grad_norm", "clip_grad_value", "clipped_step"]


def _parameters(parameters: Parameter | Iterable[Parameter], name: str) -> list[Parameter]:
    params = [parameters] if isinstance(parameters, Parameter) else list(parameters)
    for index, p in enumerate(params):
        if not isinstance(p, Parameter):
            raise TypeError(f"{name}: parameters[{index}] must be a tinynet.Parameter (pass "
                            f"model.parameters()), got {type(p).__name__}")
    return params


def clip_grad_norm(parameters: Parameter | Iterable[Parameter], max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False) -> float:
    """Scale the gradients so that their global norm is at most ``max_norm``; return the
    norm before clipping. PyTorch's ``torch.nn.utils.clip_grad_norm_``.

    The global norm is the ``norm_type``-norm of all gradients taken as one vector (the
    norm of the per-parameter norms; ``norm_type=inf`` the largest magnitude). Every
    gradient is multiplied by ``min(1, max_norm / (total_norm + 1e-6))``, in place.

    Args:
        parameters: a :class:`tinynet.Parameter` or an iterable of them, e.g. ``model.parameters()``.
        max_norm: ``> 0``, the largest norm the gradients keep.
        norm_type: ``> 0`` or ``inf``; 2 is the Euclidean norm.
        error_if_nonfinite: raise ``RuntimeError`` when the total norm is NaN or inf
            (otherwise, as in PyTorch, the gradients are scaled by a NaN factor).
    """
    params = _parameters(parameters, "clip_grad_norm")
    max_norm = check_number(max_norm, "clip_grad_norm max_norm", low=0, low_open=True)
    if not (isinstance(norm_type, (int, float)) and (norm_type == math.inf or norm_type > 0)):
        raise ValueError(f"clip_grad_norm norm_type must be a number > 0 or math.inf, got {norm_type!r}")
    grads = [p.grad for p in params]
    total = _global_norm(grads, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm: the total norm of order {norm_type} of the gradients is "
                           f"{total}, so they cannot be clipped; pass error_if_nonfinite=False to scale "
                           f"them anyway")
    _scale(grads, max_norm / (total + 1e-6))
    return total


def clip_grad_value(parameters: Parameter | Iterable[Parameter], clip_value: float) -> None:
    """Clamp every gradient entry into ``[-clip_value, clip_value]``, in place.
    PyTorch's ``torch.nn.utils.clip_grad_value_``.

    Args:
        parameters: a :class:`tinynet.Parameter` or an iterable of them, e.g. ``model.parameters()``.
        clip_value: ``> 0``.
    """
    params = _parameters(parameters, "clip_grad_value")
    clip_value = check_number(clip_value, "clip_grad_value clip_value", low=0, low_open=True)
    for p in params:
        grad = p.grad
        np.clip(grad, -clip_value, clip_value, out=grad)


def clipped_step(step: Callable[[], Any], parameters: Iterable[Parameter],
                 clip_grad_norm: float | None = None,
                 clip_grad_value: float | None = None) -> Callable[[], Any]:
    """The optimizer step ``fit`` runs: ``step`` itself when nothing is clipped (no cost per
    step), else a function that clips the gradients of ``parameters`` and then steps.

    ``clip_grad_norm`` (a max norm) and ``clip_grad_value`` are checked here, once; at most
    one of them may be given (as in Keras and PyTorch Lightning).
    """
    if clip_grad_norm is not None and clip_grad_value is not None:
        raise ValueError(f"fit: pass clip_grad_norm or clip_grad_value, not both (got "
                         f"clip_grad_norm={clip_grad_norm!r}, clip_grad_value={clip_grad_value!r})")
    if clip_grad_norm is None and clip_grad_value is None:
        return step
    params = _parameters(parameters, "fit")
    if clip_grad_norm is not None:
        max_norm = check_number(clip_grad_norm, "fit clip_grad_norm", low=0, low_open=True)

        def clip_norm_then_step() -> Any:
            _clip_norm(params, max_norm)
            return step()

        return clip_norm_then_step
    clip_value = check_number(clip_grad_value, "fit clip_grad_value", low=0, low_open=True)

    def clip_value_then_step() -> Any:
        for p in params:
            grad = p.grad
            np.clip(grad, -clip_value, clip_value, out=grad)
        return step()

    return clip_value_then_step


def _global_norm(grads: list[Any], norm_type: float) -> float:
    """The ``norm_type``-norm of all ``grads`` as one vector (0 for no gradients)."""
    if norm_type == math.inf:
        return max((float(np.max(np.abs(g))) for g in grads if g.size), default=0.0)
    if norm_type == 2:
        return math.sqrt(sum(float(np.dot(g.ravel(), g.ravel())) for g in grads))
    return float(sum(float(np.sum(np.abs(g) ** norm_type)) for g in grads) ** (1 / norm_type))


def _scale(grads: list[Any], coefficient: float) -> None:
    """Multiply every gradient by ``min(coefficient, 1)`` (by NaN when it is NaN, as PyTorch)."""
    if not coefficient >= 1.0:
        for g in grads:
            g *= g.dtype.type(coefficient)


def _clip_norm(params: list[Parameter], max_norm: float) -> None:
    """:func:`clip_grad_norm` in the Euclidean norm, without the checks (they ran once)."""
    grads = [p.grad for p in params]
    _scale(grads, max_norm / (_global_norm(grads, 2) + 1e-6))
