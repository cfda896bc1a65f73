"""The published site of the real demo: what a user of the controlled site must (and must never)
see. One `qms demo` per session (see toolkit.demo); every assertion reads the built HTML.

What is expected is worked out from the demo repository's own Git history (which versions were
approved when, by whom), not from the site code.
"""

from __future__ import annotations

import gzip
import html
import json
import re
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from gitqms.demo.story import STORY_DAY
from toolkit.browser import article, pages, visible_text
from toolkit.cli import qms_cli
from toolkit.demo import DRAFT_TEXT, Demo, build_site, pristine_demo
from toolkit.process import clean_env, run

SOP_IDS_EFFECTIVE = {f"SOP-{n:04d}" for n in range(1, 11)}  # what the demo story makes
TIME_UTC = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d UTC$")
EARLIER = "2026-03-01"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return pristine_demo(tmp_path_factory)


@pytest.fixture(scope="module")
def head(demo: Demo) -> str:
    return run(["git", "-C", demo.repo, "rev-parse", "HEAD"]).stdout.strip()


# --- what the history says ---------------------------------------------------------------------


@dataclass(frozen=True)
class Approval:
    sop: str
    version: int
    commit: str
    when: datetime  # UTC
    fields: dict[str, object]
    body: str

    @property
    def effective_from(self) -> date:
        stated = self.fields.get("effective_date")
        day = date.fromisoformat(str(stated)) if stated else self.when.date()
        return max(day, self.when.date())


def _split(text: str) -> tuple[dict[str, object], str]:
    _, head, body = text.split("---\n", 2)
    return yaml.safe_load(head), body


def approvals(repo: Path) -> dict[str, list[Approval]]:
    """Every 'Approved: SOP-… vN' commit of the history, with the SOP text it approved."""
    log = run(["git", "-C", repo, "log", "--format=%H%x1f%ct%x1f%s", "--grep=^Approved: SOP-"])
    found: dict[str, list[Approval]] = {}
    for line in log.stdout.splitlines():
        commit, stamp, subject = line.split("\x1f")
        when = datetime.fromtimestamp(int(stamp), UTC)
        for sop, version in re.findall(r"(SOP-\d{4}) v(\d+)", subject):
            text = run(["git", "-C", repo, "show", f"{commit}:sops/{sop}.md"]).stdout
            fields, body = _split(text)
            assert fields["version"] == int(version), (sop, version, commit)
            found.setdefault(sop, []).append(
                Approval(sop, int(version), commit, when, fields, body)
            )
    return found


def retired(repo: Path) -> set[str]:
    log = run(["git", "-C", repo, "log", "--format=%s", "--grep=^Retired: SOP-"]).stdout
    return set(re.findall(r"SOP-\d{4}", log))


def in_force(repo: Path, on: date) -> dict[str, Approval]:
    """The version of each SOP in force on `on`: the newest approved one effective by then."""
    gone = retired(repo)
    result = {}
    for sop, versions in approvals(repo).items():
        live = [a for a in versions if a.effective_from <= on]
        if live and sop not in gone:
            result[sop] = max(live, key=lambda a: a.version)
    return result


def plain_lines(body: str) -> list[str]:
    """Sentences of a Markdown body that render as plain text (no markup to reformat them)."""
    lines = []
    for line in body.splitlines():
        line = line.strip()
        if len(line) < 25 or not line[0].isalpha() or re.search(r"[*_`\[\]<>|#&\\]", line):
            continue
        lines.append(line)
    return lines


# --- reading the HTML --------------------------------------------------------------------------


