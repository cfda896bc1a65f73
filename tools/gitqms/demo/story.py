"""The demo's year at St. Aurelia: what each person does on which day.

From the shipped examples: every SOP is drafted by its owner, reviewed and approved; SOP-0005
is revised after the dry-shipper excursion; a paper-log SOP is retired; each deviation and CAPA
is raised and taken, one signed transition at a time, to the state its example file records.
Close to the story's last day: a revision of SOP-0003 approved with a future effective date, an
unapproved edit of SOP-0001 and a new draft SOP, neither of which may reach the controlled site.

People work as the guided commands let them (issue 22): a record is raised with `qms new` and
its text typed in, each move gives the fields its new state needs with `qms advance --from`
(lives.py), a document's next version is started with `qms revise` and its text typed in, and
what a person types into a file is committed with `qms commit` (edits.py). By hand remain only
what no command gives: free text, the events between moves (an action done, a report sent), the
fields an approval needs (whoever gives them may not approve them), the records the examples
number out of the order they were reported in, and the first issues migrated from paper.

The story ends on a fixed day, STORY_DAY, not on the day the demo is run. The shipped examples
carry fixed dates (actions due, investigations due) and IDs and texts that name their year
(CAPA-2026-0001, "the 2026 self-inspection"); shifting every date to the run day would make those
disagree, and a demo built on the day it runs would tell a different story every week (three
CAPAs overdue instead of one). Pinned, the demo is the same on any day, years ahead included:
one CAPA action overdue, SOP-0003 v2 approved and not yet effective, the same registers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml

from ..records.config import QmsConfig
from ..records.document import split_front_matter
from .edits import Edit
from .lives import Life, _route, kind_named
from .steps import Step, at, pull_request, qms, typed, write

START = date(2026, 1, 5)  # the trust root; keys are valid from this day
STORY_DAY = date(2026, 11, 23)  # the demo's "today": its last day of work, its site's day
_RECORD_ID = re.compile(r"\b(?:CAPA|DEV)-\d{4}-\d{4}\b")


def _set(text: str, key: str, value: str) -> str:
    """Replace one top-level front-matter line `key: …`."""
    return re.sub(rf"(?m)^{key}:.*$", lambda _: f"{key}: {value}", text, count=1)


def sop_steps(examples: Path, today: date) -> list[Step]:
    """The SOPs' year, one pull request after another (the module's docstring tells it)."""
    sops = {p.stem: p.read_text(encoding="utf-8") for p in sorted((examples / "sops").glob("*.md"))}
    return [
        *_first_issue(sops),
        *_sop_0005_v2(sops["SOP-0005"]),
        *_sop_0012_retired(),
        *_sop_0003_v2(sops["SOP-0003"], today),
        *_sop_0001_v4_draft(sops["SOP-0001"], today),
        *_sop_0013_draft(today),
    ]


def _review(when: datetime, actor: str, sop: str, reason: str) -> Step:
    return qms(when, actor, "review", sop, "--reason", reason)


def _approve(when: datetime, sops: Sequence[str], reason: str) -> Step:
    return qms(when, "a.weber", "approve", *sops, "--reason", reason)


def _first_issue(sops: Mapping[str, str]) -> list[Step]:
    """Every procedure's first issue under gitqms: drafted by its owner, reviewed by someone
    else, approved together; SOP-0005 as its version 1, and the paper log SOP-0012."""
    first = {**sops, "SOP-0005": _sop_0005_v1(sops["SOP-0005"]), "SOP-0012": SOP_0012}
    owner = {sop: _owner(text) for sop, text in sops.items()} | {"SOP-0012": "j.lindqvist"}
    drafted = [
        write(
            at(START + timedelta(days=1), 9, number),
            owner[sop],
            {f"sops/{sop}.md": text},
            f"{sop}: first issue under gitqms",
            "migration of the paper procedure into the electronic QMS",
        )
        for number, (sop, text) in enumerate(sorted(first.items()))
    ]
    reviewed = [
        _review(
            at(START + timedelta(days=2)),
            "j.lindqvist" if owner[sop] == "m.okafor" else "m.okafor",
            sop,
            "technical review",
        )
        for sop in sorted(first)
    ]
    approved = _approve(at(START + timedelta(days=3)), sorted(first), "release")
    return pull_request(
        [*drafted, *reviewed, approved],
        "sops/first-issue",
        "a.weber",
        "the procedures in force, first issue under gitqms",
        "migration of the paper procedures, reviewed and approved",
    )


def _owner(text: str) -> str:
    match = re.search(r"(?m)^owner: (\S+)", text)
    return match.group(1) if match else "l.santos"


def revision(
    when: datetime, author: str, path: str, text: str, summary: str, reason: str
) -> list[Step]:
    """A document's next version, `text`, as its author makes it: `qms revise` with the
    version's change reason, change control and effective date, then the body (and any other
    front-matter field the revision changes, such as an external document's edition) typed
    in and committed with `qms commit`."""
    front, body, _ = split_front_matter(text)
    fields = yaml.safe_load(front)
    record = str(fields["id"])
    args = ["revise", record, "--reason", " ".join(str(fields["change_reason"]).split())]
    if fields.get("change_control"):
        args += ["--change-control", str(fields["change_control"])]
    if fields.get("effective_date"):
        args += ["--effective-date", str(fields["effective_date"])]
    typed_in = Edit(fields={k: v for k, v in fields.items() if k not in REVISED}, body=body)
    return [qms(when, author, *args), typed(when, author, {path: typed_in}, summary, reason)]


# What `qms revise` writes; a revision's other fields and its body are typed in.
REVISED = ("version", "supersedes", "change_reason", "change_control", "effective_date")


def _sop_0005_v2(text: str) -> list[Step]:
    """The logger hold point (CAPA-2026-0001 action A1), effective 2026-05-04."""
    title = "SOP-0005 v2: logger acceptance before the shipper is opened"
    steps = [
        *revision(
            at(date(2026, 4, 15)),
            "j.lindqvist",
            "sops/SOP-0005.md",
            text,
            title,
            "CAPA-2026-0001 action A1",
        ),
        _review(at(date(2026, 4, 17)), "m.okafor", "SOP-0005", "checked against CAPA-2026-0001"),
        _approve(at(date(2026, 4, 20)), ["SOP-0005"], "CC-2026-014"),
    ]
    return pull_request(steps, "SOP-0005/v2", "a.weber", title, "CC-2026-014 approved")


def _sop_0012_retired() -> list[Step]:
    reason = "paper temperature log replaced by logger acceptance in SOP-0005 v2"
    retire = qms(
        at(date(2026, 6, 15)),
        "a.weber",
        "sign",
        "SOP-0012",
        "--meaning",
        "retired",
        "--reason",
        reason,
    )
    return pull_request([retire], "SOP-0012/retire", "a.weber", "retire SOP-0012", reason)


def _sop_0003_v2(text: str, today: date) -> list[Step]:
    """A revision approved three days before the story's last day, in force three weeks on."""
    revised = _set(text, "version", "2")
    revised = _set(revised, "effective_date", f'"{today + timedelta(days=21):%Y-%m-%d}"')
    revised = _set(revised, "supersedes", '"SOP-0003 v1"')
    revised = _set(revised, "change_control", '"CC-2026-052"')
    revised = re.sub(
        r"(?m)^change_reason: >-\n(?:  .*\n)+",
        "change_reason: >-\n  Effectiveness checks now need a named verifier who did not implement "
        "the actions\n  (finding from the 2026 self-inspection).\n",
        revised,
        count=1,
    )
    revised = revised.replace(
        "## 3 Responsibilities",
        "## 3 Responsibilities\n\nThe effectiveness check is verified by a person who did not "
        "implement the actions.\n",
        1,
    )
    steps = [
        *revision(
            at(today - timedelta(days=6)),
            "l.santos",
            "sops/SOP-0003.md",
            revised,
            "SOP-0003 v2: independent effectiveness verification",
            "self-inspection finding SI-2026-07",
        ),
        _review(at(today - timedelta(days=4)), "m.okafor", "SOP-0003", "technical review"),
        _approve(at(today - timedelta(days=3)), ["SOP-0003"], "CC-2026-052"),
    ]
    return pull_request(
        steps, "SOP-0003/v2", "a.weber", "SOP-0003 v2, effective in three weeks", "CC-2026-052"
    )


