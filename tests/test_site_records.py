"""Record pages people can read and registers that fit (issue 23, item 1).

The demo's own site (`qms demo`, real signed history) is read page by page: a CAPA, a
deviation and a change control show every recorded value as people read it (yes/no, local
times with the zone named, printed names), a risk table with its rationale, and a timeline
equal to what `qms log RECORD --format json` says. A copy of the demo gets a CAPA whose text
holds markup; a hospital's own kind without `page:` still gets a readable page; a `page:` that
names a field its schema lacks is refused. The registers are driven in a real Chromium.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from collections.abc import Iterator
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from gitqms.errors import QmsError
from gitqms.records import kinds
from test_kinds_repository import (  # noqa: F401 - fixtures
    CLN,
    adopt,
    built_team,
    cleaned,
    declaration,
    declared_by_hand,
    kinds_add,
    new_cleaning,
    schema_text,
    team,
)
from test_lifecycle_capa import run
from toolkit.browser import FITS_SCREEN, article, chromium, http_server, open_page, visible_text
from toolkit.cli import qms
from toolkit.demo import Demo, build_site, commit_as, copy_demo, desks, pristine_demo
from toolkit.process import git
from toolkit.team import Team

PAGES = {
    "CAPA-2026-0001": "capa/CAPA-2026-0001",
    "DEV-2026-0001": "deviations/DEV-2026-0001",
    "CC-2026-0001": "changes/CC-2026-0001",
}
ISO_WITH_OFFSET = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?(\.\d+)?(Z|[+-]\d\d:?\d\d)")
DATE_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return pristine_demo(tmp_path_factory)


def page_of(site: Path, record: str) -> str:
    return article((site / f"{PAGES[record]}.html").read_text(encoding="utf-8"))


def fields_of(repo: Path, record: str) -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load(git(repo, "show", f"HEAD:{PAGES[record]}.yaml"))
    return found


def config_of(repo: Path) -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load(git(repo, "show", "HEAD:qms.yaml"))
    return found


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item, f"{path}[]")
    else:
        yield path, value


def shown_as(value: Any, people: dict[str, str], zone: ZoneInfo) -> str:
    """How a recorded value must read on the page (escaped, whitespace collapsed)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and DATE_TIME.fullmatch(value):
        when = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(zone)
        return f"{when:%Y-%m-%d %H:%M} {when.tzname()}"
    if isinstance(value, str) and value in people:
        return html.escape(people[value])
    return " ".join(html.escape(str(value)).split())


# --- the pages, as committed ----------------------------------------------------------------


@pytest.mark.parametrize("record", list(PAGES))
def test_a_record_page_reads_like_a_summary(demo: Demo, record: str) -> None:
    page = page_of(demo.site, record)
    seen = visible_text(page)
    assert not re.search(r">\s*(True|False|None|—)\s*<", page), record  # a value, not prose
    assert not ISO_WITH_OFFSET.search(seen), ISO_WITH_OFFSET.search(seen)
    zone_name = config_of(demo.repo)["organisation"]["time_zone"]
    assert f"Times are in {zone_name} time" in seen
    assert re.search(r"\d\d:\d\d (CET|CEST)\b", seen), "a local time with its zone"
    assert "Related sops" not in seen and "<dd>—</dd>" not in page and "<dd></dd>" not in page
    header = page[page.index('class="qms-record-header"') : page.index("</table>")]
    for label in ("State", "Owner", "Next due", "Linked records"):
        assert f">{label}</th>" in header, (record, label)
    assert re.search(r'Linked records</th><td><a href="\.\./', header), "linked records link"


@pytest.mark.parametrize("record", list(PAGES))
def test_every_recorded_value_is_on_the_page(demo: Demo, record: str) -> None:
    config = config_of(demo.repo)
    people = {p["id"]: p["name"] for p in config["people"]}
    zone = ZoneInfo(config["organisation"]["time_zone"])
    seen = visible_text(page_of(demo.site, record))
    missing = [
        (path, value)
        for path, value in leaves(fields_of(demo.repo, record))
        if value not in (None, "") and shown_as(value, people, zone) not in seen
    ]
    assert not missing, missing


