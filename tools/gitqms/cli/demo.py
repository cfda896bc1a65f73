"""`qms demo`: a demo QMS repository made from the shipped examples, and its site.

The demo's people type `qms` command lines; this module hands the demo the way to run them (the
click group, in this process), so the demo below the command line never imports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from ..demo.build import build_demo
from ..demo.story import STORY_DAY
from .main import cli


def _qms_in_process(args: Sequence[str]) -> int:
    """One `qms` command line (the words after `qms`) run by the click group in this process;
    its exit code."""
    code = cli.main(list(args), prog_name="qms", standalone_mode=False)
    return int(code or 0)


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
    base = Path(__file__).resolve().parents[3]  # the checkout: tools/gitqms/cli/demo.py
    today = STORY_DAY  # the story's own day, so the demo is the same whenever it is run
    result = build_demo(
        folder,
        examples or base,
        today,
        _qms_in_process,
        lambda line: click.echo(f"demo: {line}"),
    )
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
