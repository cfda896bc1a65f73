"""The faces read a record's kind from its declaration (issue 20, step 2b): the site's registers
and record pages, `qms list`, `qms new` and `qms init` work for a kind declared tomorrow without
a change in code, and give the built-in kinds what they gave before.

A kind is "declared" here as the package declares one: a `Kind` built from a declaration
(`records.declaration.declared`) and entered in the kind registry (`BY_NAME`, `BY_PREFIX`,
`BY_FOLDER`) for the length of one test. Its template, where `qms new` needs one, sits in a
template folder beside copies of the packaged ones.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from dataclasses import replace
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitqms.actions import init as init_action
from gitqms.actions import new as new_action
from gitqms.cli.list import _summary
from gitqms.records import kinds, repository
from gitqms.records.declaration import declared
from gitqms.records.kinds import BY_NAME, Kind
from gitqms.records.model import build_record
from gitqms.records.repository import Repository
from gitqms.reports.entries import RecordEntry, SopEntry
from gitqms.reports.metrics import metrics
from gitqms.reports.publication import Publication
from gitqms.site import record_pages as pages
from gitqms.site.layout import PageSpec
from gitqms.site.sop_pages import record_uri, sop_uri
from gitqms.validation.run import require_config
from toolkit.cli import ROOT, qms
from toolkit.process import git

ON = date(2031, 3, 4)  # the day the made-up records are looked at

CLEANING = replace(
    BY_NAME["capa"],  # a record kind with a state machine; its schema does not matter here
    name="cleaning",
    label="cleaning record",
    folder="cleaning",
    prefix="CLN",
    special=None,
    declared=declared(
        {
            "fields": {"owner": "cleaner", "opened": "cleaned_at", "closed": "closed"},
            "due": [
                {"what": "next cleaning", "date": "next_due", "owner": "cleaner"},
                {
                    "what": "step {id}",
                    "each": "steps",
                    "date": "due",
                    "while": {"status": ["open", "waiting"]},
                },
                {"what": "release", "date": "release.due", "done": "release.by"},
            ],
            "register": {
                "title": "Cleaning register",
                "columns": [
                    {"label": "Room", "field": ["room.name", "area"]},
                    {"label": "Agents", "field": "agents[]"},
                ],
            },
        }
    ),
)
INSTRUCTION = BY_NAME["work-instruction"]  # shipped since step 5: a document kind besides SOPs


def declare(monkeypatch: pytest.MonkeyPatch, *made_up: Kind) -> None:
    """Enter kinds in the registry the package's kinds are in, for one test."""
    new = tuple(kind for kind in made_up if kind not in kinds.PACKAGE)
    extended = kinds.PACKAGE.with_declared(new)  # as if the package shipped them
    monkeypatch.setattr(kinds, "_active", [extended])
    monkeypatch.setattr(repository, "PACKAGE", extended)
    monkeypatch.setattr(init_action, "PACKAGE", extended)


# --- the site -----------------------------------------------------------------------------------


def entry(record_id: str, kind: str, fields: dict[str, Any], links: tuple[str, ...] = ()) -> Any:
    return RecordEntry(
        id=record_id,
        kind=kind,
        title=f"title of {record_id}",
        state=str(fields.get("state", "open")),
        signed_state=None,
        fields={"id": record_id, "title": f"title of {record_id}", **fields},
        due=(),
        links=links,
        trail=(),
        notes=(),
    )


def publication(
    example: Path, records: list[RecordEntry], sops: tuple[SopEntry, ...] = ()
) -> Publication:
    config = require_config(Repository(example))
    return Publication(
        commit="0" * 40,
        on=ON,
        organisation=config.organisation,
        areas=dict(config.areas),
        sops=sops,
        records=tuple(records),
        metrics=metrics(records, config, ON),
        drafts=True,  # every document then has a page, without versions to build here
        notes=(),
        people={"l.santos": "Lucia Santos", "p.rossi": "Paolo Rossi"},
        trust_root=None,
        signatures=0,
        invalid=(),
    )


def document(record_id: str) -> SopEntry:
    return SopEntry(
        id=record_id,
        title=f"title of {record_id}",
        area=None,
        owner=None,
        status="draft",
        current=None,
        upcoming=None,
        archive=(),
        revisions=(),
        draft=None,
        next_review=None,
        last_review=None,
        related=(),
        notes=(),
        trail=(),
    )


