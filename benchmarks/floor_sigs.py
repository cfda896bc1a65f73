"""The signature part of the verify floor: every SSH signature of a history checked with
`cryptography` on one core, and nothing else.

    python benchmarks/floor_sigs.py REPO

Reads every commit of HEAD's history first (untimed), takes each signed commit's SSHSIG and
the bytes it signed, then times only the checking: hashing the signed bytes, building the
SSHSIG signed data and the Ed25519 verification, one signature after another, each key parsed
once (as qms does).

Every signed commit counts, not only the e-signatures: who signed a change to a record is who
wrote it, which separation of duties asks, so a verify walk needs the signature of every signed
change to a record after the trust root; in the generated histories every signed commit that is
not an e-signature is one. Prints one line
of JSON: {"signatures": N, "signed_commits": C, "seconds": S, "esignature_seconds": E};
signatures are e-signatures (QMS-Meaning trailer), as `qms verify` counts them, S the time of
all C and E the part of it spent on the N. Exits non-zero if any signature fails, so the floor
is never taken over broken input.
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


def signed_commits(repo: Path) -> list[tuple[str, bytes, bool]]:
    """(armored signature, signed payload, is an e-signature) of every signed commit of HEAD's
    history; an e-signature is a signed commit with a QMS-Meaning trailer."""
    ids = subprocess.run(
        ["git", "rev-list", "HEAD"], cwd=repo, capture_output=True, check=True
    ).stdout
    batch = subprocess.run(
        ["git", "cat-file", "--batch"], cwd=repo, input=ids, capture_output=True, check=True
    ).stdout
    found, at = [], 0
    while at < len(batch):
        header_end = batch.index(b"\n", at)
        name, kind, size = batch[at:header_end].split()
        body = batch[header_end + 1 : header_end + 1 + int(size)]
        at = header_end + 1 + int(size) + 1
        if kind == b"commit":
            commit = parse_commit(name.decode(), body)
            if commit.signature:
                meaning = any(k.lower() == "qms-meaning" for k, _ in commit.trailers)
                found.append((commit.signature, commit.payload, meaning))
    return found


def main() -> None:
    repo = Path(sys.argv[1])
    work = []
    keys: dict[bytes, ed25519.Ed25519PublicKey] = {}
    found = signed_commits(repo)
    for armored, payload, meaning in found:
        signature = sshsig.parse_armored(armored)
        if signature.key.type != ED25519 or signature.hash_algorithm != "sha512":
            raise SystemExit(f"the floor counts Ed25519/SHA-512 signatures, not {signature.key}")
        reader = Reader(signature.signature)
        reader.text()
        raw = reader.string()
        public = keys.setdefault(signature.key.blob, signature.key.key)  # type: ignore[arg-type]
        work.append((public, raw, payload, meaning))
    seconds, esignatures = 0.0, 0.0
    for public, raw, payload, meaning in work:
        start = time.perf_counter()
        public.verify(raw, sshsig._signed_data("git", "sha512", payload))  # raises if bad
        took = time.perf_counter() - start
        seconds += took
        esignatures += took if meaning else 0.0
    print(
        json.dumps(
            {
                "signatures": sum(meaning for *_, meaning in work),
                "signed_commits": len(work),
                "seconds": seconds,
                "esignature_seconds": esignatures,
            }
        )
    )


if __name__ == "__main__":
    main()
