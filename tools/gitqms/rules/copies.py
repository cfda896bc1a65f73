"""The gate's controlled-copy rules (the kind whose `special` is "controlled-copy"):

- `copy.number-taken`: two records of the branch give one document version the same copy
  number (two issues made on two branches and merged: the later one must be issued again);
- `copy.number-skipped`: a copy number is not the next of its document version (copy 3
  recorded where copies 1 and 2 are not);
- `copy.not-approved`: the record names a content that no valid signature approved as that
  version of the document (a copy of a draft, or of bytes that were never released);
- `copy.issuer`: the record's `issued_by` is not the person who signed it `issued`;
- `copy.issued-at`: its `issued_at` is not the time of that signature (the signer picks the
  committer date too, but the record and the signature must tell one story: `qms pdf` writes
  both from git's clock, seconds apart, so more than ISSUE_TOLERANCE apart is refused);
- `record.closed`, `state.signature` (special.py): an issue is written once, in the commit
  its issuer signs `issued`, and never edited.

`judge_copies` is the one place that decides whether a copy record counts: the gate reports
its breaches for the records a commit adds; the register, `qms pdf --reprint` and
`qms verify-copy` take a copy as issued only when it counts (a valid `issued` signature on its
exact content, and no breach), and name who signed the issue and when from that signature,
never from the record's own claims.

Copy numbers are derived from the records on the branch, never from a counter: each commit
that adds a copy record is judged with every copy record at that commit, so a merge that
brings a second "copy 2" of a version is refused where it lands.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..history.read import Step, record_entries
from ..lifecycle.signed import Signature, SignedContent, first_parent_line, signed_contents
from ..records.config import QmsConfig
from ..records.kinds import BY_NAME, ISSUED_MEANING, kind_of_id
from ..signatures.claims import content_hash, record_data
from ..signatures.marks import Graph
from ..signatures.verify import Verdict, Walk
from .change_control import ConfigAt, Found
from .violations import Breach

COPY_KIND = "controlled-copy"
ISSUE_TOLERANCE = timedelta(minutes=5)  # record's issued_at vs its signature's time
NOT_SIGNED = (
    "no valid 'issued' signature covers the record as it stands (edited after its issue, "
    "or never signed)"
)


@dataclass(frozen=True, kw_only=True)
class CopyJudgement:
    """One copy record as the rules judge it at a commit."""

    record: str
    data: Mapping[str, Any]
    issue: Signature | None  # the first valid 'issued' signature on its exact content
    breaches: tuple[Breach, ...]

    @property
    def counts(self) -> bool:
        """Whether it is an issued controlled copy: signed as it stands, no rule broken."""
        return self.issue is not None and not self.breaches

    @property
    def why_not(self) -> tuple[str, ...]:
        return ((NOT_SIGNED,) if self.issue is None else ()) + tuple(
            b.message for b in self.breaches
        )


def copy_rules(
    walk: Walk,
    steps: Sequence[Step],
    verdicts: Mapping[str, Sequence[Verdict]],
    config_at: ConfigAt,
) -> Iterator[Found]:
    """The breaches of the copy records added by the commits `steps`."""
    kind = BY_NAME[COPY_KIND]
    adding = [
        step
        for step in steps
        if any(
            kind_of_id(r) is kind and c.old_blob is None and c.new_blob
            for r, c in step.records.items()
        )
    ]
    if not adding:
        return
    signed, order = signed_contents(walk), entry_order(walk.graph())
    for step in adding:
        added = {r for r, c in step.records.items() if kind_of_id(r) is kind and c.new_blob}
        config = config_at(step.commit.id)
        judged = judge_copies(walk, step.commit.id, signed, config, added, order)
        for record in sorted(added & judged.keys()):
            for breach in judged[record].breaches:
                yield Found(step.commit.id, record, breach)


def judge_copies(
    walk: Walk,
    commit: str,
    signed: Mapping[str, Mapping[str, SignedContent]],
    config: QmsConfig | None,
    newer: Collection[str] = (),
    order: Mapping[str, int] | None = None,
) -> dict[str, CopyJudgement]:
    """Every copy record at `commit` that parses, judged. Of two records with one number,
    the one whose issue reached the branch first keeps it (the records `newer`, which a
    commit adds, come after every other)."""
    records = copy_records_at(walk, commit)
    issues = {record: _issue(signed.get(record, {}).get(c)) for record, (c, _) in records.items()}
    latest = datetime.max.replace(tzinfo=UTC)
    entered = order if order is not None else entry_order(walk.graph())

    def rank(record: str) -> tuple[bool, int, datetime, str]:
        issue = issues[record]
        if issue is None:
            return (record in newer, len(entered), latest, record)
        return (record in newer, entered.get(issue.commit, len(entered)), issue.when, record)

    copies = {record: records[record][1] for record in sorted(records, key=rank)}
    return {
        record: CopyJudgement(
            record=record,
            data=data,
            issue=issues[record],
            breaches=tuple(_breaches(record, data, copies, signed, config, issues[record])),
        )
        for record, data in copies.items()
    }


def entry_order(graph: Graph) -> dict[str, int]:
    """commit -> the place on the walked tip's first-parent line where it arrived (a commit
    merged in takes its merge's place): of two issues, the one on the branch first."""
    parents = dict(graph)
    order: dict[str, int] = {}
    for place, on_line in enumerate(first_parent_line(graph)):
        pending = [on_line]
        while pending:
            commit = pending.pop()
            if commit not in order and commit in parents:
                order[commit] = place
                pending.extend(parents[commit])
    return order


