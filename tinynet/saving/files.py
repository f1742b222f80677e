"""Save and load models: one ``.npz`` file, a JSON header, no pickle anywhere.

File layout (numpy's npz: a zip of ``.npy`` arrays)::

    __tinynet__       uint8 array: the UTF-8 JSON header
    param/<name>      each parameter by its dotted name, e.g. param/0.weight
    state/<name>      a layer's buffers (non-parameter state), e.g. state/1.running_mean
    array/<name>      other arrays of the saved object (an estimator's classes_)

The header holds the format version, the tinynet version, the dtype, the
architecture (each layer's class name and ``get_config()`` kwargs, child layers
nested), the name/shape/dtype of every array, and the caller's ``metadata``.

Loading is bounded by the file, whatever its bytes (:mod:`tinynet.saving.archive`):
the header is read first and checked (:mod:`tinynet.saving.header`: class names
against the layers ``tinynet`` exports, config keys, limits on layers, arrays and
sizes); an entry it does not list is refused without being decompressed; every
listed entry's shape, dtype and size are checked before its data is read; the
model is built under an allocation budget of the bytes the file lists, its
arrays compared with the file's, and only then filled. Anything wrong raises
``ValueError`` (``FileNotFoundError``, ``IsADirectoryError`` or
``PermissionError`` for the path itself).

Saving rebuilds the architecture from its description and compares every
parameter's and buffer's shape and dtype with the model's before it writes, then
writes a temporary file beside the target and renames it into place
(:mod:`tinynet.saving.atomic`), so the old file survives a failed save.

A layer's state that is not a ``Parameter`` (batch norm's running statistics) is
saved too: the arrays of its ``own_buffers() -> [(name, array), ...]``, loaded in
place (see ``Layer.named_buffers``).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
from collections.abc import Mapping
from importlib import metadata
from typing import Any

import numpy as np

from tinynet.engine.sizes import allocation_budget
from tinynet.engine.types import Array
from tinynet.layers.base import Layer, own_buffers_of
from tinynet.layers.initializers import weights_overwritten
from tinynet.layers.parameter import Parameter
from tinynet.saving.archive import Archive
from tinynet.saving.atomic import atomic_file
from tinynet.saving.header import ARRAY_KINDS, FORMAT_VERSION, array_bytes, decode_header, listed_arrays
from tinynet.saving.layer_configs import Plan, describe, instantiate, parse, registry

__all__ = ["save", "load", "load_with_metadata", "register_estimator", "ESTIMATORS", "FORMAT_VERSION"]

HEADER = "__tinynet__"
FACE = "tinynet.sklearn"  # the only package a file may make load import (to register its estimators)
Listed = dict[str, tuple[tuple[int, ...], str]]


def save(obj: Any, path: str | os.PathLike[str], *, metadata: Mapping[str, Any] | None = None) -> None:
    """Write ``obj`` (a tinynet layer/model, or a fitted tinynet estimator) to ``path``.

    ``metadata``: any JSON-serializable dict stored in the header (``load_with_metadata``
    returns it). The architecture is rebuilt from its description and its arrays'
    shapes compared with the model's first: a model ``load`` could not read back
    is refused. The file is written next to ``path`` under a temporary name and
    renamed into place: a failed save leaves the previous file intact. Saving onto
    a symlink replaces the file it points to.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: the folder {folder!r} for {path!r} does not exist")
    if os.path.isdir(path):
        raise IsADirectoryError(f"save: {path!r} is a folder; name the file to write, e.g. "
                                f"{os.path.join(path, 'model.npz')!r}")
    header: dict[str, Any] = {"format": "tinynet", "format_version": FORMAT_VERSION,
                              "tinynet_version": _tinynet_version()}
    arrays: dict[str, Array] = {}
    if isinstance(obj, Layer):
        header["kind"], model = "layer", obj
    elif callable(getattr(obj, "_tinynet_export", None)):
        exported = obj._tinynet_export()
        header["kind"], model = "estimator", exported["model"]
        header["estimator"] = {"class": type(obj).__name__, "module": type(obj).__module__,
                               "params": exported["params"],
                               "attributes": exported["attributes"]}
        arrays.update({f"array/{k}": _check_plain(v, k) for k, v in exported["arrays"].items()})
    else:
        raise TypeError(f"save: obj must be a tinynet Layer (e.g. a Sequential) or a fitted tinynet "
                        f"estimator, got {type(obj).__name__}")
    header["model"] = describe(model)
    params = dict(model.named_parameters())
    header["dtype"] = next(iter(params.values())).dtype.name if params else None
    arrays.update({f"param/{name}": p.data for name, p in params.items()})
    arrays.update({f"state/{name}": _check_plain(a, name) for name, a in _buffers(model).items()})
    if metadata is not None:
        header["metadata"] = dict(metadata)
    for prefix, key in ARRAY_KINDS.items():
        header[key] = {name.split("/", 1)[1]: {"shape": list(a.shape), "dtype": a.dtype.str}
                       for name, a in arrays.items() if name.startswith(prefix + "/")}
    # Refuse to write what load could not rebuild: a get_config() that misses an argument
    # shows as a config the constructor refuses, or as arrays of other shapes.
    described = json.loads(json.dumps(header["model"]))
    known = registry({type(layer) for _, layer in model.named_layers()})
    _build(parse(described, known, "save"), listed_arrays(header, "save"), "save")
    try:
        text = json.dumps(header, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValueError(f"save: the header is not JSON-serializable ({err}); metadata and "
                         f"estimator parameters must be plain numbers, strings, lists and dicts") from None
    arrays[HEADER] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    write: Any = np.savez  # (numpy's stub types **kwds as its allow_pickle flag)
    with atomic_file(path) as file:
        write(file, **arrays)


def load(path: str | os.PathLike[str], *, custom_layers: Mapping[str, type] | None = None) -> Any:
    """Rebuild the model (or estimator) saved at ``path``; see :func:`load_with_metadata`."""
    return load_with_metadata(path, custom_layers=custom_layers)[0]


def load_with_metadata(path: str | os.PathLike[str], *,
                       custom_layers: Mapping[str, type] | None = None) -> tuple[Any, dict[str, Any]]:
    """Load ``path`` and return ``(model_or_estimator, metadata)``.

    Only layer classes exported by ``tinynet`` (plus ``custom_layers``, a
    ``{"ClassName": class}`` dict for your own layers) can be built. Raises
    ``ValueError`` for a file that is not a complete tinynet npz, holds pickled
    objects or entries its header does not list, names an unknown layer or config
    key, exceeds the limits, or has arrays whose names, shapes or dtypes disagree
    with the header or the architecture; time and memory stay bounded by the
    file's size and the model it truly describes.
    """
    path = os.fspath(path)
    where = f"load {path!r}"
    known = registry(custom=custom_layers)
    with Archive(path, where) as archive:
        header, listed = decode_header(archive.read_header(HEADER), where)
        archive.check_entries(listed, HEADER)
        plan = parse(header["model"], known, where)
        estimator_cls = _estimator_class(header, where) if header["kind"] == "estimator" else None
        model, params, buffers = _build(plan, listed, where)
        for name, param in params.items():
            archive.read_into(f"param/{name}", param.data)  # shape and dtype checked equal
            param.zero_grad()
        for name, buffer in buffers.items():  # filled in place
            if buffer.flags.c_contiguous:
                archive.read_into(f"state/{name}", buffer)
            else:
                buffer[...] = archive.read_array(f"state/{name}")
        extra = {name.split("/", 1)[1]: archive.read_array(name) for name in listed
                 if name.startswith("array/")}
    metadata = header.get("metadata") or {}
    if estimator_cls is None:
        return model, metadata
    info = header["estimator"]
    return estimator_cls._tinynet_import(model, info["params"], info["attributes"], extra), metadata


def _build(plan: Plan, listed: Listed, where: str) -> tuple[Layer, dict[str, Parameter], dict[str, Array]]:
    """Build ``plan`` under an allocation budget of the listed arrays' bytes, then check
    that its parameters and buffers are exactly the listed ones, name for name; return
    the model, its parameters and its buffers by name."""
    nbytes = array_bytes(listed, ("param/", "state/"))
    # A layer's construction allocates its arrays about three times (drawn, copied, its
    # gradient); more than four times the listed bytes means a larger architecture.
    with allocation_budget(4 * nbytes + 2**20, f"the {nbytes:,} bytes of parameters and state "
                                                f"the file lists"), weights_overwritten():
        model = instantiate(plan)
    params, buffers = dict(model.named_parameters()), _buffers(model)
    _compare(params, buffers, listed, where)
    return model, params, buffers


def _compare(params: dict[str, Parameter], buffers: dict[str, Array], listed: Listed, where: str) -> None:
    """The built architecture's parameters and state must match the listed ones."""
    expected = {f"param/{n}": (p.data.shape, p.data.dtype.str) for n, p in params.items()}
    expected.update({f"state/{n}": (a.shape, a.dtype.str) for n, a in buffers.items()})
    found = {k: v for k, v in listed.items() if not k.startswith("array/")}
    hint = ("; does a layer's get_config() leave out a constructor argument?" if where == "save"
            else "")
    for name in sorted(set(expected) | set(found)):
        if name not in found:
            raise ValueError(f"{where}: the architecture has {name!r} but the file does not{hint}")
        if name not in expected:
            raise ValueError(f"{where}: the file has {name!r} but the architecture does not{hint}")
        if expected[name] != found[name]:
            (shape, dtype), (got_shape, got_dtype) = expected[name], found[name]
            if where == "save":
                raise ValueError(f"save: {name!r} has shape {got_shape} and dtype {np.dtype(got_dtype)}, "
                                 f"but the architecture rebuilt from get_config() gives shape {shape} and "
                                 f"dtype {np.dtype(dtype)}, so load could not read it back{hint}")
            raise ValueError(f"{where}: {name!r} must have shape {shape} and dtype {np.dtype(dtype)} for "
                             f"this architecture, the file has shape {got_shape}, dtype "
                             f"{np.dtype(got_dtype)}")


ESTIMATORS: dict[str, type] = {}
"""Estimator classes that ``load`` can rebuild, by class name; filled by ``register_estimator``."""


def register_estimator(cls: type) -> type:
    """Let ``save``/``load`` handle instances of ``cls`` (a face's estimator class).

    ``cls`` needs ``_tinynet_export()`` and the classmethod ``_tinynet_import(...)``;
    ``tinynet.sklearn`` registers its estimators when imported, so this package
    never imports a face. Returns ``cls`` (usable as a class decorator).
    """
    ESTIMATORS[cls.__name__] = cls
    return cls


def _estimator_class(header: dict[str, Any], where: str) -> Any:
    info = header["estimator"]
    name, module = info.get("class"), info.get("module", "tinynet.sklearn")
    if name not in ESTIMATORS and module in (FACE, *(m for m in [module] if m.startswith(FACE + "."))):
        with contextlib.suppress(ImportError):  # the face registers its classes when imported
            importlib.import_module(module)
    if name not in ESTIMATORS:
        raise ValueError(f"{where}: unknown estimator class {name!r}; known: {sorted(ESTIMATORS)}")
    return ESTIMATORS[name]


def _own_state(layer: Any) -> dict[str, Array]:
    """A layer's own buffers (its non-parameter arrays), by short name."""
    return {str(k): v for k, v in own_buffers_of(layer)}


def _buffers(model: Layer) -> dict[str, Array]:
    """Every layer's non-parameter state, by dotted name (``"1.running_mean"``)."""
    return {f"{prefix}{key}": value for prefix, layer in model.named_layers()
            for key, value in _own_state(layer).items()}


def _check_plain(array: Any, name: str) -> Array:
    a = np.asarray(array)
    if a.dtype.kind not in "biufU":
        raise ValueError(f"save: array {name!r} has dtype {a.dtype}; only numbers and strings can be "
                         f"saved without pickle")
    return a


def _tinynet_version() -> str:
    try:
        return metadata.version("tinynet")
    except metadata.PackageNotFoundError:
        return "0+unknown"

