"""Every kind of page of the published site, in a real headless Chromium at a desktop width
(1280 px) and a phone's (390 px), and in the dark colour scheme at 1280 px: the page never
scrolls sideways, nothing is cut off (a wide table scrolls inside its own wrapper), and axe-core
finds no serious or critical accessibility violation.

Which pages: found in the built demo site, not listed here, so a kind of page added later is
covered once it is built. The rule (`sample`): every page at the top of the site, and in each
folder at any depth its index page and the first and last page of each family of names in it
(SOP-…, CC-…, EXT-…), in name order.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from gitqms.site.layout import scroll_tables
from gitqms.site.sanitise import clean_body
from toolkit.axe import Violation, Waiver, scan, serious
from toolkit.browser import chromium, http_server, open_page
from toolkit.demo import Demo, pristine_demo

# Width in CSS px and colour scheme (the theme follows the reader's prefers-color-scheme).
VIEWS = ((1280, "light"), (390, "light"), (1280, "dark"))
SCHEMES = {"light": "default", "dark": "slate"}  # the theme's names for them
NOT_PAGES = ("assets", "search")  # the theme's and the plugin's files, no page among them

# mkdocs-material's own markup that the plugin cannot mend (each names the exact selectors).
THEME_WAIVERS: tuple[Waiver, ...] = ()

# What does not fit the window. `scrollingElement` is the page: it must not scroll sideways.
# Any element reaching past the window's edges must sit in a scroll wrapper (an ancestor that
# scrolls sideways, overflow-x auto or scroll), and a wrapper must itself lie within the window.
# Inside the article nothing may reach past the article either, unless in a wrapper. An element
# wholly left of the window is an off-canvas drawer (the theme's navigation on a phone).
CUT_OFF = """
const page = document.scrollingElement;
const width = page.clientWidth;
const problems = [];
if (page.scrollWidth > page.clientWidth) {
  problems.push(`the page scrolls sideways: ${page.scrollWidth}px wide in ${width}px`);
}
const scrolls = e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX);
const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
  + [...e.classList].map(c => '.' + c).join('');
const article = document.querySelector('article.md-content__inner');
const content = article ? article.getBoundingClientRect() : null;
const seen = new Set();
for (const e of document.body.querySelectorAll('*')) {
  const box = e.getBoundingClientRect();
  if (box.width === 0 || box.height === 0 || box.right <= 1) continue;
  const inArticle = content && article.contains(e);
  const left = inArticle ? Math.max(content.left, 0) : 0;
  const right = inArticle ? Math.min(content.right, width) : width;
  if (box.left >= left - 1 && box.right <= right + 1) continue;
  if (getComputedStyle(e).visibility === 'hidden') continue;
  let a = e.parentElement;
  while (a && a !== document.body && !seen.has(a) && !scrolls(a)) a = a.parentElement;
  if (a && (seen.has(a) || scrolls(a))) continue;
  seen.add(e);
  problems.push(`${name(e)} is cut off: ${Math.round(box.left)}..${Math.round(box.right)}px, `
    + `room ${Math.round(left)}..${Math.round(right)}px`);
}
for (const table of document.querySelectorAll('article table')) {
  if (table.scrollWidth <= table.parentElement.clientWidth + 1) {
    const box = table.getBoundingClientRect();
    if (box.right <= width + 1) continue;
  }
  let wrap = table.parentElement;
  while (wrap && wrap !== article && !scrolls(wrap)) wrap = wrap.parentElement;
  const head = (table.querySelector('th') || table).textContent.trim().slice(0, 30);
  if (!wrap || wrap === article) {
    problems.push(`table '${head}' is wider than its room and has no scroll wrapper`);
    continue;
  }
  const around = wrap.getBoundingClientRect();
  if (around.left < -1 || around.right > width + 1) {
    problems.push(`table '${head}': its scroll wrapper ${name(wrap)} lies at `
      + `${Math.round(around.left)}..${Math.round(around.right)}px in ${width}px`);
  }
}
return problems;
"""


def sample(site: Path) -> list[str]:
    """The pages to check, as URLs relative to the site: every top-level page, and in each
    folder (any depth) its index page and, of its other pages of each family (the ID prefix
    of the name: SOP, CC, EXT…; names without one are one family), the first and the last in
    name order."""
    folders: dict[Path, list[Path]] = {}
    for page in sorted(site.rglob("*.html")):
        relative = page.relative_to(site)
        if relative.parts[0] in NOT_PAGES:
            continue
        folders.setdefault(relative.parent, []).append(relative)
    chosen: list[Path] = []
    for folder, found in sorted(folders.items()):
        if folder == Path("."):
            chosen += found
            continue
        chosen += [p for p in found if p.name == "index.html"]
        families: dict[str, list[Path]] = {}
        for page in found:
            if page.name != "index.html":
                family = re.match(r"[A-Z]+(?=-)", page.name)
                families.setdefault(family.group() if family else "", []).append(page)
        for pages in families.values():
            chosen += dict.fromkeys(pages[:1] + pages[-1:])  # one page: once
    return [p.as_posix() for p in chosen]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return pristine_demo(tmp_path_factory)


Checked = dict[tuple[str, str], tuple[list[str], list[Violation]]]


@pytest.fixture(scope="module")
def checked(demo: Demo) -> Checked:
    """Each sampled page in each view: what is cut off, and axe's violations. A browser of
    its own for each colour scheme: the theme keeps the scheme it first chose in the site's
    local storage, so only a fresh profile follows the reader's preference."""
    found: Checked = {}
    started = time.monotonic()
    with http_server(demo.site) as base:
        for scheme in dict.fromkeys(scheme for _, scheme in VIEWS):
            driver: Any = chromium()
            try:
                media = [{"name": "prefers-color-scheme", "value": scheme}]
                driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": media})
                for width in (w for w, s in VIEWS if s == scheme):
                    for page in sample(demo.site):
                        open_page(driver, base + page, width)
                        shown = driver.execute_script("return document.body.dataset.mdColorScheme")
                        assert shown == SCHEMES[scheme], f"{page}: the {scheme} view is {shown}"
                        view = f"{width}px" + (f" {scheme}" if scheme != "light" else "")
                        found[page, view] = (driver.execute_script(CUT_OFF), scan(driver))
            finally:
                driver.quit()
    print(f"{len(found)} page views checked in {time.monotonic() - started:.1f}s")
    return found


