"""A violation: a rule a commit breaks, with the fix. What `qms check` reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from ..validation.findings import Severity


@dataclass(frozen=True)
class Violation:
    commit: str
    record: str | None
    rule: str
    message: str
    fix: str
    severity: Severity = "error"

    def to_json(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "record": self.record,
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "fix": self.fix,
        }


class Breach(NamedTuple):
    """A rule broken by one record's change; the gate adds the commit and the record."""

    rule: str
    message: str
    fix: str
