"""What the commands share: the repository they act on, and rendering for people and machines."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from .. import git
from ..repository import Repository
from ..validation.findings import Finding

FORMAT_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people, json for machines.",
)


def echo_json(value: Any) -> None:
    # ASCII only: control, C1 and bidi characters from record text arrive escaped.
    click.echo(json.dumps(value, indent=2, ensure_ascii=True))


# C0 and C1 controls, and the bidi overrides that can make text read differently than it is.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """Record text for a terminal: control characters (escape sequences) shown, not obeyed."""
    return _CONTROL.sub(lambda m: ascii(m.group())[1:-1], text)


def echo_findings(findings: list[Finding]) -> None:
    for finding in findings:
        colour = "red" if finding.severity == "error" else "yellow"
        record = f"{finding.record}: " if finding.record else ""
        click.echo(
            printable(f"{finding.location}: ")
            + click.style(finding.severity, fg=colour, bold=True)
            + printable(f": {record}{finding.message} [{finding.code}]")
        )
        click.echo(printable(f"    fix: {finding.fix}"))


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def start_folder(ctx: click.Context) -> Path:
    """Where the command acts as if started: --repo (like git -C), else the current folder."""
    start: Path | None = ctx.find_root().obj
    return start if start is not None else Path.cwd()


def signing_time(ctx: click.Context) -> datetime:
    """The date the signed commit will carry (git's clock: GIT_COMMITTER_DATE, else now)."""
    folder = start_folder(ctx)
    return git.commit_time(folder if folder.is_dir() else Path.cwd())


def repository(ctx: click.Context) -> Repository:
    """The repository named by --repo, or found from the current folder."""
    return Repository.discover(start_folder(ctx))
