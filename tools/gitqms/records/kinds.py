"""The record kinds, their folders, file names and ID patterns.

SOPs, CAPAs and deviations are written by people (`qms new`); an audit-trail review is written
by `qms audit-trail --sign`, in the same commit as the reviewer's signature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

KindName = Literal["sop", "capa", "deviation", "audit-review"]


@dataclass(frozen=True)
class Kind:
    name: KindName
    label: str  # for people: "SOP", "CAPA", "deviation"
    folder: str
    suffix: str
    prefix: str  # ID prefix
    yearly: bool  # IDs numbered per year: CAPA-2026-0001

    @property
    def id_pattern(self) -> re.Pattern[str]:
        year = r"(?P<year>[0-9]{4})-" if self.yearly else ""
        return re.compile(rf"{self.prefix}-{year}(?P<number>[0-9]{{4}})")

    def example_id(self) -> str:
        return f"{self.prefix}-2026-0001" if self.yearly else f"{self.prefix}-0001"

    def format_id(self, number: int, year: int | None = None) -> str:
        if self.yearly:
            return f"{self.prefix}-{year:04d}-{number:04d}"
        return f"{self.prefix}-{number:04d}"


SOP = Kind("sop", "SOP", "sops", ".md", "SOP", yearly=False)
CAPA = Kind("capa", "CAPA", "capa", ".yaml", "CAPA", yearly=True)
DEVIATION = Kind("deviation", "deviation", "deviations", ".yaml", "DEV", yearly=True)
AUDIT_REVIEW = Kind(
    "audit-review", "audit-trail review", "audit-reviews", ".yaml", "ATR", yearly=True
)
KINDS: tuple[Kind, ...] = (SOP, CAPA, DEVIATION, AUDIT_REVIEW)
REVIEW_MEANING = "audit-trail-reviewed"  # the reviewer's signature on an audit-trail review
BY_NAME: dict[str, Kind] = {kind.name: kind for kind in KINDS}
BY_FOLDER: dict[str, Kind] = {kind.folder: kind for kind in KINDS}

# Template text that `qms new` leaves for the author to replace.
PLACEHOLDER = "FILL IN"

# Files a record folder may hold besides records.
IGNORED_NAMES = frozenset({".gitkeep", ".keep"})


def kind_of_id(record_id: str) -> Kind | None:
    for kind in KINDS:
        if kind.id_pattern.fullmatch(record_id):
            return kind
    return None


def record_id_from_path(path: PurePosixPath) -> str | None:
    """`sops/SOP-0003.md` -> `SOP-0003`; None when the path is not a record's path."""
    kind = BY_FOLDER.get(path.parent.as_posix())
    if kind is None or path.suffix != kind.suffix:
        return None
    return path.stem if kind.id_pattern.fullmatch(path.stem) else None
