"""A walk read back from the history index (walk_index.py).

It holds the verdicts and the registry trusted at each commit at once; the commits themselves,
the claims and the signatures counted are unpacked on first use, and the blobs a full walk
reads are fetched when a caller asks for them. Walked on to a later tip, it keeps the new
commits beside the stored ones.
"""

from __future__ import annotations

import marshal
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timezone
from pathlib import Path
from typing import Any

from ..history.commits import Commit
from ..history.read import History, LazyHistory, Step
from . import authors
from .claims import CONFIG_RECORD, Claim, Claims
from .contents import blob_names
from .index_codec import Items, step_from, verdict_from
from .later import Later
from .ledger import LedgerState
from .record_changes import ChangeIndex
from .state import WalkState
from .trust import TrustState
from .verdict import SeenKey, Verdict
from .walk import Walk


@dataclass(frozen=True, kw_only=True)
class Stored:
    """What a StoredWalk was read from."""

    sections: dict[str, bytes]
    ids: list[str]  # its commits, parents first
    raw: list[tuple[Any, ...]]  # its verdicts before the marks made after the walk
    touched: dict[str, tuple[list[int], list[int]]]  # record -> its commits and verdicts
    own: dict[str, list[int]]  # record -> the commits that changed it, merges aside
    merges: dict[str, list[int]]  # record -> the merges that changed it
    gpg: bool  # whether gpg judged any signature
    fetched: dict[str, str | None]  # every blob the walk read: name -> blob id
    claimed: dict[tuple[str, str], str | None]  # (commit, record) -> the content it claims


