"""The ref updates git hands a pre-receive or post-receive hook on stdin."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import QmsError

_LINE = re.compile(
    r"^(?P<old>[0-9a-f]{40}|[0-9a-f]{64}) (?P<new>[0-9a-f]{40}|[0-9a-f]{64}) (?P<ref>refs/\S+)$"
)


@dataclass(frozen=True)
class RefUpdate:
    old: str | None  # None: the ref is created
    new: str | None  # None: the ref is deleted
    ref: str

    @property
    def branch(self) -> str | None:
        """'main' for refs/heads/main; None for a ref that is not a branch."""
        return self.ref.removeprefix("refs/heads/") if self.ref.startswith("refs/heads/") else None

    @property
    def short(self) -> str:
        return self.branch or self.ref


def _id(value: str) -> str | None:
    return None if set(value) == {"0"} else value


def parse_updates(text: str) -> list[RefUpdate]:
    """'OLD NEW REF' lines, as git writes them; anything else is refused, not guessed at."""
    updates = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        found = _LINE.match(line)
        if found is None:
            raise QmsError(
                f"line {number} of the hook's input is not 'OLD NEW REF': {line[:120]!r}",
                hint="git runs this command as a pre-receive or post-receive hook; "
                "install it with `qms hook install BARE_REPO`",
            )
        updates.append(RefUpdate(_id(found["old"]), _id(found["new"]), found["ref"]))
    return updates
