"""The shipped example content taken through its life cycles with real signed commits.

The example qms.yaml (with a key for each of its people) is the signed trust root; every example
SOP is committed as a draft, reviewed and approved; the excursion deviation DEV-2026-0001 and
the CAPA it raised, CAPA-2026-0001, are built up from their initial states stage by stage, as
the team would fill them in, and moved on with `qms advance` on the days the examples record.
At the end the history passes `qms verify` and `qms check`, and `qms status` agrees with it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from toolkit.cli import ROOT
from toolkit.people import Person
from toolkit.team import Calendar
from toolkit.world import World

PEOPLE = {
    "a.weber": "Dr. Anna Weber",
    "m.okafor": "Michael Okafor, MSc",
    "l.santos": "Lucia Santos, MSc",
    "j.lindqvist": "Dr. Johan Lindqvist, PharmD",
    "p.rossi": "Dr. Paola Rossi, PharmD",
    "h.nakamura": "Dr. Hana Nakamura",
    "r.dubois": "Dr. Raphael Dubois",
    "s.murphy": "Siobhan Murphy, RN",
}
DEV, CAPA = "DEV-2026-0001", "CAPA-2026-0001"
DEV_PATH, CAPA_PATH = f"deviations/{DEV}.yaml", f"capa/{CAPA}.yaml"


class Examples(Calendar):
    """The example organisation's people on its calendar, its qms.yaml the signed trust root."""

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.people = {pid: world.person(pid, name) for pid, name in PEOPLE.items()}
        self.admin = self.people["a.weber"]
        self.on("2026-01-05")
        config = yaml.safe_load((ROOT / "qms.yaml").read_text())
        for entry in config["people"]:
            if not entry.get("email"):
                continue  # a reader: no key
            person = self.people[entry["id"]]
            entry["keys"] = [{"public_key": person.public_line(), "valid_from": "2026-01-05"}]
        world.repo.mkdir()
        world.git("init", "-q", "-b", "main")
        text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=100)
        (world.repo / "qms.yaml").write_text(text)
        digest = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
        world.git("add", "qms.yaml")
        trailers = f"QMS-Record: qms.yaml\nQMS-Content: {digest}\nQMS-Meaning: changed"
        world.raw_commit(self["a.weber"], trailers + "\nReason: the example organisation")

    def __getitem__(self, person_id: str) -> Person:
        return self.people[person_id]

    def commit(self, person: str, path: str, data: dict[str, Any], reason: str) -> None:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
        (self.world.repo / path).parent.mkdir(exist_ok=True)
        self.world.commit_file(self[person], path, text, reason)

    def advance(self, person: str, record: str, state: str, **extra: str) -> str:
        args = [arg for key, value in extra.items() for arg in (f"--{key}", value)]
        return self.qms(self[person], "advance", record, "--to", state, *args)


@pytest.fixture
def examples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Examples]:
    """The one test's own world (nothing to share: the module has one test)."""
    world = World(tmp_path, monkeypatch)
    yield Examples(world)
    world.close()


def _example(path: str) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / path).read_text())
    assert isinstance(data, dict)
    return data


def _only(data: dict[str, Any], *drop: str) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in drop}


