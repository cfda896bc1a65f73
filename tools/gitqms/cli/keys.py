"""`qms keys add|revoke|list`: signing keys, each change an admin-signed commit."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from .. import clock
from ..actions import registry as registry_edit
from ..signatures.registry import key_listing
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
    signing_time,
)


@click.group()
def keys() -> None:
    """Signing keys: registered to one person each, never reassigned, revoked when lost."""


@keys.command("add")
@click.argument("person_id", metavar="PERSON", shell_complete=completers.people)
@click.argument("pubkey", metavar="PUBKEY_FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--valid-from", type=DAY, help="First day the key may sign (default: today).")
@click.option("--valid-until", type=DAY, help="Last day the key may sign.")
@click.option(
    "--verify-required",
    is_flag=True,
    help="FIDO (sk-) keys: accept only signatures where the key verified the user (PIN).",
)
@REGISTRY_REASON
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
    sign_registry_edit(ctx, edit, reason)


@keys.command("revoke")
@click.argument("person_id", metavar="PERSON", shell_complete=completers.people)
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
    sign_registry_edit(ctx, edit, reason)


@keys.command("list")
@FORMAT_OPTION
@click.pass_context
def keys_list(ctx: click.Context, output_format: str) -> None:
    """List every registered key with its owner, fingerprint, window and status."""
    config = require_config(repository(ctx, needs_git=False))
    rows = key_listing(config, clock.today())
    if output_format == "json":
        echo_json({"keys": rows})
        return
    echo_table(
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