def test_the_deviation_header_names_its_classification_and_patient_involvement(
    demo: Demo,
) -> None:
    fields = fields_of(demo.repo, "DEV-2026-0001")
    page = page_of(demo.site, "DEV-2026-0001")
    header = visible_text(page[page.index('class="qms-record-header"') : page.index("</table>")])
    assert f"Classification level {fields['classification']['level']}" in header
    assert f"Patient involved {'yes' if fields['patient_involved'] else 'no'}" in header


@pytest.mark.parametrize(
    ("record", "risk"),
    [("CAPA-2026-0001", "risk"), ("DEV-2026-0001", "classification"), ("CC-2026-0001", "impact")],
)
def test_the_risk_scores_are_one_table_with_the_rationale_under_it(
    demo: Demo, record: str, risk: str
) -> None:
    scores = fields_of(demo.repo, record)[risk]
    scores = scores.get("risk", scores)
    page = page_of(demo.site, record)
    found = re.search(
        r'<div class="qms-scroll qms-risk"[^>]*><table>(.*?)</table></div>(.*?)</p>', page
    )
    assert found, record
    cells = re.findall(r"<td>(.*?)</td>", found[1])
    s, o, d = (scores[k] for k in ("severity", "occurrence", "detectability"))
    assert cells[:3] == [str(s), str(o), str(d)]
    assert "<strong>" not in found[1]  # what is recorded, no score the record does not hold
    assert "Rationale:" in found[2]
    assert " ".join(html.escape(scores["rationale"]).split()) in " ".join(found[2].split())
    assert page.count('class="qms-scroll qms-risk"') == 1


def found(pattern: str, text: str) -> str:
    """The first group of `pattern` in `text`, which must match."""
    match = re.search(pattern, text, re.S)
    assert match, pattern
    return match[1]


def timeline_of(page: str) -> list[dict[str, Any]]:
    """(date, name, action, signed, commit) of each timeline entry, in the page's order."""
    trail = found(r'<section class="qms-trail" data-search-exclude>(.*?)</section>', page)
    assert "Audit trail" in trail
    entries = []
    for css, item in re.findall(r'<li class="qms-event ([^"]*)">(.*?)</li>', trail, re.S):
        what = found(r'<div class="qms-what">(.*?)</div>', item)
        signed = "qms-event-signed" in css
        action = (
            found(r'<span class="qms-meaning">(.*?)</span>', what)
            if signed
            else found(
                r'unsigned change</span>: (.*?)(?: <span class="qms-move">| by <strong>)', what
            )
        )
        entries.append(
            {
                "date": found(r'<time datetime="([^"]+)"', item),
                "name": found(r"<strong>(.*?)</strong>", what),
                "action": action,
                "signed": signed,
                "commit": found(r"<code>([0-9a-f]{12})</code>", item),
            }
        )
    return entries


@pytest.mark.parametrize("record", list(PAGES))
def test_the_timeline_is_what_qms_log_says(demo: Demo, record: str) -> None:
    result = qms("log", record, "--format", "json", repo=demo.repo)
    assert result.exit_code == 0, result.output + result.stderr
    logged = json.loads(result.stdout)["entries"]
    shown = timeline_of(page_of(demo.site, record))
    assert [
        {
            "date": e["date"],
            "name": html.escape(e["name"]),
            "action": html.escape(e["action"]),
            "signed": not e["verdict"].startswith("not a signature"),
            "commit": e["commit"][:12],
        }
        for e in logged
    ] == shown
    assert any(e["signed"] for e in shown) and any(not e["signed"] for e in shown)


def test_a_signed_transition_names_the_move_the_role_and_the_reason(demo: Demo) -> None:
    page = page_of(demo.site, "DEV-2026-0001")
    item = re.search(
        r'<li class="qms-event qms-event-signed[^"]*">((?:(?!</li>).)*?>classified</span>.*?)</li>',
        page,
        re.S,
    )
    assert item, "the classification is signed"
    seen = visible_text(item[1])
    assert "reported → classified" in seen
    assert "(qa-officer)" in seen and "Reason:" in seen


