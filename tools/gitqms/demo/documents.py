"""The demo's documents of the other kinds: a work instruction, a form, a policy and a
manufacturer's pharmacy manual.

From the shipped examples (work-instructions/, forms/, policies/, external/): each first issue is
drafted by its owner, reviewed by someone else and approved by the QA manager in one pull request
in February, in force from the day the example names. In July the manufacturer issues edition 2.0
of its pharmacy manual, which states the excursion allowance; the manual's version 2 is released
under the change control CC-2026-0001 (which lists it) on the day that releases the revised
SOPs, in force with them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from .change import CC, DRAFTED, EFFECTIVE, RELEASED, REVIEWED
from .steps import Step, at, pull_request, write
from .story import _approve, _owner, _review, _set, revision

# (folder, ID, reviewer): the reviewer is not the owner, and holds a role that may review
FIRST_ISSUES = (
    ("work-instructions", "WI-0001", "h.nakamura"),
    ("forms", "FRM-0001", "j.lindqvist"),
    ("policies", "POL-0001", "m.okafor"),
    ("external", "EXT-0001", "p.rossi"),
)
DRAFTED_FIRST = date(2026, 2, 9)
REVIEWED_FIRST = date(2026, 2, 10)
APPROVED_FIRST = date(2026, 2, 11)
MANUAL = "EXT-0001"
MANUAL_REVIEWER = "p.rossi"  # a pharmacist, not the manual's owner


def document_steps(examples: Path) -> list[Step]:
    """The first issues and the manual's second edition; none for a kind whose example is
    not shipped."""
    texts = {
        record: (folder, reviewer, (examples / folder / f"{record}.md").read_text("utf-8"))
        for folder, record, reviewer in FIRST_ISSUES
        if (examples / folder / f"{record}.md").is_file()
    }
    if not texts:
        return []
    drafted = [
        write(
            at(DRAFTED_FIRST, 9, number),
            _owner(text),
            {f"{folder}/{record}.md": text},
            f"{record}: first issue under gitqms",
            "migration of the paper document into the electronic QMS",
        )
        for number, (record, (folder, _, text)) in enumerate(texts.items())
    ]
    reviewed = [
        _review(at(REVIEWED_FIRST, 10, number), reviewer, record, "content checked")
        for number, (record, (_, reviewer, _)) in enumerate(texts.items())
    ]
    approved = _approve(at(APPROVED_FIRST), list(texts), "release")
    steps = pull_request(
        [*drafted, *reviewed, approved],
        "documents/first-issue",
        "a.weber",
        "a work instruction, a form, the quality policy and a pharmacy manual, first issue",
        "migration of the paper documents, reviewed and approved",
    )
    if MANUAL in texts:
        steps += _second_edition(texts[MANUAL][2])
    return steps


def _second_edition(text: str) -> list[Step]:
    """The manufacturer's edition 2.0, released under CC-2026-0001 with the revised SOPs."""
    revised = _set(text, "version", "2")
    for key, value in (
        ("external_version", '"2.0"'),
        ("issued_on", '"2026-07-20"'),
        ("received_on", '"2026-07-27"'),
        ("effective_date", f'"{EFFECTIVE:%Y-%m-%d}"'),
        ("supersedes", f'"{MANUAL} v1"'),
        ("change_control", f'"{CC}"'),
    ):
        revised = _set(revised, key, value)
    for old, new in _EDITION_2.items():
        if old not in revised:
            raise ValueError(f"external/{MANUAL}.md no longer says {old!r}: update the demo")
        revised = revised.replace(old, new, 1)
    owner = _owner(revised)
    where = f"external/{MANUAL}.md"
    title = f"{MANUAL} v2: the manufacturer's pharmacy manual, edition 2.0"
    steps = [
        *revision(at(DRAFTED, 14), owner, where, revised, title, CC),
        _review(
            at(REVIEWED, 14),
            MANUAL_REVIEWER,
            MANUAL,
            "edition 2.0 checked against the issuer's portal",
        ),
        _approve(at(RELEASED, 14), [MANUAL], CC),
    ]
    return pull_request(steps, f"{CC}/{MANUAL}", "a.weber", title, f"{CC} approved")


_EDITION_2 = {
    "change_reason: >-\n  First issue under gitqms: the manufacturer's pharmacy manual in force, edition 1.2, with the\n  hospital's local addendum.": (
        "change_reason: >-\n  Edition 2.0 of 2026-07-20 received from the manufacturer: acceptance limit -150 °C with an\n"
        "  allowance for excursions up to -135 °C for 10 minutes or less in total; local addendum updated."
    ),
    "KVB-PM-019 edition 1.2, held": "KVB-PM-019 edition 2.0, held",
    "Pharmacy manual KVB-PM-019, edition 1.2 of 2025-10-01,": "Pharmacy manual KVB-PM-019, edition 2.0 of 2026-07-20,",
    "acceptance limit for the logger (edition 1.2: at or below -150 °C throughout).": (
        "acceptance limit for the logger (edition 2.0: at or below -150 °C, with excursions up to\n"
        "  -135 °C accepted for 10 minutes or less in total)."
    ),
}