class _Tables(HTMLParser):
    """Rows of every table, as the visible text of each cell."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def table_rows(fragment: str) -> list[list[str]]:
    parser = _Tables()
    parser.feed(fragment)
    return parser.rows


def section(page: str, label: str) -> str:
    match = re.search(
        rf'<section class="qms-signatures" aria-label="{re.escape(label)}">(.*?)</section>',
        page,
        re.S,
    )
    assert match, f"no signature block '{label}'"
    return match.group(1)


def read(site: Path, path: str) -> str:
    page = site / path
    assert page.is_file(), f"{path} is missing from the site"
    return page.read_text(encoding="utf-8")


def text_of(site: Path, path: str) -> str:
    return html.unescape(visible_text(article(read(site, path))))


def facts(page: str) -> dict[str, str]:
    match = re.search(r'<table class="qms-facts">.*?</table>', page, re.S)
    assert match, "no facts table"
    return {row[0]: row[1] for row in table_rows(match.group(0)) if len(row) == 2}


def banners(page: str) -> list[tuple[str, str]]:
    return [
        (kind, html.unescape(visible_text(inner)))
        for kind, inner in re.findall(
            r'<div class="qms-banner qms-banner-([a-z-]+)" role="note">(.*?)</div>', page, re.S
        )
    ]


# --- the controlled site -----------------------------------------------------------------------


def test_demo_history_has_the_expected_story(demo: Demo) -> None:
    """The ground truth the other tests use: the demo's history, read with git alone."""
    now = in_force(demo.repo, demo.today)
    assert set(now) == SOP_IDS_EFFECTIVE
    assert now["SOP-0005"].version == 3  # v3 released under CC-2026-0001 (demo/change.py)
    assert now["SOP-0003"].version == 1
    assert now["SOP-0001"].version == 3
    assert in_force(demo.repo, date.fromisoformat(EARLIER))["SOP-0005"].version == 1


def test_every_effective_sop_has_its_page_signatures_and_approved_text(demo: Demo) -> None:
    now = in_force(demo.repo, demo.today)
    index = text_of(demo.site, "sops/index.html")
    for sop, approval in sorted(now.items()):
        page = read(demo.site, f"sops/{sop}.html")
        content = article(page)
        shown = facts(content)
        assert shown["Document"] == sop
        assert shown["Version"] == str(approval.version), f"{sop} shows the wrong version"
        assert shown["Status"] == "effective", sop
        assert shown["Effective from"] == approval.effective_from.isoformat(), sop
        assert html.unescape(shown["Title"]) == approval.fields["title"], sop

        label = f"Signatures of version {approval.version}"
        rows = table_rows(section(content, label))
        assert rows[0] == [
            "Printed name",
            "Role",
            "Meaning",
            "Date and time",
            "Verdict",
            "Reason",
            "Commit",
        ]
        signed = rows[1:]
        approved = [r for r in signed if r[2] == "approved"]
        assert len(approved) == 1, f"{sop}: approval rows {approved}"
        name, role, _meaning, when, verdict, _reason, commit = approved[0]
        assert name == "Dr. Anna Weber", sop
        assert role == "qa-manager", sop
        assert when == f"{approval.when:%Y-%m-%d %H:%M} UTC", sop
        assert TIME_UTC.match(when)
        assert verdict == "valid", f"{sop}: {approved[0]}"
        assert approval.commit.startswith(commit), sop
        reviewed = [r for r in signed if r[2] == "reviewed"]
        assert reviewed, f"{sop} shows no review signature"
        for row in reviewed:
            assert row[0] in ("Michael Okafor, MSc", "Dr. Johan Lindqvist, PharmD"), row
            assert TIME_UTC.match(row[3]) and row[4] == "valid", row
        assert all(r[4] == "valid" for r in signed), f"{sop}: {signed}"
        assert f'<time datetime="{approval.when.isoformat()}">' in content, sop

        text = text_of(demo.site, f"sops/{sop}.html")
        sentences = plain_lines(approval.body)
        assert len(sentences) >= 3, f"{sop}: too little plain text to compare"
        missing = [s for s in sentences if s not in text]
        assert not missing, f"{sop} v{approval.version}: approved text not on its page: {missing}"
        assert sop in index, f"{sop} is not in the index of procedures in force"


def test_draft_text_appears_nowhere_on_the_site(demo: Demo) -> None:
    files = [p for p in demo.site.rglob("*") if p.is_file()]
    assert any(p.name == "search_index.json" for p in files), "the site has no search index"
    leaks = []
    for path in files:
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        if DRAFT_TEXT.encode() in data:
            leaks.append(str(path.relative_to(demo.site)))
    assert not leaks, f"draft text published in {leaks}"
    sop1 = facts(article(read(demo.site, "sops/SOP-0001.html")))
    assert sop1["Version"] == "3" and sop1["Status"] == "effective"


