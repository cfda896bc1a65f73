"""`qms pdf DOC`: a PDF copy of an approved document version, uncontrolled or issued as a
numbered controlled copy; `qms verify-copy DOC`: a printed copy checked against git."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from .. import clock
from ..errors import Exit, QmsError
from ..files import write_bytes_atomic
from . import completers
from .common import DAY, printable, repository, signing_time


@click.command("pdf")
@click.argument("document", metavar="[DOC]", required=False, shell_complete=completers.documents)
@click.option(
    "--version",
    "version",
    type=click.IntRange(min=1),
    default=None,
    help="The approved version to print (default: the one in force, else the "
    "approved one about to be).",
)
@click.option(
    "--copy-for",
    "location",
    default=None,
    metavar="LOCATION",
    help="Issue a numbered controlled copy kept at LOCATION: the next copy number "
    "of the version, recorded in a commit you sign 'issued'.",
)
@click.option(
    "--reprint",
    "reprint",
    default=None,
    metavar="COPY-YYYY-NNNN",
    shell_complete=completers.copies,
    help="Print an issued controlled copy again (instead of DOC): the same copy number, "
    "location, version and hash, marked REPRINT with its print time. Nothing is recorded; "
    "refused for a copy record whose issue does not count (as `qms check` judges it) or a "
    "version no longer in force on the print day.",
)
@click.option(
    "--output",
    "-o",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the PDF (default: DOC-vN.pdf, or "
    "DOC-vN-copy-K.pdf for an issued copy, in the current folder).",
)
@click.option(
    "--date",
    "on",
    type=DAY,
    default=None,
    help="The day to judge the version's status for (YYYY-MM-DD; default: today). A "
    "--reprint is judged on its print day (git's clock), or on a later --date.",
)
@click.pass_context
def pdf(
    ctx: click.Context,
    document: str | None,
    version: int | None,
    location: str | None,
    reprint: str | None,
    output: Path | None,
    on: date | None,
) -> None:
    """Print DOC as a PDF read from the git objects of its approving commit.

    Every page carries the ID, title, version and effective date, "page X of Y" and the
    copy's marking: UNCONTROLLED WHEN PRINTED for a download, CONTROLLED COPY n° K, kept at
    LOCATION for an issued copy. The last page is the signature manifest (printed name, role,
    meaning, UTC and local time, commit of every counted signature), the sha256 of the
    version's exact bytes, a QR code of its page on the site and the `qms verify-copy`
    command that checks the copy. A draft is never printed; a superseded or obsolete version
    is printed marked as such and is never issued as a controlled copy.

    The print time is git's clock, as for a signature (GIT_COMMITTER_DATE, else now): an
    issued copy's sheet and its record carry the same moment.
    """
    from ..actions.copies import plan_issue, record_issue
    from ..reports.copies import copy_source, reprint_source
    from ..site.pdf import CopyMark, copy_pdf

    if (document is None) == (reprint is None):
        raise click.UsageError("name a document (DOC), or an issued copy with --reprint")
    if reprint is not None and (version is not None or location is not None):
        raise click.UsageError(
            "--reprint prints the copy's own version: no --version or --copy-for"
        )
    repo = repository(ctx)
    day = clock.day_or_today(on)
    printed = signing_time(ctx)
    plan = None
    if reprint is not None:
        # A reprint is a sheet in use from its print time: judged on that day (git's clock),
        # or on a later --date (stricter), never on an earlier one.
        day = max(day, printed.date())
        source, copy = reprint_source(repo.root, reprint.strip().upper(), day)
        mark: CopyMark | None = CopyMark(
            copy.copy, copy.location, copy.record, copy.issued_at, reprinted=printed
        )
    else:
        assert document is not None
        source = copy_source(repo.root, document, version, day)
        if location is not None:
            plan = plan_issue(repo.root, source, location, printed)
        mark = CopyMark(plan.number, plan.location) if plan else None
    rendered = copy_pdf(source, mark, printed)
    name = f"{source.id}-v{source.version.version}" + (f"-copy-{mark.number}" if mark else "")
    target = _target(output if output is not None else Path.cwd() / f"{name}.pdf")
    issued = record_issue(repo.root, plan) if plan is not None else None
    if issued is not None and plan is not None:
        click.echo(
            printable(
                f"{issued.record}: controlled copy {issued.number} of {source.id} "
                f"v{source.version.version} for {plan.location}, signed commit {issued.commit[:12]}"
            )
        )
    _write(target, rendered.pdf, issued.record if issued else None)
    again = f", reprint of controlled copy {mark.number} ({reprint})" if reprint and mark else ""
    click.echo(
        printable(
            f"{target}: {source.id} v{source.version.version} ({source.version.status}), "
            f"{source.content_sha256}{again}"
        )
    )


def _target(target: Path) -> Path:
    """The output, checked before anything is recorded: replaced whole (write, then rename),
    never over a device, pipe or link."""
    if not target.parent.is_dir():
        raise QmsError(
            f"{target.parent} is not a folder", hint="--output FILE in a folder that exists"
        )
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise QmsError(
            f"{target} is not a regular file, so it is not replaced",
            hint="--output a new or existing .pdf file",
        )
    return target


def _write(target: Path, content: bytes, issued: str | None) -> None:
    """Write the PDF; when its issue is recorded already, a failure names the reprint."""
    try:
        write_bytes_atomic(target, content)
    except OSError as error:
        if issued is None:
            raise
        raise QmsError(
            f"{issued} is recorded, but its PDF could not be written to {target}: "
            f"{error.strerror or error}",
            hint=f"print the same copy again: qms pdf --reprint {issued} -o FILE",
        ) from None


@click.command("verify-copy")
@click.argument("document", metavar="DOC", shell_complete=completers.documents)
@click.option(
    "--version",
    "version",
    type=click.IntRange(min=1),
    required=True,
    help="The version printed on the copy.",
)
@click.option(
    "--sha256",
    "sha256",
    required=True,
    metavar="HEX",
    help="The content sha256 printed on the copy's manifest page.",
)
@click.option(
    "--copy",
    "copy",
    type=click.IntRange(min=1),
    default=None,
    help="The controlled copy's number, when it is one.",
)
@click.option(
    "--date",
    "on",
    type=DAY,
    default=None,
    help="The day to judge the version's status for (YYYY-MM-DD; default: today).",
)
@click.pass_context
def verify_copy(
    ctx: click.Context, document: str, version: int, sha256: str, copy: int | None, on: date | None
) -> None:
    """Check a printed copy of DOC against the repository, offline.

    The sha256 is recomputed from the approved version's bytes in git (never taken from the
    copy), the version's status on the day is derived from its signatures, and a controlled
    copy's number is looked up among the signed issue records. Exit 1 when the hash does not
    match, the version is not in force (or about to be), or the copy is not recorded.
    """
    from ..reports.copies import check_copy

    repo = repository(ctx)
    day = clock.day_or_today(on)
    if not all(c in "0123456789abcdef" for c in sha256.lower().removeprefix("sha256:")):
        raise QmsError(
            "--sha256 takes the 64 hex digits printed on the copy", hint="copy them exactly"
        )
    result = check_copy(repo.root, document, version, sha256, copy, day)
    for line in result.lines:
        click.echo(printable(line))
    if not result.ok:
        raise click.exceptions.Exit(Exit.FINDINGS)
