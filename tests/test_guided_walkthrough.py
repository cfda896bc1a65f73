"""Issue 22's "Done when", as a walkthrough (a second engineer's tests): a new QA lead takes a
deviation from report to closure and an SOP from revision to effective without opening a YAML
file by hand except for free text, and without a `qms check` failure that the tools could have
prevented; `qms inbox` lists exactly what waits for each person.

A hospital's QA team (real SSH keys, their own git configs, the real `qms` command in its own
process, started in the repository as a person types it) works through the command line only:
`qms new`, `qms advance … --set`, `qms revise`, `qms review`, `qms approve`, `qms acknowledge`,
`qms commit`, `qms inbox`, `qms status`, `qms check`, and git for branches and merges. The only
hand edits are of free text: a placeholder of a template replaced by what the person types. The
day is the test's: each step's commits carry the day it sets, and `--date` asks about any day.

After every step `qms check ROOT..HEAD` (every commit since the trust root) must pass. Where a
step is refused although the person did what the tools ask, or `qms check` fails, the walk
records a finding and, where it can, goes on the way a person would have to (writing the YAML
structure by hand), so that one run reports every finding of the path; the test fails at the end
if there was any.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from toolkit.process import git
from toolkit.walk import Walk, team

# --- a deviation from report to closure -------------------------------------------------------

DEV = "DEV-2026-0001"
DEV_FILE = f"deviations/{DEV}.yaml"
CAPA = "CAPA-2026-0001"
CAPA_FILE = f"capa/{CAPA}.yaml"
INVESTIGATION = {
    "investigation.method": "5-whys",
    "investigation.root_cause": "The receipt checklist does not say when the logger is read.",
    "investigation.product_impact": "The logger file shows no excursion; the bag was released.",
    "investigation.patient_impact": "None; the product had not been administered.",
    "capa_decision": {
        "required": True,
        "rationale": "Systemic: every receipt follows the same checklist.",
    },
    "capa": [CAPA],
}


def report_deviation(walk: Walk) -> None:
    """The author finds it at receipt and reports it; she types the free text."""
    walk.on("2026-02-02", "08:40")
    path = walk.new(
        "l.santos",
        "deviation",
        "--title",
        "Shipper logger read after opening",
        "--type",
        "excursion",
    )
    assert path.endswith(DEV_FILE), path
    walk.type_text(
        DEV_FILE,
        {
            "FILL IN: what happened, where and how it was found. Never a patient's name or number.": (
                "At receipt in the pharmacy the shipper's temperature logger was read 40 minutes "
                "after the dry shipper had been opened."
            ),
            "FILL IN: what was done at once to contain it.": (
                "The bag was quarantined in the vapour-phase freezer until QA reviewed the logger file."
            ),
            'parameter: "FILL IN"': 'parameter: "Shipper temperature"',
            'limit: "FILL IN"': 'limit: "-150 C or colder"',
            'observed: "FILL IN"': 'observed: "not known while the logger was unread"',
        },
    )
    walk.commit("l.santos", f"{DEV} reported", "excursion found at receipt", DEV_FILE)
    walk.check("the deviation is reported")


def test_a_deviation_from_report_to_closure_with_its_linked_capa(tmp_path: Path) -> None:
    walk = team(tmp_path)
    report_deviation(walk)
    walk.expect_waiting(
        "the report",
        "2026-02-02",
        {who: {(DEV, "main", "classified")} for who in ("a.weber", "m.okafor")},
    )
    owner = walk.inbox("l.santos", "2026-02-02")["due"]
    assert [(d["record"], d["what"]) for d in owner] == [(DEV, "investigation")], owner

    walk.on("2026-02-03")  # the QA officer classifies it: critical, so a CAPA must be linked
    walk.advance(
        "m.okafor",
        DEV,
        "classified",
        {
            "classification": {
                "level": "critical",
                "severity": 4,
                "occurrence": 2,
                "detectability": 3,
                "rationale": "A CAR-T bag may have warmed above its limit without anyone knowing.",
            }
        },
    )
    walk.expect_waiting(
        "classification",
        "2026-02-03",
        {who: {(DEV, "main", "investigation")} for who in ("a.weber", "m.okafor")},
    )
    walk.on("2026-02-04")
    walk.advance("m.okafor", DEV, "investigation")
    assert (
        yaml.safe_load((walk.repo / DEV_FILE).read_text())["investigation"]["due"] == "2026-03-04"
    )
    walk.expect_waiting(
        "the investigation opened", "2026-02-04", {"a.weber": {(DEV, "main", "capa-decided")}}
    )

    walk.on("2026-02-10")  # the investigator raises the CAPA the classification calls for
    path = walk.new(
        "m.okafor",
        "capa",
        *("--title", "Read the logger before opening the shipper"),
        *("--source", "deviation", "--ref", DEV),
    )
    assert path.endswith(CAPA_FILE), path
    walk.type_text(
        CAPA_FILE,
        {
            "FILL IN: the problem, its extent and its evidence.": (
                "Shipper loggers are read after opening; DEV-2026-0001 and one near miss in January."
            )
        },
    )
    walk.commit("m.okafor", f"{CAPA} raised", f"CAPA for {DEV}", CAPA_FILE)
    walk.check("the CAPA is raised")

    walk.on("2026-02-20")  # the investigation is done: QA decides on the CAPA
    walk.advance(
        "a.weber",
        DEV,
        "capa-decided",
        INVESTIGATION,
        filled_by="m.okafor",
    )
    analysis = (CAPA, "main", "root-cause")
    walk.expect_waiting(
        "the CAPA decision",
        "2026-02-20",
        {
            "a.weber": {(DEV, "main", "closed"), (DEV, "main", "investigation"), analysis},
            "m.okafor": {analysis},
        },
    )
    walk.on("2026-02-23")
    walk.advance("a.weber", DEV, "closed")
    record = walk.status("2026-02-23", DEV)
    assert record["state"] == "closed", record
    data = yaml.safe_load((walk.repo / DEV_FILE).read_text())
    assert (data["closed"], data["capa"]) == ("2026-02-23", [CAPA]), data
    assert "FILL IN" not in (walk.repo / DEV_FILE).read_text()
    walk.expect_waiting("closure", "2026-02-23", {"a.weber": {analysis}, "m.okafor": {analysis}})
    assert walk.inbox("l.santos", "2026-02-23")["due"] == []  # no investigation due any more
    walk.assert_no_findings()


# --- the CAPA from initiation to closure --------------------------------------------------------

ACTION = {
    "id": "A1",
    "type": "corrective",
    "description": "Add 'read the logger before opening' to the receipt checklist.",
    "owner": "l.santos",
    "due": "2026-03-31",
    "status": "open",
}
DONE = {
    "status": "done",
    "completed": "2026-03-27",
    "evidence": "Receipt checklist FRM-0001 v2 issued; pharmacists briefed on 2026-03-27.",
}


def test_the_linked_capa_from_initiation_to_closure(tmp_path: Path) -> None:
    walk = team(tmp_path)
    report_deviation(walk)
    walk.on("2026-02-10")
    walk.new(
        "m.okafor",
        "capa",
        "--title",
        "Read the logger first",
        "--source",
        "deviation",
        "--ref",
        DEV,
    )
    walk.type_text(
        CAPA_FILE, {"FILL IN: the problem, its extent and its evidence.": "Loggers read late."}
    )
    walk.commit("m.okafor", f"{CAPA} raised", f"CAPA for {DEV}", CAPA_FILE)
    walk.check("the CAPA is raised")

    walk.on("2026-02-11")
    risk = {
        "severity": 4,
        "occurrence": 3,
        "detectability": 3,
        "rationale": "A warm bag could be given.",
    }
    walk.advance("m.okafor", CAPA, "root-cause", {"risk": risk})
    walk.on("2026-02-18")
    plan = {
        "root_cause": {
            "method": "5-whys",
            "category": "documentation",
            "description": "The receipt checklist does not say when the logger is read.",
        },
        "actions": [ACTION],
        "effectiveness": {
            "criteria": "In the next 20 receipts every logger is read before the shipper is opened.",
            "due": "2026-06-30",
        },
    }
    walk.advance("m.okafor", CAPA, "action-plan", plan)
    dev = (DEV, "main", "classified")  # the deviation itself waits for its classification
    walk.expect_waiting(
        "the plan",
        "2026-02-18",
        {
            "a.weber": {dev, (CAPA, "main", "implementation"), (CAPA, "main", "root-cause")},
            "m.okafor": {dev},
        },
    )
    walk.on("2026-02-19")
    walk.advance("a.weber", CAPA, "implementation")
    review = {dev, (CAPA, "main", "effectiveness-check")}
    walk.expect_waiting("the plan approved", "2026-02-19", {"a.weber": review, "m.okafor": review})
    due = walk.inbox("l.santos", "2026-03-20")["due"]
    assert [(d["what"], d["due"]) for d in due if d["record"] == CAPA] == [
        ("action A1", "2026-03-31")
    ], due

    walk.on("2026-03-30")  # the action owner has done it; QA reviews the evidence
    done = [ACTION | DONE]
    walk.advance(
        "m.okafor",
        CAPA,
        "effectiveness-check",
        {"actions": done},
        filled_by="l.santos",
    )
    due = walk.inbox("l.santos", "2026-04-10")["due"]
    assert [d for d in due if d["record"] == CAPA] == [], due  # the action is done
    walk.expect_waiting(
        "the actions reviewed",
        "2026-04-10",
        {"a.weber": {dev, (CAPA, "main", "closed")}, "m.okafor": {dev}},
    )
    walk.on("2026-07-01")
    walk.advance(
        "a.weber",
        CAPA,
        "closed",
        {
            "effectiveness.result": "20 of 20 receipts since April: logger read before opening.",
            "effectiveness.verdict": "effective",
            "effectiveness.checked_on": "2026-06-30",
            "effectiveness.checked_by": "m.okafor",
        },
    )
    assert walk.status("2026-07-01", CAPA)["state"] == "closed"
    walk.expect_waiting("closure", "2026-07-01", {"a.weber": {dev}, "m.okafor": {dev}})
    walk.assert_no_findings()


# --- an SOP from revision to effective, under a change control ------------------------------------

SOP = "SOP-0001"
SOP_FILE = f"sops/{SOP}.md"
CC = "CC-2026-0001"
CC_FILE = f"changes/{CC}.yaml"
BRANCH = "SOP-0001/v2"
V1_STEP = "1. Open the shipper, then read its temperature logger."
V2_STEP = "1. Read the temperature logger before the shipper is opened; record the read-out."
SOP_TEXT = {
    "FILL IN: what this procedure achieves and why it matters.": (
        "Every cryoshipped ATMP is received without breaking its cold chain or its chain of identity."
    ),
    "FILL IN: where, for which products and by whom it applies.": (
        "Pharmacy goods-in, for every CAR-T and gene therapy shipper, by pharmacists."
    ),
    "FILL IN: who does what.": "The receiving pharmacist checks, records and quarantines.",
    "FILL IN: terms and abbreviations.": "COI: chain of identity. LN2: liquid nitrogen.",
    "1. FILL IN: the first step.": V1_STEP,
    "FILL IN: what is recorded, where, and for how long.": "The receipt checklist, for 30 years.",
    "FILL IN: regulations, guidelines and related SOPs.": "EU GMP Part IV (ATMP).",
}
IMPACT = {
    "documents": "SOP-0001 v2: the logger is read before the shipper is opened.",
    "training": "Pharmacists read and understand v2 before it takes effect.",
    "equipment_validation": "No equipment or validation affected.",
    "regulatory_notification": {
        "required": False,
        "rationale": "No change to the sponsor's pharmacy manual or the authorisation.",
    },
    "data_integrity": "The logger file stays the primary record of the shipment.",
    "risk": {
        "severity": 3,
        "occurrence": 2,
        "detectability": 2,
        "rationale": "A warm shipper could be accepted if its logger is read too late.",
    },
}
RELEASE = {
    "documents": [{"record": SOP, "version": 2, "change": "The logger is read before opening."}],
    "effectiveness": {
        "criteria": "In the next 20 receipts every logger is read before the shipper is opened.",
        "due": "2026-07-31",
    },
}


def sop_in_force(walk: Walk) -> None:
    """SOP-0001 v1: written by the author, reviewed, approved (effective two weeks later, the
    training window), read and understood by the pharmacists."""
    walk.on("2026-01-12")
    assert walk.new("l.santos", "sop", "--title", "Receipt of cryoshipped ATMPs").endswith(SOP_FILE)
    walk.type_text(SOP_FILE, SOP_TEXT)
    walk.commit("l.santos", f"{SOP} v1", "new procedure for ATMP receipt", SOP_FILE)
    walk.check("SOP-0001 v1 is written")
    review = {(SOP, "main", "reviewed")}
    walk.expect_waiting("v1 written", "2026-01-12", {"m.okafor": review, "j.lindqvist": review})
    walk.on("2026-01-13")
    walk.qms("j.lindqvist", "review", SOP, "--reason", "technical review")
    walk.check("v1 reviewed")
    walk.expect_waiting("v1 reviewed", "2026-01-13", {"a.weber": {(SOP, "main", "approved")}})
    walk.on("2026-01-14")
    walk.qms("a.weber", "approve", SOP, "--reason", "first issue")
    walk.check("v1 approved")
    walk.on("2026-01-20")
    for who in ("l.santos", "j.lindqvist"):
        walk.qms(who, "acknowledge", SOP, "--reason", "read and understood")
        walk.check(f"v1 acknowledged by {who}")
    record = walk.status("2026-01-28", SOP)
    assert (record["state"], record["version"]) == ("effective", "1"), record


def propose_change(walk: Walk) -> None:
    """The change control, proposed and assessed by its owner, the QA officer."""
    walk.on("2026-03-02")
    assert walk.new(
        "m.okafor", "change-control", "--title", "Read the shipper logger before opening"
    ).endswith(CC_FILE)
    walk.type_text(
        CC_FILE,
        {
            "FILL IN: what changes, from what to what.": (
                "The logger is read before the shipper is opened, instead of after."
            ),
            "FILL IN: why the change is needed.": (
                "DEV-2026-0001: a logger was read 40 minutes after the shipper was opened."
            ),
        },
    )
    walk.commit("m.okafor", f"{CC} proposed", "change proposed after DEV-2026-0001", CC_FILE)
    walk.check("the change control is proposed")
    assess = {(CC, "main", "impact-assessed")}
    walk.expect_waiting("the proposal", "2026-03-02", {"a.weber": assess, "m.okafor": assess})
    walk.on("2026-03-03")
    walk.advance("m.okafor", CC, "impact-assessed", {"classification": "major", "impact": IMPACT})


def revise_on_a_branch(walk: Walk) -> None:
    """The author starts v2 on a pull-request branch, types the new step and commits it the way
    `qms revise` says; the reviewer reviews it there."""
    walk.on("2026-03-04")
    walk.git("l.santos", "switch", "-q", "-c", BRANCH)
    out = walk.qms(
        "l.santos",
        *("revise", SOP, "--reason", "The logger is read before the shipper is opened"),
        *("--change-control", CC, "--effective-date", "2026-04-15"),
    ).stdout
    assert f"{SOP} v2, superseding v1" in out, out
    walk.type_text(SOP_FILE, {V1_STEP: V2_STEP})
    hint = re.search(r"`(qms commit [^`]*)`", out)
    assert hint, f"`qms revise` says how to commit the new version:\n{out}"
    path = hint.group(1).split()[-1]  # the file the hint names, typed where she is
    result = walk.qms(
        "l.santos", "commit", "-m", f"{SOP} v2", "--reason", "logger first", path, ok=False
    )
    if result.returncode != 0:
        walk.finding(
            f"`qms revise {SOP}` (run in the repository) says `{hint.group(1)}`; typed there, "
            f"it exits {result.returncode}: {result.stderr.strip()}"
        )
        walk.commit("l.santos", f"{SOP} v2", "logger first", SOP_FILE)
    walk.check("v2 is written on its branch")
    review = {(SOP, BRANCH, "reviewed")}
    walk.expect_waiting(
        "v2 written",
        "2026-03-04",
        {
            "a.weber": {(CC, "main", "approved"), (CC, "main", "proposed")},
            "m.okafor": review,
            "j.lindqvist": review,
        },
    )
    walk.on("2026-03-05")
    walk.qms("j.lindqvist", "review", SOP, "--reason", "technical review of v2")
    walk.check("v2 reviewed")


def test_an_sop_from_revision_to_effective_under_a_change_control(tmp_path: Path) -> None:
    walk = team(tmp_path)
    sop_in_force(walk)
    propose_change(walk)
    revise_on_a_branch(walk)
    cc_waits = [(CC, "main", "approved"), (CC, "main", "proposed")]
    walk.expect_waiting(
        "v2 reviewed", "2026-03-05", {"a.weber": {*cc_waits, (SOP, BRANCH, "approved")}}
    )

    walk.on("2026-03-06")  # QA approves the change control on main, then releases v2
    walk.git("a.weber", "switch", "-q", "main")
    walk.advance("a.weber", CC, "approved", RELEASE, filled_by="m.okafor")
    implement = (CC, "main", "implemented")
    walk.expect_waiting(
        "the change control approved",
        "2026-03-06",
        {"a.weber": {implement, (SOP, BRANCH, "approved")}, "m.okafor": {implement}},
    )
    walk.git("a.weber", "switch", "-q", BRANCH)
    before = walk.head()
    refused = walk.qms(
        "a.weber", "approve", SOP, "--reason", "released under CC-2026-0001", ok=False
    )
    if refused.returncode != 0:  # the branch does not hold the approval yet: bring main in
        assert walk.head() == before and "not approved" in refused.stderr, refused.stderr
        walk.git("a.weber", "merge", "-q", "--no-edit", "main")
        walk.check("main merged into the branch")
        walk.qms("a.weber", "approve", SOP, "--reason", "released under CC-2026-0001")
    walk.check("v2 approved")
    walk.expect_waiting(
        "v2 approved", "2026-03-06", {"a.weber": {implement}, "m.okafor": {implement}}
    )

    walk.on("2026-03-09")  # the pull request is merged with a merge commit
    walk.git("a.weber", "switch", "-q", "main")
    walk.git("a.weber", "merge", "-q", "--no-ff", "-m", f"Merge {BRANCH}: {SOP} v2", BRANCH)
    walk.check("the pull request merged")
    training = walk.inbox("j.lindqvist", "2026-03-09")["training"]
    assert [(t["document"], t["version"]) for t in training] == [(SOP, 2)], training
    walk.on("2026-03-10")
    for who in ("j.lindqvist", "l.santos"):
        walk.qms(who, "acknowledge", SOP, "--reason", "read and understood v2")
        walk.check(f"v2 acknowledged by {who}")
    assert walk.inbox("j.lindqvist", "2026-03-10")["training"] == []
    walk.on("2026-03-16")
    walk.advance("m.okafor", CC, "implemented", {"implemented_on": "2026-03-16"})

    # the clock reaches the effective date
    record = walk.status("2026-04-14", SOP)
    assert (record["state"], record["version"]) == ("effective", "1"), record
    assert record["upcoming"] and record["upcoming"]["version"] == 2, record
    record = walk.status("2026-04-15", SOP)
    assert (record["state"], record["version"]) == ("effective", "2"), record
    assert V2_STEP in git(walk.repo, "show", f"HEAD:{SOP_FILE}")

    walk.on("2026-07-31")
    walk.advance(
        "m.okafor",
        CC,
        "effectiveness-verified",
        {
            "effectiveness.result": "20 of 20 receipts since April: logger read before opening.",
            "effectiveness.verdict": "effective",
            "effectiveness.checked_on": "2026-07-31",
            "effectiveness.checked_by": "m.okafor",
        },
    )
    walk.on("2026-08-03")
    walk.advance("a.weber", CC, "closed")
    control = walk.status("2026-08-03", CC)
    assert control["state"] == "closed", control
    assert [(d["record"], d["version"], d["status"]) for d in control["documents"]] == [
        (SOP, 2, "effective")
    ]
    walk.expect_waiting("the change control closed", "2026-08-03", {})
    assert walk.qms("a.weber", "verify", ok=False).returncode == 0
    walk.assert_no_findings()


def test_an_edit_of_the_version_in_force_is_stopped_before_qms_check_fails(tmp_path: Path) -> None:
    """The author changes a sentence of the SOP in force (free text) and commits it with
    `qms commit`, forgetting `qms revise`. The tools can tell that this edits an approved
    version without raising it: they must refuse it, not leave it to fail `qms check`."""
    walk = team(tmp_path)
    sop_in_force(walk)
    walk.on("2026-03-04")
    walk.type_text(SOP_FILE, {V1_STEP: V2_STEP})
    before = walk.head()
    result = walk.qms(
        "l.santos",
        "commit",
        "-m",
        f"{SOP}: clearer step",
        "--reason",
        "logger first",
        SOP_FILE,
        ok=False,
    )
    committed = walk.head() != before
    walk.check("`qms commit` of an edit of the approved v1")
    if committed:
        signed = walk.qms("j.lindqvist", "review", SOP, "--reason", "looks right", ok=False)
        if signed.returncode == 0:
            walk.finding(f"`qms review {SOP}` signed the edited v1 too: {signed.stdout.strip()}")
    assert committed or result.returncode != 0
    walk.assert_no_findings()
