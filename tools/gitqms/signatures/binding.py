"""A signature binds where it enters the protected line, not only where it was made.

A signature made on a branch is judged by the registry of its own parent; when a merge brings it
onto the line of the tip (main, as the server protects it: the tip's first parents), it must
also satisfy the registry in force at that merge's first parent. A role withdrawn, a person
removed, a key window shortened or a key revoked there voids every signature merged after it,
whatever branch it was made on and whatever date its signer gave it. Revocation is judged
against the server's receipt time where one exists: only a receipt from before the revocation
shows that a signature was made before it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

from ..records.kinds import kind_of_id
from .claims import CONFIG_RECORD
from .registry import Registry


def brought_in(graph: Sequence[tuple[str, tuple[str, ...]]]) -> dict[str, tuple[str, str]]:
    """Commit -> (the merge on the tip's first-parent line that brought it onto that line,
    the merge's first parent), for every commit of `graph` (parents first) off that line."""
    if not graph:
        return {}
    parents = dict(graph)
    line: list[str] = []
    at: str | None = graph[-1][0]
    while at is not None and at in parents:
        line.append(at)
        at = parents[at][0] if parents[at] else None
    on_line = set(line)
    owner: dict[str, tuple[str, str]] = {}
    for merge in reversed(line):  # oldest first: what an earlier merge brought is not new later
        first, *sides = parents[merge] or ("",)
        stack = list(sides)
        while stack:
            commit = stack.pop()
            if commit in on_line or commit in owner or commit not in parents:
                continue
            owner[commit] = (merge, first)
            stack.extend(parents[commit])
    return owner


def binding_problem(
    registry: Registry,
    merge: str,
    record: str,
    meaning: str,
    person: str | None,
    fingerprint: str,
    signed: datetime,
    receipt: Callable[[], datetime | None],
    audiences: Callable[[], frozenset[str]] = frozenset,
) -> str | None:
    """Why a valid signature does not hold under `registry`, in force where `merge` brought it
    onto the protected line; None when it holds. `signed`: its committer date; `receipt()`: the
    server's receipt time, if one was recorded (asked only for a key revoked or ending);
    `audiences()`: the training audiences of the version signed (asked only for a meaning its
    audience signs, read-and-understood)."""
    at = f"in the registry in force where merge {merge[:12]} brought it onto the protected line"
    entry = registry.key_by_fingerprint(fingerprint)
    if entry is None or entry.person.id != person:
        return f"the key is no longer registered to {person} {at}"
    key = entry.key
    received = receipt() if key.revoked_on or key.valid_until else None
    if key.revoked_on is not None:
        revoked = date.fromisoformat(key.revoked_on)
        if received is None or received.date() >= revoked:
            shown = (
                f"the server received it on {received:%Y-%m-%d}"
                if received is not None
                else "no server receipt shows it was made before then"
            )
            return (
                f"the key was revoked on {key.revoked_on} ({key.revoked_reason}) {at}, and {shown}"
            )
    day = max(signed, received or signed).date()
    if key.valid_until is not None and day > date.fromisoformat(key.valid_until):
        return f"the key expired on {key.valid_until} {at}, and the signature is of {day}"
    kind = "qms" if record == CONFIG_RECORD else getattr(kind_of_id(record), "name", None)
    rule = registry.config.signatures.get(kind or "", {}).get(meaning)
    if rule is not None and rule.audience:  # read-and-understood: still in the version's audience
        if registry.config.audiences_of(entry.person) & audiences():
            return None
        return f"{person} is no longer in an audience of this version {at}"
    if rule is None or not entry.person.roles & rule.roles:
        return f"{person} no longer holds a role that may sign '{meaning}' {at}"
    return None
