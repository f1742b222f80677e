"""The command's output files, checked before any work: a finished run is never lost to a
path that cannot be written, and no output overwrites one of the command's inputs."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tinynet.cli.tables import DataError

__all__ = ["check_output", "plot_file"]


def plot_file(path: str) -> str:
    """The file ``--plot PATH`` writes: ``PATH`` if it ends in ``.png``, ``PATH.png`` if it
    has no extension; another extension is an error (the curve is a PNG)."""
    suffix = Path(path).suffix
    if not suffix:
        return path + ".png"
    if suffix.lower() != ".png":
        raise DataError(f"--plot {path}: the loss curve is written as a PNG; name the file "
                        f"{Path(path).with_suffix('.png')} (or leave the extension out)")
    return path


def check_output(flag: str, path: str, inputs: Sequence[tuple[str, str | None]] = (),
                 written: str | None = None) -> None:
    """Refuse ``path`` for the option ``flag`` unless a file can be written there: its folder
    exists and takes a new file, it is not a folder, and it is none of ``inputs``
    (``(option, path)`` pairs; ``None`` paths are skipped). ``written`` is the file really
    written when it differs from ``path`` (``--plot curve`` writes ``curve.png``)."""
    if Path(path).is_dir():
        raise DataError(f"{flag} {path}: that is a folder; name a file in it, e.g. "
                        f"{Path(path) / _example(flag)}")
    shown, path = path, written or path
    target = Path(path)
    if target.is_dir():
        raise DataError(f"{flag} {shown}: {path} is a folder; name another file")
    folder = target.resolve().parent if target.is_symlink() else target.absolute().parent
    if not folder.is_dir():
        raise DataError(f"{flag} {shown}: the folder {str(folder)!r} does not exist")
    for option, source in inputs:
        if source is not None and _same_file(path, source):
            raise DataError(f"{flag} {shown}: that is the {option} file; writing there would destroy "
                            f"it (choose another name)")
    try:
        fd, probe = tempfile.mkstemp(prefix=".tinynet-write-test.", dir=folder)
    except OSError as err:
        raise DataError(f"{flag} {shown}: cannot write into the folder {str(folder)!r} "
                        f"({err.strerror or err})") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _example(flag: str) -> str:
    return {"--plot": "loss.png", "-o": "predictions.csv"}.get(flag, "model.npz")