def test_the_sample_covers_every_folder_of_the_site(demo: Demo) -> None:
    chosen = sample(demo.site)
    folders = {
        p.parent.relative_to(demo.site).as_posix()
        for p in demo.site.rglob("*.html")
        if p.relative_to(demo.site).parts[0] not in NOT_PAGES
    }
    assert folders <= {str(Path(p).parent) for p in chosen}
    for expected in (
        "index.html",
        "sops/index.html",
        "sops/SOP-0001.html",
        "capa/CAPA-2026-0001.html",
        "deviations/index.html",
        "upcoming/SOP-0003-v2.html",
        "archive/index.html",
        "archive/EXT-0001-v1.html",
        "archive/SOP-0005-v1.html",
        "inbox/index.html",
        "training/index.html",
    ):
        assert expected in chosen, chosen
    assert len(chosen) == len(set(chosen))


def test_no_page_scrolls_sideways_or_is_cut_off(checked: Checked) -> None:
    problems = [
        f"{page} at {view}: {problem}"
        for (page, view), (cut, _) in checked.items()
        for problem in cut
    ]
    assert not problems, "\n".join(problems)


def test_no_serious_or_critical_accessibility_violation(checked: Checked) -> None:
    problems = [
        f"{page} at {view}: {violation.line()}"
        for (page, view), (_, found) in checked.items()
        for violation in serious(found, THEME_WAIVERS)
    ]
    assert not problems, f"{len(problems)} violations:\n" + "\n".join(problems)


# --- the checks themselves catch what they are for ---------------------------------------------

BROKEN = """<!doctype html><html lang="en"><head><title>broken</title></head><body><main>
<h1>A broken page</h1>
<p style="color:#bbb;background:#fff">pale text</p>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="20" height="20">
<div style="width:2000px">a wide block</div>
</main></body></html>
"""


def test_the_checks_find_a_broken_page(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(BROKEN)
    with http_server(tmp_path) as base:
        driver: Any = chromium()
        try:
            open_page(driver, base + "index.html", 390)
            cut = driver.execute_script(CUT_OFF)
            found = serious(scan(driver))
        finally:
            driver.quit()
    assert any("scrolls sideways" in problem for problem in cut), cut
    assert any(problem.startswith("div is cut off") for problem in cut), cut
    assert {v.rule for v in found} >= {"color-contrast", "image-alt"}, found
    assert any(v.rule == "image-alt" and v.target == "img" for v in found), found


def test_a_body_table_gets_a_scroll_wrapper_and_nothing_else_does() -> None:
    body = clean_body(
        '<p title="<table>">x</p><table><tr><td>a</td></tr></table>'
        '<img alt="</table>" src="a.png"><table class="x"><tr><td>b</td></tr></table>'
    )
    wrapped = scroll_tables(body)
    assert wrapped.count('<div class="qms-scroll qms-prose" tabindex="0" role="region"') == 2
    assert 'aria-label="Table 1"' in wrapped and 'aria-label="Table 2"' in wrapped
    assert wrapped.count("</table></div>") == 2
    assert wrapped.replace("</table></div>", "</table>").count("<div") == 2
    assert 'title="&lt;table&gt;"' in wrapped and 'alt="&lt;/table&gt;"' in wrapped
