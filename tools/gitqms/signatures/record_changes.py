"""Where each record changed in a walk: the change that first superseded a signature."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable

from ..history.commits import Commit
from ..history.read import Step
from .claims import CONFIG_RECORD


def changed_records(step: Step) -> tuple[str, ...]:
    """The records a commit changes, qms.yaml (the registry) included."""
    return (*step.records, *([CONFIG_RECORD] if step.config is not None else []))


def is_merge(step: Step) -> bool:
    """A merge brings in changes made by others, on the branch it merges."""
    return len(step.commit.parents) > 1


class ChangeIndex:
    """The positions in the walk (parents first) of the commits that changed each record,
    commits of their own apart from merges; `commit_at` reads the commit at a position."""

    def __init__(
        self,
        commit_at: Callable[[int], Commit],
        own: dict[str, list[int]] | None = None,
        merges: dict[str, list[int]] | None = None,
    ) -> None:
        self.commit_at = commit_at
        self.own: dict[str, list[int]] = own if own is not None else {}
        self.merges: dict[str, list[int]] = merges if merges is not None else {}

    def add(self, steps: Iterable[Step], start: int) -> None:
        """`steps`, walked from position `start` on, after every position added before."""
        for index, step in enumerate(steps, start):
            found = self.merges if is_merge(step) else self.own
            for record in changed_records(step):
                found.setdefault(record, []).append(index)

    def first_after(self, record: str, position: int) -> Commit | None:
        """The first change of `record` walked after `position`: the author's commit, not a
        merge that brought it in; a merge only when nothing else changed the record since."""
        for found in (self.own, self.merges):
            positions = found.get(record, [])
            at = bisect_right(positions, position)
            if at < len(positions):
                return self.commit_at(positions[at])
        return None
