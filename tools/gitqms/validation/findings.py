"""A finding: what is wrong, where, and what to do about it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ..records.document import Document
    from .schemas import Location

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True, kw_only=True)
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


class Reporter:
    """Collects the findings of one document, placed at the line of the field they concern."""

    def __init__(self, doc: Document, record_id: str | None) -> None:
        self.doc = doc
        self.record_id = record_id
        self.found: list[Finding] = []

    def __call__(
        self,
        location: Location,
        code: str,
        message: str,
        fix: str,
        severity: Severity = "error",
        line: int | None = None,
    ) -> None:
        self.found.append(
            Finding(
                path=self.doc.path,
                line=line if line is not None else self.doc.line_of(location),
                severity=severity,
                code=code,
                message=message,
                fix=fix,
                record=self.record_id,
            )
        )
