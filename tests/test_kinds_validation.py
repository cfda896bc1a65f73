"""The semantic checks of records follow the kind's declaration (issue 20, step 2): a kind
declared tomorrow (a cleaning record with a state machine, a work instruction of the document
family) is checked by the same code, with no change to it.

Each made-up kind is a copy of a shipped one with a declaration of its own that passes
kind.schema.json; its records are parsed from text, built by records/model.py and checked by
validation/record_checks.py against the shipped qms.yaml (people, areas, audiences, COI pattern).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from importlib import resources
from types import MappingProxyType
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from gitqms.records.config import QmsConfig
from gitqms.records.declaration import declared
from gitqms.records.document import Document, parse_document
from gitqms.records.kinds import BY_NAME, KINDS, Kind
from gitqms.records.lifecycles import Lifecycles, Machine, Requirement
from gitqms.records.model import Record, build_record
from gitqms.validation.findings import Finding
from gitqms.validation.record_checks import Context, link_findings, record_findings
from gitqms.validation.run import parse_config
from gitqms.validation.special import CHECKS
from toolkit.cli import ROOT

NOW = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)  # the day of every check here, never today's
IDS = {
    "DEV-2026-0001": "deviations/DEV-2026-0001.yaml",
    "SOP-0001": "sops/SOP-0001.md",
    "WI-0002": "work-instructions/WI-0002.md",  # the made-up work instruction checked below
}


def kind_schema() -> Draft202012Validator:
    text = resources.files("gitqms").joinpath("schemas", "kind.schema.json").read_text("utf-8")
    return Draft202012Validator(json.loads(text))


def made_up(base: str, declaration: dict[str, Any], special: str | None = None) -> Kind:
    """A kind copied from the shipped `base`, with `declaration` as its own (checked first)."""
    problems = [e.message for e in kind_schema().iter_errors(declaration)]
    assert problems == []
    return replace(
        BY_NAME[base],
        name=declaration["name"],
        label=declaration["label"],
        folder=declaration["folder"],
        prefix=declaration["id"]["prefix"],
        special=special,
        declared=declared(declaration),
    )


def record_kind(name: str, prefix: str, **parts: Any) -> dict[str, Any]:
    return {
        "name": name,
        "label": f"{name} record",
        "family": "record",
        "folder": f"{name}s",
        "file": "yaml",
        "id": {"prefix": prefix, "yearly": True},
        "schema": "capa.schema.json",
        **parts,
    }


CLEANING = made_up(
    "capa",
    record_kind(
        "cleaning",
        "CLN",
        fields={"owner": "owner", "opened": "opened"},
        people=["owner", "steps[].done_by"],
        references=["deviations"],
        coi=["batch.coi"],
        unique=[
            {
                "each": "steps",
                "key": "step",
                "code": "step-number",
                "label": "step number",
                "hint": "number each step once",
            }
        ],
        dates={
            "past": ["opened", "steps[].done_on"],
            "order": [
                {
                    "earlier": "opened",
                    "later": "steps[].done_on",
                    "what": "'{later}' is before the cleaning was opened",
                },
                {
                    "earlier": "steps[].started_on",
                    "later": "steps[].done_on",
                    "what": "a step done before it started",
                },
            ],
        },
        links=[
            {"field": "incidents", "to": ["incident"], "back": "cleanings", "both_ways": "warning"}
        ],
    ),
)

INCIDENT = made_up(
    "deviation",
    record_kind(
        "incident",
        "INC",
        links=[
            {"field": "cleanings", "to": ["cleaning"], "back": "incidents", "both_ways": "warning"}
        ],
    ),
)

# A kind that links to cleanings both ways, in a field no cleaning declares a link in.
AUDIT = made_up(
    "capa",
    record_kind(
        "inspection",
        "INS",
        links=[
            {"field": "cleanings", "to": ["cleaning"], "back": "audits", "both_ways": "warning"}
        ],
    ),
)

WORK_INSTRUCTION = made_up(
    "sop",
    {
        "name": "work-instruction",
        "label": "work instruction",
        "family": "document",
        "folder": "work-instructions",
        "file": "markdown",
        "id": {"prefix": "WI", "yearly": False},
        "schema": "sop.schema.json",
        "document": {"approval": ["reviewed", "approved"]},
        "people": ["owner"],
        "references": ["procedures"],
        "versions": ["supersedes"],
    },
)


@pytest.fixture(scope="module")
def config() -> QmsConfig:
    """The shipped qms.yaml."""
    parsed, findings = parse_config((ROOT / "qms.yaml").read_text(encoding="utf-8"))
    assert parsed is not None, findings
    return parsed


def record(kind: Kind, text: str) -> tuple[Record, Document]:
    markdown = kind.suffix == ".md"
    doc = parse_document(f"{kind.folder}/x{kind.suffix}", text, markdown=markdown)
    path = f"{kind.folder}/{doc.data['id']}{kind.suffix}"
    doc = replace(doc, path=path)
    return build_record(kind, path, doc.data, doc.body), doc


def check(kind: Kind, text: str, config: QmsConfig | None) -> list[tuple[str, str, int]]:
    built, doc = record(kind, text)
    found = record_findings(built, doc, Context(config, IDS, NOW))
    assert {f.record for f in found} <= {built.id}
    return [(f.code, f.message, f.line) for f in found]


CLEANING_TEXT = """\
id: CLN-2026-0001
title: Cleaning of isolator 2
state: cleaned
owner: m.okafor
opened: "2026-03-10"
batch:
  coi: COI-SAU-12
