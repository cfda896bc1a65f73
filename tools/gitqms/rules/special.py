"""What a change to a record must satisfy where its kind is special (the kind's `special` name
in its declaration), in place of the rules of its family (record_rules.py).

An audit-trail review is a record without states: `qms audit-trail --sign` writes it in the
commit that signs it, and it is closed when written. A training session follows its lifecycle
like any record with states, and never changes once recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from ..lifecycle.session_rules import RECORDED
from ..records.config import QmsConfig
from ..records.kinds import ISSUED_MEANING, REVIEW_MEANING
from ..signatures.verify import Verdict
from .record_rules import state_rules
from .violations import Breach

# (record, its old data or None when new, its new data, the qms.yaml in force, the commit's
# verdicts) -> the breaches
ContentRule = Callable[
    [str, Mapping[str, Any] | None, Mapping[str, Any], QmsConfig, Sequence[Verdict]],
    Iterator[Breach],
]


def _written_once(meaning: str, what: str, anew: str, signed_by: str, how: str) -> ContentRule:
    """The rule of a record written once, in the commit that signs it `meaning` (an
    audit-trail review, a controlled copy's issue): never edited, never unsigned."""

    def rules(
        record: str,
        old: Mapping[str, Any] | None,
        new: Mapping[str, Any],
        config: QmsConfig,
        verdicts: Sequence[Verdict],
    ) -> Iterator[Breach]:
        if old is not None:
            yield Breach(
                "record.closed",
                f"{record} {what}",
                f"revert this change; {anew}",
            )
            return
        if not any(v.record == record and v.ok and v.meaning == meaning for v in verdicts):
            yield Breach(
                "state.signature",
                f"{record} was created without a valid signature '{meaning}' in the same "
                f"commit{signed_by}",
                how,
            )

    return rules


review_rules = _written_once(
    REVIEW_MEANING,
    "is a signed audit-trail review; a review is not edited",
    "record a new review with `qms audit-trail --sign`",
    "",
    "write reviews with `qms audit-trail --since D --until D --sign --conclusion T`",
)
copy_rules = _written_once(
    ISSUED_MEANING,
    "records the issue of a controlled copy; an issue is not edited",
    "issue a new copy with `qms pdf DOC --copy-for LOCATION`",
    ": a registered person holding a role the policy names must sign the issue",
    "issue controlled copies with `qms pdf DOC --copy-for LOCATION`",
)


def session_rules(
    record: str,
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any],
    config: QmsConfig,
    verdicts: Sequence[Verdict],
) -> Iterator[Breach]:
    """A training session moves along its lifecycle like any record with states; once
    recorded, its file never changes (the content the trainer signed is what counts)."""
    if old is not None and old.get("state") == RECORDED:
        yield Breach(
            "training.changed-after-recording",
            f"{record} is a recorded training session; a recorded session never changes "
            "(the content its trainer signed still counts, this one trains no one)",
            "revert this change (git revert); record who or what was missed in a new session: "
            "qms new training-session",
        )
        return
    yield from state_rules(record, old, new, config, verdicts)


# special name -> the content rule that replaces its family's
CONTENT_RULES: Mapping[str, ContentRule] = {
    "audit-review": review_rules,
    "controlled-copy": copy_rules,
    "training-session": session_rules,
}
