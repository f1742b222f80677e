"""`DataLoader`: batches as strided, zero-copy views of the data (in memory or in a file)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import replace
from operator import is_
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from tinynet.data.mapped import (
    BatchReader,
    Mapped,
    check_cast_range,
    check_mapped,
    check_mapped_target,
    file_mapping,
)
from tinynet.engine.checks import as_float_array, check_choice, check_float_dtype, check_int
from tinynet.engine.sizes import check_size
from tinynet.engine.types import Array
from tinynet.layers.initializers import RngLike, as_generator

__all__ = ["DataLoader", "LAST_BATCH", "one_hot", "as_target"]

LAST_BATCH = ("keep", "drop", "fill")


Inputs = Any  # one array, a tuple of arrays, or a dict of arrays by input name


class DataLoader:
    """Iterate over ``(x_batch, y_batch)`` pairs, ``len(loader)`` per epoch.

    Shape: ``x (N, ...)``, ``y (N, ...)`` -> batches ``(b, ...)``, ``b <= batch_size``.
    For a model with several inputs (a :class:`tinynet.Graph`), ``x`` is a tuple
    of arrays or a dict of arrays by input name, each ``(N, ...)``; batches then
    come as a tuple or dict of the same rows.

    * ``batch_size=None``: the whole set is one batch (full-batch gradient
      descent); ``1`` is stochastic gradient descent.
    * ``last_batch``: what happens to the ``N % batch_size`` remainder rows:
      ``"keep"`` (a smaller last batch), ``"drop"`` (the article's behaviour)
      or ``"fill"`` (complete the last batch with random rows of the data set).
    * ``shuffle``: a fresh permutation per epoch from ``rng`` (a Generator or an
      int seed), applied by one gather per epoch. Without shuffling the
      batches are read-only strided views of the data: no copy at all.
    * ``dtype``: float dtype for ``x`` (default: keep float32/float64 and
      integers as they are: ``fit`` casts integers to the model's dtype unless
      its first layer takes integers, such as token ids). Targets keep their own
      dtype (labels stay integers).

    Inputs are validated once here (finite, same length, non-empty), never per batch.

    Arrays that live in a file (``np.load(path, mmap_mode="r")``, ``np.memmap``) are
    not copied: they are checked chunk by chunk, each batch is read (gathered, when
    shuffled) and cast on its own, and the file pages this maps into the process are
    released as they add up, so memory stays bounded whatever the file's size
    (``tinynet.data.mapped``; the memory model is in ``docs/scaling.md``). The batches
    are the ones the loader gives over the same data in memory, bit for bit.
    """

    def __init__(
        self,
        x: Inputs,
        y: Any,
        batch_size: int | None = 32,
        shuffle: bool = False,
        last_batch: str = "keep",
        rng: RngLike = None,
        dtype: DTypeLike | None = None,
    ) -> None:
        self._names, arrays = _unpack_inputs(x)
        # Arrays in a file mapping are read batch by batch (see _mapped_batches); `_mapped` stays
        # None for arrays in memory, so their batches take the zero-copy path with no extra step.
        self._mapped: list[Mapped | None] | None = None
        if any(file_mapping(a)[0] for a in [*arrays, y]):
            checked, self._mapped, self.y = _check_mapped_inputs(self._names, arrays, y, dtype)
        else:
            checked = [_checked_input(self._names, name, array, dtype)
                       for name, array in zip(self._names or ["x"], arrays)]
            self.y = as_target(y, "DataLoader y")
        for name, array in zip(self._names or ["x"], checked):
            if array.shape[0] != self.y.shape[0]:
                where = "x" if self._names is None else f"x[{name!r}]"
                raise ValueError(f"DataLoader: {where} and y must have the same number of rows, got "
                                 f"{where} with shape {array.shape} and y with shape {self.y.shape}")
        # Batches are views of these: read-only, so a layer cannot write into the user's data.
        self._arrays = [_read_only(a) for a in checked]
        self.y = _read_only(self.y)
        n = self.y.shape[0]
        if batch_size is None:
            batch_size = n
        self.batch_size = check_int(batch_size, "DataLoader batch_size", minimum=1)
        if not isinstance(shuffle, (bool, np.bool_)):
            raise TypeError(f"DataLoader shuffle must be True or False, got {shuffle!r}")
        self.shuffle = bool(shuffle)
        self.last_batch = check_choice(last_batch, "DataLoader last_batch", LAST_BATCH)
        if self.last_batch == "drop" and self.batch_size > n:
            raise ValueError(f"DataLoader: batch_size={self.batch_size} is larger than the "
                             f"{n} rows and last_batch='drop' would yield no batch; use a "
                             f"batch_size <= {n} or last_batch='keep'")
        if self.last_batch == "fill" and self.batch_size > n:
            raise ValueError(f"DataLoader: batch_size={self.batch_size} is larger than the "
                             f"{n} rows and last_batch='fill' would repeat rows to fill a batch of "
                             f"{self.batch_size}; use a batch_size <= {n} or last_batch='keep'")
        self.rng = as_generator(rng, "DataLoader rng")
        self._views: tuple[tuple[Any, ...], list[tuple[Inputs, Array]]] | None = None  # see __iter__

    @property
    def x(self) -> Inputs:
        """The inputs as given: one array, or a tuple or dict of arrays (read-only views)."""
        return _pack(self._names, self._arrays)

    @property
    def arrays(self) -> list[Array]:
        """Every input array, in order (one for a single input)."""
        return list(self._arrays)

    @property
    def n_samples(self) -> int:
        return int(self.y.shape[0])

    def __len__(self) -> int:
        full, rest = divmod(self.n_samples, self.batch_size)
        return full + (1 if rest and self.last_batch != "drop" else 0)

    def samples_per_epoch(self) -> int:
        """Rows seen per epoch: fewer than N with ``"drop"``, more with ``"fill"``."""
        full, rest = divmod(self.n_samples, self.batch_size)
        if self.last_batch == "drop":
            return full * self.batch_size
        if self.last_batch == "fill" and rest:
            return (full + 1) * self.batch_size
        return self.n_samples

    def __iter__(self) -> Iterator[tuple[Inputs, Array]]:
        if self._mapped is not None:
            return self._mapped_pairs()
        if self.shuffle or self.last_batch == "fill":
            return self._pairs()
        # Unshuffled batches are the same views every epoch: cut once, for as long as the
        # settings and arrays they were cut from stay the same objects.
        sources = (self.batch_size, self.last_batch, self.y, *self._arrays)
        cut = self._views
        if cut is None or len(cut[0]) != len(sources) or not all(map(is_, cut[0], sources)):
            cut = self._views = (sources, list(self._pairs()))
        return iter(cut[1])

    def _pairs(self) -> Iterator[tuple[Inputs, Array]]:
        if self._names is None:
            yield from self._batches(self._arrays[0])
            return
        names = self._names
        for *xs, yb in self._batches(*self._arrays):
            yield _pack(names, xs), yb

    def _batches(self, *xs: Array) -> Iterator[Any]:
        """``(*x_batches, y_batch)`` tuples over the arrays ``xs`` and ``y``."""
        y = self.y
        if self.shuffle:
            order = self.rng.permutation(self.n_samples)
            xs, y = tuple(x[order] for x in xs), y[order]
        full, rest = divmod(self.n_samples, self.batch_size)
        size = self.batch_size
        if len(xs) == 1:  # one input, the common case: no per-batch list
            x = xs[0]
            for start in range(0, full * size, size):  # basic slices: strided views, no copy
                yield x[start:start + size], y[start:start + size]
        else:
            for start in range(0, full * size, size):
                stop = start + size
                yield (*[x[start:stop] for x in xs], y[start:stop])
        if rest and self.last_batch == "keep":
            start = full * size
            yield (*[x[start:] for x in xs], y[start:])
        elif rest and self.last_batch == "fill":
            extra = self.rng.integers(0, self.n_samples, size - rest)
            start = full * size
            yield (*[np.concatenate([x[start:], whole[extra]]) for x, whole in zip(xs, self._arrays)],
                   np.concatenate([y[start:], self.y[extra]]))

    def _mapped_pairs(self) -> Iterator[tuple[Inputs, Array]]:
        names = self._names
        for *xs, yb in self._mapped_batches():
            yield (xs[0] if names is None else _pack(names, xs)), yb

    def _mapped_batches(self) -> Iterator[list[Array]]:
        """The batches of ``_batches`` (the same rows, bit for bit, for the same rng) read from
        arrays in a file mapping one batch at a time: a shuffled batch is gathered from its
        rows of the permutation, each batch is cast on its own, and the memory this takes
        stays bounded (:class:`tinynet.data.mapped.BatchReader`)."""
        assert self._mapped is not None
        sources = [*self._arrays, self.y]
        casts = [None if m is None else m.dtype for m in self._mapped] + [None]
        n, size = self.n_samples, self.batch_size
        full, rest = divmod(n, size)
        order = self.rng.permutation(n) if self.shuffle else None
        reader = BatchReader(sources)

        def batch(rows: slice | Array) -> list[Array]:
            out = reader.view(sources, rows) if isinstance(rows, slice) else reader.gather(sources, rows)
            return [b if dtype is None else b.astype(dtype) for b, dtype in zip(out, casts)]

        try:
            for start in range(0, full * size, size):
                yield batch(slice(start, start + size) if order is None else order[start:start + size])
            if rest and self.last_batch == "keep":
                yield batch(slice(full * size, n) if order is None else order[full * size:])
            elif rest and self.last_batch == "fill":
                tail = np.arange(full * size, n) if order is None else order[full * size:]
                extra = self.rng.integers(0, n, size - rest)
                yield batch(np.concatenate([tail, extra]))
        finally:
            reader.close()

    def __copy__(self) -> DataLoader:
        twin = object.__new__(type(self))
        twin.__dict__.update(self.__dict__, _views=None)
        return twin

    def __getstate__(self) -> dict[str, Any]:
        if self._mapped is not None:
            raise TypeError("a DataLoader over a file mapping (np.memmap) cannot be pickled: its data "
                            "would be copied; send the file's path and open it with "
                            "np.load(path, mmap_mode='r') where the loader is needed")
        return {**self.__dict__, "_views": None}  # views are re-cut, not pickled as copies

    def with_dtype(self, dtype: DTypeLike) -> DataLoader:
        """The same loader (same targets, settings and rng) over its float inputs cast to
        ``dtype`` once (integer inputs are cast too unless ``keep_integers``)."""
        return self.cast(dtype, keep_integers=False)

    def cast(self, dtype: DTypeLike, *, keep_integers: bool) -> DataLoader:
        """A twin loader whose inputs are cast to ``dtype`` once; integer inputs stay as
        they are with ``keep_integers`` (token ids for a layer that takes integers)."""
        dtype = check_float_dtype(dtype, "dtype")
        if self._mapped is not None:
            return self._mapped_cast(dtype, keep_integers)
        twin = copy.copy(self)
        names = [f"x[{name!r}]" for name in self._names] if self._names is not None else ["x"]
        twin._arrays = [a if a.dtype == dtype or (keep_integers and a.dtype.kind in "iu")
                        else _read_only(_cast_finite(a, dtype, name))
                        for a, name in zip(self._arrays, names)]
        return twin

    def _mapped_cast(self, dtype: np.dtype[Any], keep_integers: bool) -> DataLoader:
        """``cast`` for a loader over mapped arrays: they stay on disk and each batch is cast
        (in-memory inputs alongside them are cast once, as usual)."""
        assert self._mapped is not None
        twin = copy.copy(self)
        names = [f"x[{name!r}]" for name in self._names] if self._names is not None else ["x"]
        arrays, records = [], []
        for a, record, name in zip(self._arrays, self._mapped, names):
            keep = a.dtype == dtype or (keep_integers and a.dtype.kind in "iu")
            if record is None:
                a = a if keep else _read_only(_cast_finite(a, dtype, name))
            else:
                if not keep:
                    check_cast_range(a, record, dtype, name)
                record = replace(record, dtype=None if keep else dtype)
            arrays.append(a)
            records.append(record)
        twin._arrays, twin._mapped = arrays, records
        return twin

    def __repr__(self) -> str:
        inputs = "" if self._names is None else f"inputs={list(self._names)}, "
        return (f"DataLoader({inputs}n_samples={self.n_samples}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, last_batch={self.last_batch!r}, batches={len(self)})")


def _unpack_inputs(x: Inputs) -> tuple[list[str] | tuple[int, ...] | None, list[Any]]:
    """``(names, arrays)``: names ``None`` for one array, a tuple of positions for a
    tuple of arrays, a list of keys for a dict."""
    if isinstance(x, dict):
        if not x or not all(isinstance(k, str) for k in x):
            raise ValueError("DataLoader x as a dict needs at least one input, keyed by input name (str)")
        return list(x), list(x.values())
    if isinstance(x, tuple):
        if not x:
            raise ValueError("DataLoader x as a tuple needs at least one input array")
        return tuple(range(len(x))), list(x)
    return None, [x]


def _checked_input(names: list[str] | tuple[int, ...] | None, name: Any, array: Any,
                   dtype: DTypeLike | None) -> Array:
    """One input in memory, checked (finite numbers, non-empty) and cast to ``dtype`` if given."""
    where = "DataLoader x" if names is None else f"DataLoader x[{name!r}]"
    array = as_float_array(array, where, min_ndim=2 if names is None else 1, keep_integers=dtype is None)
    if dtype is not None:
        array = _cast_finite(array, check_float_dtype(dtype, "DataLoader dtype"),
                             where.removeprefix("DataLoader "))
    return array


def _check_mapped_inputs(names: list[str] | tuple[int, ...] | None, arrays: list[Any], y: Any,
                         dtype: DTypeLike | None) -> tuple[list[Array], list[Mapped | None], Array]:
    """Check the inputs and targets of a loader of which at least one array lives in a file
    mapping: mapped ones chunk by chunk, uncopied (``tinynet.data.mapped``), the others as usual."""
    target = None if dtype is None else check_float_dtype(dtype, "DataLoader dtype")
    checked: list[Array] = []
    records: list[Mapped | None] = []
    for name, array in zip(names or ["x"], arrays):
        mapped, pages = file_mapping(array)
        if mapped:
            where = "DataLoader x" if names is None else f"DataLoader x[{name!r}]"
            view, record = check_mapped(array, where, min_ndim=2 if names is None else 1,
                                        keep_integers=dtype is None, dtype=target, pages=pages)
            checked.append(view)
            records.append(record)
        else:
            checked.append(_checked_input(names, name, array, dtype))
            records.append(None)
    mapped, pages = file_mapping(y)
    if mapped and getattr(y, "dtype", None) is not None and y.dtype.kind == "f":
        labels = check_mapped_target(y, "DataLoader y", pages)
    else:
        labels = as_target(y, "DataLoader y")
    return checked, records, labels


def _pack(names: list[str] | tuple[int, ...] | None, arrays: list[Array]) -> Inputs:
    if names is None:
        return arrays[0]
    if isinstance(names, tuple):
        return tuple(arrays)
    return dict(zip(names, arrays))


def _cast_finite(array: Array, dtype: np.dtype[Any], name: str) -> Array:
    """``array`` in ``dtype``, checked finite after the cast: 1e39 is a float64 but inf in float32."""
    with np.errstate(over="ignore"):  # the overflow is reported below, in the data's terms
        cast = array.astype(dtype, copy=False)
    if cast is array or cast.dtype.kind != "f" or (np.isfinite(cast.min()) and np.isfinite(cast.max())):
        return cast
    where = tuple(int(i) for i in np.argwhere(~np.isfinite(cast))[0])
    raise ValueError(f"DataLoader {name} holds {float(array[where]):g} at index {where}, which is inf "
                     f"in {dtype}; scale the data or keep float64")


def _read_only(a: Array) -> Array:
    view = a.view()
    view.flags.writeable = False
    return view


def as_target(y: Any, name: str) -> Array:
    """Validate targets once: numbers (booleans become 0/1), finite, at least 1-D.

    Shape: ``(N,)`` labels or ``(N, ...)`` values, returned as an array.
    """
    try:
        target = np.asarray(y)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be array-like, got {type(y).__name__}") from err
    if target.ndim == 0:
        raise ValueError(f"{name} must have one row per sample, got a scalar {target!r}")
    if target.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers (encode string labels as integers first, "
                        f"e.g. with sklearn.preprocessing.LabelEncoder), got dtype {target.dtype}")
    if target.dtype.kind == "b":
        target = target.astype(np.int64)
    if target.dtype.kind == "f" and not np.isfinite(target).all():
        raise ValueError(f"{name} contains NaN or inf")
    return target


def one_hot(labels: Any, n_classes: int | None = None, dtype: DTypeLike = np.float64) -> Array:
    """Integer labels to one-hot rows in ``dtype`` (``C`` = ``n_classes`` or the largest label + 1).

    Shape: ``(N,) -> (N, C)``.
    """
    y = np.asarray(labels)
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise ValueError(f"one_hot labels must be a 1-D integer array, got dtype {y.dtype} "
                         f"and shape {y.shape}")
    if n_classes is None and y.size == 0:
        raise ValueError("one_hot of no labels needs n_classes to know the width")
    classes = int(y.max()) + 1 if n_classes is None else check_int(n_classes, "n_classes", minimum=1)
    if y.size and (y.min() < 0 or y.max() >= classes):
        raise ValueError(f"one_hot labels must be in [0, {classes}), got {y.min()}..{y.max()}")
    dtype = check_float_dtype(dtype)
    check_size((y.shape[0], classes), dtype, "one_hot")
    out = np.zeros((y.shape[0], classes), dtype=dtype)
    out[np.arange(y.shape[0]), y] = 1
    return out
