"""Tables for people: rich boxes for a screenful; above LARGE rows, plain aligned columns that
cost no per-cell layout (qms status, list and training at thousands of records)."""

from __future__ import annotations

import json

import pytest

from gitqms.cli import tables
from gitqms.cli.tables import Cell, plain_lines
from toolkit.cli import qms
from toolkit.world import SOP, World


def test_plain_columns_align_wrap_within_their_column_and_show_control_characters() -> None:
    long = "approved 2022-08-12; its effective date 2020-06-30 had passed, so it took effect then"
    rows = [
        [
            Cell("SOP-0001"),
            Cell("effective"),
            Cell(long),
            Cell("a note that is never wrapped " * 3),
        ],
        [Cell("CAPA-2026-0002"), Cell("open\x1b[31m"), Cell(""), Cell("")],
    ]
    lines = plain_lines("Status \x07now", ["ID", "State", "Effective", "Notes"], rows)
    assert lines[0] == "Status \\x07now"  # escape sequences shown, never obeyed
    assert lines[1].split() == ["ID", "State", "Effective", "Notes"]
    widths = [len(part) for part in lines[2].split("  ")]
    assert widths[:3] == [len("CAPA-2026-0002"), len("open\\x1b[31m"), tables.WIDEST]
    starts = [lines[1].index(name) for name in ("State", "Effective", "Notes")]
    first, *more, last = lines[3:]
    assert [first.index("effective"), first.index("approved"), first.index("a note")] == starts
    assert more and all(not line[: starts[1]].strip() for line in more)  # continuation lines
    column = [line[starts[1] : starts[2]].strip() for line in (first, *more)]
    assert all(len(part) <= tables.WIDEST for part in column) and " ".join(column) == long
    assert first.endswith("a note that is never wrapped " * 2 + "a note that is never wrapped")
    assert last.startswith("CAPA-2026-0002") and last.index("open\\x1b") == starts[0]


def test_a_style_is_colour_on_a_terminal_only() -> None:
    lines = plain_lines("t", ["A", "B"], [[Cell("x", "bold red"), Cell("y")]])
    assert "\x1b[31m" in lines[3] and "\x1b[1m" in lines[3]  # click strips it when piped


@pytest.mark.parametrize("large", [False, True])
def test_status_and_list_print_the_same_rows_either_way(
    world: World, monkeypatch: pytest.MonkeyPatch, large: bool
) -> None:
    if large:
        monkeypatch.setattr(tables, "LARGE", 0)
    status = qms("status", repo=world.repo)
    listed = qms("list", repo=world.repo)
    assert status.exit_code == 0 and listed.exit_code == 0, status.output + listed.output
    sop = SOP.rsplit("/", 1)[-1].split(".")[0]
    assert (status.output.count("┃") > 0) is not large  # rich's box, or plain columns
    if large:
        lines = status.output.splitlines()
        assert lines[0].startswith("Status on ") and lines[1].split()[:2] == ["ID", "State"]
        assert set(lines[2]) == {"-", " "}
        [row] = [line for line in lines if line.startswith(sop)]
        assert row.split()[1] == "draft"
        assert listed.output.splitlines()[1].split() == ["ID", "Title", "State", "Owner", "Dates"]
    assert sop in status.output and "1 record, 0 with overdue items" in status.output
    assert sop in listed.output and "Receipt of ATMPs" in listed.output
    data = json.loads(qms("status", "--format", "json", repo=world.repo).output)
    assert [r["id"] for r in data["records"]] == [sop]
