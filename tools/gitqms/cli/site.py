"""`qms build`, `qms serve` and `qms demo`: the published site."""

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
@click.pass_context
def build(ctx: click.Context, on: date | None, site_dir: Path | None, drafts: bool) -> None:
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
    index = build_site(repo.root, target, on, drafts)
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


@click.command()
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build/demo"),
    show_default=True,
    help="Where to make the demo (must not exist, or be empty).",
)
@click.option(
    "--examples",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The example content to use (default: the gitqms checkout's own).",
)
@click.option("--serve", "then_serve", is_flag=True, help="Serve the site when it is built.")
@click.pass_context
def demo(ctx: click.Context, folder: Path, examples: Path | None, then_serve: bool) -> None:
    """Make a demo QMS repository from the shipped examples and build its site.

    Demo people get their own SSH keys and sign real commits: SOP drafts, reviews and
    approvals, a revision with a future effective date, a retired SOP, deviations and CAPAs
    taken through their life cycles (one action overdue), then `qms verify`, `qms check` and
    the site, in DIR/repo and DIR/site.

    The story ends on its own day (2026-11-23), whatever day it is run, and the site shows
    the status as of that day; give `--date 2026-11-23` to `qms status` or `qms due` in
    DIR/repo to see the same.
    """
    from ..demo.build import build_demo
    from ..demo.story import STORY_DAY

    base = Path(__file__).resolve().parents[3]  # the checkout: tools/gitqms/cli/site.py
    today = STORY_DAY  # the story's own day, so the demo is the same whenever it is run
    result = build_demo(folder, examples or base, today, lambda line: click.echo(f"demo: {line}"))
    click.echo(
        f"demo repository: {result.repo}\n"
        f"demo site:       {result.site / 'index.html'} (open it in a browser)\n"
        f"demo archive:    {result.folder / 'archive'} (check it: qms archive verify DIR)\n"
        f"demo day:        {today} (the story's last day; the site shows the status as of it,"
        f" and `qms status --date {today}` does too)"
    )
    if then_serve:
        from ..site.build import serve_site

        serve_site(result.repo, today, False, "127.0.0.1:8000")
