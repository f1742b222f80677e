"""Arrays on disk (``np.memmap``, ``np.load(..., mmap_mode="r")``) read without a whole-array copy.

The `DataLoader` keeps such an array as it is and reads it a piece at a time:
the checks run over chunks of at most :data:`CHUNK_BYTES`, batches are gathered
(and cast) one at a time, and the pages those reads mapped into the process are
handed back to the operating system (``madvise(MADV_DONTNEED)``) once about
:data:`CHUNK_BYTES` of them may have been mapped. The file stays in the page
cache, which the kernel shrinks as it needs; it is the process's own resident
set (RSS) that stays bounded. The memory model is written down in
``docs/scaling.md``.
"""

from __future__ import annotations

import mmap
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinynet.engine.checks import FLOAT_DTYPES, check_finite
from tinynet.engine.types import Array

__all__ = ["CHUNK_BYTES", "Mapped", "BatchReader", "file_mapping", "file_rows", "check_mapped",
           "check_mapped_target", "check_cast_range"]

CHUNK_BYTES = 64 * 2**20
"""At most this many bytes of a mapped array are read per step of a check, and about this many
may stay mapped in the process between two releases of its pages."""

FAULT_AROUND = 64 * 2**10
"""Linux maps up to 64 KiB around each page fault (``fault_around_bytes``): one row gathered from
the file may map that much, however small the row."""

_RELEASE = getattr(mmap, "MADV_DONTNEED", None)  # absent on Windows: pages are then not released


@dataclass(frozen=True)
class Mapped:
    """What the loader knows of one array that lives in a file mapping.

    ``pages`` is the mapping to release after reads (``None`` when it must not be:
    copy-on-write mode ``"c"`` keeps the user's changes in those pages, or the
    platform has no ``MADV_DONTNEED``); ``low``/``high`` the range of its values
    (floats; ``0, 0`` otherwise); ``dtype`` what each batch is cast to (``None``:
    batches keep the file's dtype).
    """

    pages: mmap.mmap | None
    low: float
    high: float
    dtype: np.dtype[Any] | None


def file_mapping(array: Any) -> tuple[bool, mmap.mmap | None]:
    """``(mapped, pages)``: whether ``array`` (or the array it views) lives in a file
    mapping, and the mapping whose pages may be released after reading it."""
    copy_on_write = False
    base = array
    while base is not None:
        if isinstance(base, np.memmap) and getattr(base, "mode", None) == "c":
            copy_on_write = True
        if isinstance(base, mmap.mmap):
            return True, None if copy_on_write or _RELEASE is None else base
        base = getattr(base, "base", None)
    return False, None


