"""The JSON architecture description used by :mod:`tinynet.saving.files`.

A layer is ``{"class": "Dense", "config": {...get_config() kwargs...}}``. Config
values are JSON scalars and lists, plus tagged objects for what JSON lacks:
``{"__layer__": <layer>}``, ``{"__tuple__": [...]}``, ``{"__dict__": {...}}``
and ``{"__float__": "nan" | "inf" | "-inf"}``.

Loading is two steps: :func:`parse` checks a description completely (known
class names, config keys against each constructor's signature, nesting) and
returns a :class:`Plan` without building anything; :func:`instantiate` then
calls the constructors. A config key that names a ``*args`` parameter (e.g.
``Sequential(*layers)``'s ``"layers"``) is passed positionally.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinynet.layers.base import Layer

__all__ = ["Plan", "describe", "parse", "instantiate", "registry"]

MAX_DEPTH = 64
_TAGS = ("__layer__", "__tuple__", "__dict__", "__float__")


@dataclass
class Plan:
    """A checked, not yet built layer: ``cls(*args, **kwargs)``."""

    cls: type
    where: str
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)


def registry(extra: Iterable[type] = (), custom: Mapping[str, type] | None = None) -> dict[str, type]:
    """Layer classes by name: tinynet's own, ``custom`` (``{"Name": cls}``), and ``extra`` classes."""
    from tinynet.registry import layer_classes

    known = layer_classes()
    for name, cls in (custom or {}).items():
        if not (isinstance(cls, type) and issubclass(cls, Layer)):
            raise TypeError(f"custom_layers[{name!r}] must be a Layer subclass, got {cls!r}")
        known[name] = cls
    for cls in extra:
        if known.setdefault(cls.__name__, cls) is not cls:
            raise ValueError(f"save: layer class {cls.__module__}.{cls.__qualname__} has the same name "
                             f"as tinynet's {cls.__name__}, so it could not be told apart on load; "
                             f"rename it")
    return known


def describe(layer: Any, where: str = "model", seen: set[int] | None = None) -> dict[str, Any]:
    """The JSON description of ``layer`` and, recursively, the layers in its config."""
    seen = set() if seen is None else seen
    if not isinstance(layer, Layer):
        raise TypeError(f"save: {where} is a {type(layer).__name__}, not a tinynet Layer subclass; "
                        f"only Layer subclasses can be described")
    if id(layer) in seen:
        raise ValueError(f"save: {where} ({type(layer).__name__}) appears twice in the model; "
                         f"a layer shared between places cannot be saved")
    seen.add(id(layer))
    name = type(layer).__name__
    config = layer.get_config()
    if not isinstance(config, dict):
        raise TypeError(f"save: {name}.get_config() must return a dict, got {type(config).__name__}")
    return {"class": name,
            "config": {k: _encode(v, f"{where} ({name}) config {k!r}", seen) for k, v in config.items()}}


def _encode(value: Any, where: str, seen: set[int]) -> Any:
    if isinstance(value, Layer):
        return {"__layer__": describe(value, where, seen)}
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return np.dtype(value).name
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, f"{where}[{i}]", seen) for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, f"{where}[{i}]", seen) for i, v in enumerate(value)]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: _encode(v, f"{where}[{k!r}]", seen) for k, v in value.items()}}
    raise ValueError(f"save: {where} = {value!r} ({type(value).__name__}) cannot be written as JSON; "
                     f"get_config() must return numbers, strings, lists, tuples, dicts and layers")


def parse(spec: Any, known: Mapping[str, type], where: str = "load", depth: int = 0) -> Plan:
    """Check a layer description completely and return its :class:`Plan`; raise ``ValueError``."""
    if depth > MAX_DEPTH:
        raise ValueError(f"{where}: layers nested more than {MAX_DEPTH} deep")
    if not isinstance(spec, dict) or set(spec) != {"class", "config"} or not isinstance(spec["config"], dict):
        raise ValueError(f"{where}: a layer description must be {{'class': ..., 'config': {{...}}}}, "
                         f"got {str(spec)[:80]}")
    name = spec["class"]
    cls = known.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"{where}: unknown layer class {name!r}; tinynet knows {sorted(known)} (for "
                         f"your own layer class pass load(..., custom_layers={{{name!r}: YourClass}}))")
    here = f"{where} ({name})"
    params = inspect.signature(cls).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    plan = Plan(cls, here)
    for key, raw in spec["config"].items():
        value = _decode(raw, known, f"{here} config {key!r}", depth + 1)
        param = params.get(key)
        if param is not None and param.kind is param.VAR_POSITIONAL:
            if not isinstance(value, (list, tuple)):
                raise ValueError(f"{here}: config {key!r} must be a list, got {type(value).__name__}")
            plan.args = list(value)
        elif param is not None and param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
            plan.kwargs[key] = value
        elif takes_any and param is None:
            plan.kwargs[key] = value
        else:
            raise ValueError(f"{here}: unknown config key {key!r}; {name} takes "
                             f"{[p for p in params if p != 'self']}")
    missing = [p.name for p in params.values() if p.default is p.empty and p.name not in plan.kwargs
               and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if missing:
        raise ValueError(f"{here}: config lacks the required argument(s) {missing}")
    return plan


def _decode(raw: Any, known: Mapping[str, type], where: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ValueError(f"{where}: values nested more than {MAX_DEPTH} deep")
    if raw is None or isinstance(raw, (bool, int, float, str)):
        return raw
    if isinstance(raw, list):
        return [_decode(v, known, f"{where}[{i}]", depth + 1) for i, v in enumerate(raw)]
    if isinstance(raw, dict) and len(raw) == 1 and next(iter(raw)) in _TAGS:
        tag, body = next(iter(raw.items()))
        if tag == "__layer__":
            return parse(body, known, where, depth + 1)
        if tag == "__tuple__" and isinstance(body, list):
            return tuple(_decode(v, known, f"{where}[{i}]", depth + 1) for i, v in enumerate(body))
        if tag == "__dict__" and isinstance(body, dict):
            return {k: _decode(v, known, f"{where}[{k!r}]", depth + 1) for k, v in body.items()}
        if tag == "__float__" and body in ("nan", "inf", "-inf"):
            return float(body)
    raise ValueError(f"{where}: cannot read the value {str(raw)[:80]}")


def instantiate(plan: Plan) -> Layer:
    """Build the layer a :class:`Plan` describes (children first)."""
    args = [_build_value(v) for v in plan.args]
    kwargs = {k: _build_value(v) for k, v in plan.kwargs.items()}
    try:
        layer = plan.cls(*args, **kwargs)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{plan.where}: could not be built from its saved config: {err}") from None
    if not isinstance(layer, Layer):
        raise ValueError(f"{plan.where}: building gave a {type(layer).__name__}, not a Layer")
    return layer


def _build_value(value: Any) -> Any:
    if isinstance(value, Plan):
        return instantiate(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_build_value(v) for v in value)
    if isinstance(value, dict):
        return {k: _build_value(v) for k, v in value.items()}
    return value
