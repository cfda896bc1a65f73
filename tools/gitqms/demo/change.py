"""The demo's change control: CC-2026-0001, a new dry-shipper acceptance limit.

From the shipped example changes/CC-2026-0001.yaml: proposed by its owner on its proposal day,
its impact assessed by a QA officer, the sponsor notified, approved by the QA manager; only then a
pull request revises SOP-0005 and SOP-0006 to version 3 under it (reviewed and approved after the
change control's approval, in force three weeks later); the change is implemented on the day the
revisions take effect and is left open (implemented) at the story's end, its effectiveness check
still due. Every state change is a signed `qms advance`, like the CAPAs' and deviations'.

The days are fixed, like the example's own dates (proposed 2026-08-03, sponsor told 2026-09-14),
and all lie before the story's last day.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from ..errors import QmsError
from ..records.config import QmsConfig
from .lives import Life, _route, kind_named
from .steps import Step, at, pull_request
from .story import _approve, _as_of, _one_after_another, _review, _set, revision

CC = "CC-2026-0001"
KIND = "change-control"
END_STATE = "implemented"  # left open at the story's end: its effectiveness check is still due
# The day each state is reached (the proposal day comes from the example file).
REACHED = {
    "impact-assessed": date(2026, 8, 24),
    "approved": date(2026, 9, 16),  # after the sponsor was told (2026-09-14)
    "implemented": date(2026, 10, 20),
}
DRAFTED = date(2026, 9, 21)  # the revisions, after the change control's approval
REVIEWED = date(2026, 9, 24)
RELEASED = date(2026, 9, 28)
EFFECTIVE = date(2026, 10, 19)  # three weeks on, for the read-and-understood training


def change_control_steps(examples: Path, config: QmsConfig, today: date) -> list[Step]:
    """The change control's year and the revisions it releases; none if the examples hold no
    change control."""
    path = examples / "changes" / f"{CC}.yaml"
    if not path.is_file() or KIND not in config.lifecycles.machines:
        return []
    if REACHED[END_STATE] >= today:
        raise QmsError(
            f"the demo's last day {today} comes before {CC} is implemented ({REACHED[END_STATE]})",
            hint="build the demo on its own story day",
        )
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    final = _final(data)
    revisions = _revisions(examples)
    return [*_control_life(final, config), *revisions]


def _final(data: Mapping[str, Any]) -> dict[str, Any]:
    """The example with the day it was implemented, in the story's last state."""
    final: dict[str, Any] = {}
    for key, value in data.items():
        if key == "effectiveness":
            final["implemented_on"] = EFFECTIVE.isoformat()
        final[key] = value
    final.setdefault("implemented_on", EFFECTIVE.isoformat())
    final["state"] = END_STATE
    return final


def _control_life(final: Mapping[str, Any], config: QmsConfig) -> list[Step]:
    """Proposed by its owner with `qms new change-control` and its proposal typed in, then
    moved on, one signed transition (its own pull request) at a time, each giving what its
    state needs (lives.py)."""
    machine = config.lifecycles.machines[KIND]
    owner = str(final["owner"])
    proposed = date.fromisoformat(str(final["proposed_on"]))
    life = Life(CC, f"changes/{CC}.yaml", owner, kind_named(KIND), config)

    def known(state: str, day: date) -> dict[str, Any]:
        """The file in `state` with what is known of it on `day`."""
        shown = life.known(_as_of(dict(final), at(day, 10)), state) | {"state": state}
        _unsent(shown)
        return shown

    written = known(machine.initial, proposed)
    new = ["change-control", "--title", str(final["title"]), "--owner", owner]
    new += ["--area", str(final["area"])]
    raised = life.raised(at(proposed, 20), written, new, f"{CC} proposed", "new change")
    requests = [(raised, f"{CC}/raised", owner, f"{CC} proposed", "new change control")]
    state = machine.initial
    for number, target in enumerate(_route(machine, machine.initial, END_STATE), start=1):
        day = REACHED[target]
        update = known(target, day)
        summary = f"{CC}: {_SUMMARY.get(target, 'updated')}"
        group, signer, meaning = life.moved(
            written, update, (state, target), (at(day, 10), at(day, 11, number)), summary
        )
        requests.append((group, f"{CC}/{target}", signer, f"{CC} {target}", meaning))
        state, written = target, update
    return _one_after_another(requests)


