"""A QMS repository with real people: ssh-keygen keys, their own git configs, signed commits.

Each person signs with their own key through git's own SSH signing, exactly as on a desk:
`World.act(person)` points GIT_CONFIG_GLOBAL at that person's config for what follows.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import qms

ORG = "st-aurelia.example"


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    key: Path  # private key; the public half is key.pub
    config: Path  # this person's global git config

    @property
    def email(self) -> str:
        return f"{self.id}@{ORG}"

    @property
    def pub(self) -> Path:
        return self.key.with_name(self.key.name + ".pub")

    def public_line(self) -> str:
        return " ".join(self.pub.read_text().split()[:2])


def git(repo: Path, *args: str, env: dict[str, str] | None = None, input: str | None = None) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        input=input,
        env=None if env is None else os.environ | env,
        check=False,
    )
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout.strip()


KEY_TYPES = {
    "ed25519": ["-t", "ed25519"],
    "ecdsa": ["-t", "ecdsa", "-b", "256"],
    "rsa": ["-t", "rsa", "-b", "3072"],
}


class World:
    def __init__(self, base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.base = base
        self.repo = base / "qms"
        self.monkeypatch = monkeypatch
        self.people: dict[str, Person] = {}
        for variable in ("AUTHOR", "COMMITTER"):  # each person's own git config decides
            monkeypatch.delenv(f"GIT_{variable}_NAME", raising=False)
            monkeypatch.delenv(f"GIT_{variable}_EMAIL", raising=False)

    def person(self, person_id: str, name: str, key_type: str = "ed25519") -> Person:
        keys = self.base / "keys"
        keys.mkdir(exist_ok=True)
        key = keys / person_id
        subprocess.run(
            [
                "ssh-keygen",
                "-q",
                *KEY_TYPES[key_type],
                "-N",
                "",
                "-C",
                person_id,
                "-f",
                str(key),
            ],
            check=True,
        )
        config = self.base / f"{person_id}.gitconfig"
        config.write_text(
            f"[user]\n\tname = {name}\n\temail = {person_id}@{ORG}\n\tsigningkey = {key}\n"
            "[gpg]\n\tformat = ssh\n[init]\n\tdefaultBranch = main\n"
        )
        self.people[person_id] = Person(person_id, name, key, config)
        return self.people[person_id]

    def act(self, person: Person) -> None:
        """From now on git (and qms, which runs git) acts as `person`."""
        self.monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(person.config))

    @contextmanager
    def acting(self, person: Person) -> Iterator[None]:
        previous = os.environ.get("GIT_CONFIG_GLOBAL", "")
        self.act(person)
        try:
            yield
        finally:
            self.monkeypatch.setenv("GIT_CONFIG_GLOBAL", previous)

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

    def commit_file(self, person: Person, path: str, text: str, reason: str) -> str:
        """An ordinary (unsigned) change, authored and committed by `person`."""
        (self.repo / path).write_text(text)
        with self.acting(person):
            self.git("add", path)
            self.git(
                "commit", "-q", "--no-gpg-sign", "-m", f"Edit {path}", "-m", f"Reason: {reason}"
            )
        return self.head()

    def content(self, path: str, commit: str = "HEAD") -> bytes:
        return subprocess.run(
            ["git", "cat-file", "blob", f"{commit}:{path}"],
            cwd=self.repo,
            capture_output=True,
            check=True,
        ).stdout

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
            args.insert(1, f"--gpg-sign={(key or person).key}")
        else:
            args.insert(1, "--no-gpg-sign")
        with self.acting(person):
            self.git(*args, env=env)
        return self.head()
