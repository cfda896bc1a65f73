"""Signatures, the gate's rules, the audit trail and the actions ask a record's kind, never its
ID prefix (issue 20, step 2): a kind declared tomorrow (a cleaning record with a state machine,
a work instruction of the document family, a form kept as YAML) is handled by the same code.

Each made-up kind is a copy of a shipped one with its own name, prefix and declaration, made
known to `kind_of_id` for the test (as a repository's declarations will make it known); the
code under test is the package's, unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from types import MappingProxyType, SimpleNamespace
from typing import Any, cast

import pytest

from gitqms import git
from gitqms.actions.sign import subject_for
from gitqms.audit import anomalies
from gitqms.audit.record_log import summary_key
from gitqms.audit.special import CLOSED_WHEN_WRITTEN
from gitqms.audit.verification import verification_lines
from gitqms.importing.plan import _PlanState
from gitqms.records import kinds
from gitqms.records.config import QmsConfig
from gitqms.records.kinds import BY_NAME, KINDS, Kind, declare
from gitqms.records.lifecycles import DEFAULTS, DocumentPolicy, Lifecycles
from gitqms.rules import gate
from gitqms.rules.record_rules import state_rules
from gitqms.rules.special import CONTENT_RULES
from gitqms.signatures.claims import (
    Claim,
    front_matter,
    is_document,
    record_data,
    stated_version,
)
from gitqms.signatures.verdict import Verdict
from gitqms.validation.run import parse_config
from toolkit.cli import ROOT
from toolkit.team import Team
from toolkit.world import refused

WHEN = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)


CLEANING = declare(
    {
        "name": "cleaning",
        "label": "cleaning record",
        "family": "record",
        "folder": "cleaning",
        "file": "yaml",
        "id": {"prefix": "CLN", "yearly": True},
        "schema": "capa.schema.json",
        "fields": {"owner": "owner", "opened": "opened", "closed": "closed"},
        "links": [
            {"field": "source.references", "to": ["deviation"], "back": "capa"},
            {"field": "related_sops", "to": ["sop", "work-instruction"]},
        ],
    }
)
WORK_INSTRUCTION = declare(
    {
        "name": "work-instruction",
        "label": "work instruction",
        "family": "document",
        "folder": "work-instructions",
        "file": "markdown",
        "id": {"prefix": "WI", "yearly": False},
        "schema": "sop.schema.json",
        "document": {"approval": ["reviewed", "approved"]},
    }
)
# A document kept as a YAML file: its family and its file form are two questions.
FORM = replace(WORK_INSTRUCTION, name="form", prefix="FRM", folder="forms", suffix=".yaml")
# A record closed when written, as an audit-trail review is: special code, by its name.
INSPECTION = replace(
    BY_NAME["audit-review"], name="inspection", prefix="INS", folder="inspections", label="x"
)
MADE_UP = (CLEANING, WORK_INSTRUCTION, FORM, INSPECTION)


@pytest.fixture
def declared_kinds(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The made-up kinds, known to `kind_of_id` and `record_id_from_path` for one test."""
    kinds.use_kinds(kinds.PACKAGE.with_declared(MADE_UP))
    yield
    kinds.use_kinds(kinds.PACKAGE)


def config_with(**documents: DocumentPolicy) -> QmsConfig:
    """The shipped qms.yaml, with the cleaning record's lifecycle and signature policy (the
    CAPA's, under its own name) and the policies of `documents`."""
    config, findings = parse_config((ROOT / "qms.yaml").read_text(encoding="utf-8"))
    assert config is not None, findings
    machines = dict(config.lifecycles.machines)
    machines["cleaning"] = replace(machines["capa"], kind="cleaning")
    lifecycles = Lifecycles(
        documents=MappingProxyType({**config.lifecycles.documents, **documents}),
        machines=MappingProxyType(machines),
    )
    signatures = {**config.signatures, "cleaning": config.signatures["capa"]}
    return replace(config, lifecycles=lifecycles, signatures=MappingProxyType(signatures))


def verdict(record: str, meaning: str, version: str | None) -> Verdict:
    return Verdict(
        commit="c0ffee",
        when=WHEN,
        record=record,
        version=version,
        meaning=meaning,
        reason=None,
        signer="Michael Okafor",
        email="m.okafor@example.org",
        person="m.okafor",
        role="qa-officer",
        fingerprint=None,
    )


