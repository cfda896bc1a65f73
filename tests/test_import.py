"""`qms import`: legacy SOPs (.docx), CAPA logs (.xlsx) and deviation logs (.csv) migrated with a
gap analysis, against real files made here, a real repository and real signed commits."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
import yaml

from test_import_independent import DAY, admin_and_officer
from toolkit.people import Person
from toolkit.world import World, build_world


@pytest.fixture(scope="module")
def built_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory, admin_and_officer)


@pytest.fixture
def team(built_world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A private copy of the module's repository: a.weber (admin and qa-manager) and m.okafor
    (qa-officer), the clock on DAY."""
    for variable in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        monkeypatch.setenv(variable, f"{DAY}T09:00:00Z")
    world = built_world.copy(tmp_path, monkeypatch)
    return world, world.people["a.weber"], world.people["m.okafor"]


def run(world: World, person: Person, *args: str, ok: bool | None = None) -> tuple[int, str]:
    from toolkit.cli import qms

    with world.acting(person):
        result = qms(*args, repo=world.repo)
    if ok is not None:
        assert (result.exit_code == 0) is ok, result.output + result.stderr
    return result.exit_code, result.output + result.stderr


def tree_files(repo: Path) -> set[str]:
    return {
        p.relative_to(repo).as_posix()
        for p in repo.rglob("*")
        if p.is_file() and ".git" not in p.parts
    }


# -- legacy files, made as the legacy tools would ------------------------------------------

CAPA_HEADERS = [
    "CAPA No.",
    "Title",
    "Status",
    "Responsible",
    "Date opened",
    "Target date",
    "Source",
    "External reference",
    "Problem description",
    "Severity",
    "Occurrence",
    "Detection",
    "Risk rationale",
    "Root cause",
    "RCA method",
    "Root cause category",
    "Corrective action",
    "Completion date",
    "Evidence",
    "Effectiveness criteria",
    "Effectiveness due",
    "Effectiveness result",
    "Effective?",
    "Verified by",
    "Verified on",
    "Date closed",
    "Comments (internal)",
]


def capa_row(legacy: str, status: str, **changes: Any) -> list[Any]:
    row: dict[str, Any] = {
        "CAPA No.": legacy,
        "Title": f"Logger review before storage ({legacy})",
        "Status": status,
        "Responsible": "Dr. Anna Weber",
        "Date opened": datetime(2025, 2, 20),
        "Target date": "31.08.2025",
        "Source": "Internal audit",
        "External reference": "Audit report IA-2025-03",
        "Problem description": "Dry shipper logger data were reviewed after storage.",
        "Severity": 4,
        "Occurrence": 2,
        "Detection": 3,
        "Risk rationale": "Cold-chain failure may reduce product viability.",
        "Root cause": "The receipt SOP had no hold point for logger review.",
        "RCA method": "5 Whys",
        "Root cause category": "Process",
        "Corrective action": "Revise the receipt SOP with a logger hold point.",
        "Completion date": datetime(2025, 4, 20),
        "Evidence": "SOP revision approved under CC-2025-014.",
        "Effectiveness criteria": "No product stored with unreviewed logger data for 3 months.",
        "Effectiveness due": "2025-08-10",
        "Effectiveness result": "13 of 13 receipts reviewed before opening.",
        "Effective?": "Yes",
        "Verified by": "m.okafor",
        "Verified on": "2025-08-10",
        "Date closed": "14.08.2025",
        "Comments (internal)": "checked at QA meeting",
    }
    row.update(changes)
    return [row[h] for h in CAPA_HEADERS]


def capa_workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "CAPA log"
    sheet.append(["CAPA log 2025, Cell Therapy Unit (controlled copy)"])  # a title above
    sheet.append(CAPA_HEADERS)  # header: row 2
    sheet.append(capa_row("CAPA-17", "Closed - effective"))  # row 3: closed, complete
    sheet.append(  # row 4: open, Excel serial date, missing problem text -> placeholder
        capa_row(
            "CAPA-18",
            "Open",
            **{"Date opened": 45658, "Problem description": None, "Date closed": None},
        )
    )
    sheet.append([None] * len(CAPA_HEADERS))  # row 5: blank
    sheet.append(["2024 entries"] + [None] * (len(CAPA_HEADERS) - 1))  # row 6: merged heading
    sheet.merge_cells("A6:E6")
    sheet.append(  # row 7: a patient identifier in the problem text
        capa_row(
            "CAPA-19", "Open", **{"Problem description": "Bag of patient MRN 00123456 leaked."}
        )
    )
    sheet.append(capa_row("CAPA-20", "Open", **{"Date opened": "03/04/2025"}))  # row 8: ambiguous
    sheet.append(capa_row("CAPA-21", "Parked"))  # row 9: unknown status word
    sheet.append(capa_row("CAPA-17", "Open"))  # row 10: duplicate legacy ID
    sheet.append(  # row 11: closed, but the source lacks the effectiveness result
        capa_row("CAPA-22", "Closed", **{"Effectiveness result": None})
    )
    notes = book.create_sheet("Notes")
    notes.append(["free text"])
    book.save(path)
    return path


