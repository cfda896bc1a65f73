"""What the server enforces, read from the state it already accepted, never from a push.

The policy is the `server:` section of qms.yaml at the tip of the server's default branch (the
branch HEAD names, else main) as it stood before the push. A push therefore cannot loosen the
rules it is judged by: a change to the protected branches takes effect from the next push,
and only once it is itself accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from fnmatch import fnmatchcase
from pathlib import Path

from .. import git
from ..history.read import config_at
from ..records.config import (
    DEFAULT_PROTECTED_BRANCHES,
    DEFAULT_RECEIPT_TOLERANCE_HOURS,
)


@dataclass(frozen=True)
class ServerPolicy:
    protected: tuple[str, ...]  # branch names or glob patterns
    tolerance: timedelta  # how far before its receipt a commit may be dated
    source: str | None  # the commit whose qms.yaml said so; None: the defaults
    default_branch: str | None  # the branch the policy was read from, e.g. 'main'

    def protects(self, ref: str) -> bool:
        if not ref.startswith("refs/heads/"):
            return False
        name = ref.removeprefix("refs/heads/")
        return any(fnmatchcase(name, pattern) for pattern in self.protected)


def default_branch(root: Path) -> str | None:
    """The ref the server's HEAD names (refs/heads/main), existing yet or not."""
    return git.symbolic_head(root)


def server_policy(root: Path) -> ServerPolicy:
    """The policy in force now: from the default branch's tip, else main's, else the defaults.

    With no accepted qms.yaml yet (the first push), main and the default branch are protected,
    so the push that creates the trust root passes the gate like every later one.
    """
    head = default_branch(root)
    for ref in dict.fromkeys(r for r in (head, "refs/heads/main") if r):
        tip = git.rev_parse(root, f"{ref}^{{commit}}")
        if tip is None:
            continue
        config = config_at(root, tip)
        if config is not None:
            return ServerPolicy(
                config.protected_branches,
                timedelta(hours=config.receipt_tolerance_hours),
                tip,
                ref.removeprefix("refs/heads/"),
            )
        break
    branch = head.removeprefix("refs/heads/") if head else None
    protected = tuple(dict.fromkeys([*DEFAULT_PROTECTED_BRANCHES, *([branch] if branch else [])]))
    return ServerPolicy(protected, timedelta(hours=DEFAULT_RECEIPT_TOLERANCE_HOURS), None, branch)
