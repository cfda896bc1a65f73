"""Writing files so that an interrupted command leaves nothing half-written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import QmsError


def create_exclusive(path: Path, text: str) -> None:
    """Write a new file in one step; refuse if the path exists, even if it appears meanwhile."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path)  # atomic, and fails if `path` exists
    except FileExistsError:
        raise QmsError(f"{path} already exists; it was left untouched") from None
    finally:
        os.unlink(temporary)


def replace_atomic(path: Path, text: str) -> None:
    """Replace a file's content in one step (write beside it, then rename over it)."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
