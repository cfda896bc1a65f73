"""An approved version whose effective date is still ahead is published so staff can train on it:
on its own page, read from the approving commit, unmistakably marked NOT YET IN FORCE (banner,
effective date, a mark for every printed page, its own signature block), reached from the SOP's
page, the index and the records that name the SOP, and kept out of the search index so a search
leads only to versions in force.

What is expected is worked out from the demo's Git history (see test_site_build), relative to the
demo's own day.
"""

from __future__ import annotations

import html
import json
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

from test_site_build import (
    Approval,
    approvals,
    banners,
    facts,
    in_force,
    plain_lines,
    read,
    retired,
    section,
    table_rows,
    text_of,
)
from toolkit.browser import article, visible_text
from toolkit.demo import Demo, build_site, commit_as, copy_demo, desks, pristine_demo

V2_ONLY = "The effectiveness check is verified by a person who did not implement the actions."


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return pristine_demo(tmp_path_factory)


def upcoming(repo: Path, demo: Demo) -> dict[str, Approval]:
    """Per SOP, the newest approved version whose effective date is after the demo's day."""
    gone = retired(repo)
    found = {}
    for sop, versions in approvals(repo).items():
        later = [a for a in versions if a.effective_from > demo.today]
        if later and sop not in gone:
            found[sop] = max(later, key=lambda a: a.version)
    return found


def page_of(approval: Approval) -> str:
    return f"upcoming/{approval.sop}-v{approval.version}.html"


def links(site: Path, path: str) -> set[str]:
    """The site pages the article of `path` links to, relative to the site."""
    found = set()
    for href in re.findall(r'href="([^"#?]+)', article(read(site, path))):
        if "://" in href:
            continue
        target = os.path.normpath(os.path.join(os.path.dirname(path), html.unescape(href)))
        found.add(Path(target).as_posix())
    return found


def only_in(approval: Approval, demo: Demo) -> list[str]:
    """Sentences of an upcoming version that the version in force does not have."""
    current = in_force(demo.repo, demo.today).get(approval.sop)
    old = set(plain_lines(current.body)) if current else set()
    return [s for s in plain_lines(approval.body) if s not in old]


def test_the_demo_has_an_upcoming_revision_and_an_upcoming_new_sop(demo: Demo) -> None:
    """The ground truth: SOP-0003 v2 is approved, effective 21 days after the demo's day, and a
    new SOP is approved with no version in force yet."""
    coming = upcoming(demo.repo, demo)
    assert coming["SOP-0003"].version == 2
    assert coming["SOP-0003"].effective_from == demo.today + timedelta(days=21)
    assert V2_ONLY in coming["SOP-0003"].body
    assert set(coming) - set(in_force(demo.repo, demo.today)), "no new SOP approved for later"


def test_upcoming_version_has_its_own_page_marked_not_in_force(demo: Demo) -> None:
    coming = upcoming(demo.repo, demo)
    for sop, approval in sorted(coming.items()):
        where = page_of(approval)
        page = article(read(demo.site, where))
        marks = banners(page)
        assert marks and marks[0][0] == "upcoming", f"{where}: {marks}"
        assert marks[0][1].startswith("NOT YET IN FORCE"), marks[0]
        assert f"effective from {approval.effective_from.isoformat()}" in marks[0][1], marks[0]
        shown = facts(page)
        assert shown["Document"] == sop and shown["Version"] == str(approval.version), shown
        assert shown["Status"] == "approved, not yet in force", shown
        assert shown["Effective from"] == approval.effective_from.isoformat(), shown
        text = text_of(demo.site, where)
        missing = [s for s in plain_lines(approval.body) if s not in text]
        assert not missing, f"{where}: approved text missing: {missing}"
        printed = re.search(r'<div class="qms-print-mark"[^>]*>(.*?)</div>', page, re.S)
        assert printed, f"{where} has no mark for its printed pages"
        mark = html.unescape(visible_text(printed.group(1)))
        assert "NOT YET IN FORCE" in mark, mark
        assert f"effective from {approval.effective_from.isoformat()}" in mark, mark
        rows = table_rows(
            section(page, f"Signatures of version {approval.version} (not yet in force)")
        )
        approved = [r for r in rows[1:] if r[2] == "approved"]
        assert len(approved) == 1 and approved[0][0] == "Dr. Anna Weber", rows
        assert approved[0][4] == "valid" and approval.commit.startswith(approved[0][6]), rows
    assert V2_ONLY in text_of(demo.site, page_of(coming["SOP-0003"]))


