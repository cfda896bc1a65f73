"""A legacy SOP document made into an SOP record: front matter from its metadata, gaps named."""

from __future__ import annotations

import re
from collections.abc import Callable
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
    """The SOP record's front matter, field by field in this order, each gap and refusal named."""
    built = BuiltSop()
    fields, data = sop.fields, built.data
    read = _Reader(sop, defaults, built)
    built.legacy_id = " ".join(fields.get("legacy_id", "").split())[:200] or None
    if built.legacy_id is None:
        built.gaps.append(Gap("missing", "migration.legacy_id", None, "no document number found"))
    data["title"] = _title(fields, built)
    version = read.value("version", _version, "version")
    if version is None and "version" not in fields:
        version = 1
        built.gaps.append(Gap("assumed", "version", None, "no version in the document; 1"))
    data["version"] = version
    data["owner"] = _owner(read, config)
    if data["owner"] is None:
        built.refused.append("no owner who is a person in qms.yaml; give --default owner=ID")
    data["area"] = read.value("area", lambda t: _area(t, config), "area")
    if data["area"] is None:
        built.refused.append("no area of qms.yaml; give --default area=AREA")
    _effective_date(sop, order, built)
    data["review_period_months"] = _review_months(read, config)
    if isinstance(version, int) and version >= 2:
        built.gaps.append(
            Gap("assumed", "supersedes", None, f"the paper version {version - 1} of this document")
        )
    change = read.value("change_control", _change_control, "change_control")
    if change:
        data["change_control"] = change
    reason = " ".join(fields.get("change_reason", "").split())
    origin = f"legacy document {built.legacy_id}" if built.legacy_id else "a legacy document"
    data["change_reason"] = (
        f"{reason} (Migrated from {origin}, version {version}.)"
        if reason
        else f"Migrated from {origin}, version {version}, by qms import."
    )
    audience = _audience(fields, defaults, config, built)
    data["training"] = {"audience": audience, "window_days": config.due.training_window_days}
    data["retention_years"] = 30
    _approvals(fields, built)
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


@dataclass(frozen=True)
class _Reader:
    """Fields read from the document, else from --default, into `built`'s gaps and refusals."""

    sop: LegacySop
    defaults: dict[str, str]
    built: BuiltSop

    def value(self, key: str, reader: Callable[[str], Any], what: str) -> Any:
        """The field read from the document, else from --default; None (with a gap) if neither."""
        text, built = self.sop.fields.get(key), self.built
        if text:
            try:
                return reader(text)
            except ValueProblem as problem:
                if key not in self.defaults:
                    built.gaps.append(Gap("unreadable", what, _from(self.sop, key), str(problem)))
                    built.refused.append(f"{what}: {problem}")
                    return None
                built.gaps.append(
                    Gap("default", what, _from(self.sop, key), f"{problem}; --default")
                )
        if key in self.defaults:
            if not text:
                built.gaps.append(Gap("default", what, None, "not in the document; --default"))
            try:
                return reader(self.defaults[key])
            except ValueProblem as problem:
                built.refused.append(f"--default {key}: {problem}")
                return None
        return None


def _title(fields: dict[str, str], built: BuiltSop) -> str:
    title = " ".join(fields.get("title", "").split())
    if not title:
        built.gaps.append(Gap("placeholder", "title", None, "no title in the document"))
        return PLACEHOLDER_TEXT
    if len(title) > 200:
        built.gaps.append(Gap("assumed", "title", None, "shortened to 200 characters"))
        return title[:199].rstrip() + "…"
    return title


def _owner(read: _Reader, config: QmsConfig) -> str | None:
    """The owner named in the document (or by --default); else its author, if a person here."""
    fields, built = read.sop.fields, read.built
    owner = None
    if "owner" not in fields and fields.get("author"):
        try:
            owner = read_person(fields["author"], config)
            built.gaps.append(Gap("assumed", "owner", _from(read.sop, "author"), "the author"))
        except ValueProblem as problem:
            built.gaps.append(Gap("unreadable", "owner", _from(read.sop, "author"), str(problem)))
    if owner is None:
        owner = read.value("owner", lambda t: read_person(t, config), "owner")
    return owner


def _effective_date(sop: LegacySop, order: DayOrder, built: BuiltSop) -> None:
    effective = sop.fields.get("effective_date")
    if not effective:
        return
    try:
        built.data["effective_date"] = read_moment(effective, order).date_text()
    except ValueProblem as problem:
        kind: GapKind = "ambiguous" if problem.ambiguous else "unreadable"
        built.gaps.append(Gap(kind, "effective_date", _from(sop, "effective_date"), str(problem)))
        built.refused.append(
            f"effective date: {problem}"
            + ("; rerun with --day-first or --month-first" if problem.ambiguous else "")
        )


def _review_months(read: _Reader, config: QmsConfig) -> int:
    months: int | None = read.value("review_period", _months, "review_period_months")
    if months is None and "review_period_months" in read.defaults:
        months = read.value("review_period_months", _months, "review_period_months")
    if months is None:
        months = config.due.sop_review_months
        read.built.gaps.append(
            Gap("assumed", "review_period_months", None, f"{months}, the policy in qms.yaml")
        )
    return months


def _audience(
    fields: dict[str, str], defaults: dict[str, str], config: QmsConfig, built: BuiltSop
) -> list[str]:
    found, unknown = _audiences(fields.get("audience") or defaults.get("audience", ""), config)
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
    return found


def _approvals(fields: dict[str, str], built: BuiltSop) -> None:
    """The paper approvals as written, kept in the migration block; they sign nothing here."""
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
