"""`qms import`, tested from outside: messy legacy files, patient identifiers in odd places, hostile
text, forged migration signatures, re-runs and interrupted writes, against a real repository with
real people, ssh-keygen keys and signed commits (one world per module, a private copy per test)."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import socket
import zipfile
from pathlib import Path
from typing import Any

import docx
import markdown
import openpyxl
import pytest
import yaml
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from toolkit.cli import qms
from toolkit.people import Person
from toolkit.world import World, build_world

DAY = "2026-11-20"
IDENTIFIER = "MRN 00123456"
BIDI = "\u202e"


def admin_and_officer(world: World) -> None:
    """One initialised repository: a.weber (admin, qa-manager) and m.okafor (qa-officer)."""
    for variable in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        world.monkeypatch.setenv(variable, f"{DAY}T09:00:00Z")
    admin = world.person("a.weber", "Dr. Anna Weber")
    officer = world.person("m.okafor", "Michael Okafor")
    world.init(admin)
    world.add_person(admin, officer, "qa-officer")
    world.qms(admin, "keys", "add", officer.id, str(officer.pub), "--reason", "new signer")


@pytest.fixture(scope="module")
def built_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory, admin_and_officer)


@pytest.fixture
def team(
    built_world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[World, Person, Person]:
    """A private copy of the module's repository, the same people acting on it."""
    for variable in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        monkeypatch.setenv(variable, f"{DAY}T09:00:00Z")
    world = built_world.copy(tmp_path, monkeypatch)
    return world, world.people["a.weber"], world.people["m.okafor"]


def run(world: World, person: Person, *args: str) -> tuple[int, str]:
    with world.acting(person):
        result = qms(*args, repo=world.repo)
    return result.exit_code, result.output + result.stderr