def _chunk_rows(array: Array) -> int:
    """Rows per chunk: at most :data:`CHUNK_BYTES`, at least one row."""
    return max(1, CHUNK_BYTES // max(1, array[:1].nbytes))


def check_mapped(array: Any, name: str, *, min_ndim: int, keep_integers: bool,
                 dtype: np.dtype[Any] | None, pages: mmap.mmap | None) -> tuple[Array, Mapped]:
    """Check a mapped input as ``as_float_array`` checks one in memory, chunk by chunk.

    Returns a read-only, uncopied ``ndarray`` view of it and its :class:`Mapped`
    record. ``dtype`` is the loader's ``dtype`` argument (``None``: floats keep
    float32/float64, integers stay integers with ``keep_integers``, anything else
    becomes float64), applied per batch.
    """
    view = np.asarray(array).view(np.ndarray)
    kind = view.dtype.kind
    if kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got an array of dtype {view.dtype}")
    if view.ndim < min_ndim:
        raise ValueError(f"{name} must be at least {min_ndim}-D, got shape {view.shape}")
    if view.size == 0:
        raise ValueError(f"{name} is empty (shape {view.shape}); it needs at least one row")
    target = dtype
    if target is None and not (kind in "iu" and keep_integers) and view.dtype not in FLOAT_DTYPES:
        target = np.dtype(np.float64)  # bool, integers, float16: as as_float_array would
    low, high = _value_range(view, name, pages) if kind == "f" else (0.0, 0.0)
    record = Mapped(pages, low, high, None if target == view.dtype else target)
    if record.dtype is not None:
        check_cast_range(view, record, record.dtype, name.removeprefix("DataLoader "))
    view.flags.writeable = False
    return view, record


def check_mapped_target(y: Any, name: str, pages: mmap.mmap | None) -> Array:
    """Mapped float targets checked finite chunk by chunk (other targets go through ``as_target``)."""
    view = np.asarray(y).view(np.ndarray)
    if view.ndim == 0:
        raise ValueError(f"{name} must have one row per sample, got a scalar {view!r}")
    _value_range(view, name, pages)
    view.flags.writeable = False
    return view


def _value_range(view: Array, name: str, pages: mmap.mmap | None) -> tuple[float, float]:
    """``(min, max)`` of a float array read chunk by chunk; ``ValueError`` at the first NaN or inf."""
    low, high = np.inf, -np.inf
    step = _chunk_rows(view)
    for start in range(0, view.shape[0], step):
        chunk = view[start:start + step]
        lo, hi = chunk.min(), chunk.max()  # NaN propagates, inf shows: no chunk-sized temporary
        if not (np.isfinite(lo) and np.isfinite(hi)):
            try:
                check_finite(chunk, name)
            except ValueError as err:  # say where in the whole array, not in the chunk
                at = np.argwhere(~np.isfinite(chunk))[0]
                where = (int(at[0]) + start, *(int(i) for i in at[1:]))
                raise ValueError(f"{name} contains NaN or inf (first at index {where})") from err
        low, high = min(low, float(lo)), max(high, float(hi))
        release(pages)
    return low, high


def check_cast_range(view: Array, record: Mapped, dtype: np.dtype[Any], name: str) -> None:
    """``ValueError`` if a value of ``view`` (range in ``record``) is inf once cast to ``dtype``:
    found from the range, without reading the file again unless there is one to report."""
    if dtype.kind != "f" or view.dtype.kind != "f":
        return
    largest = float(np.finfo(dtype).max)
    if -largest <= record.low and record.high <= largest:
        return
    step = _chunk_rows(view)
    for start in range(0, view.shape[0], step):
        chunk = view[start:start + step]
        beyond = np.argwhere(np.abs(chunk) > largest)
        release(record.pages)
        if len(beyond):
            where = (int(beyond[0][0]) + start, *(int(i) for i in beyond[0][1:]))
            raise ValueError(f"DataLoader {name} holds {float(view[where]):g} at index {where}, which "
                             f"is inf in {dtype}; scale the data or keep float64")


def release(pages: mmap.mmap | None) -> None:
    """Unmap the pages read so far from the process (the data stays in the file and the page
    cache; a later read maps it again)."""
    if pages is not None and _RELEASE is not None:
        pages.madvise(_RELEASE)


def file_rows(array: Array) -> tuple[str, int, int] | None:
    """``(path, offset of row 0, bytes from one row to the next)`` when each row of ``array`` is
    one run of bytes in a named file that may be read directly (``np.memmap``/``np.load`` in
    mode ``"r"``, ``"r+"`` or ``"w+"``, rows C-contiguous); ``None`` otherwise."""
    root: Any = array
    while root is not None and not isinstance(getattr(root, "base", None), mmap.mmap):
        root = getattr(root, "base", None)
    if (not isinstance(root, np.memmap) or root.mode == "c" or not root.filename
            or not hasattr(os, "preadv") or array.ndim == 0 or not array[:1].flags.c_contiguous):
        return None
    start = root.offset + array.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return str(root.filename), int(start), int(array.strides[0])


class BatchReader:
    """Read batches of rows from the loader's arrays, the ones in files without a copy of the file
    and within a memory budget; opened for one epoch, then :meth:`close`.

    * Rows gathered from a named file (``file_rows``) are read with one ``preadv`` each into
      the batch: nothing of the file is mapped into the process at all.
    * Otherwise a mapped array is read through its mapping, which maps pages into the
      process: how much depends on the kernel and on how the file was written (64 KiB of
      fault-around, or a whole large folio of up to 2 MiB, for one row of 256 bytes). On
      Linux those pages are counted (``/proc/self/statm``, about 15 µs a read) after each
      slice, and after each group of gathered rows (a group sized from what one row has
      mapped so far, to map about a quarter of the budget); once :data:`CHUNK_BYTES` have
      been mapped since the last release, the mappings are released. Elsewhere the count is
      an estimate: each gathered row maps :data:`FAULT_AROUND` bytes more than its own.
    """

    def __init__(self, arrays: list[Array]) -> None:
        mappings = [file_mapping(a)[1] for a in arrays]
        self.pages = [m for i, m in enumerate(mappings) if m is not None and m not in mappings[:i]]
        self.row_bytes = sum(a[:1].nbytes for a, m in zip(arrays, mappings) if m is not None)
        self._mapped = [m is not None for m in mappings]
        self._files: list[tuple[int, int, int] | None] = []  # (descriptor, offset, stride)
        for array, pages in zip(arrays, mappings):
            where = file_rows(array) if pages is not None else None
            self._files.append(None if where is None else _open_rows(array, *where))
        self._statm = _open_statm() if self.pages else None
        self._since = self._last = self._file_bytes()
        self._estimate = 0  # bytes mapped since the last release, where they cannot be counted
        self._per_row = 0.0  # pages one gathered row has mapped, recent peak
        self.group = 16  # rows gathered per step until that is known

    def view(self, arrays: list[Array], rows: slice) -> list[Array]:
        """``[a[rows] for a in arrays]``: a contiguous slice, uncopied."""
        out = [a[rows] for a in arrays]
        self._count(len(out[-1]), gathered=False)
        return out

    def gather(self, arrays: list[Array], rows: Array) -> list[Array]:
        """``[a[rows] for a in arrays]`` (copies)."""
        out = []
        for array, mapped, file in zip(arrays, self._mapped, self._files):
            if file is not None:
                out.append(_read_rows(array, rows, *file))
            elif mapped:
                out.append(self._take(array, rows))
            else:
                out.append(array[rows])
        return out

    def _take(self, array: Array, rows: Array) -> Array:
        """``array[rows]`` through its mapping, ``group`` rows at a time, pages counted between."""
        if self._statm is None or len(rows) <= self.group:
            out = array[rows]
            self._count(len(rows), gathered=True)
            return out
        out = np.empty((len(rows), *array.shape[1:]), array.dtype)
        start = 0
        while start < len(rows):
            part = rows[start:start + self.group]
            out[start:start + len(part)] = array[part]  # (np.take with out= is far slower here)
            start += len(part)
            self._count(len(part), gathered=True)
        return out

    def _count(self, rows: int, gathered: bool) -> None:
        """After reading ``rows`` rows: count the pages mapped, release them past the budget."""
        if not self.pages:
            return
        if self._statm is not None:
            now = self._file_bytes()
            if gathered:  # follow the peaks, forget them slowly
                self._per_row = max((now - self._last) / rows, 0.9 * self._per_row)
                self.group = int(max(1, min(4096, CHUNK_BYTES / 4 / max(self._per_row, 1.0))))
            self._last = now
            mapped = now - self._since
        else:
            self._estimate += rows * (self.row_bytes + FAULT_AROUND) if gathered else (
                rows * self.row_bytes + 2 * FAULT_AROUND)
            mapped = self._estimate
        if mapped >= CHUNK_BYTES:
            for pages in self.pages:
                release(pages)
            self._estimate = 0
            self._since = self._last = self._file_bytes()

    def _file_bytes(self) -> int:
        """Bytes of file-backed (and shared) pages resident in this process, from ``statm``."""
        if self._statm is None:
            return 0
        return int(os.pread(self._statm, 128, 0).split()[2]) * _PAGE_BYTES

    def close(self) -> None:
        """Close the descriptors this reader opened (also done when it is collected)."""
        descriptors = [f[0] for f in getattr(self, "_files", []) if f is not None]
        if getattr(self, "_statm", None) is not None:
            descriptors.append(self._statm)
        self._files, self._statm = [], None
        for descriptor in descriptors:
            os.close(descriptor)

    __del__ = close


def _open_rows(array: Array, path: str, offset: int, stride: int) -> tuple[int, int, int] | None:
    """``(descriptor, offset, stride)`` for reading rows of ``array`` from ``path``, if ``path``
    still names the file that is mapped (not one written over it since, nor gone): ``None``
    otherwise, and the rows are read through the mapping."""
    inode = _mapped_inode(array.__array_interface__["data"][0])
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    if inode is None or os.fstat(descriptor).st_ino != inode:
        os.close(descriptor)
        return None
    return descriptor, offset, stride


def _mapped_inode(address: int) -> int | None:
    """The inode of the file mapped at ``address`` in this process, from ``/proc/self/maps``."""
    try:
        with open("/proc/self/maps", encoding="ascii", errors="replace") as maps:
            for line in maps:
                fields = line.split()
                low, high = (int(bound, 16) for bound in fields[0].split("-"))
                if low <= address < high:
                    return int(fields[4]) or None
    except (OSError, ValueError, IndexError):
        return None
    return None


def _read_rows(array: Array, rows: Array, descriptor: int, offset: int, stride: int) -> Array:
    """``array[rows]`` read from its file with one ``preadv`` per row, straight into the batch."""
    out = np.empty((len(rows), *array.shape[1:]), array.dtype)
    size = out[:1].nbytes
    flat = memoryview(out.reshape(-1).view(np.uint8).data)
    for i, at in enumerate((rows * stride + offset).tolist()):
        if os.preadv(descriptor, [flat[i * size:(i + 1) * size]], at) != size:
            raise OSError(f"DataLoader: the file behind the input ended before row {int(rows[i])} "
                          f"(was it truncated while the loader was reading it?)")
    return out


_PAGE_BYTES = mmap.PAGESIZE


def _open_statm() -> int | None:
    """A descriptor on ``/proc/self/statm`` (Linux), or ``None`` where there is none."""
    try:
        return os.open("/proc/self/statm", os.O_RDONLY)
    except OSError:
        return None
