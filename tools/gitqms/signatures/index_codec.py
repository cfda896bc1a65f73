"""How the history index writes a walk's pieces as plain data (marshal) and reads them back:
commits, verdicts and claims as tuples, and lists marshalled item by item so that one item can
be read without the rest."""

from __future__ import annotations

import marshal
from array import array
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from .. import git
from ..history.commits import Commit, Identity
from ..history.read import Step
from .claims import Claim
from .verdict import Verdict


def write_items(name: str, values: list[Any], before: dict[str, bytes]) -> dict[str, bytes]:
    """Items marshalled one by one, after those `before` holds: their bytes, and where each
    ends."""
    blobs = [marshal.dumps(value) for value in values]
    data = bytes(before.get(name, b""))
    ends = array("Q")
    ends.frombytes(before.get(f"{name}.ends", b""))
    offset = len(data)
    for blob in blobs:
        offset += len(blob)
        ends.append(offset)
    return {name: data + b"".join(blobs), f"{name}.ends": ends.tobytes()}


class Items:
    """Items written by `write_items`, each read when asked for."""

    def __init__(self, sections: dict[str, bytes], name: str) -> None:
        self.data = memoryview(sections[name])
        self.ends = array("Q")
        self.ends.frombytes(sections[f"{name}.ends"])

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, index: int) -> Any:
        start = self.ends[index - 1] if index else 0
        return marshal.loads(self.data[start : self.ends[index]])


def claim_tuple(claim: Claim) -> tuple[str, str | None, str | None, str]:
    return (claim.record, claim.version, claim.content, claim.meaning)


def verdict_tuple(v: Verdict) -> tuple[Any, ...]:
    return (
        v.commit,
        int(v.when.timestamp()),
        v.record,
        v.version,
        v.meaning,
        v.reason,
        v.signer,
        v.email,
        v.person,
        v.role,
        v.fingerprint,
        v.problems,
        v.superseded,
    )


def verdict_from(item: tuple[Any, ...], marks: tuple[Any, Any] | None = None) -> Verdict:
    """A verdict read back; with `marks` (problems, superseded), as the marks made after the
    walk left it."""
    (commit, when, record, version, meaning, reason, signer, email, person, role, key, problems,
     superseded) = item  # fmt: skip
    if marks is not None:
        problems, superseded = marks
    return Verdict(
        commit=commit,
        when=datetime.fromtimestamp(when, UTC),
        record=record,
        version=version,
        meaning=meaning,
        reason=reason,
        signer=signer,
        email=email,
        person=person,
        role=role,
        fingerprint=key,
        problems=tuple(problems),
        superseded=superseded,
    )


def _identity(who: Identity) -> tuple[str, str, int, int]:
    offset = who.time.utcoffset() or timedelta(0)
    return (who.name, who.email, int(who.time.timestamp()), int(offset.total_seconds()))


def step_tuple(step: Step) -> tuple[Any, ...]:
    c = step.commit
    changes = tuple((record, *_change_tuple(ch)) for record, ch in step.records.items())
    config = step.config
    return (
        c.id,
        c.tree,
        c.parents,
        *_identity(c.author),
        *_identity(c.committer),
        c.message,
        c.signature,
        c.trailers,
        c.problem,
        changes,
        None if config is None else _change_tuple(config),
    )


def _change_tuple(ch: git.Change) -> tuple[Any, ...]:
    return (ch.path, ch.old_blob, ch.new_blob, ch.status, ch.old_mode, ch.new_mode)


def step_from(item: tuple[Any, ...], zones: dict[int, timezone]) -> Step:
    (
        commit_id,
        tree,
        parents,
        a_name,
        a_email,
        a_time,
        a_zone,
        c_name,
        c_email,
        c_time,
        c_zone,
        message,
        signature,
        trailers,
        problem,
        changes,
        config,
    ) = item
    for offset in (a_zone, c_zone):
        if offset not in zones:
            zones[offset] = timezone(timedelta(seconds=offset))
    commit = Commit(
        id=commit_id,
        tree=tree,
        parents=tuple(parents),
        author=Identity(a_name, a_email, datetime.fromtimestamp(a_time, zones[a_zone])),
        committer=Identity(c_name, c_email, datetime.fromtimestamp(c_time, zones[c_zone])),
        message=message,
        signature=signature,
        payload=b"",  # what was signed is not kept: a stored walk is never judged again
        trailers=tuple(tuple(t) for t in trailers),
        problem=problem,
    )
    records = {record: git.Change(*change) for record, *change in changes}
    return Step(commit, records, None if config is None else git.Change(*config))
