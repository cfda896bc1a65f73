"""Training carried over to a revision that needs no retraining.

A document version released under a change control carries over the training of the version
it takes over from when the change control, as signed into its approved state (no later than
the release), says `training_required: false` for it (its item under `documents`, else
`impact`). A flag written later, even in a content signed into a later state, carries nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .change_control import ChangeControls, control_kind, named_control
from .signed import Signature, SignedContent
from .status import RecordStatus


def carried_over(
    documents: Iterable[tuple[RecordStatus, str]], controls: ChangeControls
) -> dict[tuple[str, int], bool]:
    """(document, version) -> whether the version's release counted under a change control
    whose approval (the content signed into its approved state, no later than the release)
    says it needs no retraining. A flag written after the approval carries nothing."""
    carries: dict[tuple[str, int], bool] = {}
    for status, release_meaning in documents:
        found = status.document
        for version in found.versions if found else ():
            control = named_control(version.data)
            releases = [s for s in version.signatures if s.meaning == release_meaning]
            if control is None or not releases:
                continue
            release = releases[-1]
            if controls.release_problem(status.id, version.data, release) is not None:
                continue
            approval = _approval(controls, control, release)
            flag = retraining(approval, status.id, version.version)
            carries[(status.id, version.version)] = flag is False
    return carries


def _approval(controls: ChangeControls, control: str, release: Signature) -> Any:
    """The fields of the change control's content that was last signed into its approved state
    (out of a state before approval) no later than `release`; None when there is none."""
    kind, machine = control_kind(), controls.machine
    if kind is None or machine is None:
        return None
    approved = kind.declared.approved_states
    approving = {
        t.meaning for t in machine.transitions if t.target in approved and t.source not in approved
    }
    latest: tuple[Signature, SignedContent] | None = None
    for item in controls.signed.get(control, {}).values():
        for signature in item.signatures:
            counts = signature.meaning in approving and signature.version in approved
            later = latest is None or signature.counts_from > latest[0].counts_from
            if counts and later and signature.counts_from <= release.counts_from:
                latest = (signature, item)
    return latest[1].data if latest else None


def retraining(control: Any, record: str, version: int) -> object:
    """What a change control's content says of retraining on `record` `version`: its item under
    `documents` if that says, else `impact.training_required` (None: not said)."""
    if not isinstance(control, dict):
        return None
    for item in control.get("documents") or ():
        listed = isinstance(item, dict) and (item.get("record"), item.get("version"))
        if listed == (record, version) and "training_required" in item:
            return item["training_required"]
    impact = control.get("impact")
    return impact.get("training_required") if isinstance(impact, dict) else None
