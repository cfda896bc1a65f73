"""`qms people …` and `qms keys …`: the registry of signers, each change an admin-signed commit."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .. import clock
from ..actions import registry as registry_edit
from ..crypto.keys import parse_public_key
from ..crypto.sshkeys import KeyFormatError
from ..signatures.registry import key_window_problem
from ..validation.run import require_config
from .common import (
    DAY,
    FORMAT_OPTION,
    echo_json,
    printable,
    repository,
    signing_time,
    start_folder,
)

_REASON = click.option(
    "--reason",
    required=True,
    help="Why the registry changes; recorded in the commit's Reason trailer and shown in the "
    "audit trail (qms log qms.yaml).",
)


def _done(change: registry_edit.RegistryChange) -> None:
    click.echo(printable(f"{change.subject}: signed commit {change.commit[:12]}"))


def _table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(Text(printable(cell)) for cell in row))
    console = Console()
    if not console.is_terminal:
        console = Console(width=140)
    console.print(table)


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
@_REASON
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
    _done(registry_edit.change_registry(start_folder(ctx), edit, reason, signing_time(ctx)))


@people.command("list")
@FORMAT_OPTION
@click.pass_context
def people_list(ctx: click.Context, output_format: str) -> None:
    """List registered people, their roles and how many signing keys they hold."""
    config = require_config(repository(ctx, needs_git=False))
    today = clock.today()
    rows: list[dict[str, Any]] = []
    for person in config.people:
        usable = [k for k in person.keys if key_window_problem(k, today) is None]
        rows.append(
            {
                "id": person.id,
                "name": person.name,
                "email": person.email,
                "title": person.title,
                "roles": sorted(person.roles),
                "keys": len(person.keys),
                "usable_keys": len(usable),
            }
        )
    if output_format == "json":
        echo_json({"people": rows})
        return
    _table(
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


@click.group()
def keys() -> None:
    """Signing keys: registered to one person each, never reassigned, revoked when lost."""


@keys.command("add")
@click.argument("person_id", metavar="PERSON")
@click.argument("pubkey", metavar="PUBKEY_FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--valid-from", type=DAY, help="First day the key may sign (default: today).")
@click.option("--valid-until", type=DAY, help="Last day the key may sign.")
@click.option(
    "--verify-required",
    is_flag=True,
    help="FIDO (sk-) keys: accept only signatures where the key verified the user (PIN).",
)
@_REASON
@click.pass_context
def keys_add(
    ctx: click.Context,
    person_id: str,
    pubkey: Path,
    valid_from: date | None,
    valid_until: date | None,
    verify_required: bool,
    reason: str,
) -> None:
    """Register PERSON's public key (one admin-signed commit).

    PUBKEY_FILE is an SSH public key (.pub, from ssh-keygen) or an OpenPGP public key
    (.asc, from `gpg --armor --export you@hospital > you.asc`).
    """
    line = registry_edit.read_public_key(pubkey)
    start = valid_from or signing_time(ctx).date()
    edit = registry_edit.add_key(person_id, line, start, valid_until, verify_required)
    _done(registry_edit.change_registry(start_folder(ctx), edit, reason, signing_time(ctx)))


@keys.command("revoke")
@click.argument("person_id", metavar="PERSON")
@click.argument("fingerprint")
@click.option("--reason", required=True, help="Why: lost, compromised, left the organisation…")
@click.option("--on", "on", type=DAY, help="Revocation date (default: today).")
@click.pass_context
def keys_revoke(
    ctx: click.Context, person_id: str, fingerprint: str, reason: str, on: date | None
) -> None:
    """Revoke one of PERSON's keys by its fingerprint (one admin-signed commit).

    The fingerprint is as `qms keys list` shows it: SHA256:… for an SSH key, 40 hex digits for
    an OpenPGP key.

    Signatures made on top of the revocation no longer count; earlier ones stay valid.
    """
    day = on or signing_time(ctx).date()
    edit = registry_edit.revoke_key(person_id, fingerprint, day, reason)
    _done(registry_edit.change_registry(start_folder(ctx), edit, reason, signing_time(ctx)))


@keys.command("list")
@FORMAT_OPTION
@click.pass_context
def keys_list(ctx: click.Context, output_format: str) -> None:
    """List every registered key with its owner, fingerprint, window and status."""
    config = require_config(repository(ctx, needs_git=False))
    today = clock.today()
    rows: list[dict[str, Any]] = []
    for person in config.people:
        for key in person.keys:
            try:
                parsed = parse_public_key(key.public_key)
                fingerprint, key_type = parsed.fingerprint, parsed.type
            except KeyFormatError:
                fingerprint, key_type = "(unreadable)", "?"
            problem = key_window_problem(key, today)
            rows.append(
                {
                    "person": person.id,
                    "type": key_type,
                    "fingerprint": fingerprint,
                    "valid_from": key.valid_from,
                    "valid_until": key.valid_until,
                    "revoked_on": key.revoked_on,
                    "revoked_reason": key.revoked_reason,
                    "status": "usable" if problem is None else problem,
                }
            )
    if output_format == "json":
        echo_json({"keys": rows})
        return
    _table(
        f"{config.organisation}: signing keys",
        ["Person", "Type", "Fingerprint", "Valid", "Status"],
        [
            [
                r["person"],
                r["type"],
                r["fingerprint"],
                f"{r['valid_from']} – {r['valid_until'] or 'open'}",
                r["status"],
            ]
            for r in rows
        ],
    )