def _issue(item: SignedContent | None) -> Signature | None:
    found = [s for s in (item.signatures if item else ()) if s.meaning == ISSUED_MEANING]
    return min(found, key=lambda s: (s.counts_from, s.commit)) if found else None


def copies_at(walk: Walk, commit: str) -> dict[str, Mapping[str, Any]]:
    """Every controlled copy's record at `commit` that parses: record ID -> its fields."""
    return {record: data for record, (_, data) in copy_records_at(walk, commit).items()}


def copy_records_at(walk: Walk, commit: str) -> dict[str, tuple[str, Mapping[str, Any]]]:
    """Every controlled copy's record at `commit` that parses: record ID -> (sha256 of its
    bytes, its fields)."""
    kind = BY_NAME[COPY_KIND]
    history = walk.history
    files, _ = record_entries(history.root, commit, history.prefix)
    blobs = {r: b for r, b in files.items() if kind_of_id(r) is kind}
    read = history.blobs(sorted(blobs.values()))
    found: dict[str, tuple[str, Mapping[str, Any]]] = {}
    for record, blob in sorted(blobs.items()):
        content = read.get(blob)
        data = record_data(content, record) if content is not None else None
        if content is not None and isinstance(data, dict):
            found[record] = (content_hash(content), data)
    return found


def _breaches(
    record: str,
    data: Mapping[str, Any],
    copies: Mapping[str, Mapping[str, Any]],
    signed: Mapping[str, Mapping[str, SignedContent]],
    config: QmsConfig | None,
    issue: Signature | None,
) -> Iterator[Breach]:
    """`copies` in rank order: of records sharing a number, the first keeps it."""
    if issue is not None:
        yield from _issuer_breaches(record, data, issue)
    document, version, number = data.get("document"), data.get("version"), data.get("copy")
    if not isinstance(document, str) or not isinstance(version, int) or not isinstance(number, int):
        return  # the schema reports it
    same = [
        (other.get("copy"), other_id)
        for other_id, other in copies.items()
        if other.get("document") == document and other.get("version") == version
    ]
    numbers = [n for n, _ in same if isinstance(n, int)]
    before = [i for n, i in same[: [i for _, i in same].index(record)] if n == number]
    if before:
        others = ", ".join(before)
        yield Breach(
            "copy.number-taken",
            f"{record} records copy {number} of {document} v{version}, which {others} "
            "already records",
            f"issue the copy again (`qms pdf {document} --version {version} --copy-for "
            "LOCATION`) and withdraw the sheet that carries the doubled number",
        )
    elif number > 1 and (number - 1) not in numbers:
        yield Breach(
            "copy.number-skipped",
            f"{record} records copy {number} of {document} v{version}, but no copy "
            f"{number - 1} of that version is recorded",
            f"issue copies with `qms pdf {document} --copy-for LOCATION`: it takes the next number",
        )
    content = data.get("content_sha256")
    item = signed.get(document, {}).get(content) if isinstance(content, str) else None
    if item is None or not _released_as(item, version, _release_meaning(config, document)):
        yield Breach(
            "copy.not-approved",
            f"{record} names content {content} as {document} v{version}, which no valid "
            "signature approved",
            "only approved versions are issued as controlled copies: `qms pdf DOC --version N "
            "--copy-for LOCATION` with an approved N",
        )


def _issuer_breaches(record: str, data: Mapping[str, Any], issue: Signature) -> Iterator[Breach]:
    """The record's `issued_by` and `issued_at` against the signature that issued it (the
    messages name the signed facts, never repeat the record's claim as if it were one)."""
    fix = "issue copies with `qms pdf DOC --copy-for LOCATION`: it writes what it signs"
    if data.get("issued_by") != issue.person:
        yield Breach(
            "copy.issuer",
            f"{record}'s issued_by does not name its issuer: {issue.name} ({issue.person}) "
            f"signed it '{ISSUED_MEANING}' in {issue.commit[:12]}",
            fix,
        )
    when = _moment(data.get("issued_at"))
    if when is None or abs(when - issue.when) > ISSUE_TOLERANCE:
        yield Breach(
            "copy.issued-at",
            f"{record}'s issued_at is not when it was signed '{ISSUED_MEANING}' "
            f"({issue.when.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC, commit {issue.commit[:12]}): "
            f"more than {int(ISSUE_TOLERANCE.total_seconds() // 60)} minutes apart",
            fix,
        )


def _moment(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _release_meaning(config: QmsConfig | None, document: str) -> str:
    kind = kind_of_id(document)
    if config is None or kind is None or kind.name not in config.lifecycles.documents:
        return "approved"
    return config.lifecycles.documents[kind.name].release


def _released_as(item: SignedContent, version: int, meaning: str) -> bool:
    """Whether a signed content of a document was signed `meaning` (the release) as `version`."""
    return any(s.meaning == meaning and s.version == str(version) for s in item.signatures)
