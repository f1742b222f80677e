"""Writing a file so that it is either the old one or the complete new one, never half.

:func:`atomic_file` writes into a temporary file beside the real target and
renames it into place; on any failure the temporary file is removed and the
previous file is intact. Used by ``tinynet.save`` and ``tinynet predict -o``.

* A symlink is followed: the file it points to is replaced, the link stays.
* The temporary name carries the writer's process id
  (``.model.npz.<pid>.<random>.tmp``); one left behind by a killed writer
  (``kill -9``) is removed by the next write to the same target.
* Errors name the user's path, never the temporary one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import IO, Any

__all__ = ["atomic_file", "real_target"]

SUFFIX = ".tmp"


def real_target(path: str | os.PathLike[str]) -> str:
    """The file a write to ``path`` must replace: ``path`` itself, or what its symlinks lead to."""
    return os.path.realpath(os.fspath(path))


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str], mode: str = "wb", **open_kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file for writing; on a clean exit it replaces ``path`` (kept
    permissions, data flushed to disk), otherwise it is removed and ``path`` untouched."""
    shown = os.fspath(path)
    target = real_target(shown)
    folder, name = os.path.split(target)
    _remove_stale(folder, name)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.{os.getpid()}.", suffix=SUFFIX, dir=folder)
    except OSError as err:
        raise type(err)(err.errno, f"{err.strerror} (cannot create a file in {folder!r})", shown) from None
    try:
        try:
            with os.fdopen(fd, mode, **open_kwargs) as file:
                yield file
                file.flush()
                os.fsync(file.fileno())
            os.chmod(tmp, _file_mode(target))
            os.replace(tmp, target)
        except OSError as err:
            raise type(err)(err.errno, err.strerror or str(err), shown) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _remove_stale(folder: str, name: str) -> None:
    """Remove the temporary files of earlier writes to ``name`` whose process is gone."""
    prefix = f".{name}."
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if not (entry.name.startswith(prefix) and entry.name.endswith(SUFFIX)):
                continue
            pid = entry.name[len(prefix):].split(".", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process, or not ours to judge: leave its file alone
    return True


def _file_mode(path: str) -> int:
    """Keep an existing file's permissions; a new file gets the usual ``0o666 & ~umask``."""
    with contextlib.suppress(OSError):
        return os.stat(path).st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
