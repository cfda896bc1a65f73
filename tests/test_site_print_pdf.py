"""A document page and a record page printed to PDF by a real headless Chromium, as staff print
them from the site: read back by text extraction (pypdf) and as images (pypdfium2).

On paper every column of the signature tables shows, with every signer's printed name, role and
UTC time as the screen shows them; the "uncontrolled when printed" notice is on every sheet and
hides nothing under it; the site's navigation and search are not printed; no sheet is blank.
"""

from __future__ import annotations

import base64
import ctypes
import io
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

import pypdf
import pypdfium2
import pypdfium2.raw as pdfium_c
import pytest

from toolkit.browser import chromium, http_server, open_page
from toolkit.demo import Demo, pristine_demo

A4 = {"paperWidth": 8.27, "paperHeight": 11.69}  # inches; the margins are the site's @page
PAGES = ("sops/SOP-0003.html", "capa/CAPA-2026-0001.html")  # a document, a record
NOTICE = "Uncontrolled copy when printed."

# On screen: every table of the article that names people and the time they acted (signature
# blocks, audit trails) and a record's timeline, as its column headings and rows of cell
# texts; and the labels of the site's navigation, tabs and search that the article and footer
# do not also say.
SCREEN = """
const article = document.querySelector('article.md-content__inner');
const tables = [];
for (const table of article.querySelectorAll('table')) {
  const heads = [...table.querySelectorAll('thead th')].map(th => th.innerText.trim());
  if (!heads.some(h => /name|who/i.test(h)) || !heads.some(h => /time|when/i.test(h))) continue;
  const rows = [...table.querySelectorAll('tbody tr')].map(
    row => [...row.children].map(cell => cell.innerText.trim()));
  tables.push({heads: heads, rows: rows, signatures: !!table.closest('.qms-signatures')});
}
for (const list of article.querySelectorAll('ol.qms-timeline')) {  // a record's signed life
  const text = (li, css) => ((li.querySelector(css) || {}).innerText || '').trim();
  const rows = [...list.querySelectorAll(':scope > li')].map(
    li => [text(li, '.qms-what strong'), text(li, '.qms-when')]);
  tables.push({heads: ['Who', 'When'], rows: rows, signatures: false, timeline: true});
}
const said = article.innerText + ' ' + document.querySelector('.md-footer-meta').innerText;
const chrome = [...document.querySelectorAll(
  '.md-header, .md-tabs, .md-sidebar, .md-search, .md-footer__inner')]
  .flatMap(e => [...e.querySelectorAll('a, label, input, button')])
  .map(e => (e.innerText || e.getAttribute('aria-label') || e.placeholder || '').trim())
  .filter(label => label.length > 3 && !said.includes(label));
return {tables: tables, chrome: [...new Set(chrome)]};
"""


def flat(value: str) -> str:
    """Text as comparable on screen and in a PDF: ligatures undone (NFKC), whitespace collapsed,
    and a word wrapped at its hyphen joined again."""
    value = " ".join(unicodedata.normalize("NFKC", value).split())
    return re.sub(r"(?<=\w-) (?=\w)", "", value)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return pristine_demo(tmp_path_factory)


@pytest.fixture(scope="module")
def printed(demo: Demo) -> Iterator[dict[str, tuple[dict[str, Any], bytes]]]:
    """Each page as the screen shows it, and the PDF Chromium prints of it."""
    found = {}
    with http_server(demo.site) as base:
        driver: Any = chromium()
        try:
            for page in PAGES:
                open_page(driver, base + page, 1280)
                screen = driver.execute_script(SCREEN)
                options = {**A4, "preferCSSPageSize": True, "printBackground": True}
                pdf = driver.execute_cdp_cmd("Page.printToPDF", options)
                found[page] = (screen, base64.b64decode(pdf["data"]))
        finally:
            driver.quit()
    yield found


def _column(heads: list[str], pattern: str) -> int | None:
    return next((i for i, h in enumerate(heads) if re.search(pattern, h, re.I)), None)


