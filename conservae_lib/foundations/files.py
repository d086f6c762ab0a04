"""Files that a killed run never leaves half-written: atomic writes and JSON read back or refused.

A file is written to a temporary in the same folder, ``fsync``-ed, then moved over the target with
``os.replace`` (:func:`atomic_write_bytes`); temporaries of a writer that died are removed by the next
writer (:func:`remove_stale_temporaries`). :func:`save_json` writes sorted JSON (NaN and inf as null)
and :func:`load_json` reads it back or raises :class:`CorruptResultError` naming the file. Used by the
trainer's checkpoints, the chapters' summaries and the book's records; imports nothing from the library.
"""
from __future__ import annotations

import glob
import hashlib
import json
import math
import os
import socket
import tempfile
from pathlib import Path
from typing import Any

#: The repository's root (the folder that holds ``conservae_lib/``, ``notebooks/`` and ``results/``).
REPO_ROOT = Path(__file__).resolve().parents[2]

__all__ = ["CorruptResultError", "atomic_write_bytes", "remove_stale_temporaries", "clean_json", "save_json", "load_json"]


class CorruptResultError(RuntimeError):
    """A results file exists but cannot be read back."""


def _host_tag() -> str:
    """Eight hex digits naming this machine, so that temporaries of writers elsewhere (a shared
    folder) are never taken for stale ones."""
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


def _temporary_prefix(path: Path, pid: int | str) -> str:
    return f".{path.name}.{pid}-{_host_tag()}."


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that writers of ``path`` killed mid-write left behind.

    A temporary is named ``.<name>.<pid>-<host>.<random>.tmp``; it is stale when it was made on
    this machine by a process ``pid`` that no longer exists (a live writer's file is never
    touched). Returns the files removed.
    """
    path = Path(path)
    removed = []
    prefix = f".{path.name}."
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*-{_host_tag()}.*.tmp"):
        pid_text = tmp.name[len(prefix):].split("-", 1)[0]
        if pid_text.isdigit() and int(pid_text) != os.getpid() and not _pid_alive(int(pid_text)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    The bytes go to a temporary file in the same folder (``.<name>.<pid>-<host>.<random>.tmp``), are
    flushed to disk, and the temporary is renamed over ``path`` (atomic on POSIX and Windows).
    A process killed at any moment leaves at most such a temporary, which no reader opens and
    the next write of the same file removes. The file gets the usual permissions (0644 less the
    umask, or those of the file it replaces), not ``mkstemp``'s 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=_temporary_prefix(path, os.getpid()), suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def _file_mode(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o644 & ~umask


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def clean_json(obj: Any) -> Any:
    """JSON-safe copy: NumPy/torch scalars to Python, NaN/inf to None."""
    if isinstance(obj, dict):
        return {str(k): clean_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean_json(v) for v in obj]
    if hasattr(obj, "tolist"):
        return clean_json(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def save_json(path: str | os.PathLike, obj: Any) -> Path:
    """Atomically write ``obj`` as sorted, indented JSON."""
    text = json.dumps(clean_json(obj), indent=1, sort_keys=True) + "\n"
    return atomic_write_bytes(path, text.encode())


def load_json(path: str | os.PathLike) -> Any:
    """Read JSON written by :func:`save_json`; a damaged file raises :class:`CorruptResultError`."""
    path = Path(path)
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CorruptResultError(f"results file {path} is corrupt ({err}); delete it and re-run the chapter.") from None
