"""What the command line says about a kind in words its declaration cannot give, keyed by the
kind's `special` name (records/kinds.py). Every other kind is summarised from its declaration."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def _deviation_state(state: str, raw: Mapping[str, Any]) -> str:
    """A deviation's state with its type and classification: 'closed (excursion, major)'."""
    classification = raw.get("classification")
    level = classification["level"] if classification else "unclassified"
    return f"{state} ({raw['type']}, {level})"


def _review_state(state: str, raw: Mapping[str, Any]) -> str:
    """An audit-trail review has no state: the period it reviewed."""
    return f"review of {raw['period']['since']} to {raw['period']['until']}"


def _copy_state(state: str, raw: Mapping[str, Any]) -> str:
    """A controlled copy: which copy of which version, and where it is kept."""
    return f"copy {raw['copy']} of {raw['document']} v{raw['version']}, kept at {raw['location']}"


# `qms list`: the State cell, from the record's state and its fields as written.
LIST_STATE: dict[str, Callable[[str, Mapping[str, Any]], str]] = {
    "deviation": _deviation_state,
    "audit-review": _review_state,
    "controlled-copy": _copy_state,
}
