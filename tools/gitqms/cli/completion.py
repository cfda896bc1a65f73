"""`qms completion bash|zsh|fish`: the script that makes a shell complete `qms` commands."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

# What a shell asks `qms` for completions through (click's mechanism: `_QMS_COMPLETE=bash_source`
# prints the script, `_QMS_COMPLETE=bash_complete` answers one request).
COMPLETE_VAR = "_QMS_COMPLETE"
PROG = "qms"  # the command the scripts complete, whatever name the group was called under
SHELLS = ("bash", "zsh", "fish")


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the script that makes SHELL complete qms: commands, options, record IDs, states,
    signature meanings, people and audiences of the repository you are in.

    \b
    bash (~/.bashrc):                  eval "$(qms completion bash)"
    zsh (~/.zshrc, after compinit):    eval "$(qms completion zsh)"
    fish (once):                       qms completion fish > ~/.config/fish/completions/qms.fish
    """
    shell_class = get_completion_class(shell)
    assert shell_class is not None  # click ships all three
    script = shell_class(ctx.find_root().command, {}, PROG, COMPLETE_VAR).source()
    click.echo(script)
