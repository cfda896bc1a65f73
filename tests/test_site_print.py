"""The signature block and the revision history show every column, on screen and on paper, in a
real headless Chromium: no cell cut off, nothing to scroll sideways (a printout cannot scroll).
A printed page of a version not yet in force carries its mark on every sheet.

Print is Chromium's print media at the width of an A4 sheet inside the site's page margins
(210 mm - 2 x 15 mm = 180 mm = 680 CSS px).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from toolkit.browser import chromium, http_server
from toolkit.demo import Demo, pristine_demo
from toolkit.process import run

PAGES = (
    "sops/SOP-0003.html",  # the version in force and the upcoming one: two signature blocks
    "sops/SOP-0005.html",
    "archive/SOP-0005-v1.html",
    "upcoming/SOP-0003-v2.html",
)
A4_PRINTED_WIDTH = 680  # CSS px

# Each table of a signature block and of the revision history: whatever does not fit.
FIT = """
const content = document.querySelector('article.md-content__inner').getBoundingClientRect();
const tables = [...document.querySelectorAll('section.qms-signatures table')];
for (const h of document.querySelectorAll('article h2')) {
  if (h.textContent.trim() === 'Revision history') {
    tables.push(...h.parentElement.querySelectorAll('table'));
  }
}
const problems = [];
const commits = [];
for (const table of tables) {
  const where = (table.closest('section') || table).querySelector('h2').textContent.trim();
  for (let e = table; e && e.tagName !== 'ARTICLE'; e = e.parentElement) {
    if (e.scrollWidth > e.clientWidth + 1) {
      problems.push(`${where}: ${e.tagName}.${e.className} is ${e.scrollWidth}px wide `
        + `inside ${e.clientWidth}px (overflow-x ${getComputedStyle(e).overflowX})`);
    }
  }
  const heads = [...table.querySelectorAll('thead th')].map(th => th.textContent.trim());
  for (const row of table.querySelectorAll('tr')) {
    [...row.children].forEach((cell, i) => {
      const box = cell.getBoundingClientRect();
      const name = `${where}, column ${heads[i] || i}`;
      if (box.left < content.left - 1 || box.right > content.right + 1) {
        problems.push(`${name}: cell at ${Math.round(box.left)}..${Math.round(box.right)}px, `
          + `content area ${Math.round(content.left)}..${Math.round(content.right)}px`);
      }
      if (cell.scrollWidth > cell.clientWidth + 1) {
        problems.push(`${name}: '${cell.textContent.trim()}' spills out of its cell`);
      }
      if (heads[i] === 'Commit' && cell.tagName === 'TD') commits.push(cell.innerText.trim());
    });
  }
}
return {tables: tables.length, problems: problems, commits: commits};
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return pristine_demo(tmp_path_factory)


@pytest.fixture(scope="module")
def browser(demo: Demo) -> Iterator[tuple[Any, str]]:
    with http_server(demo.site) as base:
        driver: Any = chromium()
        try:
            yield driver, base
        finally:
            driver.quit()


def _open(driver: Any, url: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, 60).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def _fit(driver: Any, url: str) -> dict[str, Any]:
    _open(driver, url)
    result: dict[str, Any] = driver.execute_script(FIT)
    return result


def test_signature_and_revision_tables_fit_the_screen_at_1280px(
    browser: tuple[Any, str],
) -> None:
    driver, base = browser
    assert driver.execute_script("return window.innerWidth") == 1280
    problems = {}
    for page in PAGES:
        seen = _fit(driver, base + page)
        assert seen["tables"] >= 1, f"{page}: no signature block found"
        if seen["problems"]:
            problems[page] = seen["problems"]
    assert not problems, problems


def test_printed_signature_and_revision_tables_show_every_column(
    browser: tuple[Any, str], demo: Demo
) -> None:
    driver, base = browser
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": A4_PRINTED_WIDTH, "height": 1000, "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        problems = {}
        commits = []
        for page in PAGES:
            seen = _fit(driver, base + page)
            assert seen["tables"] >= 1, f"{page}: no signature block found"
            if seen["problems"]:
                problems[page] = seen["problems"]
            commits += seen["commits"]
        assert not problems, problems
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert commits
    for shown in set(commits):  # enough of the id is printed to find the commit
        assert re.fullmatch(r"[0-9a-f]{12,40}", shown), shown
        run(["git", "-C", demo.repo, "rev-parse", "--verify", f"{shown}^{{commit}}"])


def test_printed_upcoming_version_is_marked_on_every_sheet(browser: tuple[Any, str]) -> None:
    """The banner prints on the first sheet only; the mark is fixed, so the browser prints it on
    every sheet. The version in force carries no such mark."""
    from selenium.webdriver.common.by import By

    driver, base = browser
    _open(driver, base + "upcoming/SOP-0003-v2.html")
    mark = driver.find_element(By.CSS_SELECTOR, ".qms-print-mark")
    assert not mark.is_displayed(), "on screen the banner marks the page"
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert mark.is_displayed(), "the mark is not printed"
        assert driver.execute_script("return getComputedStyle(arguments[0]).position", mark) == (
            "fixed"
        ), "only a fixed element is printed on every sheet"
        assert re.fullmatch(
            r"NOT YET IN FORCE: SOP-0003 v2, effective from \d{4}-\d\d-\d\d", mark.text
        ), mark.text
        _open(driver, base + "sops/SOP-0003.html")
        assert not driver.find_elements(By.CSS_SELECTOR, ".qms-print-mark")
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
