"""`qms kinds add|list`: the record kinds of the repository; declaring one is an admin-signed
commit of qms.yaml and the kind's pinned schema."""

from __future__ import annotations

from pathlib import Path

import click

from .. import git
from ..actions.kinds import kind_change, kinds_table
from ..actions.registry import change_registry
from ..errors import QmsError
from ..signatures.verify import trusted_registry, walk_history
from .common import (
    FORMAT_OPTION,
    REGISTRY_REASON,
    echo_json,
    echo_table,
    printable,
    repository,
    signing_time,
    start_folder,
)


@click.group()
def kinds() -> None:
    """The kinds of documents and records: built in, or declared in qms.yaml."""


@kinds.command("add")
@click.argument("declaration", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--schema",
    "schema",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The JSON Schema (Draft 2020-12) of the kind's files; copied to schemas/ and pinned.",
)
@click.option(
    "--replace", is_flag=True, help="Change a declared kind: a new schema or rules, same identity."
)
@REGISTRY_REASON
@click.pass_context
def kinds_add(
    ctx: click.Context, declaration: Path, schema: Path, replace: bool, reason: str
) -> None:
    """Declare a kind from DECLARATION (YAML in the format of schemas/kind.schema.json; a
    `signatures:` map in it becomes the kind's signature policy), as one admin-signed commit
    of qms.yaml and schemas/NAME.schema.json. A kind once adopted is never removed, and its
    name, family, folder, file form and ID numbering never change."""
    repo = repository(ctx)
    change = kind_change(repo.root, declaration, schema, replace=replace)
    done = change_registry(
        start_folder(ctx),
        change.edit,
        reason,
        signing_time(ctx),
        {change.schema_file: change.schema},
    )
    click.echo(printable(f"{done.subject}: signed commit {done.commit[:12]}"))


@kinds.command("list")
@FORMAT_OPTION
@click.pass_context
def kinds_list(ctx: click.Context, output_format: str) -> None:
    """List the kinds in force at HEAD: the built-in ones and those an admin declared."""
    repo = repository(ctx)
    head = git.rev_parse(repo.root, "HEAD^{commit}")
    if head is None:
        raise QmsError("nothing is committed yet", hint="commit qms.yaml first")
    registry = trusted_registry(walk_history(repo.root, [head]), head, "no kind is in force")
    rows = kinds_table(registry.config.kinds.by_name)
    if output_format == "json":
        echo_json({"kinds": rows})
        return
    echo_table(
        "Kinds",
        ["Name", "Label", "Family", "Folder", "ID", "Declared in"],
        [
            [r["name"], r["label"], r["family"], f"{r['folder']}/", r["example"], r["declared_in"]]
            for r in rows
        ],
    )
