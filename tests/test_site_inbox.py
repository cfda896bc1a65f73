"""The site's inbox pages (issue 22, item 4): what waits for each person, as `qms inbox` says.

The demo's own site (built by `qms demo` as of the story's day) is read page by page and held
against `qms inbox --person P --date DAY --format json` for everyone in its qms.yaml, item by
item. A copy of the demo then gets a CAPA whose title holds a script and a draft SOP on a branch
not merged: the first must show as text, the second must stay off the site (which publishes one
commit and says so) while `qms inbox` lists it. The layout is checked in a real Chromium.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml

from toolkit.browser import FITS_SCREEN, article, chromium, http_server, open_page, visible_text
from toolkit.cli import qms
from toolkit.demo import Demo, build_site, commit_as, copy_demo, desks, pristine_demo
from toolkit.process import git

SECTIONS = ("Signatures waiting", "Overdue or due within 30 days", "Training not yet done")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return pristine_demo(tmp_path_factory)


def people_of(repo: Path) -> list[str]:
    """The person IDs of the qms.yaml published (HEAD), read with git alone."""
    return [p["id"] for p in yaml.safe_load(git(repo, "show", "HEAD:qms.yaml"))["people"]]


def inbox_json(repo: Path, person: str, day: str) -> dict[str, Any]:
    result = qms("inbox", "--person", person, "--date", day, "--format", "json", repo=repo)
    assert result.exit_code in (0, 1), result.output + result.stderr
    found: dict[str, Any] = json.loads(result.stdout)
    return found


@pytest.fixture(scope="module")
def inboxes(demo: Demo) -> dict[str, dict[str, Any]]:
    """What `qms inbox` lists for everyone in the demo on its day."""
    return {p: inbox_json(demo.repo, p, demo.today.isoformat()) for p in people_of(demo.repo)}


# --- reading the pages ----------------------------------------------------------------------


class _Page(HTMLParser):
    """The rows of the table under each <h2> (visible text per cell, and the links of each
    cell), and every link of the page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self.hrefs: dict[str, list[list[str]]] = {}
        self.links: list[str] = []
        self._heading: list[str] | None = None
        self._section = ""
        self._row: list[str] | None = None
        self._row_links: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "h2":
            self._heading = []
        elif tag == "tr":
            self._row, self._row_links = [], []
        elif tag == "td" and self._row is not None:
            self._cell = []
            self._row_links.append([])
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.links.append(href)
            if self._cell is not None:
                self._row_links[-1].append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2" and self._heading is not None:
            self._section = re.sub(r" \(\d+\)$", "", " ".join("".join(self._heading).split()))
            self._heading = None
        elif tag == "td" and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row:  # not the heading row
                self.tables.setdefault(self._section, []).append(self._row)
                self.hrefs.setdefault(self._section, []).append(self._row_links)
            self._row = None

    def handle_data(self, data: str) -> None:
        for part in (self._heading, self._cell):
            if part is not None:
                part.append(data)


def parsed(site: Path, path: str) -> _Page:
    page = site / path
    assert page.is_file(), f"{path} is not on the site"
    reader = _Page()
    reader.feed(article(page.read_text(encoding="utf-8")))
    return reader


def text_of(site: Path, path: str) -> str:
    """The page's main text, tags dropped (and the space they leave before punctuation)."""
    said = html.unescape(visible_text(article((site / path).read_text(encoding="utf-8"))))
    return re.sub(r" ([,.:;)])", r"\1", said).replace("( ", "(")


def listed(found: dict[str, Any]) -> dict[str, list[list[str]]]:
    """The rows an inbox page must show for `qms inbox`'s JSON, cell by cell as read."""

    def signature(item: dict[str, Any]) -> str:
        if "target" not in item:
            return str(item["meaning"])
        signed = f" signed as {item['meaning']}" if item["meaning"] != item["target"] else ""
        return f"to {item['target']}{signed}"

    def due(item: dict[str, Any]) -> str:
        return " ".join([item["what"], *([item["detail"]] if item["detail"] else [])])

    def late(flag: bool) -> str:
        return "overdue" if flag else ""  # the badge, before the day

    return {
        SECTIONS[0]: [[s["record"], signature(s), s["why"]] for s in found["signatures"]],
        SECTIONS[1]: [[late(d["overdue"]) + d["due"], d["record"], due(d)] for d in found["due"]],
        SECTIONS[2]: [
            [
                late(r["status"] == "overdue") + r["due"],
                f"{r['document']} v{r['version']}",
                r["title"],
                r["status"] + ("" if r["in_force"] else f" effective from {r['effective_from']}"),
            ]
            for r in found["training"]
        ],
    }


