"""What the gate of a range depends on besides the range: the registry's history and the
histories of the records its rules read (history/narrow.py reads just those in full).

- every record a commit of the range changes or signs (its signatures, authorship and
  approved versions);
- every change control, when the range touches a document (a release may be held by one) or a
  change control;
- every document, when it touches a change control (a closing needs the versions it lists
  effective);
- every document, change control, training session and copy, when it touches a session or a
  copy (whether a session trains and a copy counts follow the documents' status).

A range that changes or signs qms.yaml, or whose kinds the registry changes, gets the full walk
(its trust chain and the kinds it adopts reach records the range never names).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from ..history.narrow import Depends
from ..history.read import load_history
from ..lifecycle.change_control import control_kind
from ..lifecycle.session_rules import session_kind
from ..records.config import CONFIG_FILE
from ..records.kinds import BY_NAME, Kind, active_kinds, kind_of_id
from ..signatures.claims import read_claims
from ..signatures.verify import use_tip_kinds
from .copies import COPY_KIND


def range_depends(root: Path, base: str, head: str, in_range: Collection[str]) -> Depends | None:
    """The records and commits the gate of `base..head` reads in full; None when it needs the
    whole history (the range changes or signs qms.yaml)."""
    use_tip_kinds(root, [head])  # which files are records, as the walk will know them
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
    return Depends(history.prefix, in_range, touched, _kinds_read(touched))


def _kinds_read(touched: Collection[str]) -> set[str]:
    """The kinds whose every record the rules of the touched records read."""
    kinds = {kind for record in touched if (kind := kind_of_id(record)) is not None}
    documents = {kind.name for kind in active_kinds().kinds if kind.is_document}
    control, session, copy = control_kind(), session_kind(), BY_NAME[COPY_KIND]
    wide: set[str] = set()
    if control is not None and any(k.is_document or k is control for k in kinds):
        wide.add(control.name)
    if control is not None and control in kinds:
        wide |= documents
    if _any_of(kinds, session, copy):
        wide |= documents | {k.name for k in (control, session, copy) if k is not None}
    return wide


def _any_of(kinds: Collection[Kind], *wanted: Kind | None) -> bool:
    return any(kind in kinds for kind in wanted if kind is not None)
