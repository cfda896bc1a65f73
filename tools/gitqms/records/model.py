"""Typed, immutable records, built once from data that has passed its schema.

Every kind of the document family is a `ControlledDocument`; every kind of the record family
with a state machine is a `StateRecord` (CAPA and deviation add typed fields for their own
code); an audit-trail review is an `AuditReview`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .kinds import AUDIT_REVIEW, CAPA, DEVIATION, Kind


def _tuple(value: Any) -> tuple[str, ...]:
    return tuple(value or ())


@dataclass(frozen=True, kw_only=True)
class Record:
    kind: Kind
    id: str
    title: str
    path: str
    raw: Mapping[str, Any]  # every field as written, read-only


@dataclass(frozen=True, kw_only=True)
class ControlledDocument(Record):
    """A version of a document of any document kind (SOP, work instruction, form, …)."""

    version: int = 1
    owner: str = ""
    area: str = ""
    effective_date: str | None = None
    review_period_months: int = 24
    supersedes: str | None = None
    change_reason: str = ""
    change_control: str | None = None
    training_audience: tuple[str, ...] = ()
    training_window_days: int | None = None
    retention_years: int | None = None
    tags: tuple[str, ...] = ()
    related_sops: tuple[str, ...] = ()
    body: str = ""

    @property
    def supersedes_id(self) -> str | None:
        return self.supersedes.split(" v")[0] if self.supersedes else None

    @property
    def supersedes_version(self) -> int | None:
        return int(self.supersedes.split(" v")[1]) if self.supersedes else None


@dataclass(frozen=True)
class Risk:
    severity: int
    occurrence: int
    detectability: int
    rationale: str


@dataclass(frozen=True)
class RootCause:
    method: str
    category: str
    description: str


@dataclass(frozen=True, kw_only=True)
class Action:
    id: str
    type: str
    description: str
    owner: str
    due: str
    status: str
    completed: str | None
    evidence: str | None

    @property
    def is_open(self) -> bool:
        return self.status in ("open", "in-progress")


@dataclass(frozen=True)
class Effectiveness:
    criteria: str | None
    due: str | None
    result: str | None
    verdict: str | None
    checked_on: str | None
    checked_by: str | None


@dataclass(frozen=True, kw_only=True)
class StateRecord(Record):
    """A record of the record family with a state machine: where it is, whose it is, and the
    days it was opened and closed, wherever its declaration keeps them."""

    state: str
    owner: str = ""
    opened: str = ""
    closed: str | None = None


@dataclass(frozen=True, kw_only=True)
class Capa(StateRecord):
    due: str = ""
    source_type: str = ""
    source_references: tuple[str, ...] = ()
    problem: str = ""
    risk: Risk | None = None
    root_cause: RootCause | None = None
    actions: tuple[Action, ...] = ()
    effectiveness: Effectiveness | None = None
    related_sops: tuple[str, ...] = ()


@dataclass(frozen=True)
class Classification:
    level: str
    severity: int
    occurrence: int
    detectability: int
    rationale: str


@dataclass(frozen=True, kw_only=True)
class Deviation(StateRecord):
    type: str = "unplanned"
    occurred_at: str = ""
    discovered_at: str = ""
    reported_at: str | None = None
    reported_by: str = ""
    area: str = ""
    coi: str | None = None
    patient_involved: bool = False
    description: str = ""
    classification: Classification | None = None
    investigation_due: str | None = None
    capa: tuple[str, ...] = ()
    sops: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class AuditReview(Record):
    """An audit-trail review: the period, the commit reviewed, the report's hash, the
    conclusion. Written and signed by `qms audit-trail --sign`."""

    since: str = ""
    until: str = ""
    revision: str = ""
    report_sha256: str = ""
    reviewer: str = ""
    reviewed_on: str = ""
    conclusion: str = ""


def build_record(kind: Kind, path: str, data: Mapping[str, Any], body: str | None) -> Record:
    """A typed record from data that has passed its schema."""
    raw = MappingProxyType(dict(data))
    common: dict[str, Any] = {
        "kind": kind,
        "id": data["id"],
        "title": data["title"],
        "path": path,
        "raw": raw,
    }
    builder = _BUILDERS.get(kind.name)
    if builder is None:
        builder = _document if kind.is_document else _state_record
    return builder(common, data, body)


def _document(
    common: dict[str, Any], data: Mapping[str, Any], body: str | None
) -> ControlledDocument:
    training = data["training"]
    return ControlledDocument(
        **common,
        version=int(data["version"]),  # JSON Schema counts 1.0 as an integer
        owner=data["owner"],
        area=data["area"],
        effective_date=data.get("effective_date"),
        review_period_months=data["review_period_months"],
        supersedes=data.get("supersedes"),
        change_reason=data["change_reason"],
        change_control=data.get("change_control"),
        training_audience=_tuple(training["audience"]),
        training_window_days=training.get("window_days"),
        retention_years=data.get("retention_years"),
        tags=_tuple(data.get("tags")),
        related_sops=_tuple(data.get("related_sops")),
        body=body or "",
    )


def _facts(common: dict[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """The common facts of a state record, from where its declaration keeps them."""
    fields = common["kind"].declared.fields

    def text(path: Any) -> Any:
        value = path.first(data) if path is not None else None
        return value if isinstance(value, str) else None

    return {
        **common,
        "state": data["state"],
        "owner": text(fields.owner) or "",
        "opened": text(fields.opened) or "",
        "closed": text(fields.closed),
    }


def _state_record(common: dict[str, Any], data: Mapping[str, Any], body: str | None) -> StateRecord:
    return StateRecord(**_facts(common, data))


def _capa(common: dict[str, Any], data: Mapping[str, Any], body: str | None) -> Capa:
    risk, cause, check = data.get("risk"), data.get("root_cause"), data.get("effectiveness")
    return Capa(
        **_facts(common, data),
        due=data["due"],
        source_type=data["source"]["type"],
        source_references=_tuple(data["source"].get("references")),
        problem=data["problem"],
        risk=Risk(**risk) if risk else None,
        root_cause=RootCause(**cause) if cause else None,
        actions=tuple(_action(item) for item in data.get("actions") or ()),
        effectiveness=Effectiveness(
            *(
                check.get(k)
                for k in ("criteria", "due", "result", "verdict", "checked_on", "checked_by")
            )
        )
        if check
        else None,
        related_sops=_tuple(data.get("related_sops")),
    )


def _action(item: Mapping[str, Any]) -> Action:
    return Action(
        id=item["id"],
        type=item["type"],
        description=item["description"],
        owner=item["owner"],
        due=item["due"],
        status=item["status"],
        completed=item.get("completed"),
        evidence=item.get("evidence"),
    )


def _deviation(common: dict[str, Any], data: Mapping[str, Any], body: str | None) -> Deviation:
    classification = data.get("classification")
    return Deviation(
        **_facts(common, data),
        type=data["type"],
        occurred_at=data["occurred_at"],
        discovered_at=data["discovered_at"],
        reported_at=data.get("reported_at"),
        reported_by=data["reported_by"],
        area=data["area"],
        coi=(data.get("product") or {}).get("coi"),
        patient_involved=data["patient_involved"],
        description=data["description"],
        classification=Classification(
            **{
                k: classification[k]
                for k in ("level", "severity", "occurrence", "detectability", "rationale")
            }
        )
        if classification
        else None,
        investigation_due=(data.get("investigation") or {}).get("due"),
        capa=_tuple(data.get("capa")),
        sops=_tuple(data.get("sops")),
    )


def _audit_review(common: dict[str, Any], data: Mapping[str, Any], body: str | None) -> AuditReview:
    return AuditReview(
        **common,
        since=data["period"]["since"],
        until=data["period"]["until"],
        revision=data["revision"],
        report_sha256=data["report_sha256"],
        reviewer=data["reviewer"],
        reviewed_on=data["reviewed_on"],
        conclusion=data["conclusion"],
    )


_Builder = Callable[[dict[str, Any], Mapping[str, Any], str | None], Record]
# The kinds with a class of their own; any other is a document or a state record by its family.
_BUILDERS: dict[str, _Builder] = {
    CAPA.name: _capa,
    DEVIATION.name: _deviation,
    AUDIT_REVIEW.name: _audit_review,
}
