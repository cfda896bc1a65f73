"""Archives for long retention: a folder that restores and re-verifies decades later.

An archive holds a git bundle of every ref (notes and tags too; never refs/replace/*, which would
make a restored copy show other objects than were committed), the published site at the
archived tip, the `qms verify` report of its whole history, a README for checking it by hand,
`manifest.sha256` (the sha256 of every other file, in `sha256sum -c` format) and `archive.json`
(tool versions, creation time, refs, trust root and the manifest's sha256, sealed).

create.py writes one; verify.py restores one into a temporary repository and compares.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

FORMAT = "gitqms-archive"
FORMAT_VERSION = 1

BUNDLE = "repository.bundle"
SITE = "site"
REPORT_JSON = "verification.json"
REPORT_TEXT = "verification.txt"
README = "README.txt"
MANIFEST = "manifest.sha256"
ARCHIVE_JSON = "archive.json"

# Neither lists itself in the manifest: archive.json holds the manifest's sha256 and a seal of
# its own content instead (a manifest line for it would be circular).
UNLISTED = frozenset({MANIFEST, ARCHIVE_JSON})

SEAL = "seal_sha256"  # the key of archive.json that holds its seal


def seal(value: dict[str, Any]) -> str:
    """The sha256 of archive.json's content without its seal, in one canonical form: any
    change to a value changes it."""
    content = {k: v for k, v in value.items() if k != SEAL}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def render_archive_json(value: dict[str, Any]) -> bytes:
    """archive.json's one written form: a file whose bytes differ from it was edited."""
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode("ascii")
