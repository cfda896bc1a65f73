"""`qms archive OUT_DIR` and `qms archive verify DIR`: archives for long retention."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from ..errors import Exit
from .common import DAY, FORMAT_OPTION, echo_json, printable, repository

_USAGE = (
    "give one folder: `qms archive OUT_DIR` writes an archive, `qms archive verify DIR` checks "
    "one (an archive folder named verify is given as ./verify)"
)


@click.command()
@click.argument("words", nargs=-1, metavar="[verify] DIR")
@click.option(
    "--date",
    "on",
    type=DAY,
    help="Writing: the archived site shows the status as of this day (default: today, UTC).",
)
@click.option(
    "--manifest-sha256",
    "expected",
    metavar="HEX",
    help="Verifying: the sha256 of manifest.sha256 as written down when the archive was made.",
)
@FORMAT_OPTION
@click.pass_context
def archive(
    ctx: click.Context,
    words: tuple[str, ...],
    on: date | None,
    expected: str | None,
    output_format: str,
) -> None:
    """Write an archive for long retention into OUT_DIR, or check one with `verify DIR`.

    \b
    qms archive OUT_DIR [--date D]
        OUT_DIR (new or empty) gets repository.bundle (every ref: branches, tags and notes
        such as the server's receipts), site/ (the published site at HEAD, works offline),
        verification.json and .txt (qms verify of the whole history), README.txt (how to
        check and restore by hand with sha256sum and git), manifest.sha256 (sha256sum -c
        format) and archive.json (tool versions, time, refs, trust root, manifest sha256).
        It is written beside OUT_DIR and moved into place when whole; a failure leaves
        nothing behind.
    qms archive verify DIR [--manifest-sha256 HEX]
        Checks every hash in the manifest, restores the bundle into a temporary repository,
        re-verifies every signature from the archived trust root and compares each verdict
        and every ref with the archive. Needs nothing but DIR. Exit 1 on any difference.

    An archive folder literally named `verify` is given as ./verify.
    """
    if len(words) == 2 and words[0] == "verify":
        if on is not None:
            raise click.UsageError("--date is for writing an archive, not for verifying one")
        _verify(ctx, Path(words[1]), expected, output_format)
    elif len(words) == 1 and words[0] != "verify":
        if expected is not None:
            raise click.UsageError("--manifest-sha256 is for `qms archive verify DIR`")
        _create(ctx, Path(words[0]), on, output_format)
    else:
        raise click.UsageError(_USAGE)


def _create(ctx: click.Context, out_dir: Path, on: date | None, output_format: str) -> None:
    from ..archive.create import create_archive

    repo = repository(ctx)
    created = create_archive(repo.root, out_dir, on)
    if output_format == "json":
        echo_json(
            {
                "archive": str(created.folder),
                "tip": created.tip,
                "refs": created.refs,
                "commits": created.commits,
                "signatures": created.signatures,
                "invalid": created.invalid,
                "files": created.files,
                "manifest_sha256": created.manifest_sha256,
            }
        )
        return
    click.echo(
        printable(
            f"archive written to {created.folder}: {created.files} files, "
            f"{len(created.refs)} refs, {created.commits} commits, "
            f"{created.signatures} signatures ({created.invalid} invalid), tip {created.tip[:12]}"
        )
    )
    if created.invalid:
        click.secho(
            f"note: {created.invalid} signatures do not count; verification.txt says why",
            fg="yellow",
        )
    click.echo(
        f"manifest sha256: {created.manifest_sha256}\n"
        "  write it down outside the archive (the archive log); later, "
        "`qms archive verify DIR --manifest-sha256 HEX` checks the archive against it"
    )


def _verify(ctx: click.Context, folder: Path, expected: str | None, output_format: str) -> None:
    from ..archive.verify import verify_archive

    result = verify_archive(folder, expected)
    if output_format == "json":
        echo_json(
            {
                "archive": str(folder),
                "ok": result.ok,
                "differences": result.differences,
                "checked": result.checked,
            }
        )
    elif result.ok:
        for line in result.checked:
            click.echo(printable(f"  {line}"))
        click.secho(printable(f"archive {folder}: OK"), fg="green")
    else:
        for line in result.differences:
            click.echo(printable(f"  {line}"))
        count = len(result.differences)
        click.secho(
            printable(f"archive {folder}: {count} difference{'' if count == 1 else 's'}"),
            fg="red",
        )
    ctx.exit(Exit.OK if result.ok else Exit.FINDINGS)
