"""Who may sign a meaning: a person holding a role the policy names, or, for a meaning signed
by its audience (read-and-understood), a person in one of the document version's training
audiences, as the registry in force says (their own audiences and those their roles imply)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..records.config import Person, QmsConfig, SignatureRule


def version_audiences(data: Any) -> frozenset[str]:
    """The training audiences a document version names (`training.audience`)."""
    training = data.get("training") if isinstance(data, Mapping) else None
    names = training.get("audience") if isinstance(training, Mapping) else None
    return (
        frozenset(n for n in names if isinstance(n, str))
        if isinstance(names, list)
        else frozenset()
    )


def accepted_as(
    rule: SignatureRule, config: QmsConfig, person: Person, data: Any
) -> tuple[str | None, str]:
    """(the role, or 'audience NAME', under which `person` may sign with `rule` on a record
    whose content is `data`; or None, and why not)."""
    if rule.audience:
        wanted = version_audiences(data)
        held = sorted(config.audiences_of(person) & wanted)
        if held:
            return f"audience {held[0]}", ""
        mine = ", ".join(sorted(config.audiences_of(person))) or "none"
        return None, (
            f"{person.id} is not in an audience of this version "
            f"({', '.join(sorted(wanted)) or 'it names none'}; theirs: {mine})"
        )
    held = sorted(person.roles & rule.roles)
    if held:
        return held[0], ""
    return None, (
        f"{person.id} holds {', '.join(sorted(person.roles))}; it needs one of "
        f"{', '.join(sorted(rule.roles))}"
    )
