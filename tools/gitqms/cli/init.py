"""`qms init PATH`: a new QMS repository, or its schemas refreshed (--update-schemas)."""

from __future__ import annotations

from pathlib import Path

import click

from ..actions.init import create_repository, update_schemas
from .common import repository


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
    "--no-commit-msg-hook",
    "no_hook",
    is_flag=True,
    help="Do not install the commit-msg hook that refuses a commit of a controlled file "
    "without a 'Reason:' trailer (install it later with qms hook install-commit-msg).",
)
@click.option(
    "--update-schemas",
    "refresh_schemas",
    is_flag=True,
    help="Instead of creating: refresh the readers' copies in schemas/ and kinds/ of the "
    "current repository from this gitqms.",
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
    no_hook: bool,
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
    admin, source, hook = create_repository(
        path,
        cwd=Path.cwd(),
        admin_id=admin_id,
        admin_name=admin_name,
        admin_email=admin_email,
        key_file=key_file,
        organisation=organisation,
        gitqms_source=gitqms_source,
        commit_msg_hook=not no_hook,
    )
    click.echo(f"created QMS repository {path} (admin: {admin.id} <{admin.email}>)")
    click.echo(f"CI installs {source} (qms.yaml tooling.gitqms)")
    if "file:" in source:
        click.echo(
            "note: that path is on this machine only; set the validated copy CI can reach "
            "with qms init --gitqms-source, or edit tooling.gitqms and the pipelines"
        )
    if hook is not None:
        click.echo(
            f"installed the commit-msg hook {hook}: a commit that changes a controlled file "
            "needs a 'Reason:' trailer (qms commit -m MSG --reason R writes it)"
        )
    click.echo(f"next: cd {path} && qms new sop --title 'Document control'")
