"""The `qms` group: options every command shares and the one place errors become exit codes."""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .. import __version__, aside, collector
from ..errors import Exit, QmsError
from .common import printable

if TYPE_CHECKING:  # loaded only when a shell asks for completions
    from click.shell_completion import CompletionItem

# Command name -> "module:attribute" in this package. A command's module (and what it imports)
# loads only when that command runs, so `qms validate` does not pay for the site or the signer.
COMMANDS: dict[str, str] = {
    "validate": "validate:validate",
    "init": "init:init",
    "new": "new:new",
    "list": "list:list_records",
    "people": "people:people",
    "keys": "keys:keys",
    "kinds": "kind_commands:kinds",
    "sign": "signing:sign",
    "review": "signing:review",
    "approve": "signing:approve",
    "acknowledge": "signing:acknowledge",
    "advance": "advance:advance",
    "fill": "advance:fill",
    "status": "status:status",
    "due": "due:due",
    "inbox": "inbox:inbox_command",
    "training": "training:training",
    "check": "check:check",
    "commit": "commit:commit",
    "revise": "revise:revise",
    "verify": "verify:verify",
    "log": "log:log",
    "audit-trail": "audit_trail:audit_trail",
    "hook": "hook:hook",
    "build": "site:build",
    "serve": "site:serve",
    "demo": "demo:demo",
    "import": "importing:import_records",
    "archive": "archive:archive",
    "pdf": "pdf:pdf",
    "verify-copy": "pdf:verify_copy",
    "completion": "completion:completion",
}

# `qms --help` lists the commands by who uses them; every command is in exactly one group.
GROUPS: dict[str, tuple[str, ...]] = {
    "Authoring": ("new", "revise", "validate", "list", "advance", "fill", "commit", "import"),
    "Signing": ("inbox", "sign", "review", "approve", "acknowledge"),
    "Review and audit": (
        "status",
        "due",
        "training",
        "log",
        "verify",
        "audit-trail",
        "check",
        "archive",
        "pdf",
        "verify-copy",
    ),
    "Administration": (
        "init",
        "people",
        "keys",
        "kinds",
        "hook",
        "build",
        "serve",
        "demo",
        "completion",
    ),
}
_GROUP_OF = {name: group for group, names in GROUPS.items() for name in names}


class QmsGroup(click.Group):
    """Loads commands lazily and maps outcomes to exit codes: QmsError -> its message;
    anything else -> crash log, exit 3."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(f"{__package__}.{module_name}"), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands under a heading for each group of users, in the order of GROUPS."""
        width = max(len(name) for name in COMMANDS)
        limit = formatter.width - 6 - width
        for group, names in GROUPS.items():
            rows = []
            for name in names:
                command = self.get_command(ctx, name)
                if command is not None and not command.hidden:
                    rows.append((name.ljust(width), command.get_short_help_str(limit)))
            if rows:
                with formatter.section(f"{group} commands"):
                    formatter.write_dl(rows)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        """Command names without loading their modules (click's own loads every command to
        show its help), each with its group for the shells that show a description."""
        from click.shell_completion import CompletionItem

        names = [
            CompletionItem(name, help=_GROUP_OF.get(name, "").lower() or None)
            for name in COMMANDS
            if name.startswith(incomplete)
        ]
        return names + click.Command.shell_complete(self, ctx, incomplete)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            # A child keeping a walk in the index ends before qms does; what a walk leaves
            # is never scanned by the collector again before the command ends.
            with aside.allowing(), collector.for_one_command():
                return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except BrokenPipeError:
            # The reader went away (`qms validate | head`): stop quietly, as other tools do.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise click.exceptions.Exit(Exit.FINDINGS) from None
        except QmsError as error:
            click.secho(printable(f"error: {error}"), fg="red", err=True)
            raise click.exceptions.Exit(error.exit_code) from None
        except Exception:
            if ctx.params.get("debug"):
                raise
            log = _crash_log()
            click.secho(
                f"internal error: gitqms {__version__} failed unexpectedly; nothing was changed.\n"
                f"  details: {log}\n  please report it with that file, or rerun with --debug",
                fg="red",
                err=True,
            )
            raise click.exceptions.Exit(Exit.INTERNAL) from None


def _crash_log() -> str:
    with tempfile.NamedTemporaryFile(
        "w", prefix="gitqms-crash-", suffix=".log", delete=False, encoding="utf-8"
    ) as handle:
        handle.write(f"gitqms {__version__}\nargv: {sys.argv!r}\n\n{traceback.format_exc()}")
        return handle.name


@click.group(cls=QmsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qms")
@click.option(
    "-C",
    "--repo",
    "repo_path",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="QMS repository to work in (default: the one containing the current folder).",
)
@click.option("--debug", is_flag=True, help="Show the full traceback of an internal error.")
@click.pass_context
def cli(ctx: click.Context, repo_path: Path | None, debug: bool) -> None:
    """gitqms: document control, deviations and CAPA for hospital ATMP quality teams.

    Records are YAML and Markdown files in a Git repository; signatures are signed commits.
    Exit codes: 0 success, 1 findings, 2 usage error, 3 internal error.
    """
    ctx.obj = repo_path


def main() -> None:
    """`qms` as a command: once the command is done and its output flushed, the process ends
    without tearing the interpreter down (freeing a walk's million objects one by one takes a
    quarter of a second after a walk of 20,000 commits, a second and a half at 100,000). Every
    file the command writes is closed by then and every child it started has ended."""
    try:
        cli(prog_name="qms")
        code: object = 0
    except SystemExit as done:
        code = done.code
    if code is not None and not isinstance(code, int):
        raise SystemExit(code)  # a message: Python prints it and exits 1
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:  # None: qms was started with that file closed (`qms >&-`)
                stream.flush()
    except OSError:  # the reader went away (`qms validate | head`), as `invoke` treats it
        code = code or Exit.FINDINGS
    os._exit(code or 0)
