"""What the walk marks on its verdicts once it has reached the tip: signatures by keys revoked
later, signatures that do not hold where a merge brought them onto the tip's line, and valid
signatures whose record has changed since (superseded)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from functools import partial
from pathlib import Path

from .. import git
from ..history.commits import Commit
from ..history.read import History
from .binding import binding_problem, brought_in
from .claims import CONFIG_RECORD, content_hash
from .record_changes import ChangeIndex
from .registry import Registry
from .verdict import Verdict

Graph = Sequence[tuple[str, tuple[str, ...]]]  # every commit walked with its parents, parents first


class Receipts:
    """The server's receipt time of each commit (refs/notes/qms-receipts), read once if a
    verdict needs them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tip: str | None = None  # the receipts' notes commit they were read from
        self._received: dict[str, datetime] | None = None

    @property
    def read(self) -> bool:
        """Whether a verdict was judged by the receipts (the index keeps their tip)."""
        return self._received is not None

    def at(self, commit: str) -> datetime | None:
        return self.all().get(commit)

    def all(self) -> dict[str, datetime]:
        if self._received is None:
            from ..history.receipts import NOTES_REF, read_receipts  # the server writes them

            self.tip = git.rev_parse(self.root, f"{NOTES_REF}^{{commit}}")
            found = read_receipts(self.root) if self.tip else {}
            self._received = {commit: r.received for commit, r in found.items()}
        return self._received


def recheck_revocations(verdicts: list[Verdict], registry: Registry, receipts: Receipts) -> None:
    """A key revoked later (in `registry`, the tip's) still voids what it signed on or after
    its revocation date, even on a branch that started before the revocation was recorded. The
    date is the server's receipt where one exists, else the signer's own."""
    for index, verdict in enumerate(verdicts):
        if not verdict.ok or verdict.fingerprint is None:
            continue
        entry = registry.key_by_fingerprint(verdict.fingerprint)
        revoked = entry.key.revoked_on if entry else None
        if revoked is None:
            continue
        received = receipts.at(verdict.commit)
        if (received or verdict.when).date() >= date.fromisoformat(revoked):
            said = "received by the server" if received else "dated"
            verdicts[index] = replace(
                verdict,
                problems=(
                    f"the key was revoked on {revoked} ({entry.key.revoked_reason if entry else ''}), "
                    f"and this signature is {said} on or after that day",
                ),
            )


def bind_to_line(
    verdicts: list[Verdict],
    graph: Graph,
    registry_at: Callable[[str], Registry | None],
    receipts: Receipts,
    audiences: Callable[[Verdict], frozenset[str]] = lambda _: frozenset(),
) -> None:
    """A signature brought onto the tip's first-parent line by a merge must also hold in the
    registry in force at that merge's first parent (binding.py). `audiences`: the training
    audiences of the version a verdict signed."""
    owner = brought_in(graph)
    for index, verdict in enumerate(verdicts):
        found = owner.get(verdict.commit)
        if found is None or not verdict.ok or verdict.fingerprint is None:
            continue
        merge, first = found
        registry = registry_at(first)
        if registry is None:
            continue
        problem = binding_problem(
            registry,
            merge,
            verdict.record,
            verdict.meaning,
            verdict.person,
            verdict.fingerprint,
            verdict.when,
            partial(receipts.at, verdict.commit),
            partial(audiences, verdict),
        )
        if problem is not None:
            verdicts[index] = replace(verdict, problems=(problem,))


def mark_superseded(
    verdicts: list[Verdict],
    place: History,
    tip: str,
    claimed_content: Callable[[Verdict], str | None],
    changes: Callable[[], tuple[ChangeIndex, Graph]],
    proven_name: Callable[[Commit], str | None],
    earlier: Mapping[int, str] | None = None,
) -> None:
    """A valid signature stops covering its record once the record's content changes (as of
    `tip`); `changes` tells where each record changed in the walk, and the walk's commits;
    `proven_name` who a change is proven to be by (None: nobody is), as the mark names them.
    `earlier`: the marks of a walk this one extends (by position in `verdicts`); a mark that
    names a change of its own is that change still, since the first change after a signature
    in the walk extended is the first in this one too (a merge is named only while no such
    change follows, so the caller leaves out marks that name merges)."""
    paths = {record: place.path_of(record) for record in {v.record for v in verdicts if v.ok}}
    at_tip = place.files_at(tip, paths.values())
    current = {  # each signed record's content hash at the tip, None when it is gone
        record: None if (content := at_tip.get(path)) is None else content_hash(content)
        for record, path in paths.items()
    }
    index: ChangeIndex | None = None
    where: dict[str, int] = {}
    for at, verdict in enumerate(verdicts):
        if not verdict.ok or verdict.record == CONFIG_RECORD:
            continue  # a registry change is meant to be followed by others
        now = current.get(verdict.record)
        if now is not None and now == claimed_content(verdict):
            continue
        mark = (earlier or {}).get(at)
        if mark is None or mark == _CHANGE_UNKNOWN:
            if index is None:
                index, graph = changes()
                where = {commit: position for position, (commit, _) in enumerate(graph)}
            changed = index.first_after(verdict.record, where[verdict.commit])
            mark = _superseded(changed, proven_name(changed) if changed else None)
        verdicts[at] = replace(verdict, superseded=mark)


_CHANGED = "the record changed after this signature"


def _superseded(changed: Commit | None, proven: str | None = None) -> str:
    """The mark of a signature whose record `changed` after it (None: the change is not known),
    naming who made the change only as proven: the registered person whose signature makes
    them its author; else the name the commit states, as what it is, a claim."""
    if changed is None:
        by = ""
    elif proven is not None:
        by = f" in {changed.id[:12]} by {proven}"
    else:
        by = (
            f" in {changed.id[:12]}, whose author is not proven (the commit names "
            f"{changed.author.name})"
        )
    return f"{_CHANGED}{by}; it covers earlier content"


def named_change(mark: str) -> str | None:
    """The short id of the change a superseded mark names (None: it names none)."""
    return mark[len(_CHANGED) + 4 :][:12] if mark.startswith(f"{_CHANGED} in ") else None


_CHANGE_UNKNOWN = _superseded(None)
