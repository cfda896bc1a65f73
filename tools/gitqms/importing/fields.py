"""The fields a legacy log may fill, the header wordings that name them, and legacy value words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

FieldType = Literal[
    "legacy-id",
    "line",
    "text",
    "date",
    "date-time",
    "person",
    "state",
    "choice",
    "score",
    "bool",
    "refs",
    "area",
    "action",
    "plain",
]


@dataclass(frozen=True)
class Field:
    path: str  # dotted, as in the record: "root_cause.description"
    type: FieldType
    headers: tuple[str, ...]  # normalised header wordings
    choices: str | None = None  # the name of the value map for "choice"


def normalise(header: str) -> str:
    """'Date  Opened:' and 'date_opened' both read 'date opened'."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", header.lower().replace("ä", "a")).split())


def _f(path: str, kind: FieldType, *headers: str, choices: str | None = None) -> Field:
    return Field(path, kind, tuple(normalise(h) for h in headers), choices)


_COMMON = (
    _f("title", "line", "title", "subject", "short description", "summary", "short title"),
    _f("owner", "person", "owner", "responsible", "responsible person", "assigned to"),
    _f("closed", "date", "closed", "date closed", "closure date", "closed on", "close date"),
    _f("cancel_reason", "text", "cancel reason", "reason for cancellation", "cancellation reason"),
)

CAPA_FIELDS: tuple[Field, ...] = (
    _f(
        "legacy_id",
        "legacy-id",
        "capa no",
        "capa number",
        "capa id",
        "capa",
        "capa ref",
        "id",
        "no",
        "number",
        "ref",
        "reference",
        "record no",
    ),
    *_COMMON,
    _f("state", "state", "status", "state", "stage", "capa status"),
    _f(
        "opened",
        "date",
        "opened",
        "date opened",
        "open date",
        "initiated",
        "date initiated",
        "raised",
        "date raised",
        "created",
        "start date",
    ),
    _f("due", "date", "due", "due date", "target date", "target closure", "target closure date"),
    _f("source.type", "choice", "source", "source type", "origin", "raised from", choices="source"),
    _f(
        "source.references",
        "refs",
        "source ref",
        "source reference",
        "source record",
        "deviation",
        "deviation no",
        "related deviation",
        "linked deviation",
        "deviation ref",
    ),
    _f(
        "source.external_ref",
        "line",
        "external reference",
        "external ref",
        "audit reference",
        "complaint no",
        "audit ref",
    ),
    _f(
        "problem",
        "text",
        "problem",
        "description",
        "problem description",
        "issue",
        "problem statement",
        "nonconformance",
    ),
    _f("risk.severity", "score", "severity", "risk severity"),
    _f("risk.occurrence", "score", "occurrence", "probability", "risk occurrence"),
    _f("risk.detectability", "score", "detectability", "detection", "risk detectability"),
    _f("risk.rationale", "text", "risk rationale", "risk assessment", "rationale"),
    _f("root_cause.description", "text", "root cause", "root cause description"),
    _f(
        "root_cause.method", "choice", "rca method", "root cause method", "method", choices="method"
    ),
    _f(
        "root_cause.category",
        "choice",
        "root cause category",
        "cause category",
        "category",
        choices="category",
    ),
    _f(
        "actions.corrective",
        "action",
        "corrective action",
        "corrective actions",
        "action",
        "actions",
        "correction",
    ),
    _f("actions.preventive", "action", "preventive action", "preventive actions"),
    _f(
        "actions.completed",
        "date",
        "actions completed",
        "action completed",
        "completed",
        "completion date",
        "date completed",
        "implemented on",
    ),
    _f("actions.evidence", "text", "evidence", "action evidence", "implementation evidence"),
    _f("actions.due", "date", "action due", "action due date"),
    _f(
        "effectiveness.criteria",
        "text",
        "effectiveness criteria",
        "effectiveness check",
        "success criteria",
        "effectiveness check criteria",
    ),
    _f(
        "effectiveness.due",
        "date",
        "effectiveness due",
        "effectiveness check due",
        "effectiveness due date",
    ),
    _f(
        "effectiveness.result",
        "text",
        "effectiveness result",
        "effectiveness outcome",
        "result of effectiveness check",
    ),
    _f(
        "effectiveness.verdict",
        "choice",
        "effective",
        "effectiveness verdict",
        "effectiveness",
        "effective y n",
        choices="verdict",
    ),
    _f(
        "effectiveness.checked_on",
        "date",
        "effectiveness checked on",
        "checked on",
        "effectiveness check date",
        "verified on",
    ),
    _f(
        "effectiveness.checked_by",
        "person",
        "effectiveness checked by",
        "checked by",
        "verified by",
    ),
    _f("related_sops", "refs", "related sop", "related sops", "sop", "sops"),
)

