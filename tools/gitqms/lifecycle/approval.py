"""What a new approval signature did to a document (an SOP, …): the day the version becomes
effective and why, or which signatures it still needs. Judged exactly as `qms status` judges
it, on the day the signature carries (its committer date, set by the signer)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..records.config import SignatureRule
from ..records.kinds import kind_of_id
from ..records.lifecycles import DocumentPolicy
from ..signatures.claims import content_hash
from ..signatures.verify import walk_history
from .documents import BY_APPROVAL, BY_DATE, DocumentStatus, Version
from .status import committed_records, snapshot


@dataclass(frozen=True)
class Notice:
    text: str
    warning: bool = False


def approval_notices(
    root: Path, commit: str, record_ids: Sequence[str], meaning: str
) -> list[Notice]:
    """For each document in `record_ids` that `commit` signed with a meaning of the approval
    policy of its kind."""
    walk = walk_history(root, [commit])
    registry = walk.registry_at(commit)
    if registry is None:
        return []
    config = registry.config
    approving = {
        record_id: kind
        for record_id in dict.fromkeys(record_ids)
        if (kind := kind_of_id(record_id)) is not None
        and kind.is_document
        and kind.name in config.lifecycles.documents
        and meaning in config.lifecycles.documents[kind.name].approval
    }
    if not approving:
        return []
    day = next(
        s.commit.committer.utc.date() for s in reversed(walk.history.steps) if s.commit.id == commit
    )
    contents = committed_records(root, walk, commit)
    notices = []
    for record in snapshot(root, walk, commit, day, list(approving)).records:
        document = record.document
        if document is None:  # its path holds no regular file: `qms check` says so
            continue
        signed = content_hash(contents[record.id])
        version = next((v for v in document.versions if v.content == signed), None)
        if version is None:  # not approved yet: what is missing
            kind = approving[record.id]
            missing = _missing(
                document,
                config.lifecycles.documents[kind.name],
                config.signatures.get(kind.name, {}),
            )
            number = document.working.version if document.working else "?"
            notices.append(
                Notice(
                    f"{record.id} v{number} is not approved yet: still needs {', '.join(missing)}"
                )
            )
        else:
            notices.append(_effective_notice(record.id, version, day))
    return notices


def _missing(
    document: DocumentStatus, policy: DocumentPolicy, rules: Mapping[str, SignatureRule]
) -> list[str]:
    """The approval meanings the document's working version still lacks, with their counts."""
    marks = document.working.signatures if document.working else ()
    missing = []
    for needed in policy.approval:
        count = rules[needed].count if needed in rules else 1
        have = len({s.person for s in marks if s.meaning == needed})
        if have < count:
            missing.append(f"'{needed}' ({have} of {count})")
    return missing


def _effective_notice(record_id: str, version: Version, day: date) -> Notice:
    name = f"{record_id} v{version.version}"
    start = version.effective_from
    assert start is not None  # an approved version always has its day
    if version.effective_rule == BY_APPROVAL:
        return Notice(
            f"{name} is effective immediately, from {start}: its effective date "
            f"{version.effective_date} had passed when it was approved, so there is no "
            "training window",
            warning=True,
        )
    verb = "becomes effective on" if start > day else "is effective from"
    if version.effective_rule == BY_DATE:
        text = f"{name} {verb} its effective date {start} (approved {version.approved_on})"
        assert version.approved_on is not None
        left = (start - version.approved_on).days
        if left < version.window_days:
            return Notice(
                f"{text}: that leaves {left} of its {version.window_days}-day training window",
                warning=True,
            )
        return Notice(text)
    return Notice(f"{name} {verb} {start} ({version.effective_basis})")
