"""The site's "What is new" page (issue 23, item 5): the documents that became effective, were
revised or retired in the window before the site's day, and the approved versions coming into
force after it, per training audience.

The demo's site is built for days taken from its own story (its last day, a few days after its
first retirement, years ahead) and each page is held against an independent derivation: the
versions' days from `qms status --date DAY --format json`, the audiences from the approved bytes
read with plain git, the training state from `qms training --format json`. A copy of the demo
then sets `publication.recent_days` in an admin-signed qms.yaml.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from toolkit.browser import FITS_SCREEN, article, chromium, http_server, open_page, visible_text
from toolkit.cli import qms
from toolkit.demo import Demo, build_site, commit_as, copy_demo, desks, pristine_demo
from toolkit.process import git

ALL_STAFF = "audience-all-staff"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return pristine_demo(tmp_path_factory)


def status_of(repo: Path, day: date) -> list[dict[str, Any]]:
    result = qms("status", "--date", day.isoformat(), "--format", "json", repo=repo)
    assert result.exit_code in (0, 1), result.output + result.stderr
    return [r for r in json.loads(result.stdout)["records"] if "versions" in r]


def expected(
    repo: Path, day: date, days: int = 30
) -> tuple[dict[tuple[str, int], list[str]], dict[tuple[str, int], dict[str, Any]]]:
    """(document, version) -> the days of its approval, effect or retirement in the window;
    and the approved versions effective after `day`; from `qms status`, not from the site."""
    since = day - timedelta(days=days - 1)
    recent: dict[tuple[str, int], list[str]] = {}
    upcoming = {}
    for record in status_of(repo, day):
        for version in record["versions"]:
            found = [version["approved_on"]]
            if version["status"] != "approved":
                found.append(version["effective_from"])
            if version["status"] == "obsolete":
                found.append(version["until"])
            inside = [d for d in found if d and since <= date.fromisoformat(d) <= day]
            if inside:
                recent[(record["id"], version["version"])] = inside
        if record["upcoming"]:
            upcoming[(record["id"], record["upcoming"]["version"])] = record["upcoming"]
    return recent, upcoming


def audiences(repo: Path, record_id: str, commit: str) -> set[str]:
    """The training audiences a version names, from its approved bytes, read with git."""
    [path] = [
        p
        for p in git(repo, "ls-tree", "-r", "--name-only", commit).split()
        if p.endswith(f"/{record_id}.md")
    ]
    text = git(repo, "show", f"{commit}:{path}")
    fields = yaml.safe_load(text.split("---\n")[1])
    return set((fields.get("training") or {}).get("audience") or [])


def sections(html: str) -> dict[str, tuple[dict[tuple[str, int], str], dict[tuple[str, int], str]]]:
    """Audience section id -> its "Recently" and "Becoming effective soon" rows, by (ID, v)."""
    found = {}
    for part in article(html).split('<section class="qms-audience" id="')[1:]:
        name = part[: part.index('"')]
        body = part[: part.index("</section>")]
        recent, _, upcoming = body.partition("<h3>Becoming effective soon</h3>")
        found[name] = (_rows(recent), _rows(upcoming))
    return found


def _rows(html: str) -> dict[tuple[str, int], str]:
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        document = re.search(r">([A-Z]{2,4}-\d{4})</a>", row)
        version = re.search(r">v(\d+)</a>", row)
        if document and version:
            rows[(document.group(1), int(version.group(1)))] = row
    return rows


def build(demo: Demo, day: date, name: str) -> str:
    site = demo.folder / name
    if not (site / "whats-new.html").exists():
        result = build_site(demo.repo, site, "--date", day.isoformat())
        assert result.returncode == 0, result.stdout + result.stderr
    return (site / "whats-new.html").read_text()


def first_retirement(repo: Path, day: date) -> date:
    retired = [
        date.fromisoformat(v["until"])
        for r in status_of(repo, day)
        for v in r["versions"]
        if v["status"] == "obsolete"
    ]
    assert retired, "the demo retires a document during its year"
    return min(retired)


def days_of(demo: Demo) -> dict[str, date]:
    return {
        "last-day": demo.today,
        "after-retirement": first_retirement(demo.repo, demo.today) + timedelta(days=5),
    }


def check_page(demo: Demo, day: date, html: str, days: int = 30) -> None:
    recent, upcoming = expected(demo.repo, day, days)
    since = day - timedelta(days=days - 1)
    assert f"the {days} days from {since} to {day}" in visible_text(article(html))
    found = sections(html)
    assert ALL_STAFF in found
    commits = {
        (r["id"], v["version"]): v["commit"]
        for r in status_of(demo.repo, day)
        for v in r["versions"]
    }
    shown_recent = {key for rows, _ in found.values() for key in rows}
    shown_upcoming = {key for _, rows in found.values() for key in rows}
    assert shown_recent == set(recent), (day, shown_recent, recent)
    assert shown_upcoming == set(upcoming), (day, shown_upcoming, upcoming)
    training = json.loads(
        qms("training", "--date", day.isoformat(), "--format", "json", repo=demo.repo).stdout
    )
    tallies = {t["name"]: t for t in training["documents"]}
    for key in set(recent) | set(upcoming):
        named = audiences(demo.repo, key[0], commits[key])
        where = {f"audience-{a}" for a in named} or {ALL_STAFF}
        listed = {s for s, (r, u) in found.items() if key in r or key in u}
        assert listed == where, (key, listed, where)
        for section in where:
            rows, ahead = found[section]
            if key in recent:
                assert all(d in rows[key] for d in recent[key]), (key, rows[key])
            if key in upcoming:
                row = ahead[key]
                version = upcoming[key]
                assert version["effective_from"] in row
                assert f"upcoming/{key[0]}-v{key[1]}.html" in row
                tally = tallies.get(f"{key[0]} v{key[1]}")
                if tally:
                    assert f"{tally['trained']} of {tally['required']} trained" in row, row
    for audience in found:
        assert f'href="#{audience}"' in html  # a reader jumps to their audience


def test_the_demo_day_page_lists_exactly_what_changed_and_what_comes(demo: Demo) -> None:
    html = (demo.site / "whats-new.html").read_text()
    check_page(demo, demo.today, html)
    _, upcoming = expected(demo.repo, demo.today)
    assert upcoming, "the demo ends with an approved version about to come into force"
    # reachable: the navigation, the dashboards and the procedures index link to it
    for page in ("index.html", "dashboards.html", "sops/index.html"):
        assert "whats-new.html" in (demo.site / page).read_text(), page


@pytest.mark.parametrize("which", ["last-day", "after-retirement"])
def test_a_built_day_lists_exactly_the_versions_of_its_window(demo: Demo, which: str) -> None:
    day = days_of(demo)[which]
    html = build(demo, day, f"site-new-{which}")
    check_page(demo, day, html)
    if which == "after-retirement":
        recent, _ = expected(demo.repo, day)
        retired = [
            k for k, v in recent.items() if first_retirement(demo.repo, day).isoformat() in v
        ]
        assert retired
        assert "retired (obsolete)" in visible_text(article(html))


def test_a_day_years_ahead_shows_an_honest_empty_page(demo: Demo) -> None:
    day = demo.today + timedelta(days=5 * 365)
    recent, upcoming = expected(demo.repo, day)
    assert not recent and not upcoming
    html = build(demo, day, "site-new-ahead")
    said = visible_text(article(html))
    assert "Nothing is new." in said and f"to {day}" in said
    assert "<table" not in article(html)


def test_the_window_is_a_setting_of_qms_yaml(demo: Demo, tmp_path: Path) -> None:
    copied = copy_demo(demo, tmp_path / "demo")
    people = desks(copied, tmp_path / "desks")
    config = yaml.safe_load((copied.repo / "qms.yaml").read_text())
    [admin] = [p["id"] for p in config["people"] if "admin" in p["roles"] and p.get("keys")][:1]
    text = (copied.repo / "qms.yaml").read_text()
    when = f"{copied.today.isoformat()}T09:00:00Z"
    wrong = text + "publication:\n  recent_days: 0\n"
    (copied.repo / "qms.yaml").write_text(wrong)
    refused = qms("validate", "qms.yaml", repo=copied.repo)
    assert refused.exit_code == 1 and "recent_days" in refused.output, refused.output
    changed = text + "publication:\n  recent_days: 90\n"
    digest = "sha256:" + hashlib.sha256(changed.encode()).hexdigest()
    commit_as(
        people[admin],
        copied.repo,
        when,
        {"qms.yaml": changed},
        "What is new: a 90-day window\n\nQMS-Record: qms.yaml\n"
        f"QMS-Content: {digest}\nQMS-Meaning: changed\n"
        "Reason: the quarterly briefing reads the site",
    )
    site = copied.folder / "site-90"
    result = build_site(copied.repo, site, "--date", copied.today.isoformat())
    assert result.returncode == 0, result.stdout + result.stderr
    html = (site / "whats-new.html").read_text()
    check_page(copied, copied.today, html, days=90)
    assert len(expected(copied.repo, copied.today, 90)[0]) > len(
        expected(copied.repo, copied.today, 30)[0]
    )


# --- in a real browser ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(demo: Demo) -> Iterator[tuple[Any, dict[str, str]]]:
    build(demo, days_of(demo)["after-retirement"], "site-new-after-retirement")
    later = demo.folder / "site-new-after-retirement"
    with http_server(demo.site) as base, http_server(later) as other:
        driver: Any = chromium()
        try:
            yield driver, {"demo": base, "later": other}
        finally:
            driver.quit()


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize(
    ("site", "page"),
    [
        ("demo", "whats-new.html"),
        ("later", "whats-new.html"),
        ("demo", "copies.html"),
        ("demo", "verify/SOP-0003-v2.html"),
        ("later", "verify/SOP-0005-v1.html"),
    ],
)
def test_the_new_pages_fit_the_screen(
    browser: tuple[Any, dict[str, str]], site: str, page: str, width: int
) -> None:
    driver, bases = browser
    open_page(driver, bases[site] + page, width)
    seen = driver.execute_script(FITS_SCREEN)
    assert seen["width"] == width
    assert not seen["problems"], seen["problems"]


def test_a_reader_jumps_to_their_audience(browser: tuple[Any, dict[str, str]]) -> None:
    from selenium.webdriver.common.by import By

    driver, bases = browser
    open_page(driver, bases["demo"] + "whats-new.html", 390)
    driver.find_element(By.CSS_SELECTOR, 'nav.qms-jump a[href="#audience-pharmacists"]').click()
    assert driver.current_url.endswith("whats-new.html#audience-pharmacists")
    section = driver.find_element(By.ID, "audience-pharmacists")
    assert section.find_element(By.TAG_NAME, "h2").text == "pharmacists"
