"""What a PDF copy of a document version shows, as plain data: the version exactly as the site
takes it (the bytes its approving commit holds, the signature lines of that content, its
status on the day, all from one verified walk of the history), the sha256 of those bytes, and
the controlled copies of it already issued on the branch.

Only approved versions are printed: the version in force, the approved one about to come into
force, or (marked as such) a superseded or obsolete one. A draft never is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date
from pathlib import Path
from typing import Any

from .. import git
from ..errors import QmsError, Refused
from ..lifecycle.documents import EFFECTIVE, DocumentStatus, Version
from ..lifecycle.signed import signed_contents
from ..lifecycle.status import snapshot
from ..records.kinds import BY_NAME, kind_of_id
from ..records.site_inputs import site_url_at
from ..rules.copies import COPY_KIND, CopyJudgement, copies_at, judge_copies
from ..signatures.claims import content_hash
from ..signatures.verify import trusted_registry, walk_history
from .entries import PublishedVersion, SopEntry
from .publication import Publication, held_releases, published_version, released_by

UPCOMING = "approved"  # the status of an approved version not yet in force
ISSUED = "issued"  # the meaning that issues a copy, and the state of a copy record it covers


@dataclass(frozen=True, kw_only=True)
class IssuedCopy:
    record: str  # COPY-YYYY-NNNN
    copy: int
    location: str
    issued_by: str  # the 'issued' signature's signer ("" when none covers the record)
    issued_at: str  # that signature's time, UTC ("" when none)
    signed: bool = True  # it counts: signed 'issued' as it stands, no copy rule refuses it
    why_not: tuple[str, ...] = ()  # why it does not count


@dataclass(frozen=True, kw_only=True)
class CopySource:
    """One approved document version, ready to print."""

    id: str
    title: str
    label: str  # the kind's label: SOP, work instruction, …
    kind: str
    organisation: str
    time_zone: str  # organisation.time_zone of the registry in force
    commit: str  # the published commit the status was derived at
    on: date
    version: PublishedVersion
    content_sha256: str  # sha256:HEX of the version's exact bytes (QMS-Content)
    current: bool  # the version in force on `on`
    site_url: str | None  # mkdocs.yml's site_url at the published commit
    issued: tuple[IssuedCopy, ...]  # controlled copies of this version on the branch
    people: Mapping[str, str]  # person ID -> printed name

    @property
    def next_copy(self) -> int:
        return max((c.copy for c in self.issued), default=0) + 1


def copy_source(
    root: Path, record_id: str, version: int | None, on: date, revision: str = "HEAD"
) -> CopySource:
    """The version of `record_id` to print: `version`, or the one in force on `on` (else the
    approved one about to be). QmsError when there is none, or it is not approved."""
    kind = kind_of_id(record_id)
    if kind is None or not kind.is_document:
        raise QmsError(
            f"{record_id} is not a controlled document",
            hint="name a document such as SOP-0003; only documents are printed as copies",
        )
    commit = git.rev_parse(root, f"{revision}^{{commit}}")
    if commit is None:
        raise QmsError(f"{revision} is not a commit of {root}", hint="commit the records first")
    walk = walk_history(root, [commit])
    config = trusted_registry(walk, commit, "nothing can be printed").config
    judged = judge_copies(walk, commit, signed_contents(walk), config)
    copies = issued_copies({r: j.data for r, j in judged.items()}, record_id, judged)
    shot = snapshot(root, walk, commit, on, [record_id, *(c.record for _, c in copies)], revision)
    states = {status.id: status.state for status in shot.records}
    record = next(status for status in shot.records if status.id == record_id)
    if record.document is None:
        raise QmsError(f"{record_id} cannot be read at {revision}", hint="; ".join(record.notes))
    chosen = _chosen(record.document, version, record_id)
    verdicts = released_by(config, walk.report.verdicts).get(record_id, [])
    policy = config.lifecycles.documents.get(record.kind)
    release = policy.release if policy is not None else "approved"
    held = held_releases(record.document)  # releases its change control holds: not counted
    published = published_version(walk, record_id, verdicts, chosen, release, held)
    content = walk.content_at(chosen.commit, record_id)
    if content is None or content_hash(content) != chosen.content:
        raise QmsError(
            f"{record_id} v{chosen.version}: the approved bytes cannot be read at "
            f"{chosen.commit[:12]}",
            hint="run `qms verify`; the repository may be incomplete",
        )
    title = published.fields.get("title")
    return CopySource(
        id=record_id,
        title=title if isinstance(title, str) else record.title,
        label=kind.label,
        kind=kind.name,
        organisation=config.organisation,
        time_zone=config.time_zone,
        commit=commit,
        on=on,
        version=published,
        content_sha256=chosen.content,
        current=record.document.current is not None
        and record.document.current.version == chosen.version
        and chosen.status == EFFECTIVE,
        site_url=site_url_at(root, commit),
        issued=tuple(
            replace(copy, signed=copy.signed and states.get(copy.record) == "issued")
            for number, copy in copies
            if number == chosen.version
        ),
        people={person.id: person.name for person in config.people},
    )


def published_source(
    publication: Publication, sop: SopEntry, version: PublishedVersion, site_url: str | None
) -> CopySource:
    """A published version as the site's PDF download prints it: from the publication's own
    data (no second walk), no issued copies (a download is never one)."""
    kind = kind_of_id(sop.id)
    return CopySource(
        id=sop.id,
        title=str(version.fields.get("title") or sop.title),
        label=kind.label if kind else "document",
        kind=kind.name if kind else "document",
        organisation=publication.organisation,
        time_zone=publication.time_zone,
        commit=publication.commit,
        on=publication.on,
        version=version,
        content_sha256=version.content,
        current=version is sop.current and version.status == EFFECTIVE,
        site_url=site_url,
        issued=(),
        people=dict(publication.people),
    )


def _chosen(document: DocumentStatus, version: int | None, record_id: str) -> Version:
    if version is None:
        chosen = document.current if document.current is not None else document.upcoming
        if chosen is None:
            raise QmsError(
                f"{record_id} has no approved version to print",
                hint="a draft is never printed; approve it first (`qms approve`)",
            )
        return chosen
    for approved in document.versions:
        if approved.version == version:
            return approved
    working = document.working
    if working is not None and working.version == version:
        raise QmsError(
            f"{record_id} v{version} is {working.status or 'a draft'}, not approved: a draft is "
            "never printed",
            hint="print an approved version, or approve this one first (`qms approve`)",
        )
    known = ", ".join(str(v.version) for v in document.versions) or "none"
    raise QmsError(
        f"{record_id} has no approved version {version}",
        hint=f"approved versions: {known}",
    )


def issued_copies(
    copies: Mapping[str, Mapping[str, Any]],
    record_id: str,
    judged: Mapping[str, CopyJudgement],
) -> list[tuple[int, IssuedCopy]]:
    """(version, copy) of every controlled copy of `record_id` recorded, by copy number, as
    the gate's copy rules judge it (`judged`)."""
    found = []
    for copy_id, data in copies.items():
        number, version = data.get("copy"), data.get("version")
        if data.get("document") != record_id or not isinstance(number, int):
            continue
        if not isinstance(version, int):
            continue
        judgement = judged.get(copy_id)
        issue = judgement.issue if judgement else None
        found.append(
            (
                version,
                IssuedCopy(
                    record=copy_id,
                    copy=number,
                    location=str(data.get("location", "")),
                    issued_by=issue.person if issue else "",
                    issued_at=f"{issue.when.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}" if issue else "",
                    signed=judgement is not None and judgement.counts,
                    why_not=judgement.why_not if judgement else ("its record cannot be read",),
                ),
            )
        )
    return sorted(found, key=lambda item: (item[0], item[1].copy))


