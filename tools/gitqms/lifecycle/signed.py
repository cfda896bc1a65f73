"""The valid signatures of a verified history, gathered per record and per signed content."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property, partial
from typing import Any
from weakref import WeakKeyDictionary

from ..records.lifecycles import EXTENSION_MEANING
from ..signatures.claims import record_data
from ..signatures.marks import Graph
from ..signatures.verify import Verdict, Walk


@dataclass(frozen=True, kw_only=True)
class Signature:
    record: str
    meaning: str
    version: str | None  # as the trailer names it: a document's version, a record's state
    content: str  # sha256 of the record's bytes that the signature covers
    person: str
    name: str  # printed name
    role: str | None
    when: datetime  # committer date, UTC
    commit: str
    reason: str | None
    # When it reached the walked branch's first-parent line (the merge that brought it, never
    # before an earlier commit of that line): the signer chooses `when`, not this.
    entered: datetime | None = None

    @property
    def counts_from(self) -> datetime:
        """From when the signature counts on the walked branch: its own date, or the day it
        was merged in if that was later. A back-dated signature on a branch cannot make a
        version approved, or its training window start, before it reached the branch."""
        return max(self.when, self.entered) if self.entered else self.when

    @classmethod
    def of(cls, verdict: Verdict, content: str, entered: datetime | None = None) -> Signature:
        assert verdict.person is not None
        return cls(
            record=verdict.record,
            meaning=verdict.meaning,
            version=verdict.version,
            content=content,
            person=verdict.person,
            name=verdict.signer,
            role=verdict.role,
            when=verdict.when,
            commit=verdict.commit,
            reason=verdict.reason,
            entered=entered,
        )


@dataclass
class SignedContent:
    """One exact content of a record, with every valid signature made on it."""

    content: str
    commit: str  # the first commit that signed it: where the content is read from
    signatures: list[Signature] = field(default_factory=list)
    read: Callable[[], object] = field(default=lambda: None, repr=False, compare=False)

    @cached_property
    def data(self) -> dict[str, Any] | None:
        """Its fields, None when they do not parse. Read when first asked for: most signed
        contents of CAPAs and deviations are judged by their signatures alone."""
        value = self.read()
        return value if isinstance(value, dict) else None

    def parsed(self, data: dict[str, Any]) -> None:
        """Its fields as the caller parsed them from the same bytes (the committed file), so
        they are not read and parsed again."""
        if "data" not in self.__dict__:
            self.__dict__["data"] = data


def signed_contents(
    walk: Walk, records: Collection[str] | None = None
) -> dict[str, dict[str, SignedContent]]:
    """record -> content hash -> what was validly signed on it, oldest signature first (for
    `records` only, when given)."""
    result: dict[str, dict[str, SignedContent]] = {}
    entered = walk_entry_times(walk)
    for verdict in walk.report.verdicts:
        if records is not None and verdict.record not in records:
            continue
        content = walk.claimed_content(verdict)
        if not verdict.ok or verdict.person is None or content is None:
            continue
        by_content = result.setdefault(verdict.record, {})
        if content not in by_content:
            by_content[content] = SignedContent(
                content, verdict.commit, read=partial(_read, walk, verdict.commit, verdict.record)
            )
        by_content[content].signatures.append(
            Signature.of(verdict, content, entered.get(verdict.commit))
        )
    return result


def first_parent_line(graph: Graph) -> list[str]:
    """The commits of the last commit's (the walked tip's) first-parent line, oldest first."""
    parents = dict(graph)
    line: list[str] = []
    commit: str | None = graph[-1][0] if graph else None
    while commit is not None and commit in parents:
        line.append(commit)
        commit = parents[commit][0] if parents[commit] else None
    return line[::-1]


_ENTERED: WeakKeyDictionary[Walk, tuple[int, Mapping[str, datetime]]] = WeakKeyDictionary()


def walk_entry_times(walk: Walk) -> Mapping[str, datetime]:
    """`entry_times` of the walk's history, worked out once per walk and length of history
    (several rules of one check ask for it)."""
    graph = walk.graph()
    kept = _ENTERED.get(walk)
    if kept is None or kept[0] != len(graph):
        kept = _ENTERED[walk] = (len(graph), entry_times(graph, walk.commit_times()))
    return kept[1]


def entry_times(graph: Graph, dates: Mapping[str, datetime]) -> dict[str, datetime]:
    """commit -> when it reached the first-parent line of the last commit (the walked tip):
    the date (`dates`: each commit's committer date) of the first commit of that line that has
    it, or a later date of an earlier commit of the line (a merge may be back-dated too, but
    not behind the line it extends)."""
    parents = dict(graph)
    entered: dict[str, datetime] = {}
    latest: datetime | None = None
    for on_line in first_parent_line(graph):
        latest = dates[on_line] if latest is None else max(latest, dates[on_line])
        pending = [on_line]
        while pending:
            commit = pending.pop()
            if commit in entered or commit not in parents:
                continue
            entered[commit] = latest
            pending.extend(parents[commit])
    return entered


def _read(walk: Walk, commit: str, record: str) -> object:
    return record_data(walk.content_at(commit, record), record)


def extension_signed(
    signed: Mapping[str, SignedContent], extension: object, on: date | None = None
) -> bool:
    """Whether a deviation's investigation extension counts: its `approved_by` person signed
    'extended' on a content holding this very extension (on or before `on`, when given)."""
    if not isinstance(extension, dict):
        return False
    approver = extension.get("approved_by")
    return any(
        signature.meaning == EXTENSION_MEANING
        and signature.person == approver
        and (on is None or signature.counts_from.date() <= on)
        and investigation_extension(item.data) == extension
        for item in signed.values()
        for signature in item.signatures
    )


def investigation_extension(data: Mapping[str, Any] | None) -> object:
    investigation = (data or {}).get("investigation")
    return investigation.get("extension") if isinstance(investigation, dict) else None
