"""What the published site shows, as plain data: the controlled versions of the documents of
every document kind (SOPs, …) with their signatures, the records of every kind with a state
machine (CAPAs, deviations, …) with their audit trails, and the dashboards' figures.

Everything is read from Git objects and judged by one verified walk of the history; the site
only lays it out. A document's text comes from the exact bytes that were signed, never from the
working tree, so a draft on the branch cannot reach the controlled site.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from .. import git
from ..audit.record_log import LogEntry
from ..audit.trail import record_trails
from ..errors import QmsError
from ..lifecycle.documents import DRAFT, DocumentStatus, Version
from ..lifecycle.signed import signed_contents
from ..lifecycle.status import NOT_A_FILE, RecordStatus, Snapshot, known_kind, snapshot
from ..lifecycle.training import Matrix, matrix_of
from ..records.config import QmsConfig
from ..records.kinds import KINDS, Kind, KindSet, active_kinds, kind_of_id
from ..rules.copies import judge_copies
from ..signatures.claims import record_data
from ..signatures.verify import Verdict, Walk, trusted_registry, walk_history
from .copy_register import CopyEntry, copy_entries
from .entries import PublishedVersion, RecordEntry, SignatureLine, SopEntry
from .inbox import Inbox, everyone
from .metrics import Metrics, metrics


def record_id_pattern(kinds: Iterable[Kind] = KINDS) -> re.Pattern[str]:
    """An ID of any of `kinds`, as a word in a text: SOP-0003, CAPA-2026-0001, …"""
    forms = sorted(
        re.escape(kind.prefix) + (r"-\d{4}-\d{4}" if kind.yearly else r"-\d{4}") for kind in kinds
    )
    return re.compile(rf"\b(?:{'|'.join(forms)})\b")


_RECORD_ID = record_id_pattern()


@dataclass(frozen=True, kw_only=True)
class Publication:
    commit: str
    on: date
    organisation: str
    areas: Mapping[str, str]
    sops: tuple[SopEntry, ...]
    records: tuple[RecordEntry, ...]
    metrics: Metrics
    drafts: bool
    notes: tuple[str, ...]
    people: Mapping[str, str]  # person ID -> printed name
    trust_root: str | None
    signatures: int  # signature commits judged in the history
    invalid: tuple[Verdict, ...]  # signatures that do not count, with why
    # the kinds in force at the commit: only their records and registers are published
    kinds: KindSet = field(default_factory=active_kinds)
    training: Matrix | None = None  # who is trained on which version in force, on `on`
    audiences: Mapping[str, str] = field(default_factory=dict)  # training audience -> who
    # person ID -> what waits for them at the published commit (that commit only, no branch;
    # signatures on document drafts only in a drafts preview)
    inboxes: Mapping[str, Inbox] = field(default_factory=dict)
    time_zone: str = "UTC"  # organisation.time_zone
    recent_days: int = 30  # publication.recent_days: the window of "What is new"
    copies: tuple[CopyEntry, ...] = ()  # every controlled copy's record, as judged on `on`

    def of_kind(self, kind: str) -> list[RecordEntry]:
        return [record for record in self.records if record.kind == kind]


def publication(
    root: Path, on: date, *, drafts: bool = False, revision: str = "HEAD"
) -> Publication:
    commit = git.rev_parse(root, f"{revision}^{{commit}}")
    if commit is None:
        raise QmsError(f"{revision} is not a commit of {root}", hint="commit the records first")
    walk = walk_history(root, [commit])
    config = trusted_registry(
        walk,
        commit,
        "nothing can be published",
        hint="run `qms verify` to see why; `qms init` or `qms demo` make a signed repository",
    ).config
    shot = snapshot(root, walk, commit, on, signed=(signed := signed_contents(walk)))
    _refuse_broken(shot, commit)
    # the records of every kind with a state machine (an audit-trail review has no page)
    records = [r for r in shot.records if r.kind in config.lifecycles.machines]
    record_fields = {r.id: r.data or {} for r in records}
    links, linked_from = _links(config, record_fields)
    trails = record_trails(walk, [r.id for r in shot.records])
    verdicts = released_by(config, walk.report.verdicts)
    sops = tuple(
        _sop_entry(
            walk,
            config,
            record,
            linked_from.get(record.id, []),
            drafts,
            trails.get(record.id, []),
            verdicts.get(record.id, []),
        )
        for record in shot.records
        if record.document is not None  # a document of any document kind
    )
    entries = tuple(
        RecordEntry(
            id=record.id,
            kind=record.kind,
            title=record.title,
            state=record.state,
            signed_state=record.signed_state,
            unsigned_state=record.unsigned_state,
            fields=record_fields[record.id],
            due=record.due,
            links=links[record.id],
            trail=tuple(trails.get(record.id, ())),
            notes=record.notes,
        )
        for record in records
    )
    matrix = matrix_of(walk, shot, signed)
    return Publication(
        commit=commit,
        on=on,
        organisation=config.organisation,
        areas=dict(config.areas),
        sops=(
            published := tuple(s for s in sops if drafts or s.current or s.upcoming or s.archive)
        ),
        records=entries,
        metrics=metrics(entries, config, on, config.kinds.kinds),
        drafts=drafts,
        notes=tuple(shot.notes),
        people=(people := {person.id: person.name for person in config.people}),
        trust_root=walk.report.trust_root,
        signatures=len(walk.report.verdicts),
        invalid=tuple(walk.report.failures),
        kinds=config.kinds,
        training=matrix,
        audiences=dict(config.audiences),
        inboxes={
            person: found if drafts else found.without_drafts()  # no draft on the site
            for person, found in everyone(config, walk, shot, matrix, commit[:12]).items()
        },
        time_zone=config.time_zone,
        recent_days=config.recent_days,
        copies=copy_entries(
            shot.records, published, people, judge_copies(walk, commit, signed, config)
        ),
    )


def _refuse_broken(shot: Snapshot, commit: str) -> None:
    """Never a site without a record: its last good build stays up until it is repaired."""
    if broken := [note for r in shot.records if r.state == NOT_A_FILE for note in r.notes]:
        raise QmsError(
            f"the site cannot be built at {commit[:12]}: " + "; ".join(broken),
            hint="`qms check` names the commit that replaced it",
        )


def _links(
    config: QmsConfig, record_fields: Mapping[str, Mapping[str, Any]]
) -> tuple[dict[str, tuple[str, ...]], dict[str, list[str]]]:
    """Record -> the records it names, and record -> the published records naming it."""
    pattern = record_id_pattern(config.kinds.kinds)
    links = {
        record_id: record_links(known_kind(record_id), fields, record_id, pattern)
        for record_id, fields in record_fields.items()
    }
    linked_from: dict[str, list[str]] = {}
    for other, named in sorted(links.items()):
        for record_id in named:
            linked_from.setdefault(record_id, []).append(other)
    return links, linked_from


def released_by(config: QmsConfig, found: Sequence[Verdict]) -> dict[str, list[Verdict]]:
    """Record -> its signatures for the signature block: those that release, review or retire
    a version, not the read-and-understood signatures of training."""
    verdicts: dict[str, list[Verdict]] = {}
    for verdict in found:
        if not _acknowledgement(config, verdict):
            verdicts.setdefault(verdict.record, []).append(verdict)
    return verdicts


def _acknowledgement(config: QmsConfig, verdict: Verdict) -> bool:
    """Whether `verdict` is a read-and-understood signature (a meaning its audience signs):
    training, not part of a version's signature block."""
    kind = kind_of_id(verdict.record)
    rules = config.signatures.get(kind.name, {}) if kind is not None else {}
    rule = rules.get(verdict.meaning)
    return rule is not None and rule.audience


