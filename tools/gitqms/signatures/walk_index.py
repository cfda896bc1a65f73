"""The history index: a finished verify walk kept per tip commit, so the next run of `qms log`,
`verify`, `status` or `check` on that history reads it back instead of walking again.

What is kept is what the walk derived (each commit's changes and trailers, the verdicts, the
trusted registry per commit, authorship at the tip, signatures seen), in a file of the
authenticated store (index_store.py) named by the tip and keyed by everything the walk
depends on besides the history itself: the gitqms code, the pinned trust root, the QMS folder,
grafts and shallow boundaries. A later tip that descends from a stored one, through commits
that all descend from it, is reached by walking only the new commits, once `git rev-list`
confirms that a full walk would meet the old commits first and in the same order. Anything
else (no stored walk, a key or HMAC mismatch, a history that was rewritten) is a full walk,
whose result is stored in turn.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import re
import shutil
from array import array
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from .. import git
from ..crypto import openpgp
from ..crypto.ahead import SshChecks
from ..history.commits import Commit, Identity
from ..history.index_store import Store, code_digest
from ..history.read import History, LazyHistory, Step, load_history
from .claims import CONFIG_RECORD, Claim, Claims
from .record_changes import ChangeIndex, changed_records
from .verify import (
    Report,
    Unextendable,
    Verdict,
    Walk,
    git_blob_id,
)

KIND = "history"
_COMMIT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_FUTURE = "the commit is dated in the future"  # a verdict that depends on the day it was made


def cached_walk(
    root: Path,
    tip: str,
    pinned: str | None,
    walk_all: Callable[[], Walk],
    offer: Callable[[SshChecks], Callable[[Commit], None]],
) -> Walk:
    """The walk of `tip`'s whole history: stored, carried on from a stored ancestor, or
    `walk_all()`; stored for next time."""
    if git.config_value(root, "qms.historyIndex") == "false":
        return walk_all()
    store = Store(root, KIND)
    key = _key(root, tip, pinned)
    sections = store.read(tip, key)
    if sections is not None and _current(root, sections):
        return StoredWalk(root, sections)
    walk = _carried_on(root, store, tip, pinned, offer) or walk_all()
    if not os.environ.get("GIT_QUARANTINE_PATH"):  # pushed objects may yet be refused
        sections = snapshot(walk)
        if sections is not None:
            store.write(tip, key, sections)
    return walk


def _key(root: Path, tip: str, pinned: str | None) -> dict[str, Any]:
    common = git.common_dir(root)
    boundaries = hashlib.sha256()
    for path in (common / "shallow", common / "info" / "grafts"):
        try:
            boundaries.update(path.read_bytes())
        except OSError:
            boundaries.update(b"-")
    return {
        "tip": tip,
        "trust_root": pinned,
        "prefix": git.show_prefix(root),
        "code": code_digest(),
        "boundaries": boundaries.hexdigest(),
    }


def _gpg() -> list[Any]:
    """Which gpg judges OpenPGP signatures here: a stored verdict holds for this one only."""
    path = shutil.which(openpgp.GPG)
    if path is None:
        return ["missing"]
    found = os.stat(path)
    return [os.path.realpath(path), found.st_size, found.st_mtime_ns]


def _current(root: Path, sections: dict[str, bytes]) -> bool:
    """Whether what the stored verdicts depended on outside the history still holds: the gpg
    that judged OpenPGP signatures, the server's receipts that revocations were judged by."""
    used = marshal.loads(sections["gpg"])
    read, notes = marshal.loads(sections["receipts"])
    if read:
        from ..history.receipts import NOTES_REF  # the server writes them

        if notes != git.rev_parse(root, f"{NOTES_REF}^{{commit}}"):
            return False
    return used is None or used == _gpg()