def deviation_csv(path: Path) -> Path:
    lines = [
        "Dev No;Title;Type;Status;Date of event;Reported by;Owner;Department;"
        "Patient involved;Description;Immediate action;Storage location",
        "D-101;Freezer alarm CRYO-02 at night;Equipment failure;Open;12.03.2025 02:10;"
        "Lab technician;a.weber;Cryostorage;Nein;Alarm at 02:10, temperature stayed at -150 °C "
        "or colder;Alarm acknowledged, back-up freezer checked;Raum 3",
        "D-102;Label smudged on shipper;GDP;Geöffnet;14.03.2025;Pharmacy technician;a.weber;"
        "Pharmacy;no;Label on the outer shipper was smudged, COI still readable;"
        "Photograph taken;Lager",
    ]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252", errors="strict"))
    return path


def sop_document(path: Path, *, identifier: bool = False, number: str = "SOP-PH-012") -> Path:
    document = docx.Document()
    document.core_properties.title = "Receipt of cryoshipped ATMPs"
    document.core_properties.author = "Dr. Anna Weber"
    table = document.add_table(rows=3, cols=4)
    for row, pairs in enumerate(
        (
            ("Document No.", number, "Version", "3.0"),
            ("Effective date", "01.06.2023", "Area", "Pharmacy"),
            ("Approved by", "Dr. A. Weber, 15.05.2023", "Training audience", "Pharmacists, Nurses"),
        )
    ):
        for column, text in enumerate(pairs):
            table.cell(row, column).text = text
    document.add_paragraph("Change control: CC-2023-041")
    document.add_heading("Purpose", level=1)
    document.add_paragraph("Receive cryoshipped products safely.")
    if identifier:
        document.add_paragraph("Example: patient MRN 00123456 received a product.")
    document.add_heading("Procedure", level=1)
    for step in ("Check the seals.", "Read the logger.", "Store the product."):
        document.add_paragraph(step, style="List Number")
    document.add_paragraph("Read the logger twice.", style="List Number 2")
    steps = document.add_table(rows=2, cols=2)
    steps.cell(0, 0).text, steps.cell(0, 1).text = "Check", "Limit"
    steps.cell(1, 0).text, steps.cell(1, 1).text = "Logger maximum", "≤ -150 °C | alarm"
    document.save(path)
    return path


# -- the tests -----------------------------------------------------------------------------


def test_capa_log_imports_with_every_gap_named(team: Any, tmp_path: Path) -> None:
    world, admin, _ = team
    source = capa_workbook(tmp_path / "capa-log-2025.xlsx")
    code, out = run(
        world,
        admin,
        "import",
        "capa",
        str(source),
        "--format",
        "json",
        "--commit",
        "--reason",
        "migration of the 2025 CAPA log",
    )
    assert code == 1, out  # rows were refused
    report = json.loads(out[: out.rindex("}") + 1])
    assert report["counts"] == {"read": 8, "imported": 2, "refused": 6}, json.dumps(
        report["files"][0]["outcomes"], indent=1
    )
    file = report["files"][0]
    assert file["sheet"] == "CAPA log" and file["header_row"] == 2
    assert file["other_sheets_not_read"] == ["Notes"]
    assert file["blank_rows"] == [5]
    assert file["unmapped_columns"] == ["Comments (internal)"]
    by_row = {o["row"]: o for o in file["outcomes"]}
    assert by_row[3]["record"] == "CAPA-2025-0001" and by_row[4]["record"] == "CAPA-2025-0002"
    assert not by_row[6]["imported"]  # the merged heading row
    assert "patient identifier" in by_row[7]["refused"][0]
    assert "00123456" not in out
    assert "ambiguous" in by_row[8]["refused"][0] and "--day-first" in by_row[8]["refused"][0]
    assert "'Parked' is not a known legacy wording" in by_row[9]["refused"][0]
    assert "duplicate legacy ID: first seen at row 3" in by_row[10]["refused"][0]
    assert "cannot be completed later" in by_row[11]["refused"][0]
    assert "effectiveness.result" in by_row[11]["refused"][0]
    gaps = {(g["kind"], g["field"]) for g in by_row[4]["gaps"]}
    assert ("placeholder", "problem") in gaps
    assert ("unreadable", "opened") not in gaps

    repo = world.repo
    closed = yaml.safe_load((repo / "capa/CAPA-2025-0001.yaml").read_text())
    assert closed["state"] == "closed" and closed["closed"] == "2025-08-14"
    assert closed["opened"] == "2025-02-20" and closed["due"] == "2025-08-31"
    assert closed["effectiveness"]["checked_by"] == "m.okafor"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    assert closed["migration"] == {
        "source": "capa-log-2025.xlsx",
        "sha256": digest,
        "sheet": "CAPA log",
        "row": 3,
        "legacy_id": "CAPA-17",
        "imported": DAY,
        "tool": closed["migration"]["tool"],
    }
    assert closed["migration"]["tool"].startswith("gitqms ")
    opened = yaml.safe_load((repo / "capa/CAPA-2025-0002.yaml").read_text())
    assert opened["opened"] == "2025-01-01"  # Excel serial 45658
    assert opened["state"] == "initiated" and opened["problem"].startswith("FILL IN")

    markdown = (repo / report["report"]).read_text()
    assert report["report"].startswith("imports/gap-analysis-2026-11-20-capa-")
    for row in (3, 4, 6, 7, 8, 9, 10, 11):
        assert f"| row {row} |" in markdown
    assert "Read 8: imported 2, not imported 6; blank rows skipped: 5" in markdown
    assert "00123456" not in markdown

    code, out = run(world, admin, "validate")
    assert code == 0, out
    assert "placeholder" in out  # the template text stays flagged
    run(world, admin, "check", "HEAD~1..HEAD", ok=True)
    _, verified = run(world, admin, "verify", "--format", "json", ok=True)
    verdicts = [v for v in json.loads(verified)["signatures"] if v["meaning"] == "migrated"]
    assert {v["record"] for v in verdicts} == {"CAPA-2025-0001", "CAPA-2025-0002"}
    assert world.git("status", "--porcelain") == ""


