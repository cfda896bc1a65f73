"""The demo's people at their desks: each with an SSH key made by ssh-keygen and a git config
that signs with it, acting on given days through the real `qms` commands (the command line
hands the demo the way to run them)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .. import clock
from ..errors import QmsError

# How the demo's people run the command line: the words after `qms` in, the exit code out, what
# it prints on sys.stdout and sys.stderr. The command line sits above the demo and passes it in.
Qms = Callable[[Sequence[str]], int]

# Variables that would override each person's own identity or settings.
_IDENTITY = (
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "GNUPGHOME",
    "EMAIL",
)


@dataclass(frozen=True)
class Actor:
    id: str
    name: str
    email: str
    key: Path  # private key; the public half is key.pub
    config: Path  # this person's own global git config

    def public_key(self) -> str:
        return " ".join(self.key.with_name(self.key.name + ".pub").read_text().split()[:2])


def make_actor(folder: Path, person_id: str, name: str, email: str) -> Actor:
    """A new ed25519 key (no passphrase: demo only) and a git config that signs with it."""
    folder.mkdir(parents=True, exist_ok=True)
    key = folder / person_id
    if shutil.which("ssh-keygen") is None:
        raise QmsError(
            "ssh-keygen is not installed, so the demo people cannot have keys",
            hint="install OpenSSH (apt-get install openssh-client)",
        )
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", email, "-f", str(key)],
        check=True,
        capture_output=True,
    )
    config = folder / f"{person_id}.gitconfig"
    config.write_text(
        f'[user]\n\tname = "{name}"\n\temail = {email}\n\tsigningkey = {key}\n'
        "[gpg]\n\tformat = ssh\n[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"
    )
    return Actor(person_id, name, email, key, config)


@contextlib.contextmanager
def acting(actor: Actor, when: datetime) -> Iterator[None]:
    """Git (and so qms) acts as `actor` at `when`: the date of every commit made and the
    moment the clock reads, so a command's "today" is the story's day, not the machine's."""
    saved = dict(os.environ)
    for variable in _IDENTITY:
        os.environ.pop(variable, None)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    os.environ.update(
        GIT_CONFIG_GLOBAL=str(actor.config),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_DATE=stamp,
        GIT_COMMITTER_DATE=stamp,
    )
    try:
        with clock.fixed(when):
            yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_qms(qms: Qms, repo: Path, args: Sequence[str]) -> str:
    """Run one `qms` command in `repo`, exactly as typed; its output, or QmsError on failure."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = qms(["-C", str(repo), *args])
    if code:
        raise QmsError(f"demo step `qms {' '.join(args)}` failed:\n{out.getvalue().strip()}")
    return out.getvalue()
