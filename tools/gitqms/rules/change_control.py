"""The gate's change-control rules (the kind whose `special` is "change-control"):

- `change-control.not-approved`: a document version released in the range (its release
  signature, `approved`) names a change control that was not approved, as a signed content,
  when the release was made, or that does not list the version (lifecycle/change_control.py);
- `change-control.documents-not-effective`: a change control was closed in the range while a
  document version it lists was not yet effective on the day it was closed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..history.read import Step
from ..lifecycle.change_control import (
    SPECIAL,
    ChangeControls,
    ContentAt,
    affected,
    control_kind,
    listed,
    reader,
)
from ..lifecycle.signed import Signature, SignedContent, signed_contents, walk_entry_times
from ..lifecycle.status import configs_at, record_statuses, training_windows
from ..records.config import QmsConfig
from ..records.kinds import kind_of_id
from ..signatures.claims import content_hash, record_data
from ..signatures.verify import Verdict, Walk
from .violations import Breach

ConfigAt = Callable[[str], QmsConfig | None]  # the qms.yaml in force at a commit


@dataclass(frozen=True)
class Found:
    commit: str
    record: str
    breach: Breach


def change_control_rules(
    walk: Walk,
    steps: Sequence[Step],
    verdicts: Mapping[str, Sequence[Verdict]],
    config_at: ConfigAt,
) -> Iterator[Found]:
    """The change-control breaches of the commits `steps` (the range)."""
    kind = control_kind()
    if kind is None:
        return
    releases = list(_releases(steps, verdicts, config_at))
    closings = [
        (step, record)
        for step in steps
        for record, change in step.records.items()
        if kind_of_id(record) is kind and change.new_blob
    ]
    if not releases and not closings:
        return
    # The change controls' signatures, and the documents' a closing is judged by.
    wanted = {v.record for v in walk.report.verdicts if kind_of_id(v.record) is kind}
    for step, record in closings:
        data = record_data(walk.content_at(step.commit.id, record), record)
        wanted |= {document for document, _ in listed(data)}
    signed = signed_contents(walk, records=wanted)
    entered = walk_entry_times(walk)
    read = reader(walk)
    for verdict in releases:
        yield from _release_rule(walk, read, verdict, signed, entered, config_at)
    for step, record in closings:
        yield from _closing_rule(walk, read, step, record, signed, config_at)


def _releases(
    steps: Sequence[Step], verdicts: Mapping[str, Sequence[Verdict]], config_at: ConfigAt
) -> Iterator[Verdict]:
    for step in steps:
        config = config_at(step.commit.id)
        for verdict in verdicts.get(step.commit.id, ()):
            kind = kind_of_id(verdict.record)
            if config is None or kind is None or not kind.is_document or not verdict.ok:
                continue
            if verdict.meaning == config.lifecycles.documents[kind.name].release:
                yield verdict


Signed = Mapping[str, Mapping[str, SignedContent]]


def _release_rule(
    walk: Walk,
    read: ContentAt,
    verdict: Verdict,
    signed: Signed,
    entered: Mapping[str, datetime],
    config_at: ConfigAt,
) -> Iterator[Found]:
    config = config_at(verdict.commit)
    data = record_data(read(verdict.commit, verdict.record), verdict.record)
    content = walk.claimed_content(verdict)
    if config is None or not isinstance(data, dict) or content is None:
        return
    machine = config.lifecycles.machines.get(SPECIAL)
    controls = ChangeControls(signed, read, content_hash, machine)
    signature = Signature.of(verdict, content, entered.get(verdict.commit))
    problem = controls.release_problem(verdict.record, data, signature)
    if problem is not None:
        yield Found(
            verdict.commit,
            verdict.record,
            Breach(
                "change-control.not-approved",
                f"the release of {verdict.record} by {verdict.signer} does not count: {problem}",
                "approve the change control (`qms advance CC-… --to approved`), list the "
                "version under its 'documents', then sign the version again",
            ),
        )


def _closing_rule(
    walk: Walk, read: ContentAt, step: Step, record: str, signed: Signed, config_at: ConfigAt
) -> Iterator[Found]:
    """A change control closed at `step` needs every document version it lists effective on
    the day it was closed, judged from the history up to that commit."""
    commit = step.commit.id
    data = record_data(read(commit, record), record)
    config = config_at(commit)
    if not isinstance(data, dict) or data.get("state") != "closed" or config is None:
        return
    parent = step.commit.parents[0] if step.commit.parents else None
    before = record_data(read(parent, record), record) if parent else None
    if isinstance(before, dict) and before.get("state") == "closed":
        return  # closed before: judged when it was closed
    contents = {
        doc: content
        for doc in sorted({document for document, _ in listed(data)})
        if kind_of_id(doc) is not None and (content := read(commit, doc)) is not None
    }
    day = step.commit.committer.utc.date()
    machine = config.lifecycles.machines.get(SPECIAL)
    controls = ChangeControls(signed, read, content_hash, machine)
    window = training_windows(walk, config)
    statuses = record_statuses(
        contents, signed, config, day, window, controls, config_at=configs_at(walk, config)
    )
    documents = {doc: s.document for doc, s in statuses.items() if s.document is not None}
    late = [a for a in affected(data, documents) if not a.done]
    if late:
        listed_text = ", ".join(f"{a.record} v{a.version} ({a.status})" for a in late)
        yield Found(
            commit,
            record,
            Breach(
                "change-control.documents-not-effective",
                f"{record} was closed on {day} while a document version it lists was not "
                f"effective: {listed_text}",
                "close the change control once every version it lists is effective; until "
                "then it stays in its state",
            ),
        )
