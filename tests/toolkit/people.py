"""People with real keys: an SSH key made by ssh-keygen or an OpenPGP key made by gpg, and
their own git config that signs with it, exactly as on a desk."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .process import clean_env, environment, run

ORG = "st-aurelia.example"

KEY_TYPES = {
    "ed25519": ["-t", "ed25519"],
    "ecdsa": ["-t", "ecdsa", "-b", "256"],
    "rsa": ["-t", "rsa", "-b", "3072"],
}
# OpenPGP people: the primary key's algorithm, and whether a separate subkey makes signatures.
GPG_TYPES = {"gpg-ed25519": ("ed25519", False), "gpg-rsa": ("rsa3072", False)}
GPG_TYPES["gpg-subkey"] = ("ed25519", True)


@dataclass(frozen=True, kw_only=True)
class Person:
    id: str
    name: str
    email: str
    key: Path  # SSH: the private key, whose public half is key.pub; gpg: the exported .asc
    config: Path  # this person's global git config
    home: Path | None = None  # their own HOME, for commands run at their desk (`env`)
    gnupghome: Path | None = None  # gpg users: their own keyring
    fingerprint: str = ""  # gpg users: the primary key's, as gpg prints it

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

    def env(self, when: str) -> dict[str, str]:
        """A fresh terminal at this person's desk, its git clock on `when`."""
        own = {"HOME": str(self.home)} if self.home is not None else {}
        return clean_env(
            **own,
            GIT_CONFIG_GLOBAL=str(self.config),
            GIT_AUTHOR_DATE=when,
            GIT_COMMITTER_DATE=when,
        )


def ssh_fingerprint(pub: Path) -> str:
    """The SHA256 fingerprint of an SSH public key file, as `ssh-keygen -l` prints it."""
    return run(["ssh-keygen", "-l", "-E", "sha256", "-f", pub]).stdout.split()[1]


def write_config(config: Path, name: str, email: str, signing_key: str, kind: str) -> None:
    """A global git config that signs as `name` with `signing_key` (`kind`: ssh or openpgp)."""
    config.write_text(
        f"[user]\n\tname = {json.dumps(name)}\n\temail = {email}\n\tsigningkey = {signing_key}\n"
        f"[gpg]\n\tformat = {kind}\n[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"
    )


def ssh_person(
    person_id: str,
    name: str,
    email: str,
    *,
    key: Path,
    config: Path,
    key_type: str = "ed25519",
    comment: str | None = None,
    home: Path | None = None,
) -> Person:
    """A new key pair at `key` (and key.pub) made by ssh-keygen, and `config` signing with it."""
    key.parent.mkdir(parents=True, exist_ok=True)
    run(["ssh-keygen", "-q", *KEY_TYPES[key_type], "-N", "", "-C", comment or person_id, "-f", key])
    write_config(config, name, email, str(key), "ssh")
    if home is not None:
        home.mkdir(exist_ok=True)
    return Person(id=person_id, name=name, email=email, key=key, config=config, home=home)


def gpg(home: Path, *args: str, input: bytes | None = None) -> bytes:
    result = subprocess.run(
        ["gpg", "--homedir", str(home), "--batch", "--no-tty", *args],
        input=input,
        capture_output=True,
        env=environment(GNUPGHOME=str(home)),
        check=False,
    )
    assert result.returncode == 0, f"gpg {' '.join(args)}: {result.stderr.decode()}"
    return result.stdout


def gpg_home() -> Path:
    """A new keyring folder; short, as gpg-agent's socket path must be."""
    return Path(tempfile.mkdtemp(prefix="gq-gpg-"))


def stop_gpg(home: Path) -> None:
    run(["gpgconf", "--homedir", home, "--kill", "all"], env=environment(), check=False)
    shutil.rmtree(home, ignore_errors=True)


def primary_fingerprint(home: Path, spec: str) -> str:
    out = gpg(home, "--with-colons", "--list-keys", "--fingerprint", "--", spec).decode()
    return next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:"))


def gpg_person(
    person_id: str, name: str, email: str, *, key: Path, config: Path, key_type: str
) -> Person:
    """A gpg user: their own keyring (in a new folder the caller stops with `stop_gpg`) with a
    key made by gpg, exported to `key`, and `config` signing with it."""
    algorithm, subkey = GPG_TYPES[key_type]
    home = gpg_home()
    gpg(
        home, "--passphrase", "", "--quick-gen-key", f"{name} <{email}>", algorithm, "sign", "never"
    )
    fingerprint = primary_fingerprint(home, email)
    if subkey:
        gpg(home, "--passphrase", "", "--quick-add-key", fingerprint, "ed25519", "sign", "never")
    key.parent.mkdir(parents=True, exist_ok=True)
    key.write_bytes(gpg(home, "--armor", "--export", fingerprint))
    write_config(config, name, email, fingerprint, "openpgp")
    return Person(
        id=person_id,
        name=name,
        email=email,
        key=key,
        config=config,
        gnupghome=home,
        fingerprint=fingerprint,
    )


def configured_person(config: Path, key: Path, own_config: Path, home: Path) -> Person:
    """Someone whose git config already exists (as `qms demo` writes them), copied to
    `own_config` and pointed at `key`: the key that is really there (configs name keys by an
    absolute path, so a copied folder's configs point at the original's)."""
    text = re.sub(
        r"(?m)^(\s*signingkey\s*=).*$", lambda m: f"{m.group(1)} {key}", config.read_text()
    )
    own_config.write_text(text)
    home.mkdir(exist_ok=True)

    def value(field: str) -> str:
        found = re.search(rf"(?m)^\s*{field}\s*=\s*(.*?)\s*$", text)
        assert found, f"no {field} in {config}"
        raw = found.group(1)
        return str(json.loads(raw)) if raw.startswith('"') else raw

    person_id = config.name.removesuffix(".gitconfig")
    return Person(
        id=person_id,
        name=value("name"),
        email=value("email"),
        key=key,
        config=own_config,
        home=home,
    )
