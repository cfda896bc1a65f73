"""A registered signing key of either kind: one OpenSSH key line, or an armored OpenPGP block.

Both kinds have a `fingerprint` (SHA256:… for SSH, 40 hex digits for OpenPGP, which cannot
collide) and a `type`; the registry is keyed by fingerprint.
"""

from __future__ import annotations

from .openpgp import OpenPgpKey, is_openpgp
from .openpgp import parse_public_key as parse_openpgp
from .sshkeys import SshKey, parse_openssh

PublicKey = SshKey | OpenPgpKey


def parse_public_key(text: str) -> PublicKey:
    """The key in a qms.yaml `public_key` value; KeyFormatError when it cannot be read."""
    return parse_openpgp(text) if is_openpgp(text) else parse_openssh(text)


def stored_form(key: PublicKey) -> str:
    """The text qms.yaml keeps: the key line without comment, or the canonical armored block."""
    return key.armored if isinstance(key, OpenPgpKey) else key.openssh
