"""SSHSIG, the signature format of `ssh-keygen -Y sign` that git uses for SSH-signed commits.

Format (OpenSSH PROTOCOL.sshsig): an armored blob holding magic "SSHSIG", version 1, the public
key, the namespace, a reserved string, the hash algorithm and the signature. What is signed is
magic ‖ namespace ‖ reserved ‖ hash algorithm ‖ H(message), each but the magic as a wire string.

`verify` is the in-process equivalent of `ssh-keygen -Y check-novalidate`; deciding whether the
key may sign is the registry's job. `sign` exists for the demo and benchmark generators, which
make thousands of signed commits and cannot afford one ssh-keygen process each.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from .sshkeys import (
    ED25519,
    RSA,
    SK_ECDSA,
    SK_ED25519,
    KeyFormatError,
    Reader,
    SshKey,
    parse_blob,
    string,
)

MAGIC = b"SSHSIG"
BEGIN = "-----BEGIN SSH SIGNATURE-----"
END = "-----END SSH SIGNATURE-----"
_HASHES = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}
_RSA_HASHES: dict[str, hashes.HashAlgorithm] = {
    "rsa-sha2-256": hashes.SHA256(),
    "rsa-sha2-512": hashes.SHA512(),
}
_ECDSA_HASHES: dict[str, hashes.HashAlgorithm] = {
    "ecdsa-sha2-nistp256": hashes.SHA256(),
    "ecdsa-sha2-nistp384": hashes.SHA384(),
    "ecdsa-sha2-nistp521": hashes.SHA512(),
}

# FIDO authenticator flags (OpenSSH sk-api.h)
USER_PRESENT = 0x01
USER_VERIFIED = 0x04


@dataclass(frozen=True)
class SshSignature:
    key: SshKey
    namespace: str
    hash_algorithm: str
    signature: bytes  # the inner signature blob: format name and signature bytes


@dataclass(frozen=True)
class Checked:
    """A signature that verified, with what the authenticator reported for FIDO keys."""

    key: SshKey
    user_present: bool = True
    user_verified: bool = False


class SignatureError(ValueError):
    """Why a signature does not verify, in words."""


def parse_armored(text: str) -> SshSignature:
    lines = text.strip().splitlines()
    if len(lines) < 3 or lines[0].strip() != BEGIN or lines[-1].strip() != END:
        raise SignatureError("not an SSH signature (no SSHSIG armor)")
    try:
        blob = base64.b64decode("".join(line.strip() for line in lines[1:-1]), validate=True)
    except (binascii.Error, ValueError):  # ValueError: characters outside ASCII
        raise SignatureError("the signature's base64 is damaged") from None
    return parse(blob)


def parse(blob: bytes) -> SshSignature:
    try:
        reader = Reader(blob)
        if reader.take(6) != MAGIC:
            raise SignatureError("not an SSHSIG blob")
        if reader.uint32() != 1:
            raise SignatureError("unsupported SSHSIG version")
        key = parse_blob(reader.string())
        namespace = reader.text()
        reader.string()  # reserved
        hash_algorithm = reader.text()
        signature = reader.string()
        reader.done()
    except KeyFormatError as error:
        raise SignatureError(f"malformed signature: {error}") from None
    return SshSignature(key, namespace, hash_algorithm, signature)


def _signed_data(namespace: str, hash_algorithm: str, message: bytes) -> bytes:
    digest = _HASHES[hash_algorithm](message).digest()
    return (
        MAGIC
        + string(namespace.encode())
        + string(b"")
        + string(hash_algorithm.encode())
        + string(digest)
    )


def verify(sig: SshSignature, message: bytes, *, namespace: str = "git") -> Checked:
    """Check that `sig` is a signature over `message` by its embedded key; raise SignatureError."""
    if sig.namespace != namespace:
        raise SignatureError(f"signed for namespace {sig.namespace!r}, not {namespace!r}")
    if sig.hash_algorithm not in _HASHES:
        raise SignatureError(f"unsupported hash algorithm {sig.hash_algorithm!r}")
    data = _signed_data(namespace, sig.hash_algorithm, message)
    try:
        return _verify_raw(sig.key, sig.signature, data)
    except SignatureError:
        raise
    except (KeyFormatError, ValueError) as error:  # ValueError: e.g. a negative ECDSA integer
        raise SignatureError(f"malformed signature: {error}") from None
    except InvalidSignature:
        raise SignatureError("the signature does not match the signed content") from None


def _verify_raw(key: SshKey, blob: bytes, data: bytes) -> Checked:
    reader = Reader(blob)
    sig_type = reader.text()
    raw = reader.string()
    if key.type in (ED25519, SK_ED25519):
        if sig_type != key.type:
            raise SignatureError(f"a {sig_type} signature from an {key.type} key")
        assert isinstance(key.key, ed25519.Ed25519PublicKey)
        if key.type == ED25519:
            reader.done()
            key.key.verify(raw, data)
            return Checked(key)
        flags, counter = reader.byte(), reader.uint32()
        reader.done()
        key.key.verify(raw, _fido_data(key, flags, counter, data))
        return _fido_checked(key, flags)
    if key.type == RSA:
        if sig_type not in _RSA_HASHES:  # ssh-rsa (SHA-1) is refused, as OpenSSH does for SSHSIG
            raise SignatureError(f"RSA signature type {sig_type!r} is not accepted")
        reader.done()
        assert isinstance(key.key, rsa.RSAPublicKey)
        key.key.verify(raw, data, padding.PKCS1v15(), _RSA_HASHES[sig_type])
        return Checked(key)
    # ECDSA, plain or FIDO
    if sig_type != key.type:
        raise SignatureError(f"a {sig_type} signature from an {key.type} key")
    assert isinstance(key.key, ec.EllipticCurvePublicKey)
    numbers = Reader(raw)
    der = encode_dss_signature(numbers.mpint(), numbers.mpint())
    numbers.done()
    if key.type == SK_ECDSA:
        flags, counter = reader.byte(), reader.uint32()
        reader.done()
        key.key.verify(der, _fido_data(key, flags, counter, data), ec.ECDSA(hashes.SHA256()))
        return _fido_checked(key, flags)
    reader.done()
    key.key.verify(der, data, ec.ECDSA(_ECDSA_HASHES[key.type]))
    return Checked(key)


def _fido_data(key: SshKey, flags: int, counter: int, data: bytes) -> bytes:
    """What a FIDO authenticator signs: H(application) ‖ flags ‖ counter ‖ H(data)."""
    return (
        hashlib.sha256(key.application).digest()
        + bytes([flags])
        + counter.to_bytes(4, "big")
        + hashlib.sha256(data).digest()
    )


def _fido_checked(key: SshKey, flags: int) -> Checked:
    return Checked(key, bool(flags & USER_PRESENT), bool(flags & USER_VERIFIED))


# --- signing, for generators -------------------------------------------------------------


def sign_ed25519(
    private: ed25519.Ed25519PrivateKey, message: bytes, *, namespace: str = "git"
) -> str:
    """An armored SSHSIG over `message`, as `ssh-keygen -Y sign -n git` makes with this key."""
    public = private.public_key().public_bytes_raw()
    key_blob = string(ED25519.encode()) + string(public)
    data = _signed_data(namespace, "sha512", message)
    inner = string(ED25519.encode()) + string(private.sign(data))
    return armor(key_blob, namespace, "sha512", inner)


def sign_sk_ed25519(
    private: ed25519.Ed25519PrivateKey,
    message: bytes,
    *,
    flags: int = USER_PRESENT,
    counter: int = 1,
    application: bytes = b"ssh:",
    namespace: str = "git",
) -> tuple[str, str]:
    """What a FIDO sk-ssh-ed25519 key would produce; returns (public key line, armored sig).

    Tests use it to cover the user-presence and user-verification flags without hardware.
    """
    public = private.public_key().public_bytes_raw()
    key_blob = string(SK_ED25519.encode()) + string(public) + string(application)
    key = parse_blob(key_blob)
    data = _signed_data(namespace, "sha512", message)
    raw = private.sign(_fido_data(key, flags, counter, data))
    inner = string(SK_ED25519.encode()) + string(raw) + bytes([flags]) + counter.to_bytes(4, "big")
    return key.openssh, armor(key_blob, namespace, "sha512", inner)


def armor(key_blob: bytes, namespace: str, hash_algorithm: str, inner: bytes) -> str:
    blob = (
        MAGIC
        + (1).to_bytes(4, "big")
        + string(key_blob)
        + string(namespace.encode())
        + string(b"")
        + string(hash_algorithm.encode())
        + string(inner)
    )
    body = base64.b64encode(blob).decode()
    lines = [body[i : i + 70] for i in range(0, len(body), 70)]
    return "\n".join([BEGIN, *lines, END]) + "\n"