def record_links(
    kind: Kind, fields: Mapping[str, Any], own: str, pattern: re.Pattern[str] = _RECORD_ID
) -> tuple[str, ...]:
    """The other records a record names: the IDs in the fields its kind declares as links and
    references, and those its text mentions anywhere else (a deviation's description naming
    another deviation), IDs of the kinds `pattern` matches."""
    declared = (*(link.field for link in kind.declared.links), *kind.declared.references)
    named = {
        match
        for path in declared
        for _, value in path.found(fields)
        for text in _strings(value)
        for match in pattern.findall(text)
    }
    mentioned = {match for text in _strings(fields) for match in pattern.findall(text)}
    return tuple(sorted((named | mentioned) - {own}))


def _strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


# (commit, meaning, content) of a valid release signature -> why its change control held it:
# `DocumentStatus.held`, the very signatures the derived status leaves out
Held = Mapping[tuple[str, str, str], str]


def held_releases(document: DocumentStatus) -> Held:
    return {
        (h.signature.commit, h.signature.meaning, h.signature.content): h.problem
        for h in document.held
    }


def _signature_lines(
    walk: Walk, verdicts: Sequence[Verdict], content: str, held: Held | None = None
) -> tuple[SignatureLine, ...]:
    """The lines of the signatures, among a record's `verdicts`, made on exactly `content`;
    a valid one its change control `held` is shown as held, not as valid."""
    lines = []
    for verdict in verdicts:
        if walk.claimed_content(verdict) != content:
            continue
        why = (held or {}).get((verdict.commit, verdict.meaning, content))
        if not verdict.ok:
            said = "invalid: " + "; ".join(verdict.problems)
        elif why is not None:  # the first clause: what held it, not the remedy
            said = f"held: signature verified, not counted: {why.split(': ', 1)[0]}"
        else:
            said = "valid"
        lines.append(
            SignatureLine(
                name=verdict.signer,
                person=verdict.person,
                role=verdict.role,
                meaning=verdict.meaning,
                when=verdict.when,
                verdict=said,
                reason=verdict.reason,
                commit=verdict.commit,
            )
        )
    return tuple(lines)


