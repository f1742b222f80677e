"""The JSON architecture description used by :mod:`tinynet.saving.files`.

A layer is ``{"class": "Dense", "config": {...get_config() kwargs...}}``. Config
values are JSON scalars and lists, plus tagged objects for what JSON lacks:
``{"__layer__": <layer>}``, ``{"__tuple__": [...]}``, ``{"__dict__": {...}}``
and ``{"__float__": "nan" | "inf" | "-inf"}``. A layer object used at several
places (tied weights) is described once, with ``"key": k``, and referred to as
``{"__same__": k}`` wherever it appears again, so it loads as one object.

Loading is two steps: :func:`parse` checks a description completely (known
class names, config keys against each constructor's signature, nesting) and
returns a :class:`Plan` without building anything; :func:`instantiate` then
calls the constructors. A config key that names a ``*args`` parameter (e.g.
``Sequential(*layers)``'s ``"layers"``) is passed positionally.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinynet.layers.base import Layer

__all__ = ["Plan", "describe", "parse", "instantiate", "registry"]

MAX_DEPTH = 64
_TAGS = ("__layer__", "__tuple__", "__dict__", "__float__", "__same__")
_SCALARS = (str, int, float, bool, type(None))


@dataclass
class Plan:
    """A checked, not yet built layer: ``cls(*args, **kwargs)``; ``key`` when it is shared."""

    cls: type
    where: str
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    key: int | None = None
    built: Layer | None = None
    building: bool = False


@dataclass
class SameAs:
    """A second place of the shared layer whose plan has ``key``."""

    key: int
    plans: dict[int, Plan]
    where: str


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


def describe(layer: Any, where: str = "model") -> dict[str, Any]:
    """The JSON description of ``layer`` and, recursively, the layers in its config."""
    shared = _shared_layers(layer)
    return _describe(layer, where, {id(obj): key for key, obj in enumerate(shared)}, set())


def _shared_layers(model: Any) -> list[Any]:
    """Layer objects that appear at more than one place in ``model``'s configs."""
    counts: dict[int, int] = {}
    objects: dict[int, Any] = {}

    def visit(value: Any) -> None:
        if isinstance(value, Layer):
            counts[id(value)] = counts.get(id(value), 0) + 1
            objects[id(value)] = value
            if counts[id(value)] == 1:
                config = value.get_config()
                if isinstance(config, dict):
                    for item in config.values():
                        visit(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item)
        elif isinstance(value, dict):
            for item in value.values():
                visit(item)

    visit(model)
    return [objects[i] for i, n in counts.items() if n > 1]


def _describe(layer: Any, where: str, keys: dict[int, int], done: set[int]) -> dict[str, Any]:
    if not isinstance(layer, Layer):
        raise TypeError(f"save: {where} is a {type(layer).__name__}, not a tinynet Layer subclass; "
                        f"only Layer subclasses can be described")
    name = type(layer).__name__
    config = layer.get_config()
    if not isinstance(config, dict):
        raise TypeError(f"save: {name}.get_config() must return a dict, got {type(config).__name__}")
    done.add(id(layer))
    described: dict[str, Any] = {"class": name, "config": {
        k: _encode(v, f"{where} ({name}) config {k!r}", keys, done) for k, v in config.items()}}
    if id(layer) in keys:
        described["key"] = keys[id(layer)]
    return described


def _encode(value: Any, where: str, keys: dict[int, int], seen: set[int]) -> Any:
    if isinstance(value, Layer):
        if id(value) in seen:  # a shared layer already described at its first place
            return {"__same__": keys[id(value)]}
        return {"__layer__": _describe(value, where, keys, seen)}
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return np.dtype(value).name
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, f"{where}[{i}]", keys, seen) for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, f"{where}[{i}]", keys, seen) for i, v in enumerate(value)]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: _encode(v, f"{where}[{k!r}]", keys, seen) for k, v in value.items()}}
    raise ValueError(f"save: {where} = {value!r} ({type(value).__name__}) cannot be written as JSON; "
                     f"get_config() must return numbers, strings, lists, tuples, dicts and layers")


