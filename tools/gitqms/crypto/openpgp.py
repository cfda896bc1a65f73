"""OpenPGP (GnuPG) keys and signatures.

qms.yaml holds an OpenPGP key as its ASCII-armored public key block. This module reads such a
block in pure Python, to check it and to compute the fingerprint the registry is keyed by, and
verifies commit signatures by running gpg against a throwaway keyring that holds only keys from
the registry. Every gpg call of gitqms lives here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from types import TracebackType

from ..errors import QmsError
from .sshkeys import KeyFormatError

GPG = "gpg"  # the program the verifier runs
KEY_BEGIN = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
KEY_END = "-----END PGP PUBLIC KEY BLOCK-----"
SECRET_BEGIN = "-----BEGIN PGP PRIVATE KEY BLOCK-----"
SIGNATURE_BEGIN = "-----BEGIN PGP SIGNATURE-----"
GPG_MISSING = "gpg is not installed, so this OpenPGP signature cannot be checked"
EXPORT_HINT = "gpg --armor --export you@hospital > you.asc"

_PUBLIC_KEY, _PUBLIC_SUBKEY, _SECRET_KEY, _SECRET_SUBKEY = 6, 14, 5, 7
_ALLOWED = {_PUBLIC_KEY, _PUBLIC_SUBKEY, 2, 12, 13, 17}  # + signature, trust, user ID, attribute
_CURVES = {
    bytes.fromhex("2b06010401da470f01"): "ed25519",
    bytes.fromhex("2a8648ce3d030107"): "nistp256",
    bytes.fromhex("2b81040022"): "nistp384",
    bytes.fromhex("2b81040023"): "nistp521",
}
_WEAK_HASHES = {"1": "MD5", "2": "SHA-1", "3": "RIPEMD-160"}
_FINGERPRINT = re.compile(r"[0-9A-F]{40}")


class OpenPgpFormatError(KeyFormatError):
    """An armored block that is not one usable OpenPGP public key."""


@dataclass(frozen=True)
class OpenPgpKey:
    fingerprint: str  # the primary key's v4 fingerprint: 40 uppercase hex digits, as gpg prints
    algorithm: str  # "ed25519", "rsa3072", …
    armored: str  # the block, re-armored canonically (no comment headers)

    @property
    def type(self) -> str:
        return f"openpgp-{self.algorithm}"


def is_openpgp(text: str) -> bool:
    return text.lstrip().startswith("-----BEGIN PGP")


def normal_fingerprint(text: str) -> str:
    """'248f d0f5 …' as gpg prints it for people -> '248FD0F5…'; other text unchanged."""
    joined = "".join(text.split()).upper()
    return joined if _FINGERPRINT.fullmatch(joined) else text


# -- armor and packets ------------------------------------------------------------------------


def crc24(data: bytes) -> int:
    """The armor checksum of RFC 4880 §6.1."""
    crc = 0xB704CE
    for byte in data:
        crc = (crc << 8) ^ _CRC_TABLE[((crc >> 16) ^ byte) & 0xFF]
    return crc & 0xFFFFFF


def _crc_table() -> list[int]:
    table = []
    for index in range(256):
        crc = index << 16
        for _ in range(8):
            crc = (crc << 1) ^ (0x1864CFB if crc & 0x800000 else 0)
        table.append(crc & 0xFFFFFF)
    return table


_CRC_TABLE = _crc_table()


def armor(data: bytes, kind: str = "PUBLIC KEY BLOCK") -> str:
    text = base64.b64encode(data).decode()
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    checksum = base64.b64encode(crc24(data).to_bytes(3, "big")).decode()
    return "\n".join([f"-----BEGIN PGP {kind}-----", "", *lines, f"={checksum}"]) + (
        f"\n-----END PGP {kind}-----\n"
    )


def dearmor(text: str, kind: str = "PUBLIC KEY BLOCK") -> bytes:
    """The bytes inside one armored block, its checksum checked; text around it is ignored."""
    begin, end = f"-----BEGIN PGP {kind}-----", f"-----END PGP {kind}-----"
    lines = [line.strip() for line in text.splitlines()]
    if begin not in lines:
        raise OpenPgpFormatError(f"there is no '{begin}' line")
    body = lines[lines.index(begin) + 1 :]
    if end not in body:
        raise OpenPgpFormatError(f"the block has no '{end}' line; copy the whole block")
    body = body[: body.index(end)]
    if "" in body:  # armor headers ("Comment: …") end at the first blank line
        body = body[body.index("") + 1 :]
    checksum = body.pop()[1:] if body and body[-1].startswith("=") else None
    try:
        data = base64.b64decode("".join(body), validate=True)
        expected = None if checksum is None else base64.b64decode(checksum, validate=True)
    except (binascii.Error, ValueError):  # ValueError: characters outside ASCII
        raise OpenPgpFormatError("the block's base64 text is damaged") from None
    if not data:
        raise OpenPgpFormatError("the block is empty")
    if expected is not None and expected != crc24(data).to_bytes(3, "big"):
        raise OpenPgpFormatError(
            "the block's checksum does not match: it was altered or damaged when copied"
        )
    return data


def packets(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(tag, body) of each packet, in the old or the new header format (RFC 4880 §4.2)."""
    at = 0
    while at < len(data):
        header = data[at]
        if not header & 0x80:
            raise OpenPgpFormatError("this is not OpenPGP data (a packet header is invalid)")
        if header & 0x40:  # new format
            tag, first = header & 0x3F, _byte(data, at + 1)
            if first < 192:
                length, at = first, at + 2
            elif first < 224:
                length, at = ((first - 192) << 8) + _byte(data, at + 2) + 192, at + 3
            elif first == 255:
                length, at = int.from_bytes(_take(data, at + 2, 4), "big"), at + 6
            else:
                raise OpenPgpFormatError("a key block may not use partial packet lengths")
        else:
            tag, size_type = (header >> 2) & 0x0F, header & 0x03
            if size_type == 3:
                raise OpenPgpFormatError("a key block may not use indeterminate packet lengths")
            size = (1, 2, 4)[size_type]
            length, at = int.from_bytes(_take(data, at + 1, size), "big"), at + 1 + size
        yield tag, _take(data, at, length)
        at += length