def head(spec: PageSpec) -> str:
    return html.unescape(spec.head(lambda uri: f"/{uri}"))


def rows(page: str) -> list[list[str]]:
    """The cells of each row of the page's first table, headings first, tags dropped."""
    table = page[page.index("<table") : page.index("</table>")]
    return [
        [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)
    ]


def test_pages_live_in_the_folder_of_their_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    assert record_uri("CAPA-2026-0001") == "capa/CAPA-2026-0001.md"
    assert record_uri("DEV-2026-0012") == "deviations/DEV-2026-0012.md"
    assert sop_uri("SOP-0003") == "sops/SOP-0003.md"
    declare(monkeypatch, CLEANING, INSTRUCTION)
    assert record_uri("CLN-2031-0007") == "cleaning/CLN-2031-0007.md"
    assert sop_uri("WI-0002") == "work-instructions/WI-0002.md"
    assert pages.register_uri(CLEANING) == "cleaning/index.md"
    assert pages.register_uri(CLEANING, 3) == "cleaning/page-3.md"


def test_a_declared_register_lists_its_records_with_its_own_columns(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    declare(monkeypatch, CLEANING)
    records = [
        entry("CLN-2031-0001", "cleaning", {"room": {"name": "Clean room B"}, "area": "x"}),
        entry("CLN-2031-0002", "cleaning", {"area": "cryostorage", "cleaner": "l.santos"}),
        entry("CLN-2031-0003", "cleaning", {"room": {"name": ""}, "agents": ["ethanol", "H2O2"]}),
    ]
    specs = {spec.uri: spec for spec in pages.record_pages(publication(example, records))}
    register = specs["cleaning/index.md"]
    assert register.title == "Cleaning register" and register.listed
    assert not register.searchable
    assert rows(head(register)) == [
        ["ID", "Title", "State", "Room", "Agents", "Owner", "Next due"],
        ["CLN-2031-0003", "title of CLN-2031-0003", "open", "—", "ethanol, H2O2", "—", "—"],
        [
            "CLN-2031-0002",
            "title of CLN-2031-0002",
            "open",
            "cryostorage",
            "—",
            "Lucia Santos (l.santos)",
            "—",
        ],
        ["CLN-2031-0001", "title of CLN-2031-0001", "open", "Clean room B", "—", "—", "—"],
    ]
    assert {f"cleaning/CLN-2031-000{n}.md" for n in (1, 2, 3)} <= set(specs)
    page = head(specs["cleaning/CLN-2031-0002.md"])
    assert "Lucia Santos" in page  # the owner, from the field the declaration names


def test_the_built_in_registers_keep_their_columns(example: Path) -> None:
    records = [
        entry("CAPA-2026-0001", "capa", {"source": {"type": "deviation"}, "owner": "p.rossi"}),
        entry("CAPA-2026-0002", "capa", {"source": "not a mapping"}),
        entry("DEV-2026-0001", "deviation", {"classification": {"level": "major"}, "type": "oos"}),
        entry("DEV-2026-0002", "deviation", {"classification": None, "type": "excursion"}),
        entry("DEV-2026-0003", "deviation", {}),
    ]
    specs = {spec.uri: spec for spec in pages.record_pages(publication(example, records))}
    assert [uri for uri, spec in specs.items() if spec.listed] == [
        "capa/index.md",
        "deviations/index.md",
        "changes/index.md",  # change control: a built-in kind since step 4, empty here
        "training/index.md",  # training sessions (issue 21, step 4), empty here
    ]
    assert specs["capa/index.md"].title == "CAPA register"
    capa = rows(head(specs["capa/index.md"]))
    assert capa[0] == ["ID", "Title", "State", "Source", "Owner", "Next due"]
    assert [(row[0], row[3], row[4]) for row in capa[1:]] == [
        ("CAPA-2026-0002", "—", "—"),
        ("CAPA-2026-0001", "deviation", "Paolo Rossi (p.rossi)"),
    ]
    deviations = rows(head(specs["deviations/index.md"]))
    assert deviations[0] == ["ID", "Title", "State", "Classification", "Owner", "Next due"]
    assert [(row[0], row[3]) for row in deviations[1:]] == [
        ("DEV-2026-0003", "—"),
        ("DEV-2026-0002", "excursion"),
        ("DEV-2026-0001", "major"),
    ]


def test_a_long_register_is_split_into_pages(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    declare(monkeypatch, CLEANING)
    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    records = [entry(f"CLN-2031-000{n}", "cleaning", {}) for n in range(1, 6)]
    specs = {spec.uri: spec for spec in pages.record_pages(publication(example, records))}
    assert [uri for uri in specs if uri.startswith(("cleaning/index", "cleaning/page-"))] == [
        "cleaning/index.md",
        "cleaning/page-2.md",
        "cleaning/page-3.md",
    ]
    assert specs["cleaning/page-3.md"].title == "Cleaning register, page 3"
    last = head(specs["cleaning/page-3.md"])
    assert [row[0] for row in rows(last)[1:]] == ["CLN-2031-0001"]
    assert 'href="/cleaning/index.md"' in last and 'href="/cleaning/page-2.md"' in last
    assert "<strong>3</strong>" in last


def test_a_record_page_links_what_it_names_by_the_kind_of_each(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    declare(monkeypatch, CLEANING, INSTRUCTION)
    named = ("WI-0001", "CAPA-2026-0001", "DEV-2026-0099", "SOP-0001")
    records = [
        entry("CLN-2031-0001", "cleaning", {}, links=named),
        entry("CAPA-2026-0001", "capa", {"source": {"type": "trend"}}),
    ]
    pub = publication(example, records, sops=(document("WI-0001"), document("SOP-0001")))
    specs = {spec.uri: spec for spec in pages.record_pages(pub)}
    page = head(specs["cleaning/CLN-2031-0001.md"])
    linked = page[page.index("Linked records") :]
    assert re.findall(r'href="([^"]+)"', linked) == [
        "/work-instructions/WI-0001.md",
        "/capa/CAPA-2026-0001.md",
        "/sops/SOP-0001.md",
    ]  # DEV-2026-0099 has no page: named, not linked


def test_a_published_record_of_a_kind_without_a_register_still_has_its_page(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unlisted = replace(CLEANING, declared=replace(CLEANING.declared, register=None))
    declare(monkeypatch, unlisted)
    specs = {
        spec.uri: spec
        for spec in pages.record_pages(
            publication(example, [entry("CLN-2031-0001", "cleaning", {})])
        )
    }
    assert "cleaning/index.md" not in specs
    assert "cleaning/CLN-2031-0001.md" in specs


# --- qms list -----------------------------------------------------------------------------------


def test_list_summarises_a_declared_kind_from_its_declaration() -> None:
    data = {
        "id": "CLN-2031-0004",
        "title": "Terminal clean of clean room B",
        "state": "in-progress",
        "cleaner": "l.santos",
        "cleaned_at": "2031-03-02T07:15:00Z",
        "next_due": "2031-04-01",
        "steps": [
            {"id": "S1", "status": "open"},
            {"id": "S2", "status": "done"},
            {"id": "S3", "status": "waiting"},
        ],
        "release": {"due": "2031-03-05"},
    }
    record = build_record(CLEANING, "cleaning/CLN-2031-0004.yaml", data, None)
    assert _summary(record) == {
        "state": "in-progress",
        "owner": "l.santos",
        "dates": "cleaned 2031-03-02, next due 2031-04-01, 2 open steps",
    }
    bare = build_record(
        CLEANING,
        "cleaning/CLN-2031-0005.yaml",
        {"id": "CLN-2031-0005", "title": "t", "state": "new"},
        None,
    )
    assert _summary(bare) == {"state": "new", "owner": "", "dates": "0 open steps"}


def test_list_summarises_a_document_of_any_document_kind() -> None:
    text = (ROOT / "sops" / "SOP-0001.md").read_text().split("---\n")[1]
    data = {**yaml.safe_load(text), "id": "WI-0001", "version": 3, "effective_date": "2031-05-01"}
    record = build_record(INSTRUCTION, "work-instructions/WI-0001.md", data, "body")
    assert _summary(record) == {
        "state": "version 3",
        "owner": data["owner"],
        "dates": "effective 2031-05-01",
    }


def test_list_says_what_it_said_of_the_built_in_kinds(example: Path) -> None:
    """The text of every built-in record kind, computed here from the files as written."""
    listed = {r["id"]: r for r in _listing(example)}
    for path in sorted((example / "capa").glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        still = sum(1 for a in data.get("actions") or () if a["status"] in ("open", "in-progress"))
        dates = f"opened {data['opened']}, due {data['due']}, {still} open action"
        assert listed[data["id"]]["dates"] == dates + ("" if still == 1 else "s")
        assert listed[data["id"]]["state"] == data["state"]
        assert listed[data["id"]]["owner"] == data["owner"]
    for path in sorted((example / "deviations").glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        level = data["classification"]["level"] if data.get("classification") else "unclassified"
        assert listed[data["id"]]["state"] == f"{data['state']} ({data['type']}, {level})"
        assert listed[data["id"]]["dates"] == f"discovered {str(data['discovered_at'])[:10]}"
    review = {
        "id": "ATR-2031-0001",
        "title": "Audit-trail review",
        "period": {"since": "2031-01-01", "until": "2031-03-31"},
        "revision": "0" * 40,
        "report_sha256": "0" * 64,
        "reviewer": "p.rossi",
        "reviewed_on": "2031-04-02",
        "conclusion": "No anomalies.",
    }
    record = build_record(BY_NAME["audit-review"], "audit-reviews/ATR-2031-0001.yaml", review, None)
    assert _summary(record) == {
        "state": "review of 2031-01-01 to 2031-03-31",
        "owner": "p.rossi",
        "dates": "reviewed 2031-04-02",
    }


def _listing(repo: Path) -> list[dict[str, str]]:
    result = qms("list", "--format", "json", repo=repo)
    assert result.exit_code == 0, result.stdout
    records: list[dict[str, str]] = json.loads(result.stdout)["records"]
    return records


def test_list_offers_the_declared_kinds(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    refused = qms("list", "--kind", "cleaning", repo=example)
    assert refused.exit_code == 2
    assert "'sop', 'capa', 'deviation', 'audit-review'" in refused.stderr
    declare(monkeypatch, CLEANING)
    result = qms("list", "--kind", "cleaning", "--format", "json", repo=example)
    assert result.exit_code == 0, result.stderr
    assert '"records": []' in result.stdout


# --- qms new and qms init -----------------------------------------------------------------------


def templates(folder: Path, **extra: str) -> Path:
    """The packaged templates, copied, and more beside them."""
    shutil.copytree(Path(str(resources.files("gitqms").joinpath("templates"))), folder)
    for name, text in extra.items():
        (folder / name).write_text(text)
    return folder


def init(target: Path) -> Path:
    result = qms(
        "init",
        target,
        "--admin",
        "a.weber",
        "--name",
        "Dr. Anna Weber",
        "--email",
        "a.weber@st-aurelia.example",
    )
    assert result.exit_code == 0, result.stderr
    return target


def test_new_offers_the_kinds_that_have_a_template() -> None:
    assert [kind.name for kind in new_action.new_kinds()] == [
        "sop",
        "capa",
        "deviation",
        "change-control",
        "work-instruction",
        "form",
        "policy",
        "external-document",
        "training-session",
    ]
    result = qms("new", "audit-review", "--title", "x")
    assert result.exit_code == 2
    assert "'sop', 'capa', 'deviation'" in result.stderr  # written only by qms audit-trail --sign


def test_new_fills_a_declared_kind_s_template_and_checks_it_before_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Until a repository can pin a schema of its own (step 3), a made-up kind has a packaged
    schema only: the capa schema here, which refuses its IDs. The record is built with the
    kind's ID in the kind's folder and refused, naming the file, before anything is written."""
    cleaning = (resources.files("gitqms") / "templates" / "capa.yaml").read_text("utf-8")
    folder = templates(tmp_path / "t", **{"cleaning.yaml": cleaning})
    monkeypatch.setattr(new_action, "TEMPLATES", folder)
    declare(monkeypatch, CLEANING)
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2031-03-04T10:00:00+00:00")
    repo = init(tmp_path / "qms")
    assert (repo / "cleaning" / ".gitkeep").is_file()  # qms init writes every declared folder
    (repo / "cleaning" / "CLN-2031-0041.yaml").write_text("a number taken\n")
    result = qms("new", "cleaning", "--title", "Terminal clean", "--owner", "a.weber", repo=repo)
    assert result.exit_code == 2
    assert (
        "the values given would make CLN-2031-0042.yaml invalid: 'id' is the text "
        "'CLN-2031-0042'" in result.stderr
    )
    assert sorted(p.name for p in (repo / "cleaning").iterdir()) == [
        ".gitkeep",
        "CLN-2031-0041.yaml",
    ]


def test_the_next_id_of_a_declared_kind_is_above_every_one_it_ever_had(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    declare(monkeypatch, CLEANING, INSTRUCTION)
    repo = init(tmp_path / "qms")
    (repo / "cleaning").mkdir(exist_ok=True)
    for name in ("CLN-2031-0007.yaml", "WI-0012.md"):  # committed, then removed
        folder = repo / ("cleaning" if name.startswith("CLN") else "work-instructions")
        folder.mkdir(exist_ok=True)
        (folder / name).write_text("x\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "records", "-m", "Reason: test", "--no-gpg-sign")
    git(repo, "rm", "-q", "cleaning/CLN-2031-0007.yaml", "work-instructions/WI-0012.md")
    git(repo, "commit", "-qm", "removed", "-m", "Reason: test", "--no-gpg-sign")
    for name in ("CLN-2031-0003.yaml", "CLN-2030-0041.yaml", "CLN-2031-0050.md", "CLN-x.yaml"):
        (repo / "cleaning" / name).write_text("x\n")  # in the working tree only
    qms_repo = Repository(repo)
    assert new_action.next_id(qms_repo, CLEANING, 2031) == "CLN-2031-0008"
    assert new_action.next_id(qms_repo, CLEANING, 2030) == "CLN-2030-0042"
    assert new_action.next_id(qms_repo, CLEANING, 2032) == "CLN-2032-0001"
    assert new_action.next_id(qms_repo, INSTRUCTION, 2031) == "WI-0013"


def test_a_template_slot_nothing_fills_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "id: {{id}}\ntitle: {{title}}\nbatch: {{batch_number}}\n"
    monkeypatch.setattr(
        new_action, "TEMPLATES", templates(tmp_path / "t", **{"cleaning.yaml": text})
    )
    declare(monkeypatch, CLEANING)
    repo = init(tmp_path / "qms")
    result = qms("new", "cleaning", "--title", "x", "--owner", "a.weber", repo=repo)
    assert result.exit_code == 2
    assert "the template cleaning.yaml has the slot {{batch_number}}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list((repo / "cleaning").glob("CLN-*"))


def test_a_capa_raised_by_a_deviation_says_so(tmp_path: Path) -> None:
    repo = init(tmp_path / "qms")
    deviation = qms("new", "deviation", "--title", "Freezer alarm", "--owner", "a.weber", repo=repo)
    reference = Path(deviation.stdout.strip()).stem
    capa = qms(
        "new", "capa", "--title", "Alarm", "--owner", "a.weber", "--ref", reference, repo=repo
    )
    assert capa.exit_code == 0, capa.stderr
    written = yaml.safe_load((repo / capa.stdout.strip()).read_text())
    assert written["source"] == {"type": "deviation", "references": [reference]}
    other = qms("new", "capa", "--title", "Trend", "--owner", "a.weber", repo=repo)
    assert yaml.safe_load((repo / other.stdout.strip()).read_text())["source"]["type"] == "trend"


def test_new_options_offer_what_the_schemas_of_their_kinds_allow() -> None:
    deviation = (resources.files("gitqms") / "schemas" / "deviation.schema.json").read_text("utf-8")
    capa = (resources.files("gitqms") / "schemas" / "capa.schema.json").read_text("utf-8")
    types = json.loads(deviation)["properties"]["type"]["enum"]
    assert tuple(types) == new_action.TYPE_CHOICES
    sources = json.loads(capa)["properties"]["source"]["properties"]["type"]["enum"]
    assert tuple(sources) == new_action.SOURCE_CHOICES