class StoredWalk(Walk):
    def __init__(self, root: Path, sections: dict[str, bytes]) -> None:
        saved = marshal.loads(sections["state"])
        self.stored = Stored(
            sections=sections,
            ids=saved["ids"],
            raw=marshal.loads(sections["verdicts"]),
            touched=saved["touched"],
            own=saved["changes"][0],
            merges=saved["changes"][1],
            gpg=marshal.loads(sections["gpg"]) is not None,
            fetched=marshal.loads(sections["fetched"]),
            claimed=marshal.loads(sections["claimed"]),
        )
        self.new_steps: list[Step] = []  # walked after reading
        self._zones: dict[int, timezone] = {}
        self._steps = Items(sections, "steps")
        self._parents: list[tuple[str, ...]] = saved["parents"]
        self._times: list[int] = saved["times"]  # committer dates, seconds since the epoch
        self._stored_tip: str | None = saved["tip"]
        self._lazy = LazyHistory(root, saved["prefix"], self._all_steps)
        self._stored_claims = Later(self._load_claims)
        restored = self._restore(saved)
        super().__init__(History(root, saved["prefix"], []), saved["pinned"], restored=restored)
        for commit, pending in authors.decode(saved["pending"], self.reader.stored_ask).items():
            self.ledger.hold(commit, pending)
        self.report = self._report(len(self._steps))

    def _restore(self, saved: dict[str, Any]) -> WalkState:
        """The walk's state as it was saved."""
        ids, raw = self.stored.ids, self.stored.raw
        final = {index: (problems, superseded) for index, problems, superseded in saved["final"]}
        return WalkState(
            trust=TrustState(
                pinned_root=saved["pinned"],
                root_commit=saved["root"],
                config_blob=dict(zip(ids, saved["config"], strict=True)),
                trusted=dict(zip(ids, saved["trusted"], strict=True)),
                lineage={blob: frozenset(before) for blob, before in saved["lineage"].items()},
                notes=list(saved["notes"]),
            ),
            ledger=LedgerState({}, dict(saved["proven"])),  # the tips' authors: held in __init__
            claims=self._stored_claims,
            seen=Later(self._load_seen),
            raw_verdicts=Later(lambda: [verdict_from(item) for item in raw]),
            verdicts=[verdict_from(item, final.get(i)) for i, item in enumerate(raw)],
            read=self.stored.fetched,
            receipts=marshal.loads(self.stored.sections["receipts"]),
        )

    def _load_claims(self) -> dict[str, Claims]:
        return {
            commit: Claims(tuple(Claim(*c) for c in claims), reason, problem)
            for commit, (claims, reason, problem) in marshal.loads(
                self.stored.sections["claims"]
            ).items()
        }

    def _load_seen(self) -> dict[SeenKey, str]:
        items = marshal.loads(self.stored.sections["seen"])
        return {tuple(item[:4]): item[4] for item in items}

    def _all_steps(self) -> list[Step]:
        steps = [self._stored_step(i) for i in range(len(self._steps))]
        for step in steps:
            self.judge.times[step.commit.id] = step.commit.committer.utc
        return [*steps, *self.new_steps]

    @property
    def history(self) -> History:
        return self._lazy  # the stored history, and the commits walked on (_append)

    def _append(self, steps: Sequence[Step]) -> None:
        for step in steps:
            for parent in step.commit.parents:
                if parent not in self.judge.times and parent in self.config_blob:
                    at = self.stored.ids.index(parent)
                    self.judge.times[parent] = self._stored_step(at).commit.committer.utc
        self.new_steps.extend(steps)
        if self._lazy.built:
            self._lazy.steps.extend(steps)

    # -- what callers read, without building every stored commit ------------------------------

    @property
    def tip(self) -> str | None:
        return self.new_steps[-1].commit.id if self.new_steps else self._stored_tip

    def touching(self, record: str) -> list[Step]:
        if self._lazy.built:
            return super().touching(record)
        signed = {v.commit for v in self.report.verdicts if v.record == record}
        found = [self._stored_step(i) for i in self.stored.touched.get(record, ([], []))[0]]
        return found + [
            step
            for step in self.new_steps
            if (step.config if record == CONFIG_RECORD else step.records.get(record)) is not None
            or step.commit.id in signed
        ]

    def graph(self) -> list[tuple[str, tuple[str, ...]]]:
        stored = list(zip(self.stored.ids, self._parents, strict=True))
        return stored + [(step.commit.id, step.commit.parents) for step in self.new_steps]

    def tip_time(self) -> datetime | None:
        if self.new_steps:
            return self.new_steps[-1].commit.committer.utc
        return datetime.fromtimestamp(self._times[-1], UTC) if self._times else None

    def commit_times(self) -> dict[str, datetime]:
        if self._lazy.built:
            return super().commit_times()
        stored = zip(self.stored.ids, self._times, strict=True)
        times = {commit: datetime.fromtimestamp(when, UTC) for commit, when in stored}
        times.update((step.commit.id, step.commit.committer.utc) for step in self.new_steps)
        return times

    def steps_for(self, commits: Collection[str]) -> list[Step]:
        if self._lazy.built:
            return super().steps_for(commits)
        found = [self._stored_step(i) for i, c in enumerate(self.stored.ids) if c in commits]
        return found + [step for step in self.new_steps if step.commit.id in commits]

    def _all_names(self) -> set[str]:
        known = {commit for commit, _ in self.graph()}
        new = (
            blob_names(self.place, self.new_steps, known, self.claims) if self.new_steps else set()
        )
        return self.stored.fetched.keys() | new

    def claimed_content(self, verdict: Verdict) -> str | None:
        if not self._stored_claims.made:  # only the stored verdicts exist yet
            return self.stored.claimed.get((verdict.commit, verdict.record))
        return super().claimed_content(verdict)

    def change_index(self) -> ChangeIndex:
        if self._lazy.built:
            return super().change_index()
        stored = len(self.stored.ids)

        def commit_at(at: int) -> Commit:
            step = self._stored_step(at) if at < stored else self.new_steps[at - stored]
            return step.commit

        own = {record: list(at) for record, at in self.stored.own.items()}
        merges = {record: list(at) for record, at in self.stored.merges.items()}
        changes = ChangeIndex(commit_at, own, merges)
        changes.add(self.new_steps, stored)
        return changes

    def _stored_step(self, index: int) -> Step:
        return step_from(self._steps[index], self._zones)
