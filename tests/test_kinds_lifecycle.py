"""Status, due items, approval policy, the site's records and the dashboards' figures ask a
record's kind, never its ID prefix (issue 20, step 2): what is due comes from a kind's `due:`
declaration, a document is judged by the approval policy of its own kind, and only what is
truly one kind's (a deviation's investigation and OOS notification, an audit-trail review's
signed state) stays in code, keyed by the kind's `special` name.

The CAPA's and the deviation's items are checked against what `capa_due` and `deviation_due`
gave before they became declarations (the expectations are written out here). Made-up kinds
are copies of shipped ones with their own name, prefix and declaration, made known to
`kind_of_id` for a test (as a repository's declarations will make them known); the code under
test is the package's, unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from importlib import resources
from types import MappingProxyType
from typing import Any

import pytest

from gitqms.lifecycle import special
from gitqms.lifecycle.due import Due, declared_due
from gitqms.lifecycle.signed import Signature, SignedContent
from gitqms.lifecycle.special import DueContext, due_items
from gitqms.lifecycle.status import RecordStatus, record_statuses
from gitqms.records import kinds
from gitqms.records.config import DuePolicy, QmsConfig
from gitqms.records.kinds import BY_NAME, KINDS, REVIEW_MEANING, Kind, declare
from gitqms.records.lifecycles import EXTENSION_MEANING, DocumentPolicy, Lifecycles
from gitqms.reports import special as report_special
from gitqms.reports.entries import RecordEntry
from gitqms.reports.metrics import KindFigures, Metrics, metrics
from gitqms.reports.publication import record_id_pattern, record_links
from gitqms.signatures.claims import content_hash
from gitqms.validation.run import parse_config
from toolkit.cli import ROOT

CAPA, DEVIATION = BY_NAME["capa"], BY_NAME["deviation"]
CLOSED = frozenset({"closed", "cancelled"})
ON = date(2026, 6, 1)


# A cleaning record: the CAPA's state machine under its own name, and its own fields and items.
CLEANING = declare(
    {
        "name": "cleaning",
        "label": "cleaning record",
        "family": "record",
        "folder": "cleaning",
        "file": "yaml",
        "id": {"prefix": "CLN", "yearly": True},
        "schema": "capa.schema.json",
        "fields": {"owner": "owner", "opened": "started", "closed": "closed"},
        "references": ["sops"],
        "due": [
            {"what": "closure", "date": "due_by", "owner": "owner"},
            {
                "what": "clean {room}",
                "each": "rooms",
                "date": "due",
                "owner": "cleaner",
                "while": {"status": ["planned", "started"]},
                "done": "cleaned_on",
                "detail": "room {room} of {/area}, agent {agent}",
            },
            {"what": "verification", "date": "verify_by", "owner": "/owner"},
            {
                "what": "microbiology of {/area}",
                "date": "micro.due",
                "owner": "micro.by",
                "done": "micro.result",
                "until": ["cancelled"],
            },
        ],
        "links": [{"field": "deviation", "to": ["deviation"]}],
    }
)
# A document kind of its own: a work instruction, approved by its own policy.
WORK_INSTRUCTION = replace(
    BY_NAME["sop"],
    name="work-instruction",
    prefix="WI",
    folder="work-instructions",
    label="work instruction",
)
# A record closed when written, as an audit-trail review is: special code, by its name.
INSPECTION = replace(
    BY_NAME["audit-review"], name="inspection", prefix="INS", folder="inspections", label="x"
)
# A record kind with neither a state machine nor special code: its state as written.
LOGBOOK = declare(
    {
        "name": "logbook",
        "label": "logbook",
        "family": "record",
        "folder": "logbooks",
        "file": "yaml",
        "id": {"prefix": "LOG", "yearly": True},
        "schema": "audit-review.schema.json",
        "due": [{"what": "archive", "date": "archive_by", "done": "archived_on"}],
    }
)
MADE_UP = (CLEANING, WORK_INSTRUCTION, INSPECTION, LOGBOOK)


@pytest.fixture
def declared_kinds(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The made-up kinds, known to `kind_of_id` and `record_id_from_path` for one test."""
    kinds.use_kinds(kinds.PACKAGE.with_declared(MADE_UP))
    yield
    kinds.use_kinds(kinds.PACKAGE)