def test_new_draft_sop_has_no_page_and_is_not_searchable(demo: Demo) -> None:
    assert not (demo.site / "sops" / "SOP-0013.html").exists()
    index = json.loads((demo.site / "search" / "search_index.json").read_text())
    assert not [d["location"] for d in index["docs"] if "SOP-0013" in d["location"]]
    for path in [p for p in demo.site.rglob("*") if p.is_file() and p.suffix != ".gz"]:
        data = path.read_bytes()
        assert b"SOP-0013" not in data, f"{path} names the draft SOP-0013"
        assert b"vector spill" not in data, f"{path} holds the draft SOP-0013's title"


def test_search_finds_effective_text_and_never_superseded_text(demo: Demo) -> None:
    """Staff searching the site land on versions in force: archived versions (not for use) and
    register pages stay out of the search index, while their pages are still published."""
    index = json.loads((demo.site / "search" / "search_index.json").read_text())
    by_place: dict[str, str] = {}
    for doc in index["docs"]:
        page = doc["location"].split("#")[0]
        by_place[page] = by_place.get(page, "") + " " + doc["title"] + " " + doc["text"]
    assert "sops/SOP-0005.html" in by_place
    assert not [p for p in by_place if p.startswith("archive/SOP-")]
    assert "capa/index.html" not in by_place and "deviations/index.html" not in by_place
    v1_only = "Version 1: the logger is read out on the day of receipt"
    assert v1_only not in json.dumps(index)
    assert v1_only in read(demo.site, "archive/SOP-0005-v1.html")
    v2_text = by_place["sops/SOP-0005.html"]
    assert "logger" in v2_text


def test_audit_trails_are_on_the_pages_and_out_of_the_search_index(demo: Demo) -> None:
    """The plugin sets trails aside while the search plugin reads a page (for speed: the
    search plugin would skip them anyway) and puts them back after: every trail is whole on
    its page, no placeholder is left, and no page's search entry holds its trail."""
    index = json.loads((demo.site / "search" / "search_index.json").read_text())
    searched: dict[str, str] = {}
    for doc in index["docs"]:
        page = doc["location"].split("#")[0]
        searched[page] = searched.get(page, "") + " " + doc["title"] + " " + doc["text"]
    for path in ("capa/CAPA-2026-0001.html", "deviations/DEV-2026-0001.html", "sops/SOP-0005.html"):
        page = read(demo.site, path)
        trails = re.findall(
            r'<section class="qms-trail" data-search-exclude>(.*?)</section>', page, re.S
        )
        assert len(trails) == 1, path
        commits = re.findall(r"<code>([0-9a-f]{12})</code>", trails[0])
        assert commits and "Audit trail" in trails[0], path
        rest = page.replace(trails[0], "")
        only_in_trail = [c for c in commits if c not in rest]  # not also in a signature block
        assert only_in_trail or path.startswith("sops/"), path
        assert path in searched
        assert not [c for c in only_in_trail if c in searched[path]], path
    leftovers = [p for p in demo.site.rglob("*.html") if "QMSLATER" in p.read_text("utf-8")]
    assert not leftovers


def test_upcoming_version_banner_and_current_text(demo: Demo) -> None:
    approved = {a.version: a for a in approvals(demo.repo)["SOP-0003"]}
    v1, v2 = approved[1], approved[2]
    assert v2.effective_from == demo.today + timedelta(days=21)
    page = article(read(demo.site, "sops/SOP-0003.html"))
    shown = facts(page)
    assert shown["Version"] == "1" and shown["Status"] == "effective"
    upcoming = [message for kind, message in banners(page) if kind == "upcoming"]
    assert len(upcoming) == 1, banners(page)
    assert "Version 2 is approved" in upcoming[0]
    assert f"effective on {v2.effective_from.isoformat()}" in upcoming[0]
    assert "version 1 below is in force" in upcoming[0]
    text = text_of(demo.site, "sops/SOP-0003.html")
    for sentence in plain_lines(v1.body):
        assert sentence in text, f"v1 text missing: {sentence}"
    new = "The effectiveness check is verified by a person who did not implement the actions."
    body = html.unescape(
        visible_text(
            page.split('<div class="qms-body">', 1)[1].split('<section class="qms-signatures"', 1)[
                0
            ]
        )
    )
    assert new not in body, "the text of v2 is shown as if it were in force"
    rows = table_rows(section(page, "Signatures of version 2 (upcoming)"))
    assert any(r[0] == "Dr. Anna Weber" and r[2] == "approved" for r in rows[1:])