def test_unsigned_commit_of_a_closed_migrated_capa_fails_check(team: Any, tmp_path: Path) -> None:
    world, admin, _officer = team
    source = capa_workbook(tmp_path / "capa-log-2025.xlsx")
    run(world, admin, "import", "capa", str(source))  # written, not committed
    base = world.head()
    closed = "capa/CAPA-2025-0001.yaml"
    with world.acting(admin):
        world.git("add", closed)
        world.git("commit", "-q", "--no-gpg-sign", "-m", "import", "-m", "Reason: legacy")
    code, out = run(world, admin, "check", f"{base}..HEAD")
    assert code == 1 and "[state.initial]" in out and "migrated" in out
    # a migration block added to an existing record is refused as well
    with world.acting(admin):
        world.git("reset", "-q", "--hard", base)
    run(world, admin, "new", "capa", "--title", "Existing CAPA", ok=True)
    new = next((world.repo / "capa").glob("CAPA-2026-*.yaml"))
    text = new.read_text().replace("FILL IN", "Described")
    new.write_text(text)
    with world.acting(admin):
        world.git("add", "capa")
        world.git("commit", "-q", "--no-gpg-sign", "-m", "new", "-m", "Reason: new")
    middle = world.head()
    new.write_text(
        text
        + 'migration:\n  source: "x.xlsx"\n  sha256: "'
        + "0" * 64
        + '"\n'
        + '  imported: "2026-11-20"\n  tool: "gitqms 0.1.0"\n'
    )
    with world.acting(admin):
        world.git("commit", "-q", "--no-gpg-sign", "-am", "edit", "-m", "Reason: edit")
    code, out = run(world, admin, "check", f"{middle}..HEAD")
    assert code == 1 and "[migration.changed]" in out


def test_signed_import_needs_the_migrated_role(team: Any, tmp_path: Path) -> None:
    world, _, officer = team
    source = capa_workbook(tmp_path / "capa-log-2025.xlsx")
    before, files = world.head(), tree_files(world.repo)
    code, out = run(
        world, officer, "import", "capa", str(source), "--commit", "--reason", "migration"
    )
    assert code == 1 and "'migrated' needs one of the roles qa-manager" in out
    assert world.head() == before and tree_files(world.repo) == files


def test_dry_run_and_failed_run_write_nothing(team: Any, tmp_path: Path) -> None:
    world, admin, _ = team
    before = tree_files(world.repo)
    source = capa_workbook(tmp_path / "capa.xlsx")
    code, out = run(world, admin, "import", "capa", str(source), "--dry-run")
    assert code == 1 and "nothing written (dry run)" in out and "row 3: CAPA-2025-0001" in out
    assert tree_files(world.repo) == before
    good = sop_document(tmp_path / "good.docx")
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"PK\x03\x04 this is not a zip")
    code, out = run(world, admin, "import", "sops", str(good), str(broken))
    assert code == 2 and "broken.docx" in out
    assert tree_files(world.repo) == before
    macro = tmp_path / "log.xlsm"
    macro.write_bytes(source.read_bytes())
    code, out = run(world, admin, "import", "capa", str(macro))
    assert code == 2 and "macro" in out
    encrypted = tmp_path / "locked.xlsx"
    encrypted.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    code, out = run(world, admin, "import", "capa", str(encrypted))
    assert code == 2 and "password-protected" in out
    assert tree_files(world.repo) == before


