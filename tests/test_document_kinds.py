"""The document kinds beyond SOPs (issue 20, step 5): work instructions (WI), forms (FRM),
policies (POL) and documents of external origin (EXT), from the outside, with real signed
history: `qms new`, review and approval by people with real keys, `qms status`, `qms due`,
`qms verify` and a real site build all judge them as they judge SOPs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from toolkit.browser import article, visible_text
from toolkit.demo import build_site
from toolkit.people import Person
from toolkit.team import Team
from toolkit.world import refused

# kind -> (folder, the first ID)
DOCUMENT_KINDS = {
    "work-instruction": ("work-instructions", "WI-0001"),
    "form": ("forms", "FRM-0001"),
    "policy": ("policies", "POL-0001"),
    "external-document": ("external", "EXT-0001"),
}
FIRST = "Version one: thaw the bag in the dry thawer."
SECOND = "Version two: thaw the bag in the validated water bath."
TAMPERED = "An unsigned change nobody approved."
ORIGIN = {
    "issuer": '"Kestrelvale Biologics (fictional)"',
    "product": '"KV-19, autologous anti-CD19 CAR-T cells (fictional)"',
    "external_id": '"KVB-PM-019"',
    "external_version": '"1.2"',
}


def _path(kind: str) -> str:
    folder, record = DOCUMENT_KINDS[kind]
    return f"{folder}/{record}.md"


def _set(text: str, key: str, value: str) -> str:
    changed = re.sub(rf"(?m)^{key}:.*$", f"{key}: {value}".rstrip(), text, count=1)
    assert changed != text or f"{key}: {value}" in text, key
    return changed


def _new(team: Team, kind: str, author: Person) -> str:
    """`qms new KIND` by `author`, its template text filled in and committed; the ID."""
    team.on("2026-01-10")
    out = team.qms(author, "new", kind, "--title", "Bedside thawing of a CAR-T bag")
    assert _path(kind) in out, out
    text = (team.world.repo / _path(kind)).read_text()
    for field, value in ORIGIN.items():  # an external document's identification
        if re.search(rf"(?m)^{field}: ", text):
            text = _set(text, field, value)
    text = re.sub(r'FILL IN[^\n"]*', FIRST, text)
    text = _set(text, "effective_date", '"2026-01-20"')
    team.world.commit_file(author, _path(kind), text, "version 1")
    return DOCUMENT_KINDS[kind][1]


def _second(team: Team, kind: str) -> None:
    """Version 2 by the author, superseding v1, under a legacy change-control number."""
    record = DOCUMENT_KINDS[kind][1]
    team.on("2026-02-01")
    text = (team.world.repo / _path(kind)).read_text().replace(FIRST, SECOND)
    text = _set(text, "version", "2")
    text = _set(text, "effective_date", '"2026-03-01"')
    text = _set(text, "supersedes", f'"{record} v1"')
    text = _set(text, "change_control", '"CC-2026-002"')
    team.world.commit_file(team.author, _path(kind), text, "version 2")


def _release(team: Team, record: str, reviewed: str, approved: str) -> None:
    team.on(reviewed)
    team.qms(team.officer, "review", record, "--reason", "content checked")
    team.on(approved)
    team.qms(team.admin, "approve", record, "--reason", "released")


def _status(team: Team, day: str, record: str) -> dict[str, Any]:
    return dict(team.status(day, record)[record])


def _versions(record: dict[str, Any]) -> dict[int, str]:
    return {int(v["version"]): v["status"] for v in record["versions"]}


def _site(team: Team, tmp_path: Path, day: str) -> Path:
    site = tmp_path / f"site-{day}"
    build_site(team.world.repo, site, "--date", day)
    return site


def _page(site: Path, kind: str, name: str | None = None) -> str:
    folder, record = DOCUMENT_KINDS[kind]
    return visible_text(article((site / folder / f"{name or record}.html").read_text()))


@pytest.mark.parametrize("kind", list(DOCUMENT_KINDS))
def test_a_document_of_each_kind_is_issued_superseded_and_published_as_an_sop_is(
    team: Team, tmp_path: Path, kind: str
) -> None:
    record = _new(team, kind, team.author)
    assert _status(team, "2026-01-11", record)["state"] == "draft"
    _release(team, record, "2026-01-12", "2026-01-15")
    approved = _status(team, "2026-01-16", record)
    assert (approved["state"], approved["version"]) == ("approved", "1"), approved
    effective = _status(team, "2026-01-20", record)
    assert (effective["state"], effective["version"]) == ("effective", "1"), effective

    site = _site(team, tmp_path, "2026-01-25")
    page = _page(site, kind)
    assert FIRST in page and record in page and "effective" in page
    assert "Michael Okafor" in page and "Dr. Anna Weber" in page  # the signature block
    if kind == "external-document":  # where it comes from, on its page
        assert "Issuer's version 1.2" in page.replace("&#x27;", "'") and "KVB-PM-019" in page
    index = visible_text(article((site / "sops" / "index.html").read_text()))
    title = {
        "work-instruction": "Work instructions",
        "form": "Forms and templates",
        "policy": "Policies",
        "external-document": "Documents of external origin",
    }[kind]
    assert title in index and record in index, index

    _second(team, kind)
    assert _versions(_status(team, "2026-02-02", record)) == {1: "effective"}
    _release(team, record, "2026-02-03", "2026-02-05")
    before = _status(team, "2026-02-10", record)
    assert (before["state"], before["version"]) == ("effective", "1"), before
    after = _status(team, "2026-03-01", record)
    assert (after["state"], after["version"]) == ("effective", "2"), after
    assert _versions(after) == {1: "superseded", 2: "effective"}

    site = _site(team, tmp_path, "2026-03-02")
    page = _page(site, kind)
    assert SECOND in page and FIRST not in page
    archived = visible_text(article((site / "archive" / f"{record}-v1.html").read_text()))
    assert FIRST in archived and "superseded" in archived.lower()


@pytest.mark.parametrize("kind", list(DOCUMENT_KINDS))
def test_a_page_is_built_from_the_approving_commit_only(
    team: Team, tmp_path: Path, kind: str
) -> None:
    """An unsigned edit of the approved file after the approval (no version raised, nobody
    signs it) never reaches the site: the page shows the signed bytes."""
    record = _new(team, kind, team.author)
    _release(team, record, "2026-01-12", "2026-01-15")
    team.on("2026-01-21")
    text = (team.world.repo / _path(kind)).read_text().replace(FIRST, TAMPERED)
    team.world.commit_file(team.author, _path(kind), text, "quick fix", sign=False)
    assert TAMPERED in (team.world.repo / _path(kind)).read_text()
    page = _page(_site(team, tmp_path, "2026-01-25"), kind)
    assert FIRST in page and TAMPERED not in page
    record_status = _status(team, "2026-01-25", record)
    assert (record_status["state"], record_status["version"]) == ("effective", "1")


def _due(team: Team, day: str, ok: bool = True) -> list[dict[str, Any]]:
    out = team.qms(team.admin, "due", "--date", day, "--within", "0", "--format", "json", ok=ok)
    return [dict(item) for item in json.loads(out)["items"]]


def test_an_external_documents_periodic_review_falls_due_twelve_months_after_effectivity(
    team: Team,
) -> None:
    record = _new(team, "external-document", team.owner)
    text = (team.world.repo / _path("external-document")).read_text()
    assert re.search(r"(?m)^review_period_months: 12\b", text), "the template asks for 12"
    _release(team, record, "2026-01-12", "2026-01-15")
    assert _status(team, "2026-01-20", record)["next_review"] == "2027-01-20"
    assert not [i for i in _due(team, "2027-01-19") if i["record"] == record]
    [item] = [i for i in _due(team, "2027-01-21", ok=False) if i["record"] == record]
    assert (item["what"], item["due"], item["overdue"]) == ("periodic review", "2027-01-20", True)
    # A longer period is refused: the manufacturer's issue is checked at least once a year.
    team.on("2027-01-22")
    longer = _set(text, "review_period_months", "24")
    (team.world.repo / _path("external-document")).write_text(longer)
    out = team.qms(team.admin, "validate", _path("external-document"), ok=False)
    assert "review_period_months" in out, out


def test_an_external_document_states_where_it_comes_from(team: Team) -> None:
    record = _new(team, "external-document", team.owner)
    path = team.world.repo / _path("external-document")
    text = path.read_text()
    for field in ("issuer", "product", "external_id", "external_version"):
        assert re.search(rf"(?m)^{field}: ", text), field
    out = team.qms(team.admin, "validate", _path("external-document"))
    assert "0 errors" in out, out
    received_first = _set(_set(text, "issued_on", '"2026-01-08"'), "received_on", '"2026-01-05"')
    path.write_text(received_first)
    out = team.qms(team.admin, "validate", _path("external-document"), ok=False)
    assert "received before it was issued" in out, out
    path.write_text(re.sub(r"(?m)^issuer: .*\n", "", text))
    out = team.qms(team.admin, "validate", _path("external-document"), ok=False)
    assert "issuer" in out and record in out, out


def test_a_work_instruction_approved_by_its_own_author_does_not_count(team: Team) -> None:
    """Separation of duties holds for every document kind: the QA manager writes a work
    instruction and approves it herself; `qms approve` refuses, and a release signed with
    plain git is judged invalid, so the version never takes effect."""
    record = _new(team, "work-instruction", team.admin)
    team.on("2026-01-12")
    team.qms(team.officer, "review", record, "--reason", "content checked")
    team.on("2026-01-15")
    out = refused(team.world, team.admin, "approve", record, "--reason", "released")
    assert "separation of duties" in out and record in out, out
    path = _path("work-instruction")
    approval = team.world.raw_commit(
        team.admin, team.world.trailers(record, path, "approved", version="1")
    )
    status = _status(team, "2026-01-25", record)
    assert status["state"] not in ("approved", "effective"), status
    assert status["version"] is None or _versions(status).get(1) != "effective", status
    report = json.loads(team.qms(team.admin, "verify", "--format", "json", ok=False))
    problems = [
        " ".join(map(str, v["problems"]))
        for v in report["signatures"]
        if v["commit"] == approval and v["meaning"] == "approved"
    ]
    assert problems and "separation of duties" in problems[0], report