# The drafts below are merged for everyone to see in the working copy, never on the
# controlled site.


def _sop_0001_v4_draft(text: str, today: date) -> list[Step]:
    """An edit in review: drafted two days before the story's last day, reviewed once; its
    effective date left for the approval to set."""
    edited = _set(_set(text, "version", "4"), "supersedes", '"SOP-0001 v3"') + (
        "\n## Draft note\n\nDRAFT-ONLY TEXT: electronic training records to replace paper.\n"
    )
    edited = _set(edited, "effective_date", "null")
    edited = _set(edited, "change_control", '"CC-2026-060"')
    edited = re.sub(
        r"(?m)^change_reason: >-\n(?:  .*\n)+",
        "change_reason: >-\n  Electronic training records to replace paper.\n",
        edited,
        count=1,
    )
    steps = [
        *revision(
            at(today - timedelta(days=2)),
            "l.santos",
            "sops/SOP-0001.md",
            edited,
            "SOP-0001 v4 (draft): electronic training records",
            "planned move to electronic training records",
        ),
        _review(at(today - timedelta(days=1)), "m.okafor", "SOP-0001", "first review"),
    ]
    return pull_request(
        steps, "SOP-0001/v4", "l.santos", "SOP-0001 v4 draft", "draft shared for comment"
    )


