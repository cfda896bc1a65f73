"""The valid signatures of a verified history, gathered per record and per signed content."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..signatures.claims import record_data
from ..signatures.verify import Verdict, Walk


@dataclass(frozen=True)
class Signature:
    record: str
    meaning: str
    version: str | None  # as the trailer names it: an SOP's version, a CAPA's state
    content: str  # sha256 of the record's bytes that the signature covers
    person: str
    name: str  # printed name
    role: str | None
    when: datetime  # committer date, UTC
    commit: str
    reason: str | None

    @classmethod
    def of(cls, verdict: Verdict, content: str) -> Signature:
        assert verdict.person is not None
        return cls(
            verdict.record,
            verdict.meaning,
            verdict.version,
            content,
            verdict.person,
            verdict.signer,
            verdict.role,
            verdict.when,
            verdict.commit,
            verdict.reason,
        )


@dataclass
class SignedContent:
    """One exact content of a record, with every valid signature made on it."""

    content: str
    data: dict[str, Any] | None  # its fields, None when they do not parse
    commit: str  # the first commit that signed it: where the content is read from
    signatures: list[Signature] = field(default_factory=list)


def signed_contents(walk: Walk) -> dict[str, dict[str, SignedContent]]:
    """record -> content hash -> what was validly signed on it, oldest signature first."""
    result: dict[str, dict[str, SignedContent]] = {}
    for verdict in walk.report.verdicts:
        content = walk.claimed_content(verdict)
        if not verdict.ok or verdict.person is None or content is None:
            continue
        by_content = result.setdefault(verdict.record, {})
        if content not in by_content:
            data = record_data(walk.content_at(verdict.commit, verdict.record), verdict.record)
            by_content[content] = SignedContent(
                content, data if isinstance(data, dict) else None, verdict.commit
            )
        by_content[content].signatures.append(Signature.of(verdict, content))
    return result
