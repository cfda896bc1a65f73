"""The register of issued controlled copies, as plain data: every copy record of the published
commit, whether its `issued` signature counts on the day, and whether the version it copies is
still the one to work to (a copy of a superseded or retired version must be withdrawn).

Read from the same snapshot and document entries as the rest of the site, and judged by the
gate's own rules (`rules.copies.judge_copies`): a copy counts only while a valid `issued`
signature covers its exact content and no copy rule refuses it (a number skipped or taken, a
content never approved, an issuer or time other than the signature's). Who issued it and when
are the signature's signer and time, never the record's own `issued_by` / `issued_at`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC

from ..lifecycle.status import RecordStatus
from ..rules.copies import COPY_KIND, CopyJudgement
from .entries import SopEntry

ISSUED = "issued"  # the state of a copy record whose issue signature counts
IN_FORCE = "in force"
NOT_YET = "approved, not yet in force"
WITHDRAW = "to withdraw"


@dataclass(frozen=True, kw_only=True)
class CopyEntry:
    record: str  # COPY-YYYY-NNNN
    copy: int | None
    document: str
    version: int | None
    content: str  # sha256:HEX the record names
    location: str
    issued_by: str  # person ID of the 'issued' signature's signer ("" when none counts)
    issued_by_name: str  # the signer's printed name ("" when unknown)
    issued_at: str  # UTC, the 'issued' signature's time ("" when none counts)
    counts: bool  # signed 'issued' as it stands and refused by no copy rule
    standing: str  # IN_FORCE, NOT_YET or WITHDRAW (and why) for the version copied
    notes: tuple[str, ...] = ()


def copy_entries(
    records: Iterable[RecordStatus],
    sops: Iterable[SopEntry],
    people: Mapping[str, str],
    judged: Mapping[str, CopyJudgement],
) -> tuple[CopyEntry, ...]:
    """Every controlled copy's record, by document, version and copy number."""
    by_id = {sop.id: sop for sop in sops}
    found = []
    for record in records:
        if record.kind != COPY_KIND:
            continue
        data = record.data or {}
        document, version, number = data.get("document"), data.get("version"), data.get("copy")
        content = data.get("content_sha256")
        judgement = judged.get(record.id)
        issue = judgement.issue if judgement else None
        issued_by = issue.person if issue else ""
        why = judgement.why_not if judgement else ("its record cannot be read",)
        found.append(
            CopyEntry(
                record=record.id,
                copy=number if isinstance(number, int) else None,
                document=str(document or ""),
                version=version if isinstance(version, int) else None,
                content=content if isinstance(content, str) else "",
                location=str(data.get("location") or ""),
                issued_by=issued_by,
                issued_by_name=people.get(issued_by, issue.name if issue else ""),
                issued_at=f"{issue.when.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}" if issue else "",
                counts=record.state == ISSUED and judgement is not None and judgement.counts,
                standing=standing(
                    by_id.get(str(document)),
                    version if isinstance(version, int) else None,
                    content if isinstance(content, str) else "",
                ),
                notes=tuple(dict.fromkeys((*record.notes, *why))),
            )
        )
    return tuple(sorted(found, key=lambda c: (c.document, c.version or 0, c.copy or 0, c.record)))


def standing(sop: SopEntry | None, version: int | None, content: str) -> str:
    """Whether a copy of `version` (with `content`) is still the one to work to."""
    if sop is None or version is None:
        return f"{WITHDRAW}: the document is not published"
    for shown, status in ((sop.current, IN_FORCE), (sop.upcoming, NOT_YET)):
        if shown is None or shown.version != version:
            continue
        if shown.content and shown.content != content:
            return f"{WITHDRAW}: not the approved content of v{version}"
        if status == IN_FORCE and shown.status != "effective":
            return f"{WITHDRAW}: v{version} is {shown.status}"
        return status
    newer = sop.current.version if sop.current and sop.status == "effective" else None
    return f"{WITHDRAW}: superseded" + (f" by v{newer}" if newer else "")
