"""Controlled copies (issue 23, item 4): `qms pdf DOC` renders an approved version read from
git, with a header and footer on every page, a signature manifest, the content hash and a QR
code; `--copy-for` issues a numbered copy recorded in a signed commit; `qms verify-copy`
recomputes the hash from git. Real repositories and keys (tests/toolkit), real PDFs read back
by text extraction and turned into images."""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader

from toolkit.team import Team, build_team
from toolkit.world import SOP, refused

HOSTILE = (
    "Check the shipper's logger first. <script>document.title='pwned'</script> "
    '<img src="http://127.0.0.1:9/tracker.png" alt="x"> '
    '<link rel="stylesheet" href="http://127.0.0.1:9/evil.css">'
)


def released(team: Team) -> None:
    """SOP-0001 v1, its body hostile, reviewed 2026-02-03 and approved 2026-02-04, effective
    2026-02-20."""
    team.on("2026-02-02")
    team.world.commit_file(team.author, SOP, team.sop_text(1, "2026-02-20", HOSTILE), "v1")
    team.release_sop("2026-02-03", "2026-02-04")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Team:
    return build_team(tmp_path_factory, released)


@pytest.fixture
def team(built: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Team:
    return built.copy(tmp_path / "world", monkeypatch)


def pdf_text(path: Path) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(path).pages]


def test_a_download_has_header_footer_manifest_hash_and_a_qr_code(
    team: Team, tmp_path: Path
) -> None:
    team.on("2026-03-01")
    out_file = tmp_path / "copy.pdf"
    out = team.qms(team.author, "pdf", "SOP-0001", "--date", "2026-03-01", "-o", str(out_file))
    digest = hashlib.sha256((team.world.repo / SOP).read_bytes()).hexdigest()
    assert f"sha256:{digest}" in out, out
    pages = pdf_text(out_file)
    last = len(pages)
    assert last >= 2
    for number, page in enumerate(pages, start=1):
        assert "SOP-0001 v1: Receipt of ATMPs" in page, page
        assert "Effective 2026-02-20" in page
        assert f"Page {number} of {last}" in page
        assert "UNCONTROLLED WHEN PRINTED" in page
    manifest = re.sub(r"\s+", " ", pages[-1])
    assert "Signature manifest" in manifest
    for name, meaning, when in (
        ("Michael Okafor", "reviewed", "2026-02-03 10:00:00 UTC"),
        ("Dr. Anna Weber", "approved", "2026-02-04 10:00:00 UTC"),
    ):
        assert name in manifest and meaning in manifest and when in manifest, manifest
    assert "2026-02-04 11:00:00 CET" not in manifest  # the template's organisation is in UTC
    assert digest in manifest.replace(" ", "")
    assert "qms verify-copy SOP-0001 --version 1 --sha256" in manifest
    body = " ".join(pages[:-1])
    assert "Check the shipper's logger first." in body
    assert "pwned" not in " ".join(pages)

    document = pypdfium2.PdfDocument(str(out_file))
    first = document[0].render(scale=2).to_pil().convert("L")
    width, height = first.size
    header = first.crop((0, 0, width, int(height * 0.08)))
    assert header.getextrema()[0] < 128, "the running header is blank"
    qr_page = document[len(document) - 1].render(scale=3).to_pil()
    [code] = zxingcpp.read_barcodes(qr_page)
    assert code.text == "verify/SOP-0001-v1.html"  # the version's verification page


