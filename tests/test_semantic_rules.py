"""The semantic rules of `qms validate`, one finding code at a time, and the output's escaping.

Every case starts from a copy of the shipped example (which validates clean), makes one small
edit to one record or to qms.yaml, and compares the whole finding of `qms validate --format
json` (path, line, severity, code, record, message and fix) with what the rule must say. Each
case also checks that the finding is the only one of its code.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from toolkit.cli import qms, qms_cli
from toolkit.edits import (
    add_field,
    config,
    drop_field,
    insert_after,
    line_of,
    record_with,
    records,
    rel,
    replace_field,
    replace_line,
    value_of,
)

Finding = dict[str, Any]

FILL_FIX = "replace the template text with the real content"
PRIVACY_FIX = "remove it; name a patient only by the chain-of-identity pseudonym (COI)"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleExampleExampleExampleExampleExampleEx x"


# --- helpers (the file-editing ones follow test_validation_checks.py) ----------------------


def run_json(repo: Path) -> tuple[int, dict[str, Any], str]:
    """Exit code, parsed report and raw stdout of `qms validate --format json`."""
    result = qms("validate", "--format", "json", repo=repo)
    assert "Traceback" not in result.stdout + result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return result.exit_code, data, result.stdout


def report(repo: Path) -> dict[str, Any]:
    code, data, _ = run_json(repo)
    assert code == (0 if data["ok"] else 1)
    return data


def of_code(repo: Path, code: str) -> list[Finding]:
    """Every finding of one code, whole."""
    return [f for f in report(repo)["findings"] if f["code"] == code]


def finding(
    path: str,
    line: int,
    code: str,
    message: str,
    fix: str,
    record: str | None,
    severity: str = "error",
) -> Finding:
    return {
        "path": path,
        "line": line,
        "severity": severity,
        "code": code,
        "message": message,
        "fix": fix,
        "record": record,
    }


def load(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        text = text.split("\n---\n", 1)[0].removeprefix("---\n")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


# --- the starting point -------------------------------------------------------------------


def test_example_is_clean(example: Path) -> None:
    code, data, _ = run_json(example)
    assert (code, data["findings"]) == (0, [])


# --- CAPA ---------------------------------------------------------------------------------


def test_two_actions_with_the_same_id(example: Path) -> None:
    path = record_with(example, "capa", r"^  - id: A1$", r"^  - id: A2$")
    line = replace_line(path, "  - id: A2", "  - id: A1")
    assert of_code(example, "capa.action-id") == [
        finding(
            rel(example, path),
            line,
            "capa.action-id",
            "the action ID A1 is used twice (first as actions[0])",
            "number each action once: A1, A2, …",
            path.stem,
        )
    ]


# --- qms.yaml -----------------------------------------------------------------------------


def test_two_people_with_one_email_differing_in_case(example: Path) -> None:
    path = example / "qms.yaml"
    first, second = config(example)["people"][:2]
    shouted = first["email"].upper()
    line = replace_line(path, f'    email: "{second["email"]}"', f'    email: "{shouted}"')
    got = report(example)["findings"]
    assert [f for f in got if f["code"] == "config.email"] == [
        finding(
            "qms.yaml",
            line,
            "config.email",
            f"the email {shouted} belongs to two people",
            "each person signs with their own email; correct one of them",
            None,
        )
    ]
    assert [f["code"] for f in got] == ["config.email"]


def test_duplicate_person_id(example: Path) -> None:
    path = example / "qms.yaml"
    first, second = config(example)["people"][:2]
    line = replace_line(path, f"  - id: {second['id']}", f"  - id: {first['id']}")
    got = report(example)["findings"]
    assert [f for f in got if f["code"] == "config.person-id"] == [
        finding(
            "qms.yaml",
            line,
            "config.person-id",
            f"the person ID {first['id']!r} is used twice",
            "give every person one unique ID",
            None,
        )
    ]
    assert [f["code"] for f in got] == ["config.person-id"]


@pytest.mark.parametrize(
    ("field", "lines"),
    [
        ("valid_until", ['        valid_until: "2026-01-01"']),
        # 'on' is a YAML 1.1 boolean; as a key here it must stay the text "on".
        (
            "revoked",
            [
                "        revoked:",
                '          on: "2026-01-01"',
                '          reason: "Laptop lost; key replaced the same day."',
            ],
        ),
    ],
)
def test_key_window_ending_before_it_starts(example: Path, field: str, lines: list[str]) -> None:
    path = example / "qms.yaml"
    owner = config(example)["people"][0]["id"]
    roles_line = line_of(path, r"^    roles: \[")
    insert_after(
        path,
        roles_line,
        "\n".join(
            [
                "    keys:",
                f'      - public_key: "{KEY}"',
                '        valid_from: "2026-06-01"',
                *lines,
            ]
        ),
    )
    assert config(example)["people"][0]["id"] == owner  # the key went to the first person
    assert of_code(example, "config.key-window") == [
        finding(
            "qms.yaml",
            line_of(path, rf"^        {field}:"),
            "config.key-window",
            f"'{field}' 2026-01-01 is before 'valid_from' 2026-06-01",
            "correct the key's validity window",
            None,
        )
    ]


COI_PATTERN_FINDING = (
    "the COI pattern also accepts empty text or names, so it cannot keep patient identifiers out"
)


def test_coi_pattern_that_accepts_anything(example: Path) -> None:
    path = example / "qms.yaml"
    line = replace_field(path, "pattern", "  pattern: '.*'", indent="  ")
    assert of_code(example, "config.coi-pattern") == [
        finding(
            "qms.yaml",
            line,
            "config.coi-pattern",
            COI_PATTERN_FINDING,
            "allow only the pseudonym's own form, e.g. '^COI-[A-Z]{3}-[0-9]{6}$'",
            None,
        )
    ]


def test_coi_pattern_with_a_fixed_prefix_and_free_text_is_flagged(example: Path) -> None:
    # '^COI-.*$' accepts "COI-" followed by anything, a name included.
    pattern = "^COI-.*$"
    assert re.fullmatch(pattern, "COI-Smith, John")
    replace_field(example / "qms.yaml", "pattern", f"  pattern: '{pattern}'", indent="  ")
    assert [f["code"] for f in of_code(example, "config.coi-pattern")] == ["config.coi-pattern"]


def test_shipped_coi_pattern_is_accepted(example: Path) -> None:
    assert config(example)["coi"]["pattern"] == "^COI-[A-Z]{3}-[0-9]{6}$"
    assert of_code(example, "config.coi-pattern") == []


# --- deviations ---------------------------------------------------------------------------


def test_report_three_days_after_discovery_is_a_warning(example: Path) -> None:
    path = record_with(example, "deviations", r"^reported_at: ")
    discovered = value_of(path, "discovered_at")
    reported = (datetime.fromisoformat(discovered) + timedelta(days=3)).isoformat()
    line = replace_field(path, "reported_at", f'reported_at: "{reported}"')
    code, data, _ = run_json(example)
    hours = config(example)["due_dates"]["report_hours"]
    assert data["findings"] == [
        finding(
            rel(example, path),
            line,
            "deviation.late-report",
            f"reported 72 h after discovery; the policy asks for {hours} h",
            "no change to the dates: explain the delay in 'description'",
            path.stem,
            severity="warning",
        )
    ]
    assert (code, data["ok"], data["errors"], data["warnings"]) == (0, True, 0, 1)


def late_investigation(path: Path) -> tuple[str, str, str]:
    """Move 'investigation.due' 20 days past what the policy allows: (old, new, allowed)."""
    data = load(path)
    old = data["investigation"]["due"]
    allowed = date.fromisoformat(data["discovered_at"][:10]) + timedelta(days=30)
    return old, (allowed + timedelta(days=20)).isoformat(), allowed.isoformat()


def test_investigation_due_beyond_the_policy_without_extension(example: Path) -> None:
    assert config(example)["due_dates"]["investigation_days"] == 30
    path = record_with(example, "deviations", r"^  due: ")
    old, due, allowed = late_investigation(path)
    line = replace_line(path, f'  due: "{old}"', f'  due: "{due}"')
    assert of_code(example, "deviation.investigation-due") == [
        finding(
            rel(example, path),
            line,
            "deviation.investigation-due",
            f"'investigation.due' {due} is later than the 30 days after discovery that the "
            f"policy allows ({allowed})",
            f"set it to {allowed} or earlier, or record a justified 'investigation.extension' "
            "approved by QA",
            path.stem,
        )
    ]


def test_investigation_due_beyond_the_policy_with_an_extension(example: Path) -> None:
    path = record_with(example, "deviations", r"^  due: ")
    old, due, _ = late_investigation(path)
    extended = (date.fromisoformat(due) + timedelta(days=14)).isoformat()
    approver = config(example)["people"][0]["id"]
    replace_line(
        path,
        f'  due: "{old}"',
        f'  due: "{due}"\n'
        "  extension:\n"
        f'    due: "{extended}"\n'
        '    justification: "The manufacturer\'s root-cause report is not yet available."\n'
        f"    approved_by: {approver}",
    )
    assert load(path)["investigation"]["extension"]["approved_by"] == approver
    code, data, _ = run_json(example)
    assert (code, data["findings"]) == (0, [])


# --- date order ---------------------------------------------------------------------------


def closed_capa(repo: Path) -> Path:
    return record_with(repo, "capa", r"^state: closed$", r"^  checked_on: ", r"^closed: ")


def test_capa_closed_before_its_effectiveness_check(example: Path) -> None:
    path = closed_capa(example)
    closed = value_of(path, "closed")
    checked = (date.fromisoformat(closed) + timedelta(days=3)).isoformat()
    old = load(path)["effectiveness"]["checked_on"]
    replace_line(path, f'  checked_on: "{old}"', f'  checked_on: "{checked}"')
    assert of_code(example, "dates.order") == [
        finding(
            rel(example, path),
            line_of(path, r"^closed: "),
            "dates.order",
            f"closed before the effectiveness check: 'closed' {closed} is earlier than "
            f"'effectiveness.checked_on' {checked}",
            "correct whichever date is wrong; dates must follow the order of events",
            path.stem,
        )
    ]


def test_action_completed_after_the_effectiveness_check(example: Path) -> None:
    path = closed_capa(example)
    data = load(path)
    checked = data["effectiveness"]["checked_on"]
    index = len(data["actions"]) - 1
    old = data["actions"][index]["completed"]
    completed = (date.fromisoformat(checked) + timedelta(days=2)).isoformat()
    assert completed < data["closed"]  # still before closure: only one rule is broken
    replace_line(path, f'    completed: "{old}"', f'    completed: "{completed}"')
    assert of_code(example, "dates.order") == [
        finding(
            rel(example, path),
            line_of(path, r"^  checked_on: "),
            "dates.order",
            f"effectiveness checked before an action was completed: 'effectiveness.checked_on' "
            f"{checked} is earlier than 'actions[{index}].completed' {completed}",
            "correct whichever date is wrong; dates must follow the order of events",
            path.stem,
        )
    ]


# --- references ---------------------------------------------------------------------------


def test_sop_naming_itself_in_related_sops(example: Path) -> None:
    path = record_with(example, "sops", r"^related_sops: \[")
    others = load(path)["related_sops"]
    line = replace_field(path, "related_sops", f"related_sops: [{others[0]}, {path.stem}]")
    code, data, _ = run_json(example)
    assert data["findings"] == [
        finding(
            rel(example, path),
            line,
            "ref.self",
            "'related_sops[1]' names the record itself",
            "remove the entry",
            path.stem,
            severity="warning",
        )
    ]
    assert code == 0


def test_sop_superseding_its_own_version(example: Path) -> None:
    path = record_with(example, "sops", r"^version: 2$", r'^supersedes: "SOP-[0-9]{4} v1"$')
    line = replace_field(path, "supersedes", f'supersedes: "{path.stem} v2"')
    assert of_code(example, "sop.supersedes") == [
        finding(
            rel(example, path),
            line,
            "sop.supersedes",
            "version 2 cannot supersede version 2 of itself",
            f"a revision supersedes an earlier version: 'supersedes: {path.stem} v1'",
            path.stem,
        )
    ]


def test_capa_naming_a_deviation_that_does_not_name_it_back(example: Path) -> None:
    silent = record_with(example, "deviations", r"^state: reported$")
    assert "capa" not in load(silent)
    path = record_with(example, "capa", r"^  references: \[DEV-[0-9-]+\]$")
    own = load(path)["source"]["references"]
    line = replace_field(
        path, "references", f"  references: [{own[0]}, {silent.stem}]", indent="  "
    )
    code, data, _ = run_json(example)
    assert data["findings"] == [
        finding(
            rel(example, path),
            line,
            "ref.one-way",
            f"{path.stem} names {silent.stem}, but {silent.stem} does not name {path.stem}",
            f"add {path.stem} to 'capa' of {silent.stem}, or remove the link here",
            path.stem,
            severity="warning",
        )
    ]
    assert code == 0


# --- template text ------------------------------------------------------------------------


def test_field_still_holding_template_text(example: Path) -> None:
    path = records(example, "deviations")[0]
    line = replace_field(path, "reported_by", 'reported_by: "FILL IN: something"')
    code, data, _ = run_json(example)
    assert data["findings"] == [
        finding(
            rel(example, path),
            line,
            "placeholder",
            "'reported_by' still holds template text (FILL IN …)",
            FILL_FIX,
            path.stem,
            severity="warning",
        )
    ]
    assert code == 0


# --- privacy ------------------------------------------------------------------------------


def test_patient_identifier_in_a_comment_line(example: Path) -> None:
    path = records(example, "deviations")[-1]
    line = add_field(path, "# MRN: 12345678")
    code, data, json_out = run_json(example)
    assert data["findings"] == [
        finding(
            rel(example, path),
            line,
            "privacy.patient-identifier",
            "this line looks like it holds a patient identifier (medical record number)",
            PRIVACY_FIX,
            path.stem,
        )
    ]
    assert code == 1
    in_process = qms("validate", repo=example)
    assert in_process.exit_code == 1
    real = qms_cli(example, "validate", check=False)  # as a terminal receives it
    assert real.returncode == 1
    for out in (json_out, in_process.stdout, in_process.stderr, real.stdout, real.stderr):
        assert "12345678" not in out


def test_patient_identifier_without_a_privacy_section(example: Path) -> None:
    drop_field(example / "qms.yaml", "privacy")
    assert "privacy" not in config(example)
    path = records(example, "deviations")[0]
    line = replace_field(
        path, "description", 'description: "The lab sheet of the patient showed MRN: 12345678."'
    )
    code, data, json_out = run_json(example)
    assert data["findings"] == [
        finding(
            rel(example, path),
            line,
            "privacy.patient-identifier",
            "this line looks like it holds a patient identifier (medical record number)",
            PRIVACY_FIX,
            path.stem,
        )
    ]
    assert code == 1
    assert "12345678" not in json_out


@pytest.mark.parametrize(
    ("value", "secret"), [("MRN 12345678 X", "12345678"), ("lot 987654321 / X", "987654321")]
)
def test_schema_message_does_not_repeat_a_long_number(
    example: Path, value: str, secret: str
) -> None:
    path = record_with(example, "deviations", r"^  batch: ")
    line = replace_field(path, "batch", f'  batch: "{value}"', indent="  ")
    assert of_code(example, "schema.pattern") == [
        finding(
            rel(example, path),
            line,
            "schema.pattern",
            f"'product.batch' is a text of {len(value)} characters (not repeated here), "
            "which is not in the expected form",
            "batch or lot number as printed on the label",
            path.stem,
        )
    ]
    _, _, json_out = run_json(example)
    assert secret not in json_out
    assert secret not in qms("validate", repo=example).stdout


# --- escaping of record text in the output ------------------------------------------------

BIDI = "\u202e"
FIELD = f"nom\u00e9{BIDI}txt"


def add_unknown_product_field(repo: Path) -> tuple[Path, int]:
    """A deviation with é and a bidi override in its description and in a field name."""
    path = record_with(repo, "deviations", r"^product:$", r"^  batch: ")
    replace_field(
        path, "description", f'description: "Label read as caf\u00e9 {BIDI}reversed text."'
    )
    line = line_of(path, r"^  batch: ")
    insert_after(path, line, f'  "{FIELD}": "x"')
    return path, line + 1


def test_json_output_is_ascii_with_record_text_escaped(example: Path) -> None:
    path, line = add_unknown_product_field(example)
    assert load(path)["description"] == f"Label read as caf\u00e9 {BIDI}reversed text."
    code, data, json_out = run_json(example)
    assert json_out.isascii()
    assert "\\u00e9" in json_out
    assert "\\u202e" in json_out
    assert data["findings"] == [
        finding(
            rel(example, path),
            line,
            "schema.unknown-field",
            f"unknown field 'product.{FIELD}'",
            "remove it or correct its spelling; fields allowed here: batch, coi, manufacturer, name",
            path.stem,
        )
    ]
    assert code == 1


def test_text_output_shows_a_bidi_override_escaped(example: Path) -> None:
    path, line = add_unknown_product_field(example)
    result = qms_cli(example, "validate", check=False)  # as a terminal receives it
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert BIDI not in result.stdout
    assert BIDI not in result.stderr
    assert (
        f"{rel(example, path)}:{line}: error: {path.stem}: unknown field 'product.nom\u00e9\\u202etxt' "
        "[schema.unknown-field]"
    ) in result.stdout.splitlines()