def test_superseded_version_is_archived_and_marked(demo: Demo) -> None:
    page = article(read(demo.site, "archive/SOP-0005-v1.html"))
    marks = banners(page)
    assert marks and marks[0][0] == "obsolete"
    assert marks[0][1].startswith("SUPERSEDED: not for use."), marks
    assert facts(page)["Status"] == "superseded"
    assert "Version 1: the logger is read out on the day of receipt" in text_of(
        demo.site, "archive/SOP-0005-v1.html"
    )
    current = text_of(demo.site, "sops/SOP-0005.html")
    assert "Version 1: the logger is read out" not in current
    assert "SUPERSEDED" not in current
    assert "SOP-0005 v1" in text_of(demo.site, "archive/index.html")


def test_retired_sop_is_marked_obsolete_and_not_in_force(demo: Demo) -> None:
    page = article(read(demo.site, "sops/SOP-0012.html"))
    marks = banners(page)
    assert marks and marks[0][0] == "obsolete" and marks[0][1].startswith("OBSOLETE"), marks
    assert facts(page)["Status"] == "obsolete"
    archived = article(read(demo.site, "archive/SOP-0012-v1.html"))
    assert banners(archived)[0][1].startswith("OBSOLETE: not for use.")
    index = read(demo.site, "sops/index.html")
    in_force_part = article(index).split("Approved, not yet effective")[0]
    assert "SOP-0012" not in in_force_part, "the retired SOP is listed as in force"


def test_the_demo_tells_its_story_as_of_its_own_day_whenever_it_runs(demo: Demo) -> None:
    """The story ends on STORY_DAY however late the demo is built (CI also builds it with the
    clock moved to a year's last second and years ahead): one action overdue, SOP-0003 v2
    approved and upcoming, whatever the machine's day."""
    assert demo.today == STORY_DAY
    assert f"demo day:        {STORY_DAY}" in demo.output
    last = qms_cli(demo.repo, "log", "SOP-0001", "--format", "json").stdout
    assert max(e["date"][:10] for e in json.loads(last)["entries"]) <= STORY_DAY.isoformat()
    due = json.loads(
        qms_cli(demo.repo, "due", "--date", str(STORY_DAY), "--format", "json", check=False).stdout
    )
    overdue = [(i["record"], i["what"]) for i in due["items"] if i["overdue"]]
    assert overdue == [("CAPA-2026-0002", "action A4"), ("SOP-0005", "training of p.rossi on v3")]
    upcoming = [
        i for i in due["items"] if i["record"] == "SOP-0003" and "training" not in i["what"]
    ]
    assert [i["due"] for i in upcoming] == [str(STORY_DAY + timedelta(days=21))]


def test_capa_register_marks_the_overdue_capa(demo: Demo) -> None:
    register = article(read(demo.site, "capa/index.html"))
    rows = re.findall(
        r"<tr( class=\"[^\"]*\")?><td[^>]*><a href=\"(CAPA-\d{4}-\d{4})\.html\"", register
    )
    overdue = {capa for css, capa in rows if "qms-overdue" in css}
    assert overdue == {"CAPA-2026-0002"}, rows
    row = re.search(r'<tr class="qms-overdue">(.*?)</tr>', register, re.S)
    assert row is not None
    cells = table_rows(f"<table><tr>{row.group(1)}</tr></table>")[0]
    assert re.fullmatch(r"overdue ?2026-10-15: action A4", cells[-1]), cells
    record = article(read(demo.site, "capa/CAPA-2026-0002.html"))
    assert [k for k, _ in banners(record)] == ["overdue"]
    assert "2026-10-15 CAPA-2026-0002 action A4" in html.unescape(
        visible_text(article(read(demo.site, "dashboards.html")))
    )


