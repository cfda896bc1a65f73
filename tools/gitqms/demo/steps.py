"""The steps of the demo's story: who does what, when, on which branch, and how a change
reaches main (a pull request: a branch merged with a merge commit)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from .edits import Edit


@dataclass(frozen=True, kw_only=True)
class Step:
    when: datetime
    actor: str
    kind: str  # "write" (files, then a commit), "qms" (a command) or "merge"
    args: tuple[str, ...] = ()  # the command's arguments (of a "write": its `qms commit`, if any)
    files: Mapping[str, str | Edit] = field(default_factory=dict)  # "write": path -> text or edit
    given: str = ""  # "qms": fields (YAML) in a file outside the repository, passed as --from
    message: str = ""  # of a "merge", or of a "write" committed with git
    branch: str = "main"  # where it happens; "merge" merges this branch into main


def pull_request(
    steps: list[Step], branch: str, merger: str, title: str, reason: str
) -> list[Step]:
    """`steps` made on a change branch, then merged into main with a merge commit a minute
    after the last of them, as a reviewed pull request is: work reaches main only this way."""
    last = max(step.when for step in steps)
    merge = Step(
        when=last + timedelta(minutes=1),
        actor=merger,
        kind="merge",
        message=f"Merge {branch}: {title}\n\nReason: {reason}\n",
        branch=branch,
    )
    return [replace(step, branch=branch) for step in steps] + [merge]


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def write(when: datetime, actor: str, files: Mapping[str, str], summary: str, reason: str) -> Step:
    """Files written whole (a migrated document, an export) and committed with git, signed."""
    message = f"{summary}\n\nReason: {reason}\n"
    return Step(when=when, actor=actor, kind="write", files=dict(files), message=message)


def typed(
    when: datetime, actor: str, files: Mapping[str, str | Edit], summary: str, reason: str
) -> Step:
    """Files typed in (a text, or an Edit of the file there), committed with `qms commit`."""
    commit = ("commit", "-m", summary, "--reason", reason, *files)
    return Step(when=when, actor=actor, kind="write", files=dict(files), args=commit)


def qms(when: datetime, actor: str, *args: str, given: str = "") -> Step:
    """`qms ARGS…`; with `given`, also `--from FILE`, FILE holding that YAML."""
    return Step(when=when, actor=actor, kind="qms", args=tuple(args), given=given)