def reprint_source(root: Path, copy_id: str, on: date) -> tuple[CopySource, IssuedCopy]:
    """The version an issued controlled copy carries, and the copy, to print it again: the
    same number, place, version and hash. QmsError for a record that is not a copy's;
    Refused for one whose issue does not count or whose version is no longer to be used."""
    kind = kind_of_id(copy_id)
    if kind is None or kind.name != COPY_KIND:
        raise QmsError(
            f"{copy_id} is not the ID of a controlled copy's record",
            hint="give the copy record's ID printed on the copy's manifest, such as "
            "COPY-2026-0001 (`qms list --kind controlled-copy`)",
        )
    commit = git.rev_parse(root, "HEAD^{commit}")
    if commit is None:
        raise QmsError(f"HEAD is not a commit of {root}", hint="commit the records first")
    data = copies_at(walk_history(root, [commit]), commit).get(copy_id)
    document, version = (data or {}).get("document"), (data or {}).get("version")
    if data is None or not isinstance(document, str) or not isinstance(version, int):
        raise QmsError(
            f"{copy_id} is not a controlled copy recorded at HEAD",
            hint="`qms list --kind controlled-copy` lists the copies issued on this branch",
        )
    source = copy_source(root, document, version, on)
    found = next((c for c in source.issued if c.record == copy_id), None)
    if found is None or not found.signed:
        why = "; ".join(found.why_not if found else ()) or f"no valid '{ISSUED}' signature"
        raise Refused(
            f"{copy_id} does not count as an issued copy ({why}), so it is not reprinted",
            hint=f"issue a new copy: qms pdf {document} --copy-for LOCATION",
        )
    if data.get("content_sha256") != source.content_sha256:
        raise Refused(
            f"{copy_id} names content {data.get('content_sha256')}, not the approved content "
            f"of {document} v{version}; it is not reprinted",
            hint=f"issue a new copy: qms pdf {document} --copy-for LOCATION",
        )
    if source.version.status not in (EFFECTIVE, UPCOMING):
        raise Refused(
            f"{copy_id} is copy {found.copy} of {document} v{version}, which is "
            f"{source.version.status} on {on}: withdraw it, do not reprint it",
            hint=f"issue a copy of the version in force: qms pdf {document} --copy-for "
            f"{found.location!r}",
        )
    return source, found


