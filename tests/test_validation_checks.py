"""Each schema and semantic check of `qms validate`: one broken record, the exact finding.

Every case starts from a copy of the shipped example (which validates clean) and changes one
field of one record; the JSON output must then hold the finding with its path, line, code,
severity, record and message.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gitqms import clock
from toolkit.cli import qms, write
from toolkit.edits import (
    add_field,
    config,
    drop_field,
    line_of,
    record_with,
    records,
    rel,
    replace_field,
    set_field,
    value_of,
)

Finding = dict[str, Any]


# --- helpers ------------------------------------------------------------------------------


def report(repo: Path, *paths: str | Path) -> dict[str, Any]:
    result = qms("validate", "--format", "json", *paths, repo=repo)
    assert "Traceback" not in result.stdout + result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    assert result.exit_code == (0 if data["ok"] else 1), result.stderr
    return data


def without_fix(finding: Finding) -> Finding:
    return {key: value for key, value in finding.items() if key != "fix"}


def found(repo: Path, path: str, code: str | None = None) -> list[Finding]:
    """Findings (without their fix) of one file, optionally of one code."""
    return [
        without_fix(f)
        for f in report(repo)["findings"]
        if f["path"] == path and (code is None or f["code"] == code)
    ]


def error(path: str, line: int, code: str, message: str, record: str | None) -> Finding:
    return {
        "path": path,
        "line": line,
        "severity": "error",
        "code": code,
        "message": message,
        "record": record,
    }


def schema_properties(repo: Path, name: str) -> list[str]:
    schema = json.loads((repo / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8"))
    return sorted(schema["properties"])


# --- the starting point -------------------------------------------------------------------


def test_example_validates_clean(example: Path) -> None:
    result = qms("validate", repo=example)
    assert result.exit_code == 0, result.stdout
    data = report(example)
    assert data["ok"] is True
    assert data["findings"] == []


# --- schema checks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("folder", "field", "root_line"),
    [("capa", "problem", 1), ("deviations", "reported_by", 1), ("sops", "change_reason", 2)],
)
def test_missing_required_field(example: Path, folder: str, field: str, root_line: int) -> None:
    path = records(example, folder)[0]
    drop_field(path, field)
    got = report(example)["findings"]
    assert [without_fix(f) for f in got] == [
        error(
            rel(example, path), root_line, "schema.required", f"missing field '{field}'", path.stem
        )
    ]
    assert got[0]["fix"] == f"add '{field}:' with its value"


def test_unknown_top_level_field_lists_the_allowed_fields(example: Path) -> None:
    path = records(example, "capa")[0]
    line = add_field(path, "priority: high")
    got = report(example)["findings"]
    assert [without_fix(f) for f in got] == [
        error(
            rel(example, path), line, "schema.unknown-field", "unknown field 'priority'", path.stem
        )
    ]
    allowed = ", ".join(schema_properties(example, "capa"))
    assert got[0]["fix"] == f"remove it or correct its spelling; fields allowed here: {allowed}"


def test_unknown_nested_field_names_its_path(example: Path) -> None:
    path = records(example, "sops")[0]
    line = line_of(path, r"^training:$") + 1
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "training:\n", "training:\n  mandatory: true\n", 1
        ),
        encoding="utf-8",
    )
    got = report(example)["findings"]
    assert [without_fix(f) for f in got] == [
        error(
            rel(example, path),
            line,
            "schema.unknown-field",
            "unknown field 'training.mandatory'",
            path.stem,
        )
    ]
    assert got[0]["fix"] == (
        "remove it or correct its spelling; fields allowed here: audience, window_days"
    )


@pytest.mark.parametrize(
    ("folder", "field", "value", "message"),
    [
        (
            "sops",
            "review_period_months",
            '"24"',
            "'review_period_months' must be a whole number, not the text '24'",
        ),
        (
            "deviations",
            "patient_involved",
            '"true"',
            "'patient_involved' must be true or false, not the text 'true'",
        ),
        ("deviations", "sops", "SOP-0001", "'sops' must be a list, not the text 'SOP-0001'"),
        ("capa", "title", "42", "'title' must be text, not the number 42"),
    ],
)
def test_wrong_type(example: Path, folder: str, field: str, value: str, message: str) -> None:
    path = records(example, folder)[0]
    line = set_field(path, field, f"{field}: {value}")
    assert found(example, rel(example, path)) == [
        error(rel(example, path), line, "schema.type", message, path.stem)
    ]


def test_wrong_type_fix_is_the_fields_own_advice(example: Path) -> None:
    path = records(example, "sops")[0]
    set_field(path, "review_period_months", 'review_period_months: "24"')
    (finding,) = report(example)["findings"]
    assert finding["fix"] == "periodic review interval in months (typically 24 to 36)"


@pytest.mark.parametrize(
    ("folder", "field", "value", "message"),
    [
        (
            "capa",
            "state",
            "done",
            '\'state\' is the text \'done\'; allowed: "initiated", "root-cause", "action-plan", '
            '"implementation", "effectiveness-check", "closed", "cancelled"',
        ),
        (
            "deviations",
            "type",
            "accident",
            '\'type\' is the text \'accident\'; allowed: "unplanned", "planned", "oos", '
            '"excursion", "coi-break", "chain-of-custody", "adverse-reaction", '
            '"equipment", "documentation"',
        ),
    ],
)
def test_enum_value_not_allowed(
    example: Path, folder: str, field: str, value: str, message: str
) -> None:
    path = records(example, folder)[0]
    line = replace_field(path, field, f"{field}: {value}")
    assert found(example, rel(example, path)) == [
        error(rel(example, path), line, "schema.enum", message, path.stem)
    ]


def test_bad_batch_is_a_schema_pattern_finding(example: Path) -> None:
    path = record_with(example, "deviations", r"^  batch: ")
    line = replace_field(path, "batch", '  batch: "BC2 26/0044!"', indent="  ")
    got = [f for f in report(example)["findings"] if f["path"] == rel(example, path)]
    assert [without_fix(f) for f in got] == [
        error(
            rel(example, path),
            line,
            "schema.pattern",
            "'product.batch' is the text 'BC2 26/0044!', which is not in the expected form",
            path.stem,
        )
    ]
    assert got[0]["fix"] == "batch or lot number as printed on the label"


@pytest.mark.parametrize(
    ("folder", "bad", "fix"),
    [
        ("deviations", "DEV-26-6", "use the form DEV-2026-0001, the same as the file name"),
        ("capa", "CAPA-2026-1", "use the form CAPA-2026-0001, the same as the file name"),
        ("sops", "SOP-12", "use the form SOP-0001, the same as the file name"),
    ],
)
def test_bad_id_is_a_schema_pattern_finding(example: Path, folder: str, bad: str, fix: str) -> None:
    path = records(example, folder)[0]
    line = replace_field(path, "id", f"id: {bad}")
    got = [f for f in report(example)["findings"] if f["path"] == rel(example, path)]
    assert [without_fix(f) for f in got] == [
        error(
            rel(example, path),
            line,
            "schema.pattern",
            f"'id' is the text '{bad}', which is not in the expected form",
            path.stem,
        )
    ]
    assert got[0]["fix"] == fix


@pytest.mark.parametrize("written", ['"2026-02-30"', "2026-02-30"])
def test_invalid_calendar_date(example: Path, written: str) -> None:
    path = records(example, "capa")[0]
    line = replace_field(path, "opened", f"opened: {written}")
    assert found(example, rel(example, path)) == [
        error(
            rel(example, path),
            line,
            "schema.format",
            "'opened' is the text '2026-02-30', which is not a valid date",
            path.stem,
        )
    ]


@pytest.mark.parametrize("value", ["2026-01-02T10:00:00", "2026-01-02 10:00+01:00"])
def test_date_time_without_a_zone(example: Path, value: str) -> None:
    path = records(example, "deviations")[0]
    line = set_field(path, "reported_at", f'reported_at: "{value}"')
    assert found(example, rel(example, path)) == [
        error(
            rel(example, path),
            line,
            "schema.format",
            f"'reported_at' is the text '{value}', which is not a valid date-time with zone",
            path.stem,
        )
    ]


@pytest.mark.parametrize(
    ("folder", "field", "value", "fix"),
    [
        (
            "capa",
            "opened",
            '"2026-02-30"',
            'write a calendar date as "YYYY-MM-DD" (quoted or not, it stays text)',
        ),
        (
            "deviations",
            "reported_at",
            '"2026-01-02T10:00:00"',
            'write a date-time with its zone, as "2026-03-14T08:30:00+01:00" or '
            '"2026-03-14T07:30:00Z"',
        ),
        ("capa", "owner", "A.Weber", "use a person ID from qms.yaml (lower case, e.g. a.weber)"),
    ],
)
def test_fix_of_a_field_defined_in_defs_is_that_definitions_x_fix(
    example: Path, folder: str, field: str, value: str, fix: str
) -> None:
    path = records(example, folder)[0]
    set_field(path, field, f"{field}: {value}")
    (finding,) = [f for f in report(example)["findings"] if f["path"] == rel(example, path)]
    assert finding["fix"] == fix


# --- requirements that depend on the state ------------------------------------------------


def test_closed_capa_without_verdict_names_the_rule(example: Path) -> None:
    path = record_with(example, "capa", r"^state: closed$", r"^  verdict: ")
    drop_field(path, "verdict", indent="  ")
    got = [f for f in report(example)["findings"] if f["path"] == rel(example, path)]
    assert [without_fix(f) for f in got] == [
        error(
            rel(example, path),
            line_of(path, r"^effectiveness:"),
            "schema.required",
            "missing field 'effectiveness.verdict' (a closed CAPA needs its closing date "
            "and an effectiveness result, verdict, date and checker)",
            path.stem,
        )
    ]
    assert got[0]["fix"] == "add 'verdict:' with its value"


def test_closed_capa_with_not_effective_verdict(example: Path) -> None:
    path = record_with(example, "capa", r"^state: closed$", r"^  verdict: ")
    line = replace_field(path, "verdict", "  verdict: not-effective", indent="  ")
    got = [f for f in report(example)["findings"] if f["path"] == rel(example, path)]
    assert [without_fix(f) for f in got] == [
        error(
            rel(example, path),
            line,
            "schema.const",
            "'effectiveness.verdict' is the text 'not-effective'; allowed: \"effective\" "
            "(a closed CAPA needs its closing date and an effectiveness result, verdict, "
            "date and checker)",
            path.stem,
        )
    ]
    assert got[0]["fix"] == (
        "a CAPA closes only on an 'effective' verdict; if it was not effective, "
        "reopen the action plan"
    )


def test_critical_deviation_after_capa_decision_needs_a_capa(example: Path) -> None:
    path = record_with(
        example, "deviations", r"^state: (capa-decided|closed)$", r"^capa: ", r"^  level: "
    )
    replace_field(path, "level", "  level: critical", indent="  ")
    replace_field(path, "required", "  required: false", indent="  ")  # CAPA decided: none
    drop_field(path, "capa")
    assert found(example, rel(example, path)) == [
        error(
            rel(example, path),
            1,
            "schema.required",
            "missing field 'capa' (a critical deviation needs a linked CAPA)",
            path.stem,
        )
    ]


def test_oos_deviation_under_investigation_needs_physician_acceptance(example: Path) -> None:
    path = record_with(
        example,
        "deviations",
        r"^type: oos$",
        r"^state: (investigation|capa-decided|closed)$",
        r"^  physician_accepted_at: ",
    )
    drop_field(path, "physician_accepted_at", indent="  ")
    assert found(example, rel(example, path)) == [
        error(
            rel(example, path),
            line_of(path, r"^oos:"),
            "schema.required",
            "missing field 'oos.physician_accepted_at' (an OOS product administered at the "
            "physician's request needs the physician's acceptance and the sponsor "
            "notification time (EU GMP Part IV §11.5))",
            path.stem,
        )
    ]


def test_sop_revision_needs_change_control(example: Path) -> None:
    path = record_with(example, "sops", r"^version: ([2-9]|[1-9][0-9]+)$", r"^change_control: ")
    drop_field(path, "change_control")
    assert found(example, rel(example, path)) == [
        error(
            rel(example, path),
            2,
            "schema.required",
            "missing field 'change_control' (a revision (version 2 or later) needs a "
            "change-control reference and the version it supersedes)",
            path.stem,
        )
    ]


# --- identity -----------------------------------------------------------------------------


@pytest.mark.parametrize(("folder", "other"), [("sops", "SOP-0999"), ("capa", "CAPA-2026-0999")])
def test_id_not_matching_the_file_name(example: Path, folder: str, other: str) -> None:
    path = records(example, folder)[0]
    line = replace_field(path, "id", f"id: {other}")
    (finding,) = [f for f in report(example)["findings"] if f["code"] == "id.file-name"]
    assert {k: finding[k] for k in ("path", "line", "severity", "message")} == {
        "path": rel(example, path),
        "line": line,
        "severity": "error",
        "message": f"the ID {other} does not match the file name {path.name}",
    }
    assert finding["fix"] == (
        f"set 'id: {path.stem}'; records are never renamed, so the file name is the ID"
    )


def test_two_files_claiming_the_same_id(example: Path) -> None:
    first, second = records(example, "sops")[:2]
    line = replace_field(second, "id", f"id: {first.stem}")
    (finding,) = [f for f in report(example)["findings"] if f["code"] == "id.duplicate"]
    assert {k: finding[k] for k in ("path", "line", "severity", "message")} == {
        "path": rel(example, second),
        "line": line,
        "severity": "error",
        "message": f"the ID {first.stem} is already the ID of {rel(example, first)}",
    }
    codes = {f["code"] for f in report(example)["findings"] if f["path"] == rel(example, second)}
    assert {"id.file-name", "id.duplicate"} <= codes


def test_id_findings_name_the_record_by_its_file_name(example: Path) -> None:
    # The file name is the ID; every other finding of a file carries that ID as its record.
    first, second = records(example, "sops")[:2]
    replace_field(second, "id", f"id: {first.stem}")
    got = [f for f in report(example)["findings"] if f["code"].startswith("id.")]
    assert [(f["code"], f["record"]) for f in got] == [
        ("id.duplicate", second.stem),
        ("id.file-name", second.stem),
    ]


# --- references ---------------------------------------------------------------------------


def test_reference_to_an_unknown_sop(example: Path) -> None:
    path = records(example, "capa")[0]
    line = set_field(path, "related_sops", "related_sops: [SOP-0999]")
    assert found(example, rel(example, path)) == [
        error(
            rel(example, path),
            line,
            "ref.unknown-record",
            "'related_sops[0]' names SOP-0999, which is not a record of this repository",
            path.stem,
        )
    ]


def test_reference_to_an_unknown_capa(example: Path) -> None:
    path = record_with(example, "deviations", r"^capa: ")
    line = replace_field(path, "capa", "capa: [CAPA-2026-0999]")
    assert found(example, rel(example, path)) == [
        error(
            rel(example, path),
            line,
            "ref.unknown-record",
            "'capa[0]' names CAPA-2026-0999, which is not a record of this repository",
            path.stem,
        )
    ]


def test_reference_to_an_unknown_person(example: Path) -> None:
    path = records(example, "capa")[0]
    line = replace_field(path, "owner", "owner: x.nobody")
    got = [f for f in report(example)["findings"] if f["path"] == rel(example, path)]
    assert [without_fix(f) for f in got] == [
        error(
            rel(example, path),
            line,
            "ref.unknown-person",
            "'owner' names 'x.nobody', who is not a person in qms.yaml",
            path.stem,
        )
    ]
    people = ", ".join(sorted(person["id"] for person in config(example)["people"])[:12])
    assert got[0]["fix"] == (
        f"use a person ID from qms.yaml ({people}), or add the person under 'people:' there"
    )


def test_reference_to_an_unknown_area(example: Path) -> None:
    path = records(example, "deviations")[0]
    line = replace_field(path, "area", "area: moon-base")
    assert found(example, rel(example, path)) == [
        error(
            rel(example, path),
            line,
            "ref.unknown-area",
            "the area 'moon-base' is not listed in qms.yaml",
            path.stem,
        )
    ]


def test_reference_to_an_unknown_training_audience(example: Path) -> None:
    path = records(example, "sops")[0]
    line = replace_field(path, "audience", "  audience: [astronauts]", indent="  ")
    assert found(example, rel(example, path)) == [
        error(
            rel(example, path),
            line,
            "ref.unknown-audience",
            "the training audience 'astronauts' is not listed in qms.yaml",
            path.stem,
        )
    ]


# --- dates --------------------------------------------------------------------------------


def test_deviation_discovered_before_it_occurred(example: Path) -> None:
    path = records(example, "deviations")[0]
    occurred = value_of(path, "occurred_at")
    discovered = (datetime.fromisoformat(occurred) - timedelta(minutes=10)).isoformat()
    line = replace_field(path, "discovered_at", f'discovered_at: "{discovered}"')
    assert found(example, rel(example, path), "dates.order") == [
        error(
            rel(example, path),
            line,
            "dates.order",
            f"discovered before it occurred: 'discovered_at' {discovered} is earlier than "
            f"'occurred_at' {occurred}",
            path.stem,
        )
    ]


def test_capa_due_before_it_was_opened(example: Path) -> None:
    path = records(example, "capa")[0]
    opened = value_of(path, "opened")
    due = (date.fromisoformat(opened) - timedelta(days=1)).isoformat()
    line = replace_field(path, "due", f'due: "{due}"')
    assert found(example, rel(example, path), "dates.order") == [
        error(
            rel(example, path),
            line,
            "dates.order",
            f"'due' is before the CAPA was opened: 'due' {due} is earlier than 'opened' {opened}",
            path.stem,
        )
    ]


def test_occurred_at_in_the_future(example: Path) -> None:
    path = records(example, "deviations")[0]
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    future = f"{now.date() + timedelta(days=30)}T10:00:00+01:00"
    line = replace_field(path, "occurred_at", f'occurred_at: "{future}"')
    with clock.fixed(now):  # "the future" is judged by the one clock, which the test sets
        findings = found(example, rel(example, path), "dates.future")
    with clock.fixed(now + timedelta(days=31)):
        assert found(example, rel(example, path), "dates.future") == []
    assert findings == [
        error(
            rel(example, path),
            line,
            "dates.future",
            f"'occurred_at' is {future}, in the future",
            path.stem,
        )
    ]


# --- chain of identity and privacy --------------------------------------------------------


def test_coi_not_matching_the_configured_pattern(example: Path) -> None:
    path = record_with(example, "deviations", r"^  coi: ")
    line = replace_field(path, "coi", '  coi: "SAU-000158"', indent="  ")
    pattern = config(example)["coi"]["pattern"]
    assert found(example, rel(example, path)) == [
        error(
            rel(example, path),
            line,
            "coi.pattern",
            f"'product.coi' does not match the chain-of-identity pattern of qms.yaml ({pattern})",
            path.stem,
        )
    ]


IDENTIFIERS = [
    ("MRN: 12345678", "12345678", "medical record number"),
    ("DOB: 01.02.1960", "01.02.1960", "date of birth"),
]


@pytest.mark.parametrize(("written", "secret", "name"), IDENTIFIERS)
def test_patient_identifier_in_a_description(
    example: Path, written: str, secret: str, name: str
) -> None:
    path = records(example, "deviations")[0]
    line = replace_field(
        path, "description", f'description: "The lab sheet of the patient showed {written}."'
    )
    assert found(example, rel(example, path)) == [
        error(
            rel(example, path),
            line,
            "privacy.patient-identifier",
            f"this line looks like it holds a patient identifier ({name})",
            path.stem,
        )
    ]
    json_out = qms("validate", "--format", "json", repo=example).stdout
    text_out = qms("validate", repo=example).stdout
    assert secret not in json_out
    assert secret not in text_out


@pytest.mark.parametrize(("written", "secret", "name"), IDENTIFIERS)
def test_patient_identifier_in_an_sop_body(
    example: Path, written: str, secret: str, name: str
) -> None:
    path = records(example, "sops")[0]
    text = path.read_text(encoding="utf-8").rstrip("\n") + "\n"
    path.write_text(
        text + f"\nExample: the ward called about {written} yesterday.\n", encoding="utf-8"
    )
    line = text.count("\n") + 2
    assert found(example, rel(example, path)) == [
        error(
            rel(example, path),
            line,
            "privacy.patient-identifier",
            f"this line looks like it holds a patient identifier ({name})",
            path.stem,
        )
    ]
    result = qms("validate", repo=example)
    assert secret not in result.stdout
    assert secret not in qms("validate", "--format", "json", repo=example).stdout


def test_patient_identifier_is_found_even_when_the_schema_fails(example: Path) -> None:
    path = records(example, "deviations")[0]
    line = replace_field(path, "description", 'description: "Patient MRN: 12345678 seen."')
    add_field(path, "priority: high")
    codes = {(f["code"], f["line"]) for f in found(example, rel(example, path))}
    assert ("privacy.patient-identifier", line) in codes
    assert any(code == "schema.unknown-field" for code, _ in codes)


# --- layout -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stray", ["sops/notes.txt", "capa/CAPA-26-1.yaml", "deviations/DEV-2026-0001.yml"]
)
def test_stray_file_in_a_record_folder(example: Path, stray: str) -> None:
    write(example / stray, "title: not a record\n")
    assert found(example, stray) == [
        error(
            stray,
            0,
            "layout.unexpected-file",
            "this file is not named as a record, so it is not under control",
            None,
        )
    ]


# --- qms.yaml -----------------------------------------------------------------------------

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample0000000000000000000000000000000000"


def config_findings(repo: Path) -> list[Finding]:
    return [without_fix(f) for f in report(repo)["findings"]]


def test_person_with_an_unknown_role(example: Path) -> None:
    path = example / "qms.yaml"
    line = line_of(path, r"^    roles: \[")
    text = path.read_text(encoding="utf-8")
    path.write_text(
        re.sub(r"^    roles: \[", "    roles: [wizard, ", text, count=1, flags=re.M),
        encoding="utf-8",
    )
    assert config_findings(example) == [
        error("qms.yaml", line, "config.unknown-role", "the role 'wizard' is not defined", None)
    ]


def test_same_key_registered_to_two_people(example: Path) -> None:
    path = example / "qms.yaml"
    people = config(example)["people"]
    lines = path.read_text(encoding="utf-8").split("\n")
    roles_lines = [i for i, line in enumerate(lines) if line.startswith("    roles: [")]
    assert len(roles_lines) >= 2
    for index, comment in ((roles_lines[1], "second"), (roles_lines[0], "first")):
        lines[index + 1 : index + 1] = [
            "    keys:",
            f'      - public_key: "{KEY} {comment}"',
            '        valid_from: "2026-01-01"',
        ]
    path.write_text("\n".join(lines), encoding="utf-8")
    second_key_line = roles_lines[1] + 3 + 3  # shifted by the first block, then "keys:"
    assert config_findings(example) == [
        error(
            "qms.yaml",
            second_key_line,
            "config.key-reuse",
            f"this key is already registered to {people[0]['id']}",
            None,
        )
    ]


def test_invalid_regex_in_coi_pattern(example: Path) -> None:
    path = example / "qms.yaml"
    bad = "^COI-(unclosed"
    line = replace_field(path, "pattern", f"  pattern: '{bad}'", indent="  ")
    with pytest.raises(re.error) as caught:
        re.compile(bad)
    assert config_findings(example) == [
        error(
            "qms.yaml",
            line,
            "config.regex",
            f"'coi.pattern' is not a valid regular expression: {caught.value}",
            None,
        )
    ]


def test_no_admin(example: Path) -> None:
    path = example / "qms.yaml"
    text = path.read_text(encoding="utf-8")

    def drop_admin(match: re.Match[str]) -> str:
        roles = [r.strip() for r in match.group(1).split(",") if r.strip() != "admin"]
        return f"    roles: [{', '.join(roles)}]"

    path.write_text(
        re.sub(r"^    roles: \[(.*)\]$", drop_admin, text, flags=re.M), encoding="utf-8"
    )
    assert config_findings(example) == [
        error(
            "qms.yaml",
            line_of(path, r"^people:"),
            "config.no-admin",
            "no person holds the role 'admin'",
            None,
        )
    ]


# --- the command's output -----------------------------------------------------------------


def test_validate_one_path_reports_only_that_file(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = records(example, "deviations")[:2]
    replace_field(first, "area", "area: moon-base")
    replace_field(second, "area", "area: sun-base")
    monkeypatch.chdir(example)
    result = qms("validate", rel(example, first), repo=example)
    assert result.exit_code == 1
    assert rel(example, first) in result.stdout
    assert rel(example, second) not in result.stdout
    assert result.stdout.splitlines()[-1] == "1 error, 0 warnings in 1 file"
    data = report(example, rel(example, first))
    assert data["files"] == 1
    assert {f["path"] for f in data["findings"]} == {rel(example, first)}


def test_json_output_shape(example: Path) -> None:
    all_records = sum(len(records(example, folder)) for folder in ("sops", "capa", "deviations"))
    path = records(example, "capa")[0]
    replace_field(path, "owner", "owner: x.nobody")
    write(example / "sops" / "README.md", "not a record\n")
    result = qms("validate", "--format", "json", repo=example)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert set(data) == {"ok", "files", "errors", "warnings", "findings"}
    assert data["ok"] is False
    assert data["files"] == all_records + 1  # the records and qms.yaml
    assert data["errors"] == 2
    assert data["warnings"] == 0
    for finding in data["findings"]:
        assert set(finding) == {"path", "line", "severity", "code", "message", "fix", "record"}
        assert isinstance(finding["line"], int)
        assert finding["fix"]


def test_text_output_one_line_per_finding_and_its_fix(example: Path) -> None:
    capa = records(example, "capa")[0]
    deviation = records(example, "deviations")[0]
    capa_line = replace_field(capa, "owner", "owner: x.nobody")
    dev_line = replace_field(deviation, "area", "area: moon-base")
    result = qms("validate", repo=example)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines == [
        f"{rel(example, capa)}:{capa_line}: error: {capa.stem}: 'owner' names 'x.nobody', "
        "who is not a person in qms.yaml [ref.unknown-person]",
        lines[1],
        f"{rel(example, deviation)}:{dev_line}: error: {deviation.stem}: the area 'moon-base' "
        "is not listed in qms.yaml [ref.unknown-area]",
        lines[3],
        lines[4],
    ]
    assert lines[1].startswith("    fix: use a person ID from qms.yaml (")
    assert lines[3].startswith("    fix: use one of: ")
    assert re.fullmatch(r"2 errors, 0 warnings in [0-9]+ files", lines[4])


def test_every_broken_file_is_named_in_one_run(example: Path) -> None:
    sop = records(example, "sops")[0]
    capa = records(example, "capa")[0]
    deviation = records(example, "deviations")[0]
    replace_field(sop, "version", "version: 1.10")
    drop_field(capa, "problem")
    replace_field(deviation, "area", "area: moon-base")
    write(example / "capa" / "notes.md", "stray\n")
    paths = {f["path"] for f in report(example)["findings"]}
    assert paths == {
        rel(example, sop),
        rel(example, capa),
        rel(example, deviation),
        "capa/notes.md",
    }
    text = qms("validate", repo=example).stdout
    for path in paths:
        assert f"{path}" in text