DEVIATION_FIELDS: tuple[Field, ...] = (
    _f(
        "legacy_id",
        "legacy-id",
        "deviation no",
        "deviation number",
        "deviation id",
        "dev no",
        "dev id",
        "id",
        "no",
        "number",
        "ref",
        "reference",
        "record no",
    ),
    *_COMMON,
    _f("type", "choice", "type", "deviation type", "kind", choices="deviation-type"),
    _f("state", "state", "status", "state", "stage", "deviation status"),
    _f(
        "occurred_at",
        "date-time",
        "occurred",
        "date occurred",
        "occurred at",
        "event date",
        "date of event",
        "date",
        "date time of event",
        "occurrence date",
    ),
    _f(
        "discovered_at",
        "date-time",
        "discovered",
        "date discovered",
        "discovered at",
        "detected",
        "date detected",
        "detection date",
    ),
    _f(
        "reported_at",
        "date-time",
        "reported",
        "date reported",
        "reported at",
        "report date",
        "reported on",
    ),
    _f("reported_by", "line", "reported by", "reporter", "originator", "initiator", "raised by"),
    _f("area", "area", "area", "department", "location", "unit"),
    _f("patient_involved", "bool", "patient involved", "patient affected", "patient impact y n"),
    _f(
        "description",
        "text",
        "description",
        "deviation description",
        "what happened",
        "details",
        "event description",
    ),
    _f(
        "immediate_actions",
        "text",
        "immediate action",
        "immediate actions",
        "containment",
        "correction",
        "immediate correction",
    ),
    _f("product.name", "line", "product", "product name"),
    _f("product.batch", "plain", "batch", "lot", "batch no", "lot no", "batch number"),
    _f("product.coi", "plain", "coi", "chain of identity", "coi reference"),
    _f(
        "classification.level",
        "choice",
        "classification",
        "class",
        "criticality",
        "deviation class",
        "severity level",
        "risk class",
        choices="level",
    ),
    _f("classification.severity", "score", "severity"),
    _f("classification.occurrence", "score", "occurrence", "probability"),
    _f("classification.detectability", "score", "detectability", "detection"),
    _f(
        "classification.rationale",
        "text",
        "classification rationale",
        "risk rationale",
        "rationale",
        "justification",
    ),
    _f(
        "classification.classified_on",
        "date",
        "classified on",
        "date classified",
        "classification date",
    ),
    _f("investigation.due", "date", "investigation due", "due", "due date", "target date"),
    _f(
        "investigation.method",
        "choice",
        "investigation method",
        "rca method",
        "method",
        choices="method",
    ),
    _f(
        "investigation.root_cause",
        "text",
        "root cause",
        "investigation root cause",
        "investigation summary",
    ),
    _f("investigation.product_impact", "text", "product impact", "impact on product"),
    _f("investigation.patient_impact", "text", "patient impact", "impact on patient"),
    _f("capa", "refs", "capa", "capa no", "capa number", "linked capa", "capa ref", "capa id"),
    _f("capa_decision.required", "bool", "capa required", "capa needed", "capa y n"),
    _f(
        "capa_decision.rationale",
        "text",
        "capa rationale",
        "capa decision",
        "capa decision rationale",
    ),
    _f("sops", "refs", "sop", "sops", "related sop", "related sops"),
)

FIELDS = {"capa": CAPA_FIELDS, "deviation": DEVIATION_FIELDS}

# Legacy wordings (normalised) of the schema's values.
STATES: dict[str, dict[str, str]] = {
    "capa": {
        **dict.fromkeys(("open", "opened", "new", "initiated", "raised", "logged"), "initiated"),
        **dict.fromkeys(
            (
                "root cause",
                "root cause analysis",
                "rca",
                "investigation",
                "under investigation",
                "analysis",
                "in analysis",
            ),
            "root-cause",
        ),
        **dict.fromkeys(
            ("action plan", "plan", "planned", "pending approval", "plan submitted"), "action-plan"
        ),
        **dict.fromkeys(
            (
                "implementation",
                "implementing",
                "in progress",
                "in implementation",
                "ongoing",
                "plan approved",
                "approved",
            ),
            "implementation",
        ),
        **dict.fromkeys(
            (
                "effectiveness check",
                "effectiveness",
                "verification",
                "monitoring",
                "awaiting effectiveness check",
                "effectiveness review",
            ),
            "effectiveness-check",
        ),
        **dict.fromkeys(
            ("closed", "complete", "completed", "done", "closed effective", "finished"), "closed"
        ),
        **dict.fromkeys(
            ("cancelled", "canceled", "void", "voided", "withdrawn", "rejected", "duplicate"),
            "cancelled",
        ),
    },
    "deviation": {
        **dict.fromkeys(("open", "new", "reported", "raised", "logged", "opened"), "reported"),
        **dict.fromkeys(("classified", "assessed", "triaged", "classification"), "classified"),
        **dict.fromkeys(
            (
                "investigation",
                "under investigation",
                "in investigation",
                "in progress",
                "investigating",
                "ongoing",
            ),
            "investigation",
        ),
        **dict.fromkeys(
            (
                "capa decided",
                "capa raised",
                "pending closure",
                "awaiting closure",
                "capa decision",
                "investigation complete",
                "investigation completed",
            ),
            "capa-decided",
        ),
        **dict.fromkeys(("closed", "complete", "completed", "done", "finished"), "closed"),
        **dict.fromkeys(
            ("cancelled", "canceled", "void", "voided", "withdrawn", "duplicate", "rejected"),
            "cancelled",
        ),
    },
}