def config_with(**documents: DocumentPolicy) -> QmsConfig:
    """The shipped qms.yaml, with the cleaning record's lifecycle (the CAPA's, under its own
    name) and the approval policies of `documents`."""
    config, findings = parse_config((ROOT / "qms.yaml").read_text(encoding="utf-8"))
    assert config is not None, findings
    machines = dict(config.lifecycles.machines)
    machines["cleaning"] = replace(machines["capa"], kind="cleaning")
    lifecycles = Lifecycles(
        documents=MappingProxyType({**config.lifecycles.documents, **documents}),
        machines=MappingProxyType(machines),
    )
    return replace(config, lifecycles=lifecycles)


def items(kind: Kind, data: dict[str, Any], on: date = ON, **context: Any) -> list[Due]:
    """What `qms status` lists as due on a record of `kind` with a state machine."""
    state = data.get("state", "?")
    found = declared_due(kind, "R-1", data, state, CLOSED, on)
    facts = {"policy": DuePolicy(), "signed": {}, **context}
    return due_items(
        kind,
        DueContext(record="R-1", data=data, state=state, closed=state in CLOSED, on=on, **facts),
        found,
    )


def rows(found: list[Due]) -> list[tuple[str, str, bool, str | None, str | None]]:
    return [(d.what, d.due.isoformat(), d.overdue, d.owner, d.detail) for d in found]


def signature(record: str, meaning: str, content: str, person: str, day: str) -> Signature:
    return Signature(
        record=record,
        meaning=meaning,
        version=None,
        content=content,
        person=person,
        name=person,
        role=None,
        when=datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC),
        commit="c0ffee" + person,
        reason=None,
    )


def signed(data: Mapping[str, Any], *signatures: Signature) -> SignedContent:
    assert signatures
    return SignedContent(
        signatures[0].content, signatures[0].commit, list(signatures), read=lambda: dict(data)
    )


# --- the shipped kinds: as before ---------------------------------------------------------------


CAPA_DATA: dict[str, Any] = {
    "state": "implementation",
    "owner": "l.santos",
    "due": "2026-07-31",
    "actions": [
        {"id": "A1", "status": "open", "due": "2026-05-15", "owner": "r.dubois"},
        {"id": "A2", "status": "in-progress", "due": "2026-06-30", "owner": "m.okafor"},
        {"id": "A3", "status": "done", "due": "2026-04-01", "owner": "r.dubois"},
        {"status": "open", "due": "2026-06-15", "owner": "l.santos"},
        {"id": "A5", "status": "open", "owner": "l.santos"},  # no date: nothing to list
        "not an action",
    ],
    "effectiveness": {"due": "2026-09-30"},
}


def test_a_capas_items_are_its_closure_open_actions_and_effectiveness_check() -> None:
    assert rows(items(CAPA, CAPA_DATA)) == [
        ("closure", "2026-07-31", False, "l.santos", None),
        ("action A1", "2026-05-15", True, "r.dubois", None),
        ("action A2", "2026-06-30", False, "m.okafor", None),
        ("action ?", "2026-06-15", False, "l.santos", None),
        ("effectiveness check", "2026-09-30", False, "l.santos", None),
    ]
    checked = {**CAPA_DATA, "effectiveness": {"due": "2026-09-30", "verdict": "effective"}}
    assert [d.what for d in items(CAPA, checked)][-1] == "action ?"
    # Due on a day, not before: overdue from the next day.
    assert [d.overdue for d in items(CAPA, CAPA_DATA, date(2026, 7, 31))][:1] == [False]
    assert [d.overdue for d in items(CAPA, CAPA_DATA, date(2026, 8, 1))][:1] == [True]
    for state in ("closed", "cancelled"):
        assert items(CAPA, {**CAPA_DATA, "state": state}) == []


DEVIATION_DATA: dict[str, Any] = {
    "state": "investigation",
    "owner": "p.rossi",
    "discovered_at": "2026-04-20T14:05:00+01:00",
    "external_reporting": [
        {"to": "sponsor", "deadline": "2026-04-22T14:05:00+01:00"},
        {"to": "authority", "deadline": "2026-05-05", "done_at": "2026-05-01T09:00:00Z"},
        {"deadline": "2026-06-10"},
    ],
    "oos": {
        "administered": True,
        "physician_accepted_at": "2026-04-27T11:20:00+01:00",
    },
}


