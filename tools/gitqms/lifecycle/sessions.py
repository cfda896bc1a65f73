"""Training sessions that count: a trainer's signed `training-session` record, for the
people it trained on exact document contents (issue 21, step 4).

`recorded_sessions` reads them from a verified walk; training.py joins them with the
documents' versions. A session that counts is one the trainer signed into its recorded state
and that breaks none of the rules of the kind (see the training-session kind's special code).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from ..records.config import QmsConfig
from ..signatures.verify import Walk
from .signed import SignedContent


@dataclass(frozen=True, kw_only=True)
class Covered:
    """A document version a session trained on: its record, version and content (sha256)."""

    record: str
    version: int
    content: str


@dataclass(frozen=True, kw_only=True)
class Session:
    """A recorded training session that counts."""

    record: str  # TRN-2026-0001
    trainer: str  # person ID
    method: str  # read, classroom, practical, assessed
    counts_from: date  # the later of its date and the day its recording signature counts
    commit: str  # the commit of the recording signature
    trained: frozenset[str]  # the attendees who count as trained (all, or those who passed)
    covers: tuple[Covered, ...]

    def trains(self, person: str, record: str, version: int, content: str) -> bool:
        return (
            person in self.trained
            and Covered(record=record, version=version, content=content) in self.covers
        )


def recorded_sessions(
    walk: Walk, signed: Mapping[str, Mapping[str, SignedContent]], config: QmsConfig
) -> list[Session]:
    """The recorded training sessions of a verified walk that count (none before the
    training-session kind exists)."""
    return []