_SUMMARY = {
    "impact-assessed": "impact assessment",
    "approved": "effectiveness criteria; sponsor notified",
    "implemented": "implemented",
}


def _unsent(known: dict[str, Any]) -> None:
    """A notice not yet sent has no reference to what was sent."""
    impact = known.get("impact")
    notification = impact.get("regulatory_notification") if isinstance(impact, dict) else None
    notices = notification.get("notices") if isinstance(notification, dict) else None
    for notice in notices if isinstance(notices, list) else ():
        if isinstance(notice, dict) and "done_at" not in notice:
            notice.pop("reference", None)


def _revisions(examples: Path) -> list[Step]:
    """SOP-0005 v3 and SOP-0006 v3 under the change control: written by their owners,
    reviewed by a QA officer, released by the QA manager, merged as one pull request."""
    sops = {sop: (examples / "sops" / f"{sop}.md").read_text(encoding="utf-8") for sop in _TEXT}
    steps: list[Step] = []
    for hour, (sop, (reason, edits)) in enumerate(sorted(_TEXT.items()), start=9):
        revised = _revised(sops[sop], sop, reason, edits)
        owner = re.search(r"(?m)^owner: (\S+)", revised)
        author = owner.group(1) if owner else "l.santos"
        steps += revision(at(DRAFTED, hour), author, f"sops/{sop}.md", revised, f"{sop} v3", CC)
    steps += [_review(at(REVIEWED, 10, n), "m.okafor", sop, CC) for n, sop in enumerate(_TEXT)]
    steps.append(_approve(at(RELEASED), sorted(_TEXT), CC))
    title = "SOP-0005 v3 and SOP-0006 v3: the manufacturer's acceptance limit"
    return pull_request(steps, f"{CC}/documents", "a.weber", title, f"{CC} approved")


def _revised(text: str, sop: str, reason: str, edits: Mapping[str, str]) -> str:
    version = re.search(r"(?m)^version: (\d+)", text)
    if version is None:
        raise ValueError(f"sops/{sop}.md has no version line")
    revised = _set(text, "version", "3")
    revised = _set(revised, "effective_date", f'"{EFFECTIVE:%Y-%m-%d}"')
    revised = _set(revised, "supersedes", f'"{sop} v{version.group(1)}"')
    revised = _set(revised, "change_control", f'"{CC}"')
    revised = re.sub(
        r"(?m)^change_reason: >-\n(?:  .*\n)+",
        lambda _: f"change_reason: >-\n  {reason}\n",
        revised,
        count=1,
    )
    for old, new in edits.items():
        if old not in revised:
            raise ValueError(f"sops/{sop}.md no longer says {old!r}: update the demo's {CC}")
        revised = revised.replace(old, new, 1)
    return revised


# Each revision: its change reason and its text edits (old -> new).
_TEXT: dict[str, tuple[str, dict[str, str]]] = {
    "SOP-0005": (
        f"{CC}: the manufacturer's acceptance limit of -150 °C with its allowance for\n"
        "  excursions up to -135 °C lasting 10 minutes or less in total.",
        {
            "manufacturer's pharmacy manual; -150 °C unless stated otherwise.": (
                "manufacturer's pharmacy manual; -150 °C unless stated otherwise.\n"
                "- **Excursion allowance**: readings above the acceptance limit that the manual "
                "accepts; up to\n  -135 °C for 10 minutes or less in total unless stated "
                "otherwise."
            ),
            "temperature at or below the acceptance limit.": (
                "temperature at or below the acceptance limit, or above it only within the "
                "excursion\n   allowance as the logger's excursion summary shows."
            ),
            "   limit, or data are missing, the product is placed in quarantine: it is transferred "
            "to storage\n   under quarantine status (a cryopreserved product must not be left to "
            "warm in the shipper),": (
                "   limit beyond the excursion allowance, or data are missing, the product is placed "
                "in\n   quarantine: it is transferred to storage under quarantine status (a "
                "cryopreserved product\n   must not be left to warm in the shipper),"
            ),
        },
    ),
    "SOP-0006": (
        f"{CC}: the logger's excursion summary of each received product is filed with its\n"
        "  storage record.",
        {
            "- Daily and weekly check records; storage map.": (
                "- Daily and weekly check records; storage map.\n"
                "- The logger's excursion summary of each received product (SOP-0005), filed "
                "with its storage\n  record and storage position."
            ),
        },
    ),
}
