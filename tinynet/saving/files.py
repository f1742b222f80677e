"""Save and load models: one ``.npz`` file, a JSON header, no pickle anywhere.

File layout (numpy's npz: a zip of ``.npy`` arrays)::

    __tinynet__       uint8 array: the UTF-8 JSON header
    param/<name>      each parameter by its dotted name, e.g. param/0.weight
    state/<name>      a layer's buffers (non-parameter state), e.g. state/1.running_mean
    array/<name>      other arrays of the saved object (an estimator's classes_)

The header holds the format version, the tinynet version, the dtype, the
architecture (each layer's class name and ``get_config()`` kwargs, child layers
nested), the name/shape/dtype of every array, and the caller's ``metadata``.

Loading reads the arrays with ``allow_pickle=False``, then validates the
header, every class name (against the layers ``tinynet`` exports), every
config key and every array's name, shape and dtype before it sets any weight;
anything wrong raises ``ValueError``. Saving writes a temporary file in the
target's directory and renames it into place, so the old file survives a failed save.

A layer's state that is not a ``Parameter`` (batch norm's running statistics) is
saved too: the arrays of its ``own_buffers() -> [(name, array), ...]``, loaded in
place (see ``Layer.named_buffers``).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import tempfile
import zipfile
from collections.abc import Mapping
from importlib import metadata
from typing import Any

import numpy as np

from tinynet.engine.types import Array
from tinynet.layers.base import Layer, own_buffers_of
from tinynet.saving.layer_configs import describe, instantiate, parse, registry

__all__ = ["save", "load", "load_with_metadata", "register_estimator", "ESTIMATORS", "FORMAT_VERSION"]

FORMAT_VERSION = 1
HEADER = "__tinynet__"
ARRAY_KINDS = {"param": "parameters", "state": "state", "array": "arrays"}


def save(obj: Any, path: str | os.PathLike[str], *, metadata: Mapping[str, Any] | None = None) -> None:
    """Write ``obj`` (a tinynet layer/model, or a fitted tinynet estimator) to ``path``.

    ``metadata``: any JSON-serializable dict stored in the header (``load_with_metadata``
    returns it). The file is written next to ``path`` under a temporary name and
    renamed into place: a failed save leaves the previous file intact.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: the folder {folder!r} for {path!r} does not exist")
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
    # Refuse to write what load could not rebuild (e.g. a get_config that misses an argument).
    instantiate(parse(json.loads(json.dumps(header["model"])),
                      registry({type(layer) for _, layer in model.named_layers()}), "save"))
    params = dict(model.named_parameters())
    header["dtype"] = next(iter(params.values())).dtype.name if params else None
    arrays.update({f"param/{name}": p.data for name, p in params.items()})
    arrays.update({f"state/{name}": _check_plain(a, name) for name, a in _buffers(model).items()})
    if metadata is not None:
        header["metadata"] = dict(metadata)
    for prefix, key in ARRAY_KINDS.items():
        header[key] = {name.split("/", 1)[1]: {"shape": list(a.shape), "dtype": a.dtype.str}
                       for name, a in arrays.items() if name.startswith(prefix + "/")}
    try:
        text = json.dumps(header, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValueError(f"save: the header is not JSON-serializable ({err}); metadata and "
                         f"estimator parameters must be plain numbers, strings, lists and dicts") from None
    arrays[HEADER] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    _atomic_savez(path, arrays)


def load(path: str | os.PathLike[str], *, custom_layers: Mapping[str, type] | None = None) -> Any:
    """Rebuild the model (or estimator) saved at ``path``; see :func:`load_with_metadata`."""
    return load_with_metadata(path, custom_layers=custom_layers)[0]


def load_with_metadata(path: str | os.PathLike[str], *,
                       custom_layers: Mapping[str, type] | None = None) -> tuple[Any, dict[str, Any]]:
    """Load ``path`` and return ``(model_or_estimator, metadata)``.

    Only layer classes exported by ``tinynet`` (plus ``custom_layers``, a
    ``{"ClassName": class}`` dict for your own layers) can be built. Raises
    ``ValueError`` for a file that is not a complete tinynet npz, holds pickled
    objects, names an unknown layer or config key, or has arrays whose names,
    shapes or dtypes disagree with the header or the architecture.
    """
    path = os.fspath(path)
    header, arrays = _read(path)
    where = f"load {path!r}"
    plan = parse(header["model"], registry(custom=custom_layers), where)
    estimator_cls = _estimator_class(header, where) if header["kind"] == "estimator" else None
    model = instantiate(plan)
    _check_against_model(model, header, arrays, where)
    for name, param in model.named_parameters():
        param.data[...] = arrays[f"param/{name}"]  # shape and dtype checked equal above
        param.grad = np.zeros_like(param.data)
    for name, buffer in _buffers(model).items():  # filled in place
        buffer[...] = arrays[f"state/{name}"]
    metadata = header.get("metadata") or {}
    if estimator_cls is None:
        return model, metadata
    extra = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("array/")}
    info = header["estimator"]
    return estimator_cls._tinynet_import(model, info["params"], info["attributes"], extra), metadata


