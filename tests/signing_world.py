"""A QMS repository with real people: ssh-keygen or gpg keys, their own git configs, signed
commits.

Each person signs with their own key through git's own SSH or OpenPGP signing, exactly as on a
desk: `World.act(person)` points GIT_CONFIG_GLOBAL (and, for a gpg user, GNUPGHOME) at that
person's setup for what follows. `World.close()` stops the gpg-agents the keys started.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
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
    key: Path  # SSH: the private key, whose public half is key.pub; gpg: the exported .asc
    config: Path  # this person's global git config
    gnupghome: Path | None = None  # gpg users: their own keyring
    fingerprint: str = ""  # gpg users: the primary key's, as gpg prints it

    @property
    def email(self) -> str:
        return f"{self.id}@{ORG}"

    @property
    def pub(self) -> Path:
        return self.key if self.gnupghome else self.key.with_name(self.key.name + ".pub")

    @property
    def signing_key(self) -> str:
        """What user.signingkey names: the SSH key file, or the OpenPGP fingerprint."""
        return self.fingerprint if self.gnupghome else str(self.key)

    def signing_env(self) -> dict[str, str]:
        """Environment that makes git sign with this person's kind of key."""
        env = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "gpg.format"}
        if self.gnupghome is None:
            return env | {"GIT_CONFIG_VALUE_0": "ssh"}
        return env | {"GIT_CONFIG_VALUE_0": "openpgp", "GNUPGHOME": str(self.gnupghome)}

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
# OpenPGP people: the primary key's algorithm, and whether a separate subkey makes signatures.
GPG_TYPES = {"gpg-ed25519": ("ed25519", False), "gpg-rsa": ("rsa3072", False)}
GPG_TYPES["gpg-subkey"] = ("ed25519", True)


def gpg(home: Path, *args: str, input: bytes | None = None) -> bytes:
    result = subprocess.run(
        ["gpg", "--homedir", str(home), "--batch", "--no-tty", *args],
        input=input,
        capture_output=True,
        env=os.environ | {"GNUPGHOME": str(home)},
        check=False,
    )
    assert result.returncode == 0, f"gpg {' '.join(args)}: {result.stderr.decode()}"
    return result.stdout


def gpg_home() -> Path:
    """A new keyring folder; short, as gpg-agent's socket path must be."""
    return Path(tempfile.mkdtemp(prefix="gq-gpg-"))


def stop_gpg(home: Path) -> None:
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)
    shutil.rmtree(home, ignore_errors=True)


def primary_fingerprint(home: Path, spec: str) -> str:
    out = gpg(home, "--with-colons", "--list-keys", "--fingerprint", "--", spec).decode()
    return next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:"))


class World:
    def __init__(self, base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.base = base
        self.repo = base / "qms"
        self.monkeypatch = monkeypatch
        self.people: dict[str, Person] = {}
        self.gpg_homes: list[Path] = []
        for variable in ("AUTHOR", "COMMITTER"):  # each person's own git config decides
            monkeypatch.delenv(f"GIT_{variable}_NAME", raising=False)
            monkeypatch.delenv(f"GIT_{variable}_EMAIL", raising=False)

    def person(self, person_id: str, name: str, key_type: str = "ed25519") -> Person:
        if key_type in GPG_TYPES:
            return self.gpg_person(person_id, name, *GPG_TYPES[key_type])
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

    def gpg_person(self, person_id: str, name: str, algorithm: str, subkey: bool) -> Person:
        """A gpg user: their own keyring with a key made by gpg, and a config signing with it."""
        home = gpg_home()
        self.gpg_homes.append(home)
        email = f"{person_id}@{ORG}"
        gpg(
            home,
            "--passphrase",
            "",
            "--quick-gen-key",
            f"{name} <{email}>",
            algorithm,
            "sign",
            "never",
        )
        fingerprint = primary_fingerprint(home, email)
        if subkey:
            gpg(
                home, "--passphrase", "", "--quick-add-key", fingerprint, "ed25519", "sign", "never"
            )
        keys = self.base / "keys"
        keys.mkdir(exist_ok=True)
        exported = keys / f"{person_id}.asc"
        exported.write_bytes(gpg(home, "--armor", "--export", fingerprint))
        config = self.base / f"{person_id}.gitconfig"
        config.write_text(
            f"[user]\n\tname = {name}\n\temail = {email}\n\tsigningkey = {fingerprint}\n"
            "[gpg]\n\tformat = openpgp\n[init]\n\tdefaultBranch = main\n"
        )
        self.people[person_id] = Person(person_id, name, exported, config, home, fingerprint)
        return self.people[person_id]

    def close(self) -> None:
        """Stop the gpg-agents of everyone's keyrings, and remove the keyrings."""
        for home in self.gpg_homes:
            stop_gpg(home)
        self.gpg_homes.clear()

    def act(self, person: Person) -> None:
        """From now on git (and qms, which runs git and gpg) acts as `person`."""
        self.monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(person.config))
        if person.gnupghome is None:
            self.monkeypatch.delenv("GNUPGHOME", raising=False)
        else:
            self.monkeypatch.setenv("GNUPGHOME", str(person.gnupghome))

    @contextmanager
    def acting(self, person: Person) -> Iterator[None]:
        previous = os.environ.get("GIT_CONFIG_GLOBAL", "")
        home = os.environ.get("GNUPGHOME")
        self.act(person)
        try:
            yield
        finally:
            self.monkeypatch.setenv("GIT_CONFIG_GLOBAL", previous)
            if home is None:
                self.monkeypatch.delenv("GNUPGHOME", raising=False)
            else:
                self.monkeypatch.setenv("GNUPGHOME", home)

    def init(self, admin: Person) -> None:
        """`qms init` of the world's repository, `admin` its first admin and key."""
        self.act(admin)
        result = qms(
            "init",
            str(self.repo),
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
