"""A signed audit-trail review: `audit-reviews/ATR-YYYY-NNNN.yaml`, written and signed
'audit-trail-reviewed' in one commit, through the same signing path as `qms sign`.

The record holds the period, the commit reviewed, the sha256 of the canonical JSON report
(`audit_review.canonical_json`), the summary counts, the anomaly codes and the reviewer's
conclusion. The signature is judged by `qms verify` like any other: a registered key, a role
that `signatures.audit-review.audit-trail-reviewed` in qms.yaml names, the exact bytes.
Everything is checked before anything is written; the branch moves only once the new commit
verifies, and the index and work tree follow it, crash-safe (landing.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .. import git
from ..audit.review import AuditReview, report_sha256
from ..errors import QmsError
from ..records.kinds import AUDIT_REVIEW, REVIEW_MEANING
from ..records.repository import RecordFile, Repository
from ..signatures.verify import walk_to_sign
from .new import next_id
from .sign import (
    commit_signature,
    current_signer,
    head,
    plan_record_signatures,
    subject_for,
)
from .template import refuse_invalid

POLICY_HINT = (
    "add the meaning to the signature policy in qms.yaml, then have an admin sign that change:\n"
    "    signatures:\n"
    "      audit-review:\n"
    f"        {REVIEW_MEANING}: {{roles: [qa-officer, qa-manager]}}"
)


@dataclass(frozen=True)
class SignedReview:
    record: str
    path: str
    commit: str
    report_sha256: str


def review_text(
    record_id: str, review: AuditReview, reviewer: str, on: str, conclusion: str
) -> str:
    """The review record as YAML; every text is a JSON string, which YAML reads as written."""
    assert review.since is not None and review.until is not None
    counts = review.counts()
    anomalies = review.by_anomaly()
    lines = [
        f"id: {record_id}",
        f"title: {json.dumps(f'Audit-trail review {review.since} to {review.until}')}",
        "period:",
        f'  since: "{review.since.isoformat()}"',
        f'  until: "{review.until.isoformat()}"',
        f'revision: "{review.revision}"',
        f"branch: {json.dumps(review.branch)}",
        f'report_sha256: "{report_sha256(review)}"',
        f"receipts: {'true' if review.receipts else 'false'}",
        "summary:",
        *(f"  {key}: {value}" for key, value in counts.items()),
        "anomalies:" + ("" if anomalies else " {}"),
        *(f"  {code}: {count}" for code, count in anomalies.items()),
        f"reviewer: {reviewer}",
        f'reviewed_on: "{on}"',
        f"conclusion: {json.dumps(conclusion.strip(), ensure_ascii=False)}",
    ]
    return "\n".join(lines) + "\n"


def sign_review(root: Path, review: AuditReview, conclusion: str, now: datetime) -> SignedReview:
    """Write the review record and sign it in one commit on the current branch."""
    if review.since is None or review.until is None:
        raise QmsError(
            "a signed review names its whole period",
            hint="give both --since and --until with --sign",
        )
    if len(conclusion.strip()) < 3:
        raise QmsError(
            "a signed review needs the reviewer's conclusion",
            hint="--conclusion 'what the anomalies mean and what follows from them'",
        )
    repo = Repository.discover(root)
    base = head(repo.root)
    if review.revision != base.commit:
        raise QmsError(
            f"the review covers {review.revision[:12]}, but HEAD is {base.commit[:12]}",
            hint="review and sign the branch you are on (HEAD)",
        )
    walk, registry = walk_to_sign(repo.root, base.commit)
    if REVIEW_MEANING not in registry.config.signatures.get(AUDIT_REVIEW.name, {}):
        raise QmsError(
            f"the signature policy in qms.yaml has no meaning '{REVIEW_MEANING}' for "
            f"{AUDIT_REVIEW.name} records, so a review cannot be signed",
            hint=POLICY_HINT,
        )
    signer = current_signer(repo.root, registry, now)
    record_id = next_id(repo, AUDIT_REVIEW, now.year)
    relative = f"{AUDIT_REVIEW.folder}/{record_id}{AUDIT_REVIEW.suffix}"
    target = repo.root / relative
    if target.exists():
        raise QmsError(f"{relative} already exists in the work tree", hint="remove or commit it")
    text = review_text(record_id, review, signer.person.id, now.date().isoformat(), conclusion)
    prefix = git.show_prefix(repo.root)
    file = RecordFile(AUDIT_REVIEW, relative, record_id)
    refuse_invalid(repo.root, base.commit, file, text, registry.config, now, "the review record")
    content = text.encode("utf-8")
    claims = plan_record_signatures(
        walk, base, {record_id: content}, REVIEW_MEANING, signer, registry, state_change=True
    )
    blob = git.hash_blob(repo.root, content)
    tree = git.tree_with_file(repo.root, base.tree, f"{prefix}{relative}", blob)
    reason = f"audit-trail review {review.since} to {review.until}: {conclusion}"
    subject = subject_for(REVIEW_MEANING, claims)
    files = {f"{prefix}{relative}": content}
    commit = commit_signature(repo.root, base, tree, claims, reason, subject, files)
    return SignedReview(record_id, relative, commit, report_sha256(review))