deviations: [DEV-2026-0099, CLN-2026-0001, DEV-2026-0001]
steps:
  - step: 1
    done_by: m.okafor
    started_on: "2026-03-10"
    done_on: "2026-03-10"
  - step: 1
    done_by: x.nobody
    started_on: "2026-03-12"
    done_on: "2026-03-09"
  - step: 2
    started_on: "2026-03-01"
    done_on: "2026-06-30"
"""


def test_a_made_up_record_kind_is_checked_by_its_declaration(config: QmsConfig) -> None:
    found = check(CLEANING, CLEANING_TEXT, config)
    pattern = config.coi_pattern.pattern
    assert sorted(found) == sorted(
        [
            (
                "ref.unknown-record",
                "'deviations[0]' names DEV-2026-0099, which is not a record of this repository",
                8,
            ),
            ("ref.self", "'deviations[1]' names the record itself", 8),
            (
                "ref.unknown-person",
                "'steps[1].done_by' names 'x.nobody', who is not a person in qms.yaml",
                15,
            ),
            (
                "dates.order",
                "'steps[1].done_on' is before the cleaning was opened: 'steps[1].done_on' "
                "2026-03-09 is earlier than 'opened' 2026-03-10",
                17,
            ),
            (
                "dates.order",
                "a step done before it started: 'steps[1].done_on' 2026-03-09 is earlier than "
                "'steps[1].started_on' 2026-03-12",
                17,
            ),
            ("dates.future", "'steps[2].done_on' is 2026-06-30, in the future", 20),
            ("cleaning.step-number", "the step number 1 is used twice (first as steps[0])", 14),
            (
                "coi.pattern",
                f"'batch.coi' does not match the chain-of-identity pattern of qms.yaml ({pattern})",
                7,
            ),
        ]
    )


def test_without_qms_yaml_only_what_needs_no_policy_is_checked() -> None:
    codes = sorted(code for code, _, _ in check(CLEANING, CLEANING_TEXT, None))
    assert codes == [
        "cleaning.step-number",
        "dates.future",
        "dates.order",
        "dates.order",
        "ref.self",
        "ref.unknown-record",
    ]


def test_fields_a_kind_does_not_declare_are_not_checked(config: QmsConfig) -> None:
    """The same text under a kind that declares nothing: no field is a reference, a person,
    a COI, a key or a date to it (the names of fields mean nothing by themselves)."""
    bare = replace(CLEANING, declared=declared({}))
    text = CLEANING_TEXT.replace("deviations:", "capa:").replace("done_by:", "owner:")
    assert check(bare, text, config) == []


WI_TEXT = """\
---
id: WI-0002
title: Thawing a cryobag in the water bath
version: 2
owner: z.unknown
area: moon-base
effective_date: "2026-03-01"
review_period_months: 24
supersedes: WI-0002 v3
change_reason: clearer steps
training:
  audience: [pharmacists, astronauts]
procedures: [SOP-0001, WI-0002, SOP-0999]
related_sops: [WI-0002]
---
# Steps
"""


def test_a_made_up_document_kind_is_checked_like_every_document(config: QmsConfig) -> None:
    found = check(WORK_INSTRUCTION, WI_TEXT, config)
    assert sorted(found) == sorted(
        [
            ("ref.unknown-person", "'owner' names 'z.unknown', who is not a person in qms.yaml", 5),
            ("ref.unknown-area", "the area 'moon-base' is not listed in qms.yaml", 6),
            ("sop.supersedes", "version 2 cannot supersede version 3 of itself", 9),
            (
                "ref.unknown-audience",
                "the training audience 'astronauts' is not listed in qms.yaml",
                12,
            ),
            ("ref.self", "'procedures[1]' names the record itself", 13),
            (
                "ref.unknown-record",
                "'procedures[2]' names SOP-0999, which is not a record of this repository",
                13,
            ),
        ]
    )


def test_a_version_field_may_name_the_record_itself(config: QmsConfig) -> None:
    """`supersedes: WI-0002 v1` names the record itself, as every revision does: no finding."""
    text = (
        WI_TEXT.replace("v3", "v1")
        .replace("z.unknown", "l.santos")
        .replace("moon-base", "pharmacy")
    )
    text = text.replace(", astronauts", "").replace(", WI-0002, SOP-0999", "")
    assert check(WORK_INSTRUCTION, text, config) == []


def machine_for(config: QmsConfig, name: str, requires: dict[str, tuple[str, ...]]) -> QmsConfig:
    """qms.yaml's policy with a state machine for the kind `name`."""
    machine = Machine(
        kind=name,
        initial="opened",
        closed=frozenset({"released"}),
        transitions=(),
        requires=MappingProxyType(
            {state: tuple(map(Requirement, texts)) for state, texts in requires.items()}
        ),
    )
    lifecycles = Lifecycles(
        documents=config.lifecycles.documents,
        machines=MappingProxyType({**config.lifecycles.machines, name: machine}),
    )
    return replace(config, lifecycles=lifecycles)


