"""`qms log`, `qms verify` and the audit trails as a new user meets them (issue 17): CSV cells
as a spreadsheet reads them, the change that first superseded a signature, merges that say what
they are, and records named by their file path."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from gitqms.audit.trail import record_trails
from gitqms.csv_cells import guard
from gitqms.signatures.verify import walk_history
from toolkit.cli import qms
from toolkit.world import SOP, World


def log_json(world: World, record: str) -> list[dict[str, Any]]:
    out = world.qms(world.people["a.weber"], "log", record, "--format", "json")
    entries: list[dict[str, Any]] = json.loads(out)["entries"]
    return entries


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def edit(world: World, path: str, line: str, reason: str) -> str:
    text = (world.repo / path).read_text() + f"\n{line}\n"
    return world.commit_file(world.people["l.santos"], path, text, reason)


def new_sop_on_branch(world: World, branch: str) -> tuple[str, str]:
    """SOP-0002 written on `branch` by the author; returns its path and the commit."""
    author = world.people["l.santos"]
    world.git("checkout", "-q", "-b", branch)
    out = world.qms(author, "new", "sop", "--title", "Thawing of cryopreserved products")
    path = re.search(r"sops/SOP-\d{4}\.md", out)
    assert path is not None, out
    text = re.sub(r"FILL IN[^\n]*", "Described.", (world.repo / path[0]).read_text())
    commit = world.commit_file(author, path[0], text, "new procedure")
    world.git("checkout", "-q", "main")
    return path[0], commit


def merge(world: World, branch: str, message: str) -> str:
    with world.acting(world.people["a.weber"]):
        world.git("merge", "-q", "--no-ff", "--no-gpg-sign", branch, "-m", message)
    return world.head()


# -- 1. one CSV guard -------------------------------------------------------------------------


def test_log_csv_leaves_empty_cells_empty_and_guards_formulas(world: World) -> None:
    edit(world, SOP, "Revised.", "=HYPERLINK(evil)")
    edit(world, SOP, "Revised again.", "-1+1")
    out = world.qms(world.people["a.weber"], "log", "SOP-0001", "--format", "csv")
    rows = csv_rows(out)
    assert [row["reason"] for row in rows] == ["new procedure", "'=HYPERLINK(evil)", "'-1+1"]
    # No signature here: nothing else in these rows is empty but the cells that must stay so.
    for row in rows:
        assert all(value != "'" for value in row.values()), row
    new_sop_on_branch(world, "feature/thawing")
    merge(world, "feature/thawing", "Merge branch 'feature/thawing'")
    rows = csv_rows(world.qms(world.people["a.weber"], "log", "SOP-0002", "--format", "csv"))
    assert [row["reason"] for row in rows] == ["new procedure", ""]  # git's merge: no Reason


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("", ""),
        ("plain text", "plain text"),
        ("=1+1", "'=1+1"),
        (" =1+1", "' =1+1"),  # some importers strip leading blanks
        ("\n@SUM(A1)", "'\n@SUM(A1)"),
        ("\xa0+1", "'\xa0+1"),
        ("\tcmd", "'\tcmd"),
        ("a = b", "a = b"),
    ],
)
def test_the_guard_neutralises_a_formula_even_after_blanks(cell: str, written: str) -> None:
    assert guard(cell) == written


def test_audit_trail_csv_uses_the_same_guard(world: World) -> None:
    edit(world, SOP, "Revised.", "@SUM(A1)")
    with world.acting(world.people["a.weber"]):
        result = qms("audit-trail", "--format", "csv", repo=world.repo)
    assert result.exit_code in (0, 1), result.output + result.stderr
    rows = csv_rows(result.stdout)
    assert "'@SUM(A1)" in [row["reason"] for row in rows]
    anomalies = [row for row in rows if row["type"] == "anomaly"]
    assert anomalies and all(row["reason"] == "" and row["verdict"] == "" for row in anomalies)
    assert not any(value == "'" for row in rows for value in row.values())


# -- 2. the first change after a signature -----------------------------------------------------


def superseded_in_verify(world: World) -> str:
    out = world.qms(world.people["a.weber"], "verify", "--format", "json", ok=False)
    found = [
        s for s in json.loads(out)["signatures"] if s["record"] == "SOP-0001" and s["superseded"]
    ]
    assert len(found) == 1, found
    return str(found[0]["superseded"])


def superseded_in_log(world: World) -> str:
    signed = [e for e in log_json(world, "SOP-0001") if e["action"] == "reviewed"]
    assert len(signed) == 1, signed
    return str(signed[0]["verdict"])


def test_a_superseded_signature_names_the_first_change_after_it(world: World) -> None:
    world.qms(world.people["m.okafor"], "review", "SOP-0001", "--reason", "content checked")
    first = edit(world, SOP, "Revised.", "typo")
    assert f"in {first[:12]} by Lucia Santos" in superseded_in_verify(world)  # stores this tip
    second = edit(world, SOP, "Revised again.", "second typo")
    named = f"the record changed after this signature in {first[:12]} by Lucia Santos"
    # Walked on from the stored walk of the first change, then read back whole, then cold.
    assert named in superseded_in_log(world)
    assert named in superseded_in_verify(world)
    assert named in superseded_in_log(world)
    world.git("config", "qms.historyIndex", "false")
    assert named in superseded_in_verify(world)
    assert named in superseded_in_log(world)
    assert second[:12] not in superseded_in_log(world)


# -- 3. merges say what they are ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "said"),
    [
        ("Merge branch 'feature/thawing'", "merged from branch feature/thawing"),
        ("Merge branch 'feature/thawing' into main", "merged from branch feature/thawing"),
        ("Merge feature/thawing: SOP-0002 written", "merged from branch feature/thawing"),
        ("Merge pull request #7 from st-aurelia/feature/thawing", "merged from branch "
         "feature/thawing"),
    ],
)  # fmt: skip
def test_a_merge_reads_as_a_merge_from_its_branch(world: World, message: str, said: str) -> None:
    path, created = new_sop_on_branch(world, "feature/thawing")
    merged = merge(world, "feature/thawing", message)
    entries = log_json(world, "SOP-0002")
    assert [(e["commit"], e["action"]) for e in entries] == [(created, "created"), (merged, said)]
    assert "created" not in entries[1]["summary"]
    text = world.qms(world.people["a.weber"], "log", path)
    assert text.count(": created") == 1 and f": {said}" in text
    rows = csv_rows(world.qms(world.people["a.weber"], "log", "SOP-0002", "--format", "csv"))
    assert [row["action"] for row in rows] == ["created", said]
    # The site's trails and the audit-trail review read the same entries.
    trail = record_trails(walk_history(world.repo, ["HEAD"]), ["SOP-0002"])["SOP-0002"]
    assert [(e.commit, e.action) for e in trail] == [(created, "created"), (merged, said)]
    with world.acting(world.people["a.weber"]):
        review = json.loads(qms("audit-trail", "--format", "json", repo=world.repo).stdout)
    actions = [c["action"] for c in review["changes"] if c["record"] == "SOP-0002"]
    assert actions == ["created", said]


@pytest.mark.parametrize(
    "message",
    ["Bring in the thawing SOP", "Merge branch '<img src=x onerror=alert(1)>'", "Merge \x1b[31m"],
)
def test_a_merge_whose_message_names_no_branch_names_the_merged_commit(
    world: World, message: str
) -> None:
    _, created = new_sop_on_branch(world, "feature/thawing")
    merged = merge(world, "feature/thawing", message)
    entries = log_json(world, "SOP-0002")
    assert [(e["commit"], e["action"]) for e in entries] == [
        (created, "created"),
        (merged, f"merged {created[:12]}"),
    ]


# -- 4. a record named by its path --------------------------------------------------------------


def test_log_takes_a_record_file_path(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    author = world.people["l.santos"]
    out = world.qms(author, "new", "capa", "--title", "Logger read-out missing")
    capa = re.search(r"capa/CAPA-\d{4}-\d{4}\.yaml", out)
    assert capa is not None, out
    world.commit_file(author, capa[0], (world.repo / capa[0]).read_text(), "new CAPA")
    by_id = log_json(world, "SOP-0001")
    assert log_json(world, SOP) == by_id
    assert log_json(world, str(world.repo / SOP)) == by_id
    capa_id = Path(capa[0]).stem
    assert log_json(world, capa[0]) == log_json(world, capa_id)
    monkeypatch.chdir(world.repo / "sops")  # relative to the current folder, or to the root
    with world.acting(world.people["a.weber"]):
        for name in ("SOP-0001.md", SOP, "../sops/SOP-0001.md"):
            result = qms("log", name, "--format", "json")
            assert result.exit_code == 0, result.output + result.stderr
            assert json.loads(result.stdout)["entries"] == by_id
        assert qms("log", "../qms.yaml").exit_code == 0


@pytest.mark.parametrize("name", ["README.md", "sops/notes.txt", "sops/SOP-1.md", "nowhere/x.md"])
def test_log_of_a_path_that_is_not_a_record_says_so(world: World, name: str) -> None:
    with world.acting(world.people["a.weber"]):
        result = qms("log", name, repo=world.repo)
    assert result.exit_code == 2, result.output + result.stderr
    assert f"{name} is not a record" in result.stderr
    assert "Traceback" not in result.output + result.stderr