def _read(path: str) -> tuple[dict[str, Any], dict[str, Array]]:
    """Every array of the file (no pickle) and the checked header."""
    with open(path, "rb") as file:
        if file.read(4) != b"PK\x03\x04":
            raise ValueError(f"load {path!r}: not a tinynet model file (expected an .npz zip archive)")
    arrays: dict[str, Array] = {}
    try:
        with np.load(path, allow_pickle=False) as npz:
            for name in npz.files:
                arrays[name] = npz[name]
    except ValueError as err:
        if "pickle" in str(err) or "Object arrays" in str(err):
            raise ValueError(f"load {path!r}: the file holds a pickled object array; tinynet "
                             f"files never do, and it was not loaded") from None
        raise ValueError(f"load {path!r}: the file is damaged or truncated ({err})") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as err:
        raise ValueError(f"load {path!r}: the file is damaged or truncated ({err})") from None
    raw = arrays.pop(HEADER, None)
    if raw is None or raw.dtype != np.uint8 or raw.ndim != 1:
        raise ValueError(f"load {path!r}: no tinynet header in the file; was it written by tinynet.save?")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise ValueError(f"load {path!r}: the header is not valid JSON ({err})") from None
    _check_header(header, arrays, f"load {path!r}")
    return header, arrays


def _check_header(header: Any, arrays: dict[str, Array], where: str) -> None:
    if not isinstance(header, dict) or header.get("format") != "tinynet":
        raise ValueError(f"{where}: not a tinynet model file (header format is not 'tinynet')")
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= FORMAT_VERSION:
        raise ValueError(f"{where}: format_version {version!r} is not supported; this tinynet reads "
                         f"format 1..{FORMAT_VERSION} (a newer tinynet wrote the file?)")
    if header.get("kind") not in ("layer", "estimator"):
        raise ValueError(f"{where}: header kind must be 'layer' or 'estimator', got {header.get('kind')!r}")
    if not isinstance(header.get("model"), dict):
        raise ValueError(f"{where}: the header has no model description ('model' is "
                         f"{'missing' if 'model' not in header else 'not a JSON object'})")
    if header["kind"] == "estimator":
        info = header.get("estimator")
        if not (isinstance(info, dict) and isinstance(info.get("params"), dict)
                and isinstance(info.get("attributes"), dict)):
            raise ValueError(f"{where}: the estimator description is malformed")
    if not isinstance(header.get("metadata", {}), dict):
        raise ValueError(f"{where}: header metadata must be a JSON object")
    listed: set[str] = set()
    for prefix, key in ARRAY_KINDS.items():
        table = header.get(key, {})
        if not isinstance(table, dict):
            raise ValueError(f"{where}: header {key!r} must be a JSON object")
        for name, info in table.items():
            listed.add(f"{prefix}/{name}")
            array = arrays.get(f"{prefix}/{name}")
            if array is None:
                raise ValueError(f"{where}: {key} entry {name!r} is listed but missing from the file")
            if not isinstance(info, dict) or info.get("shape") != list(array.shape) \
                    or info.get("dtype") != array.dtype.str:
                raise ValueError(f"{where}: array {name!r} has shape {array.shape} and dtype "
                                 f"{array.dtype}, but the header says {info!r}")
            if array.dtype.kind not in "biufU" or (prefix != "array" and array.dtype.kind != "f"):
                raise ValueError(f"{where}: array {name!r} has dtype {array.dtype}; expected floats")
    unexpected = sorted(set(arrays) - listed)
    if unexpected:
        raise ValueError(f"{where}: unexpected entries in the file: {unexpected[:5]}")


def _check_against_model(model: Layer, header: dict[str, Any], arrays: dict[str, Array],
                         where: str) -> None:
    """The rebuilt architecture's parameters and state must match the file's, name for name."""
    expected = {f"param/{n}": (p.shape, p.dtype) for n, p in model.named_parameters()}
    expected.update({f"state/{n}": (a.shape, a.dtype) for n, a in _buffers(model).items()})
    found = {k: (v.shape, v.dtype) for k, v in arrays.items() if not k.startswith("array/")}
    for name in sorted(set(expected) | set(found)):
        if name not in found:
            raise ValueError(f"{where}: the architecture has {name!r} but the file does not")
        if name not in expected:
            raise ValueError(f"{where}: the file has {name!r} but the architecture does not")
        if expected[name] != found[name]:
            (shape, dtype), (got_shape, got_dtype) = expected[name], found[name]
            raise ValueError(f"{where}: {name!r} must have shape {shape} and dtype {dtype} for "
                             f"this architecture, the file has shape {got_shape}, dtype {got_dtype}")


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
    if name not in ESTIMATORS and isinstance(module, str) and module.startswith("tinynet."):
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


def _atomic_savez(path: str, arrays: dict[str, Array]) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        write: Any = np.savez  # (numpy's stub types **kwds as its allow_pickle flag)
        with os.fdopen(fd, "wb") as file:
            write(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _file_mode(path: str) -> int:
    """Keep an existing file's permissions; a new file gets the usual ``0o666 & ~umask``."""
    with contextlib.suppress(OSError):
        return os.stat(path).st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _tinynet_version() -> str:
    try:
        return metadata.version("tinynet")
    except metadata.PackageNotFoundError:
        return "0+unknown"

