"""Reading a tinynet ``.npz`` in bounded time and memory, whatever its bytes.

A tinynet file is a zip of ``.npy`` entries (numpy's npz). :class:`Archive`
reads it in three steps, each bounded by what came before:

1. the zip's directory (its size is bounded by the file's) and the header
   entry ``__tinynet__``, whose ``.npy`` preamble is parsed first and whose
   size is capped (:data:`MAX_HEADER_BYTES`) before a byte of it is read;
2. :meth:`Archive.check_entries`: the entries must be exactly the arrays the
   header lists (an unlisted entry is refused without being decompressed),
   each stored or deflated, unencrypted, with a ``.npy`` preamble whose shape
   and dtype are the listed ones and a size that agrees with them;
3. :meth:`Archive.read_into` / :meth:`Archive.read_array`: the data, read in
   chunks straight into its destination, never more bytes than the header
   promised (zipfile stops at the declared size and checks the CRC).

Every failure, including zipfile's own (``BadZipFile``, ``NotImplementedError``
for an unknown compression, ``RuntimeError`` for an encrypted entry, ``zlib``
errors), is a ``ValueError`` naming the file.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import struct
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from tinynet.engine.types import Array

__all__ = ["Archive", "Entry", "MAX_HEADER_BYTES", "damaged"]

MAX_HEADER_BYTES = 16 * 2**20  # the JSON header; a model's is about 160 bytes per layer
MAX_PREAMBLE_BYTES = 4096  # a .npy preamble: magic, version, the {'descr', 'fortran_order', 'shape'} dict
CHUNK = 2**20  # bytes read at a time into an array
METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError,
              RuntimeError, struct.error, zlib.error, UnicodeDecodeError, OverflowError, KeyError,
              IndexError, TypeError, SyntaxError, MemoryError)


@dataclass(frozen=True)
class Entry:
    """One ``.npy`` entry, checked: its zip record, shape, dtype and where its data starts;
    ``data`` holds the bytes of an entry small enough to come whole with its preamble."""

    info: zipfile.ZipInfo
    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    data_offset: int
    data: bytes | None = None

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


@contextlib.contextmanager
def damaged(where: str) -> Iterator[None]:
    """Turn any exception zipfile or numpy's ``.npy`` reader raises on bad bytes into
    ``ValueError("<where>: the file is damaged or truncated (...)")``."""
    try:
        yield
    except ValueError:
        raise
    except ZIP_ERRORS as err:
        raise ValueError(f"{where}: the file is damaged or truncated ({type(err).__name__}: {err})") from None


class Archive:
    """An open tinynet ``.npz``; use as a context manager. ``where`` prefixes every error."""

    def __init__(self, path: str, where: str) -> None:
        self.where = where
        with open(path, "rb") as file:  # FileNotFoundError etc. name the user's path
            if file.read(4) != b"PK\x03\x04":
                raise ValueError(f"{where}: not a tinynet model file (expected an .npz zip archive)")
        with damaged(where):
            self._zip = zipfile.ZipFile(path)
        self._infos: dict[str, zipfile.ZipInfo] = {}
        for info in self._zip.infolist():
            name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            if name in self._infos:
                self.close()
                raise ValueError(f"{where}: the file holds the entry {name!r} twice")
            self._infos[name] = info
        self._entries: dict[str, Entry] = {}

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    @property
    def names(self) -> list[str]:
        """Every entry's name, without ``.npy``."""
        return list(self._infos)

    def read_header(self, name: str) -> bytes:
        """The bytes of the 1-D ``uint8`` entry ``name`` (at most :data:`MAX_HEADER_BYTES`)."""
        if name not in self._infos:
            raise ValueError(f"{self.where}: no tinynet header in the file; was it written by tinynet.save?")
        entry = self._entry(name)
        if entry.dtype != np.uint8 or len(entry.shape) != 1:
            raise ValueError(f"{self.where}: no tinynet header in the file (the entry {name!r} holds "
                             f"{entry.dtype} of shape {entry.shape}, not text)")
        if entry.nbytes > MAX_HEADER_BYTES:
            raise ValueError(f"{self.where}: the header claims {entry.nbytes:,} bytes; tinynet reads "
                             f"headers of at most {MAX_HEADER_BYTES:,}")
        out = np.empty(entry.shape, np.uint8)
        self._fill(name, entry, out)
        return out.tobytes()

    def check_entries(self, listed: Mapping[str, tuple[tuple[int, ...], str]], header: str) -> None:
        """The entries other than ``header`` must be exactly ``listed`` (name -> (shape, dtype
        string)), each with that shape and dtype; nothing is decompressed beyond a preamble."""
        unlisted = sorted(set(self._infos) - set(listed) - {header})
        if unlisted:
            raise ValueError(f"{self.where}: the file holds entries its header does not list: "
                             f"{unlisted[:5]}{' ...' if len(unlisted) > 5 else ''}")
        for name, (shape, dtype) in listed.items():
            if name not in self._infos:
                kind, short = name.split("/", 1) if "/" in name else ("", name)
                raise ValueError(f"{self.where}: {kind} entry {short!r} is listed but missing from the file")
            entry = self._entry(name)
            if entry.shape != tuple(shape) or entry.dtype.str != dtype:
                raise ValueError(f"{self.where}: array {name!r} has shape {entry.shape} and dtype "
                                 f"{entry.dtype.str}, but the header says shape {list(shape)}, dtype {dtype}")

    def read_into(self, name: str, out: Array) -> None:
        """Fill the C-contiguous ``out`` (shape and dtype of the checked entry) from ``name``."""
        entry = self._entries[name]
        if out.shape != entry.shape or out.dtype != entry.dtype or not out.flags.c_contiguous:
            raise ValueError(f"{self.where}: {name!r} cannot be read into an array of shape "
                             f"{out.shape} and dtype {out.dtype}")
        self._fill(name, entry, out)

    def read_array(self, name: str) -> Array:
        """A new array holding the checked entry ``name``."""
        entry = self._entries[name]
        out = np.empty(entry.shape, entry.dtype)
        self._fill(name, entry, out)
        return out

    def _entry(self, name: str) -> Entry:
        """Parse and check the preamble of ``name``: method, flags, shape, dtype and size."""
        if name in self._entries:
            return self._entries[name]
        info = self._infos[name]
        if info.compress_type not in METHODS or info.flag_bits & 0x1:
            raise ValueError(f"{self.where}: the entry {name!r} is encrypted or compressed with "
                             f"method {info.compress_type}; tinynet files are stored or deflated")
        with damaged(self.where), self._zip.open(info) as stream:
            preamble = stream.read(MAX_PREAMBLE_BYTES)
            shape, dtype, offset = _parse_preamble(preamble, f"{self.where}: entry {name!r}")
            nbytes = math.prod(shape) * dtype.itemsize
            if info.file_size != offset + nbytes:
                raise ValueError(f"{self.where}: the entry {name!r} claims {info.file_size:,} bytes, but "
                                 f"its shape {shape} and dtype {dtype} need {offset + nbytes:,}")
            # A small entry came whole (zipfile checked its CRC on reaching its end): keep it.
            whole = len(preamble) == offset + nbytes and not stream.read(1)
        entry = Entry(info, shape, dtype, offset, preamble[offset:] if whole else None)
        self._entries[name] = entry
        return entry

    def _fill(self, name: str, entry: Entry, out: Array) -> None:
        view = memoryview(out.reshape(-1).view(np.uint8).data)
        if entry.data is not None:
            view[:] = entry.data
            return
        with damaged(self.where), self._zip.open(entry.info) as stream:
            _read_exactly(stream, entry.data_offset, f"{self.where}: entry {name!r}")
            done = 0
            while done < len(view):
                got = stream.readinto(view[done:done + CHUNK])  # type: ignore[attr-defined]
                if not got:
                    raise ValueError(f"{self.where}: the entry {name!r} ends after {done:,} of its "
                                     f"{len(view):,} data bytes")
                done += got
            if stream.read(1):  # also makes zipfile check the CRC of the whole entry
                raise ValueError(f"{self.where}: the entry {name!r} holds more bytes than its shape")


