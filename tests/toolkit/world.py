"""A QMS repository with real people acting on it: their own keys, git configs, signed commits.

Each person signs with their own key through git's own SSH or OpenPGP signing, exactly as on a
desk: `World.act(person)` points GIT_CONFIG_GLOBAL (and, for a gpg user, GNUPGHOME) at that
person's setup for what follows. `World.close()` stops the gpg-agents the keys started.

Making keys and signing a trust root takes a while, so a module builds its world once
(`isolated` keeps that build away from the machine's git settings) and each test works on
`World.copy`: its own repository, keys and configs, pointing at each other and nothing else.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from .cli import qms
from .people import GPG_TYPES, ORG, Person, gpg_person, ssh_person, stop_gpg
from .process import git, git_bytes

SOP = "sops/SOP-0001.md"  # the first SOP of a repository, the one most tests work on


def isolate(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """One git identity in `home` and none of the machine's git configuration."""
    config = home / ".gitconfig"
    config.write_text(
        "[user]\n\tname = Dr. Anna Weber\n\temail = a.weber@st-aurelia.example\n"
        "[init]\n\tdefaultBranch = main\n"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for variable in (
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
    ):
        monkeypatch.delenv(variable, raising=False)


@contextmanager
def isolated(factory: pytest.TempPathFactory) -> Iterator[pytest.MonkeyPatch]:
    """For a module's build: `isolate` in a home of its own, undone when the build is done."""
    with pytest.MonkeyPatch.context() as patch:
        isolate(patch, factory.mktemp("home"))
        yield patch


def build_world(factory: pytest.TempPathFactory, then: Callable[[World], object]) -> World:
    """A module's world, built by `then` once, away from the machine's git settings; tests
    work on `World.copy`, never on this one."""
    with isolated(factory) as patch:
        world = World(factory.mktemp("world"), patch)
        then(world)
    return world


class World:
    def __init__(self, base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.base = base
        self.repo = base / "qms"
        self.monkeypatch = monkeypatch
        self.people: dict[str, Person] = {}
        self.gpg_homes: list[Path] = []
        self.actor: Person | None = None  # whose git config git uses now
        for variable in ("AUTHOR", "COMMITTER"):  # each person's own git config decides
            monkeypatch.delenv(f"GIT_{variable}_NAME", raising=False)
            monkeypatch.delenv(f"GIT_{variable}_EMAIL", raising=False)

    def person(self, person_id: str, name: str, key_type: str = "ed25519") -> Person:
        """Someone with a new key (SSH, or OpenPGP for the GPG_TYPES) and a git config."""
        config = self.base / f"{person_id}.gitconfig"
        email = f"{person_id}@{ORG}"
        if key_type in GPG_TYPES:
            key = self.base / "keys" / f"{person_id}.asc"
            made = gpg_person(person_id, name, email, key=key, config=config, key_type=key_type)
            assert made.gnupghome is not None
            self.gpg_homes.append(made.gnupghome)
        else:
            key = self.base / "keys" / person_id
            made = ssh_person(person_id, name, email, key=key, config=config, key_type=key_type)
        self.people[person_id] = made
        return made

    def copy(self, base: Path, monkeypatch: pytest.MonkeyPatch) -> World:
        """This world in `base` for one test: the repository, keys and configs copied, the
        configs naming the copied keys, the same person acting."""
        assert not self.gpg_homes, "a world with OpenPGP keyrings is not copied"
        shutil.copytree(self.base, base, symlinks=True, dirs_exist_ok=True)
        old, new = f"{self.base}{os.sep}", f"{base}{os.sep}"
        configs = [p.config for p in self.people.values()] + [self.repo / ".git" / "config"]
        for config in configs:
            target = base / config.relative_to(self.base)
            target.write_text(target.read_text().replace(old, new))
        world = World(base, monkeypatch)
        for person in self.people.values():
            world.people[person.id] = replace(
                person,
                key=base / person.key.relative_to(self.base),
                config=base / person.config.relative_to(self.base),
            )
        if self.actor is not None:
            world.act(world.people[self.actor.id])
        return world

    def close(self) -> None:
        """Stop the gpg-agents of everyone's keyrings, and remove the keyrings."""
        for home in self.gpg_homes:
            stop_gpg(home)
        self.gpg_homes.clear()

    def act(self, person: Person) -> None:
        """From now on git (and qms, which runs git and gpg) acts as `person`."""
        self.actor = person
        self.monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(person.config))
        if person.gnupghome is None:
            self.monkeypatch.delenv("GNUPGHOME", raising=False)
        else:
            self.monkeypatch.setenv("GNUPGHOME", str(person.gnupghome))

    @contextmanager
    def acting(self, person: Person) -> Iterator[None]:
        previous = os.environ.get("GIT_CONFIG_GLOBAL", "")
        home = os.environ.get("GNUPGHOME")
        actor = self.actor
        self.act(person)
        try:
            yield
        finally:
            self.actor = actor
            self.monkeypatch.setenv("GIT_CONFIG_GLOBAL", previous)
            if home is None:
                self.monkeypatch.delenv("GNUPGHOME", raising=False)
            else:
                self.monkeypatch.setenv("GNUPGHOME", home)

    def init(self, admin: Person) -> None:
        """`qms init` of the world's repository, `admin` its first admin and key; without the
        commit-msg hook, so that tests can make the commits the gate is there to refuse."""
        self.act(admin)
        result = qms(
            "init",
            str(self.repo),
            "--no-commit-msg-hook",
            "--admin",
            admin.id,
            "--name",
            admin.name,
            "--email",
            admin.email,
            "--key",
            str(admin.pub),
        )
        assert result.exit_code == 0, result.output + result.stderr

    def add_person(self, admin: Person, person: Person, *roles: str) -> str:
        """`qms people add` by `admin`, with the person's name, email and these roles."""
        role_args = [arg for role in roles for arg in ("--role", role)]
        return self.qms(
            admin,
            *("people", "add", person.id, "--name", person.name, "--email", person.email),
            *role_args,
            *("--reason", f"{person.name} joins as {', '.join(roles) or 'signer'}"),
        )

    def qms(self, person: Person, *args: str, ok: bool = True) -> str:
        with self.acting(person):
            result = qms(*args, repo=self.repo)
        if ok:
            assert result.exit_code == 0, result.output + result.stderr
        return result.output + result.stderr

    def git(self, *args: str, env: dict[str, str] | None = None, input: str | None = None) -> str:
        return git(self.repo, *args, env=env, input=input)

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def commit_file(
        self, person: Person, path: str, text: str, reason: str, *, sign: bool = True
    ) -> str:
        """An ordinary change by `person`, signed with their key as `git commit -S` does (the
        signature proves who wrote it); `sign=False` makes the unsigned change of an attack."""
        (self.repo / path).write_text(text)
        with self.acting(person):
            self.git("add", path)
            self.git(
                "commit",
                "-q",
                *self.sign_args(person, sign),
                *("-m", f"Edit {path}", "-m", f"Reason: {reason}"),
                env=person.signing_env() if sign else None,
            )
        return self.head()

    @staticmethod
    def sign_args(person: Person, sign: bool = True) -> list[str]:
        """git's options that sign a commit with `person`'s key (with `signing_env()`), or not."""
        return [f"--gpg-sign={person.signing_key}"] if sign else ["--no-gpg-sign"]

    def content(self, path: str, commit: str = "HEAD") -> bytes:
        return git_bytes(self.repo, "cat-file", "blob", f"{commit}:{path}")

    def trailers(
        self,
        record: str,
        path: str,
        meaning: str,
        *,
        version: str | None = None,
        content: str | None = None,
    ) -> str:
        """Trailers as `qms sign` writes them, unless told to lie about version or content."""
        digest = content or "sha256:" + hashlib.sha256(self.content(path)).hexdigest()
        lines = [f"QMS-Record: {record}"]
        if version is not None:
            lines.append(f"QMS-Version: {version}")
        lines += [f"QMS-Content: {digest}", f"QMS-Meaning: {meaning}", "Reason: test"]
        return "\n".join(lines)

    def raw_commit(
        self,
        person: Person,
        trailers: str,
        *,
        sign: bool = True,
        committer: Person | None = None,
        date: str | None = None,
        key: Person | None = None,
    ) -> str:
        """A signature commit made with plain git, bypassing qms's checks (as an attacker would)."""
        committer = committer or person
        env = {
            "GIT_COMMITTER_NAME": committer.name,
            "GIT_COMMITTER_EMAIL": committer.email,
            "GIT_AUTHOR_NAME": committer.name,
            "GIT_AUTHOR_EMAIL": committer.email,
        }
        if date:
            env |= {"GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date}
        args = ["commit", "-q", "--allow-empty", "-m", "Signature", "-m", trailers]
        if sign:
            signer = key or person
            args.insert(1, f"--gpg-sign={signer.signing_key}")
            env |= signer.signing_env()
        else:
            args.insert(1, "--no-gpg-sign")
        with self.acting(person):
            self.git(*args, env=env)
        return self.head()


def snapshot(world: World) -> tuple[str, str, str]:
    """What must not move when a command refuses: HEAD, the index and the work tree."""
    return (
        world.head(),
        world.git("ls-files", "-s"),
        world.git("status", "--porcelain", "--untracked-files=all"),
    )


def refused(world: World, person: Person, *args: str) -> str:
    """Run a qms command that must fail, and check that it left the repository as it was."""
    before = snapshot(world)
    output = world.qms(person, *args, ok=False)
    assert snapshot(world) == before, "a refused command changed the repository"
    assert "Traceback" not in output
    return output
