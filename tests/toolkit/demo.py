"""The real `qms demo`, and its people acting on it through the real `qms` command line.

Nothing here is mocked. The demo is built once per test session (it takes a while) by running
the `qms demo` command in a subprocess with a clean git environment; tests that change a
repository work on their own copy of it.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml

from gitqms import clock

from .cli import QMS, qms_cli
from .people import Person, configured_person, ssh_person
from .process import clean_env, git, run

DRAFT_TEXT = "DRAFT-ONLY TEXT"


@dataclass(frozen=True, kw_only=True)
class Demo:
    folder: Path
    repo: Path
    site: Path
    people: Path
    today: date  # the story's day, as `qms demo` reported it (not the day it was run)
    output: str  # what `qms demo` printed
    ran: tuple[datetime, datetime]  # the machine's clock (UTC) before and after `qms demo`


def make_demo(folder: Path) -> Demo:
    """`qms demo --dir FOLDER`, run as a user would, with their own minimal git identity."""
    home = folder.parent / f"{folder.name}-home"
    home.mkdir(parents=True, exist_ok=True)
    config = home / ".gitconfig"
    config.write_text(
        "[user]\n\tname = Demo Runner\n\temail = demo.runner@st-aurelia.example\n"
        "[init]\n\tdefaultBranch = main\n"
    )
    started = clock.now()
    result = run(
        [QMS, "demo", "--dir", folder],
        cwd=home,
        env=clean_env(HOME=str(home), GIT_CONFIG_GLOBAL=str(config)),
        timeout=900,
    )
    span = re.search(r"signed work, \d{4}-\d\d-\d\d to (\d{4}-\d\d-\d\d)", result.stdout)
    assert span, f"`qms demo` did not say which day it took as today:\n{result.stdout}"
    demo = Demo(
        folder=folder,
        repo=folder / "repo",
        site=folder / "site",
        people=folder / "people",
        today=date.fromisoformat(span.group(1)),
        output=result.stdout,
        ran=(started, clock.now()),
    )
    assert (demo.site / "index.html").is_file(), result.stdout + result.stderr
    return demo


@functools.cache
def _pristine(root: str) -> Demo:
    return make_demo(Path(root) / "demo")


def pristine_demo(factory: pytest.TempPathFactory) -> Demo:
    """One demo per test session, shared read-only by the site tests (never changed by them)."""
    return _pristine(str(factory.getbasetemp() / "site-demo"))


def copy_demo(demo: Demo, target: Path) -> Demo:
    shutil.copytree(demo.folder, target, symlinks=True)
    return Demo(
        folder=target,
        repo=target / "repo",
        site=target / "site",
        people=target / "people",
        today=demo.today,
        output=demo.output,
        ran=demo.ran,
    )


# --- the demo's people, acting through the command line ---------------------------------------


def desks(demo: Demo, folder: Path) -> dict[str, Person]:
    """Each demo person at their desk: a git config signing with their key in THIS copy of the
    demo, and a HOME of their own.

    The configs `qms demo` writes name the key by an absolute path; a copied demo (and, see the
    report, the demo itself) must point them at the key that is really there."""
    folder.mkdir(parents=True, exist_ok=True)
    found = {}
    for config in sorted(demo.people.glob("*.gitconfig")):
        person_id = config.name.removesuffix(".gitconfig")
        found[person_id] = configured_person(
            config, demo.people / person_id, folder / config.name, folder / f"{person_id}-home"
        )
    return found


def new_desk(folder: Path, person_id: str, name: str, email: str) -> Person:
    """A new person at their desk: an ed25519 key made by ssh-keygen, a git config that signs
    with it, and a HOME of their own, all in `folder`."""
    return ssh_person(
        person_id,
        name,
        email,
        key=folder / person_id,
        config=folder / f"{person_id}.gitconfig",
        comment=email,
        home=folder / f"{person_id}-home",
    )


def commit_as(person: Person, repo: Path, when: str, files: Mapping[str, str], message: str) -> str:
    """An author's change: files written and committed, signed with the author's key (as
    `qms demo` does: the signature proves who wrote it)."""
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text, encoding="utf-8")
    env = person.env(when)
    git(repo, "add", "--", *files, base=env)
    git(repo, "commit", "-q", "--gpg-sign", "-m", message, "--", *files, base=env)
    return git(repo, "rev-parse", "HEAD", base=env)


def qms_as(person: Person, repo: Path, when: str, *args: str) -> str:
    return qms_cli(repo, *args, env=person.env(when)).stdout


def build_site(repo: Path, site: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return qms_cli(repo, "build", "--site-dir", site, *extra, env=clean_env())


def front_matter(fields: Mapping[str, object], body: str) -> str:
    dumped = yaml.safe_dump(dict(fields), sort_keys=False, allow_unicode=True, width=10_000)
    return f"---\n{dumped}---\n\n{body}"
