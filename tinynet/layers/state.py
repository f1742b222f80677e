"""A model's state: every array that defines it, copied out, put back, or loaded by name.

The state of a model is each parameter's ``data`` followed by every buffer
(non-trained arrays a layer lists in ``own_buffers()``, such as BatchNorm's
running statistics). Early stopping, the interrupt guard, the estimators'
stopping rule and ``gradcheck`` keep and restore it through :class:`Snapshot`;
``Layer.state_dict()`` and ``Layer.load_state_dict()`` (:func:`state_dict_of`,
:func:`load_state_dict_into`) exchange it by name with PyTorch and with your
own code. The names are the dotted ones of ``named_parameters()`` and
``named_buffers()`` (``"0.weight"``, ``"1.running_mean"``), which are PyTorch's.

This module reads a model through those methods only (any object that has
``named_parameters``/``named_buffers``/``named_layers`` as ``Layer`` defines
them), so ``tinynet.layers.base`` can build on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from tinynet.engine.checks import did_you_mean
from tinynet.engine.types import Array

__all__ = ["IncompatibleKeys", "Snapshot", "StateDictError", "load_state_dict_into", "named_state",
           "state_arrays", "state_dict_of"]


def _buffers(model: Any) -> list[tuple[str, Array]]:
    named = getattr(model, "named_buffers", None)
    return list(named()) if callable(named) else []


def state_arrays(model: Any) -> list[Array]:
    """The live arrays that define ``model``: parameters' ``data``, then buffers.

    Writing into them changes the model.
    """
    return [p.data for p in model.parameters()] + [array for _, array in _buffers(model)]


def named_state(model: Any) -> dict[str, Array]:
    """The live arrays of :func:`state_arrays` by dotted name, in PyTorch's order (layer
    by layer, each layer's parameters, then its buffers): ``{"0.weight": W, "0.bias": b,
    "1.weight": g, "1.bias": c, "1.running_mean": m, ...}``. A layer used at several places
    is listed once, under the name of its first place (as ``named_parameters()`` does)."""
    layers = {path: index for index, (path, _) in enumerate(model.named_layers())}
    entries = [(name, param.data, 0) for name, param in model.named_parameters()]
    entries += [(name, array, 1) for name, array in _buffers(model)]
    entries.sort(key=lambda entry: (layers.get(entry[0][:entry[0].rfind(".") + 1], len(layers)), entry[2]))
    return {name: array for name, array, _ in entries}


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


# -- state dicts ---------------------------------------------------------------------------------

def state_dict_of(model: Any) -> dict[str, Array]:
    """``model.state_dict()``: a copy of every parameter and buffer, by dotted name.

    The arrays are copies (a training step afterwards leaves them as they are;
    PyTorch's share memory with the model, whence its ``copy.deepcopy(model.state_dict())``).
    """
    return {name: array.copy() for name, array in named_state(model).items()}


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` returns, as PyTorch's ``_IncompatibleKeys``: the model's keys
    the state dict lacked and the state dict's keys the model has no place for (both empty
    after a ``strict=True`` load, which refuses either)."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys})"


class StateDictError(KeyError, ValueError):
    """A state dict that does not fit the model; nothing of it was loaded.

    It is a ``KeyError`` (keys missing or unexpected) and a ``ValueError`` (arrays of the
    wrong shape, not numbers, or not finite) at once, and its message lists every
    problem, one per line. The problems are also attributes: ``missing_keys``,
    ``unexpected_keys`` and ``bad_values`` (``{key: what is wrong}``).
    """

    def __init__(self, message: str, missing_keys: list[str], unexpected_keys: list[str],
                 bad_values: dict[str, str]) -> None:
        super().__init__(message)
        self.message = message
        self.missing_keys = missing_keys
        self.unexpected_keys = unexpected_keys
        self.bad_values = bad_values

    def __str__(self) -> str:  # KeyError would show the repr of the message, quotes and \n escapes
        return self.message


def load_state_dict_into(model: Any, state: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
    """``model.load_state_dict(state, strict)``: copy ``state``'s arrays into the model, by name.

    Every value is checked before anything is written: converted with ``np.asarray``
    (a PyTorch tensor is detached and moved to the CPU first, duck-typed: torch is
    never imported), of the model's shape for that key, numbers, and finite once cast
    to the model array's dtype. Then each is copied *into* the model's own array, so an
    optimizer that holds the parameters keeps training the loaded values. Any problem
    raises one :class:`StateDictError` naming them all, with the model untouched.

    ``strict=True`` refuses missing and unexpected keys; ``strict=False`` loads the keys
    both sides have and returns the others in :class:`IncompatibleKeys`. Keys a layer
    lists in ``ignored_state_keys`` (BatchNorm's ``num_batches_tracked``) are accepted
    and skipped.
    """
    if not isinstance(state, Mapping):
        raise TypeError(f"load_state_dict: state_dict must be a mapping of names to arrays "
                        f"(such as model.state_dict()), got {type(state).__name__}")
    if not isinstance(strict, (bool, np.bool_)):
        raise TypeError(f"load_state_dict: strict must be True or False, got {strict!r}")
    live = named_state(model)
    ignored = {path + key for path, layer in model.named_layers()
               for key in getattr(layer, "ignored_state_keys", ())}
    aliases = _later_names(model, live)
    missing = [name for name in live if name not in state]
    unexpected: list[Any] = [name for name in state
                             if name not in live and name not in ignored and name not in aliases]
    bad: dict[str, str] = {}
    ready: dict[str, Array] = {}
    for name, value in state.items():
        if name in live:
            array, problem = _checked_value(value, live[name])
            if problem:
                bad[name] = problem
            else:
                ready[name] = array
        elif name in ignored:
            array, problem = _numbers(value)
            if problem:
                bad[name] = problem
    for name, first in aliases.items():  # PyTorch lists a shared layer at each place
        if name in state and first in ready:
            array, problem = _checked_value(state[name], live[first])
            if problem or not np.array_equal(array, ready[first]):
                bad[name] = problem or (f"is the shared layer's {first!r} at a later place, "
                                        f"but holds other values")
    if bad or (strict and (missing or unexpected)):
        raise _error(model, live, missing if strict else [], unexpected if strict else [], bad)
    for name, array in ready.items():
        np.copyto(live[name], array)
    return IncompatibleKeys(missing, unexpected)


def _later_names(model: Any, live: Mapping[str, Array]) -> dict[str, str]:
    """The names the arrays of a layer used at several places have at its later places
    (``"2.weight"``), each with its name in ``live`` (``"0.weight"``); PyTorch's state
    dict lists them too."""
    first = {id(array): name for name, array in live.items()}
    later: dict[str, str] = {}

    def visit(layer: Any, path: str) -> None:
        own = [(n, p.data) for n, p in getattr(layer, "own_parameters", list)()]
        for name, array in own + list(getattr(layer, "own_buffers", list)()):
            if first.get(id(array), path + name) != path + name:
                later[path + name] = first[id(array)]
        for name, child in getattr(layer, "named_children", list)():
            visit(child, f"{path}{name}.")

    visit(model, "")
    return later


def _numbers(value: Any) -> tuple[Array, str]:
    """``value`` as a numeric array, or ``(empty, what is wrong)``."""
    if not isinstance(value, np.ndarray) and callable(getattr(value, "detach", None)):
        value = value.detach()  # a tensor that requires grad has no __array__ of its own
        if callable(getattr(value, "cpu", None)):
            value = value.cpu()
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, RuntimeError) as err:
        return np.empty(0), f"cannot be read as an array of numbers ({type(value).__name__}: {err})"
    if array.dtype.kind not in "iuf":
        kind = "booleans" if array.dtype.kind == "b" else f"dtype {array.dtype}"
        return array, f"holds {kind}, not numbers ({type(value).__name__})"
    return array, ""


def _checked_value(value: Any, target: Array) -> tuple[Array, str]:
    """``value`` cast to ``target``'s dtype and checked against its shape, or ``(_, problem)``."""
    array, problem = _numbers(value)
    if problem:
        return array, problem
    if array.shape != target.shape:
        return array, f"has shape {array.shape}, the model's is {target.shape}"
    with np.errstate(over="ignore", invalid="ignore"):
        cast = array.astype(target.dtype)  # a new array: nothing is written before every key passed
    finite = np.isfinite(cast)
    if not finite.all():
        count = cast.size - int(np.count_nonzero(finite))
        return cast, (f"has {count} value(s) that are NaN or infinite as {target.dtype} "
                      f"(a model with them can only output NaN)")
    return cast, ""


def _error(model: Any, live: Mapping[str, Array], missing: list[str], unexpected: list[Any],
           bad: dict[str, str]) -> StateDictError:
    """One error that lists every problem, as PyTorch's ``Error(s) in loading state_dict``."""
    lines = [f"load_state_dict: the state dict does not fit {type(model).__name__}; nothing was loaded"]
    if missing:
        lines.append(f"  missing keys ({len(missing)}): {', '.join(map(repr, missing))}")
    if unexpected:
        hints = [f"{name!r}{did_you_mean(name, missing or live)}" for name in unexpected]
        lines.append(f"  unexpected keys ({len(unexpected)}): {', '.join(hints)}")
    lines += [f"  {name!r} {problem}" for name, problem in bad.items()]
    if missing or unexpected:
        lines.append("  (strict=False loads the keys both have and returns the others)")
    return StateDictError("\n".join(lines), missing, unexpected, bad)
