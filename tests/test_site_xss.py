"""Record text is untrusted: nothing a record, an SOP body, a signing reason or a registered
person's printed name says may run in a reader's browser.

The demo's people (and one newly registered person with a hostile printed name) commit a new SOP,
a CAPA and a deviation whose every free-text field and Markdown body is full of script payloads;
the SOP is reviewed and approved so that it is published. The site is built with the real
`qms build`, served over HTTP on 127.0.0.1 and read page by page, and through the Material search
box, in Debian's headless Chromium (no internet: every other host fails to resolve).

Each payload sets `window.__xss` to a label naming where it was planted (or opens an alert), so
a failure names the field that got through.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from toolkit.browser import chromium, http_server, pages
from toolkit.cli import qms_cli
from toolkit.demo import (
    Demo,
    build_site,
    commit_as,
    copy_demo,
    desks,
    new_desk,
    pristine_demo,
    qms_as,
)
from toolkit.people import Person
from toolkit.process import git

SOP_ID = "SOP-0014"
CAPA_ID = "CAPA-2026-0007"
DEV_ID = "DEV-2026-0009"
MARK = "XSSPROBE"  # a word every payload carries, to search for
DAY = "2026-11-21"  # the day of this module's commits: set by plant() after the demo's last one


def at(clock: str) -> str:
    return f"{DAY}T{clock}:00Z"


# --- payloads ----------------------------------------------------------------------------------


def js(label: str) -> str:
    return f"window.__xss='{label}'"


def line(label: str) -> str:
    """A one-line payload (fields limited to one line of at most 200 characters)."""
    value = (
        f"{MARK} {label} </title><script>{js(label)}</script>"
        f'<img src=x onerror="{js(label)}">"\'><svg onload=alert(1)>'
    )
    assert 3 <= len(value) <= 200, (label, len(value))
    return value


def text(label: str) -> str:
    """A multi-line payload for free-text fields."""
    j = js(label)
    return "\n".join(
        [
            f"{MARK} {label} begins.",
            f"<script>{j}</script>",
            f'<img src=x onerror="{j}">',
            f'<svg onload="{j}"><animate onbegin="{j}" attributeName=x dur=1s></svg>',
            f"<iframe srcdoc=\"<script>parent.__xss='{label}'</script>\"></iframe>",
            f'<meta http-equiv="refresh" content="0;url=javascript:{j}">',
            '<meta http-equiv="refresh" content="0;url=/xss-redirected.html">',
            f'"><script>{j}</script>',
            f"'><img src=x onerror=alert('{label}')>",
            f"--><script>{j}</script><!--",
            f"</textarea></style></script></title><script>{j}</script>",
            f"javascript:{j}",
            f'<a href="javascript:{j}">click</a>',
            f'<details open ontoggle="{j}">x</details>',
            f'<math><mtext><table><mglyph><style><img src=x onerror="{j}">',
            f'<noscript><p title="</noscript><img src=x onerror={j}>">',
            "{{ config }} {% raw %} ${7*7}",
            f'{{: onclick="{j}" }}',
            '<base href="http://evil.invalid/">',
            '<link rel=stylesheet href="http://evil.invalid/x.css">',
            f"{MARK} {label} ends.",
        ]
    )


def sop_body(label: str) -> str:
    j = js
    return f"""# {MARK} heading one <script>{j(label + "-h1")}</script>

## 1 Purpose <img src=x onerror="{j(label + "-toc-img")}">

A plain sentence of the procedure that a reader must see: {MARK} body text is shown.

Inline code shows markup literally: `<img src=x onerror=alert(1)>` stays text.

Paragraph with <script>{j(label + "-script")}</script> an inline script.

<img src=x onerror="{j(label + "-img")}">

<svg onload="{j(label + "-svg")}"><circle r=1></circle></svg>

<iframe srcdoc="<script>parent.__xss='{label}-iframe'</script>"></iframe>

<meta http-equiv="refresh" content="0;url=/xss-redirected.html">

<meta http-equiv="refresh" content="0;url=javascript:{j(label + "-meta")}">

[click me](javascript:{j(label + "-link")})

[reference link][evil]

[evil]: javascript:{j(label + "-ref")}

<javascript:{j(label + "-autolink")}>

<a href="&#106;avascript:{j(label + "-entity")}">entity link</a>

<a href="jav&#x09;ascript:{j(label + "-tab")}">tab link</a>