CHOICES: dict[str, dict[str, str]] = {
    "source": {
        **dict.fromkeys(
            ("deviation", "dev", "nc", "nonconformance", "non conformance"), "deviation"
        ),
        **dict.fromkeys(("oos", "out of specification", "oos result"), "oos"),
        **dict.fromkeys(("complaint", "customer complaint", "sponsor complaint"), "complaint"),
        **dict.fromkeys(("audit", "internal audit", "self inspection", "supplier audit"), "audit"),
        **dict.fromkeys(
            ("inspection", "regulatory inspection", "authority inspection", "gmp inspection"),
            "inspection",
        ),
        **dict.fromkeys(("trend", "trending", "trend analysis"), "trend"),
        **dict.fromkeys(("management review", "mgmt review"), "management-review"),
        **dict.fromkeys(("adverse reaction", "adr", "adverse event"), "adverse-reaction"),
    },
    "method": {
        **dict.fromkeys(("5 whys", "5 why", "five whys", "5whys"), "5-whys"),
        **dict.fromkeys(("fishbone", "ishikawa", "fishbone ishikawa"), "fishbone"),
        **dict.fromkeys(("fault tree", "fta", "fault tree analysis"), "fault-tree"),
        "fmea": "fmea",
        **dict.fromkeys(("is is not", "is not"), "is-is-not"),
        "other": "other",
    },
    "category": {
        **{
            c: c
            for c in (
                "people",
                "process",
                "equipment",
                "material",
                "environment",
                "method",
                "measurement",
                "documentation",
                "supplier",
                "software",
            )
        },
        **dict.fromkeys(("human error", "personnel", "training"), "people"),
        **dict.fromkeys(("materials",), "material"),
        **dict.fromkeys(("machine", "instrument"), "equipment"),
    },
    "verdict": {
        **dict.fromkeys(("effective", "yes", "y", "pass", "passed"), "effective"),
        **dict.fromkeys(
            ("not effective", "no", "n", "ineffective", "fail", "failed"), "not-effective"
        ),
    },
    "level": {
        **dict.fromkeys(("minor", "low", "minimal"), "minor"),
        **dict.fromkeys(("major", "medium", "significant", "moderate"), "major"),
        **dict.fromkeys(("critical", "high", "severe"), "critical"),
    },
    "deviation-type": {
        **dict.fromkeys(("unplanned", "unplanned deviation", "deviation"), "unplanned"),
        **dict.fromkeys(("planned", "planned deviation"), "planned"),
        **dict.fromkeys(("oos", "out of specification", "oos result"), "oos"),
        **dict.fromkeys(
            (
                "excursion",
                "temperature excursion",
                "cold chain",
                "cold chain excursion",
                "cryostorage excursion",
            ),
            "excursion",
        ),
        **dict.fromkeys(
            ("coi break", "chain of identity", "coi", "chain of identity break"), "coi-break"
        ),
        **dict.fromkeys(("chain of custody", "chain of custody break"), "chain-of-custody"),
        **dict.fromkeys(("adverse reaction", "adr", "adverse event"), "adverse-reaction"),
        **dict.fromkeys(("equipment", "equipment failure", "equipment malfunction"), "equipment"),
        **dict.fromkeys(("documentation", "gdp", "documentation error"), "documentation"),
    },
}


def field_for(kind: str, header: str) -> Field | None:
    wanted = normalise(header)
    for field in FIELDS[kind]:
        if wanted in field.headers:
            return field
    return None


def field_named(kind: str, path: str) -> Field | None:
    return next((f for f in FIELDS[kind] if f.path == path), None)