def _carried_on(
    root: Path,
    store: Store,
    tip: str,
    pinned: str | None,
    offer: Callable[[SshChecks], Callable[[Commit], None]],
) -> Walk | None:
    """The walk of a stored ancestor of `tip`, walked on to `tip`; None when there is none."""
    for name in store.names():
        if name == tip or not _COMMIT_ID.fullmatch(name):
            continue
        if git.merge_base(root, name, tip) != name:
            continue
        sections = store.read(name, _key(root, name, pinned))
        if sections is None or not _current(root, sections):
            continue
        walk = StoredWalk(root, sections)
        checks = SshChecks()
        try:
            more = load_history(root, [tip, f"^{name}"], on_commit=offer(checks))
            new = {step.commit.id for step in more.steps} | {name}
            if not more.steps or any(
                not step.commit.parents or not set(step.commit.parents) <= new
                for step in more.steps
            ):
                return None  # a merge of older history, or of another root
            order = [commit for commit, _ in walk.graph()] + [s.commit.id for s in more.steps]
            if git.topo_order(root, tip) != order:
                return None
            walk.ssh_checks = checks
            walk.extend(more)
        except Unextendable:
            return None
        finally:
            checks.close()
        return walk
    return None


# -- to and from plain data ---------------------------------------------------------------------


def snapshot(walk: Walk) -> dict[str, bytes] | None:
    """The walk as sections of bytes; None when it must not be kept (a verdict that depends on
    today's date). Commits are marshalled one by one, so that one record's trail can be read
    without the rest; a walk read back and walked on keeps the bytes it was read from and adds
    its new commits."""
    stored = walk.stored if isinstance(walk, StoredWalk) else None
    old_steps, old_verdicts = (len(stored.ids), len(stored.raw)) if stored else (0, 0)
    steps = walk.new_steps if isinstance(walk, StoredWalk) else walk.history.steps
    raw = walk.raw_verdicts
    new_raw = raw[old_verdicts:]
    if any(_FUTURE in p for v in new_raw for p in v.problems):
        return None
    graph = walk.graph()
    changes = walk.change_index()
    where = {commit: index for index, (commit, _) in enumerate(graph)}
    touched = {r: (list(s), list(v)) for r, (s, v) in (stored.touched if stored else {}).items()}
    added: dict[str, set[int]] = {}
    for index, step in enumerate(steps, old_steps):
        for record in changed_records(step):
            added.setdefault(record, set()).add(index)
    for index, verdict in enumerate(new_raw, old_verdicts):
        touched.setdefault(verdict.record, ([], []))[1].append(index)
        added.setdefault(verdict.record, set()).add(where[verdict.commit])
    for record, indices in added.items():
        touched.setdefault(record, ([], []))[0].extend(sorted(indices))
    final = [
        (index, v.problems, v.superseded)
        for index, (v, r) in enumerate(zip(walk.verdicts, raw, strict=True))
        if v != r
    ]
    state = {
        "prefix": walk.history.prefix,
        "pinned": walk.pinned_root,
        "root": walk.root_commit,
        "tip": walk.tip,
        "notes": walk.notes,
        "ids": [commit for commit, _ in graph],
        "parents": [parents for _, parents in graph],
        "config": [walk.config_blob.get(commit) for commit, _ in graph],
        "trusted": [walk.trusted.get(commit) for commit, _ in graph],
        "pending": {
            commit: {record: sorted(people) for record, people in authors.items()}
            for commit, authors in walk.pending.items()
        },
        "lineage": {blob: sorted(before) for blob, before in walk.lineage.items()},
        "proven": walk.proven,
        "final": final,
        "touched": touched,
        "changes": (changes.own, changes.merges),
    }
    gpg = (stored is not None and stored.gpg) or any(
        (step.commit.signature or "").lstrip().startswith(openpgp.SIGNATURE_BEGIN)
        for step in steps
        if step.commit.id in walk.claims
    )
    sections = stored.sections if stored else {}
    fetched = dict(stored.fetched) if stored else {}
    for name, content in walk._contents.items():  # what the walk read, by name: its blob
        if name not in fetched:
            fetched[name] = None if content is None else git_blob_id(content)
    claimed: dict[tuple[str, str], str | None] = {}
    for commit, claims in walk.claims.items():
        for claim in claims.claims:
            claimed.setdefault((commit, claim.record), claim.content)
    return {
        "gpg": marshal.dumps(_gpg() if gpg else None),
        "receipts": marshal.dumps((walk.receipts_read, walk.receipts_tip)),
        "state": marshal.dumps(state),
        "fetched": marshal.dumps(fetched),
        "claimed": marshal.dumps(claimed),
        **_items("steps", [_step_tuple(step) for step in steps], sections),
        "verdicts": marshal.dumps(
            [*(stored.raw if stored else ()), *(_verdict_tuple(v) for v in new_raw)]
        ),
        "claims": marshal.dumps(
            {
                commit: ([_claim_tuple(c) for c in claims.claims], claims.reason, claims.problem)
                for commit, claims in walk.claims.items()
            }
        ),
        "seen": marshal.dumps([(*key, commit) for key, commit in walk.seen.items()]),
    }