def _sop_0013_draft(today: date) -> list[Step]:
    """A new procedure: `qms new sop`, then its fields and text typed in."""
    front, body, _ = split_front_matter(SOP_0013)
    fields = yaml.safe_load(front)
    when = at(today - timedelta(days=1), 14)
    new = (
        "new",
        "sop",
        "--title",
        fields["title"],
        "--owner",
        "s.murphy",
        "--area",
        fields["area"],
    )
    drafted = typed(
        when,
        "s.murphy",
        {"sops/SOP-0013.md": Edit(fields=fields, only=True, body=body)},
        "SOP-0013 (draft): gene therapy vector spill response",
        "new procedure requested by the biosafety officer",
    )
    return pull_request(
        [qms(when, "s.murphy", *new), drafted],
        "SOP-0013/draft",
        "s.murphy",
        "SOP-0013 draft",
        "draft shared for comment",
    )


def record_steps(examples: Path, config: QmsConfig, today: date) -> list[Step]:
    """Each example CAPA and deviation raised in its initial state by its owner, then taken
    along the shortest path of allowed transitions to the state its file records."""
    records = []
    for folder, kind in (("deviations", "deviation"), ("capa", "capa")):
        for path in sorted((examples / folder).glob("*.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            records.append((f"{folder}/{path.name}", data, kind))
    created = {data["id"]: _opened(data) for _, data, _ in records}
    numbered = _numbered_by_qms_new([data["id"] for _, data, _ in records], created)
    steps: list[Step] = []
    for where, data, kind in records:
        new = _new_args(kind, data) if data["id"] in numbered else None
        steps += _record_life(where, data, kind, config, today, created, new)
    return steps


def _numbered_by_qms_new(ids: Sequence[str], created: Mapping[str, date]) -> set[str]:
    """The records whose example ID is the one `qms new` gives on the day each is raised: the
    next above every ID of its kind and year raised before. The examples number a few records
    out of the order they were reported in (DEV-2026-0004 before DEV-2026-0002), as a paper log
    may have; those are keyed in whole instead."""
    highest: dict[str, int] = {}
    numbered = set()
    for record_id in sorted(ids, key=lambda i: (created[i], i)):
        series, _, number = record_id.rpartition("-")
        if int(number) == highest.get(series, 0) + 1:
            numbered.add(record_id)
        highest[series] = max(highest.get(series, 0), int(number))
    return numbered


def _new_args(kind: str, data: Mapping[str, Any]) -> tuple[str, ...]:
    """What the owner types after `qms new` to raise `data`."""
    args = [kind, "--title", str(data["title"]), "--owner", str(data["owner"])]
    if "area" in data:
        args += ["--area", str(data["area"])]
    if kind == "deviation":
        args += ["--type", str(data["type"])]
    source = data.get("source")
    if kind == "capa" and isinstance(source, Mapping):
        args += ["--source", str(source["type"])]
        for reference in source.get("references") or ():
            args += ["--ref", str(reference)]
    return tuple(args)


def _record_life(
    path: str,
    data: dict[str, Any],
    kind: str,
    config: QmsConfig,
    today: date,
    created: Mapping[str, date],
    new: Sequence[str] | None,
) -> list[Step]:
    """A record's life (lives.py): raised on its opening day with what its reporter knew then
    (with `new`: by `qms new NEW…`), then moved along its route on days its events allow, each
    move giving the fields its state needs; between moves, what happened is typed in (actions
    done, reports sent, fields naming records raised later once those exist)."""
    record_id = data["id"]
    opened = created[record_id]
    machine = config.lifecycles.machines[kind]
    route = _route(machine, machine.initial, data["state"])
    owner = data.get("owner")
    author = owner if isinstance(owner, str) and owner != "a.weber" else "l.santos"
    life = Life(record_id, path, author, kind_named(kind), config)
    final = {k: v for k, v in data.items() if k not in ("closed", "cancel_reason", "reopen_reason")}
    later = {
        key
        for key, value in final.items()
        if any(created.get(other, opened) > opened for other in _ids(value) - {record_id})
    }
    ready = max(
        (created[o] + timedelta(days=1) for k in later for o in _ids(final[k]) if o in created),
        default=opened,
    )
    closed = _day(data.get("closed"))
    end = closed if closed and data["state"] in machine.closed else today - timedelta(days=1)
    span = max((end - opened).days, len(route))

    def known(state: str, moment: datetime, ahead: bool = False) -> dict[str, Any]:
        """What the file holds in `state` at `moment`; `ahead`: with what the owner has
        written for states not yet reached (a preliminary root cause)."""
        shown = _as_of(final, moment)
        if moment.date() < ready:
            shown = {k: v for k, v in shown.items() if k not in later}
        return (shown if ahead else life.known(shown, state)) | {"state": state}

    first = at(opened, 20)
    written = known(machine.initial, first)
    raised = life.raised(first, written, new, f"{record_id} raised")
    requests = [(raised, f"{record_id}/raised", author, f"{record_id} raised", "new record")]
    state, day = machine.initial, opened
    for number, target in enumerate(route, start=1):
        spread = opened + timedelta(days=round(number * span / len(route)))
        day = min(max(spread, day, _needs(final, target) or day), today)
        update = known(target, at(day, 10))
        group, signer, meaning = life.moved(
            written, update, (state, target), (at(day, 10), at(day, 11, number)),
            f"{record_id} updated",
        )  # fmt: skip
        requests.append((group, f"{record_id}/{target}", signer, f"{record_id} {target}", meaning))
        state, written = target, update
    last = at(max(day, ready, opened + timedelta(days=1)), 12)
    if state not in machine.closed and last.date() <= today:
        late = life.typed_in(last, written, known(state, last, True), f"{record_id} updated")
        if late:
            requests.append(
                (late, f"{record_id}/update", author, f"{record_id} updated", "progress")
            )
    return _one_after_another(requests)


def _one_after_another(
    requests: list[tuple[list[Step], str, str, str, str]],
) -> list[Step]:
    """A record's pull requests in order, each starting after the one before was merged (a
    later one moved on by as much as needed), so no two of them edit the file at once."""
    steps: list[Step] = []
    for group, branch, merger, title, reason in requests:
        if steps and group[0].when <= steps[-1].when:
            shift = steps[-1].when - group[0].when + timedelta(minutes=1)
            group = [replace(step, when=step.when + shift) for step in group]
        steps += pull_request(group, branch, merger, title, reason)
    return steps


_HAPPENED = ("done_at", "onset_at", "physician_accepted_at", "sponsor_notified_at")


def _as_of(value: Any, moment: datetime) -> Any:
    """The record as it could be known at `moment`: later events are not yet filled in."""
    if isinstance(value, list):
        return [_as_of(item, moment) for item in value]
    if not isinstance(value, dict):
        return value
    if _after(value.get("completed"), moment) and "status" in value:
        value = {k: v for k, v in value.items() if k not in ("completed", "evidence")}
        value["status"] = "open"
    if _after(value.get("checked_on"), moment):
        value = {k: v for k, v in value.items() if k in ("criteria", "due", "method")}
    known = {}
    for key, item in value.items():
        if key in _HAPPENED and _after(item, moment):
            continue
        if isinstance(item, dict) and _after(item.get("classified_on"), moment):
            continue
        known[key] = _as_of(item, moment)
    return known


def _after(value: object, moment: datetime) -> bool:
    if not isinstance(value, str):
        return False
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    if when.tzinfo is None:  # a day: it happened during that day
        when = datetime.combine(when.date(), time(0, 0), tzinfo=UTC)
    return when > moment


def _needs(data: Mapping[str, Any], target: str) -> date | None:
    """The day a transition can be made at the earliest: when what it needs has happened."""
    days: list[date | None] = []
    if target == "classified":
        classification = data.get("classification")
        days.append(
            _day(classification.get("classified_on")) if isinstance(classification, dict) else None
        )
    if target == "effectiveness-check":
        days += [_day(a.get("completed")) for a in data.get("actions") or () if isinstance(a, dict)]
    if target == "closed":
        effectiveness = data.get("effectiveness")
        days.append(
            _day(effectiveness.get("checked_on")) if isinstance(effectiveness, dict) else None
        )
    known = [d for d in days if d is not None]
    return max(known) if known else None


def _ids(value: object) -> set[str]:
    if isinstance(value, str):
        return set(_RECORD_ID.findall(value))
    if isinstance(value, dict):
        return set().union(*(_ids(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_ids(v) for v in value)) if value else set()
    return set()


def _day(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).date()


def _opened(data: Mapping[str, Any]) -> date:
    for key in ("opened", "reported_at", "discovered_at"):
        day = _day(data.get(key))
        if day is not None:
            return day
    return START + timedelta(days=30)


def _sop_0005_v1(v2: str) -> str:
    text = _set(v2, "version", "1")
    text = _set(text, "effective_date", '"2025-06-02"')
    text = _set(text, "supersedes", "null")
    text = _set(text, "change_control", '"CC-2025-011"')
    text = re.sub(
        r"(?m)^change_reason: >-\n(?:  .*\n)+",
        "change_reason: >-\n  New procedure for the receipt of cryoshipped ATMPs.\n",
        text,
        count=1,
    )
    return text.replace(
        "## 1 Purpose",
        "## 1 Purpose\n\nVersion 1: the logger is read out on the day of receipt, after storage.\n",
        1,
    )


SOP_0012 = """---
id: SOP-0012
title: "Paper temperature log for dry shippers"
version: 1
owner: j.lindqvist
area: pharmacy
effective_date: "2025-03-03"
review_period_months: 24
supersedes: null
change_reason: >-
  New procedure: a paper log of shipper temperatures read at receipt.
change_control: "CC-2025-003"
training:
  audience: [pharmacists]
  window_days: 14
retention_years: 30
tags: [cold-chain, receipt]
references: []
related_sops: [SOP-0005]
---

# Paper temperature log for dry shippers

## 1 Purpose

To record the display temperature of each dry shipper at receipt on form F-0012-01.

## 2 Procedure

1. Read the shipper's display temperature before opening it.
2. Write the temperature, the time and your initials on form F-0012-01.
3. File the form with the receipt record.
"""

SOP_0013 = """---
id: SOP-0013
title: "Gene therapy vector spill response"
version: 1
owner: s.murphy
area: haematology-ward
effective_date: "2027-02-01"
review_period_months: 24
supersedes: null
change_reason: >-
  New procedure requested by the biosafety officer.
change_control: "CC-2026-061"
training:
  audience: [nurses]
  window_days: 14
retention_years: 30
tags: [biosafety, spill]
references: []
related_sops: []
---

# Gene therapy vector spill response

## 1 Purpose

DRAFT-ONLY TEXT: how ward staff contain and clean a spill of a viral-vector product.
"""


def review_steps(today: date) -> list[Step]:
    """Last month's audit trail reviewed and the review signed by a QA officer, through a pull
    request like any other change (EU GMP Annex 11 §9)."""
    end = today.replace(day=1) - timedelta(days=1)
    start = end.replace(day=1)
    review = qms(
        at(today - timedelta(days=1), 12),
        "m.okafor",
        "audit-trail",
        "--since",
        start.isoformat(),
        "--until",
        end.isoformat(),
        "--revision",
        "main",
        "--branch",
        "main",
        "--sign",
        "--conclusion",
        f"Audit trail of {start:%B %Y} reviewed: every change has a reason and arrived through "
        "a merge; every signature is valid; no follow-up needed.",
    )
    return pull_request(
        [review],
        f"audit-review/{start:%Y-%m}",
        "m.okafor",
        f"audit-trail review of {start:%B %Y}",
        "periodic audit-trail review",
    )


def timeline(examples: Path, config: QmsConfig, today: date) -> list[Step]:
    steps = sop_steps(examples, today) + record_steps(examples, config, today) + review_steps(today)
    return sorted(steps, key=lambda step: step.when)  # stable: same-moment steps keep order