def test_a_deviations_items_keep_their_order_and_details() -> None:
    assert rows(items(DEVIATION, DEVIATION_DATA)) == [
        ("investigation", "2026-05-20", True, "p.rossi", "30 days after discovery"),
        ("report to sponsor", "2026-04-22", True, "p.rossi", "deadline 2026-04-22T14:05:00+01:00"),
        ("report to ?", "2026-06-10", False, "p.rossi", "deadline 2026-06-10"),
        (
            "sponsor notification (OOS)",
            "2026-04-29",
            True,
            "p.rossi",
            "48 h after the physician's acceptance: 2026-04-29T11:20:00+01:00",
        ),
    ]
    # Closed: the investigation is done, the external reports and the notification are not.
    closed = [d.what for d in items(DEVIATION, {**DEVIATION_DATA, "state": "closed"})]
    assert closed == ["report to sponsor", "report to ?", "sponsor notification (OOS)"]
    # Decided: no investigation due, though not closed.
    decided = [d.what for d in items(DEVIATION, {**DEVIATION_DATA, "state": "capa-decided"})]
    assert decided == closed
    assert items(DEVIATION, {**DEVIATION_DATA, "state": "cancelled"}) == []
    policy = DuePolicy(investigation_days=10, oos_notification_hours=24)
    [first, *_, last] = items(DEVIATION, DEVIATION_DATA, policy=policy)
    assert (first.due, first.detail) == (date(2026, 4, 30), "10 days after discovery")
    assert last.due == date(2026, 4, 28)
    notified = {**DEVIATION_DATA["oos"], "sponsor_notified_at": "2026-04-28T10:00:00Z"}
    assert items(DEVIATION, {**DEVIATION_DATA, "oos": notified})[-1].what == "report to ?"


def test_a_deviations_investigation_moves_only_with_a_signed_extension() -> None:
    extension = {"due": "2026-06-30", "approved_by": "m.okafor", "reason": "waiting for the MAH"}
    data = {**DEVIATION_DATA, "investigation": {"due": "2026-05-25", "extension": extension}}
    [unsigned] = [d for d in items(DEVIATION, data) if d.what == "investigation"]
    assert unsigned.due == date(2026, 5, 25)
    assert unsigned.detail is not None and "not signed by QA ('extended')" in unsigned.detail
    by_approver = signature(
        "DEV-2026-0001", EXTENSION_MEANING, "sha256:e", "m.okafor", "2026-05-20"
    )
    on_content = {"sha256:e": signed(data, by_approver)}
    [moved] = [d for d in items(DEVIATION, data, signed=on_content) if d.what == "investigation"]
    assert (moved.due, moved.overdue, moved.detail) == (
        date(2026, 6, 30),
        False,
        "extended, signed by QA",
    )
    # Not on a day before it was signed; not when someone else signed it.
    early = items(DEVIATION, data, date(2026, 5, 19), signed=on_content)
    assert early[0].due == date(2026, 5, 25)
    other = signature("DEV-2026-0001", EXTENSION_MEANING, "sha256:e", "a.weber", "2026-05-20")
    assert items(DEVIATION, data, signed={"sha256:e": signed(data, other)})[0].due == date(
        2026, 5, 25
    )


# --- a kind declared tomorrow --------------------------------------------------------------------


CLEANING_DATA: dict[str, Any] = {
    "state": "implementation",
    "owner": "l.santos",
    "area": "cleanroom B",
    "started": "2026-03-02",
    "due_by": "2026-06-30",
    "verify_by": "2026-05-31",
    "rooms": [
        {"room": "B1", "agent": "H2O2", "status": "planned", "due": "2026-05-20", "cleaner": "r.d"},
        {"room": "B2", "status": "started", "due": "2026-06-20", "cleaner": 7},
        {"room": "B3", "status": "done", "due": "2026-05-01", "cleaner": "r.d"},
        {"room": "B4", "status": "planned", "due": "2026-05-01", "cleaned_on": "2026-04-30"},
    ],
    "micro": {"due": "2026-07-15", "by": "m.okafor"},
}


def test_a_declared_kinds_items_come_from_its_declaration_alone() -> None:
    assert rows(items(CLEANING, CLEANING_DATA)) == [
        ("closure", "2026-06-30", False, "l.santos", None),
        ("clean B1", "2026-05-20", True, "r.d", "room B1 of cleanroom B, agent H2O2"),
        ("clean B2", "2026-06-20", False, None, "room B2 of cleanroom B, agent ?"),
        ("verification", "2026-05-31", True, "l.santos", None),
        ("microbiology of cleanroom B", "2026-07-15", False, "m.okafor", None),
    ]
    # `until: [cancelled]`: still due once closed, not once cancelled; done once it has a value.
    closed = items(CLEANING, {**CLEANING_DATA, "state": "closed"})
    assert [d.what for d in closed] == ["microbiology of cleanroom B"]
    assert items(CLEANING, {**CLEANING_DATA, "state": "cancelled"}) == []
    done = {**CLEANING_DATA, "state": "closed", "micro": {"due": "2026-07-15", "result": "pass"}}
    assert items(CLEANING, done) == []
    # A CAPA's or deviation's code is not asked: nothing special is added.
    assert items(CLEANING, {**CLEANING_DATA, "oos": DEVIATION_DATA["oos"]}) == items(
        CLEANING, CLEANING_DATA
    )


