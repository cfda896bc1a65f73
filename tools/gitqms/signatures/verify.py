"""The verifier: every signature commit judged against the registry of its first parent.

`walk_history` walks a history (walk.py, which drives its parts: reading, the trust chain, the
authorship ledger, the judge) and keeps the finished walk of a commit in the history index
(walk_index.py), so that the next run reads it back instead. This module is what the rest of
gitqms imports: the walk, its verdicts and its report.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

from .. import git
from ..collector import fewer_collections
from ..crypto.ahead import SshChecks
from ..crypto.sshsig import BEGIN as SSH_BEGIN
from ..errors import QmsError
from ..history.boundaries import refuse_cut_history
from ..history.commits import Commit
from ..history.narrow import Depends
from ..history.read import load_history
from ..records.config import CONFIG_FILE
from ..records.kinds import active_kinds, declared_in, use_kinds, work_tree_kinds
from . import walk_index
from .registry import Registry
from .verdict import AUTHORED, UNPROVEN, Report, Verdict
from .walk import Beside, Walk

__all__ = [
    "AUTHORED",
    "UNPROVEN",
    "Report",
    "Verdict",
    "Walk",
    "offer_to",
    "trusted_registry",
    "verify_history",
    "walk_history",
    "walk_narrow",
    "walk_to_sign",
]


def verify_history(
    root: Path, revisions: Sequence[str] = ("HEAD",), *, trust_root: str | None = None
) -> Report:
    return walk_history(root, revisions, trust_root=trust_root).report


def walk_to_sign(root: Path, commit: str) -> tuple[Walk, Registry]:
    """The walk of `commit` (HEAD, about to be signed on) and the registry trusted there; an
    error when there is none, since then no signature made now could count."""
    walk = walk_history(root, [commit])
    return walk, trusted_registry(walk, commit, "no signature can count")


def trusted_registry(
    walk: Walk, commit: str, then: str, hint: str = "run `qms verify` to see why"
) -> Registry:
    """The registry trusted at `commit`; QmsError saying what `then` follows when there is none."""
    registry = walk.registry_at(commit)
    if registry is None:
        raise QmsError(f"no trusted qms.yaml at {commit[:12]}, so {then}", hint=hint)
    return registry


@fewer_collections
def walk_history(
    root: Path, revisions: Sequence[str] = ("HEAD",), *, trust_root: str | None = None
) -> Walk:
    """The finished walk: its report, and the trusted registry and authorship at each commit.

    The trust root is the one given, else `git config qms.trustRoot`, else found in history.
    """
    pinned = _prepare(root, revisions, trust_root)

    def walk_all(beside: Beside | None = None) -> Walk:
        return _walk(root, revisions, pinned, None, beside)

    tip = git.rev_parse(root, f"{revisions[0]}^{{commit}}") if len(revisions) == 1 else None
    if tip is None or not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", tip):
        return walk_all()  # not one commit's whole history (a range, say): never stored
    walk = walk_index.cached_walk(root, tip, pinned, walk_all, offer_to)
    if _tip_kinds_dropped(walk, tip):
        walk = walk_index.cached_walk(root, tip, pinned, walk_all, offer_to)
    return walk


@fewer_collections
def walk_narrow(
    root: Path, tip: str, depends: Callable[[], Depends | None], *, trust_root: str | None = None
) -> Walk | None:
    """The walk of `tip`'s history that reads in full only the commits `depends()` keeps
    (history/narrow.py; asked once the tip's kinds are known as records): what the verdicts on
    its records need, never stored in the index. None when `depends()` is None (the question
    needs the whole history), or when the tip's qms.yaml changed the kinds in force (which
    files are records), which only the full walk follows."""
    pinned = _prepare(root, [tip], trust_root)
    reading = depends()
    if reading is None:
        return None
    walk = _walk(root, [tip], pinned, reading)
    return None if _tip_kinds_dropped(walk, tip) else walk


def _prepare(root: Path, revisions: Sequence[str], trust_root: str | None) -> str | None:
    """The pinned trust root (given, else `git config qms.trustRoot`), once the history is
    known whole and the kinds its tips declare are known as records."""
    pinned = trust_root or git.config_value(root, "qms.trustRoot")
    if pinned is not None:
        resolved = git.rev_parse(root, f"{pinned}^{{commit}}")
        if resolved is None:
            raise QmsError(
                f"the trust root {pinned} is not a commit of this repository",
                hint="check --trust-root or git config qms.trustRoot",
            )
        pinned = resolved
    refuse_cut_history(root, revisions, pinned)  # shallow or grafted: only from a pinned root
    use_tip_kinds(root, revisions)
    return pinned


def _walk(
    root: Path,
    revisions: Sequence[str],
    pinned: str | None,
    depends: Depends | None,
    beside: Beside | None = None,
) -> Walk:
    checks = SshChecks()
    try:
        history = load_history(root, revisions, on_commit=offer_to(checks), narrow=depends)
        walk = Walk(history, pinned, checks)
        walk.partial = depends is not None
        walk.run(beside)
    finally:
        checks.close()
    return walk


def _tip_kinds_dropped(walk: Walk, tip: str) -> bool:
    """Whether the tip's qms.yaml dropped or changed a kind still in force (an unsigned edit):
    its files stay records, read by the registry's declaration, and the caller walks again
    (rare)."""
    registry = walk.registry_at(tip)
    kinds = active_kinds()
    if registry is None or all(kinds.holds(k) for k in registry.config.kinds.declared):
        return False
    use_kinds(kinds.under(registry.config.kinds))
    return True


def use_tip_kinds(root: Path, revisions: Sequence[str]) -> None:
    """Know as records the files of the kinds the tips' qms.yaml declare, besides those known
    already; whether such a kind is in force at a commit is the trust chain's to say."""
    tips = [r.rpartition("..")[2] or "HEAD" for r in revisions if not r.startswith("^")]
    prefix = git.show_prefix(root)
    texts = [
        content.decode("utf-8", "replace")
        for _, kind, content in git.cat_objects(root, [f"{t}:{prefix}{CONFIG_FILE}" for t in tips])
        if kind == "blob"
    ]
    kinds = work_tree_kinds()  # never another tip's: one process may judge several refs
    for text in texts:
        kinds = kinds.reading(declared_in(text))
    use_kinds(kinds)


def offer_to(checks: SshChecks) -> Callable[[Commit], None]:
    """What hands each signature commit to `checks` as history is read, to check ahead."""

    def offer(commit: Commit) -> None:
        armored = commit.signature or ""
        if armored.lstrip().startswith(SSH_BEGIN):  # signatures and signed changes alike
            checks.offer(commit.id, armored, commit.payload)

    return offer
