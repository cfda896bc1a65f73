"""`qms validate`: schema and semantic checks of records and qms.yaml."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import Exit
from ..validation.run import validate as run_validation
from .common import FORMAT_OPTION, echo_findings, echo_json, plural, repository, start_folder


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@FORMAT_OPTION
@click.pass_context
def validate(ctx: click.Context, paths: tuple[Path, ...], output_format: str) -> None:
    """Check records and qms.yaml against their schemas and the QMS rules.

    With no PATHS, checks the whole repository. Relative PATHS are taken from --repo when
    given (as with git -C), else from the current folder. Every finding names its file, line, record
    and what to do. Exits 1 if any error was found (warnings alone exit 0).
    """
    start = start_folder(ctx)
    chosen = [path if path.is_absolute() else start / path for path in paths]
    result = run_validation(repository(ctx, needs_git=False), chosen or None, parallel=True)
    if output_format == "json":
        echo_json(
            {
                "ok": result.errors == 0,
                "files": result.files,
                "errors": result.errors,
                "warnings": result.warnings,
                "findings": [finding.to_json() for finding in result.findings],
            }
        )
    else:
        echo_findings(result.findings)
        summary = (
            f"{plural(result.errors, 'error')}, {plural(result.warnings, 'warning')} "
            f"in {plural(result.files, 'file')}"
        )
        click.secho(summary, fg="red" if result.errors else "green")
    ctx.exit(Exit.FINDINGS if result.errors else Exit.OK)
