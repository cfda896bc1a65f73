"""`qms people add|list`: the people who may sign; each change is an admin-signed commit."""

from __future__ import annotations

import click

from .. import clock
from ..actions import registry as registry_edit
from ..signatures.registry import people_listing
from ..validation.run import require_config
from .common import (
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
@click.option("--email", required=True, help="The email this person commits with.")
@click.option(
    "--role", "roles", multiple=True, required=True, help="A role from qms.yaml; repeat for more."
)
@click.option("--title", help="Job title, shown beside the name.")
@REGISTRY_REASON
@click.pass_context
def people_add(
    ctx: click.Context,
    person_id: str,
    name: str,
    email: str,
    roles: tuple[str, ...],
    title: str | None,
    reason: str,
) -> None:
    """Register a person (one admin-signed commit)."""
    edit = registry_edit.add_person(person_id, name, email, list(roles), title)
    sign_registry_edit(ctx, edit, reason)


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
        ["ID", "Printed name", "Email", "Roles", "Keys (usable)"],
        [
            [
                r["id"],
                r["name"],
                r["email"],
                ", ".join(r["roles"]),
                f"{r['keys']} ({r['usable_keys']})",
            ]
            for r in rows
        ],
    )
