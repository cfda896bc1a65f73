"""`qms check BASE..HEAD`: the change gate that CI and the server run on every commit of a range."""

from __future__ import annotations

import click

from ..errors import Exit
from ..rules.check import check_range
from .common import FORMAT_OPTION, echo_check_report, echo_json, repository


@click.command()
@click.argument("revisions", metavar="BASE..HEAD")
@FORMAT_OPTION
@click.pass_context
def check(ctx: click.Context, revisions: str, output_format: str) -> None:
    """The change gate for CI and the server: check every commit of BASE..HEAD.

    Touched records valid; a Reason trailer on every change to a record; no record deleted or
    renamed; no edit of an approved SOP version without a version bump; CAPA and deviation
    states only along allowed transitions, signed by the required role; closed records
    unchanged unless reopened; every signature valid; a warning for signatures lost by a
    squash or rebase merge. Exit 1 on any violation.
    """
    report = check_range(repository(ctx).root, revisions)
    if output_format == "json":
        echo_json(
            {
                "base": report.base,
                "head": report.head,
                "commits": report.commits,
                "violations": [v.to_json() for v in report.violations],
                "notes": report.notes,
                "ok": not report.errors,
            }
        )
    else:
        echo_check_report(report)
    ctx.exit(Exit.FINDINGS if report.errors else Exit.OK)
