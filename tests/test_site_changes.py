"""Who approved a document version, at a glance, and what changed between two versions, on the
site of the real demo (and of a small team whose revision carries a script).

What is expected comes from the demo's Git history (the signed texts of each version, read with
git) and from `qms log --format json`, not from the site code. A redline page is checked both
ways: all its text but the deletions is the new version, all but the insertions the old one.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from test_site_build import approvals, facts, in_force, plain_lines, read, table_rows
from test_site_upcoming import V2_ONLY, links
from toolkit.browser import FITS_SCREEN, article, chromium, http_server, open_page, visible_text
from toolkit.cli import qms_cli
from toolkit.demo import Demo, build_site, pristine_demo
from toolkit.process import run
from toolkit.team import Team, build_team

# (document, version): its page, and the signature block that belongs to it
SHOWN = {
    ("SOP-0005", 3): ("sops/SOP-0005.html", "Signatures of version 3"),
    ("SOP-0005", 2): ("archive/SOP-0005-v2.html", "Signatures of version 2"),
    ("SOP-0003", 2): ("upcoming/SOP-0003-v2.html", "Signatures of version 2 (not yet in force)"),
}
REVISED = (("SOP-0005", 2, 1), ("SOP-0005", 3, 2), ("SOP-0003", 2, 1))  # (document, new, old)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return pristine_demo(tmp_path_factory)


# --- the history, read with git ------------------------------------------------------------


def signed_text(repo: Path, sop: str, version: int) -> tuple[dict[str, Any], str]:
    """The front matter and body of `sop` `version` as last committed (the approved text: a
    version's content is frozen once approved)."""
    log = run(["git", "-C", repo, "log", "--format=%H", "--", f"sops/{sop}.md"]).stdout.split()
    for commit in log:
        text = run(["git", "-C", repo, "show", f"{commit}:sops/{sop}.md"]).stdout
        _, head, body = text.split("---\n", 2)
        fields = yaml.safe_load(head)
        if fields.get("version") == version:
            return fields, body
    raise AssertionError(f"{sop} v{version} is not in the history")


def collapsed(value: str) -> str:
    return " ".join(value.split())


# --- reading the pages ---------------------------------------------------------------------


def signature_rows(page: str, label: str) -> list[list[str]]:
    match = re.search(
        rf'<section class="qms-signatures" aria-label="{re.escape(label)}">(.*?)</section>',
        page,
        re.S,
    )
    assert match, f"no signature block '{label}'"
    return table_rows(match.group(1))[1:]


def approved_line(page: str) -> str:
    found = re.findall(r'<p class="qms-approved">(.*?)</p>', article(page), re.S)
    assert len(found) == 1, f"expected one 'Approved by' line, found {len(found)}"
    return re.sub(r" ([,.])", r"\1", html.unescape(visible_text(found[0])))


def redline_blocks(page: str) -> list[str]:
    match = re.search(r'<div class="qms-redline"[^>]*>(.*?)</div></section>', page, re.S)
    assert match, "no redline on the page"
    return re.findall(r'<div class="qms-redline-block[^"]*">(.*?)</div>', match.group(1), re.S)


def side(blocks: list[str], drop: str) -> str:
    """The redline's text without its `drop` pieces ('del': the new text, 'ins': the old)."""
    parts = []
    for block in blocks:
        block = re.sub(r'<span class="qms-redline-note">.*?</span>', "", block, flags=re.S)
        block = re.sub(rf"<{drop}>.*?</{drop}>", "", block, flags=re.S)
        parts.append(html.unescape(re.sub(r"</?(?:ins|del)>", "", block)))
    return collapsed(" ".join(parts))


def marked(blocks: list[str], tag: str) -> list[str]:
    return [
        collapsed(html.unescape(piece))
        for block in blocks
        for piece in re.findall(rf"<{tag}>(.*?)</{tag}>", block, re.S)
    ]


# --- who approved --------------------------------------------------------------------------


def test_the_header_names_the_approvers_of_the_version_shown(demo: Demo) -> None:
    history = {(a.sop, a.version): a for found in approvals(demo.repo).values() for a in found}
    for (sop, version), (path, label) in SHOWN.items():
        page = read(demo.site, path)
        rows = signature_rows(page, label)
        log = json.loads(qms_cli(demo.repo, "log", sop, "--format", "json").stdout)["entries"]
        approvers = [r for r in rows if r[2] == "approved" and r[4].startswith("valid")]
        assert approvers, f"{sop} v{version}: no approval in its signature block"
        for name, _, _, when, _, _, commit in approvers:  # the block agrees with `qms log`
            entry = next(e for e in log if e["commit"].startswith(commit))
            assert (entry["action"], entry["name"], entry["date"][:10]) == (
                "approved",
                name,
                when[:10],
            )
        reviewers = {r[0] for r in rows if r[2] == "reviewed"} - {r[0] for r in approvers}
        assert reviewers, f"{sop} v{version}: the demo should have a reviewer to leave out"
        effective = history[(sop, version)].effective_from.isoformat()
        named = ", ".join(f"{r[0]} ({r[1]}) on {r[3][:10]}" for r in approvers)
        line = approved_line(page)
        assert line == (
            f"Approved by {named}, effective from {effective}. "
            f"Full signature block of version {version} below the text."
        ), path
        assert not any(name in line for name in reviewers), "a reviewer is not an approver"
        # the header comes before the text, the full block after it
        assert page.index('class="qms-approved"') < page.index('class="qms-body"')
        assert page.index('class="qms-body"') < page.index(f'aria-label="{label}"')


# --- what changed --------------------------------------------------------------------------


def test_a_redline_is_both_versions_with_real_insertions_and_deletions(demo: Demo) -> None:
    inserted: list[str] = []
    deleted: list[str] = []
    for sop, new, old in REVISED:
        new_fields, new_body = signed_text(demo.repo, sop, new)
        _, old_body = signed_text(demo.repo, sop, old)
        assert new_fields["supersedes"] == f"{sop} v{old}"
        page = read(demo.site, f"redline/{sop}-v{new}.html")
        blocks = redline_blocks(page)
        assert side(blocks, "del") == collapsed(new_body), f"{sop} v{new}: not the new text"
        assert side(blocks, "ins") == collapsed(old_body), f"{sop} v{new}: not the old text"
        ins, dels = marked(blocks, "ins"), marked(blocks, "del")
        for sentence in set(plain_lines(new_body)) - set(plain_lines(old_body)):
            if sentence not in collapsed(old_body):
                inserted += [sentence] if any(sentence in piece for piece in ins) else []
        for sentence in set(plain_lines(old_body)) - set(plain_lines(new_body)):
            if sentence not in collapsed(new_body):
                deleted += [sentence] if any(sentence in piece for piece in dels) else []
    assert V2_ONLY in inserted  # SOP-0003 v2's added sentence
    assert any(s.startswith("Version 1:") for s in deleted), deleted  # gone from SOP-0005 v2
    legend = read(demo.site, "redline/SOP-0005-v3.html")
    assert '<p class="qms-redline-legend"' in legend and "<ins>inserted text</ins>" in legend


def test_the_metadata_that_changed_is_tabled_field_by_field(demo: Demo) -> None:
    sop, new, old = "SOP-0005", 3, 2
    after, _ = signed_text(demo.repo, sop, new)
    before, _ = signed_text(demo.repo, sop, old)
    changed = {k for k in {*before, *after} if before.get(k) != after.get(k)} - {
        "version",
        "supersedes",
        "id",
    }
    assert {"change_control", "change_reason", "effective_date"} <= changed
    page = read(demo.site, f"redline/{sop}-v{new}.html")
    table = re.search(r'<section class="qms-field-changes">(.*?)</section>', page, re.S)
    assert table
    rows = table_rows(table.group(1))
    assert rows[0] == ["Field", f"v{old}", f"v{new}"]
    shown = {row[0]: (row[1], row[2]) for row in rows[1:]}
    assert set(shown) == {k.replace("_", " ").capitalize() for k in changed}
    assert shown["Change control"] == (before["change_control"], after["change_control"])
    assert shown["Effective date"] == (before["effective_date"], after["effective_date"])
    # the page states both versions, their effective dates, the change control and reason
    stated = facts(page)
    assert stated["New version"].startswith(f"{sop} v{new}: effective, effective from ")
    assert stated["Replaces"].startswith(f"{sop} v{old}: superseded, effective from ")
    assert stated["Change control"] == after["change_control"]
    assert collapsed(stated["Reason for change"]) == collapsed(after["change_reason"])


def test_the_comparison_is_marked_and_kept_out_of_the_search(demo: Demo) -> None:
    for sop, new, _ in REVISED:
        page = read(demo.site, f"redline/{sop}-v{new}.html")
        assert "COMPARISON, NOT A CONTROLLED TEXT." in visible_text(article(page))
        assert '<div class="qms-print-mark" aria-hidden="true">COMPARISON' in page
    index = json.loads((demo.site / "search" / "search_index.json").read_text())
    assert not [d["location"] for d in index["docs"] if d["location"].startswith("redline/")]


def test_the_revision_history_and_the_upcoming_banner_lead_to_it(demo: Demo) -> None:
    page = read(demo.site, "sops/SOP-0005.html")
    history = re.search(r"<h2>Revision history</h2>(.*?)</section>", page, re.S)
    assert history
    rows = {row[0]: row[-1] for row in table_rows(history.group(1))[1:]}
    assert rows == {"v3": "What changed in v3", "v2": "What changed in v2", "v1": "first issue"}
    found = links(demo.site, "sops/SOP-0005.html")
    assert {"redline/SOP-0005-v3.html", "redline/SOP-0005-v2.html"} <= found
    # the upcoming version: from the banner of the version in force and from its own page
    for path in ("sops/SOP-0003.html", "upcoming/SOP-0003-v2.html"):
        banner = re.search(
            r'<div class="qms-banner qms-banner-upcoming"[^>]*>(.*?)</div>',
            read(demo.site, path),
            re.S,
        )
        assert banner and 'href="../redline/SOP-0003-v2.html"' in banner.group(1), path


def test_a_first_issue_says_so_and_has_no_comparison(demo: Demo) -> None:
    firsts = []
    for sop, found in approvals(demo.repo).items():
        for approval in found:
            if not approval.fields.get("supersedes"):
                firsts.append((sop, approval.version))
                assert not (demo.site / f"redline/{sop}-v{approval.version}.html").exists()
    now = in_force(demo.repo, demo.today)
    shown = [sop for sop, version in firsts if sop in now and now[sop].version == version]
    assert shown, "the demo has documents in force at their first issue"
    for sop in shown:
        assert facts(read(demo.site, f"sops/{sop}.html"))["Replaces"] == "first issue"
    for page in (demo.site / "redline").glob("*.html"):  # every comparison has a predecessor
        sop, _, version = page.stem.rpartition("-v")
        if sop.startswith("SOP-"):
            fields, _ = signed_text(demo.repo, sop, int(version))
            assert fields.get("supersedes"), page.name


# --- an untrusted revision -------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
REPLACING = "Procedures of both pharmacies are merged into this one."
IMAGE = '<img src="x" onerror="alert(2)">'


def _hostile_revision(team: Team) -> None:
    team.on("2026-01-10")
    team.write_sop(1, "2026-01-20", "Receive every shipper at the pharmacy.")
    team.release_sop("2026-01-12", "2026-01-13")
    team.on("2026-02-01")
    team.write_sop(2, "2026-02-20", f"Receive every shipper at the ATMP room. {SCRIPT} {IMAGE}", 1)
    team.release_sop("2026-02-02", "2026-02-03")
    # a new document that replaces SOP-0001 v2 (its `supersedes` names the other document)
    team.on("2026-02-10")
    text = (team.world.repo / "sops" / "SOP-0001.md").read_text()
    text = re.sub(r"(?m)^id: .*$", "id: SOP-0002", text)
    text = re.sub(r"(?m)^version: .*$", "version: 1", text)
    text = re.sub(r"(?m)^supersedes:.*$", 'supersedes: "SOP-0001 v2"', text)
    text = re.sub(r"(?m)^effective_date:.*$", 'effective_date: "2026-02-25"', text)
    text = text.replace("at the ATMP room.", f"at the ATMP room. {REPLACING}")
    team.world.commit_file(team.author, "sops/SOP-0002.md", text, "SOP-0002 replaces SOP-0001")
    team.on("2026-02-11")
    team.qms(team.officer, "review", "SOP-0002", "--reason", "content checked")
    team.on("2026-02-12")
    team.qms(team.admin, "approve", "SOP-0002", "--reason", "released")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    team = build_team(tmp_path_factory, _hostile_revision)
    site = tmp_path_factory.mktemp("hostile-site") / "site"
    build_site(team.world.repo, site, "--date", "2026-03-01")
    return site


def test_a_script_added_in_a_revision_is_shown_as_text(hostile: Path) -> None:
    page = read(hostile, "redline/SOP-0001-v2.html")
    body = article(page)
    assert (
        "<script>alert" not in body
        and "<img" not in body
        and "onerror=" not in body.replace("onerror=&quot;", "")
    )
    inserted = " ".join(marked(redline_blocks(page), "ins"))
    assert SCRIPT in inserted and IMAGE in inserted
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_a_document_that_replaces_another_is_compared_with_it(hostile: Path) -> None:
    """SOP-0002 v1 names SOP-0001 v2 in `supersedes`: not a first issue, compared with it."""
    page = read(hostile, "redline/SOP-0002-v1.html")
    stated = facts(page)
    assert stated["Replaces"].startswith("SOP-0001 v2: ")
    inserted = marked(redline_blocks(page), "ins")  # the sentence (a full stop may align)
    assert len(inserted) == 1 and REPLACING.rstrip(".") in inserted[0], inserted
    assert facts(read(hostile, "sops/SOP-0002.html"))["Replaces"] == (
        "SOP-0001 v2: what changed in v1"
    )
    assert "redline/SOP-0002-v1.html" in links(hostile, "sops/SOP-0002.html")


# --- in a real browser ---------------------------------------------------------------------

WIDE_PAGES = (
    "sops/SOP-0005.html",
    "archive/SOP-0005-v2.html",
    "upcoming/SOP-0003-v2.html",
    "redline/SOP-0005-v3.html",
    "redline/SOP-0003-v2.html",
)
# The header line, the signature block and the redline: none needs scrolling sideways.
NO_SIDEWAYS = """
const problems = [];
for (const e of document.querySelectorAll(
    'p.qms-approved, section.qms-signatures .qms-scroll, section.qms-signatures table, '
    + '.qms-redline, .qms-redline-block')) {
  if (e.scrollWidth > e.clientWidth + 1) {
    problems.push(`${e.tagName}.${e.className} is ${e.scrollWidth}px wide in ${e.clientWidth}px`);
  }
  const box = e.getBoundingClientRect();
  if (box.right > window.innerWidth + 1) problems.push(`${e.className} ends at ${box.right}px`);
}
return problems;
"""


@pytest.fixture(scope="module")
def browser(demo: Demo) -> Iterator[tuple[Any, str]]:
    with http_server(demo.site) as base:
        driver: Any = chromium()
        try:
            yield driver, base
        finally:
            driver.quit()


@pytest.mark.parametrize("width", [1280, 390])
def test_header_signatures_and_redline_fit_without_scrolling(
    browser: tuple[Any, str], width: int
) -> None:
    driver, base = browser
    problems = {}
    for path in WIDE_PAGES:
        open_page(driver, base + path, width)
        page = driver.execute_script(FITS_SCREEN)
        assert page["width"] == width
        found = [p for p in page["problems"] if "px wide in" in p] + driver.execute_script(
            NO_SIDEWAYS
        )
        if found:
            problems[path] = found
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert not problems, problems


def test_printed_redline_and_signatures_fit_the_sheet_and_keep_rows_whole(
    browser: tuple[Any, str],
) -> None:
    """Print media at the width of an A4 sheet inside the margins (test_site_print): nothing
    wider than the sheet, and no signature row, redline block or approvers line split across
    two sheets."""
    driver, base = browser
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        problems = {}
        for path in WIDE_PAGES:
            open_page(driver, base + path, A4_PRINTED_WIDTH)
            found = driver.execute_script(NO_SIDEWAYS) + driver.execute_script(WHOLE)
            if found:
                problems[path] = found
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert not problems, problems


A4_PRINTED_WIDTH = 680  # CSS px: 210 mm - 2 x 15 mm
WHOLE = """
const problems = [];
for (const e of document.querySelectorAll(
    'section.qms-signatures tr, .qms-field-changes tr, .qms-redline-block, p.qms-approved')) {
  if (getComputedStyle(e).breakInside !== 'avoid') {
    problems.push(`${e.tagName}.${e.className} may be split across sheets`);
  }
}
return [...new Set(problems)];
"""


def test_no_script_of_a_revision_runs_in_the_browser(hostile: Path) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    with http_server(hostile) as base:
        driver: Any = chromium()
        try:
            open_page(driver, base + "redline/SOP-0001-v2.html", 1280)
            with pytest.raises(NoAlertPresentException):
                driver.switch_to.alert.text  # noqa: B018 - reading it is the check
            assert not driver.find_elements(By.CSS_SELECTOR, "article img, article script")
            inserted = " ".join(
                e.get_attribute("textContent")
                for e in driver.find_elements(By.CSS_SELECTOR, ".qms-redline ins")
            )
            assert SCRIPT in inserted and IMAGE in inserted
        finally:
            driver.quit()


def test_what_is_new_leads_to_each_listed_versions_comparison(demo: Demo) -> None:
    """Every version on the What is new page that has a comparison page links to it, and no
    version links to a comparison that does not exist (a first issue has none)."""
    page = read(demo.site, "whats-new.html")
    compared = {p.stem for p in (demo.site / "redline").glob("*.html")}
    versions = re.findall(r'href="(?:upcoming|verify|archive)/([A-Z]+-\d+-v\d+)\.html"', page)
    linked = set(re.findall(r'href="redline/([A-Z]+-\d+-v\d+)\.html"', page))
    assert versions and linked, "the demo's What is new lists a revised version"
    assert linked == {v for v in versions if v in compared}
    assert "SOP-0003-v2" in linked and "SOP-0011-v1" not in linked  # a revision; a first issue
