"""OpenSSH public keys: the wire format, fingerprints, and `cryptography` key objects.

Supports the key types that OpenSSH signs with: ed25519, ecdsa (P-256, P-384, P-521), rsa, and
the FIDO variants sk-ssh-ed25519 and sk-ecdsa-sha2-nistp256, whose blobs also name the
application the authenticator signed for.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

ED25519 = "ssh-ed25519"
SK_ED25519 = "sk-ssh-ed25519@openssh.com"
SK_ECDSA = "sk-ecdsa-sha2-nistp256@openssh.com"
RSA = "ssh-rsa"
_ECDSA_CURVES: dict[str, ec.EllipticCurve] = {
    "ecdsa-sha2-nistp256": ec.SECP256R1(),
    "ecdsa-sha2-nistp384": ec.SECP384R1(),
    "ecdsa-sha2-nistp521": ec.SECP521R1(),
}
KEY_TYPES = (ED25519, RSA, *_ECDSA_CURVES, SK_ED25519, SK_ECDSA)

PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey


class KeyFormatError(ValueError):
    """A key or signature blob that is not in OpenSSH's wire format."""


class Reader:
    """Reads SSH wire-format fields (RFC 4251 §5) from bytes, refusing to read past the end."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def take(self, size: int) -> bytes:
        if size < 0 or self._at + size > len(self._data):
            raise KeyFormatError("truncated data")
        chunk = self._data[self._at : self._at + size]
        self._at += size
        return chunk

    def uint32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def byte(self) -> int:
        return self.take(1)[0]

    def string(self) -> bytes:
        return self.take(self.uint32())

    def text(self) -> str:
        try:
            return self.string().decode("ascii")
        except UnicodeDecodeError:
            raise KeyFormatError("non-ASCII name") from None

    def mpint(self) -> int:
        return int.from_bytes(self.string(), "big", signed=True)

    def at_end(self) -> bool:
        return self._at == len(self._data)

    def done(self) -> None:
        if not self.at_end():
            raise KeyFormatError("unexpected trailing data")


def string(value: bytes) -> bytes:
    """One SSH wire-format string: length, then bytes."""
    return len(value).to_bytes(4, "big") + value


@dataclass(frozen=True)
class SshKey:
    """A parsed public key. `blob` is its wire form, which fingerprints and comparisons use."""

    type: str
    blob: bytes
    key: PublicKey
    application: bytes = b""  # FIDO keys only, e.g. b"ssh:"

    @property
    def is_sk(self) -> bool:
        return self.type in (SK_ED25519, SK_ECDSA)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.blob)

    @property
    def openssh(self) -> str:
        """'ssh-ed25519 AAAA…' as in a .pub file, without a comment."""
        return f"{self.type} {base64.b64encode(self.blob).decode()}"


def fingerprint(blob: bytes) -> str:
    """OpenSSH's SHA256 fingerprint, as `ssh-keygen -lf` prints it."""
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


def parse_blob(blob: bytes) -> SshKey:
    """A public key from its wire form."""
    reader = Reader(blob)
    key_type = reader.text()
    key: PublicKey
    application = b""
    if key_type in (ED25519, SK_ED25519):
        raw = reader.string()
        if len(raw) != 32:
            raise KeyFormatError("an ed25519 key has 32 bytes")
        key = ed25519.Ed25519PublicKey.from_public_bytes(raw)
    elif key_type in _ECDSA_CURVES or key_type == SK_ECDSA:
        curve_name = reader.text()
        curve = _ECDSA_CURVES.get(key_type, ec.SECP256R1())
        if curve_name != key_type.removeprefix("sk-").split("@")[0].rsplit("-", 1)[-1]:
            raise KeyFormatError(f"curve {curve_name} does not match key type {key_type}")
        try:
            key = ec.EllipticCurvePublicKey.from_encoded_point(curve, reader.string())
        except ValueError:
            raise KeyFormatError("invalid elliptic-curve point") from None
    elif key_type == RSA:
        exponent, modulus = reader.mpint(), reader.mpint()
        if modulus.bit_length() < 2048:
            raise KeyFormatError("RSA keys under 2048 bits are refused")
        try:
            key = rsa.RSAPublicNumbers(exponent, modulus).public_key()
        except ValueError:
            raise KeyFormatError("invalid RSA key") from None
    else:
        raise KeyFormatError(f"unsupported key type {key_type!r}")
    if key_type in (SK_ED25519, SK_ECDSA):
        application = reader.string()
    reader.done()
    return SshKey(key_type, blob, key, application)


def parse_openssh(line: str) -> SshKey:
    """A public key from one line of a .pub file: 'TYPE BASE64 [comment]'."""
    parts = line.strip().split()
    if len(parts) < 2:
        raise KeyFormatError("expected 'TYPE BASE64 [comment]', as in a .pub file")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):  # ValueError: characters outside ASCII
        raise KeyFormatError("the key's base64 part is damaged") from None
    key = parse_blob(blob)
    if key.type != parts[0]:
        raise KeyFormatError(f"the line says {parts[0]} but the key inside is {key.type}")
    return key
