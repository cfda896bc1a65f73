"""Controlled copies on the site and reprints (issue 23, items 4 and 5): the register of issued
copies built from the signed copy records (a copy of a superseded version "to withdraw", a
record edited after issue never a valid copy), a verification page per published version where
the PDF's QR code leads, and `qms pdf --reprint COPY-…`, which prints the same copy again and
changes nothing. Real repositories and keys (tests/toolkit), real site builds, real PDFs read
back by text extraction and by decoding the QR code."""

from __future__ import annotations

import hashlib
import re
import shlex
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader

from toolkit.browser import FITS_SCREEN, article, chromium, http_server, open_page, visible_text
from toolkit.cli import qms
from toolkit.team import Team, build_team
from toolkit.world import SOP, refused, snapshot


def released(team: Team) -> None:
    """SOP-0001 v1, reviewed 2026-02-03 and approved 2026-02-04, effective 2026-02-20."""
    team.on("2026-02-02")
    team.world.commit_file(
        team.author, SOP, team.sop_text(1, "2026-02-20", "Check the logger."), "v1"
    )
    team.release_sop("2026-02-03", "2026-02-04")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Team:
    return build_team(tmp_path_factory, released)


@pytest.fixture
def team(built: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Team:
    return built.copy(tmp_path / "world", monkeypatch)


def pdf_text(path: Path) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(path).pages]


def issue(team: Team, day: str, where: str, out: Path) -> str:
    team.on(day)
    said = team.qms(
        team.officer, "pdf", "SOP-0001", "--copy-for", where, "--date", day, "-o", str(out)
    )
    [record] = re.findall(r"(COPY-\d{4}-\d{4}): controlled copy", said)
    return record


def exit_of(team: Team, *args: str) -> tuple[int, str]:
    with team.world.acting(team.officer):
        result = qms(*args, repo=team.world.repo)
    return result.exit_code, result.output + result.stderr


def build(team: Team, day: str, site: Path) -> str:
    team.qms(team.admin, "build", "--site-dir", str(site), "--date", day)
    return (site / "copies.html").read_text()