def controlled(found: dict[str, Any], branch: str = "main") -> dict[str, Any]:
    """`qms inbox`'s JSON as the controlled site must show it: the signatures on `branch` only
    (the commit it publishes), and of those not the reviews and approvals of document drafts
    (no "target"), which it counts as `on_drafts`."""
    here = [s for s in found["signatures"] if s["branch"] == branch]
    kept = [s for s in here if "target" in s]
    return {**found, "signatures": kept, "on_drafts": len(here) - len(kept)}


def on_branch(found: dict[str, Any], branch: str = "main") -> dict[str, Any]:
    """`qms inbox`'s JSON with the signatures on `branch` only (a drafts preview's content)."""
    return {**found, "signatures": [s for s in found["signatures"] if s["branch"] == branch]}


def shown(page: _Page) -> dict[str, list[list[str]]]:
    """The same rows as the page shows them (the title column of records left out: the JSON
    has none; it is checked on its own)."""
    tables = page.tables
    return {
        SECTIONS[0]: [[r[0], r[2], r[3]] for r in tables.get(SECTIONS[0], [])],
        SECTIONS[1]: [[r[0], r[1], r[3]] for r in tables.get(SECTIONS[1], [])],
        SECTIONS[2]: tables.get(SECTIONS[2], []),
    }


# --- the demo's site ------------------------------------------------------------------------


def test_every_person_in_qms_yaml_has_a_page_listed_on_the_index(demo: Demo) -> None:
    people = people_of(demo.repo)
    assert len(people) >= 10
    for person in people:
        assert (demo.site / "inbox" / f"{person}.html").is_file(), person
    index = parsed(demo.site, "inbox/index.html")
    rows = index.tables[""]  # the index has one table, under no <h2>
    assert [links[0] for links in index.hrefs[""]] == [[f"{p}.html"] for p in people]
    assert len(rows) == len(people)
    assert sorted(p.name for p in (demo.site / "inbox").glob("*.html")) == sorted(
        [*(f"{p}.html" for p in people), "index.html"]
    )


def test_every_page_lists_exactly_what_qms_inbox_lists(
    demo: Demo, inboxes: dict[str, dict[str, Any]]
) -> None:
    totals = dict.fromkeys(SECTIONS, 0)
    drafts = 0
    for person, found in inboxes.items():
        assert found["date"] == demo.today.isoformat()
        assert {s["branch"] for s in found["signatures"]} <= {"main"}  # the demo has no other
        page = parsed(demo.site, f"inbox/{person}.html")
        site = controlled(found)
        assert shown(page) == listed(site), person
        said = text_of(demo.site, f"inbox/{person}.html")
        counted = (
            "Reviews and approvals of document drafts, which this site does not publish: "
            f"{site['on_drafts']} more (qms inbox --person {person} names them)"
        )
        assert (counted in said) == (site["on_drafts"] > 0), person
        for section, rows in listed(site).items():
            totals[section] += len(rows)
        drafts += site["on_drafts"]
    # the comparison is not vacuous: the demo's people have items of every sort
    assert all(count >= 3 for count in totals.values()), totals
    assert drafts >= 5  # SOP-0001 v4 in review, the new SOP-0013 drafted
    assert any(d["overdue"] for f in inboxes.values() for d in f["due"])
    assert any(r["status"] == "overdue" for f in inboxes.values() for r in f["training"])


def test_the_index_counts_agree_with_qms_inbox(
    demo: Demo, inboxes: dict[str, dict[str, Any]]
) -> None:
    rows = parsed(demo.site, "inbox/index.html").tables[""]
    for row, (person, found) in zip(rows, inboxes.items(), strict=True):
        assert f"({person})" in row[0]
        overdue = "overdue" if found["overdue"] else ""
        site = controlled(found)
        more = f" and {site['on_drafts']} on drafts" if site["on_drafts"] else ""
        assert row[2:] == [
            f"{len(site['signatures'])}{more}",
            f"{overdue}{found['overdue']}",
            str(sum(not d["overdue"] for d in found["due"])),
            str(sum(r["status"] == "due" for r in found["training"])),
        ], person
    weber = rows[list(inboxes).index("a.weber")]
    assert weber[0] == "Dr. Anna Weber (a.weber)" and weber[1] == "admin, qa-manager"