def _read_exactly(stream: IO[bytes], n: int, where: str) -> None:
    if len(stream.read(n)) != n:
        raise ValueError(f"{where} is truncated")


def _parse_preamble(data: bytes, where: str) -> tuple[tuple[int, ...], np.dtype[Any], int]:
    """``(shape, dtype, data offset)`` of the ``.npy`` preamble that starts ``data``; plain
    C-ordered arrays only."""
    end = data.find(b"\n", 10, MAX_PREAMBLE_BYTES) + 1  # (the preamble ends its dict with a newline)
    try:
        return _parsed(data[:end] if end else data)
    except ValueError as err:
        raise ValueError(f"{where} {err}") from None


@functools.lru_cache(maxsize=1024)
def _parsed(preamble: bytes) -> tuple[tuple[int, ...], np.dtype[Any], int]:
    """:func:`_parse_preamble`, remembered: a model's many arrays share few preambles."""
    fp = io.BytesIO(preamble)
    try:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp, MAX_PREAMBLE_BYTES)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp, MAX_PREAMBLE_BYTES)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except (ValueError, SyntaxError, TypeError, EOFError, OverflowError, RecursionError) as err:
        raise ValueError(f"is not a readable .npy array ({err})") from None
    if dtype.hasobject:
        raise ValueError("holds a pickled object array; tinynet files never do, and it was not loaded")
    if fortran or dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in "biufU":
        raise ValueError(f"holds {dtype}{' in Fortran order' if fortran else ''}; tinynet files hold "
                         f"plain C-ordered numbers and strings only")
    return tuple(int(n) for n in shape), dtype, fp.tell()
