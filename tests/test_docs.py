"""Documentation that must not drift from the code."""

from __future__ import annotations

import click

from gitqms.cli.main import cli
from gitqms.cli.reference import render
from gitqms.records import kind_reference
from toolkit.cli import ROOT


def test_kind_reference_is_current() -> None:
    assert (ROOT / "docs" / "kinds.md").read_text() == kind_reference.render(), (
        "run 'make docs' and commit docs/kinds.md"
    )


def test_cli_reference_is_current() -> None:
    assert (ROOT / "docs" / "cli.md").read_text() == render(), (
        "run 'make docs' and commit docs/cli.md"
    )


def test_every_command_and_option_has_help() -> None:
    ctx = click.Context(cli)
    for name in cli.list_commands(ctx):
        command = cli.get_command(ctx, name)
        assert command is not None and command.help, f"qms {name} has no help text"
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"qms {name} {param.opts[0]} has no help text"


def test_readme_starts_with_the_two_setup_commands_and_names_every_command() -> None:
    readme = (ROOT / "README.md").read_text()
    head = "\n".join(readme.splitlines()[:6])
    assert "make demo" in head and "make test" in head
    for name in cli.list_commands(click.Context(cli)):
        assert f"`qms {name}" in readme, f"README does not mention qms {name}"


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()
