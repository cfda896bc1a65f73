"""The command reference in docs/cli.md, generated from the commands' own help.

`make docs` writes it; a test fails when docs/cli.md no longer matches.
"""

from __future__ import annotations

import click

from .main import cli


def _help(command: click.Command, path: list[str], parent: click.Context | None) -> str:
    ctx = click.Context(
        command,
        info_name=" ".join(path),
        parent=parent,
        terminal_width=100,
        max_content_width=100,
        **command.context_settings,
    )
    return command.get_help(ctx)


def render() -> str:
    root = click.Context(cli, info_name="qms", **cli.context_settings)
    lines = [
        "# Command reference",
        "",
        "Generated from `qms --help` by `make docs`; do not edit by hand.",
        "",
        "```text",
        _help(cli, ["qms"], None),
        "```",
    ]
    for name in sorted(cli.list_commands(root)):
        command = cli.get_command(root, name)
        assert command is not None
        lines += ["", f"## qms {name}", "", "```text", _help(command, [name], root), "```"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    click.echo(render(), nl=False)
