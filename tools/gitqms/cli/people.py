"""`qms people add|set|leave|list`: the people who sign and who are trained; each change is an
admin-signed commit."""

from __future__ import annotations

from datetime import date

import click

from .. import clock
from ..actions import people as people_edit
from ..actions import registry as registry_edit
from ..signatures.registry import people_listing
from ..validation.run import require_config
from . import completers
from .common import (
    DAY,
    FORMAT_OPTION,
    REGISTRY_REASON,
    echo_json,
    echo_table,
    repository,
    sign_registry_edit,
)


@click.group()
def people() -> None:
    """The people who may sign, with their printed names and roles."""


@people.command("add")
@click.argument("person_id", metavar="ID")
@click.option("--name", required=True, help="Printed name, as shown in signature blocks.")
@click.option(
    "--email",
    help="The email this person commits with; needed before they get a key (a reader "
    "trained in sessions needs none).",
)
@click.option(
    "--role",
    "roles",
    multiple=True,
    shell_complete=completers.roles,
    help="A role from qms.yaml; repeat for more (none for a reader).",
)
@click.option("--title", help="Job title, shown beside the name.")
@click.option(
    "--audience",
    "audiences",
    multiple=True,
    shell_complete=completers.audiences,
    help="A training audience from qms.yaml the person belongs to; repeat for more.",
)
@REGISTRY_REASON
@click.pass_context
def people_add(
    ctx: click.Context,
    person_id: str,
    name: str,
    email: str | None,
    roles: tuple[str, ...],
    title: str | None,
    audiences: tuple[str, ...],
    reason: str,
) -> None:
    """Register a person (one admin-signed commit): a signer with an email and roles, or a
    reader with audiences only, trained in sessions."""
    edit = registry_edit.add_person(person_id, name, email, list(roles), title, list(audiences))
    sign_registry_edit(ctx, edit, reason)


@people.command("set")
@click.argument("person_id", metavar="ID", shell_complete=completers.people)
@click.option("--name", help="The new printed name (signature blocks keep the name of their day).")
@click.option("--title", help="The new job title.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    shell_complete=completers.roles,
    help="The person's roles, all of them; repeat for more.",
)
@click.option(
    "--audience",
    "audiences",
    multiple=True,
    shell_complete=completers.audiences,
    help="The training audiences the person belongs to, all of them (besides those their roles "
    "imply); repeat for more.",
)
@click.option(
    "--joined", type=DAY, help="The day the person started (their training plan runs from it)."
)
@click.option("--email", help="The email the person commits with (before they get a key).")
@REGISTRY_REASON
@click.pass_context
def people_set(
    ctx: click.Context,
    person_id: str,
    name: str | None,
    title: str | None,
    roles: tuple[str, ...],
    audiences: tuple[str, ...],
    joined: date | None,
    email: str | None,
    reason: str,
) -> None:
    """Change a person's name, title, email, roles, audiences or start day (one admin-signed
    commit)."""
    edit = people_edit.change_person(
        person_id,
        name=name,
        title=title,
        roles=list(roles) if roles else None,
        audiences=list(audiences) if audiences else None,
        joined=joined,
        email=email,
    )
    sign_registry_edit(ctx, edit, reason)


@people.command("leave")
@click.argument("person_id", metavar="ID", shell_complete=completers.people)
@click.option("--on", "day", type=DAY, required=True, help="The day the person left.")
@REGISTRY_REASON
@click.pass_context
def people_leave(ctx: click.Context, person_id: str, day: date, reason: str) -> None:
    """Record that a person left (one admin-signed commit): from that day their keys count as
    revoked and they are out of the training matrix; who signed what stays as it was."""
    sign_registry_edit(ctx, people_edit.person_left(person_id, day, reason), reason)


@people.command("list")
@FORMAT_OPTION
@click.pass_context
def people_list(ctx: click.Context, output_format: str) -> None:
    """List registered people, their roles and how many signing keys they hold."""
    config = require_config(repository(ctx, needs_git=False))
    rows = people_listing(config, clock.today())
    if output_format == "json":
        echo_json({"people": rows})
        return
    echo_table(
        f"{config.organisation}: people",
        ["ID", "Printed name", "Email", "Roles", "Audiences", "Keys (usable)", "Left"],
        [
            [
                r["id"],
                r["name"],
                r["email"],
                ", ".join(r["roles"]),
                ", ".join(r["audiences"]),
                f"{r['keys']} ({r['usable_keys']})",
                r["left"] or "",
            ]
            for r in rows
        ],
    )
