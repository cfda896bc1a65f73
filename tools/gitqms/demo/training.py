"""The demo's training year: who reads and understands what, and when.

Staff with keys sign read-and-understood for each document version in their audiences, a few
days after it is released, on a training branch merged like any other change: the first issues
in January and February, SOP-0005 v2 in April, and the change control's SOP-0005 v3 and
EXT-0001 v2 in October. SOP-0006 v3 needs no retraining (the change control says so for it), so
the training on v2 carries over. Dr. Paola Rossi never reads SOP-0005 v3: on the story's last day
she is overdue. The porter David Moreau leaves at the end of September, and a new staff nurse
joins in November, due to train within her new-starter window.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path

import yaml

from ..records.config import QmsConfig
from ..signatures.eligible import version_audiences
from .change import DRAFTED as CC_DRAFTED
from .change import EFFECTIVE as CC_EFFECTIVE
from .documents import APPROVED_FIRST
from .story import START, Step, at, pull_request, qms

OVERDUE = "p.rossi"  # never reads SOP-0005 v3
LEAVER = ("d.moreau", date(2026, 9, 30), "moved to the logistics team of another hospital")
STARTER = ("n.achebe", "Ngozi Achebe, RN", "nurses", date(2026, 11, 2))
# (the day, the documents read then, who skips them, what the branch is called)
ROUNDS = (
    (date(2026, 1, 13), "sops", (), "first issue"),
    (date(2026, 2, 16), "others", (), "first issue of the other documents"),
    (date(2026, 4, 28), ("SOP-0005",), (), "SOP-0005 v2"),
    (date(2026, 10, 7), ("SOP-0005", "EXT-0001"), (OVERDUE,), "CC-2026-0001 revisions"),
)
OTHERS = ("WI-0001", "FRM-0001", "POL-0001", "EXT-0001")
FOLDERS = {"SOP": "sops", "WI": "work-instructions", "FRM": "forms", "POL": "policies"}
FOLDERS["EXT"] = "external"


def training_steps(examples: Path, config: QmsConfig, sops: Iterable[str]) -> list[Step]:
    """Every round of read-and-understood signatures, the leaver and the new starter."""
    assert ROUNDS[0][0] > START and ROUNDS[1][0] > APPROVED_FIRST
    assert CC_DRAFTED < ROUNDS[3][0] < CC_EFFECTIVE
    audiences = _audiences(examples, [*sops, *OTHERS])
    readers = {person.id: config.audiences_of(person) for person in config.people if person.email}
    steps: list[Step] = []
    for day, documents, skipping, what in ROUNDS:
        chosen = (
            sorted(sops) if documents == "sops" else OTHERS if documents == "others" else documents
        )
        signed = [
            qms(
                at(day, 9 + hour // 6, 10 * (hour % 6)),
                person,
                "acknowledge",
                *read,
                "--reason",
                f"read and understood: {what}",
            )
            for hour, (person, read) in enumerate(
                (p, [d for d in chosen if audiences.get(d, set()) & held])
                for p, held in sorted(readers.items())
                if p not in skipping
            )
            if read
        ]
        branch = f"training/{day:%Y-%m-%d}"
        steps += pull_request(signed, branch, "l.santos", f"read and understood: {what}", what)
    return steps + _comings_and_goings()


def _comings_and_goings() -> list[Step]:
    person, day, reason = LEAVER
    leave = qms(
        at(day, 16),
        "a.weber",
        "people",
        "leave",
        person,
        "--on",
        day.isoformat(),
        "--reason",
        reason,
    )
    starter, name, audience, joined = STARTER
    join = qms(
        at(joined, 9),
        "a.weber",
        "people",
        "add",
        starter,
        "--name",
        name,
        "--audience",
        audience,
        "--reason",
        "new staff nurse on the cellular therapy ward",
    )
    return [
        *pull_request([leave], f"people/{person}-left", "a.weber", f"{person} left", reason),
        *pull_request([join], f"people/{starter}", "a.weber", f"{starter} joined", "new starter"),
    ]


def _audiences(examples: Path, documents: Iterable[str]) -> dict[str, set[str]]:
    """Document -> the training audiences its example names."""
    found: dict[str, set[str]] = {}
    for record in documents:
        folder = FOLDERS[record.split("-")[0]]
        path = examples / folder / f"{record}.md"
        if path.is_file():
            found[record] = set(version_audiences(_front_matter(path.read_text("utf-8"))))
    return found


def _front_matter(text: str) -> Mapping[str, object]:
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    data = yaml.safe_load(match.group(1)) if match else None
    return data if isinstance(data, dict) else {}
