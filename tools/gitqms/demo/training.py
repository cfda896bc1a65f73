"""The demo's training year: who reads and understands what, and when.

Staff with keys sign read-and-understood for each document version in their audiences, a few
days after it is released, on a training branch merged like any other change: the first issues
in January and February, SOP-0005 v2 in April, and the change control's SOP-0005 v3 and
EXT-0001 v2 in October. SOP-0006 v3 needs no retraining (the change control says so for it), so
the training on v2 carries over. Dr. Paola Rossi never reads SOP-0005 v3: on the story's last day
she is overdue. Readers without keys (a nurse, a pharmacy technician, a porter) are trained in
sessions: the training coordinator commits the learning-management system's attendance export,
imports it as draft sessions (`qms import training`) and signs each one recorded. The porter
leaves at the end of September, and a new staff nurse joins in November, due to train within
her new-starter window.
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
from .steps import Step, at, pull_request, qms, write
from .story import START

OVERDUE = ("p.rossi", "SOP-0005")  # she never reads SOP-0005 v3
LEAVER = ("d.moreau", date(2026, 9, 30), "moved to the logistics team of another hospital")
STARTER = ("n.achebe", "Ngozi Achebe, RN", "nurses", date(2026, 11, 2))
# (the day, the documents read then, who skips them, what the branch is called)
ROUNDS = (
    (date(2026, 1, 13), "sops", (), "first issue"),
    (date(2026, 2, 16), "others", (), "first issue of the other documents"),
    (date(2026, 4, 28), ("SOP-0005",), (), "SOP-0005 v2"),
    (date(2026, 10, 7), ("EXT-0001", "SOP-0005"), (OVERDUE,), "CC-2026-0001 revisions"),
)
OTHERS = ("WI-0001", "FRM-0001", "POL-0001", "EXT-0001")
FOLDERS = {"SOP": "sops", "WI": "work-instructions", "FRM": "forms", "POL": "policies"}
FOLDERS["EXT"] = "external"


def training_steps(
    examples: Path, config: QmsConfig, sops: Iterable[str], revised: bool = True
) -> list[Step]:
    """Every round of read-and-understood signatures, the sessions, the leaver and the new
    starter; of the documents the examples hold (`revised`: the change control's revisions
    are made too)."""
    assert ROUNDS[0][0] > START and ROUNDS[1][0] > APPROVED_FIRST
    assert CC_DRAFTED < ROUNDS[3][0] < CC_EFFECTIVE
    audiences = _audiences(examples, [*sops, *OTHERS])
    readers = {person.id: config.audiences_of(person) for person in config.people if person.email}
    steps: list[Step] = []
    for day, documents, skipping, what in ROUNDS if revised else ROUNDS[:3]:
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
                (
                    p,
                    [
                        d
                        for d in chosen
                        if audiences.get(d, set()) & held and (p, d) not in skipping
                    ],
                )
                for p, held in sorted(readers.items())
            )
            if read
        ]
        if not signed:
            continue
        branch = f"training/{day:%Y-%m-%d}"
        steps += pull_request(signed, branch, "l.santos", f"read and understood: {what}", what)
    return steps + _comings_and_goings() + _sessions(config, audiences, revised)


# Readers without keys, trained by the training coordinator in sessions: (the day, the
# documents, the method). Imported from the learning-management system's attendance export.
TRAINER = "l.santos"
SESSIONS = (
    (date(2026, 1, 14), "sops", "classroom"),
    (date(2026, 2, 18), "others", "read"),
    (date(2026, 4, 29), ("SOP-0005",), "classroom"),
    (date(2026, 10, 8), ("SOP-0005", "EXT-0001"), "assessed"),
)


def _sessions(config: QmsConfig, audiences: Mapping[str, set[str]], revised: bool) -> list[Step]:
    """Each round: the attendance export committed with the sessions imported from it, then
    each session signed 'recorded' by the trainer, as one pull request."""
    readers = {
        person.id: config.audiences_of(person)
        for person in config.people
        if not person.email and person.left_on is None
    }
    sops = sorted(record for record in audiences if record.startswith("SOP-"))
    number = 0
    steps: list[Step] = []
    for day, documents, method in SESSIONS if revised else SESSIONS[:3]:
        chosen = sops if documents == "sops" else OTHERS if documents == "others" else documents
        present = [p for p in sorted(readers) if p != LEAVER[0] or day < LEAVER[1]]
        rows = [
            (record, person)
            for record in sorted(chosen)
            for person in present
            if audiences.get(record, set()) & readers[person]
        ]
        if not rows:
            continue
        export = f"imports/lms-attendance-{day:%Y-%m-%d}.csv"
        result = "pass" if method == "assessed" else ""
        csv = "Course,Employee,Completed,Trainer,Method,Result\n" + "".join(
            f"{record},{person},{day},{TRAINER},{method},{result}\n" for record, person in rows
        )
        sessions = sorted({record for record, _ in rows})
        ids = [f"TRN-{day.year}-{number + n:04d}" for n in range(1, len(sessions) + 1)]
        number += len(sessions)
        when = at(day, 15)
        work = [
            write(when, TRAINER, {export: csv}, "LMS attendance export", "training records"),
            qms(
                when.replace(minute=5),
                TRAINER,
                "import",
                "training",
                export,
                "--commit",
                "--reason",
                f"sessions of {day} from the LMS attendance export",
            ),
            *(
                qms(when.replace(minute=10 + n), TRAINER, "advance", record, "--to", "recorded")
                for n, record in enumerate(ids)
            ),
        ]
        title = f"training sessions of {day}"
        steps += pull_request(work, f"training/sessions-{day:%Y-%m-%d}", "a.weber", title, title)
    return steps


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
