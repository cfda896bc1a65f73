"""History boundaries never choose the trust root.

Where a shallow clone's history stops, or where `.git/info/grafts` says it begins, git shows a
commit without its parents, so it would pass for the commit that introduces qms.yaml: whatever
registry it holds, an outsider's included, would be trusted. Such a history is judged only from
a trust root that is pinned, that it holds, and after which nothing is cut. Grafts are never
honoured (the git package reads history as committed); they are refused all the same, unpinned,
since they say someone wanted the history read otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .. import git
from ..errors import QmsError

PIN = "git config qms.trustRoot COMMIT (qms verify also takes --trust-root COMMIT)"


def cut_history(boundaries: git.Boundaries) -> tuple[str, str] | None:
    """(what cuts the history short, how to make it whole), or None when nothing does."""
    if boundaries.shallow:
        return (
            f"this clone is shallow: its history stops at {_commits(boundaries.shallow)}, "
            "which git shows without their parents",
            "fetch the whole history: git fetch --unshallow",
        )
    if boundaries.grafts is not None:
        return (
            f"{boundaries.grafts} gives commits other parents than they were committed with "
            "(git grafts)",
            f"remove {boundaries.grafts} (gitqms reads history as committed)",
        )
    return None


def refuse_cut_history(root: Path, revisions: Sequence[str], pinned: str | None) -> None:
    """Refuse to judge `revisions` where a history boundary could stand in for the trust root:
    unless `pinned` (a commit id) is in their history and every cut lies at or before it."""
    boundaries = git.history_boundaries(root)
    cut = cut_history(boundaries)
    if cut is None:
        return
    what, fix = cut
    if pinned is None:
        raise QmsError(
            f"{what}; the commit where it begins would be taken for the trust root, and a "
            "registry change there would count unsigned",
            hint=f"{fix}; or pin the trust root, a commit this history holds: {PIN}",
        )
    if not any(git.is_ancestor(root, pinned, tip) for tip in git.tips(root, revisions)):
        raise QmsError(
            f"{what}, and the pinned trust root {pinned[:12]} is not in the history of "
            f"{' '.join(revisions)}",
            hint=f"{fix}; or pin a commit this history holds: {PIN}",
        )
    # A branch that left before the pinned root and was merged after it may be cut short after
    # the root: its commits would be judged without the registry they were made under.
    after = set(git.rev_list(root, [*revisions, f"^{pinned}"]))
    late = [commit for commit in boundaries.shallow if commit in after]
    if late:
        raise QmsError(
            f"{what}; {_commits(late)} of them lie after the trust root {pinned[:12]} (a "
            "branch that left before it), so what was signed there cannot be judged",
            hint=f"{fix} (or git fetch --deepen N until the history stops before the trust root)",
        )


def _commits(commits: Sequence[str]) -> str:
    shown = ", ".join(commit[:12] for commit in commits[:3])
    more = f" and {len(commits) - 3} more" if len(commits) > 3 else ""
    return f"{len(commits)} commit{'s' if len(commits) != 1 else ''} ({shown}{more})"
