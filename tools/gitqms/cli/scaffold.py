"""`qms init` and `qms new`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from ..actions.ci_files import checked_source, installed_source
from ..actions.init import ensure_new_folder, first_admin, init_repository, update_schemas
from ..actions.new import CAPA_SOURCES, DEVIATION_TYPES, NewRecord, new_record
from ..actions.registry import read_public_key
from ..validation.run import require_config
from .common import repository, signing_time


@click.command()
@click.argument("path", type=click.Path(path_type=Path), required=False)
@click.option("--admin", "admin_id", help="Person ID of the first admin (e.g. a.weber).")
@click.option("--name", "admin_name", help="The admin's printed name, as in signature blocks.")
@click.option("--email", "admin_email", help="The admin's email (default: git config user.email).")
@click.option(
    "--key",
    "key_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The admin's public key, SSH (.pub) or OpenPGP (.asc): registered, and the first "
    "commit is signed with it.",
)
@click.option(
    "--organisation", default="Example Hospital", show_default=True, help="Organisation name."
)
@click.option(
    "--gitqms-source",
    metavar="REQUIREMENT",
    help="Where CI installs gitqms from: the pip requirement of your validated copy, recorded "
    "in qms.yaml (tooling.gitqms). Default: the gitqms running this command, as installed "
    "(gitqms==VERSION from a package index, else its wheel, folder, or git URL at its commit).",
)
@click.option(
    "--update-schemas",
    "refresh_schemas",
    is_flag=True,
    help="Instead of creating: refresh schemas/ of the current repository from this gitqms.",
)
@click.pass_context
def init(
    ctx: click.Context,
    path: Path | None,
    admin_id: str | None,
    admin_name: str | None,
    admin_email: str | None,
    key_file: Path | None,
    organisation: str,
    gitqms_source: str | None,
    refresh_schemas: bool,
) -> None:
    """Create a new QMS repository at PATH: git repository, folders, schemas, qms.yaml, site.

    Refuses to touch a folder that exists and is not empty. The first admin defaults to your
    git identity (user.name, user.email). With --key, the admin's key is registered and the
    first commit, the trust root of every later signature, is signed with it.
    """
    if refresh_schemas:
        if path is not None:
            raise click.UsageError("--update-schemas works on the current repository; drop PATH")
        changed = update_schemas(repository(ctx, needs_git=False))
        click.echo("\n".join(changed) if changed else "schemas/ is up to date")
        return
    if path is None:
        raise click.UsageError("PATH is required (the folder to create)")
    ensure_new_folder(path)
    source = checked_source(gitqms_source if gitqms_source is not None else installed_source())
    admin = first_admin(Path.cwd(), admin_id, admin_name, admin_email)
    if key_file is not None:
        admin = replace(admin, key=read_public_key(key_file), key_file=key_file.absolute())
    init_repository(path, admin, organisation, source)
    click.echo(f"created QMS repository {path} (admin: {admin.id} <{admin.email}>)")
    click.echo(f"CI installs {source} (qms.yaml tooling.gitqms)")
    if "file:" in source:
        click.echo(
            "note: that path is on this machine only; set the validated copy CI can reach "
            "with qms init --gitqms-source, or edit tooling.gitqms and the pipelines"
        )
    click.echo(f"next: cd {path} && qms new sop --title 'Document control'")


@click.command()
@click.argument("kind", type=click.Choice(["sop", "capa", "deviation"]))
@click.option("--title", required=True, help="One-line title of the record.")
@click.option("--owner", help="Person ID of the owner (default: you, by your git email).")
@click.option("--area", help="Area from qms.yaml (default: the first listed).")
@click.option(
    "--type",
    "deviation_type",
    type=click.Choice(DEVIATION_TYPES),
    default="unplanned",
    show_default=True,
    help="Deviation type (deviations only).",
)
@click.option(
    "--source", type=click.Choice(CAPA_SOURCES), help="What raised the CAPA (CAPAs only)."
)
@click.option(
    "--ref", "references", multiple=True, help="Record that raised the CAPA, e.g. DEV-2026-0001."
)
@click.pass_context
def new(
    ctx: click.Context,
    kind: str,
    title: str,
    owner: str | None,
    area: str | None,
    deviation_type: str,
    source: str | None,
    references: tuple[str, ...],
) -> None:
    """Write a new SOP, CAPA or deviation from its template, with the next free ID.

    IDs are never reused: the next one is above every ID in the folder, the index and the
    whole history. The record is checked against its schema before it is written. Prints the
    new file's path.
    """
    repo = repository(ctx)
    request = NewRecord(kind, title, owner, area, deviation_type, source, references)
    path = new_record(repo, require_config(repo), request, signing_time(ctx))
    click.echo(path.relative_to(repo.root).as_posix())
