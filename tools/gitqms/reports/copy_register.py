"""The register of issued controlled copies, as plain data: every copy record of the published
commit, whether its `issued` signature counts on the day, and whether the version it copies is
still the one to work to (a copy of a superseded or retired version must be withdrawn).

Read from the same snapshot and document entries as the rest of the site: a copy record's
state is "issued" only while a valid `issued` signature covers its exact content, so a record
edited after its issue (which the gate refuses) never shows as a valid copy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..lifecycle.status import RecordStatus
from ..rules.copies import COPY_KIND
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
    issued_by: str  # person ID as recorded
    issued_by_name: str  # printed name from the registry ("" when unknown)
    issued_at: str  # UTC, as recorded
    counts: bool  # a valid 'issued' signature covers the record on the day
    standing: str  # IN_FORCE, NOT_YET or WITHDRAW (and why) for the version copied
    notes: tuple[str, ...] = ()


def copy_entries(
    records: Iterable[RecordStatus], sops: Iterable[SopEntry], people: Mapping[str, str]
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
        issued_by = str(data.get("issued_by") or "")
        found.append(
            CopyEntry(
                record=record.id,
                copy=number if isinstance(number, int) else None,
                document=str(document or ""),
                version=version if isinstance(version, int) else None,
                content=content if isinstance(content, str) else "",
                location=str(data.get("location") or ""),
                issued_by=issued_by,
                issued_by_name=people.get(issued_by, ""),
                issued_at=str(data.get("issued_at") or ""),
                counts=record.state == ISSUED,
                standing=standing(
                    by_id.get(str(document)),
                    version if isinstance(version, int) else None,
                    content if isinstance(content, str) else "",
                ),
                notes=record.notes,
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