def rows(html: str, heading: str) -> list[str]:
    """The visible text of each row of the table under the <h2> `heading`."""
    part = article(html).split(f"<h2>{heading}</h2>", 1)[1].split("<h2>", 1)[0]
    return [visible_text(row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", part, re.S)[1:]]


def test_the_register_lists_signed_copies_and_marks_a_superseded_one_to_withdraw(
    team: Team, tmp_path: Path
) -> None:
    first = issue(team, "2026-03-01", "Cleanroom B", tmp_path / "1.pdf")
    edited = issue(team, "2026-03-02", "Ward 3", tmp_path / "2.pdf")
    html = build(team, "2026-03-03", tmp_path / "site-march")
    issued = rows(html, "Issued copies")
    assert len(issued) == 2 and all("in force" in row for row in issued), issued
    assert "<h2>To withdraw</h2>" not in html
    assert any(first in r and "Cleanroom B" in r and "Michael Okafor" in r for r in issued), issued
    assert any("2026-03-01 10:00 UTC" in r for r in issued), issued

    # a copy record edited after its issue: the gate refuses it, the register never lists it
    path = f"controlled-copies/{edited}.yaml"
    text = (team.world.repo / path).read_text().replace("Ward 3", "Ward 4")
    team.world.commit_file(team.author, path, text, "moved the copy")
    assert "record.closed" in {
        v["rule"] for v in team.check("HEAD~1..HEAD", ok=False)["violations"]
    }

    # v2 comes into force: the copy of v1 is to be withdrawn
    team.on("2026-03-10")
    team.write_sop(2, "2026-04-01", "Read the logger before opening.", supersedes=1)
    team.release_sop("2026-03-11", "2026-03-12")
    html = build(team, "2026-05-01", tmp_path / "site-may")
    withdraw = rows(html, "To withdraw")
    assert len(withdraw) == 1 and first in withdraw[0] and "to withdraw" in withdraw[0], withdraw
    assert "superseded by v2" in withdraw[0]
    issued = rows(html, "Issued copies")
    assert [r for r in issued if edited in r] == [], issued
    void = article(html).split("<h2>Copy records that do not count</h2>", 1)[1]
    assert edited in void and "issued" in void
    assert "Ward 4" not in visible_text(article(html))
    fits(tmp_path / "site-may", ["copies.html", "verify/SOP-0001-v1.html"])


def fits(site: Path, paths: list[str]) -> None:
    """Each page at 1280 and 390 px in Chromium: no horizontal page scroll, tables scroll
    inside their own box."""
    with http_server(site) as base:
        driver: Any = chromium()
        try:
            for path in paths:
                for width in (1280, 390):
                    open_page(driver, base + path, width)
                    seen = driver.execute_script(FITS_SCREEN)
                    assert seen["width"] == width and seen["tables"] >= 1, (path, seen)
                    assert not seen["problems"], (path, width, seen["problems"])
        finally:
            driver.quit()


def test_the_qr_code_leads_to_the_versions_verification_page(team: Team, tmp_path: Path) -> None:
    out = tmp_path / "copy.pdf"
    record = issue(team, "2026-03-01", "Cleanroom B", out)
    document = pypdfium2.PdfDocument(str(out))
    [code] = zxingcpp.read_barcodes(document[len(document) - 1].render(scale=3).to_pil())
    assert code.text == "verify/SOP-0001-v1.html"
    site = tmp_path / "site"
    build(team, "2026-03-01", site)
    page = (site / code.text).read_text()
    said = visible_text(article(page))
    digest = hashlib.sha256((team.world.repo / SOP).read_bytes()).hexdigest()
    assert digest in said and "IN FORCE" in said
    for name in ("Michael Okafor", "Dr. Anna Weber"):
        assert name in said
    command = f"qms verify-copy SOP-0001 --version 1 --sha256 {digest}"
    assert command in said and f"{command} --copy 1" in said
    assert "Cleanroom B" in said
    manifest = pdf_text(out)[-1]
    assert command.replace(" ", "") in manifest.replace(" ", "")
    # the exact command the page gives checks the copy
    argv = shlex.split(f"{command} --copy 1 --date 2026-03-01")[1:]
    code_, output = exit_of(team, *argv)
    assert code_ == 0 and record in output, output
    # a superseded version's page says to withdraw it
    team.on("2026-03-10")
    team.write_sop(2, "2026-04-01", "Read the logger before opening.", supersedes=1)
    team.release_sop("2026-03-11", "2026-03-12")
    later = tmp_path / "later"
    build(team, "2026-05-01", later)
    said = visible_text(article((later / code.text).read_text()))
    assert "SUPERSEDED since 2026-04-01: not for use." in said and "Withdraw every copy" in said


def test_a_reprint_is_the_same_copy_and_changes_nothing(team: Team, tmp_path: Path) -> None:
    original = tmp_path / "original.pdf"
    record = issue(team, "2026-03-01", "Cleanroom B", original)
    team.on("2026-03-05", "14:30:00")
    before = snapshot(team.world)
    again = tmp_path / "again.pdf"
    said = team.qms(
        team.admin, "pdf", "--reprint", record, "--date", "2026-03-05", "-o", str(again)
    )
    assert snapshot(team.world) == before, "a reprint changed the repository"
    assert f"reprint of controlled copy 1 ({record})" in said, said
    first, second = pdf_text(original), pdf_text(again)
    assert all("CONTROLLED COPY n° 1, kept at Cleanroom B" in p for p in second)
    assert all("REPRINT, printed 2026-03-05 14:30 UTC" in p for p in second), second[0]
    assert not any("REPRINT" in p for p in first)
    digest = hashlib.sha256((team.world.repo / SOP).read_bytes()).hexdigest()
    for pages in (first, second):
        assert digest in pages[-1].replace(" ", "")
        assert "--copy 1" in pages[-1]
    assert f"REPRINT of {record}, issued 2026-03-01T10:00:00Z" in second[-1]
    assert first[:-1] == [
        p.replace(". REPRINT, printed 2026-03-05 14:30 UTC", "") for p in second[:-1]
    ]


def test_a_reprint_of_a_copy_that_does_not_count_is_refused(team: Team, tmp_path: Path) -> None:
    record = issue(team, "2026-03-01", "Cleanroom B", tmp_path / "1.pdf")
    out = tmp_path / "r.pdf"
    for wrong, words in (
        ("COPY-2026-0099", "is not a controlled copy recorded at HEAD"),
        ("SOP-0001", "is not the ID of a controlled copy's record"),
    ):
        before = snapshot(team.world)
        code, said = exit_of(
            team, "pdf", "--reprint", wrong, "--date", "2026-03-02", "-o", str(out)
        )
        assert code == 2 and words in said and "Traceback" not in said, said
        assert snapshot(team.world) == before and not out.exists()
    code, said = exit_of(team, "pdf", "SOP-0001", "--reprint", record, "-o", str(out))
    assert code == 2 and "--reprint" in said, said
    # edited after its issue: its issue no longer counts
    path = f"controlled-copies/{record}.yaml"
    text = (team.world.repo / path).read_text().replace("Cleanroom B", "Cleanroom C")
    team.world.commit_file(team.author, path, text, "moved")
    args = ("pdf", "--reprint", record, "--date", "2026-03-02", "-o", str(out))
    said = refused(team.world, team.officer, *args)
    assert "does not count as an issued copy" in said and not out.exists(), said
    code, _ = exit_of(team, *args)
    assert code == 1


def test_a_copy_of_a_superseded_version_is_withdrawn_not_reprinted(
    team: Team, tmp_path: Path
) -> None:
    record = issue(team, "2026-03-01", "Cleanroom B", tmp_path / "1.pdf")
    team.on("2026-03-10")
    team.write_sop(2, "2026-04-01", "Read the logger before opening.", supersedes=1)
    team.release_sop("2026-03-11", "2026-03-12")
    team.on("2026-05-01")
    out = tmp_path / "r.pdf"
    args = ("pdf", "--reprint", record, "--date", "2026-05-01", "-o", str(out))
    said = refused(team.world, team.officer, *args)
    assert "superseded" in said and "withdraw it" in said and not out.exists(), said
    # a reprint is judged on its print day (git's clock), never on an earlier --date
    # (issue-23 review): printed on 2026-05-01, a past day does not make v1 reprintable
    args = ("pdf", "--reprint", record, "--date", "2026-03-20", "-o", str(out))
    said = refused(team.world, team.officer, *args)
    assert "superseded on 2026-05-01" in said and not out.exists(), said
    # printed on a day it was still in force, it may be reprinted
    team.on("2026-03-20")
    team.qms(team.officer, "pdf", "--reprint", record, "--date", "2026-03-20", "-o", str(out))
    assert out.is_file()


def test_a_hostile_location_is_shown_as_text(team: Team, tmp_path: Path) -> None:
    where = 'Ward <img src=x onerror="alert(1)"> <script>alert(2)</script>'
    issue(team, "2026-03-01", where, tmp_path / "1.pdf")
    site = tmp_path / "site"
    html = build(team, "2026-03-01", site)
    verify = (site / "verify" / "SOP-0001-v1.html").read_text()
    for page in (article(html), article(verify)):
        assert "<img src=x" not in page and "<script>alert" not in page
        assert "Ward &lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page


def test_the_sites_pdf_download_leads_to_a_page_of_the_same_site(
    team: Team, tmp_path: Path
) -> None:
    team.on("2026-03-01")
    site = tmp_path / "site"
    team.qms(team.admin, "build", "--site-dir", str(site), "--date", "2026-03-01", "--pdfs")
    document = pypdfium2.PdfDocument(str(site / "pdf" / "SOP-0001-v1.pdf"))
    [code] = zxingcpp.read_barcodes(document[len(document) - 1].render(scale=3).to_pil())
    assert code.text == "verify/SOP-0001-v1.html" and (site / code.text).is_file()
    page = (site / code.text).read_text()
    assert 'href="../sops/SOP-0001.html"' in page  # and from there to the version's text


def test_reprint_completes_the_copies_recorded(team: Team, tmp_path: Path) -> None:
    from toolkit.cli import qms_command
    from toolkit.process import environment

    record = issue(team, "2026-03-01", "Cleanroom B", tmp_path / "1.pdf")
    words = "qms pdf --reprint COPY-"
    env = environment(_QMS_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD="3")
    done = qms_command(cwd=team.world.repo, env=env, timeout=60)
    assert done.stdout.splitlines() == [f"plain,{record}"], done.stdout + done.stderr


def test_a_copy_killed_before_its_pdf_was_written_is_printed_again(
    team: Team, tmp_path: Path
) -> None:
    """`qms pdf --copy-for` killed after its last git call (the issue is recorded, the PDF not
    written): `--reprint` gives the sheet, with the recorded number, place and hash."""
    import shutil

    from toolkit.kill_switch import KillSwitch

    team.on("2026-03-01")
    switch = KillSwitch(tmp_path / "switch")
    env = {"GIT_CONFIG_GLOBAL": str(team.officer.config)}
    out = tmp_path / "copy.pdf"
    args = ["pdf", "SOP-0001", "--copy-for", "Ward 3", "--date", "2026-03-01", "-o", str(out)]
    reference = tmp_path / "reference"
    shutil.copytree(team.world.repo, reference, symlinks=True)
    done = switch.run(reference, args, env)
    assert not done.killed and out.is_file(), done.output
    out.unlink()
    killed = switch.run(team.world.repo, args, env, at=len(done.calls), when="after")
    assert killed.killed and not out.exists(), killed.output
    recorded = team.world.git("ls-tree", "--name-only", "HEAD", "controlled-copies/").split()
    assert "controlled-copies/COPY-2026-0001.yaml" in recorded
    said = team.qms(
        team.officer, "pdf", "--reprint", "COPY-2026-0001", "--date", "2026-03-01", "-o", str(out)
    )
    assert "reprint of controlled copy 1" in said, said
    pages = pdf_text(out)
    assert all("CONTROLLED COPY n° 1, kept at Ward 3. REPRINT, printed" in p for p in pages)
    digest = hashlib.sha256((team.world.repo / SOP).read_bytes()).hexdigest()
    assert digest in pages[-1].replace(" ", "")


def test_of_two_copies_merged_with_one_number_the_register_and_reprint_keep_the_first(
    team: Team, tmp_path: Path
) -> None:
    """Copy 1 issued on a branch and copy 1 issued on main, then the branch merged: the gate
    refuses the merged-in record (copy.number-taken), and the register, `--reprint` and
    `verify-copy` judge it the same way (one rule, `rules.copies.judge_copies`): main's copy is
    issued, the merged-in one is listed as not counting and is not reprinted."""
    world = team.world
    team.on("2026-03-01")
    base = world.head()
    world.git("checkout", "-q", "-b", "ward")
    side = issue(team, "2026-03-01", "Ward 3", tmp_path / "side.pdf")
    world.git("checkout", "-q", "-")
    first = issue(team, "2026-03-02", "Cleanroom B", tmp_path / "main.pdf")
    world.git("merge", "-q", "--no-edit", "--no-ff", "ward")
    taken = [v for v in team.check(f"{base}..HEAD", ok=False)["violations"]]
    assert {(v["rule"], v["record"]) for v in taken} == {("copy.number-taken", side)}, taken

    site = tmp_path / "site"
    team.qms(team.admin, "build", "--site-dir", str(site), "--date", "2026-03-02")
    html = article((site / "copies.html").read_text())
    issued, _, void = html.split("<h2>Issued copies</h2>", 1)[1].partition("<h2>")
    assert first in issued and side not in issued, visible_text(issued)
    said = visible_text(void)
    assert side in said and "already records" in said and "Michael Okafor" in said, said

    out = tmp_path / "again.pdf"
    args = ("pdf", "--reprint", side, "-o", str(out))
    said = refused(world, team.officer, *args)
    assert "does not count as an issued copy" in said and "already records" in said, said
    assert not out.exists()
    team.qms(team.officer, "pdf", "--reprint", first, "-o", str(out))
    assert all("kept at Cleanroom B" in p for p in pdf_text(out))
    digest = hashlib.sha256((world.repo / SOP).read_bytes()).hexdigest()
    said = team.qms(
        team.officer,
        "verify-copy",
        "SOP-0001",
        "--version",
        "1",
        "--sha256",
        digest,
        "--copy",
        "1",
        "--date",
        "2026-03-02",
    )
    assert f"for Cleanroom B ({first})" in said, said