def _byte(data: bytes, at: int) -> int:
    return _take(data, at, 1)[0]


def _take(data: bytes, at: int, size: int) -> bytes:
    if at + size > len(data):
        raise OpenPgpFormatError("the key data is truncated")
    return data[at : at + size]


# -- public keys ------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def parse_public_key(text: str) -> OpenPgpKey:
    """One OpenPGP public key (primary key, subkeys, user IDs, signatures) from its armor."""
    if SECRET_BEGIN in text:
        raise OpenPgpFormatError(
            f"this is a private (secret) key block; register the public key only: {EXPORT_HINT}"
        )
    data = dearmor(text)
    found = list(packets(data))
    tags = [tag for tag, _ in found]
    if _SECRET_KEY in tags or _SECRET_SUBKEY in tags:
        raise OpenPgpFormatError(
            f"the block holds a private (secret) key; register the public key only: {EXPORT_HINT}"
        )
    unexpected = sorted({tag for tag in tags if tag not in _ALLOWED})
    if unexpected:
        raise OpenPgpFormatError(
            f"the block holds packets a public key does not have (type {unexpected[0]})"
        )
    primaries = [body for tag, body in found if tag == _PUBLIC_KEY]
    if len(primaries) != 1 or tags[0] != _PUBLIC_KEY:
        raise OpenPgpFormatError(
            f"the block holds {len(primaries)} primary keys; export exactly one: "
            "gpg --armor --export FINGERPRINT > you.asc"
        )
    body = primaries[0]
    version = body[0] if body else 0
    if version != 4:
        raise OpenPgpFormatError(
            f"this is a version {version} OpenPGP key; gitqms accepts version 4 keys, "
            "as gpg 2.2 and later make them"
        )
    if len(body) > 0xFFFF:
        raise OpenPgpFormatError("the primary key packet is too large")
    fingerprint = hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body).hexdigest()
    return OpenPgpKey(fingerprint.upper(), _algorithm(body), armor(data))