def test_the_pages_say_what_they_cover_and_link_where_the_site_has_a_page(
    demo: Demo, inboxes: dict[str, dict[str, Any]]
) -> None:
    head = git(demo.repo, "rev-parse", "HEAD")
    for path in ("inbox/index.html", "inbox/l.santos.html"):
        said = text_of(demo.site, path)
        assert f"As of {demo.today}, on the published commit {head[:12]}" in said, path
        assert "What waits on branches not merged into it yet" in said
        assert "is not on this site" in said
        assert "qms inbox --person ID" in said
    page = parsed(demo.site, "inbox/l.santos.html")  # something in every section
    for section in SECTIONS:
        rows, links = page.tables.get(section, []), page.hrefs.get(section, [])
        assert rows, section
        for row, cells in zip(rows, links, strict=True):
            assert cells[0 if section == SECTIONS[0] else 1], (section, row)
    for href in set(page.links):
        target = (demo.site / "inbox" / href.split("#")[0]).resolve()
        assert target.is_file(), href
    # SOP-0013 is a draft on main: it waits for a review, but the site does not name it
    assert "SOP-0013" in {s["record"] for s in inboxes["l.santos"]["signatures"]}
    title = yaml.safe_load(git(demo.repo, "show", "HEAD:sops/SOP-0013.md").split("---")[1])
    for person in inboxes:
        said = text_of(demo.site, f"inbox/{person}.html")
        assert "SOP-0013" not in said and title["title"] not in said, person


def test_the_dashboard_and_the_training_page_link_people_to_their_inbox(demo: Demo) -> None:
    dashboards = parsed(demo.site, "dashboards.html")
    assert "inbox/index.html" in dashboards.links
    overdue = dashboards.tables["Overdue items"]
    links = dashboards.hrefs["Overdue items"]
    owners = {row[1]: cells[3] for row, cells in zip(overdue, links, strict=True)}
    assert owners["CAPA-2026-0002"] == ["inbox/j.lindqvist.html"]
    training = parsed(demo.site, "training.html")
    [rossi] = training.hrefs["Overdue"]
    assert rossi[1] == ["inbox/p.rossi.html"]
    capa = parsed(demo.site, "capa/CAPA-2026-0002.html")
    assert "../inbox/j.lindqvist.html" in {h for row in capa.hrefs["What is due"] for h in row[3]}


def test_only_the_index_is_in_the_navigation_and_none_in_the_search(demo: Demo) -> None:
    for page in ("index.html", "dashboards.html", "inbox/index.html", "inbox/a.weber.html"):
        nav = (demo.site / page).read_text(encoding="utf-8").split('<div class="md-content"')[0]
        for person in people_of(demo.repo):
            assert f"{person}.html" not in nav, (page, person)
    search = json.loads((demo.site / "search" / "search_index.json").read_text())
    assert not [d["location"] for d in search["docs"] if d["location"].startswith("inbox/")]


# --- a record title holding a script, a draft on a branch not merged ------------------------

HOSTILE = "Logger <script>window.__inbox='ran'</script> & <b>bold</b> read-out"


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory, demo: Demo) -> Demo:
    folder = tmp_path_factory.mktemp("inbox")
    copy = copy_demo(demo, folder / "demo")
    repo = copy.repo
    santos = desks(copy, folder / "desks")["l.santos"]
    when = f"{copy.today}T09:00:00Z"
    capa = yaml.safe_load(git(repo, "show", "HEAD:capa/CAPA-2026-0006.yaml"))
    capa |= {"id": "CAPA-2026-0007", "title": HOSTILE, "owner": "l.santos"}
    dumped = yaml.safe_dump(capa, sort_keys=False, allow_unicode=True, width=10_000)
    commit_as(santos, repo, when, {"capa/CAPA-2026-0007.yaml": dumped}, "raised\n\nReason: x\n")
    git(repo, "switch", "-q", "-c", "spill-drill")
    sop = git(repo, "show", "HEAD:sops/SOP-0013.md").replace("SOP-0013", "SOP-0014")
    sop = re.sub(r"(?m)^title: .*$", "title: Quarterly spill drill", sop)
    later = f"{copy.today}T09:10:00Z"
    commit_as(santos, repo, later, {"sops/SOP-0014.md": sop}, "drill\n\nReason: new SOP\n")
    git(repo, "switch", "-q", "main")
    build_site(repo, copy.site, "--date", copy.today.isoformat())
    build_site(repo, copy.folder / "preview", "--date", copy.today.isoformat(), "--drafts")
    return copy


