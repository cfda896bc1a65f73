"""What the commands share: the repository they act on, and rendering for people and machines."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .. import git
from ..lifecycle.due import SOON_DAYS
from ..records.repository import Repository
from ..text import plural as plural
from ..text import printable as printable
from ..validation.findings import Finding
from .tables import echo_table as echo_table

if TYPE_CHECKING:  # the checker and rich load only with the commands that use them
    from ..actions.registry import Edit
    from ..rules.check import CheckReport

FORMAT_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people, json for machines.",
)

FORMAT_CSV_OPTION = click.option(  # `qms log`, `qms training`
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "csv"]),
    default="text",
    show_default=True,
    help="text for people, json or csv for machines and spreadsheets.",
)

REGISTRY_REASON = click.option(  # `qms people add`, `qms keys add`
    "--reason",
    required=True,
    help="Why the registry changes; recorded in the commit's Reason trailer and shown in the "
    "audit trail (qms log qms.yaml).",
)

_YMD = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class Day(click.ParamType):
    """A day given as YYYY-MM-DD, as a `datetime.date`: every date option of every command."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        text = str(value)
        if _YMD.fullmatch(text):  # date.fromisoformat alone also takes 20261123 and 2026-W47-1
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
        self.fail(f"{text!r} is not a valid date (YYYY-MM-DD)", param, ctx)


DAY = Day()

STATUS_DATE = click.option(  # `qms status` and `qms due`
    "--date",
    "on",
    type=DAY,
    default=None,
    help="The day to judge status and due dates for (YYYY-MM-DD; default: today).",
)


WITHIN = click.option(  # `qms due` and `qms inbox`
    "--within",
    "days",
    type=click.IntRange(min=0),
    default=SOON_DAYS,
    show_default=True,
    help="Show what falls due within this many days, besides everything overdue.",
)


def echo_json(value: Any) -> None:
    # ASCII only: control, C1 and bidi characters from record text arrive escaped.
    click.echo(json.dumps(value, indent=2, ensure_ascii=True))


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


def echo_check_report(report: CheckReport) -> None:
    """`qms check` in text: every violation with its fix, the notes, the count. The server hook
    prints the same lines, so a pusher reads exactly what CI would say."""
    for violation in report.violations:
        colour = "red" if violation.severity == "error" else "yellow"
        click.echo(
            printable(f"{violation.commit[:12]} {violation.record or '-'}: ")
            + click.style(violation.severity, fg=colour, bold=True)
            + printable(f": {violation.message} [{violation.rule}]")
        )
        click.echo(printable(f"    fix: {violation.fix}"))
    for note in report.notes:
        click.echo(printable(f"note: {note}"))
    warnings = len(report.violations) - len(report.errors)
    click.echo(
        f"{plural(report.commits, 'commit')} checked: "
        f"{plural(len(report.errors), 'violation')}, {plural(warnings, 'warning')}"
    )


def start_folder(ctx: click.Context) -> Path:
    """Where the command acts as if started: --repo (like git -C), else the current folder."""
    start: Path | None = ctx.find_root().obj
    return start if start is not None else Path.cwd()


def signing_time(ctx: click.Context) -> datetime:
    """The date the signed commit will carry (git's clock: GIT_COMMITTER_DATE, else now)."""
    folder = start_folder(ctx)
    return git.commit_time(folder if folder.is_dir() else Path.cwd())


def repository(ctx: click.Context, *, needs_git: bool = True) -> Repository:
    """The repository named by --repo, or found from the current folder; `needs_git=False` for
    commands that read only the files (validate, list)."""
    return Repository.discover(start_folder(ctx), needs_git=needs_git)


def sign_registry_edit(ctx: click.Context, edit: Edit, reason: str) -> None:
    """One change of the people-and-keys registry in qms.yaml, as an admin-signed commit."""
    from ..actions.registry import change_registry

    change = change_registry(start_folder(ctx), edit, reason, signing_time(ctx))
    click.echo(printable(f"{change.subject}: signed commit {change.commit[:12]}"))
