"""The people-and-keys registry of one qms.yaml: who owns a key, and whether it may sign."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

from ..crypto.keys import parse_public_key
from ..crypto.openpgp import is_openpgp
from ..crypto.openpgp import parse_public_key as parse_openpgp
from ..crypto.sshkeys import KeyFormatError
from ..records.config import Person, QmsConfig, SigningKey


@dataclass(frozen=True)
class RegisteredKey:
    person: Person
    key: SigningKey
    fingerprint: str


@dataclass(frozen=True)
class Registry:
    """qms.yaml as the registry a signature is judged by. `blob` names the qms.yaml version."""

    config: QmsConfig
    blob: str

    @cached_property
    def _keys(self) -> dict[str, RegisteredKey]:
        """Registered keys by fingerprint, SSH and OpenPGP alike."""
        keys: dict[str, RegisteredKey] = {}
        for person in self.config.people:
            for key in person.keys:
                try:
                    parsed = parse_public_key(key.public_key)
                except KeyFormatError:
                    continue  # validation reports it; an unreadable key signs nothing
                keys.setdefault(parsed.fingerprint, RegisteredKey(person, key, parsed.fingerprint))
        return keys

    def key_by_fingerprint(self, fingerprint: str) -> RegisteredKey | None:
        return self._keys.get(fingerprint)

    @cached_property
    def openpgp_blocks(self) -> tuple[str, ...]:
        """The armored OpenPGP keys, for gpg's throwaway keyring: each re-armored from the bytes
        the parser read, so gpg never sees text around the block (say, a second block)."""
        return tuple(
            parse_openpgp(k.key.public_key).armored
            for k in self._keys.values()
            if is_openpgp(k.key.public_key)
        )

    def all_keys(self) -> list[RegisteredKey]:
        return list(self._keys.values())


def key_window_problem(key: SigningKey, day: date) -> str | None:
    """Why `key` may not sign on `day`, in words; None when it may."""
    if key.revoked_on is not None:
        return f"the key was revoked on {key.revoked_on} ({key.revoked_reason})"
    if day < date.fromisoformat(key.valid_from):
        return f"the key is valid only from {key.valid_from}, and the commit is dated {day}"
    if key.valid_until is not None and day > date.fromisoformat(key.valid_until):
        return f"the key expired on {key.valid_until}, and the commit is dated {day}"
    return None


def people_listing(config: QmsConfig, day: date) -> list[dict[str, Any]]:
    """`qms people list` as data: each person, their roles, and how many keys may sign on `day`."""
    rows: list[dict[str, Any]] = []
    for person in config.people:
        usable = [k for k in person.keys if key_window_problem(k, day) is None]
        rows.append(
            {
                "id": person.id,
                "name": person.name,
                "email": person.email,
                "title": person.title,
                "roles": sorted(person.roles),
                "audiences": sorted(config.audiences_of(person)),
                "joined": person.joined,
                "left": person.left_on,
                "keys": len(person.keys),
                "usable_keys": len(usable),
            }
        )
    return rows


def key_listing(config: QmsConfig, day: date) -> list[dict[str, Any]]:
    """`qms keys list` as data: every registered key with its owner, fingerprint and window,
    and whether it may sign on `day` (else why not)."""
    rows: list[dict[str, Any]] = []
    for person in config.people:
        for key in person.keys:
            try:
                parsed = parse_public_key(key.public_key)
                fingerprint, key_type = parsed.fingerprint, parsed.type
            except KeyFormatError:
                fingerprint, key_type = "(unreadable)", "?"
            problem = key_window_problem(key, day)
            rows.append(
                {
                    "person": person.id,
                    "type": key_type,
                    "fingerprint": fingerprint,
                    "valid_from": key.valid_from,
                    "valid_until": key.valid_until,
                    "revoked_on": key.revoked_on,
                    "revoked_reason": key.revoked_reason,
                    "status": "usable" if problem is None else problem,
                }
            )
    return rows
