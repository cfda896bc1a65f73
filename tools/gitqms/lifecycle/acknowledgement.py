"""What `qms acknowledge` checks before it signs read-and-understood: the content is a version
that counts as approved today (never a draft), and the signer is in one of its training
audiences, as the registry in force says. The verifier judges the audience again; training
status (issue 21, step 3) counts an acknowledgement only of an approved version."""

from __future__ import annotations

from datetime import date

from ..records.config import Person, QmsConfig, SignatureRule
from ..signatures.claims import content_hash, record_data
from ..signatures.eligible import accepted_as
from ..signatures.verify import Walk
from .documents import APPROVED, EFFECTIVE, OBSOLETE, DocumentStatus
from .status import snapshot


def acknowledgement_refusal(
    walk: Walk,
    commit: str,
    record: str,
    content: bytes,
    rule: SignatureRule,
    person: Person,
    config: QmsConfig,
    on: date,
) -> str | None:
    """Why `person` may not acknowledge `record`'s `content` at `commit` on `on`, or None."""
    role, why = accepted_as(rule, config, person, record_data(content, record))
    if role is None:
        return f"{record}: {why}"
    found = snapshot(walk.history.root, walk, commit, on, [record]).records
    document = found[0].document if found else None
    wanted = content_hash(content)
    live = [v for v in document.versions if v.status in (APPROVED, EFFECTIVE)] if document else []
    if (
        document is None
        or document.status == OBSOLETE
        or not any(v.content == wanted for v in live)
    ):
        return f"{record}: " + _not_readable(document)
    return None


def _not_readable(document: DocumentStatus | None) -> str:
    why = (
        "the committed content is not a version in force or about to be (a draft, a version "
        "still in review, a superseded or retired one); only those are read and understood"
    )
    working = document.working if document else None
    live = document.current or document.upcoming if document else None
    if working is not None and live is not None and live.status in (APPROVED, EFFECTIVE):
        why += (
            f". v{live.version} is {live.status}, but the file here holds v{working.version} "
            f"({working.status}): a draft belongs on its change branch; acknowledge v"
            f"{live.version} once the file here is that version again, or v{working.version} "
            "once it is approved"
        )
    return why