@pytest.mark.usefixtures("declared_kinds")
def test_file_form_and_family_come_from_the_kind() -> None:
    assert [is_document(r) for r in ("WI-0001", "FRM-0001", "CLN-2026-0001")] == [1, 1, 0]
    assert [front_matter(r) for r in ("WI-0001", "FRM-0001", "CLN-2026-0001")] == [1, 0, 0]
    # Not a record ID: neither (qms.yaml's claims, a trailer naming nonsense).
    assert not is_document("qms.yaml") and not front_matter("WI-1")
    markdown = b"---\nid: WI-0001\nversion: 2\n---\n# Thawing\n\nSteps.\n"
    assert record_data(markdown, "WI-0001") == {
        "id": "WI-0001",
        "version": 2,
        "(body)": "# Thawing\n\nSteps.\n",
    }
    assert stated_version(markdown, "WI-0001") == "2"
    # The same bytes as a YAML file are not a record (two documents); the caches keep apart.
    assert record_data(markdown, "FRM-0001") is None
    assert stated_version(b"id: FRM-0001\nversion: 4\n", "FRM-0001") == "4"
    assert stated_version(b"id: CLN-2026-0001\nstate: initiated\n", "CLN-2026-0001") == "initiated"


@pytest.mark.usefixtures("declared_kinds")
def test_people_see_a_documents_version_and_a_records_state() -> None:
    claims = [
        Claim("WI-0001", "2", "sha256:x", "approved"),
        Claim("FRM-0003", "1", "sha256:y", "approved"),
        Claim("CLN-2026-0001", "initiated", "sha256:z", "approved"),
    ]
    assert subject_for("approved", claims) == "Approved: WI-0001 v2, FRM-0003 v1, CLN-2026-0001"
    signature = {
        "commit": "c0ffee" * 7,
        "date": WHEN.isoformat(),
        "meaning": "approved",
        "signer": "Michael Okafor",
        "status": "valid",
        "problems": [],
        "superseded": None,
    }
    value = {
        "signatures": [{**signature, "record": c.record, "version": c.version} for c in claims],
        "notes": [],
        "commits": 1,
        "failures": 0,
        "trust_root": None,
    }
    texts = [line.text for line in verification_lines(value)]
    assert [t.split(" approved ")[0].split("Z ")[1] for t in texts[:3]] == [
        "WI-0001 v2",
        "FRM-0003 v1",
        "CLN-2026-0001 [initiated]",
    ]
    # Change summaries compare a Markdown file's body by lines: keyed by the file form.
    change = git.Change("p", "a" * 40, "b" * 40, "M", git.REGULAR_FILE, git.REGULAR_FILE)
    assert [summary_key(r, change)[-1] for r in ("WI-0001", "FRM-0003", "CLN-2026-0001")] == [
        "s",
        "r",
        "r",
    ]


@pytest.mark.usefixtures("declared_kinds")
def test_a_declared_record_kind_moves_only_along_its_own_lifecycle() -> None:
    config = config_with()
    record = "CLN-2026-0001"
    roles = ", ".join(sorted(config.signatures["cleaning"]["approved"].roles))

    def rules(old: dict[str, Any] | None, new: dict[str, Any], *signed: Verdict) -> list[Any]:
        return [(b.rule, b.message, b.fix) for b in state_rules(record, old, new, config, signed)]

    assert rules(None, {"state": "initiated"}) == []
    [(rule, message, _)] = rules(None, {"state": "closed"})
    assert rule == "state.initial"
    assert "a new cleaning record starts as 'initiated'" in message
    plan, implementation = {"state": "action-plan"}, {"state": "implementation"}
    [(rule, message, fix)] = rules(plan, implementation)
    assert rule == "state.signature" and "'approved'" in message and roles in fix
    approved = verdict(record, "approved", "implementation")
    assert rules(plan, implementation, approved) == []
    [(rule, _, fix)] = rules({"state": "initiated"}, {"state": "closed"})
    assert rule == "state.transition"
    assert fix.startswith("from 'initiated' a cleaning record may move to: root-cause")
    [(rule, _, _)] = rules({"state": "closed", "title": "a"}, {"state": "closed", "title": "b"})
    assert rule == "record.closed"
    # A record kind without a state machine has no state rules of its own.
    no_machine = replace(config, lifecycles=replace(config.lifecycles, machines={}))
    assert [*state_rules(record, None, {"state": "closed"}, no_machine, ())] == []