def report_of(out: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(out[: out.rindex("}") + 1])
    return data


def state(world: World) -> tuple[str, str, str, set[str]]:
    """HEAD, the index, git's view of the tree, and every file and folder on disk."""
    on_disk = {
        p.relative_to(world.repo).as_posix()
        for p in world.repo.rglob("*")
        if ".git" not in p.relative_to(world.repo).parts
    }
    return (
        world.head(),
        world.git("ls-files", "-s"),
        world.git("status", "--porcelain", "--untracked-files=all"),
        on_disk,
    )


def write_csv(path: Path, rows: list[list[str]], delimiter: str = ",") -> Path:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


DEV_HEADER = [
    "Dev No",
    "Title",
    "Type",
    "Status",
    "Date of event",
    "Reported by",
    "Owner",
    "Department",
    "Patient involved",
    "Description",
    "Immediate action",
]


def dev_row(legacy: str, **changes: str) -> list[str]:
    row = {
        "Dev No": legacy,
        "Title": f"Freezer alarm ({legacy})",
        "Type": "Equipment failure",
        "Status": "Open",
        "Date of event": "12.03.2025 02:10",
        "Reported by": "Lab technician",
        "Owner": "a.weber",
        "Department": "Cryostorage",
        "Patient involved": "no",
        "Description": "Alarm at night; the temperature stayed at -150 °C or colder.",
        "Immediate action": "Alarm acknowledged, back-up freezer checked.",
    }
    row.update(changes)
    return [row[h] for h in DEV_HEADER]


CAPA_HEADER = [
    "CAPA No",
    "Title",
    "Status",
    "Responsible",
    "Date opened",
    "Target date",
    "Source",
    "External reference",
    "Problem description",
]


def capa_row(legacy: str, **changes: Any) -> list[Any]:
    row = {
        "CAPA No": legacy,
        "Title": f"Logger review before storage ({legacy})",
        "Status": "Open",
        "Responsible": "Dr. Anna Weber",
        "Date opened": "2025-02-20",
        "Target date": "2025-08-31",
        "Source": "Internal audit",
        "External reference": "Audit report IA-2025-03",
        "Problem description": "Dry shipper logger data were reviewed after storage.",
    }
    row.update(changes)
    return [row[h] for h in CAPA_HEADER]


def markdown_rows_are_whole(text: str) -> None:
    """Every table row of the report has as many cells as its table's header row."""
    width = None
    for line in text.splitlines():
        if not line.startswith("|"):
            width = None
            continue
        cells = len(re.findall(r"(?<!\\)\|", line))
        width = width or cells
        assert cells == width, line


# -- every row of a messy workbook is accounted for --------------------------------------


def test_every_row_of_a_messy_workbook_is_accounted_for(team: Any, tmp_path: Path) -> None:
    world, admin, _ = team
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "CAPA log"
    sheet.append(["CAPA log, controlled copy"])  # row 1: a title
    sheet.append(CAPA_HEADER)  # row 2
    sheet.append(capa_row("C-1"))  # row 3
    sheet.append([None] * len(CAPA_HEADER))  # row 4: blank
    sheet.append(capa_row("C-2"))  # row 5: after the blank row
    sheet.append(capa_row("C-3"))  # row 6: hidden
    sheet.row_dimensions[6].hidden = True
    # row 7: only formulas, never computed (the file was not saved by Excel): not a blank row
    sheet.append([f"={column}3" for column in "ABCDEFGHI"])
    sheet.append(capa_row("C-5", Title="=B3&B5"))  # row 8: the title is an uncomputed formula
    sheet.append(capa_row("C-6"))  # row 9
    other = book.create_sheet("2024")
    other.append(CAPA_HEADER)
    other.append(capa_row("C-0"))
    source = tmp_path / "capa-log.xlsx"
    book.save(source)

    code, out = run(world, admin, "import", "capa", str(source), "--dry-run", "--format", "json")
    report = report_of(out)
    file = report["files"][0]
    outcomes = {o["row"]: o for o in file["outcomes"]}
    assert sorted(outcomes) == [3, 5, 6, 7, 8, 9], json.dumps(file, indent=1)
    assert file["blank_rows"] == [4]
    assert file["other_sheets_not_read"] == ["2024"]
    counts = report["counts"]
    assert counts["read"] == counts["imported"] + counts["refused"] == 6
    assert {r for r, o in outcomes.items() if o["imported"]} == {3, 5, 6, 9}
    for row in (7, 8):
        assert "formula" in " ".join(outcomes[row]["refused"]), outcomes[row]
    assert not any("FILL IN" in json.dumps(o) for o in outcomes.values() if o["row"] == 8)
    assert code == 1


def test_csv_row_wider_than_its_header_is_not_cut_silently(team: Any, tmp_path: Path) -> None:
    """An unquoted separator inside a value makes one cell too many: the tail of the value
    would vanish (or, inside the row, every later value would land in the wrong field)."""
    world, admin, _ = team
    good = dev_row("D-1")
    shifted = dev_row("D-2")
    shifted[-1:] = ["Alarm acknowledged", " back-up freezer checked."]  # one cell too many
    source = write_csv(tmp_path / "deviations.csv", [DEV_HEADER, good, shifted])
    code, out = run(
        world, admin, "import", "deviations", str(source), "--dry-run", "--format", "json"
    )
    outcomes = {o["row"]: o for o in report_of(out)["files"][0]["outcomes"]}
    assert outcomes[2]["imported"]
    assert not outcomes[3]["imported"], outcomes[3]
    assert "right of the last header column" in outcomes[3]["refused"][0] and code == 1


# -- patient identifiers -----------------------------------------------------------------


def test_identifiers_in_sheet_and_file_names_are_never_stored_or_reported(
    team: Any, tmp_path: Path
) -> None:
    world, admin, _ = team
    before = state(world)
    book = openpyxl.Workbook()
    book.active.title = "CAPA"
    book.active.append(CAPA_HEADER)
    book.active.append(capa_row("C-1"))
    book.create_sheet(f"Pt {IDENTIFIER}").append(["notes"])  # a second sheet, not read
    source = tmp_path / "capa.xlsx"
    book.save(source)
    code, out = run(world, admin, "import", "capa", str(source), "--format", "json")
    assert code == 0, out
    assert "00123456" not in out
    written = "".join(p.read_text() for p in (world.repo / "imports").glob("*.md"))
    assert written and "00123456" not in written

    named = tmp_path / f"log {IDENTIFIER}.csv"
    write_csv(named, [DEV_HEADER, dev_row("D-9")])
    after_first = state(world)
    code, out = run(world, admin, "import", "deviations", str(named))
    assert code == 2 and "00123456" not in out and "rename" in out, out
    assert state(world) == after_first != before


def test_identifiers_in_a_docx_never_reach_a_record_or_the_report(
    team: Any, tmp_path: Path
) -> None:
    world, admin, _ = team

    def sop(name: str, number: str, *, table: bool = False) -> Path:
        document = docx.Document()
        document.core_properties.title = f"Receipt of cryoshipped ATMPs {name}"
        section = document.sections[0]
        section.header.paragraphs[0].text = f"Document No.: {number}"
        section.footer.paragraphs[0].text = f"Printed for the transfusion of {IDENTIFIER}"
        for label, value in (("Area", "Pharmacy"), ("Owner", "a.weber")):
            document.add_paragraph(f"{label}: {value}")
        document.add_paragraph("Training audience: Pharmacists")
        document.add_heading("Purpose", level=1)
        paragraph = document.add_paragraph("Receive products safely.")
        document.add_comment(paragraph.runs, text=f"see {IDENTIFIER}", author="QA")
        if table:
            cells = document.add_table(rows=1, cols=2).rows[0].cells
            cells[0].text, cells[1].text = "Example", IDENTIFIER
        path = tmp_path / f"{name}.docx"
        document.save(path)
        return path

    clean = sop("clean", "SOP-PH-1")  # identifiers only in the footer and a comment
    in_header = sop("header", IDENTIFIER)  # the document number is an identifier
    in_table = sop("table", "SOP-PH-3", table=True)
    code, out = run(
        world,
        admin,
        "import",
        "sops",
        str(clean),
        str(in_header),
        str(in_table),
        "--format",
        "json",
    )
    report = report_of(out)
    outcomes = [f["outcomes"][0] for f in report["files"]]
    assert [o["imported"] for o in outcomes] == [True, False, False], out
    assert all("patient identifier" in o["refused"][0] for o in outcomes[1:])
    assert code == 1 and "00123456" not in out
    stored = [p.read_text() for p in (world.repo / "sops").glob("*.md")]
    stored += [p.read_text() for p in (world.repo / "imports").glob("*.md")]
    assert len(stored) == 2 and not any("00123456" in text for text in stored)


# -- hostile text ------------------------------------------------------------------------


def test_docx_links_and_front_matter_breakers_without_network(
    team: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, admin, _ = team
    document = docx.Document()
    document.core_properties.title = 'Receipt: "cold" chain --- part 1'
    for line in ("Document No.: SOP-PH-77", "Area: Pharmacy", "Owner: a.weber"):
        document.add_paragraph(line)
    document.add_paragraph("Training audience: Pharmacists")
    document.add_heading("Procedure", level=1)
    paragraph = document.add_paragraph("Follow ")
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), document.part.relate_to("http://192.0.2.1/sop", RT.HYPERLINK, True))
    run_element = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "the receipt checklist"
    run_element.append(text)
    link.append(run_element)
    paragraph._p.append(link)
    paragraph.add_run(" before storage.")
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    )
    (tmp_path / "dot.png").write_bytes(png)
    document.add_picture(str(tmp_path / "dot.png"))
    blip = document.element.body.xpath(".//a:blip")[0]  # now an image linked from the network
    del blip.attrib[qn("r:embed")]
    blip.set(qn("r:link"), document.part.relate_to("http://192.0.2.1/x.png", RT.IMAGE, True))
    for line in ("---", "title: injected", "...", "key: 'value' # not a comment"):
        document.add_paragraph(line)
    source = tmp_path / "sop.docx"
    document.save(source)

    def no_network(*_: Any, **__: Any) -> None:
        raise AssertionError("the import tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    code, out = run(world, admin, "import", "sops", str(source))
    assert code == 0, out
    record = (world.repo / "sops/SOP-0001.md").read_text()
    front = yaml.safe_load(record.split("\n---\n")[0].removeprefix("---\n"))
    assert front["title"] == 'Receipt: "cold" chain --- part 1'
    assert "injected" not in json.dumps(front)
    assert "Follow the receipt checklist before storage." in record
    assert "title: injected" in record.split("\n---\n", 1)[1]
    code, out = run(world, admin, "validate")
    assert code == 0, out


def test_yaml_breakers_bidi_and_html_in_cells(team: Any, tmp_path: Path) -> None:
    world, admin, _ = team
    title = f"--- a: b # c 'd' \"e\" &x *x !!python/object:os.system {BIDI}gnp.exe"
    description = "line one\n---\nkey: value\n...\n- item\n%YAML 1.1\n\u2028after"
    rows = [
        DEV_HEADER,
        dev_row("<script>alert(1)</script>|D-1", Title=title, Description=description),
        dev_row(f"D-2 {BIDI}", Status="<img src=x onerror=alert(1)>"),
        dev_row("D-3 | ** [x](javascript:alert(1))", Status="Parked"),
    ]
    source = write_csv(tmp_path / "deviations.csv", rows)
    code, out = run(world, admin, "import", "deviations", str(source), "--format", "json")
    report = report_of(out)
    assert report["counts"] == {"read": 3, "imported": 1, "refused": 2}, out
    record = yaml.safe_load((world.repo / "deviations/DEV-2025-0001.yaml").read_text())
    assert record["title"] == title
    assert record["description"] == description
    assert record["migration"]["legacy_id"] == "<script>alert(1)</script>|D-1"
    code, out = run(world, admin, "validate")
    assert code == 0, out

    text = (world.repo / report["report"]).read_text()
    assert BIDI not in text and "<script" not in text and "<img" not in text
    markdown_rows_are_whole(text)
    html = markdown.markdown(text, extensions=["tables"])
    assert "<script" not in html and "<img" not in html and "<a " not in html
    assert html.count("<tr>") == (1 + len(DEV_HEADER)) + (1 + 3)  # no row split or merged


def test_formula_text_stays_inert_and_is_guarded_in_csv_outputs(team: Any, tmp_path: Path) -> None:
    world, admin, _ = team
    formula = '=HYPERLINK("http://192.0.2.1/x","open")'
    rows = [
        DEV_HEADER,
        dev_row("@SUM(1+1)", Title=formula, **{"Reported by": "+cmd|' /C calc'!A0"}),
    ]
    source = write_csv(tmp_path / "=cmd.csv", rows)
    code, out = run(
        world, admin, "import", "deviations", str(source), "--commit", "--reason", "-2+3 migration"
    )
    assert code == 0, out
    record = yaml.safe_load((world.repo / "deviations/DEV-2025-0001.yaml").read_text())
    assert record["title"] == formula and record["reported_by"] == "+cmd|' /C calc'!A0"
    for args in (
        ("log", "DEV-2025-0001", "--format", "csv"),
        ("audit-trail", "--since", "2026-01-01", "--format", "csv"),
    ):
        code, out = run(world, admin, *args)
        cells = [cell for row in csv.reader(io.StringIO(out)) for cell in row]
        assert cells and not [c for c in cells if c[:1] in ("=", "+", "-", "@")], (args, out)


# -- hostile files -----------------------------------------------------------------------


def test_huge_shared_strings_and_zip_bombs_are_refused(team: Any, tmp_path: Path) -> None:
    world, admin, _ = team
    book = openpyxl.Workbook()
    book.active.append(CAPA_HEADER)
    book.active.append(capa_row("C-1"))
    plain = io.BytesIO()
    book.save(plain)
    before = state(world)

    def repacked(name: str, extra: dict[str, bytes]) -> Path:
        out = io.BytesIO()
        with (
            zipfile.ZipFile(plain) as original,
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive,
        ):
            for info in original.infolist():
                data = original.read(info.filename)
                if info.filename == "[Content_Types].xml":
                    data = data.replace(
                        b"</Types>",
                        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
                        b"</Types>",
                    )
                archive.writestr(info.filename, data)
            for part, data in extra.items():
                archive.writestr(part, data)
        path = tmp_path / name
        path.write_bytes(out.getvalue())
        return path

    strings = (
        b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        b'2006/main">' + b"<si><t>x</t></si>" * 3_000_000 + b"</sst>"
    )  # 51 MB of XML in a file of about 150 kB: minutes of parsing, a GB of memory at 200 MB
    huge = repacked("strings.xlsx", {"xl/sharedStrings.xml": strings})
    assert huge.stat().st_size < 1_000_000
    code, out = run(world, admin, "import", "capa", str(huge))
    assert code == 2 and "strings.xlsx" in out and "Traceback" not in out, out
    bomb = repacked("bomb.xlsx", {"xl/media/a.bin": b"\0" * 30_000_000})
    code, out = run(world, admin, "import", "capa", str(bomb))
    assert code == 2 and "bomb.xlsx" in out, out
    assert state(world) == before


# -- re-runs and IDs ---------------------------------------------------------------------


def test_rerunning_an_import_refuses_every_row_already_migrated(team: Any, tmp_path: Path) -> None:
    world, admin, _ = team
    with_ids = write_csv(tmp_path / "with-ids.csv", [DEV_HEADER, dev_row("D-1"), dev_row("D-2")])
    header = DEV_HEADER[1:]  # a log that never had record numbers
    without = write_csv(
        tmp_path / "no-ids.csv", [header, dev_row("x")[1:], dev_row("y", Title="Other alarm")[1:]]
    )
    for source in (with_ids, without):
        code, out = run(
            world, admin, "import", "deviations", str(source), "--commit", "--reason", "first run"
        )
        assert code == 0, out
    records = sorted(p.name for p in (world.repo / "deviations").glob("DEV-*.yaml"))
    assert len(records) == 4
    for source in (with_ids, without):
        code, out = run(world, admin, "import", "deviations", str(source), "--format", "json")
        report = report_of(out)
        assert report["counts"] == {"read": 2, "imported": 0, "refused": 2}, out
        assert all("already migrated" in o["refused"][0] for o in report["files"][0]["outcomes"])
        assert code == 1
    assert sorted(p.name for p in (world.repo / "deviations").glob("DEV-*.yaml")) == records


def test_ids_are_never_reused_from_history_or_other_branches(team: Any, tmp_path: Path) -> None:
    world, admin, _ = team
    folder = world.repo / "capa"
    folder.mkdir(exist_ok=True)
    with world.acting(admin):
        (folder / "CAPA-2025-0001.yaml").write_text("id: CAPA-2025-0001\n")
        world.git("add", "capa")
        world.git("commit", "-q", "--no-gpg-sign", "-m", "old", "-m", "Reason: x")
        world.git("rm", "-q", "capa/CAPA-2025-0001.yaml")
        world.git("commit", "-q", "--no-gpg-sign", "-m", "gone", "-m", "Reason: x")
        world.git("checkout", "-q", "-b", "side")
        (folder / "CAPA-2025-0002.yaml").write_text("id: CAPA-2025-0002\n")
        world.git("add", "capa")
        world.git("commit", "-q", "--no-gpg-sign", "-m", "side", "-m", "Reason: x")
        world.git("checkout", "-q", "main")
    source = write_csv(tmp_path / "capa.csv", [CAPA_HEADER, capa_row("C-1"), capa_row("C-2")])
    code, out = run(world, admin, "import", "capa", str(source), "--format", "json")
    assert code == 0, out
    ids = [o["record"] for o in report_of(out)["files"][0]["outcomes"]]
    assert ids == ["CAPA-2025-0003", "CAPA-2025-0004"]


# -- signatures --------------------------------------------------------------------------


def test_forged_or_unsigned_migration_claims_fail_check(team: Any, tmp_path: Path) -> None:
    world, admin, officer = team
    closed = capa_row("C-1", Status="Closed", **{"Problem description": "Logger not read."})
    header = [*CAPA_HEADER, "Root cause", "Corrective action", "Evidence", "Completion date"]
    header += ["Effectiveness criteria", "Effectiveness result", "Effective?", "Verified by"]
    header += ["Verified on", "Date closed", "Severity", "Occurrence", "Detection"]
    header += ["Effectiveness due"]
    header += ["Risk rationale", "RCA method", "Root cause category"]
    closed += ["No hold point.", "Add a hold point.", "CC-2025-014.", "2025-04-20"]
    closed += ["No unreviewed logger for 3 months.", "13 of 13.", "Yes", "m.okafor"]
    closed += ["2025-08-10", "2025-08-14", "4", "2", "3", "2025-08-10"]
    closed += ["Viability.", "5 Whys", "Process"]
    source = write_csv(tmp_path / "capa.csv", [header, closed])
    base = world.head()
    code, out = run(
        world, admin, "import", "capa", str(source), "--commit", "--reason", "migration"
    )
    assert code == 0, out
    genuine = world.head()
    message = world.git("log", "-1", "--format=%B")
    assert "QMS-Meaning: migrated" in message and "QMS-Version: closed" in message
    files = {
        path: (world.repo / path).read_bytes()
        for path in world.git("diff", "--name-only", base, genuine).splitlines()
    }
    code, out = run(world, admin, "check", f"{base}..{genuine}")
    assert code == 0, out  # the real import passes: the forgeries below differ only as named

    def forge(person: Person, *, sign: bool, tamper: bool = False) -> str:
        with world.acting(person):
            world.git("reset", "-q", "--hard", base)
            for path, data in files.items():
                target = world.repo / path
                target.parent.mkdir(parents=True, exist_ok=True)
                if tamper and path.startswith("capa/"):
                    data = data.replace(b"2025-08-14", b"2025-08-13")
                target.write_bytes(data)
            world.git("add", "-A")
            flag = "-S" if sign else "--no-gpg-sign"
            world.git("commit", "-q", flag, "-F", "-", input=message)
        code, out = run(world, admin, "check", f"{base}..HEAD")
        assert code == 1, out
        return out

    assert "[state.initial]" in forge(admin, sign=False)  # unsigned, trailers hand-written
    assert "[state.initial]" in forge(officer, sign=True)  # signed without the qa-manager role
    assert "[state.initial]" in forge(admin, sign=True, tamper=True)  # claim for other bytes


# -- interrupted runs --------------------------------------------------------------------


def test_an_interrupted_import_leaves_nothing(
    team: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, admin, _ = team
    source = write_csv(tmp_path / "dev.csv", [DEV_HEADER, dev_row("D-1"), dev_row("D-2")])
    before = state(world)
    import gitqms.git
    import gitqms.importing.write as importing

    real_link, calls = importing.os.link, []

    def failing_link(*args: Any, **kwargs: Any) -> None:
        calls.append(args)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_link(*args, **kwargs)

    monkeypatch.setattr(importing.os, "link", failing_link)
    code, _ = run(world, admin, "import", "deviations", str(source))
    assert code == 3 and len(calls) == 2
    assert state(world) == before
    monkeypatch.setattr(importing.os, "link", real_link)

    def failing_update(*_: Any, **__: Any) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(gitqms.git, "update_ref", failing_update)
    code, _ = run(world, admin, "import", "deviations", str(source), "--commit", "--reason", "x")
    assert code == 3
    assert state(world) == before