@pytest.mark.usefixtures("declared_kinds")
def test_status_takes_each_record_by_its_family_and_its_own_policy() -> None:
    """A work instruction approved under its own policy, a cleaning record by its own machine,
    an inspection by the audit-trail review's special code, a logbook as written."""
    config = config_with(**{"work-instruction": DocumentPolicy(approval=("approved",))})
    front = (
        "---\nid: {id}\ntitle: Thawing\nversion: 1\nowner: l.santos\n"
        "effective_date: '2026-03-01'\nreview_period_months: 12\n---\n# Thawing\n"
    )
    wi, sop = (front.format(id=i).encode() for i in ("WI-0001", "SOP-0001"))
    cleaning = b"id: CLN-2026-0001\ntitle: Cleanroom B\nstate: action-plan\nowner: l.santos\n"
    cleaning += b"due_by: '2026-02-01'\n"
    inspection = b"id: INS-2026-0001\ntitle: Inspection\n"
    logbook = b"id: LOG-2026-0001\ntitle: Log\nstate: open\narchive_by: '2026-05-01'\n"
    contents = {
        "WI-0001": wi,
        "SOP-0001": sop,
        "CLN-2026-0001": cleaning,
        "INS-2026-0001": inspection,
        "LOG-2026-0001": logbook,
    }
    parsed = {
        "version": 1,
        "owner": "l.santos",
        "effective_date": "2026-03-01",
        "review_period_months": 12,
    }
    approvals = {
        record: {
            content_hash(contents[record]): signed(
                parsed,
                signature(
                    record, "approved", content_hash(contents[record]), "a.weber", "2026-02-02"
                ),
            )
        }
        for record in ("WI-0001", "SOP-0001")
    }
    review = signature(
        "INS-2026-0001", REVIEW_MEANING, content_hash(inspection), "m.okafor", "2026-04-01"
    )
    approvals["INS-2026-0001"] = {content_hash(inspection): signed({}, review)}
    statuses = record_statuses(contents, approvals, config, date(2026, 4, 1), lambda _: 14)

    def seen(record: str) -> tuple[str, str, str | None, list[str]]:
        found: RecordStatus = statuses[record]
        return found.kind, found.state, found.version, [d.what for d in found.due]

    assert seen("WI-0001") == ("work-instruction", "effective", "1", ["periodic review"])
    assert statuses["WI-0001"].next_review == date(2027, 3, 1)
    assert statuses["WI-0001"].due[0].owner == "l.santos"
    # The same signature does not approve an SOP: its policy also needs 'reviewed'.
    assert seen("SOP-0001") == ("sop", "in review", "1", [])
    assert seen("CLN-2026-0001") == ("cleaning", "action-plan", None, ["closure"])
    assert statuses["CLN-2026-0001"].notes == (
        "the state 'action-plan' was not reached by a signed transition",
    )
    assert statuses["CLN-2026-0001"].due[0].overdue
    assert seen("INS-2026-0001") == ("inspection", "signed", None, [])
    assert seen("LOG-2026-0001") == ("logbook", "open", None, ["archive"])
    unsigned = record_statuses(contents, {}, config, date(2026, 4, 1), lambda _: 14)
    assert unsigned["INS-2026-0001"].state == "unsigned"
    assert unsigned["INS-2026-0001"].notes == (
        f"no valid '{REVIEW_MEANING}' signature covers this content",
    )
    assert unsigned["WI-0001"].state == "draft"


def test_every_special_hook_is_a_declared_special_name() -> None:
    """The hook tables are keyed by the `special` names the declaration schema allows, and every
    shipped record kind without a state machine has its state in code."""
    text = resources.files("gitqms").joinpath("schemas", "kind.schema.json").read_text("utf-8")
    allowed = set(json.loads(text)["properties"]["special"]["enum"])
    for table in (special.DUE, special.DEADLINES, special.STATES, report_special.FIGURES):
        assert set(table) <= allowed
    config = config_with()
    for kind in KINDS:
        if not kind.is_document and kind.name not in config.lifecycles.machines:
            assert kind.special in special.STATES, kind.name


