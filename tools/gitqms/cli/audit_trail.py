"""`qms audit-trail`: the periodic audit-trail review (EU GMP Annex 11 §9), and its signature."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from ..actions.review import sign_review
from ..audit.review import audit_review
from ..audit.review_output import report_output
from ..errors import Exit, QmsError
from ..files import replace_atomic
from .common import DAY, printable, repository, signing_time, start_folder


@click.command("audit-trail")
@click.option("--since", type=DAY, help="First day of the period, YYYY-MM-DD (UTC, inclusive).")
@click.option("--until", type=DAY, help="Last day of the period, YYYY-MM-DD (UTC, inclusive).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "csv", "html"]),
    default="text",
    show_default=True,
    help="text for people, json or csv for machines, html for one printable page.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the report to this file (replaced in one step) instead of the terminal.",
)
@click.option("--revision", default="HEAD", show_default=True, help="The history to review.")
@click.option(
    "--branch",
    help="The branch that history is, for the search for changes that bypassed a merge "
    "(default: the branch --revision names, else the checked-out one). Give it to repeat a "
    "signed review from a detached checkout: the report and its hash come out the same.",
)
@click.option(
    "--sign",
    is_flag=True,
    help="Record the review as audit-reviews/ATR-YYYY-NNNN.yaml and sign it "
    "'audit-trail-reviewed' (needs --since, --until and --conclusion).",
)
@click.option("--conclusion", help="The reviewer's conclusion, recorded in the signed review.")
@click.pass_context
def audit_trail(
    ctx: click.Context,
    since: date | None,
    until: date | None,
    output_format: str,
    output: Path | None,
    revision: str,
    branch: str | None,
    sign: bool,
    conclusion: str | None,
) -> None:
    """Review the audit trail of a period: every change and signature, by person and by
    record, with anomalies flagged and counted.

    A commit is in the period by its committer date in UTC; both ends are inclusive.
    Anomalies (each with a stable code): changes without a Reason trailer, unsigned or
    invalid signatures, signatures outside the signer's roles, keys used after revocation or
    outside their validity, commit dates far from the server's receipt (when
    refs/notes/qms-receipts was fetched), edits of closed or cancelled records that were not a
    signed reopening, and changes on a protected branch that did not arrive through a merge.

    Exit 1 when there are anomalies (a finding, as for qms verify). With --sign, the reviewer
    records a conclusion about them: the review is written and signed, and the exit is 0.
    """
    if sign and not (since and until and conclusion):
        raise click.UsageError("--sign needs --since, --until and --conclusion")
    if conclusion is not None and not sign:
        raise click.UsageError("--conclusion is recorded only with --sign")
    if output is not None and not output.parent.is_dir():
        raise QmsError(
            f"cannot write {output}: the folder {output.parent} does not exist",
            hint="create the folder first, or name another --output file",
        )
    repo = repository(ctx)
    review = audit_review(repo.root, since, until, revision, branch)
    generated = signing_time(ctx)
    text = report_output(review, output_format, generated)
    signed = None
    if sign:
        assert conclusion is not None
        signed = sign_review(start_folder(ctx), review, conclusion, generated)
    if output is not None:
        replace_atomic(output, text)
    elif output_format == "text":
        click.echo(printable(text), nl=False)
    else:
        click.echo(text, nl=False)
    if signed is not None:
        click.echo(
            printable(
                f"signed '{signed.record}' ({signed.path}) in commit {signed.commit[:12]}; "
                f"report {signed.report_sha256}"
            ),
            err=output is None and output_format != "text",
        )
    elif output is not None:
        click.echo(f"wrote {output}", err=True)
    code = Exit.OK if signed is not None or not review.anomalies else Exit.FINDINGS
    ctx.exit(code)