def test_the_state_a_made_up_machine_requires(config: QmsConfig) -> None:
    text = "id: CLN-2026-0003\ntitle: Cleaning\nstate: cleaned\nowner: m.okafor\n"
    assert check(CLEANING, text, config) == []  # no machine for the kind: nothing required
    policy = machine_for(config, "cleaning", {"cleaned": ("released_by",)})
    assert check(CLEANING, text, policy) == [
        (
            "lifecycle.requires",
            "a cleaning record in state 'cleaned' needs 'released_by' (lifecycles in qms.yaml)",
            1,  # a missing field: the top of the file
        )
    ]
    assert check(CLEANING, text + "released_by: m.okafor\n", policy) == []


def linked(*texts: tuple[Kind, str]) -> list[Finding]:
    built = [record(kind, text) for kind, text in texts]
    return link_findings({r.id: r for r, _ in built}, {r.id: d for r, d in built})


def test_links_declared_both_ways_between_made_up_kinds() -> None:
    cleaning = "id: CLN-2026-0001\ntitle: C\nstate: s\nincidents: [INC-2026-0001, INC-2026-0002]\n"
    silent = "id: INC-2026-0001\ntitle: I\nstate: s\ncleanings: []\n"
    answering = "id: INC-2026-0002\ntitle: I\nstate: s\ncleanings: [CLN-2026-0001]\n"
    found = linked((CLEANING, cleaning), (INCIDENT, silent), (INCIDENT, answering))
    assert [(f.path, f.line, f.severity, f.code, f.message, f.fix, f.record) for f in found] == [
        (
            "cleanings/CLN-2026-0001.yaml",
            4,
            "warning",
            "ref.one-way",
            "CLN-2026-0001 names INC-2026-0001, but INC-2026-0001 does not name CLN-2026-0001",
            "add CLN-2026-0001 to 'cleanings' of INC-2026-0001, or remove the link here",
            "CLN-2026-0001",
        )
    ]


def test_a_link_counts_both_ways_only_when_both_kinds_declare_it() -> None:
    """An inspection links to a cleaning with `back: audits`, but the cleaning kind declares no
    link in `audits`; a cleaning naming a record of a kind outside `to` is not a link either."""
    inspection = "id: INS-2026-0001\ntitle: I\nstate: s\ncleanings: [CLN-2026-0001]\n"
    cleaning = "id: CLN-2026-0001\ntitle: C\nstate: s\nincidents: [INS-2026-0001]\n"
    assert linked((AUDIT, inspection), (CLEANING, cleaning)) == []


def deviation_like(special: str | None) -> Kind:
    return made_up("deviation", record_kind("incident", "INC"), special=special)


INCIDENT_TEXT = """\
id: INC-2026-0001
title: Late report
state: reported
discovered_at: "2026-03-01T08:00:00Z"
reported_at: "2026-03-03T08:00:00Z"
investigation:
  due: "2026-05-30"
"""


def test_special_checks_follow_the_special_name_not_the_kind_name(config: QmsConfig) -> None:
    assert check(deviation_like(None), INCIDENT_TEXT, config) == []
    found = check(deviation_like("deviation"), INCIDENT_TEXT, config)
    days = config.due.investigation_days
    assert sorted(code for code, _, _ in found) == [
        "deviation.investigation-due",
        "deviation.late-report",
    ]
    assert (
        "deviation.late-report",
        f"reported 48 h after discovery; the policy asks for {config.due.report_hours} h",
        5,
    ) in found
    assert any(f"{days} days after discovery" in message for _, message, _ in found)


def test_every_special_check_is_a_declared_special_name() -> None:
    text = resources.files("gitqms").joinpath("schemas", "kind.schema.json").read_text("utf-8")
    names = set(json.loads(text)["properties"]["special"]["enum"])
    assert set(CHECKS) <= names
    assert set(CHECKS) <= {kind.special for kind in KINDS}