def test_the_renderer_fetches_nothing(team: Team) -> None:
    from gitqms.reports.copies import copy_source
    from gitqms.site.pdf import copy_html
    from gitqms.site.pdf_render import render_pdf

    source = copy_source(team.world.repo, "SOP-0001", None, date(2026, 3, 1))
    html = copy_html(source, None, datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    assert "<script" not in html and "http://127.0.0.1:9" not in html and "<link" not in html
    assert render_pdf(html, "x").refused == ()
    hostile = (
        "<html><head><link rel='stylesheet' href='http://127.0.0.1:9/evil.css'></head><body>"
        "<img src='http://127.0.0.1:9/tracker.png'><img src='file:///etc/hostname'>"
        "<p style=\"background: url('http://127.0.0.1:9/bg.png')\">x</p></body></html>"
    )
    refused_urls = render_pdf(hostile, "x").refused
    assert "http://127.0.0.1:9/evil.css" in refused_urls
    assert "http://127.0.0.1:9/tracker.png" in refused_urls
    assert "file:///etc/hostname" in refused_urls


def test_issued_copies_are_numbered_recorded_signed_and_verified(
    team: Team, tmp_path: Path
) -> None:
    team.on("2026-03-01")
    first = tmp_path / "one.pdf"
    out = team.qms(
        team.officer, "pdf", "SOP-0001", "--copy-for", "Cleanroom B", "--output", str(first)
    )
    assert "controlled copy 1 of SOP-0001 v1 for Cleanroom B" in out, out
    team.on("2026-03-02")
    second = tmp_path / "two.pdf"
    out = team.qms(
        team.officer, "pdf", "SOP-0001", "--copy-for", "Pharmacy <b>desk</b>", "-o", str(second)
    )
    assert "controlled copy 2 of SOP-0001 v1" in out, out
    records = sorted((team.world.repo / "controlled-copies").glob("COPY-2026-*.yaml"))
    assert [r.name for r in records] == ["COPY-2026-0001.yaml", "COPY-2026-0002.yaml"]
    text = records[1].read_text()
    assert "copy: 2" in text and "issued_by: m.okafor" in text
    assert 'issued_at: "2026-03-02T10:00:00Z"' in text
    digest = hashlib.sha256((team.world.repo / SOP).read_bytes()).hexdigest()
    assert f'content_sha256: "sha256:{digest}"' in text
    pages = pdf_text(second)
    assert all("CONTROLLED COPY n° 2, kept at Pharmacy <b>desk</b>" in p for p in pages), pages[0]
    assert "UNCONTROLLED" not in pages[0]
    message = team.world.git("log", "-1", "--format=%B")
    assert "QMS-Meaning: issued" in message and "Reason: controlled copy 2" in message
    verified = json.loads(team.qms(team.admin, "verify", "--format", "json", ok=False))
    issued = [s for s in verified["signatures"] if s["meaning"] == "issued"]
    assert [s["status"] for s in issued] == ["valid", "valid"], issued
    assert team.check("HEAD~2..HEAD")["violations"] == []
    out = team.qms(
        team.admin, "verify-copy", "SOP-0001", "--version", "1", "--sha256", digest, "--copy", "2"
    )
    assert "matches the approved content" in out and "Pharmacy <b>desk</b>" in out, out
    wrong = team.qms(
        team.admin, "verify-copy", "SOP-0001", "--version", "1", "--sha256", "0" * 64, ok=False
    )
    assert "does NOT match" in wrong
    missing = team.qms(
        team.admin,
        *("verify-copy", "SOP-0001", "--version", "1", "--sha256", digest),
        *("--copy", "3"),
        ok=False,
    )
    assert "NOT recorded" in missing


def test_a_person_without_the_role_cannot_issue_a_copy(team: Team, tmp_path: Path) -> None:
    team.on("2026-03-01")
    out = refused(
        team.world,
        team.author,
        "pdf",
        "SOP-0001",
        "--copy-for",
        "Ward 3",
        "-o",
        str(tmp_path / "x.pdf"),
    )
    assert "issued" in out and "Traceback" not in out, out
    assert not (tmp_path / "x.pdf").exists()


def test_a_hand_written_copy_record_fails_the_gate(team: Team) -> None:
    team.on("2026-03-01")
    digest = hashlib.sha256((team.world.repo / SOP).read_bytes()).hexdigest()
    text = (
        'id: COPY-2026-0001\ntitle: "Controlled copy 5 of SOP-0001 v1"\nstate: issued\n'
        f'document: SOP-0001\nversion: 1\ncontent_sha256: "sha256:{digest}"\ncopy: 5\n'
        'location: "Ward 3"\nissued_by: l.santos\nissued_at: "2026-03-01T10:00:00Z"\n'
    )
    (team.world.repo / "controlled-copies").mkdir(exist_ok=True)
    team.world.commit_file(team.author, "controlled-copies/COPY-2026-0001.yaml", text, "copy")
    rules = {v["rule"] for v in team.check("HEAD~1..HEAD", ok=False)["violations"]}
    assert {"state.signature", "copy.number-skipped"} <= rules, rules


def test_a_draft_is_never_printed_and_a_superseded_version_is_marked(
    team: Team, tmp_path: Path
) -> None:
    team.on("2026-03-01")
    team.write_sop(2, "2026-04-01", "Read the logger before opening.", supersedes=1)
    for args in (("--version", "2"), ("--version", "2", "--copy-for", "Ward 3")):
        out = refused(
            team.world, team.officer, "pdf", "SOP-0001", *args, "-o", str(tmp_path / "d.pdf")
        )
        assert "never printed" in out, out
    team.release_sop("2026-03-02", "2026-03-03")
    team.on("2026-05-01")
    old = tmp_path / "old.pdf"
    team.qms(team.officer, "pdf", "SOP-0001", "--version", "1", "-o", str(old))
    assert all("SUPERSEDED: NOT FOR USE" in page for page in pdf_text(old))
    out = refused(
        team.world,
        team.officer,
        "pdf",
        "SOP-0001",
        "--version",
        "1",
        "--copy-for",
        "Ward 3",
        "-o",
        str(tmp_path / "o.pdf"),
    )
    assert "superseded" in out, out
    current = tmp_path / "current.pdf"
    team.qms(team.officer, "pdf", "SOP-0001", "-o", str(current))
    assert "SOP-0001 v2" in pdf_text(current)[0]


def test_the_site_links_each_version_in_force_to_its_pdf_only_when_asked(
    team: Team, tmp_path: Path
) -> None:
    team.on("2026-03-01")
    plain, with_pdfs = tmp_path / "plain", tmp_path / "pdfs"
    team.qms(team.admin, "build", "--site-dir", str(plain), "--date", "2026-03-01")
    assert "Download PDF" not in (plain / "sops" / "SOP-0001.html").read_text()
    assert not (plain / "pdf").exists()
    team.qms(team.admin, "build", "--site-dir", str(with_pdfs), "--date", "2026-03-01", "--pdfs")
    page = (with_pdfs / "sops" / "SOP-0001.html").read_text()
    assert 'href="../pdf/SOP-0001-v1.pdf"' in page and "Download PDF (uncontrolled copy)" in page
    pages = pdf_text(with_pdfs / "pdf" / "SOP-0001-v1.pdf")
    assert "UNCONTROLLED WHEN PRINTED" in pages[0] and "Page 1 of" in pages[0]
    assert "Dr. Anna Weber" in " ".join(pages[-1].split())


def test_two_issues_merged_from_two_branches_cannot_share_a_number(
    team: Team, tmp_path: Path
) -> None:
    team.on("2026-03-01")
    world = team.world
    base = world.head()
    world.git("checkout", "-q", "-b", "ward")
    team.qms(team.officer, "pdf", "SOP-0001", "--copy-for", "Ward 3", "-o", str(tmp_path / "1.pdf"))
    world.git("checkout", "-q", "-")
    team.on("2026-03-02")
    team.qms(
        team.admin, "pdf", "SOP-0001", "--copy-for", "Cleanroom B", "-o", str(tmp_path / "2.pdf")
    )
    issued = world.git("ls-tree", "-r", "--name-only", "ward", "controlled-copies").split()
    here = world.git("ls-tree", "-r", "--name-only", "HEAD", "controlled-copies").split()
    assert issued != here  # the second issue took the next free ID, and the same number
    world.git("merge", "-q", "--no-edit", "--no-ff", "ward")
    rules = {v["rule"] for v in team.check(f"{base}..HEAD", ok=False)["violations"]}
    assert "copy.number-taken" in rules, rules


def test_an_output_that_is_not_a_regular_file_is_refused_before_anything_is_written(
    team: Team, tmp_path: Path
) -> None:
    """The PDF replaces its output whole: a pipe (or a device such as /dev/null) is never
    replaced, and no copy is issued."""
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    before = team.world.head()
    out = refused(
        team.world, team.officer, "pdf", "SOP-0001", "--copy-for", "Ward 3", "-o", str(pipe)
    )
    assert "is not a regular file" in out, out
    assert pipe.exists() and not pipe.is_file() and team.world.head() == before
