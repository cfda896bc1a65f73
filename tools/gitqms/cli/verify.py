"""`qms verify`: what every signature in history is worth, judged by the registry in force."""

from __future__ import annotations

import click

from ..audit.verification import verification_lines, verify_revisions
from ..errors import Exit
from .common import FORMAT_OPTION, echo_json, repository

_COLOURS = {
    "valid": "green",
    "superseded": "yellow",
    "invalid": "red",
    "flag": "yellow",
    "ok": "green",
    "failed": "red",
}


@click.command()
@click.argument("revisions", nargs=-1, metavar="[REVRANGE]")
@click.option(
    "--trust-root",
    help="Commit whose qms.yaml is trusted as is (default: git config qms.trustRoot, else "
    "the commit that introduced qms.yaml).",
)
@FORMAT_OPTION
@click.pass_context
def verify(
    ctx: click.Context, revisions: tuple[str, ...], trust_root: str | None, output_format: str
) -> None:
    """Verify every signature commit in history (or in REVRANGE, such as main..feature).

    Each signature is judged by the registry of its first parent: a good SSH signature, a key
    registered to the committer, inside its validity window and not revoked, a role the policy
    requires for the meaning, separation of duties, and record content as the trailers claim.
    Exit 1 if any signature fails.
    """
    # With the server's receipts fetched, the report says when each signature arrived, and
    # flags a date far from that (back-dated or future-dated); a flag invalidates nothing.
    value = verify_revisions(repository(ctx).root, list(revisions) or ["HEAD"], trust_root)
    if output_format == "json":
        echo_json(value)
    else:
        shown = []  # echoed at once: thousands of lines, one write
        for line in verification_lines(value):
            colour = _COLOURS.get(line.kind)
            if line.lead:
                shown.append(click.style(line.lead, fg=colour, bold=True) + line.text)
            else:
                shown.append(click.style(line.text, fg=colour, bold=line.kind == "flag"))
        if shown:
            click.echo("\n".join(shown))
    ctx.exit(Exit.FINDINGS if value["failures"] else Exit.OK)