__all__ = ["BY_NAME", "COPY_KIND", "CopySource", "IssuedCopy", "copy_source", "reprint_source"]


@dataclass(frozen=True)
class CopyCheck:
    ok: bool
    lines: tuple[str, ...]


def check_copy(
    root: Path, record_id: str, version: int, sha256: str, copy: int | None, on: date
) -> CopyCheck:
    """Whether a printed copy is what the repository approved and still in force on `on`: the
    hash is recomputed from the approved bytes in git, never taken from the copy."""
    source = copy_source(root, record_id, version, on)
    given = sha256.strip().lower().removeprefix("sha256:")
    lines = []
    matches = source.content_sha256 == f"sha256:{given}"
    if matches:
        lines.append(
            f"{record_id} v{version}: the copy's sha256 matches the approved content "
            f"(read from commit {source.version.commit[:12]})"
        )
    else:
        lines.append(
            f"{record_id} v{version}: the copy's sha256 does NOT match the approved content, "
            f"which is {source.content_sha256}: this is not a true copy"
        )
    status = source.version.status
    in_force = status in (EFFECTIVE, UPCOMING)
    lines.append(
        f"status on {on}: {status}"
        + ("" if in_force else " (not in force: withdraw the copy)")
        + (f", effective from {source.version.effective_from}" if status == UPCOMING else "")
    )
    recorded = True
    if copy is not None:
        numbered = sorted((c for c in source.issued if c.copy == copy), key=lambda c: not c.signed)
        found = numbered[0] if numbered else None
        recorded = found is not None and found.signed
        lines.append(
            f"controlled copy {copy}: issued {found.issued_at or '(unsigned)'} by "
            f"{found.issued_by or '(no one)'} for "
            f"{found.location} ({found.record})"
            + ("" if found.signed else ", but it does NOT count: " + "; ".join(found.why_not))
            if found
            else f"controlled copy {copy} of {record_id} v{version} is NOT recorded"
        )
    lines.append(f"copies of this version recorded: {len(source.issued)}")
    return CopyCheck(matches and in_force and recorded, tuple(lines))
