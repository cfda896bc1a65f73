"""A finding: what is wrong, where, and what to do about it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Finding:
    path: str  # relative to the repository root
    line: int  # 1-based; 0 when it concerns the whole file
    severity: Severity
    code: str  # rule identifier, e.g. "schema.required", "ref.unknown-person"
    message: str
    fix: str
    record: str | None = None  # record ID when known

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