def _algorithm(body: bytes) -> str:
    """The primary key's algorithm, in words; RSA keys under 2048 bits are refused."""
    algorithm = _byte(body, 5)
    if algorithm in (1, 2, 3):
        bits = int.from_bytes(_take(body, 6, 2), "big")
        if bits < 2048:
            raise OpenPgpFormatError("RSA keys under 2048 bits are refused")
        return f"rsa{bits}"
    if algorithm in (19, 22):
        oid = _take(body, 7, _byte(body, 6))
        return _CURVES.get(oid, "ecdsa" if algorithm == 19 else "eddsa")
    return {17: "dsa", 27: "ed25519", 28: "ed448"}.get(algorithm, f"algorithm{algorithm}")


# -- verifying with gpg -----------------------------------------------------------------------


@dataclass(frozen=True)
class GpgCheck:
    fingerprint: str | None = None  # the primary key's, when gpg found a good signature
    problem: str | None = None
    unknown_key: str | None = None  # the key ID or fingerprint gpg had no key for


class Verifier:
    """gpg over throwaway keyrings (mode 0700), one per set of registered keys.

    A signature is checked in a keyring that holds exactly the keys of the registry that judges
    it, so its verdict never depends on what other registries were read before.
    """

    def __init__(self, program: str | None = None) -> None:
        self.program = program or GPG
        self._root: str | None = None
        self._keyrings: dict[tuple[str, ...], str] = {}
        self._missing = False

    def __enter__(self) -> Verifier:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None
            self._keyrings.clear()

    def _keyring(self, keys: Iterable[str]) -> str:
        """The home of a keyring holding these armored keys, made and filled on first use."""
        wanted = tuple(sorted(set(keys)))
        home = self._keyrings.get(wanted)
        if home is None:
            if self._root is None:
                self._root = tempfile.mkdtemp(prefix="gitqms-gpg-")
                os.chmod(self._root, 0o700)
            home = os.path.join(self._root, str(len(self._keyrings)))
            os.mkdir(home, 0o700)
            self._keyrings[wanted] = home
            if wanted:
                self._gpg(home, ["--import"], "".join(k.strip() + "\n" for k in wanted).encode())
        return home

    def _gpg(
        self, home: str, args: list[str], stdin: bytes
    ) -> subprocess.CompletedProcess[bytes] | None:
        """gpg on one throwaway keyring, none of the user's; None when gpg cannot be run."""
        if self._missing:
            return None
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GNUPG", "GPG_"))}
        env |= {"GNUPGHOME": home, "LC_ALL": "C", "LANGUAGE": "C"}
        command = [self.program, "--batch", "--no-tty", "--no-options", "--homedir", home]
        try:
            return subprocess.run(
                [*command, "--no-autostart", *args],
                input=stdin,
                capture_output=True,
                env=env,
                cwd=home,
                check=False,
            )
        except OSError:  # not installed, or not executable
            self._missing = True
            return None

    def verify(self, signature: str, payload: bytes, keys: Iterable[str]) -> GpgCheck:
        """gpg's verdict on a detached armored signature over `payload`, given these keys."""
        home = self._keyring(keys)
        handle, path = tempfile.mkstemp(suffix=".asc", dir=home)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(signature)
            result = self._gpg(
                home,
                [
                    "--status-fd",
                    "1",
                    "--disable-dirmngr",
                    "--no-auto-key-retrieve",
                    "--verify",
                    path,
                    "-",
                ],
                payload,
            )
        finally:
            os.unlink(path)
        if result is None:
            return GpgCheck(problem=GPG_MISSING)
        return read_status(result.stdout.decode("utf-8", "replace"))


