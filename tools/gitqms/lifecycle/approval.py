"""What a new approval signature did to an SOP: the day the version becomes effective and why,
or which signatures it still needs. Judged exactly as `qms status` judges it, on the day the
signature carries (its committer date, set by the signer)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..signatures.claims import content_hash
from ..signatures.verify import walk_history
from .documents import BY_APPROVAL, BY_DATE, Version
from .status import committed_records, snapshot


@dataclass(frozen=True)
class Notice:
    text: str
    warning: bool = False


def approval_notices(
    root: Path, commit: str, record_ids: Sequence[str], meaning: str
) -> list[Notice]:
    """For each SOP in `record_ids` that `commit` signed with an approval meaning."""
    walk = walk_history(root, [commit])
    registry = walk.registry_at(commit)
    sops = [r for r in dict.fromkeys(record_ids) if r.startswith("SOP-")]
    if registry is None or not sops or meaning not in registry.config.lifecycles.sop.approval:
        return []
    day = next(
        s.commit.committer.utc.date() for s in reversed(walk.history.steps) if s.commit.id == commit
    )
    contents = committed_records(root, walk, commit)
    rules = registry.config.signatures.get("sop", {})
    notices = []
    for record in snapshot(root, walk, commit, day, sops).records:
        document = record.document
        if document is None:  # its path holds no regular file: `qms check` says so
            continue
        signed = content_hash(contents[record.id])
        version = next((v for v in document.versions if v.content == signed), None)
        if version is None:  # not approved yet: what is missing
            marks = document.working.signatures if document.working else ()
            missing = []
            for needed in registry.config.lifecycles.sop.approval:
                count = rules[needed].count if needed in rules else 1
                have = len({s.person for s in marks if s.meaning == needed})
                if have < count:
                    missing.append(f"'{needed}' ({have} of {count})")
            number = document.working.version if document.working else "?"
            notices.append(
                Notice(
                    f"{record.id} v{number} is not approved yet: still needs {', '.join(missing)}"
                )
            )
        else:
            notices.append(_effective_notice(record.id, version, day))
    return notices


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