# --- the site's records and the dashboards ------------------------------------------------------


def entry(kind: Kind, number: int, state: str, **fields: Any) -> RecordEntry:
    return RecordEntry(
        id=kind.format_id(number, 2026),
        kind=kind.name,
        title="",
        state=state,
        signed_state=None,
        fields=fields,
        due=(),
        links=(),
        trail=(),
        notes=(),
    )


def test_a_declared_kind_has_its_own_dashboard_figures() -> None:
    config = config_with()
    records = [
        entry(CLEANING, 1, "initiated", started="2026-05-20"),
        entry(CLEANING, 2, "action-plan", started="2026-01-05"),
        entry(CLEANING, 3, "initiated", started="2025-10-01", opened="2026-05-30"),
        entry(CLEANING, 4, "closed", closed="2026-04-01", due_by="2026-04-30"),
        entry(CLEANING, 5, "closed", closed="2026-05-02", due_by="2026-04-30"),
        entry(CLEANING, 6, "closed", closed="2026-05-02"),
        entry(CLEANING, 7, "cancelled", closed="2026-03-01", due_by="2026-04-30"),
        entry(CAPA, 1, "root-cause", opened="2026-05-01"),
    ]
    figures = metrics(records, config, ON, (*KINDS, CLEANING))
    assert [f.kind for f in figures.kinds] == [
        "capa",
        "deviation",
        "change-control",
        "training-session",
        "cleaning",
    ]
    cleaning = figures.of("cleaning")
    assert cleaning is not None and cleaning.label == "cleaning record"
    assert cleaning.by_state == (("initiated", 2), ("action-plan", 1))
    # Its age from its own `opened` field ('started'), not from a CAPA's 'opened'.
    assert dict(cleaning.by_age) == {
        "0–30 days": 1,
        "31–90 days": 0,
        "91–180 days": 1,
        "over 180 days": 1,
    }
    # On time: closed by the date of the item that closing completes ('closure': due_by).
    assert (cleaning.on_time.closed, cleaning.on_time.on_time) == (3, 1)
    # The dashboard's names still read the CAPA's figures, and only the CAPA's.
    assert capa(figures).by_state == (("root-cause", 1),)
    assert capa(figures).on_time.closed == 0
    # Without the kind in the set, its records count for no kind.
    assert [f.kind for f in metrics(records, config, ON).kinds] == [
        "capa",
        "deviation",
        "change-control",
        "training-session",
    ]


def test_a_deviations_on_time_rate_uses_its_investigation_date() -> None:
    config = config_with()
    extended = {"due": "2026-04-01", "extension": {"due": "2026-05-15"}}
    records = [
        entry(DEVIATION, 1, "closed", closed="2026-05-10T10:00:00Z", investigation=extended),
        entry(DEVIATION, 2, "closed", closed="2026-05-10", investigation={"due": "2026-05-01"}),
        entry(DEVIATION, 3, "closed", closed="2026-05-10", due="2026-06-01"),
    ]
    figures = metrics(records, config, ON)
    assert (deviation(figures).on_time.closed, deviation(figures).on_time.on_time) == (3, 1)


def test_links_are_its_declared_fields_and_the_ids_its_text_names() -> None:
    pattern = record_id_pattern((*KINDS, CLEANING))
    assert pattern.findall("CLN-2026-0001, ATR-2026-0002, SOP-0003 and XSOP-0004") == [
        "CLN-2026-0001",
        "ATR-2026-0002",
        "SOP-0003",
    ]
    fields = {
        "id": "CLN-2026-0002",
        "deviation": ["DEV-2026-0001"],
        "sops": ["SOP-0003"],
        "description": "After CLN-2026-0001 (see CLN-2026-0002), as CAPA-2026-0004 asked.",
    }
    assert record_links(CLEANING, fields, "CLN-2026-0002", pattern) == (
        "CAPA-2026-0004",
        "CLN-2026-0001",
        "DEV-2026-0001",
        "SOP-0003",
    )
    # IDs of a kind not in the set are not links.
    assert "CLN-2026-0001" not in record_links(CLEANING, fields, "CLN-2026-0002")


def capa(figures: Metrics) -> KindFigures:
    found = figures.of("capa")
    assert found is not None
    return found


def deviation(figures: Metrics) -> KindFigures:
    found = figures.of("deviation")
    assert found is not None
    return found
