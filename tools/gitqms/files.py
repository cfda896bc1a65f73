"""Writing files so that an interrupted command leaves nothing half-written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import QmsError


def _written_beside(path: Path, text: str, folder: Path | None = None) -> Path:
    """A complete, synced temporary file in `folder` (on the same file system as `path`),
    else in the same folder as `path`."""
    fd, name = tempfile.mkstemp(dir=folder or path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


def create_exclusive(path: Path, text: str, scratch: Path | None = None) -> None:
    """Write a new file in one step; refuse if the path exists, even if it appears meanwhile.
    The temporary file is made in `scratch` when given (the git folder: a kill then leaves
    nothing among the records)."""
    if scratch is not None and scratch.stat().st_dev != path.parent.stat().st_dev:
        scratch = None  # a hard link cannot cross file systems
    temporary = _written_beside(path, text, scratch)
    try:
        os.link(temporary, path)  # atomic, and fails if `path` exists
    except FileExistsError:
        raise QmsError(f"{path} already exists; it was left untouched") from None
    finally:
        temporary.unlink()


def replace_atomic(path: Path, text: str, mode: int | None = None) -> None:
    """Replace a file's content in one step (write beside it, then rename over it); `mode`:
    its permissions (0o755 for an executable hook)."""
    temporary = _written_beside(path, text)
    try:
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` in one step (a whole file beside it, synced, then renamed over
    it), so a killed command leaves the old file or the new one, never part of one."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
