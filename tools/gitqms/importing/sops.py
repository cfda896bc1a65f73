"""A legacy SOP document made into an SOP record: front matter from its metadata, gaps named."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..records.config import QmsConfig
from .docx import LegacySop
from .gaps import Gap, GapKind
from .rows import PLACEHOLDER_TEXT
from .values import DayOrder, ValueProblem, read_moment, read_person, slug

SOP_DEFAULTS = frozenset(
    {"owner", "area", "audience", "change_control", "version", "review_period_months"}
)


@dataclass
class BuiltSop:
    data: dict[str, Any] = field(default_factory=dict)
    body: str = ""
    gaps: list[Gap] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    legacy_id: str | None = None
    approvals: list[dict[str, str]] = field(default_factory=list)


def _from(sop: LegacySop, key: str) -> str:
    return f"{sop.where.get(key, 'document')}"


def _version(text: str) -> int:
    match = re.fullmatch(r"(?i)(?:v(?:ersion)?\.?\s*)?(\d{1,4})(?:\.0+)?", text.strip())
    if not match or int(match.group(1)) < 1:
        raise ValueProblem(f"the version '{text}' is not a whole number")
    return int(match.group(1))


def _months(text: str) -> int:
    match = re.fullmatch(r"(?i)\s*(\d{1,3})\s*(months?|years?|yrs?|m|y)?\s*", text)
    if not match:
        raise ValueProblem(f"the review period '{text}' is not a number of months or years")
    number = int(match.group(1))
    unit = (match.group(2) or "m").lower()
    return number * 12 if unit.startswith("y") else number


def _audiences(text: str, config: QmsConfig) -> tuple[list[str], list[str]]:
    found, unknown = [], []
    for token in (t.strip() for t in re.split(r"[,;/\n]+", text) if t.strip()):
        key = slug(token)
        match = key if key in config.audiences else None
        if match is None:
            match = next(
                (a for a in config.audiences if key.startswith(a) or a.startswith(key)), None
            )
        if match is None:
            unknown.append(token)
        elif match not in found:
            found.append(match)
    return found, unknown


def _approval(role: str, text: str) -> dict[str, str]:
    entry = {"role": role, "as_written": " ".join(text.split())[:200]}
    name, _, rest = text.partition(",")
    if name.strip():
        entry["name"] = " ".join(name.split())[:200]
    if rest.strip():
        entry["date"] = " ".join(rest.split())[:200]
    return entry


def build_sop(
    sop: LegacySop, config: QmsConfig, defaults: dict[str, str], order: DayOrder
) -> BuiltSop:
    built = BuiltSop()
    fields = sop.fields
    built.legacy_id = " ".join(fields.get("legacy_id", "").split())[:200] or None
    if built.legacy_id is None:
        built.gaps.append(Gap("missing", "migration.legacy_id", None, "no document number found"))
    title = " ".join(fields.get("title", "").split())
    if not title:
        title = PLACEHOLDER_TEXT
        built.gaps.append(Gap("placeholder", "title", None, "no title in the document"))
    elif len(title) > 200:
        title = title[:199].rstrip() + "…"
        built.gaps.append(Gap("assumed", "title", None, "shortened to 200 characters"))
    data = built.data
    data["title"] = title

    def value(key: str, reader: Any, what: str) -> Any:
        """The field read from the document, else from --default; None (with a gap) if neither."""
        text = fields.get(key)
        if text:
            try:
                return reader(text)
            except ValueProblem as problem:
                if key not in defaults:
                    built.gaps.append(Gap("unreadable", what, _from(sop, key), str(problem)))
                    built.refused.append(f"{what}: {problem}")
                    return None
                built.gaps.append(Gap("default", what, _from(sop, key), f"{problem}; --default"))
        if key in defaults:
            if not text:
                built.gaps.append(Gap("default", what, None, "not in the document; --default"))
            try:
                return reader(defaults[key])
            except ValueProblem as problem:
                built.refused.append(f"--default {key}: {problem}")
                return None
        return None

    version = value("version", _version, "version")
    if version is None and "version" not in fields:
        version = 1
        built.gaps.append(Gap("assumed", "version", None, "no version in the document; 1"))
    data["version"] = version
    owner = None
    if "owner" not in fields and fields.get("author"):  # the author owns it, if a person here
        try:
            owner = read_person(fields["author"], config)
            built.gaps.append(Gap("assumed", "owner", _from(sop, "author"), "the author"))
        except ValueProblem as problem:
            built.gaps.append(Gap("unreadable", "owner", _from(sop, "author"), str(problem)))
    if owner is None:
        owner = value("owner", lambda t: read_person(t, config), "owner")
    if owner is None:
        built.refused.append("no owner who is a person in qms.yaml; give --default owner=ID")
    data["owner"] = owner
    area = value("area", lambda t: _area(t, config), "area")
    if area is None:
        built.refused.append("no area of qms.yaml; give --default area=AREA")
    data["area"] = area
    effective = fields.get("effective_date")
    if effective:
        try:
            data["effective_date"] = read_moment(effective, order).date_text()
        except ValueProblem as problem:
            kind: GapKind = "ambiguous" if problem.ambiguous else "unreadable"
            built.gaps.append(
                Gap(kind, "effective_date", _from(sop, "effective_date"), str(problem))
            )
            built.refused.append(
                f"effective date: {problem}"
                + ("; rerun with --day-first or --month-first" if problem.ambiguous else "")
            )
    months = value("review_period", _months, "review_period_months")
    if months is None and "review_period_months" in defaults:
        months = value("review_period_months", _months, "review_period_months")
    if months is None:
        months = config.due.sop_review_months
        built.gaps.append(
            Gap("assumed", "review_period_months", None, f"{months}, the policy in qms.yaml")
        )
    data["review_period_months"] = months
    if isinstance(version, int) and version >= 2:
        built.gaps.append(
            Gap("assumed", "supersedes", None, f"the paper version {version - 1} of this document")
        )
    change = value(
        "change_control",
        lambda t: _change_control(t),
        "change_control",
    )
    if change:
        data["change_control"] = change
    reason = " ".join(fields.get("change_reason", "").split())
    origin = f"legacy document {built.legacy_id}" if built.legacy_id else "a legacy document"
    data["change_reason"] = (
        f"{reason} (Migrated from {origin}, version {version}.)"
        if reason
        else f"Migrated from {origin}, version {version}, by qms import."
    )
    audience_text = fields.get("audience") or defaults.get("audience", "")
    found, unknown = _audiences(audience_text, config)
    for token in unknown:
        built.gaps.append(
            Gap(
                "unreadable", "training.audience", None, f"'{token}' is not an audience of qms.yaml"
            )
        )
    if not fields.get("audience") and defaults.get("audience"):
        built.gaps.append(
            Gap("default", "training.audience", None, "not in the document; --default")
        )
    if not found:
        built.refused.append("no training audience of qms.yaml; give --default audience=GROUP")
    data["training"] = {"audience": found, "window_days": config.due.training_window_days}
    data["retention_years"] = 30
    for role, key, date_key in (
        ("reviewed", "reviewed", None),
        ("approved", "approved", "approved_on"),
    ):
        if fields.get(key):
            entry = _approval(role, fields[key])
            if date_key and fields.get(date_key) and "date" not in entry:
                entry["date"] = " ".join(fields[date_key].split())[:200]
            built.approvals.append(entry)
    if not built.approvals:
        built.gaps.append(
            Gap(
                "missing", "migration.legacy_approval", None, "no approval recorded in the document"
            )
        )
    built.gaps.append(
        Gap(
            "note",
            None,
            None,
            "a draft until reviewed and approved here: paper signatures are not carried over",
        )
    )
    built.body = sop.body
    return built


def _area(text: str, config: QmsConfig) -> str:
    key = slug(text)
    if key in config.areas:
        return key
    raise ValueProblem(f"the area '{text}' is not an area of qms.yaml")


def _change_control(text: str) -> str:
    text = text.strip()
    if not re.fullmatch(r"CC-[0-9]{4}-[0-9]{3,5}", text):
        raise ValueProblem(f"the change control '{text}' is not of the form CC-2026-014")
    return text
