"""`qms build` and `qms serve`: the published site."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from .common import DAY, repository

_DATE = click.option(
    "--date",
    "on",
    type=DAY,
    help="Publish the status as of this day (default: today, UTC).",
)
_DRAFTS = click.option(
    "--drafts",
    is_flag=True,
    help="A preview that also shows drafts, with DRAFT on every page. Never the controlled site.",
)


@click.command()
@_DATE
@click.option(
    "--site-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the site (default: site/, or site-preview/ with --drafts).",
)
@_DRAFTS
@click.option(
    "--pdfs",
    is_flag=True,
    help="Also write a PDF (uncontrolled copy) of each document version in force or about to "
    "be, in pdf/, linked from its page; made in parallel, about a second each.",
)
@click.pass_context
def build(
    ctx: click.Context, on: date | None, site_dir: Path | None, drafts: bool, pdfs: bool
) -> None:
    """Build the published site from the signed history, with the qms plugin's own configuration.

    Only approved versions, read from the commits that signed them, are published; the
    registers and dashboards show the records as committed. Of the committed mkdocs.yml only
    plain settings are taken (site_name, nav, theme colours and features, allowed Markdown
    extensions); hooks, other plugins, custom_dir or extra_javascript are refused. Static pages
    come from docs/ at the published commit: Markdown pages (sanitised) and images, never a
    symbolic link. Exit 2 if an input is refused or the site cannot be built.
    """
    from ..site.build import build_site

    repo = repository(ctx)
    target = site_dir or repo.root / ("site-preview" if drafts else "site")
    index = build_site(repo.root, target, on, drafts, pdfs)
    click.echo(f"site built in {target}: open {index}")


@click.command()
@_DATE
@_DRAFTS
@click.option("--address", default="127.0.0.1:8000", show_default=True, help="Host and port.")
@click.pass_context
def serve(ctx: click.Context, on: date | None, drafts: bool, address: str) -> None:
    """Serve the site locally; it rebuilds when a commit lands or a record file changes."""
    from ..site.build import serve_site

    serve_site(repository(ctx).root, on, drafts, address)