def published_version(
    walk: Walk,
    record_id: str,
    verdicts: Sequence[Verdict],
    version: Version,
    release: str = "approved",
    held: Held | None = None,
) -> PublishedVersion:
    """A version as signed; `release`: the meaning of its approvers' signatures; `held`: the
    release signatures the derived status does not count (neither shown valid nor approvers)."""
    data = record_data(walk.content_at(version.commit, record_id), record_id)
    fields = dict(data) if isinstance(data, dict) else dict(version.data)
    body = fields.pop("(body)", "")
    lines = _signature_lines(walk, verdicts, version.content, held)
    return PublishedVersion(
        version=version.version,
        status=version.status,
        fields=fields,
        body=body if isinstance(body, str) else "",
        commit=version.commit,
        approved_on=version.approved_on,
        effective_from=version.effective_from,
        until=version.until,
        signatures=lines,
        content=version.content,
        approvers=tuple(s for s in lines if s.meaning == release and s.verdict == "valid"),
    )


def _sop_entry(
    walk: Walk,
    config: QmsConfig,
    record: RecordStatus,
    related: list[str],
    drafts: bool,
    trail: list[LogEntry],
    verdicts: Sequence[Verdict],
) -> SopEntry:
    document: DocumentStatus | None = record.document
    assert document is not None
    policy = config.lifecycles.documents.get(record.kind)
    release = policy.release if policy is not None else "approved"
    held = held_releases(document)
    versions = [
        published_version(walk, record.id, verdicts, v, release, held) for v in document.versions
    ]
    by_number = {v.version: v for v in versions}
    current = by_number.get(document.current.version) if document.current else None
    upcoming = by_number.get(document.upcoming.version) if document.upcoming else None
    archive = tuple(v for v in reversed(versions) if v.status in ("superseded", "obsolete"))
    draft = None
    if drafts and document.working is not None:
        working = document.working
        data = dict(working.data)
        body = data.pop("(body)", "")
        draft = PublishedVersion(
            version=working.version,
            status=working.status or DRAFT,
            fields=data,
            body=body if isinstance(body, str) else "",
            commit=working.commit,
            approved_on=None,
            effective_from=None,
            until=None,
            signatures=tuple(_signature_lines(walk, verdicts, working.content, held)),
        )
    if not drafts:  # the controlled site: only the signatures of approved versions, so no
        # draft's wording (a title or reason in a change summary) reaches a page or the search
        signed_approved = {line.commit for v in versions for line in v.signatures}
        trail = [
            replace(entry, summary="signature")
            for entry in trail
            if entry.commit in signed_approved and entry.verdict != "not a signature"
        ]
    shown = current or upcoming or draft
    owner_id = shown.fields.get("owner") if shown else None
    owner = config.person(owner_id) if isinstance(owner_id, str) else None
    area = shown.fields.get("area") if shown else None
    return SopEntry(
        id=record.id,
        title=record.title,
        area=area if isinstance(area, str) else None,
        owner=owner.name if owner else (owner_id if isinstance(owner_id, str) else None),
        status=record.state,
        current=current,
        upcoming=upcoming,
        archive=archive,
        revisions=tuple(reversed(versions)),
        draft=draft,
        next_review=document.next_review,
        last_review=document.last_review,
        related=tuple(related),
        notes=record.notes,
        trail=tuple(trail),
        replaced_by=document.superseded_by,
    )


__all__ = [
    "Publication",
    "PublishedVersion",
    "RecordEntry",
    "SignatureLine",
    "Snapshot",
    "SopEntry",
]
