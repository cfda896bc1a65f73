"""What the verifier says of each signature, and the report of a whole walk."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

RELEASE_MEANING = "approved"  # a valid approval starts the next version's authorship afresh
AUTHORED = "authored"  # the meaning of the verdict on a change whose author is not proven
UNPROVEN = "?"  # among a version's authors: someone whose change no valid signature covers

# (record, content hash, meaning, person id): one signature per person, meaning and version
SeenKey = tuple[str, str | None, str, str]


class Unextendable(Exception):
    """A walk cannot be carried on to a later tip as a full walk would (walk it afresh)."""


@dataclass(frozen=True, kw_only=True)
class Verdict:
    commit: str
    when: datetime  # committer date, UTC
    record: str
    version: str | None
    meaning: str
    reason: str | None
    signer: str  # printed name from the registry, else the committer's name
    email: str  # the committer's
    person: str | None
    role: str | None  # the signer's role that the policy accepted
    fingerprint: str | None
    problems: tuple[str, ...] = ()
    superseded: str | None = None  # why this valid signature no longer covers the record

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def status(self) -> str:
        if self.problems:
            return "invalid"
        return "superseded" if self.superseded else "valid"


@dataclass
class Report:
    verdicts: list[Verdict]
    commits: int
    trust_root: str | None
    notes: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.ok]


def git_blob_id(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()
