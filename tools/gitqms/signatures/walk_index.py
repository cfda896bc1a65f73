"""The history index: a finished verify walk kept per tip commit, so the next run of `qms log`,
`verify`, `status` or `check` on that history reads it back instead of walking again.

What is kept is what the walk derived (each commit's changes and trailers, the verdicts, the
trusted registry per commit, authorship at the tip, signatures seen), in a file of the
authenticated store (history/index_store.py) named by the tip and keyed by everything the walk
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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from .. import aside, git
from ..crypto import openpgp
from ..crypto.ahead import SshChecks
from ..history.commits import Commit
from ..history.index_store import Store, code_digest
from ..history.read import Step, load_history
from ..records.kinds import active_kinds
from . import authors
from .claims import Claims
from .index_codec import claim_tuple, step_tuple, verdict_tuple, write_items
from .marks import Graph
from .record_changes import changed_records
from .state import WalkState
from .stored_walk import Stored, StoredWalk
from .verdict import Unextendable, Verdict
from .walk import Beside, Walk

__all__ = ["StoredWalk", "cached_walk", "snapshot", "stored_ancestor"]

KIND = "history"
_COMMIT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_FUTURE = "the commit is dated in the future"  # a verdict that depends on the day it was made


def cached_walk(
    root: Path,
    tip: str,
    pinned: str | None,
    walk_all: Callable[[Beside | None], Walk],
    offer: Callable[[SshChecks], Callable[[Commit], None]],
) -> Walk:
    """The walk of `tip`'s whole history: stored, carried on from a stored ancestor, or
    `walk_all()`; stored for next time."""
    if git.config_value(root, "qms.historyIndex") == "false":
        return walk_all(None)
    store = Store(root, KIND)
    key = _key(root, tip, pinned)
    sections = store.read(tip, key)
    if sections is not None and _current(root, sections):
        return StoredWalk(root, sections)
    if os.environ.get("GIT_QUARANTINE_PATH"):  # pushed objects may yet be refused: keep none
        return _carried_on(root, store, tip, pinned, offer, None) or walk_all(None)
    keeper = _Keeper(store, tip, key)
    walk = _carried_on(root, store, tip, pinned, offer, keeper) or walk_all(keeper)
    keeper.keep(walk)
    return walk


class _Keeper:
    """Keeps a finished walk in the index: in a forked child that prepares its sections while
    this process makes the marks (aside.py), sent the little the marks decide once they are
    made; else here, once the walk is finished. The file is the same either way."""

    def __init__(self, store: Store, tip: str, key: dict[str, Any]) -> None:
        self.store, self.tip, self.key = store, tip, key
        self.aside = False  # kept by a child

    @contextmanager
    def __call__(self, walk: Walk) -> Iterator[None]:
        """Beside the marks (Walk.run): a child prepares the sections meanwhile."""
        read = walk.reader.read_count()
        child = aside.start(lambda receive: self._write(walk, receive))
        try:
            yield
        except BaseException:
            if child is not None:
                child.close()  # it keeps nothing
            raise
        if child is not None:
            self.aside = child.send(_marked(walk, read))  # else kept here (keep)

    def _write(self, walk: Walk, receive: aside.Receive) -> None:
        """In the child: prepare, then complete with what the marks decided."""
        prepared = _prepare(walk)
        marked = receive()
        if prepared is not None and marked is not None:
            self.store.write(self.tip, self.key, _complete(prepared, *marked))

    def keep(self, walk: Walk) -> None:
        """Keep `walk` here, unless a child does."""
        if not self.aside:
            sections = snapshot(walk)
            if sections is not None:
                self.store.write(self.tip, self.key, sections)


def stored_ancestor(root: Path, tip: str) -> bool:
    """Whether the index holds a walk of `tip` or of an ancestor of it, which `cached_walk`
    reads back or carries on instead of walking the whole history (unless another version of
    gitqms or another key wrote it: then it walks all)."""
    if git.config_value(root, "qms.historyIndex") == "false":
        return False
    for name in Store(root, KIND).names():
        if not _COMMIT_ID.fullmatch(name):
            continue
        if name == tip or git.merge_base(root, name, tip) == name:
            return True
    return False


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
        "kinds": active_kinds().digest,  # which files are records
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
    beside: Beside | None,
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
            if git.topo_order(root, [tip]) != order:
                return None
            walk.extend(more, checks, beside)
        except Unextendable:
            return None
        finally:
            checks.close()
        return walk
    return None


# -- to plain data ------------------------------------------------------------------------------


def snapshot(walk: Walk) -> dict[str, bytes] | None:
    """The walk's state as sections of bytes; None when it must not be kept (a verdict that
    depends on today's date). Commits are marshalled one by one, so that one record's trail can
    be read without the rest; a walk read back and walked on keeps the bytes it was read from
    and adds its new commits."""
    prepared = _prepare(walk)
    return (
        None if prepared is None else _complete(prepared, *_marked(walk, walk.reader.read_count()))
    )


Marked = tuple[list[tuple[int, tuple[str, ...], str | None]], dict[str, str | None], Any]


def _marked(walk: Walk, read: int) -> Marked:
    """What the marks decide that the index keeps: the verdicts they changed, the blobs they
    read (after the first `read`), the receipts they read."""
    final = [
        (index, v.problems, v.superseded)
        for index, (v, r) in enumerate(zip(walk.verdicts, walk.raw_verdicts, strict=True))
        if v is not r and v != r
    ]
    return final, walk.reader.read_since(read), (walk.receipts.read, walk.receipts.tip)


def _prepare(walk: Walk) -> dict[str, Any] | None:
    """Every section but what the marks decide (the verdicts' final marks, the blobs and
    receipts they read): None when the walk must not be kept."""
    stored = walk.stored if isinstance(walk, StoredWalk) else None
    steps = walk.new_steps if isinstance(walk, StoredWalk) else walk.history.steps
    state = walk.state()
    new_raw = state.raw_verdicts()[len(stored.raw) if stored else 0 :]
    if any(_FUTURE in p for v in new_raw for p in v.problems):
        return None
    claims = state.claims()
    gpg = (stored is not None and stored.gpg) or any(
        (step.commit.signature or "").lstrip().startswith(openpgp.SIGNATURE_BEGIN)
        for step in steps
        if step.commit.id in claims
    )
    return {
        "gpg": marshal.dumps(_gpg() if gpg else None),
        "receipts": None,
        "state": _saved(walk, state, stored, steps),
        "fetched": dict(state.read),
        "claimed": marshal.dumps(_claimed(claims)),
        **write_items(
            "steps", [step_tuple(step) for step in steps], stored.sections if stored else {}
        ),
        "verdicts": marshal.dumps(
            [*(stored.raw if stored else ()), *(verdict_tuple(v) for v in new_raw)]
        ),
        "claims": marshal.dumps(
            {
                commit: ([claim_tuple(c) for c in found.claims], found.reason, found.problem)
                for commit, found in claims.items()
            }
        ),
        "seen": marshal.dumps([(*key, commit) for key, commit in state.seen().items()]),
    }


def _complete(
    prepared: dict[str, Any],
    final: list[tuple[int, tuple[str, ...], str | None]],
    read: dict[str, str | None],
    receipts: Any,
) -> dict[str, bytes]:
    """The sections, `prepared` completed with what the marks decided."""
    prepared["receipts"] = marshal.dumps(receipts)
    prepared["state"] = marshal.dumps({**prepared["state"], "final": final})
    prepared["fetched"] = marshal.dumps({**prepared["fetched"], **read})
    return prepared


def _saved(
    walk: Walk, state: WalkState, stored: Stored | None, steps: Sequence[Step]
) -> dict[str, Any]:
    """What the walk derived, as plain data: the state section, but for the marks."""
    graph = walk.graph()
    changes = walk.change_index()
    trust, ledger = state.trust, state.ledger
    return {
        "prefix": walk.history.prefix,
        "pinned": trust.pinned_root,
        "root": trust.root_commit,
        "tip": walk.tip,
        "notes": trust.notes,
        "ids": [commit for commit, _ in graph],
        "parents": [parents for _, parents in graph],
        "times": [round(when.timestamp()) for when in _times(walk, graph)],
        "config": [trust.config_blob.get(commit) for commit, _ in graph],
        "trusted": [trust.trusted.get(commit) for commit, _ in graph],
        "pending": authors.encode(ledger.pending),  # questions no verdict asked stay open
        "lineage": {blob: sorted(before) for blob, before in trust.lineage.items()},
        "proven": ledger.proven,
        "final": None,  # what the marks decide (_complete)
        "touched": _touched(graph, stored, steps, state.raw_verdicts()),
        "changes": (changes.own, changes.merges),
    }


def _times(walk: Walk, graph: Graph) -> list[datetime]:
    times = walk.commit_times()
    return [times[commit] for commit, _ in graph]


def _touched(
    graph: list[tuple[str, tuple[str, ...]]],
    stored: Stored | None,
    steps: Sequence[Step],
    raw: list[Verdict],
) -> dict[str, tuple[list[int], list[int]]]:
    """Record -> the positions of the commits that changed or signed it, and of its verdicts;
    the stored walk's, and those of the commits walked on."""
    old_steps, old_verdicts = (len(stored.ids), len(stored.raw)) if stored else (0, 0)
    where = {commit: index for index, (commit, _) in enumerate(graph)}
    touched = {r: (list(s), list(v)) for r, (s, v) in (stored.touched if stored else {}).items()}
    added: dict[str, set[int]] = {}
    for index, step in enumerate(steps, old_steps):
        for record in changed_records(step):
            added.setdefault(record, set()).add(index)
    for index, verdict in enumerate(raw[old_verdicts:], old_verdicts):
        touched.setdefault(verdict.record, ([], []))[1].append(index)
        added.setdefault(verdict.record, set()).add(where[verdict.commit])
    for record, indices in added.items():
        touched.setdefault(record, ([], []))[0].extend(sorted(indices))
    return touched


def _claimed(claims: dict[str, Claims]) -> dict[tuple[str, str], str | None]:
    """(commit, record) -> the content hash its claim names: the first claim of each."""
    claimed: dict[tuple[str, str], str | None] = {}
    for commit, found in claims.items():
        for claim in found.claims:
            claimed.setdefault((commit, claim.record), claim.content)
    return claimed