@pytest.mark.usefixtures("declared_kinds")
def test_each_document_kind_releases_a_version_under_its_own_policy() -> None:
    config = config_with(**{"work-instruction": DocumentPolicy(("approved",), release="released")})
    assert gate._release(config, "WI-0001") == "released"
    assert gate._release(config, "SOP-0001") == "approved"
    assert gate._release(None, "WI-0001") == "approved"  # before any trusted qms.yaml
    assert gate._release(config, "CLN-2026-0001") is None
    assert gate._release(config, "qms.yaml") is None


@pytest.mark.usefixtures("declared_kinds")
def test_a_record_closed_when_written_is_special_by_name_not_by_prefix() -> None:
    assert anomalies._written_once("CLN-2026-0001") is None
    assert anomalies._written_once("SOP-0001") is None
    said = anomalies._written_once("INS-2026-0001")
    assert said is not None and said == anomalies._written_once("ATR-2026-0001")
    shown = said.format(record="INS-2026-0001", commit="c0ffee", author="A <a@x>")
    assert shown.startswith("INS-2026-0001 is an audit-trail review, closed when it was signed")
    edited = CONTENT_RULES["audit-review"]
    [breach] = edited("INS-2026-0001", {"a": 1}, {"a": 2}, config_with(), ())
    assert breach.rule == "record.closed"
    [breach] = edited("INS-2026-0001", None, {"a": 2}, config_with(), ())
    assert breach.rule == "state.signature"
    signed = verdict("INS-2026-0001", kinds.REVIEW_MEANING, None)
    assert [*edited("INS-2026-0001", None, {"a": 2}, config_with(), (signed,))] == []


def test_every_special_record_kind_without_states_has_its_rules() -> None:
    """A record kind with no state machine is either special, with a content rule of the gate
    and an audit-trail sentence, or has no rules beyond validation; the shipped ones are."""
    for kind in KINDS:
        if kind.is_document or kind.name in DEFAULTS:
            continue
        assert kind.special in CONTENT_RULES, kind.name
        assert kind.special in CLOSED_WHEN_WRITTEN, kind.name


def test_a_legacy_reference_means_a_record_of_a_kind_linked_both_ways() -> None:
    migrated = {
        "capa": {"C-1": "CAPA-2026-0001"},
        "deviation": {"D-1": "DEV-2026-0001"},
        "sop": {"S-1": "SOP-0001"},
        "work-instruction": {"W-1": "WI-0001"},
    }

    def linked(kind: Kind) -> dict[str, str]:
        state = SimpleNamespace(kind=kind, migrated=migrated)
        return _PlanState._linked_legacy(cast(Any, state))

    assert linked(BY_NAME["capa"]) == {"D-1": "DEV-2026-0001"}
    assert linked(BY_NAME["deviation"]) == {"C-1": "CAPA-2026-0001"}
    assert linked(CLEANING) == {"D-1": "DEV-2026-0001"}  # not its SOPs: no link back
    assert linked(WORK_INSTRUCTION) == {}


def test_an_audit_trail_review_has_no_states_to_advance(team: Team) -> None:
    """`qms advance` asks the lifecycles for a state machine; the review has none."""
    team.on("2026-01-07")
    args = ("audit-trail", "--since", "2026-01-05", "--until", "2026-01-06", "--sign")
    out = team.qms(team.officer, *args, "--conclusion", "Nothing to report.")
    assert "signed 'ATR-2026-0001'" in out
    out = refused(team.world, team.admin, "advance", "ATR-2026-0001", "--to", "closed")
    assert "'ATR-2026-0001' is not a CAPA, deviation, change control or training session ID" in out
    assert "the audit-trail review ATR-2026-0001 has no states to advance" in out
    out = refused(team.world, team.admin, "advance", "SOP-0001", "--to", "closed")
    assert (
        "SOPs, work instructions, forms, policies and documents of external origin have no states "
        "to advance"
    ) in out