def test_a_record_title_with_a_script_is_shown_as_text(changed: Demo) -> None:
    raw = (changed.site / "inbox" / "a.weber.html").read_text(encoding="utf-8")
    assert "<script>window.__inbox" not in raw and "<b>bold</b>" not in raw
    assert html.escape(HOSTILE) in raw
    rows = parsed(changed.site, "inbox/a.weber.html").tables[SECTIONS[0]]
    assert ["CAPA-2026-0007", HOSTILE] in [r[:2] for r in rows]


def test_a_draft_on_a_branch_not_merged_is_in_qms_inbox_but_not_on_the_site(
    changed: Demo,
) -> None:
    day = changed.today.isoformat()
    found = inbox_json(changed.repo, "m.okafor", day)
    assert ("SOP-0014", "spill-drill") in {(s["record"], s["branch"]) for s in found["signatures"]}
    for site in (changed.site, changed.folder / "preview"):
        page = parsed(site, "inbox/m.okafor.html")
        expected = on_branch(found) if site.name == "preview" else controlled(found)
        assert shown(page) == listed(expected), site
        assert "SOP-0014" not in text_of(site, "inbox/m.okafor.html")
        assert "spill drill" not in text_of(site, "inbox/m.okafor.html")


def test_a_drafts_preview_lists_the_reviews_and_approvals_of_drafts(changed: Demo) -> None:
    preview = changed.folder / "preview"
    day = changed.today.isoformat()
    for person in ("a.weber", "m.okafor", "p.rossi"):
        found = on_branch(inbox_json(changed.repo, person, day))
        assert [s for s in found["signatures"] if "target" not in s], person
        assert shown(parsed(preview, f"inbox/{person}.html")) == listed(found), person
        assert "on drafts" not in text_of(preview, f"inbox/{person}.html")
    rows = parsed(preview, "inbox/m.okafor.html").tables[SECTIONS[0]]
    assert ["SOP-0013", "Gene therapy vector spill response"] in [r[:2] for r in rows]


def test_the_site_day_is_the_one_clock(changed: Demo) -> None:
    """Built a week later, the pages are as `qms inbox` says for that day."""
    later = (changed.today + timedelta(days=7)).isoformat()
    site = changed.folder / "site-later"
    build_site(changed.repo, site, "--date", later)
    for person in ("j.lindqvist", "p.rossi", "h.nakamura"):
        found = controlled(inbox_json(changed.repo, person, later))
        assert shown(parsed(site, f"inbox/{person}.html")) == listed(found), person
        assert f"As of {later}," in text_of(site, f"inbox/{person}.html")


# --- in a real browser ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(demo: Demo) -> Iterator[tuple[Any, str]]:
    with http_server(demo.site) as base:
        driver: Any = chromium()
        try:
            yield driver, base
        finally:
            driver.quit()


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize(
    "page", ["inbox/index.html", "inbox/a.weber.html", "inbox/n.achebe.html", "dashboards.html"]
)
def test_the_inbox_pages_fit_the_screen(browser: tuple[Any, str], page: str, width: int) -> None:
    driver, base = browser
    open_page(driver, base + page, width)
    seen = driver.execute_script(FITS_SCREEN)
    assert seen["width"] == width
    assert seen["tables"] >= 1
    assert not seen["problems"], seen["problems"]


def test_the_index_links_lead_to_each_persons_page(browser: tuple[Any, str]) -> None:
    from selenium.webdriver.common.by import By

    driver, base = browser
    open_page(driver, base + "dashboards.html", 1280)
    driver.find_element(By.LINK_TEXT, "what waits for whom").click()
    assert driver.current_url == base + "inbox/index.html"
    driver.find_element(By.LINK_TEXT, "Dr. Paola Rossi, PharmD").click()
    assert driver.current_url == base + "inbox/p.rossi.html"
    assert driver.find_element(By.CSS_SELECTOR, "article h1").text == (
        "What waits for Dr. Paola Rossi, PharmD"
    )
    said = " ".join(driver.find_element(By.CSS_SELECTOR, "article").text.split())
    assert "SOP-0005 v3" in said and "overdue" in said