def read_status(text: str) -> GpgCheck:
    """The verdict in gpg's --status-fd lines (GnuPG's doc/DETAILS)."""
    status: dict[str, list[list[str]]] = {}
    for line in text.splitlines():
        if line.startswith("[GNUPG:] "):
            keyword, *args = line[9:].split()
            status.setdefault(keyword, []).append(args)
    count = len(status.get("NEWSIG", []))
    if count != 1:
        return GpgCheck(problem=f"gpg found {count} signatures in the signature block, not one")
    if "BADSIG" in status:
        return GpgCheck(
            problem="the signature does not verify: gpg reports a bad signature (altered or "
            "copied commit)"
        )
    if "ERRSIG" in status:
        args = status["ERRSIG"][0]
        code = args[5] if len(args) > 5 else "?"
        if code == "9" or "NO_PUBKEY" in status:
            named = args[6] if len(args) > 6 and _FINGERPRINT.fullmatch(args[6]) else args[0]
            return GpgCheck(unknown_key=named)
        if code == "4":
            return GpgCheck(problem="gpg cannot check the signature: unsupported algorithm")
        return GpgCheck(problem=f"gpg cannot check the signature (error code {code})")
    if "REVKEYSIG" in status:
        return GpgCheck(problem="the OpenPGP key carries a revocation")
    if "EXPSIG" in status:
        return GpgCheck(problem="the signature carries its own expiry date, which has passed")
    good = "GOODSIG" in status or "EXPKEYSIG" in status  # qms.yaml's window governs expiry
    valid = status.get("VALIDSIG", [])
    if not good or len(valid) != 1 or len(valid[0]) < 10:
        return GpgCheck(problem="gpg did not confirm a good signature")
    _, _, _, _, _, _, _, hash_algorithm, sig_class, primary, *_ = valid[0]
    if sig_class not in ("00", "01"):
        return GpgCheck(problem=f"the signature is not a signature over data (class {sig_class})")
    if hash_algorithm in _WEAK_HASHES:
        return GpgCheck(
            problem=f"the signature uses the broken hash {_WEAK_HASHES[hash_algorithm]}"
        )
    if not _FINGERPRINT.fullmatch(primary.upper()):
        return GpgCheck(problem="gpg did not name the signing key's fingerprint")
    return GpgCheck(fingerprint=primary.upper())


# -- the signer's own keyring -----------------------------------------------------------------


@dataclass(frozen=True)
class SecretKey:
    """A key in the signer's own keyring that git will sign with."""

    fingerprint: str  # the primary key's
    validity: str  # gpg's validity letter: 'r' revoked, 'e' expired, …

    @property
    def type(self) -> str:
        return "openpgp"


def secret_keys(program: str, spec: str) -> list[SecretKey]:
    """The secret keys that gpg, in the user's own keyring, finds for `spec` (as `gpg -u`)."""
    env = os.environ | {"LC_ALL": "C", "LANGUAGE": "C"}
    command = ["--batch", "--no-tty", "--with-colons", "--list-secret-keys", "--fingerprint"]
    try:
        result = subprocess.run(
            [program, *command, "--", spec], capture_output=True, env=env, check=False
        )
    except OSError:
        raise QmsError(
            f"{program} is not installed, and git signs OpenPGP signatures with it",
            hint="install GnuPG (apt-get install gnupg), or sign with SSH: "
            "git config --global gpg.format ssh",
        ) from None
    found: list[SecretKey] = []
    validity, wanted = "", False
    for line in result.stdout.decode("utf-8", "replace").splitlines():
        fields = line.split(":")
        if fields[0] == "sec":
            validity, wanted = fields[1] if len(fields) > 1 else "", True
        elif fields[0] == "ssb":
            wanted = False
        elif fields[0] == "fpr" and wanted and len(fields) > 9:
            found.append(SecretKey(fields[9].upper(), validity))
            wanted = False
    return found