def test_sop_from_docx(team: Any, tmp_path: Path) -> None:
    world, admin, _ = team
    source = sop_document(tmp_path / "SOP-PH-012 Receipt.docx")
    risky = sop_document(tmp_path / "with-identifier.docx", identifier=True, number="SOP-PH-013")
    code, out = run(
        world,
        admin,
        "import",
        "sops",
        str(source),
        str(risky),
        "--format",
        "json",
        "--commit",
        "--reason",
        "paper SOP migration",
    )
    assert code == 1, out
    report = json.loads(out[: out.rindex("}") + 1])
    assert report["counts"] == {"read": 2, "imported": 1, "refused": 1}
    refused = report["files"][1]["outcomes"][0]
    assert "patient identifier" in refused["refused"][0] and "00123456" not in out
    text = (world.repo / "sops/SOP-0001.md").read_text()
    front = yaml.safe_load(text.split("---")[1])
    assert front["title"] == "Receipt of cryoshipped ATMPs"
    assert front["version"] == 3 and front["supersedes"] == "SOP-0001 v2"
    assert front["effective_date"] == "2023-06-01" and front["area"] == "pharmacy"
    assert front["owner"] == "a.weber" and front["change_control"] == "CC-2023-041"
    assert front["training"]["audience"] == ["pharmacists", "nurses"]
    assert front["migration"]["legacy_id"] == "SOP-PH-012"
    assert front["migration"]["legacy_approval"] == [
        {
            "role": "approved",
            "as_written": "Dr. A. Weber, 15.05.2023",
            "name": "Dr. A. Weber",
            "date": "15.05.2023",
        }
    ]
    body = text.split("---", 2)[2]
    assert "## Purpose" in body and "## Procedure" in body
    assert "1. Check the seals.\n2. Read the logger.\n3. Store the product." in body
    assert "    1. Read the logger twice." in body
    assert "| Logger maximum | ≤ -150 °C \\| alarm |" in body
    assert "Document No." not in body  # the header table is metadata, not body
    run(world, admin, "validate", ok=True)
    run(world, admin, "check", "HEAD~1..HEAD", ok=True)
    run(world, admin, "verify", ok=True)
    _, status = run(world, admin, "status", "SOP-0001", "--format", "json", ok=True)
    assert json.loads(status)["records"][0]["state"] == "draft"
    code, out = run(world, admin, "import", "sops", str(source), "--dry-run")
    assert "legacy ID already migrated as SOP-0001" in out


def test_cp1252_semicolon_csv_of_deviations(team: Any, tmp_path: Path) -> None:
    world, admin, _ = team
    source = deviation_csv(tmp_path / "abweichungen.csv")
    code, out = run(
        world,
        admin,
        "import",
        "deviations",
        str(source),
        "--format",
        "json",
        "--map",
        "Storage location=-",
        "--commit",
        "--reason",
        "deviation log migration",
    )
    report = json.loads(out[: out.rindex("}") + 1])
    file = report["files"][0]
    assert (file["encoding"], file["delimiter"]) == ("cp1252", ";")
    by_row = {o["row"]: o for o in file["outcomes"]}
    assert by_row[2]["record"] == "DEV-2025-0001", by_row[2]
    assert "'Geöffnet' is not a known legacy wording" in by_row[3]["refused"][0]
    assert report["counts"] == {"read": 2, "imported": 1, "refused": 1}
    assert code == 1
    record = yaml.safe_load((world.repo / "deviations/DEV-2025-0001.yaml").read_text())
    assert record["occurred_at"] == "2025-03-12T02:10:00Z"
    assert record["type"] == "equipment" and record["area"] == "cryostorage"
    assert record["patient_involved"] is False and "-150 °C" in record["description"]
    assert record["migration"]["row"] == 2 and record["migration"]["legacy_id"] == "D-101"
    assert ("assumed", "discovered_at") in {(g["kind"], g["field"]) for g in by_row[2]["gaps"]}
    run(world, admin, "validate", ok=True)
    run(world, admin, "check", "HEAD~1..HEAD", ok=True)


def test_day_first_resolves_the_ambiguous_date(team: Any, tmp_path: Path) -> None:
    world, admin, _ = team
    source = capa_workbook(tmp_path / "capa.xlsx")
    _, out = run(
        world, admin, "import", "capa", str(source), "--dry-run", "--day-first", "--format", "json"
    )
    report = json.loads(out[: out.rindex("}") + 1])
    row = next(o for o in report["files"][0]["outcomes"] if o["row"] == 8)
    assert row["imported"], row