# --- hostile text, a kind without page:, a page: that is wrong --------------------------------

HOSTILE = "Spill <script>window.__rec='ran'</script> and <img src=x onerror=\"window.__rec=1\">"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, demo: Demo) -> Demo:
    folder = tmp_path_factory.mktemp("records")
    copy = copy_demo(demo, folder / "demo")
    santos = desks(copy, folder / "desks")["l.santos"]
    capa = yaml.safe_load(git(copy.repo, "show", "HEAD:capa/CAPA-2026-0006.yaml"))
    capa |= {"id": "CAPA-2026-0007", "title": "Hostile text", "problem": HOSTILE}
    capa["source"]["external_ref"] = HOSTILE
    dumped = yaml.safe_dump(capa, sort_keys=False, allow_unicode=True, width=10_000)
    when = f"{copy.today}T09:00:00Z"
    commit_as(santos, copy.repo, when, {"capa/CAPA-2026-0007.yaml": dumped}, "x\n\nReason: x\n")
    build_site(copy.repo, copy.site, "--date", copy.today.isoformat())
    return copy


def test_record_text_with_markup_stays_inert(hostile: Demo) -> None:
    raw = (hostile.site / "capa" / "CAPA-2026-0007.html").read_text(encoding="utf-8")
    assert "<script>window.__rec" not in raw and "<img src=x" not in raw
    assert raw.count(html.escape(HOSTILE)) == 2
    register = (hostile.site / "capa" / "index.html").read_text(encoding="utf-8")
    assert "<script>window.__rec" not in register


def test_a_declared_kind_without_page_gets_a_readable_page(team: Team) -> None:  # noqa: F811
    adopt(team)
    new_cleaning(team)
    cleaned(team)
    site = team.world.base / "site"
    team.qms(team.admin, "build", "--site-dir", str(site), "--date", "2026-02-11")
    page = article((site / "cleaning" / f"{CLN}.html").read_text())
    seen = visible_text(page)
    assert "<h2>Details</h2>" in page and "Other details" not in page
    assert "Room Clean room B" in seen and "Performed on 2026-02-09" in seen
    assert "Lucia Santos" in seen
    assert "scheduled → done" in seen and "done → verified" in seen
    assert not re.search(r">\s*(True|False|None)\s*<", page)


def test_qms_kinds_add_refuses_a_page_that_names_no_field(team: Team) -> None:  # noqa: F811
    decl = declaration(page={"summary": ["room"], "sections": [{"title": "X", "fields": ["rom"]}]})
    out = kinds_add(team, team.admin, decl, schema_text(), ok=False)
    assert "cleaning.yaml" in out and "page:" in out and "'rom'" in out, out


def test_validation_refuses_a_hand_declared_kind_whose_page_names_no_field(
    team: Team,  # noqa: F811
) -> None:
    decl = declaration(page={"summary": ["room.size"]})
    (team.world.repo / "qms.yaml").write_text(declared_by_hand(team, decl, schema_text()))
    team.world.git("add", "qms.yaml")
    result = run(team, team.admin, "validate")
    out = result.output + result.stderr
    assert result.exit_code == 1, out
    assert "kind.page" in out and "'room.size'" in out and "qms.yaml" in out, out