def test_the_sop_page_and_the_index_lead_to_the_upcoming_version(demo: Demo) -> None:
    coming = upcoming(demo.repo, demo)
    index = links(demo.site, "sops/index.html")
    for sop, approval in sorted(coming.items()):
        target = page_of(approval)
        assert (demo.site / target).is_file(), target
        page = article(read(demo.site, f"sops/{sop}.html"))
        notes = re.findall(
            r'<div class="qms-banner qms-banner-upcoming" role="note">(.*?)</div>', page, re.S
        )
        assert len(notes) == 1, f"{sop}: {notes}"
        assert f'href="../{target}"' in notes[0], f"{sop}: the banner does not link {target}"
        assert target in links(demo.site, f"sops/{sop}.html")
        assert target in index, f"the index of procedures does not link {target}"
    # the SOP's page still shows the version in force, not the upcoming text
    sop3 = text_of(demo.site, "sops/SOP-0003.html")
    assert V2_ONLY not in sop3.split("Signatures of version")[0]


def test_a_record_naming_a_sop_with_no_version_in_force_reaches_its_upcoming_version(
    demo: Demo,
) -> None:
    coming = upcoming(demo.repo, demo)
    new = sorted(set(coming) - set(in_force(demo.repo, demo.today)))
    for sop in new:
        naming = sorted(
            f"{folder}/{path.stem}.html"
            for folder in ("capa", "deviations")
            for path in (demo.repo / folder).glob("*.yaml")
            if sop in path.read_text(encoding="utf-8")
        )
        assert naming, f"no record names {sop}: the case is not tested"
        for record in naming:
            assert f"sops/{sop}.html" in links(demo.site, record), f"{record} does not link {sop}"
        page = article(read(demo.site, f"sops/{sop}.html"))
        assert facts(page)["Status"] == "approved", sop
        assert any(
            kind == "upcoming" and "No version" in text and "in force" in text
            for kind, text in banners(page)
        ), banners(page)
        assert page_of(coming[sop]) in links(demo.site, f"sops/{sop}.html")


def test_search_never_offers_a_version_not_in_force(demo: Demo) -> None:
    index = json.loads((demo.site / "search" / "search_index.json").read_text())
    places = {doc["location"].split("#")[0] for doc in index["docs"]}
    assert not [p for p in places if p.startswith("upcoming/")], places
    searched = json.dumps(index, ensure_ascii=False)
    for approval in upcoming(demo.repo, demo).values():
        unique = only_in(approval, demo)
        assert unique, approval.sop
        found = [s for s in unique if json.dumps(s, ensure_ascii=False)[1:-1] in searched]
        assert not found, f"{approval.sop} v{approval.version} text not in force is searchable"


def test_upcoming_text_is_the_approved_text_not_a_later_edit(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """An unsigned commit that edits the approved upcoming version, and an edit left in the
    working tree, never reach the upcoming page: it shows the bytes the approval signed."""
    folder = tmp_path_factory.mktemp("upcoming-edits")
    demo = copy_demo(pristine_demo(tmp_path_factory), folder / "demo")
    people = desks(demo, folder / "desks")
    sop3 = demo.repo / "sops" / "SOP-0003.md"
    commit_as(
        people["l.santos"],
        demo.repo,
        f"{demo.today.isoformat()}T15:00:00Z",
        {"sops/SOP-0003.md": sop3.read_text(encoding="utf-8") + "\nUNSIGNED-UPCOMING TEXT\n"},
        "SOP-0003: tidy up\n\nReason: typo\n",
    )
    sop11 = demo.repo / "sops" / "SOP-0011.md"
    sop11.write_text(sop11.read_text(encoding="utf-8") + "\nWORKTREE-UPCOMING TEXT\n")
    site = folder / "site"
    build_site(demo.repo, site, "--date", demo.today.isoformat())
    coming = upcoming(demo.repo, demo)
    for approval in coming.values():
        text = text_of(site, page_of(approval))
        assert all(s in text for s in plain_lines(approval.body)), approval.sop
    for path in site.rglob("*"):
        if path.is_file() and path.suffix != ".gz":
            data = path.read_bytes()
            assert b"UNSIGNED-UPCOMING" not in data and b"WORKTREE-UPCOMING" not in data, path
