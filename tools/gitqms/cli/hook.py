"""`qms hook …`: the gate and the receipt log where pushes arrive, on any Git server."""

from __future__ import annotations

import os
from pathlib import Path

import click

from .. import clock, git
from ..errors import Exit, RepositoryNotFound
from ..history.receipts import NOTES_REF, utc_text
from ..server.install import install_hooks
from ..server.post_receive import pusher_from, record_receipts
from ..server.pre_receive import RefVerdict, judge_push
from ..server.updates import parse_updates
from .common import echo_check_report, plural, printable, start_folder

FETCH_NOTES = f"git config --add remote.origin.fetch {NOTES_REF}:{NOTES_REF}"


def _stdin() -> str:
    return click.get_binary_stream("stdin").read().decode("utf-8", "surrogateescape")


@click.group()
def hook() -> None:
    """Git hooks: the server's pre-receive gate and receipt log, and each clone's commit-msg.

    `qms hook install BARE_REPO` once on the server; git then runs `qms hook pre-receive` and
    `qms hook post-receive` on every push. `qms hook install-commit-msg` in a clone (qms init
    does it); git then runs `qms hook commit-msg` on every commit.
    """


@hook.command("install")
@click.argument("bare_repo", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--force", is_flag=True, help="Replace pre-receive or post-receive hooks gitqms did not write."
)
def install(bare_repo: Path, force: bool) -> None:
    """Install the pre-receive and post-receive hooks in BARE_REPO, the server's repository.

    The hooks run this Python and this gitqms by absolute path, so they work under git daemon
    or an SSH server with a bare environment. Commits already on the server get no receipt.
    """
    done = install_hooks(bare_repo.absolute(), force=force)
    for path in done.replaced:
        click.echo(printable(f"replaced a hook gitqms did not write: {path}"))
    click.echo(printable(f"installed {', '.join(str(p) for p in done.hooks)}"))
    click.echo(
        "protected branches: server.protected_branches in qms.yaml on the default branch "
        "(default: main); each push to them must pass `qms check`"
    )
    if done.baseline:
        click.echo(
            f"{plural(done.baseline, 'commit')} at the tips of branches and tags already here: "
            "they and their history get no receipt"
        )
    click.echo(f"clones fetch the receipts after: {FETCH_NOTES}")


@hook.command("pre-receive")
@click.pass_context
def pre_receive(ctx: click.Context) -> None:
    """Judge a push before any ref moves (git runs this; the ref updates come on stdin).

    Protected branches take only fast-forwards whose new commits pass `qms check`, and are
    never deleted; nobody but the server writes refs/notes/*. Exit 1 refuses the whole push;
    the pusher sees why, line by line, as `remote: …`.
    """
    verdict = judge_push(start_folder(ctx), parse_updates(_stdin()))
    policy = verdict.policy
    source = f"qms.yaml at {policy.default_branch} {policy.source[:12]}" if policy.source else ""
    click.echo(
        printable(
            f"qms: protected branches: {', '.join(policy.protected)} "
            f"({source or 'the defaults: no accepted qms.yaml yet'})"
        )
    )
    for ref in verdict.refs:
        _echo_ref(ref)
    if not verdict.accepted:
        click.echo("qms: push refused; nothing was changed on the server")
        ctx.exit(Exit.FINDINGS)


def _echo_ref(ref: RefVerdict) -> None:
    name = ref.update.short
    if ref.refused is not None:
        click.echo(printable(f"qms: refused {name}: {ref.refused}"))
        if ref.fix:
            click.echo(printable(f"    fix: {ref.fix}"))
        return
    if ref.report is None:
        click.echo(printable(f"qms: {name}: not protected; accepted without the gate"))
        return
    click.echo(printable(f"qms: {name}: the gate of `qms check`:"))
    echo_check_report(ref.report)
    if ref.report.errors:
        click.echo(printable(f"qms: refused {name}: {plural(len(ref.report.errors), 'violation')}"))


@hook.command("post-receive")
@click.pass_context
def post_receive(ctx: click.Context) -> None:
    """Record the server's receipt of each commit an accepted push made reachable (git runs
    this after the refs moved; the ref updates come on stdin).

    The receipt (UTC time by the server's clock, the ref, the pusher and address where the
    server's environment gives them) is a note under refs/notes/qms-receipts; a commit's
    first receipt is never replaced.
    """
    received = clock.now().replace(microsecond=0)
    written = record_receipts(
        start_folder(ctx), parse_updates(_stdin()), received, pusher_from(os.environ)
    )
    if written:
        click.echo(
            f"qms: received {plural(len(written), 'commit')} at {utc_text(received)}; "
            f"receipts in {NOTES_REF}"
        )


@hook.command("commit-msg")
@click.argument("msgfile", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def commit_msg(ctx: click.Context, msgfile: Path | None) -> None:
    """Refuse a commit that changes a controlled file without a 'Reason:' trailer (git runs
    this as the commit-msg hook, with the message in MSGFILE; default .git/COMMIT_EDITMSG).

    Controlled files are those `qms check` asks a Reason for: records, qms.yaml, mkdocs.yml
    and the site's docs folder. Merges and commits of other files pass. Exit 1 refuses.
    """
    from ..actions.commit_msg import judge_message
    from ..records.repository import Repository

    try:
        root = Repository.discover(start_folder(ctx)).root
    except RepositoryNotFound:
        return  # not a QMS repository: nothing here is controlled
    path = msgfile or git.git_dir(root) / "COMMIT_EDITMSG"
    message = path.read_text(encoding="utf-8", errors="replace")
    index = os.environ.get("GIT_INDEX_FILE")  # git's index for this commit (-a, PATH…)
    verdict = judge_message(root, message, Path(index).absolute() if index else None)
    if verdict.refusal is not None:
        click.echo(printable(verdict.refusal), err=True)
        ctx.exit(Exit.FINDINGS)


@hook.command("install-commit-msg")
@click.option("--force", is_flag=True, help="Replace a commit-msg hook gitqms did not write.")
@click.pass_context
def install_commit_msg(ctx: click.Context, force: bool) -> None:
    """Install the commit-msg hook in this clone (where core.hooksPath says, if set): git then
    refuses a commit that changes a controlled file without a 'Reason:' trailer."""
    from ..actions.commit_msg import install_commit_msg as install_hook

    done = install_hook(start_folder(ctx), force=force)
    if done.replaced:
        click.echo(printable(f"replaced a hook gitqms did not write: {done.path}"))
    click.echo(printable(f"installed {done.path}"))