def test_every_page_footer_names_commit_build_date_and_print_notice(demo: Demo, head: str) -> None:
    all_pages = pages(demo.site)
    assert len(all_pages) > 30
    for path in all_pages:
        page = path.read_text(encoding="utf-8")
        footer = page[page.find('<footer class="md-footer">') :]
        assert footer.startswith("<footer"), f"{path} has no footer"
        text = html.unescape(visible_text(footer))
        where = path.relative_to(demo.site)
        assert f"Published from commit {head[:12]}" in text, where
        assert f"status as of {demo.today.isoformat()}" in text, where
        built = re.search(r"built (\d{4}-\d\d-\d\d) \d\d:\d\d UTC", text)
        assert built, f"{where}: no build date in the footer: {text}"
        # The build date is the machine's (when it was built), not the story's day.
        assert demo.ran[0].date() <= date.fromisoformat(built.group(1)) <= demo.ran[1].date()
        assert "Uncontrolled copy when printed" in text, where


_REMOTE = re.compile(r"^\s*(?:https?:)?//", re.I)


class _Loads(HTMLParser):
    """Every URL a page makes the browser fetch by itself (not links the user may follow)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str]] = []
        self._style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        fetched = {
            "script": ["src"],
            "img": ["src", "srcset"],
            "source": ["src", "srcset"],
            "iframe": ["src"],
            "embed": ["src"],
            "object": ["data"],
            "video": ["src", "poster"],
            "audio": ["src"],
            "input": ["src"],
            "image": ["href", "xlink:href"],
            "use": ["href", "xlink:href"],
        }.get(tag, [])
        if tag == "link" and values.get("rel", "").lower() not in ("canonical", "alternate"):
            fetched = ["href"]
        for name in fetched:
            if name in values:
                self.urls.append((tag, values[name]))
        style = values.get("style", "")
        self.urls += [("style", u) for u in re.findall(r"url\(\s*['\"]?([^'\")]+)", style)]
        self._style = tag == "style"

    def handle_data(self, data: str) -> None:
        if self._style:
            self.urls += [("style", u) for u in re.findall(r"url\(\s*['\"]?([^'\")]+)", data)]
            self.urls += [("style", u) for u in re.findall(r"@import\s+['\"]([^'\"]+)", data)]

    def handle_endtag(self, tag: str) -> None:
        self._style = False


def test_nothing_is_loaded_from_the_internet(demo: Demo) -> None:
    remote: dict[str, set[str]] = {}
    for path in pages(demo.site):
        parser = _Loads()
        parser.feed(path.read_text(encoding="utf-8"))
        for tag, url in parser.urls:
            if _REMOTE.match(url):
                remote.setdefault(f"<{tag}> {url}", set()).add(str(path.relative_to(demo.site)))
    for sheet in demo.site.rglob("*.css"):
        css = sheet.read_text(encoding="utf-8", errors="replace")
        for url in re.findall(r"url\(\s*['\"]?((?:https?:)?//[^'\")]+)", css) + re.findall(
            r"@import\s+(?:url\()?['\"]?((?:https?:)?//[^'\")]+)", css
        ):
            remote.setdefault(f"css {url}", set()).add(str(sheet.relative_to(demo.site)))
    assert not remote, "the site loads from the internet: " + "; ".join(
        f"{what} on {len(where)} pages (e.g. {sorted(where)[0]})" for what, where in remote.items()
    )


# --- other builds of the same repository -------------------------------------------------------


def test_draft_preview_marks_every_page_and_shows_the_draft(demo: Demo, tmp_path: Path) -> None:
    preview = tmp_path / "preview"
    build_site(demo.repo, preview, "--drafts")
    all_pages = pages(preview)
    assert len(all_pages) > 30
    unmarked = [
        str(p.relative_to(preview))
        for p in all_pages
        if "DRAFT" not in html.unescape(visible_text(p.read_text(encoding="utf-8")))
    ]
    assert not unmarked, f"pages of the draft preview without DRAFT: {unmarked}"
    for path in all_pages:
        page = path.read_text(encoding="utf-8")
        if path.name != "404.html":  # every content page opens with the preview banner
            assert "DRAFT PREVIEW" in visible_text(article(page)), path
    sop1 = article(read(preview, "sops/SOP-0001.html"))
    assert facts(sop1)["Version"] == "4"
    assert DRAFT_TEXT in html.unescape(visible_text(sop1))
    assert any(k == "draft" and "DRAFT: not approved" in m for k, m in banners(sop1))
    assert (preview / "sops" / "SOP-0013.html").is_file()
    # the controlled site of the same repository is untouched by the preview
    assert DRAFT_TEXT not in read(demo.site, "sops/SOP-0001.html")


def test_site_of_an_earlier_day_shows_the_version_then_in_force(demo: Demo, tmp_path: Path) -> None:
    site = tmp_path / "march"
    build_site(demo.repo, site, "--date", EARLIER)
    v1 = in_force(demo.repo, date.fromisoformat(EARLIER))["SOP-0005"]
    page = article(read(site, "sops/SOP-0005.html"))
    shown = facts(page)
    assert shown["Version"] == "1" and shown["Status"] == "effective"
    text = text_of(site, "sops/SOP-0005.html")
    assert "Version 1: the logger is read out on the day of receipt" in text
    for sentence in plain_lines(v1.body):
        assert sentence in text
    assert not banners(page), "SOP-0005 v1 was in force on that day; no banner belongs here"
    assert not (site / "archive" / "SOP-0005-v1.html").exists()
    sop12 = article(read(site, "sops/SOP-0012.html"))
    assert facts(sop12)["Status"] == "effective", "SOP-0012 was retired only in June"
    sop3 = text_of(site, "sops/SOP-0003.html")
    assert "Version 2" not in sop3, "SOP-0003 v2 was approved in November, not known in March"
    footer = html.unescape(visible_text(read(site, "index.html").split("<footer", 1)[1]))
    assert f"status as of {EARLIER}" in footer
    capa = text_of(site, "capa/index.html")
    assert "CAPA-2026-0002" not in capa, "CAPA-2026-0002 was opened in June"
    for path in site.rglob("*"):
        if path.is_file() and path.suffix != ".gz":
            assert DRAFT_TEXT.encode() not in path.read_bytes(), path


def test_plain_mkdocs_build_in_the_repository(demo: Demo, tmp_path: Path) -> None:
    out = tmp_path / "mkdocs-site"
    result = run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", out],
        cwd=demo.repo,
        env=clean_env(QMS_SITE_DATE=demo.today.isoformat()),  # the day the demo's site is of
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    warnings = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.startswith(("WARNING", "ERROR"))
    ]
    assert not warnings, warnings
    built = {str(p.relative_to(out)) for p in pages(out)}
    published = {str(p.relative_to(demo.site)) for p in pages(demo.site)}
    assert built == published
    assert facts(article(read(out, "sops/SOP-0005.html")))["Version"] == "3"
    for path in out.rglob("*"):
        if path.is_file() and path.suffix != ".gz":
            assert DRAFT_TEXT.encode() not in path.read_bytes(), path
    status = run(["git", "-C", demo.repo, "status", "--porcelain", "--ignored"]).stdout
    assert status == "", f"building the site changed the repository:\n{status}"


def test_a_theme_that_loses_an_audit_trail_stops_the_build(demo: Demo, tmp_path: Path) -> None:
    """Trails are put back after the search plugin has read a page; a theme override (or
    another plugin) that drops the placeholder must stop the build, never publish a record
    page without its audit trail."""
    overrides = tmp_path / "overrides"
    overrides.mkdir()
    (overrides / "main.html").write_text(
        '{% extends "base.html" %}\n'
        '{% block content %}{{ page.content | replace("<!--", "<!- -") }}{% endblock %}\n'
    )
    config = yaml.safe_load((demo.repo / "mkdocs.yml").read_text())
    config["docs_dir"] = str(demo.repo / "docs")
    config["theme"]["custom_dir"] = str(overrides)
    config["plugins"] = [
        {"qms": {"repository": str(demo.repo)}} if plugin == "qms" else plugin
        for plugin in config["plugins"]
    ]
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump(config))
    result = run(
        [sys.executable, "-m", "mkdocs", "build", "-d", tmp_path / "out"], cwd=tmp_path, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "could not be put back" in output and "Traceback" not in output, output


def test_site_of_the_upcoming_effective_day_shows_the_new_version(
    demo: Demo, tmp_path: Path
) -> None:
    approved = {a.version: a for a in approvals(demo.repo)["SOP-0003"]}
    day = approved[2].effective_from
    site = tmp_path / "upcoming"
    build_site(demo.repo, site, "--date", day.isoformat())
    page = article(read(site, "sops/SOP-0003.html"))
    shown = facts(page)
    assert shown["Version"] == "2" and shown["Status"] == "effective"
    assert shown["Effective from"] == day.isoformat()
    assert not [k for k, _ in banners(page) if k == "upcoming"]
    assert not (site / "upcoming" / "SOP-0003-v2.html").exists(), "v2 is in force that day"
    text = text_of(site, "sops/SOP-0003.html")
    assert (
        "The effectiveness check is verified by a person who did not implement the actions." in text
    )
    old = article(read(site, "archive/SOP-0003-v1.html"))
    assert banners(old)[0][1].startswith("SUPERSEDED: not for use.")
    assert f"until {day.isoformat()}" in banners(old)[0][1]


# --- what never reaches the controlled site, whatever is committed or left in the working tree --

SILENT = "SILENT-EDIT TEXT"
WORKTREE = "WORKTREE-ONLY TEXT"
FIELDS_DRAFT = "DRAFT-FIELD TEXT"


@dataclass(frozen=True)
class Tampered:
    demo: Demo
    site: Path
    forged: tuple[str, ...]  # the commits that claim an approval of SOP-0013


def _approval_message(sop: str, version: int, content: bytes, reason: str) -> str:
    import hashlib

    return (
        f"Approved: {sop} v{version}\n\nQMS-Record: {sop}\nQMS-Version: {version}\n"
        f"QMS-Content: sha256:{hashlib.sha256(content).hexdigest()}\nQMS-Meaning: approved\n"
        f"Reason: {reason}\n"
    )


@pytest.fixture(scope="module")
def tampered(tmp_path_factory: pytest.TempPathFactory) -> Tampered:
    """A copy of the demo where people try to get unapproved text onto the controlled site:
    approvals of the draft SOP-0013 forged (unsigned in the approver's name; signed by an author
    who may not approve), a silent edit of an effective SOP's text without a new version, a
    draft revision whose title and reason of change carry draft-only words, and uncommitted and
    untracked files in the working tree."""
    from toolkit.demo import commit_as, copy_demo, desks

    folder = tmp_path_factory.mktemp("tampered")
    demo = copy_demo(pristine_demo(tmp_path_factory), folder / "demo")
    people = desks(demo, folder / "desks")
    repo = demo.repo
    day = "2026-11-21"
    draft = run(["git", "-C", repo, "show", "HEAD:sops/SOP-0013.md"]).stdout.encode()
    message = _approval_message("SOP-0013", 1, draft, "release")
    forged = []
    weber = people["a.weber"].env(f"{day}T15:00:00Z")
    run(
        ["git", "-C", repo, "commit", "-q", "--allow-empty", "--no-gpg-sign", "-m", message],
        env=weber,
    )
    forged.append(run(["git", "-C", repo, "rev-parse", "HEAD"]).stdout.strip())
    santos = people["l.santos"].env(f"{day}T15:05:00Z")
    run(["git", "-C", repo, "commit", "-q", "--allow-empty", "-S", "-m", message], env=santos)
    forged.append(run(["git", "-C", repo, "rev-parse", "HEAD"]).stdout.strip())

    sop2 = (repo / "sops" / "SOP-0002.md").read_text(encoding="utf-8")
    commit_as(
        people["m.okafor"],
        repo,
        f"{day}T15:10:00Z",
        {"sops/SOP-0002.md": sop2 + f"\n## 9 Added later\n\n{SILENT} never approved.\n"},
        "SOP-0002: tidy up\n\nReason: typo\n",
    )

    sop4 = (repo / "sops" / "SOP-0004.md").read_text(encoding="utf-8")
    sop4 = re.sub(r"(?m)^version: .*$", "version: 3", sop4, count=1)
    sop4 = re.sub(r"(?m)^supersedes: .*$", 'supersedes: "SOP-0004 v2"', sop4, count=1)
    sop4 = re.sub(
        r"(?m)^title: .*$", f'title: "Training {FIELDS_DRAFT} in the title"', sop4, count=1
    )
    sop4 = re.sub(
        r"(?m)^change_reason: >-\n(?:  .*\n)+",
        f"change_reason: >-\n  {FIELDS_DRAFT} in the reason for the change.\n",
        sop4,
        count=1,
    )
    sop4 += f"\n## 9 Draft section\n\n{FIELDS_DRAFT} in the body.\n"
    commit_as(
        people["l.santos"],
        repo,
        f"{day}T15:20:00Z",
        {"sops/SOP-0004.md": sop4},
        "SOP-0004 v3 (draft)\n\nReason: planned revision\n",
    )

    validation = qms_cli(repo, "validate", check=False)
    assert validation.returncode == 0, validation.stdout + validation.stderr

    # the working tree: an uncommitted edit and files never committed
    sop5 = repo / "sops" / "SOP-0005.md"
    sop5.write_text(sop5.read_text(encoding="utf-8") + f"\n{WORKTREE} in an edit.\n")
    (repo / "sops" / "SOP-0015.md").write_text(
        (repo / "sops" / "SOP-0013.md")
        .read_text(encoding="utf-8")
        .replace("SOP-0013", "SOP-0015")
        .replace(DRAFT_TEXT, WORKTREE)
    )
    capa = (repo / "capa" / "CAPA-2026-0002.yaml").read_text(encoding="utf-8")
    (repo / "capa" / "CAPA-2026-0002.yaml").write_text(
        re.sub(r"(?m)^title: .*$", f'title: "{WORKTREE} in a CAPA title"', capa, count=1)
    )
    site = folder / "site"
    build_site(repo, site)
    return Tampered(demo, site, tuple(forged))


def _holding(site: Path, needle: str) -> list[str]:
    found = []
    for path in site.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if path.suffix == ".gz":
                data = gzip.decompress(data)
            if needle.encode() in data:
                found.append(str(path.relative_to(site)))
    return sorted(found)


def test_forged_approvals_do_not_publish_a_draft(tampered: Tampered) -> None:
    site = tampered.site
    assert not (site / "sops" / "SOP-0013.html").exists()
    assert _holding(site, DRAFT_TEXT) == []
    assert "vector spill" not in text_of(site, "sops/index.html")
    verification = text_of(site, "verification.html")
    for commit in tampered.forged:  # both are listed as signatures that do not count
        assert commit[:12] in verification, verification


def test_silent_edit_of_an_effective_sop_is_not_published(tampered: Tampered) -> None:
    assert _holding(tampered.site, SILENT) == []
    shown = facts(article(read(tampered.site, "sops/SOP-0002.html")))
    assert shown["Version"] == "2"


def test_working_tree_changes_are_not_published(tampered: Tampered) -> None:
    assert _holding(tampered.site, WORKTREE) == []
    assert not (tampered.site / "sops" / "SOP-0015.html").exists()


def test_draft_front_matter_never_reaches_the_controlled_site(tampered: Tampered) -> None:
    """A draft revision's title and reason for change are draft text as much as its body."""
    site = tampered.site
    shown = facts(article(read(site, "sops/SOP-0004.html")))
    assert shown["Version"] == "2"
    assert shown["Title"] == "Training and qualification of staff handling ATMPs"
    leaks = _holding(site, FIELDS_DRAFT)
    where = ""
    if leaks:
        page = (site / leaks[0]).read_text(encoding="utf-8")
        at = page.find(FIELDS_DRAFT)
        where = html.unescape(visible_text(page[max(0, at - 600) : at + 200]))[-400:]
    assert leaks == [], f"draft wording published in {leaks}: …{where}"


def test_default_build_folders_stay_out_of_the_repository(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """`qms build` and `qms build --drafts` without --site-dir write into the repository
    (site/ and site-preview/); neither may show up as something to commit, least of all the
    draft preview."""
    from toolkit.cli import qms_cli
    from toolkit.demo import copy_demo

    demo = copy_demo(pristine_demo(tmp_path_factory), tmp_path_factory.mktemp("defaults") / "d")
    qms_cli(demo.repo, "build", env=clean_env())
    qms_cli(demo.repo, "build", "--drafts", env=clean_env())
    assert (demo.repo / "site" / "index.html").is_file()
    assert DRAFT_TEXT in (demo.repo / "site-preview" / "sops" / "SOP-0001.html").read_text()
    status = run(["git", "-C", demo.repo, "status", "--porcelain"]).stdout
    assert status == "", f"the built sites are not ignored by git:\n{status}"
