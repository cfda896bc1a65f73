"""What the gate of a range depends on besides the range: the registry's history and the
histories of the records its rules read (history/narrow.py reads just those in full).

- every record a commit of the range changes or signs (its signatures, authorship and
  approved versions);
- every change control, when the range touches a document: a release may be held by one.

A range that changes or signs qms.yaml (its trust chain, and the kinds it adopts, reach records
the range never names), or that touches a change control, a training session or a controlled
copy (whose rules read the standing of whatever records they list), gets the full walk.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from ..history.narrow import Depends
from ..history.read import load_history
from ..lifecycle.change_control import control_kind
from ..lifecycle.session_rules import session_kind
from ..records.config import CONFIG_FILE
from ..records.kinds import BY_NAME, Kind, kind_of_id
from ..signatures.claims import read_claims
from .copies import COPY_KIND


def range_depends(root: Path, base: str, head: str, in_range: Collection[str]) -> Depends | None:
    """The records and commits the gate of `base..head` reads in full; None when it needs the
    whole history. Asked once the tip's kinds are known as records (walk_narrow)."""
    touched: set[str] = set()
    history = load_history(root, [f"{base}..{head}"])
    for step in history.steps:
        if step.config is not None:
            return None
        touched.update(step.records)
        claims = read_claims(step.commit)
        for claim in claims.claims if claims else ():
            if claim.record.strip().lower() == CONFIG_FILE:
                return None
            touched.add(claim.record)
    kinds = {kind for record in touched if (kind := kind_of_id(record)) is not None}
    if any(kind in kinds for kind in _reading_others()):
        return None
    control = control_kind()
    wide = {control.name} if control and any(k.is_document for k in kinds) else set()
    return Depends(history.prefix, in_range, touched, wide)


def _reading_others() -> list[Kind]:
    """The kinds whose rules read the standing of the records they list: change controls
    (closing), training sessions and controlled copies."""
    return [k for k in (control_kind(), session_kind(), BY_NAME.get(COPY_KIND)) if k]
