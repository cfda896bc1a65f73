"""The issue of a controlled copy: `controlled-copies/COPY-YYYY-NNNN.yaml`, written and signed
'issued' by the issuer in one commit, through the same signing path as `qms sign`.

The record names the document, the version and the sha256 of its exact bytes, the copy
number, where the copy is kept, who issued it and when. The number is the next of that
version among the copy records on the branch (`qms check` refuses a number taken twice or
skipped, so two issues merged from two branches cannot both stand). Everything is checked
before anything is written: `plan_issue` refuses, then the caller renders the PDF with the
planned number, then `record_issue` makes the signed commit and lands it crash-safe
(landing.py), refused if the branch moved in between.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .. import git
from ..errors import QmsError
from ..records.kinds import BY_NAME, ISSUED_MEANING
from ..records.repository import RecordFile, Repository
from ..reports.copies import COPY_KIND, CopySource
from ..signatures.claims import Claim
from ..signatures.verify import walk_to_sign
from .new import next_id
from .sign import Head, commit_signature, current_signer, head, plan_record_signatures, subject_for
from .template import refuse_invalid

POLICY_HINT = (
    "add the meaning to the signature policy in qms.yaml, then have an admin sign that change:\n"
    "    signatures:\n"
    "      controlled-copy:\n"
    f"        {ISSUED_MEANING}: {{roles: [qa-officer, qa-manager]}}"
)
ISSUABLE = ("effective", "approved")  # in force, or approved and about to be


@dataclass(frozen=True, kw_only=True)
class PlannedIssue:
    record: str
    path: str  # from the top of the QMS folder
    number: int
    location: str
    content: bytes
    base: Head
    claims: tuple[Claim, ...]
    reason: str


@dataclass(frozen=True)
class IssuedRecord:
    record: str
    path: str
    number: int
    commit: str


def issue_text(
    record_id: str, source: CopySource, number: int, location: str, by: str, at: datetime
) -> str:
    """The record as YAML; every text is a JSON string, which YAML reads as written."""
    version = source.version.version
    lines = [
        f"id: {record_id}",
        f"title: {json.dumps(f'Controlled copy {number} of {source.id} v{version}')}",
        "state: issued",
        f"document: {source.id}",
        f"version: {version}",
        f'content_sha256: "{source.content_sha256}"',
        f"copy: {number}",
        f"location: {json.dumps(location, ensure_ascii=False)}",
        f"issued_by: {by}",
        f'issued_at: "{at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"',
    ]
    return "\n".join(lines) + "\n"


def plan_issue(root: Path, source: CopySource, location: str, now: datetime) -> PlannedIssue:
    """Everything checked, nothing written: the record, its number and the signed claims."""
    location = " ".join(location.split())
    if not 3 <= len(location) <= 200:
        raise QmsError(
            "a controlled copy names where it is kept, in 3 to 200 characters",
            hint="--copy-for 'Cleanroom B, preparation bench'",
        )
    if source.version.status not in ISSUABLE:
        raise QmsError(
            f"{source.id} v{source.version.version} is {source.version.status}: only the "
            "version in force or an approved one about to be is issued as a controlled copy",
            hint=f"print it without --copy-for (marked {source.version.status}), or issue "
            f"the version in force: qms pdf {source.id} --copy-for LOCATION",
        )
    repo = Repository.discover(root)
    base = head(repo.root)
    if base.commit != source.commit:
        raise QmsError(
            f"HEAD moved to {base.commit[:12]} while the copy was prepared",
            hint="run the command again",
        )
    kind = BY_NAME[COPY_KIND]
    walk, registry = walk_to_sign(repo.root, base.commit)
    if ISSUED_MEANING not in registry.config.signatures.get(kind.name, {}):
        raise QmsError(
            f"the signature policy in qms.yaml has no meaning '{ISSUED_MEANING}' for "
            f"{kind.name} records, so a copy cannot be issued",
            hint=POLICY_HINT,
        )
    signer = current_signer(repo.root, registry, now)
    record_id = next_id(repo, kind, now.year)
    relative = f"{kind.folder}/{record_id}{kind.suffix}"
    if (repo.root / relative).exists():
        raise QmsError(f"{relative} already exists in the work tree", hint="remove or commit it")
    number = source.next_copy
    text = issue_text(record_id, source, number, location, signer.person.id, now)
    file = RecordFile(kind, relative, record_id)
    refuse_invalid(repo.root, base.commit, file, text, registry.config, now, "the copy's record")
    content = text.encode("utf-8")
    claims = plan_record_signatures(
        walk, base, {record_id: content}, ISSUED_MEANING, signer, registry, state_change=True
    )
    reason = f"controlled copy {number} of {source.id} v{source.version.version} for {location}"
    return PlannedIssue(
        record=record_id,
        path=relative,
        number=number,
        location=location,
        content=content,
        base=base,
        claims=tuple(claims),
        reason=reason,
    )


def record_issue(root: Path, plan: PlannedIssue) -> IssuedRecord:
    """Write the planned record and sign it in one commit on the branch it was planned on."""
    repo = Repository.discover(root)
    prefix = git.show_prefix(repo.root)
    blob = git.hash_blob(repo.root, plan.content)
    tree = git.tree_with_file(repo.root, plan.base.tree, f"{prefix}{plan.path}", blob)
    claims = list(plan.claims)
    subject = subject_for(ISSUED_MEANING, claims)
    files = {f"{prefix}{plan.path}": plan.content}
    commit = commit_signature(repo.root, plan.base, tree, claims, plan.reason, subject, files)
    return IssuedRecord(plan.record, plan.path, plan.number, commit)
