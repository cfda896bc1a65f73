"""The signature part of the verify floor: every SSH signature of a history checked with
`cryptography` on one core, and nothing else.

    python benchmarks/floor_sigs.py REPO

Reads every commit of HEAD's history first (untimed), takes each signed commit's SSHSIG and
the bytes it signed, then times only the checking: hashing the signed bytes, building the
SSHSIG signed data and the Ed25519 verification, one signature after another, each key parsed
once (as qms does). Prints one line of JSON: {"signatures": N, "signed_commits": C,
"seconds": S}; signatures are e-signatures (QMS-Meaning trailer), as `qms verify` counts them. Exits non-zero
if any signature fails, so the floor is never taken over broken input.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519

from gitqms.crypto import sshsig
from gitqms.crypto.sshkeys import ED25519, Reader
from gitqms.history.commits import parse_commit


def signed_commits(repo: Path) -> tuple[list[tuple[str, bytes]], int]:
    """(armored signature, signed payload) of every e-signature of HEAD's history (a signed
    commit with a QMS-Meaning trailer), and how many commits are signed in all."""
    ids = subprocess.run(
        ["git", "rev-list", "HEAD"], cwd=repo, capture_output=True, check=True
    ).stdout
    batch = subprocess.run(
        ["git", "cat-file", "--batch"], cwd=repo, input=ids, capture_output=True, check=True
    ).stdout
    found, signed, at = [], 0, 0
    while at < len(batch):
        header_end = batch.index(b"\n", at)
        name, kind, size = batch[at:header_end].split()
        body = batch[header_end + 1 : header_end + 1 + int(size)]
        at = header_end + 1 + int(size) + 1
        if kind == b"commit":
            commit = parse_commit(name.decode(), body)
            signed += commit.signature is not None
            if commit.signature and any(k.lower() == "qms-meaning" for k, _ in commit.trailers):
                found.append((commit.signature, commit.payload))
    return found, signed


def main() -> None:
    repo = Path(sys.argv[1])
    work = []
    keys: dict[bytes, ed25519.Ed25519PublicKey] = {}
    found, signed = signed_commits(repo)
    for armored, payload in found:
        signature = sshsig.parse_armored(armored)
        if signature.key.type != ED25519 or signature.hash_algorithm != "sha512":
            raise SystemExit(f"the floor counts Ed25519/SHA-512 signatures, not {signature.key}")
        reader = Reader(signature.signature)
        reader.text()
        raw = reader.string()
        public = keys.setdefault(signature.key.blob, signature.key.key)  # type: ignore[arg-type]
        work.append((public, raw, payload))
    start = time.perf_counter()
    for public, raw, payload in work:
        public.verify(raw, sshsig._signed_data("git", "sha512", payload))  # raises if bad
    seconds = time.perf_counter() - start
    print(json.dumps({"signatures": len(work), "signed_commits": signed, "seconds": seconds}))


if __name__ == "__main__":
    main()