def _items(name: str, items: list[Any], before: dict[str, bytes]) -> dict[str, bytes]:
    """Items marshalled one by one, after those `before` holds: their bytes, and where each
    ends."""
    blobs = [marshal.dumps(item) for item in items]
    data = bytes(before.get(name, b""))
    ends = array("Q")
    ends.frombytes(before.get(f"{name}.ends", b""))
    offset = len(data)
    for blob in blobs:
        offset += len(blob)
        ends.append(offset)
    return {name: data + b"".join(blobs), f"{name}.ends": ends.tobytes()}


class _Items:
    """Items written by `_items`, each read when asked for."""

    def __init__(self, sections: dict[str, bytes], name: str) -> None:
        self.data = memoryview(sections[name])
        self.ends = array("Q")
        self.ends.frombytes(sections[f"{name}.ends"])

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, index: int) -> Any:
        start = self.ends[index - 1] if index else 0
        return marshal.loads(self.data[start : self.ends[index]])


@dataclass(frozen=True)
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
    """A walk read back from the index. It holds the verdicts and the registry trusted at each
    commit at once; the commits themselves, the claims and the signatures seen are built on
    first use, and the blobs a full walk reads are fetched when a caller asks for them. Walked
    on to a later tip, it keeps the new commits beside the stored ones."""

    def __init__(self, root: Path, sections: dict[str, bytes]) -> None:
        state = marshal.loads(sections["state"])
        self.stored = Stored(
            sections,
            state["ids"],
            marshal.loads(sections["verdicts"]),
            state["touched"],
            state["changes"][0],
            state["changes"][1],
            marshal.loads(sections["gpg"]) is not None,
            marshal.loads(sections["fetched"]),
            marshal.loads(sections["claimed"]),
        )
        self.new_steps: list[Step] = []  # walked after reading
        self._stored_claims: dict[str, Claims] | None = None
        self._stored_seen: dict[tuple[str, str | None, str, str], str] | None = None
        self._stored_raw: list[Verdict] | None = None
        self._lazy = LazyHistory(root, state["prefix"], self._all_steps)
        super().__init__(History(root, state["prefix"], []), state["pinned"])
        self._zones: dict[int, timezone] = {}
        self._steps = _Items(sections, "steps")
        self._parents: list[tuple[str, ...]] = state["parents"]
        self._stored_tip: str | None = state["tip"]
        self.root_commit = state["root"]
        self.notes = list(state["notes"])
        self.config_blob = dict(zip(self.stored.ids, state["config"], strict=True))
        self.trusted = dict(zip(self.stored.ids, state["trusted"], strict=True))
        for commit, authors in state["pending"].items():
            self._hold(commit, {record: frozenset(people) for record, people in authors.items()})
        self.lineage = {blob: frozenset(before) for blob, before in state["lineage"].items()}
        self.proven = dict(state["proven"])
        final = {index: (problems, superseded) for index, problems, superseded in state["final"]}
        self.verdicts = [_verdict(item, final.get(i)) for i, item in enumerate(self.stored.raw)]
        self._complete = False  # blobs are fetched when a caller asks for them
        root_commit = self.pinned_root or self.root_commit
        self.report = Report(self.verdicts, len(self._steps), root_commit, self.notes)

    def _all_steps(self) -> list[Step]:
        steps = [self._stored_step(i) for i in range(len(self._steps))]
        for step in steps:
            self.times[step.commit.id] = step.commit.committer.utc
        return [*steps, *self.new_steps]

    @property
    def history(self) -> History:
        return self._lazy

    @history.setter
    def history(self, value: History) -> None:
        pass  # the stored history, and the commits walked on (_append)

    def _append(self, steps: Sequence[Step]) -> None:
        for step in steps:
            for parent in step.commit.parents:
                if parent not in self.times and parent in self.config_blob:
                    at = self.stored.ids.index(parent)
                    self.times[parent] = self._stored_step(at).commit.committer.utc
        self.new_steps.extend(steps)
        if self._lazy.built:
            self._lazy.steps.extend(steps)

    @property
    def raw_verdicts(self) -> list[Verdict]:
        if self._stored_raw is None:
            self._stored_raw = [_verdict(item) for item in self.stored.raw]
        return self._stored_raw

    @raw_verdicts.setter
    def raw_verdicts(self, value: list[Verdict]) -> None:
        if value or self._stored_raw is not None:
            self._stored_raw = value

    @property
    def claims(self) -> dict[str, Claims]:
        if self._stored_claims is None:
            self._stored_claims = {
                commit: Claims(tuple(Claim(*c) for c in claims), reason, problem)
                for commit, (claims, reason, problem) in marshal.loads(
                    self.stored.sections["claims"]
                ).items()
            }
        return self._stored_claims

    @claims.setter
    def claims(self, value: dict[str, Claims]) -> None:
        if value or self._stored_claims is not None:
            self._stored_claims = value

    @property
    def seen(self) -> dict[tuple[str, str | None, str, str], str]:
        if self._stored_seen is None:
            items = marshal.loads(self.stored.sections["seen"])
            self._stored_seen = {tuple(item[:4]): item[4] for item in items}
        return self._stored_seen

    @seen.setter
    def seen(self, value: dict[tuple[str, str | None, str, str], str]) -> None:
        if value or self._stored_seen is not None:
            self._stored_seen = value

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

    def steps_for(self, commits: Collection[str]) -> list[Step]:
        if self._lazy.built:
            return super().steps_for(commits)
        found = [self._stored_step(i) for i, c in enumerate(self.stored.ids) if c in commits]
        return found + [step for step in self.new_steps if step.commit.id in commits]

    def _all_names(self) -> set[str]:
        known = {commit for commit, _ in self.graph()}
        return self.stored.fetched.keys() | self._names(self.new_steps, known)

    def _fetch(self, names: Sequence[str]) -> dict[str, bytes | None]:
        """By the blob id each name had when the stored walk read it."""
        return self.place.blobs_by_id(names, self.stored.fetched)

    def claimed_content(self, verdict: Verdict) -> str | None:
        if self._stored_claims is None:  # only the stored verdicts exist yet
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
        return _step(self._steps[index], self._zones)


def _claim_tuple(claim: Claim) -> tuple[str, str | None, str | None, str]:
    return (claim.record, claim.version, claim.content, claim.meaning)


def _verdict_tuple(v: Verdict) -> tuple[Any, ...]:
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


def _verdict(item: tuple[Any, ...], marks: tuple[Any, Any] | None = None) -> Verdict:
    """A verdict read back; with `marks` (problems, superseded), as the marks made after the
    walk left it."""
    (commit, when, record, version, meaning, reason, signer, email, person, role, key, problems,
     superseded) = item  # fmt: skip
    if marks is not None:
        problems, superseded = marks
    return Verdict(
        commit,
        datetime.fromtimestamp(when, UTC),
        record,
        version,
        meaning,
        reason,
        signer,
        email,
        person,
        role,
        key,
        tuple(problems),
        superseded,
    )


def _identity(who: Identity) -> tuple[str, str, int, int]:
    offset = who.time.utcoffset() or timedelta(0)
    return (who.name, who.email, int(who.time.timestamp()), int(offset.total_seconds()))


def _step_tuple(step: Step) -> tuple[Any, ...]:
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


def _step(item: tuple[Any, ...], zones: dict[int, timezone]) -> Step:
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