@pytest.mark.parametrize("page", PAGES)
def test_every_signature_column_and_signer_is_on_paper(
    printed: dict[str, tuple[dict[str, Any], bytes]], page: str
) -> None:
    screen, pdf = printed[page]
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    paper = " ".join(flat(sheet.extract_text()) for sheet in reader.pages)
    assert screen["tables"], f"{page}: no table of signers on screen"
    if page.startswith("sops/"):
        assert any(t["signatures"] for t in screen["tables"]), f"{page}: no signature block"
    missing = []
    signers = 0
    for table in screen["tables"]:
        heads = table["heads"]
        if not table.get("timeline"):  # a timeline's entries have no headings to print
            missing += [f"column heading {h!r}" for h in heads if flat(h) not in paper]
        wanted = [
            _column(heads, r"name|who"),
            _column(heads, r"role"),
            _column(heads, r"time|when"),
        ]
        for row in table["rows"]:
            signers += 1
            for index in (i for i in wanted if i is not None):
                value = flat(row[index])
                if index == wanted[2]:  # a signature block gives UTC; a trail may add local time
                    utc = r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"
                    assert re.fullmatch(utc, value) or not table["signatures"], value
                    assert re.search(r"\d{4}-\d\d-\d\d\b.*\b\d\d:\d\d\b", value), value
                if value not in paper:
                    missing.append(f"{heads[index]} {value!r} of row {row}")
    assert signers >= 2, f"{page}: only {signers} signers on screen"
    assert not missing, f"{page}: not on paper:\n" + "\n".join(missing)


@pytest.mark.parametrize("page", PAGES)
def test_every_sheet_says_uncontrolled_and_shows_no_navigation(
    printed: dict[str, tuple[dict[str, Any], bytes]], page: str
) -> None:
    screen, pdf = printed[page]
    sheets = [flat(sheet.extract_text()) for sheet in pypdf.PdfReader(io.BytesIO(pdf)).pages]
    assert len(sheets) >= 2, f"{page}: {len(sheets)} sheet(s)"
    for number, sheet in enumerate(sheets, 1):
        assert NOTICE in sheet, f"{page}, sheet {number}: no notice"
    assert len(screen["chrome"]) >= 3, screen["chrome"]  # the navigation has labels to miss
    paper = " ".join(sheets)
    shown = [label for label in screen["chrome"] if flat(label) in paper]
    assert not shown, f"{page}: the site's navigation or search is printed: {shown}"


@pytest.mark.parametrize("page", PAGES)
def test_no_printed_sheet_is_blank(
    printed: dict[str, tuple[dict[str, Any], bytes]], page: str
) -> None:
    """Each sheet has ink above its footer: more than the notice repeated on it."""
    _, pdf = printed[page]
    document = pypdfium2.PdfDocument(pdf)
    try:
        inked = []
        for sheet in document:
            image = sheet.render(scale=0.5, grayscale=True).to_pil()
            body = image.crop((0, 0, image.width, int(image.height * 0.85)))
            dark = sum(body.histogram()[:200])  # pixels darker than light grey
            inked.append(dark / (body.width * body.height))
    finally:
        document.close()
    blank = [number for number, share in enumerate(inked, 1) if share < 0.002]
    assert not blank, f"{page}: blank sheets {blank} of {len(inked)} (ink {inked})"


def _contrast_on_white(chars: Any, index: int) -> float:
    """The contrast ratio (WCAG) of a letter's fill colour, laid over white paper."""
    rgba = [ctypes.c_uint() for _ in range(4)]
    if not pdfium_c.FPDFText_GetFillColor(chars.raw, index, *map(ctypes.byref, rgba)):
        return 21.0  # no colour of its own: the default, black
    r, g, b, a = (c.value for c in rgba)

    def linear(channel: int) -> float:
        value = (channel * a / 255 + 255 * (1 - a / 255)) / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    return 1.05 / (luminance + 0.05)


@pytest.mark.parametrize("page", PAGES)
def test_every_printed_letter_shows(
    printed: dict[str, tuple[dict[str, Any], bytes]], page: str
) -> None:
    """No letter is pale on the paper, and none runs under the notice: the notice is fixed at
    the foot of each sheet on a white ground, so the PDF would keep such text and the paper
    not show it."""
    _, pdf = printed[page]
    document = pypdfium2.PdfDocument(pdf)
    hidden, pale = {}, {}
    try:
        for number, sheet in enumerate(document, 1):
            chars = sheet.get_textpage()
            said = chars.get_text_range()
            start = said.find(NOTICE)
            end = said.find("in force.", start) + len("in force.")
            assert 0 <= start < end, f"{page}, sheet {number}: no notice"
            letters = [i for i in range(len(said)) if said[i].strip()]
            top = max(chars.get_charbox(i)[3] for i in letters if start <= i < end)
            under = [i for i in letters if not start <= i < end and chars.get_charbox(i)[1] < top]
            faint = [i for i in letters if _contrast_on_white(chars, i) < 3]
            if under:
                hidden[number] = "".join(said[i] for i in under)
            if faint:
                pale[number] = "".join(said[i] for i in faint)
    finally:
        document.close()
    assert not hidden, f"{page}: text under the notice, by sheet: {hidden}"
    assert not pale, f"{page}: text too pale to read on paper, by sheet: {pale}"