def test_the_examples_through_their_whole_life_cycles(examples: Examples) -> None:
    world = examples.world
    # Every example SOP as a draft by its author, then reviewed and approved as the examples say.
    examples.on("2026-01-06")
    shutil.copytree(ROOT / "sops", world.repo / "sops")
    author = examples["l.santos"]
    with world.acting(author):  # an author's change, signed with her key
        world.git("add", "sops")
        world.git(
            "commit", "-q", *world.sign_args(author), "-m", "Example SOPs", "-m", "Reason: import",
            env=author.signing_env(),
        )  # fmt: skip
    sops = sorted(p.stem for p in (world.repo / "sops").glob("SOP-*.md"))
    examples.on("2026-01-07")
    examples.qms(examples["m.okafor"], "review", *sops, "--reason", "technical review")
    examples.on("2026-01-08")
    examples.qms(examples["a.weber"], "approve", *sops, "--reason", "released")

    # DEV-2026-0001 is reported, classified and investigated.
    final_dev = _example(DEV_PATH)
    reported = _only(
        final_dev, "classification", "investigation", "capa_decision", "capa", "closed"
    )
    reported["state"] = "reported"
    examples.on("2026-02-10", "11:30:00")
    examples.commit("j.lindqvist", DEV_PATH, reported, "excursion reported")
    examples.on("2026-02-11")
    examples.commit(
        "m.okafor",
        DEV_PATH,
        reported | {"classification": final_dev["classification"]},
        "classified",
    )
    out = examples.advance("m.okafor", DEV, "classified")
    assert "reported -> classified, signed 'classified'" in out
    investigation = {"due": final_dev["investigation"]["due"]}
    staged = reported | {
        "state": "classified",
        "classification": final_dev["classification"],
        "investigation": investigation,
    }
    examples.commit("m.okafor", DEV_PATH, staged, "investigation due date set")
    examples.advance("m.okafor", DEV, "investigation")

    # The CAPA is raised from the deviation and moves through its plan.
    final_capa = _example(CAPA_PATH)
    initiated = _only(final_capa, "risk", "root_cause", "actions", "effectiveness", "closed")
    initiated["state"] = "initiated"
    examples.on("2026-02-20")
    examples.commit("j.lindqvist", CAPA_PATH, initiated, "CAPA raised from DEV-2026-0001")
    examples.on("2026-02-21")
    examples.commit("j.lindqvist", CAPA_PATH, initiated | {"risk": final_capa["risk"]}, "risk")
    examples.advance("m.okafor", CAPA, "root-cause")
    open_actions = [
        _only(action, "completed", "evidence") | {"status": "open"}
        for action in final_capa["actions"]
    ]
    plan = initiated | {
        "state": "root-cause",
        "risk": final_capa["risk"],
        "root_cause": final_capa["root_cause"],
        "actions": open_actions,
        "effectiveness": {k: final_capa["effectiveness"][k] for k in ("criteria", "due")},
    }
    examples.on("2026-02-25")
    examples.commit("j.lindqvist", CAPA_PATH, plan, "root cause and action plan")
    examples.advance("l.santos", CAPA, "action-plan")
    # The deviation's investigation is complete and its CAPA decision links the CAPA.
    examples.on("2026-03-02")
    decided = staged | {
        "state": "investigation",
        "investigation": final_dev["investigation"],
        "capa_decision": final_dev["capa_decision"],
        "capa": final_dev["capa"],
    }
    examples.commit("j.lindqvist", DEV_PATH, decided, "investigation report")
    examples.on("2026-03-03")
    examples.advance("a.weber", CAPA, "implementation")
    examples.advance("a.weber", DEV, "capa-decided")
    examples.on("2026-03-10")
    examples.advance("a.weber", DEV, "closed")

    # Actions are done with evidence; QA reviews; effectiveness is checked; QA closes.
    examples.on("2026-05-22")
    done = plan | {"state": "implementation", "actions": final_capa["actions"]}
    examples.commit("j.lindqvist", CAPA_PATH, done, "all actions done")
    examples.on("2026-05-25")
    examples.advance("m.okafor", CAPA, "effectiveness-check")
    examples.on("2026-08-10")
    checked = done | {"state": "effectiveness-check", "effectiveness": final_capa["effectiveness"]}
    examples.commit("m.okafor", CAPA_PATH, checked, "effectiveness verified")
    examples.on("2026-08-14")
    examples.advance("a.weber", CAPA, "closed")

    # The outcome is exactly the shipped example, with every step signed and checked.
    assert yaml.safe_load((world.repo / CAPA_PATH).read_text()) == final_capa
    assert yaml.safe_load((world.repo / DEV_PATH).read_text()) == final_dev
    report = json.loads(examples.qms(examples["a.weber"], "verify", "--format", "json"))
    assert report["failures"] == 0
    root = world.git("rev-list", "--max-parents=0", "HEAD")
    check = json.loads(
        examples.qms(examples["a.weber"], "check", f"{root}..HEAD", "--format", "json")
    )
    assert [v for v in check["violations"] if v["severity"] == "error"] == []

    status = examples.status("2026-08-14")
    assert (status[CAPA]["state"], status[CAPA]["signed_state"]) == ("closed", "closed")
    assert (status[DEV]["state"], status[DEV]["signed_state"]) == ("closed", "closed")
    assert status[CAPA]["notes"] == [] and status[CAPA]["due"] == []
    assert status["SOP-0005"]["state"] == "effective"  # effective date 2026-05-04
    assert examples.status("2026-05-03")["SOP-0005"]["state"] == "approved"
    midway = examples.status("2026-04-01")
    assert (midway[CAPA]["state"], midway[DEV]["state"]) == ("implementation", "closed")
    assert {d["what"] for d in status[CAPA]["due"]} == set()

    # Reopening needs a reason and brings the CAPA back to its action plan.
    examples.on("2026-09-01")
    out = examples.qms(examples["a.weber"], "advance", CAPA, "--to", "action-plan", ok=False)
    assert "needs a reason" in out
    examples.advance("a.weber", CAPA, "action-plan", reason="recurrence on 2026-08-30")
    reopened = yaml.safe_load((world.repo / CAPA_PATH).read_text())
    assert reopened["state"] == "action-plan" and "closed" not in reopened
    assert reopened["reopen_reason"] == "recurrence on 2026-08-30"
    check = json.loads(
        examples.qms(examples["a.weber"], "check", f"{root}..HEAD", "--format", "json")
    )
    assert [v for v in check["violations"] if v["severity"] == "error"] == []