def parse(description: Any, known: Mapping[str, type], where: str = "load", depth: int = 0,
          plans: dict[int, Plan] | None = None) -> Plan:
    """Check a layer description completely and return its :class:`Plan`; raise ``ValueError``."""
    plans = {} if plans is None else plans
    if depth > MAX_DEPTH:
        raise ValueError(f"{where}: layers nested more than {MAX_DEPTH} deep")
    if depth == 0:
        plan = parse(description, known, where, 1, plans)
        _check_references(plan, plans, where)
        return plan
    keys = set(description) if isinstance(description, dict) else set()
    if not {"class", "config"} <= keys <= {"class", "config", "key"} \
            or not isinstance(description["config"], dict):
        raise ValueError(f"{where}: a layer description must be {{'class': ..., 'config': {{...}}}}, "
                         f"got {str(description)[:80]}")
    name = description["class"]
    cls = known.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"{where}: unknown layer class {name!r}; tinynet knows {sorted(known)} (for "
                         f"your own layer class pass load(..., custom_layers={{{name!r}: YourClass}}))")
    here = f"{where} ({name})"
    params = _signature(cls)
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    plan = Plan(cls, here)
    if "key" in description:
        key = description["key"]
        if not isinstance(key, int) or isinstance(key, bool) or key in plans:
            raise ValueError(f"{here}: 'key' must be an integer used once, got {key!r}")
        plan.key = key
        plans[plan.key] = plan
    for key, raw in description["config"].items():
        value = _decode(raw, known, f"{here} config {key!r}", depth + 1, plans)
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


@functools.lru_cache(maxsize=1024)
def _signature(cls: type) -> Mapping[str, inspect.Parameter]:
    """The constructor's parameters (looked up once per class: a model has many layers of few classes)."""
    return inspect.signature(cls).parameters


def _decode(raw: Any, known: Mapping[str, type], where: str, depth: int, plans: dict[int, Plan]) -> Any:
    if depth > MAX_DEPTH:
        raise ValueError(f"{where}: values nested more than {MAX_DEPTH} deep")
    if raw is None or isinstance(raw, (bool, int, float, str)):
        return raw
    if isinstance(raw, list):  # (scalars pass straight through: a graph's lists are mostly names)
        return [v if type(v) in _SCALARS else _decode(v, known, f"{where}[{i}]", depth + 1, plans)
                for i, v in enumerate(raw)]
    if isinstance(raw, dict) and len(raw) == 1 and next(iter(raw)) in _TAGS:
        tag, body = next(iter(raw.items()))
        if tag == "__layer__":
            return parse(body, known, where, depth + 1, plans)
        if tag == "__same__" and isinstance(body, int) and not isinstance(body, bool):
            return SameAs(body, plans, where)
        if tag == "__tuple__" and isinstance(body, list):
            return tuple(_decode(v, known, f"{where}[{i}]", depth + 1, plans) for i, v in enumerate(body))
        if tag == "__dict__" and isinstance(body, dict):
            return {k: _decode(v, known, f"{where}[{k!r}]", depth + 1, plans) for k, v in body.items()}
        if tag == "__float__" and body in ("nan", "inf", "-inf"):
            return float(body)
    raise ValueError(f"{where}: cannot read the value {str(raw)[:80]}")


def _check_references(value: Any, plans: dict[int, Plan], where: str) -> None:
    """Every ``{"__same__": k}`` names a layer described with ``"key": k``."""
    if isinstance(value, SameAs):
        if value.key not in plans:
            raise ValueError(f"{value.where}: refers to shared layer {value.key}, which the file "
                             f"does not describe")
    elif isinstance(value, Plan):
        for item in [*value.args, *value.kwargs.values()]:
            _check_references(item, plans, where)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_references(item, plans, where)
    elif isinstance(value, dict):
        for item in value.values():
            _check_references(item, plans, where)


def instantiate(plan: Plan) -> Layer:
    """Build the layer a :class:`Plan` describes (children first; a shared layer once)."""
    if plan.built is not None:
        return plan.built
    if plan.building:
        raise ValueError(f"{plan.where}: a shared layer cannot contain itself")
    plan.building = True
    args = [_build_value(v) for v in plan.args]
    kwargs = {k: _build_value(v) for k, v in plan.kwargs.items()}
    try:
        layer = plan.cls(*args, **kwargs)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{plan.where}: could not be built from its saved config: {err}") from None
    except Exception as err:  # noqa: BLE001 - a constructor fed a hostile config may fail in any way
        raise ValueError(f"{plan.where}: could not be built from its saved config "
                         f"({type(err).__name__}: {err})") from None
    if not isinstance(layer, Layer):
        raise ValueError(f"{plan.where}: building gave a {type(layer).__name__}, not a Layer")
    plan.built = layer
    return layer


def _build_value(value: Any) -> Any:
    if isinstance(value, SameAs):
        return instantiate(value.plans[value.key])
    if isinstance(value, Plan):
        return instantiate(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_build_value(v) for v in value)
    if isinstance(value, dict):
        return {k: _build_value(v) for k, v in value.items()}
    return value