def test_a_built_in_declaration_whose_page_names_no_field_is_a_clear_error(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "kinds"
    shutil.copytree(str(resources.files("gitqms").joinpath("kinds")), folder)
    path = folder / "capa.yaml"
    path.write_text(path.read_text().replace("summary: [source.type,", "summary: [sorce.type,"))
    with pytest.raises(QmsError) as raised:
        kinds.load_declarations(folder)
    assert "capa.yaml" in str(raised.value) and "'sorce.type'" in str(raised.value)


def test_every_built_in_record_kind_declares_its_page() -> None:
    for name in (
        "capa",
        "deviation",
        "change-control",
        "training-session",
        "audit-review",
        "controlled-copy",
    ):
        kind = kinds.kind_named(name)
        assert kind is not None and kind.declared.page.sections, name


# --- the registers in a real browser ----------------------------------------------------------


@pytest.fixture(scope="module")
def browser(demo: Demo) -> Iterator[tuple[Any, str]]:
    with http_server(demo.site) as base:
        driver: Any = chromium()
        try:
            yield driver, base
        finally:
            driver.quit()


ROWS = "return [...document.querySelectorAll('[data-qms-register] tbody tr')]"
IDS = ROWS + ".filter(r => !r.hidden).map(r => r.cells[0].textContent.trim())"


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("register", ["capa/index.html", "deviations/index.html"])
def test_a_register_fits_and_its_ids_stay_on_one_line(
    browser: tuple[Any, str], register: str, width: int
) -> None:
    driver, base = browser
    open_page(driver, base + register, width)
    seen = driver.execute_script(FITS_SCREEN)
    assert not seen["problems"], seen
    assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    lines = driver.execute_script(
        "return [...document.querySelectorAll('[data-qms-register] td.qms-id a')]"
        ".map(a => a.getClientRects().length)"
    )
    assert lines and set(lines) == {1}, lines
    if width == 1280:  # the whole register fits: no sideways scrolling within its wrapper
        wide = driver.execute_script(
            "const t = document.querySelector('[data-qms-register] table');"
            "const s = t.closest('.md-typeset__scrollwrap') || t.parentElement;"
            "return [s.scrollWidth, s.clientWidth];"
        )
        assert wide[0] <= wide[1] + 1, wide


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("record", list(PAGES))
def test_a_record_page_fits_the_screen(browser: tuple[Any, str], record: str, width: int) -> None:
    driver, base = browser
    open_page(driver, base + f"{PAGES[record]}.html", width)
    seen = driver.execute_script(FITS_SCREEN)
    assert not seen["problems"] and seen["tables"] >= 2, seen


def test_a_register_sorts_by_a_column_and_filters_by_text_and_state(
    browser: tuple[Any, str],
) -> None:
    driver, base = browser
    open_page(driver, base + "deviations/index.html", 1280)
    ids = driver.execute_script(IDS)
    assert ids == sorted(ids, reverse=True) and len(ids) > 2
    tools = driver.find_element("css selector", ".qms-register-tools")
    assert tools.is_displayed()
    assert "work on the records of this page" in tools.text
    heads = driver.find_elements("css selector", "[data-qms-register] th")
    heads[0].find_element("css selector", "button").click()
    assert heads[0].get_attribute("aria-sort") == "ascending"
    assert driver.execute_script(IDS) == sorted(ids)
    heads[1].find_element("css selector", "button").click()  # by title
    assert heads[1].get_attribute("aria-sort") == "ascending" and not heads[0].get_attribute(
        "aria-sort"
    )
    titles = driver.execute_script(ROWS + ".map(r => r.cells[1].textContent.trim().toLowerCase())")
    assert titles == sorted(titles)
    box = driver.find_element("css selector", ".qms-filter")
    box.send_keys(ids[0])
    assert driver.execute_script(IDS) == [ids[0]]
    box.clear()
    box.send_keys(" ")  # an input event: everything back
    assert sorted(driver.execute_script(IDS)) == sorted(ids)
    states = driver.execute_script(
        ROWS + ".map(r => r.querySelector('td.qms-state').getAttribute('data-state'))"
    )
    wanted = sorted(set(states))[0]
    driver.execute_script(
        "const s = document.querySelector('.qms-state-filter'); s.value = arguments[0];"
        "s.dispatchEvent(new Event('change'));",
        wanted,
    )
    kept = driver.execute_script(IDS)
    assert kept and len(kept) == states.count(wanted)


def test_the_sort_buttons_are_reached_by_the_keyboard(browser: tuple[Any, str]) -> None:
    driver, base = browser
    open_page(driver, base + "capa/index.html", 1280)
    button = driver.find_element("css selector", "[data-qms-register] th button.qms-sort")
    assert button.get_attribute("type") == "button" and button.get_attribute("tabindex") is None
    ids = driver.execute_script(IDS)
    button.send_keys("\ue007")  # Enter
    assert driver.execute_script(IDS) == sorted(ids)
