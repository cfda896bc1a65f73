"""The pre-receive gate: what a push may do to the branches the server protects.

Run by git in the server's repository before any ref moves, with the pushed objects still in
quarantine. Every protected branch is judged by the rules of `qms check` over the commits the
push adds to it; it may not be deleted or rewritten (only fast-forwards); nobody but the server
writes notes; no replace ref comes in (one that is there may be deleted). One refused ref
refuses the whole push, so a push is taken whole or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import git
from ..errors import QmsError
from ..history.receipts import NOTES_REF
from ..rules.check import CheckReport, check_range
from .policy import ServerPolicy, server_policy
from .updates import RefUpdate


@dataclass(frozen=True)
class RefVerdict:
    update: RefUpdate
    protected: bool
    refused: str | None = None  # why the update is refused; None: accepted
    fix: str | None = None
    report: CheckReport | None = None  # the gate's report, for a protected branch it ran on

    @property
    def accepted(self) -> bool:
        return self.refused is None and (self.report is None or not self.report.errors)


@dataclass
class PushVerdict:
    policy: ServerPolicy
    refs: list[RefVerdict] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return all(ref.accepted for ref in self.refs)


def judge_push(root: Path, updates: Sequence[RefUpdate]) -> PushVerdict:
    """The verdict on each ref update of one push, judged by the policy in force before it."""
    git.admit_pushed_objects()
    policy = server_policy(root)
    verdict = PushVerdict(policy)
    for update in updates:
        verdict.refs.append(_judge(root, policy, update))
    return verdict


# Your commits on a branch, merged into the server's tip as the merge's first parent (a pull
# would make your own commit the first parent, and the branch's line skip the server's).
_MERGE_AGAIN = (
    "keep your commits on a branch and merge them into the server's {name}: git fetch origin; "
    "git switch -c my-work; git switch -C {name} origin/{name}; git merge --no-ff my-work; "
    "then push again"
)


def _judge(root: Path, policy: ServerPolicy, update: RefUpdate) -> RefVerdict:
    refused = _never_pushed(update)
    if refused is not None:
        return RefVerdict(update, False, *refused)
    if not policy.protects(update.ref):
        return RefVerdict(update, False)
    refused = _not_continued(root, update)
    if refused is not None:
        return RefVerdict(update, True, *refused)
    try:
        report = check_range(root, _range(root, policy, update))
    except QmsError as error:
        return RefVerdict(update, True, f"{update.short}: {error.message}", error.hint)
    return RefVerdict(update, True, report=report)


def _never_pushed(update: RefUpdate) -> tuple[str, str] | None:
    """(why, fix) for a ref no push may write: notes, and replace refs other than deletions."""
    if update.ref.startswith("refs/notes/"):
        return (
            f"notes are written only by the server ({NOTES_REF} holds its receipts); a push "
            "cannot add, change or delete them",
            f"push branches and tags only; fetch the receipts with "
            f"`git fetch origin {NOTES_REF}:{NOTES_REF}`",
        )
    if update.ref.startswith(git.REPLACE_REFS) and update.new is not None:
        replaced = update.ref.removeprefix(git.REPLACE_REFS)
        return (
            f"replace refs make plain git show another object in place of {replaced}; the "
            "server keeps history only as committed",
            f"push branches and tags only; drop it with `git replace -d {replaced}`",
        )
    return None


def _not_continued(root: Path, update: RefUpdate) -> tuple[str, str] | None:
    """(why, fix) when the update does not carry the protected branch on from its tip: the
    branch moved meanwhile, or the push deletes it, rewrites it or leaves its first-parent line."""
    name = update.short
    current = git.rev_parse(root, update.ref)
    if current != update.old:  # git checks this too, but only after the gate, and tersely
        return (
            f"{name} moved to {current[:12] if current else '(nothing)'} while this push was on "
            "its way: another push came first",
            _MERGE_AGAIN.format(name=name),
        )
    if update.new is None:
        return (
            f"{name} is a protected branch: it cannot be deleted (its history is the record)",
            "keep the branch; retire records through their lifecycle instead",
        )
    if update.old is not None and not git.is_ancestor(root, update.old, update.new):
        return (
            f"{name} is a protected branch: this push is not a fast-forward of "
            f"{update.old[:12]} and would rewrite its history",
            _MERGE_AGAIN.format(name=name) + "; never force-push a protected branch",
        )
    if update.old is not None and not git.on_first_parent_line(root, update.old, update.new):
        # Else a merge whose first parent is an older commit of the branch would make the
        # branch's line skip what happened on it since (a registry change, a withdrawal): the
        # rules judge each commit by its first parent, and signatures by the line they join.
        return (
            f"{name} is a protected branch: {update.new[:12]} does not continue it from "
            f"{update.old[:12]} along first parents (a merge made on another branch, or one "
            f"whose first parent is not {name}'s tip)",
            _MERGE_AGAIN.format(name=name),
        )
    return None


def _range(root: Path, policy: ServerPolicy, update: RefUpdate) -> str:
    """BASE..HEAD of what the update adds to the branch.

    A new protected branch is checked from where it leaves the default branch, or over its
    whole history when it shares none with it (the first push, which creates the trust root).
    """
    assert update.new is not None
    if update.old is not None:
        return f"{update.old}..{update.new}"
    base = git.merge_base(root, policy.source, update.new) if policy.source else None
    return f"{base}..{update.new}" if base else update.new
