"""`qms people set` and `qms people leave`: a person's name, roles, audiences and the day they
started or left, each changed as one admin-signed commit of qms.yaml (actions/registry.py).

A person is never removed: who signed what, and under which printed name, stays readable. A
person who leaves keeps their entry with `left: {on, reason}`; from that day their keys count
as revoked and they are out of the training matrix.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import DoubleQuotedScalarString as Quoted

from ..errors import QmsError, Refused
from ..records.config import CONFIG_FILE, QmsConfig
from ..signatures.registry import Registry
from .registry import Edit, flow_list, person_entry


def change_person(
    person_id: str,
    *,
    name: str | None = None,
    title: str | None = None,
    roles: list[str] | None = None,
    audiences: list[str] | None = None,
    joined: date | None = None,
    email: str | None = None,
) -> Edit:
    """Set what is given of a person's entry; the rest stays as it is."""

    def edit(data: CommentedMap, registry: Registry) -> str:
        config = registry.config
        entry = person_entry(data, person_id)
        if entry.get("left"):
            raise Refused(
                f"{person_id} left on {entry['left'].get('on')}; a leaver's entry is history",
                hint="register the person again under a new ID if they come back",
            )
        changed = []
        if name is not None:
            entry["name"] = Quoted(name)
            changed.append("name")
        if title is not None:
            entry["title"] = Quoted(title)
            changed.append("title")
        if roles is not None:
            _known("role", roles, config.roles)
            entry["roles"] = flow_list(roles)
            changed.append("roles " + ", ".join(roles))
        if audiences is not None:
            _known("audience", audiences, config.audiences)
            entry["audiences"] = flow_list(audiences)
            changed.append("audiences " + ", ".join(audiences))
        if joined is not None:
            entry["joined"] = Quoted(joined.isoformat())
            changed.append(f"joined {joined.isoformat()}")
        if email is not None:
            _email_free(config, person_id, email)
            entry["email"] = Quoted(email)
            changed.append(f"email {email}")
        if not changed:
            raise QmsError(
                "nothing to change",
                hint="give --name, --title, --email, --role, --audience or --joined",
            )
        return f"Change {person_id}: {'; '.join(changed)}"

    return edit


def _email_free(config: QmsConfig, person_id: str, email: str) -> None:
    other = config.person_by_email(email)
    if other is not None and other.id != person_id:
        raise QmsError(
            f"{email} is already the email of {other.id}", hint="each signs as themselves"
        )


def _known(what: str, names: list[str], listed: Mapping[str, str]) -> None:
    unknown = [name for name in names if name not in listed]
    if unknown:
        raise QmsError(
            f"unknown {what}(s): {', '.join(unknown)}",
            hint=f"{what}s in {CONFIG_FILE}: {', '.join(listed)}",
        )


def person_left(person_id: str, on: date, reason: str) -> Edit:
    """Record that a person left on `on`: their keys count as revoked from that day."""

    def edit(data: CommentedMap, registry: Registry) -> str:
        entry = person_entry(data, person_id)
        if entry.get("left"):
            raise Refused(f"{person_id} left already, on {entry['left'].get('on')}")
        others = [
            p
            for p in registry.config.people
            if p.id != person_id and "admin" in p.roles and p.left_on is None
        ]
        if "admin" in (entry.get("roles") or ()) and not others:
            raise Refused(
                f"{person_id} is the last admin; nobody could change the registry after",
                hint="give another person the admin role first (qms people set ID --role …)",
            )
        entry["left"] = CommentedMap(on=Quoted(on.isoformat()), reason=Quoted(reason))
        return f"{person_id} leaves on {on.isoformat()}"

    return edit
