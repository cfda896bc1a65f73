"""Which walk judges a question about a few records: the narrow one (history/narrow.py) or the
full one, as the environment variable GITQMS_GATE says.

- unset: narrow, unless the history index holds a walk of the tip or of an ancestor of it
  (then the full walk is read back or carried on, which is cheaper still);
- `narrow`: narrow wherever it applies; `full`: the full walk, always;
- `compare`: both, and the caller raises an error where their answers differ (the test suite
  runs so, so that every test of `qms check` and `qms log` is a test of the narrow walk).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ..errors import QmsError
from . import walk_index

VARIABLE = "GITQMS_GATE"
WAYS = ("", "narrow", "full", "compare")
T = TypeVar("T")


def way() -> str:
    """GITQMS_GATE: '', 'narrow', 'full' or 'compare'."""
    chosen = os.environ.get(VARIABLE, "")
    if chosen not in WAYS:
        raise QmsError(
            f"{VARIABLE}={chosen!r} is not a way to walk history",
            hint=f"unset it, or set it to one of {', '.join(w for w in WAYS if w)}",
        )
    return chosen


def narrow_wanted(root: Path, tip: str) -> bool:
    """Whether to walk narrowly to `tip`, when the question allows it."""
    chosen = way()
    if chosen == "full":
        return False
    return bool(chosen) or not walk_index.stored_ancestor(root, tip)


def confirm(
    what: str,
    narrow: T,
    full: Callable[[], T],
    key: Callable[[T], object] = lambda answer: answer,
) -> None:
    """GITQMS_GATE=compare: an error unless the narrow walk's answer (compared by `key`) is the
    one `full()` gives from the full walk; otherwise nothing."""
    if way() != "compare":
        return
    other = full()
    if key(narrow) != key(other):
        raise QmsError(
            f"the narrow walk and the full walk disagree on {what}: narrow {narrow!r}; "
            f"full {other!r}",
            hint=f"a defect of gitqms: report it; {VARIABLE}=full answers from the full walk",
        )