[title attribute](https://example.invalid/ "x&quot; onmouseover=&quot;{j(label + "-title")}")

![image](javascript:{j(label + "-imgjs")})

![remote image](https://evil.invalid/track.png)

![protocol-relative image](//evil.invalid/track.png)

Paragraph with an attribute list
{{: onclick="{j(label + "-attr")}" id="__config" }}

## 2 Heading with attributes {{: onclick="{j(label + "-hattr")}" }}

## 3 Step &lt;img src=x onerror={j(label + "-toc-entity")}&gt;

## 4 "><script>{j(label + "-toc-script")}</script>

<h2 id="__search" onclick="{j(label + "-h2")}">5 Clobber the search</h2>

<h2 id="__config">6 Clobber the config</h2>

<div id="__xss_clobber" class="md-search" data-md-component="search">component</div>

Text that tries to close things: --> "> '> </textarea> </script><script>{j(label + "-close")}</script>

<!-- a comment --><script>{j(label + "-comment")}</script>

<!-- an unterminated comment --!><script>{j(label + "-comment2")}</script>

<style>body {{ background: url(http://evil.invalid/x.png) }}</style>

<form action="javascript:{j(label + "-form")}"><button>go</button></form>

<object data="javascript:{j(label + "-object")}"></object>

<embed src="javascript:{j(label + "-embed")}">

<input autofocus onfocus="{j(label + "-focus")}">

<video><source onerror="{j(label + "-video")}"></video>

<details open ontoggle="{j(label + "-toggle")}"><summary>details</summary>x</details>

<math><mtext><table><mglyph><style><img src=x onerror="{j(label + "-mxss")}"></style></mglyph></table></mtext></math>

<noscript><p title="</noscript><img src=x onerror={j(label + "-noscript")}>"></p></noscript>

<svg><style><img src=x onerror="{j(label + "-svgstyle")}"></style></svg>

<script src="http://evil.invalid/x.js"></script>

<base href="http://evil.invalid/">

| Column <img src=x onerror="{j(label + "-th")}"> | Other |
|---|---|
| <script>{j(label + "-td")}</script> | [x](javascript:{j(label + "-tdlink")}) |

```html
<script>{j(label + "-fenced")}</script>
```

    <img src=x onerror="{j(label + "-indented")}">

QMSTAIL QMSHEAD placeholders typed by an author do nothing.

{{{{ config.extra }}}} {{% include "base.html" %}}
"""


# --- the world: a demo with hostile records --------------------------------------------------


@dataclass
class Hostile:
    demo: Demo
    site: Path
    sop_title: str
    capa_title: str
    capa_title_first: str
    dev_title: str
    person_name: str
    reasons: dict[str, str] = field(default_factory=dict)


def hostile_sop(title: str) -> str:
    fields = {
        "id": SOP_ID,
        "title": title,
        "version": 1,
        "owner": "l.santos",
        "area": "quality",
        "effective_date": DAY,
        "review_period_months": 24,
        "supersedes": None,
        "change_reason": text("sop-change_reason"),
        "change_control": "CC-2026-099",
        "training": {"audience": ["pharmacists"], "window_days": 0},
        "retention_years": 30,
        "tags": ["xss-probe"],
        "references": [line("sop-ref1"), text("sop-ref2")],
        "related_sops": [],
    }
    dumped = yaml.safe_dump(fields, sort_keys=False, allow_unicode=True, width=10_000)
    return f"---\n{dumped}---\n\n{sop_body('sop-body')}"


def hostile_capa(title: str) -> str:
    data = {
        "id": CAPA_ID,
        "title": title,
        "state": "initiated",
        "owner": "l.santos",
        "opened": "2026-11-01",
        "due": "2027-05-01",
        "source": {"type": "audit", "external_ref": line("capa-external_ref")},
        "problem": text("capa-problem"),
        "risk": {
            "severity": 3,
            "occurrence": 2,
            "detectability": 2,
            "rationale": text("capa-risk-rationale"),
        },
        "root_cause": {
            "method": "other",
            "category": "process",
            "description": text("capa-root_cause"),
        },
        "actions": [
            {
                "id": "A1",
                "type": "corrective",
                "description": text("capa-A1"),
                "owner": "l.santos",
                "due": "2026-12-31",
                "status": "open",
            },
            {
                "id": "A2",
                "type": "preventive",
                "description": line("capa-A2-overdue"),
                "owner": "m.okafor",
                "due": "2026-11-10",
                "status": "in-progress",
            },
            {
                "id": "A3",
                "type": "corrective",
                "description": text("capa-A3"),
                "owner": "l.santos",
                "due": "2026-11-30",
                "status": "done",
                "completed": "2026-11-20",
                "evidence": text("capa-A3-evidence"),
            },
        ],
        "effectiveness": {"criteria": text("capa-criteria"), "due": "2027-03-01"},
        "related_sops": [],
        "change_control": ["CC-2026-099"],
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10_000)


def hostile_deviation(title: str) -> str:
    data = {
        "id": DEV_ID,
        "title": title,
        "type": "excursion",
        "state": "reported",
        "occurred_at": "2026-11-20T08:00:00Z",
        "discovered_at": "2026-11-20T09:00:00Z",
        "reported_at": "2026-11-20T10:00:00Z",
        "reported_by": line("dev-reported_by"),
        "owner": "l.santos",
        "area": "pharmacy",
        "product": {
            "name": line("dev-product"),
            "manufacturer": line("dev-manufacturer"),
            "batch": "XSS-26-0001",
            "coi": "COI-SAU-000999",
        },
        "patient_involved": False,
        "description": text("dev-description"),
        "immediate_actions": text("dev-immediate_actions"),
        "classification": {
            "level": "minor",
            "severity": 2,
            "occurrence": 2,
            "detectability": 2,
            "rationale": text("dev-classification"),
            "classified_on": DAY,
        },
        "investigation": {
            "due": "2026-12-18",
            "method": "other",
            "root_cause": text("dev-root_cause"),
            "product_impact": text("dev-product_impact"),
            "patient_impact": text("dev-patient_impact"),
        },
        "external_reporting": [
            {
                "to": "other",
                "deadline": "2026-11-25T10:00:00Z",
                "reference": line("dev-external_ref"),
            }
        ],
        "oos": {
            "parameter": line("dev-oos-parameter"),
            "specification": line("dev-oos-spec"),
            "result": line("dev-oos-result"),
            "administered": False,
            "accepted_by": line("dev-oos-accepted_by"),
        },
        "adverse_reaction": {
            "category": "other",
            "escalated_to": [line("dev-escalated1"), line("dev-escalated2")],
        },
        "excursion": {
            "parameter": line("dev-exc-parameter"),
            "limit": line("dev-exc-limit"),
            "observed": line("dev-exc-observed"),
            "duration_minutes": 5,
            "equipment": line("dev-exc-equipment"),
        },
        "capa_decision": {"required": False, "rationale": text("dev-capa_decision")},
        "sops": [],
        "change_control": ["CC-2026-099"],
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10_000)


def plant(demo: Demo, folder: Path) -> Hostile:
    repo = demo.repo
    global DAY  # the module's commits follow the demo's last one, on its day or the next
    last = git(
        repo,
        "log",
        "-1",
        "--format=%cd",
        "--date=format-local:%Y-%m-%d %H",
        "HEAD",
        env={"TZ": "UTC"},
    ).split()
    day = date.fromisoformat(last[0])
    DAY = (day if int(last[1]) < 15 else day + timedelta(days=1)).isoformat()
    people: dict[str, Person] = desks(demo, folder / "desks")
    weber, okafor, santos = people["a.weber"], people["m.okafor"], people["l.santos"]
    reasons = {
        key: line(f"reason-{key}")
        for key in ("people", "keys", "review", "review2", "approve", "capa", "dev", "author")
    }

    # a newly registered reviewer whose printed name and job title are payloads
    person_name = line("person-name")
    mallory = new_desk(folder / "desks", "x.mallory", person_name, "x.mallory@st-aurelia.example")
    qms_as(
        weber,
        repo,
        at("15:00"),
        "people",
        "add",
        "x.mallory",
        "--name",
        person_name,
        "--email",
        "x.mallory@st-aurelia.example",
        "--role",
        "sop-reviewer",
        "--title",
        line("person-title"),
        "--reason",
        reasons["people"],
    )
    qms_as(
        weber,
        repo,
        at("15:01"),
        "keys",
        "add",
        "x.mallory",
        str(mallory.pub),
        "--valid-from",
        DAY,
        "--reason",
        reasons["keys"],
    )

    # the SOP: written, reviewed twice, approved; effective today
    sop_title = line("sop-title")
    commit_as(
        santos,
        repo,
        at("15:10"),
        {f"sops/{SOP_ID}.md": hostile_sop(sop_title)},
        f"{SOP_ID}: {line('commit-subject')}\n\nReason: {reasons['author']}\n",
    )
    qms_as(okafor, repo, at("15:20"), "review", SOP_ID, "--reason", reasons["review"])
    # signed on desks in other time zones: the site must still print UTC (15:25 and 15:30)
    qms_as(mallory, repo, f"{DAY}T16:25:00+01:00", "review", SOP_ID, "--reason", reasons["review2"])
    qms_as(weber, repo, f"{DAY}T21:00:00+05:30", "approve", SOP_ID, "--reason", reasons["approve"])

    # the CAPA: raised, its title changed (the audit trail shows the change), analysis started
    capa_first = line("capa-title-first")
    capa_title = line("capa-title")
    commit_as(
        santos,
        repo,
        at("15:40"),
        {f"capa/{CAPA_ID}.yaml": hostile_capa(capa_first)},
        f"{CAPA_ID} raised\n\nReason: {line('capa-raised')}\n",
    )
    commit_as(
        santos,
        repo,
        at("15:41"),
        {f"capa/{CAPA_ID}.yaml": hostile_capa(capa_title)},
        f"{CAPA_ID} retitled\n\nReason: {line('capa-retitled')}\n",
    )

    # the deviation: reported, then classified
    dev_title = line("dev-title")
    commit_as(
        santos,
        repo,
        at("15:45"),
        {f"deviations/{DEV_ID}.yaml": hostile_deviation(dev_title)},
        f"{DEV_ID} raised\n\nReason: {line('dev-raised')}\n",
    )
    qms_as(
        okafor,
        repo,
        at("15:50"),
        "advance",
        CAPA_ID,
        "--to",
        "root-cause",
        "--reason",
        reasons["capa"],
    )
    qms_as(
        okafor,
        repo,
        at("15:55"),
        "advance",
        DEV_ID,
        "--to",
        "classified",
        "--reason",
        reasons["dev"],
    )

    validation = qms_cli(repo, "validate", check=False)
    assert validation.returncode == 0, (
        "the hostile records must be valid records, or the test proves nothing:\n"
        + validation.stdout
        + validation.stderr
    )
    site = folder / "site"
    build_site(repo, site)
    return Hostile(demo, site, sop_title, capa_title, capa_first, dev_title, person_name, reasons)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Hostile:
    folder = tmp_path_factory.mktemp("xss")
    demo = copy_demo(pristine_demo(tmp_path_factory), folder / "demo")
    return plant(demo, folder)


def test_hostile_records_are_published(hostile: Hostile) -> None:
    """The payloads really reach the site: otherwise the browser tests would prove nothing."""
    for path in (f"sops/{SOP_ID}.html", f"capa/{CAPA_ID}.html", f"deviations/{DEV_ID}.html"):
        page = hostile.site / path
        assert page.is_file(), f"{path} was not published"
        assert MARK in page.read_text(encoding="utf-8"), path
    sop = (hostile.site / "sops" / f"{SOP_ID}.html").read_text(encoding="utf-8")
    assert "A plain sentence of the procedure that a reader must see" in sop


def test_signature_times_are_printed_in_utc(hostile: Hostile) -> None:
    """Signatures made at +01:00 and +05:30 appear at their UTC time, labelled UTC."""
    page = (hostile.site / "sops" / f"{SOP_ID}.html").read_text(encoding="utf-8")
    block = page.split('<section class="qms-signatures"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", block, re.S)
    times = {}
    for row in rows:
        cells = [
            html.unescape(re.sub(r"<[^>]+>", "", c))
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        if cells:
            times[cells[2] + " " + cells[5][:30]] = cells[3]
    assert times[f"approved {hostile.reasons['approve'][:30]}"] == f"{DAY} 15:30 UTC", times
    assert times[f"reviewed {hostile.reasons['review2'][:30]}"] == f"{DAY} 15:25 UTC", times
    assert f'<time datetime="{DAY}T15:30:00+00:00">' in block


# --- the browser -------------------------------------------------------------------------------

SNAPSHOT = r"""
const out = {xss: null, url: location.href, on: [], jsurls: [], scripts: [], injected: [],
             remote: [], dupes: [], refresh: [], mark_in_script: []};
if (typeof window.__xss !== 'undefined') {
  try { out.xss = String(window.__xss); } catch (e) { out.xss = 'unreadable: ' + e; }
}
const XLINK = 'http://www.w3.org/1999/xlink';
const seen = {};
const local = (u) => { try { return new URL(u, location.href).origin === location.origin; }
                       catch (e) { return false; } };
for (const el of document.querySelectorAll('*')) {
  for (const a of el.attributes) {
    if (/^on/i.test(a.name)) out.on.push(el.tagName + ' ' + a.name + '=' + a.value.slice(0, 80));
    if (/^\s*(javascript|vbscript|data):/i.test(a.value) && /^(href|src|action|formaction|data|xlink:href|srcdoc|poster|background)$/i.test(a.name))
      out.jsurls.push(el.tagName + ' ' + a.name + '=' + a.value.slice(0, 80));
    if (a.name === 'srcdoc') out.jsurls.push(el.tagName + ' srcdoc');
  }
  const xl = el.getAttributeNS && el.getAttributeNS(XLINK, 'href');
  if (xl && /^\s*javascript:/i.test(xl)) out.jsurls.push(el.tagName + ' xlink:href=' + xl);
  if (el.id) { if (seen[el.id]) out.dupes.push(el.id); seen[el.id] = true; }
}
for (const s of document.scripts) {
  out.scripts.push({src: s.src, local: s.src ? local(s.src) : null,
                    in_content: !!s.closest('.md-content, .md-nav, .md-search'),
                    type: s.type, id: s.id});
  if (/XSSPROBE|__xss/.test(s.textContent)) out.mark_in_script.push(s.textContent.slice(0, 120));
}
const content = document.querySelector('.md-content');
if (content) {
  const bad = 'script, iframe, frame, frameset, object, embed, applet, form, base, link, style, ' +
              'meta, input, textarea, button, select, math, template, noscript, audio, video, ' +
              'source, track, svg, portal';
  for (const el of content.querySelectorAll(bad)) {
    if (el.closest('svg.qms-chart')) continue;   // the site's own charts
    // a register's own controls (qms-register.js): its filter box, state filter, sort buttons
    if (el.matches('.qms-register-tools > label > input.qms-filter, '
                   + '.qms-register-tools > label > select.qms-state-filter, '
                   + '.qms-register-tools > label > select.qms-state-filter > option, '
                   + '[data-qms-register] table > thead > tr > th > button.qms-sort')) continue;
    out.injected.push(el.tagName + ' ' + el.outerHTML.slice(0, 120));
  }
}
for (const el of document.querySelectorAll('base, meta[http-equiv]')) {
  out.refresh.push(el.outerHTML.slice(0, 160));
}
const fetched = [['script', 'src'], ['img', 'src'], ['iframe', 'src'], ['embed', 'src'],
                 ['object', 'data'], ['source', 'src'], ['video', 'src'], ['audio', 'src'],
                 ['input', 'src'], ['link', 'href']];
for (const [tag, attr] of fetched) {
  for (const el of document.querySelectorAll(tag + '[' + attr + ']')) {
    if (tag === 'link' && /canonical|alternate/i.test(el.rel)) continue;
    const value = el.getAttribute(attr);
    if (value && !local(value)) out.remote.push(tag + ' ' + attr + '=' + value);
  }
}
for (const entry of performance.getEntriesByType('resource')) {
  if (!local(entry.name)) out.remote.push('fetched ' + entry.name);
}
return out;
"""


@dataclass
class Visit:
    where: str  # the page (or search) this is about
    snapshot: dict[str, Any]
    alerts: list[str]
    expected_url: str | None = None


def _alerts(driver: Any) -> list[str]:
    from selenium.common.exceptions import NoAlertPresentException

    texts = []
    for _ in range(10):
        try:
            alert = driver.switch_to.alert
        except NoAlertPresentException:
            break
        texts.append(alert.text)
        alert.accept()
    return texts


def _wait_loaded(driver: Any) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 60).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def look(driver: Any, where: str, expected_url: str | None = None) -> Visit:
    """What the page in the browser holds now, alerts first (they block everything else)."""
    alerts = _alerts(driver)
    snapshot = driver.execute_script(SNAPSHOT)
    alerts += _alerts(driver)
    return Visit(where, snapshot, alerts, expected_url)


def visit(driver: Any, url: str, where: str) -> Visit:
    from selenium.common.exceptions import TimeoutException, UnexpectedAlertPresentException

    alerts: list[str] = []
    try:
        driver.get(url)
        _wait_loaded(driver)
    except (TimeoutException, UnexpectedAlertPresentException):
        alerts += _alerts(driver)
        _wait_loaded(driver)
    seen = look(driver, where, url)
    seen.alerts = alerts + seen.alerts
    return seen


@dataclass
class Browser:
    driver: Any
    base: str

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="module")
def browser(hostile: Hostile) -> Iterator[Browser]:
    with http_server(hostile.site) as base:
        driver = chromium()
        try:
            yield Browser(driver, base)
        finally:
            driver.quit()


@pytest.fixture(scope="module")
def visits(hostile: Hostile, browser: Browser) -> list[Visit]:
    """Every generated page of the site, loaded in the browser."""
    result = []
    for page in pages(hostile.site):
        path = page.relative_to(hostile.site).as_posix()
        result.append(visit(browser.driver, browser.url(path), path))
    return result


def _problems(seen: Visit) -> list[str]:
    snap = seen.snapshot
    found = []
    if snap["xss"] is not None:
        found.append(f"a payload ran: window.__xss = {snap['xss']!r}")
    if seen.alerts:
        found.append(f"an alert opened: {seen.alerts}")
    if seen.expected_url and snap["url"].split("#")[0] != seen.expected_url.split("#")[0]:
        found.append(f"the page navigated away to {snap['url']}")
    if snap["on"]:
        found.append(f"event-handler attributes: {snap['on'][:5]}")
    if snap["jsurls"]:
        found.append(f"script URLs: {snap['jsurls'][:5]}")
    if snap["injected"]:
        found.append(f"active elements in the content: {snap['injected'][:5]}")
    if snap["refresh"]:
        found.append(f"base/meta refresh elements: {snap['refresh'][:3]}")
    if snap["mark_in_script"]:
        found.append(f"a <script> holds record text: {snap['mark_in_script'][:3]}")
    record_scripts = [s for s in snap["scripts"] if s["in_content"]]
    if record_scripts:
        found.append(f"<script> elements inside the page content: {record_scripts}")
    if snap["dupes"]:
        found.append(f"duplicate element ids (clobbering the theme's): {snap['dupes']}")
    return found


def test_the_browser_checks_catch_planted_scripts(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The checks themselves: pages that do run record text are caught (no false all-clear)."""
    folder = tmp_path_factory.mktemp("canary")
    shell = (
        '<html><head><title>c</title></head><body><div class="md-content">{}</div></body></html>'
    )
    (folder / "index.html").write_text(shell.format("home"))
    (folder / "img.html").write_text(
        shell.format("<img src=x onerror=\"window.__xss='canary-img'\">")
    )
    (folder / "alert.html").write_text(shell.format("<script>alert('canary-alert')</script>"))
    (folder / "refresh.html").write_text(
        shell.format('<meta http-equiv="refresh" content="0;url=index.html">')
    )
    with http_server(folder) as base:
        visit(browser.driver, base + "img.html", "canary img")
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(browser.driver, 30).until(
            lambda d: d.execute_script("return window.__xss") == "canary-img"
        )
        seen = look(browser.driver, "canary img", base + "img.html")
        assert any("canary-img" in p for p in _problems(seen)), _problems(seen)
        assert any("onerror" in p for p in _problems(seen)), _problems(seen)
        seen = visit(browser.driver, base + "alert.html", "canary alert")
        assert seen.alerts == ["canary-alert"], seen.alerts
        seen = visit(browser.driver, base + "refresh.html", "canary refresh")
        assert any("refresh" in p or "navigated" in p for p in _problems(seen)), _problems(seen)


def test_browser_saw_every_page(hostile: Hostile, visits: list[Visit]) -> None:
    where = {v.where for v in visits}
    for path in (
        f"sops/{SOP_ID}.html",
        f"capa/{CAPA_ID}.html",
        f"deviations/{DEV_ID}.html",
        "capa/index.html",
        "deviations/index.html",
        "dashboards.html",
        "verification.html",
        "sops/index.html",
        "index.html",
        "404.html",
        "inbox/index.html",
        "inbox/x.mallory.html",
    ):
        assert path in where
    assert len(visits) == len(pages(hostile.site))


def test_no_payload_runs_on_any_page(visits: list[Visit]) -> None:
    problems = {v.where: p for v in visits if (p := _problems(v))}
    assert not problems, "record text became active in the browser:\n" + "\n".join(
        f"{where}: {'; '.join(found)}" for where, found in problems.items()
    )


def test_every_script_is_a_local_site_asset(visits: list[Visit]) -> None:
    """Scripts come from the site's own assets; none from record text, none from the internet."""
    foreign: dict[str, list[str]] = {}
    for seen in visits:
        for script in seen.snapshot["scripts"]:
            if script["src"] and not script["local"]:
                foreign.setdefault(script["src"], []).append(seen.where)
            if (
                script["src"]
                and script["local"]
                and "/assets/" not in script["src"]
                and "/search/" not in script["src"]
            ):
                foreign.setdefault(script["src"], []).append(seen.where)
    assert not foreign, "scripts that are not the site's own assets: " + "; ".join(
        f"{src} on {len(where)} pages (e.g. {where[0]})" for src, where in foreign.items()
    )


def test_nothing_remote_is_requested_by_record_text(visits: list[Visit]) -> None:
    remote = {}
    for seen in visits:
        hostile_remote = [r for r in seen.snapshot["remote"] if "evil.invalid" in r]
        if hostile_remote:
            remote[seen.where] = hostile_remote
    assert not remote, f"record text makes the browser fetch from elsewhere: {remote}"


def _text(driver: Any, css: str) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.CSS_SELECTOR, css).text)


def test_payload_text_is_shown_literally(hostile: Hostile, browser: Browser) -> None:
    from selenium.webdriver.common.by import By

    driver = browser.driver
    visit(driver, browser.url(f"sops/{SOP_ID}.html"), "sop")
    assert _text(driver, "article h1") == f"{SOP_ID} {hostile.sop_title}"
    assert driver.title.startswith(f"{SOP_ID} {hostile.sop_title} - ")
    rows = {
        r.find_element(By.TAG_NAME, "th").text: r.find_element(By.TAG_NAME, "td").text
        for r in driver.find_elements(By.CSS_SELECTOR, "table.qms-facts tr")
    }
    assert rows["Title"] == hostile.sop_title
    body = _text(driver, ".qms-body")
    assert "<img src=x onerror=alert(1)>" in body  # inline code, shown as text
    assert "<script>window.__xss='sop-body-fenced'</script>" in body  # fenced code
    signatures = _text(driver, "section.qms-signatures")
    assert hostile.person_name in signatures, "the registered printed name is not shown as text"
    assert hostile.reasons["approve"] in signatures
    assert hostile.reasons["review2"] in signatures
    history = _text(driver, ".md-content")
    assert "<script>window.__xss='sop-change_reason'</script>" in history  # revision history

    visit(driver, browser.url(f"capa/{CAPA_ID}.html"), "capa")
    assert _text(driver, "article h1") == f"{CAPA_ID} {hostile.capa_title}"
    content = _text(driver, ".md-content")
    for label in (
        "capa-problem",
        "capa-root_cause",
        "capa-A1",
        "capa-A3-evidence",
        "capa-criteria",
        "capa-risk-rationale",
    ):
        assert f"<script>window.__xss='{label}'</script>" in content, label
    assert line("capa-external_ref") in content
    assert hostile.reasons["capa"] in content  # the audit trail's reason
    # the audit trail shows the title change, shortened, as text
    assert "title: XSSPROBE capa-title-first </title><scri" in content, "the title change"

    visit(driver, browser.url(f"deviations/{DEV_ID}.html"), "deviation")
    assert _text(driver, "article h1") == f"{DEV_ID} {hostile.dev_title}"
    content = _text(driver, ".md-content")
    for label in (
        "dev-description",
        "dev-immediate_actions",
        "dev-classification",
        "dev-root_cause",
        "dev-capa_decision",
    ):
        assert f"<script>window.__xss='{label}'</script>" in content, label
    for label in ("dev-reported_by", "dev-product", "dev-exc-observed", "dev-escalated2"):
        assert line(label) in content, label

    visit(driver, browser.url("capa/index.html"), "capa register")
    assert hostile.capa_title in _text(driver, ".md-content")
    visit(driver, browser.url("deviations/index.html"), "deviation register")
    assert hostile.dev_title in _text(driver, ".md-content")
    visit(driver, browser.url("dashboards.html"), "dashboards")
    assert CAPA_ID in _text(driver, ".md-content")  # its overdue action A2 is listed

    visit(driver, browser.url("inbox/index.html"), "what waits for whom")
    assert hostile.person_name in _text(driver, ".md-content")
    visit(driver, browser.url("inbox/x.mallory.html"), "what waits for the hostile name")
    assert _text(driver, "article h1") == f"What waits for {hostile.person_name}"
    visit(driver, browser.url("inbox/m.okafor.html"), "what waits for m.okafor")
    assert hostile.capa_title in _text(driver, ".md-content")  # his overdue action A2


# --- the search box ----------------------------------------------------------------------------


def _search(driver: Any, query: str) -> list[Any]:
    """Type `query` into Material's search box; the result items once they have settled."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    box = WebDriverWait(driver, 30).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "input.md-search__input")
    )
    box.click()
    box.clear()
    box.send_keys(query)
    last: list[str] = []
    steady = [0]

    def settled(d: Any) -> bool:
        if (
            d.find_element(By.CSS_SELECTOR, "input.md-search__input").get_attribute("value")
            != query
        ):
            return False
        meta = d.find_element(By.CSS_SELECTOR, ".md-search-result__meta").text
        if not re.search(r"matching document|No matching", meta):
            return False
        now = [meta] + [i.text for i in d.find_elements(By.CSS_SELECTOR, ".md-search-result__item")]
        steady[0] = steady[0] + 1 if now == last else 0
        last[:] = now
        return steady[0] >= 3  # the same results on three polls in a row

    from selenium.common.exceptions import StaleElementReferenceException

    WebDriverWait(
        driver, 60, poll_frequency=0.25, ignored_exceptions=(StaleElementReferenceException,)
    ).until(settled)
    return list(driver.find_elements(By.CSS_SELECTOR, ".md-search-result__item"))


QUERIES = (
    SOP_ID,
    MARK,
    "script",
    "onerror",
    "img",
    "svg",
    "iframe",
    "title",
    "alert",
    "javascript",
    "window",
    "xss",
    "sop-title",
    "capa-title",
    "dev-title",
)


def test_search_results_render_payloads_as_text(hostile: Hostile, browser: Browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser.driver
    problems: dict[str, list[str]] = {}
    start = browser.url("index.html")
    for query in QUERIES:
        visit(driver, start, "home")
        items = _search(driver, query)
        seen = look(driver, f"search {query!r}", start)
        if found := _problems(seen):
            problems[f"search {query!r}"] = found
        if query in (SOP_ID, MARK):
            assert items, f"searching {query!r} found nothing"
    assert not problems, problems

    visit(driver, start, "home")
    items = _search(driver, MARK)
    titles = [i.text for i in items]
    assert any(f"{SOP_ID} {hostile.sop_title}" in t for t in titles), titles
    # open the hostile SOP from the results: Material highlights the search words on it
    link = next(i for i in items if hostile.sop_title in i.text).find_element(By.TAG_NAME, "a")
    target = link.get_attribute("href")
    link.click()
    WebDriverWait(driver, 60).until(lambda d: f"{SOP_ID}.html" in d.current_url)
    _wait_loaded(driver)
    seen = look(driver, "search result opened", target)
    assert not _problems(seen), _problems(seen)
    assert _text(driver, "article h1") == f"{SOP_ID} {hostile.sop_title}"
    for query in ("script onerror", "xssprobe img", "iframe svg title"):
        url = browser.url(f"sops/{SOP_ID}.html?h={query.replace(' ', '+')}")
        seen = visit(driver, url, f"highlighted {query!r}")
        assert not _problems(seen), (query, _problems(seen))
        marks = driver.find_elements(By.CSS_SELECTOR, "mark[data-md-highlight]")
        assert marks, f"no search words highlighted for {query!r}"
        assert _text(driver, "article h1") == f"{SOP_ID} {hostile.sop_title}"


# --- a reader's journey ------------------------------------------------------------------------


def test_reader_finds_an_sop_reads_its_signatures_and_switches_to_dark_mode(
    hostile: Hostile, browser: Browser
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser.driver
    visit(driver, browser.url("index.html"), "home")
    assert "St. Aurelia University Hospital" in driver.title
    items = _search(driver, "cryoshipped")
    chosen = [i for i in items if "SOP-0005" in i.text]
    assert chosen, [i.text for i in items]
    chosen[0].find_element(By.TAG_NAME, "a").click()
    WebDriverWait(driver, 60).until(lambda d: "sops/SOP-0005.html" in d.current_url)
    _wait_loaded(driver)
    assert _text(driver, "article h1") == "SOP-0005 Receipt and inspection of cryoshipped ATMPs"

    block = driver.find_element(
        By.CSS_SELECTOR, 'section.qms-signatures[aria-label="Signatures of version 3"]'
    )
    assert block.is_displayed()
    rows = [
        [c.text for c in r.find_elements(By.TAG_NAME, "td")]
        for r in block.find_elements(By.CSS_SELECTOR, "tbody tr")
    ]
    approved = [r for r in rows if r[2] == "approved"]
    assert approved and approved[0][0] == "Dr. Anna Weber", rows
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", approved[0][3]), approved
    assert approved[0][4] == "valid"
    body = _text(driver, ".qms-body")
    assert "5.4 Logger read-out before opening" in body
    assert "Stop the logger and download its data" in body
    assert "Version 1: the logger is read out" not in body
    footer = _text(driver, "footer")
    assert "Published from commit" in footer
    scheme = "return document.body.getAttribute('data-md-color-scheme')"
    ink = "return getComputedStyle(document.body).getPropertyValue('--qms-ok').trim()"
    assert driver.execute_script(scheme) == "default"
    assert driver.execute_script(ink) == "#2e7d32"
    toggle = [
        t
        for t in driver.find_elements(
            By.CSS_SELECTOR, "form[data-md-component=palette] label.md-header__button"
        )
        if t.is_displayed()
    ]
    assert len(toggle) == 1, "one visible light/dark switch"
    assert toggle[0].get_attribute("title") == "Dark mode"
    toggle[0].click()
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(scheme) == "slate")
    assert driver.execute_script(ink) == "#81c784"
    visit(driver, browser.url("sops/index.html"), "procedures")
    assert driver.execute_script(scheme) == "slate", "the choice of dark mode is remembered"
    toggle = [
        t
        for t in driver.find_elements(
            By.CSS_SELECTOR, "form[data-md-component=palette] label.md-header__button"
        )
        if t.is_displayed()
    ]
    toggle[0].click()
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(scheme) == "default")


def test_printed_page_carries_the_uncontrolled_copy_notice(browser: Browser) -> None:
    """A printout of an SOP must say it is an uncontrolled copy (print media, as Chromium prints)."""
    from selenium.webdriver.common.by import By

    driver = browser.driver
    visit(driver, browser.url("sops/SOP-0005.html"), "SOP-0005")
    notice = driver.find_element(By.CSS_SELECTOR, ".qms-print-notice")
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        hidden_by = driver.execute_script(
            "const out = []; for (let e = arguments[0]; e; e = e.parentElement) {"
            "  if (getComputedStyle(e).display === 'none') out.push(e.tagName + '.' + "
            "  e.className); } return out;",
            notice,
        )
        assert notice.is_displayed(), (
            f"the print notice is not printed: hidden in print by {hidden_by}"
        )
        assert "Uncontrolled copy when printed" in notice.text
        assert driver.find_element(By.CSS_SELECTOR, "article h1").is_displayed()
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def test_copy_on_disk_reads_without_internet(hostile: Hostile, browser: Browser) -> None:
    """The site opened straight from disk (file://), with no internet: pages link to each other
    by .html names. (Search needs a web server: Material's worker cannot start from file://
    without the iframe-worker shim that its offline plugin loads from unpkg.com.)"""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser.driver
    home = (hostile.site / "index.html").resolve().as_uri()
    seen = visit(driver, home, "from disk")
    assert not _problems(seen), _problems(seen)
    driver.find_element(By.LINK_TEXT, "Procedures").click()
    WebDriverWait(driver, 60).until(lambda d: d.current_url.endswith("/sops/index.html"))
    _wait_loaded(driver)
    driver.find_element(By.LINK_TEXT, "SOP-0005").click()
    WebDriverWait(driver, 60).until(lambda d: d.current_url.endswith("/sops/SOP-0005.html"))
    _wait_loaded(driver)
    assert _text(driver, "article h1") == "SOP-0005 Receipt and inspection of cryoshipped ATMPs"


# --- the demo's own people ---------------------------------------------------------------------


def test_demo_people_git_configs_name_their_own_keys(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """`qms demo` leaves DIR/people/ID.gitconfig for each person, to act as them (its help and
    the project brief say so): the signing key each names must be that person's key in DIR."""
    demo = pristine_demo(tmp_path_factory)
    broken = {}
    for config in sorted(demo.people.glob("*.gitconfig")):
        key = re.search(r"(?m)^\s*signingkey\s*=\s*(.+)$", config.read_text()).group(1).strip()
        own = demo.people / config.name.removesuffix(".gitconfig")
        if Path(key) != own or not Path(key).is_file():
            broken[config.name] = key
    assert not broken, (
        f"the demo people's git configs name keys that are not in {demo.people}: {broken}"
    )
