"""`qms inbox` on the demo (issue 22, "Done when": `qms inbox` lists exactly what waits for each
demo person), checked against an independent derivation (a second engineer's tests).

What should wait for each person of the demo's qms.yaml, on the story's day, is worked out here
from other outputs only, as README and docs/cli.md describe the inbox:

- signatures: from `qms status --format json` (documents in draft or in review and the
  signatures their working version holds; records and their states), the signature policy and
  lifecycles in force at HEAD (qms.yaml, over the kinds' declarations in kinds/), and who wrote
  each version since its last approval (`qms log RECORD --format json`, the proven author);
- due items: `qms due --format json`, the items whose owner is the person;
- training: `qms training --person P --format json`, the rows not yet trained;
- branches: `git for-each-ref` and `git log HEAD..REF`, the branches not merged into HEAD.

Then `qms inbox --person P --format json` must list exactly these, for every person; those with
nothing waiting get an empty inbox. The derivation never reads gitqms's code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
import yaml

from gitqms.demo.story import STORY_DAY
from toolkit.cli import qms_cli
from toolkit.demo import Demo, pristine_demo
from toolkit.process import git

DAY = STORY_DAY.isoformat()
# README, "Electronic signatures": nobody who changed the record since its last approval may
# sign `reviewed` or `approved` for it (set `independent:` per meaning to change which meanings).
INDEPENDENT_BY_DEFAULT = ("reviewed", "approved")
# README, `qms inbox`: records whose state allows a move their roles may sign (not reopening or
# cancelling).
NOT_IN_INBOX = ("reopened", "cancelled")
AUTHOR = re.compile(r"signed by the author \(([^)]+)\)")

Signature = tuple[str, str, str]  # (record, branch, meaning or target state)
Due = tuple[str, str, str, bool]  # (record, what, due, overdue)
Training = tuple[str, int, str, str]  # (document, version, due, status)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return pristine_demo(tmp_path_factory)


def json_of(demo: Demo, *args: str, exit_codes: tuple[int, ...] = (0, 1)) -> Any:
    result = qms_cli(demo.repo, *args, "--format", "json", check=False)
    assert result.returncode in exit_codes, (args, result.stdout, result.stderr)
    return json.loads(result.stdout)


def at_head(demo: Demo, path: str) -> Any:
    return yaml.safe_load(git(demo.repo, "show", f"HEAD:{path}"))


# --- the facts, from other outputs --------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    config: dict[str, Any]  # qms.yaml at HEAD
    kinds: dict[str, dict[str, Any]]  # kind name -> its declaration (kinds/*.yaml at HEAD)
    status: dict[str, Any]  # qms status --date DAY
    due: list[dict[str, Any]]  # qms due --date DAY
    training: dict[str, list[dict[str, Any]]]  # person -> qms training --person P rows
    unmerged: dict[str, int]  # branch (local or remote-tracking) -> commits not in HEAD
    head_branch: str

    def people(self) -> list[dict[str, Any]]:
        return list(self.config["people"])

    def lifecycle(self, kind: str) -> dict[str, Any]:
        """qms.yaml's `lifecycles: KIND` over the kind's own declaration (README: qms.yaml's
        lifecycles override the declaration's `lifecycle`; defaults apply where it is silent)."""
        own = dict(self.kinds[kind].get("lifecycle") or {})
        own.update(self.config.get("lifecycles", {}).get(kind) or {})
        return own

    def policy(self, kind: str, meaning: str) -> dict[str, Any]:
        return dict(self.config["signatures"].get(kind, {}).get(meaning) or {})


def training_rows(demo: Demo, person: str) -> list[dict[str, Any]]:
    """`qms training --person P` rows on DAY; none for someone not in the matrix that day (who
    left before it: the command says so and exits 2)."""
    args = ("training", "--person", person, "--date", DAY, "--format", "json")
    result = qms_cli(demo.repo, *args, check=False)
    if result.returncode == 2 and "is not a person in the training matrix" in result.stderr:
        return []
    assert result.returncode in (0, 1), (person, result.stdout, result.stderr)
    return list(json.loads(result.stdout)["rows"])


@pytest.fixture(scope="module")
def facts(demo: Demo) -> Facts:
    names = git(demo.repo, "ls-tree", "--name-only", "HEAD", "kinds/").splitlines()
    kinds = {}
    for name in names:
        declared = at_head(demo, name)
        kinds[declared["name"]] = declared
    config = at_head(demo, "qms.yaml")
    training = {p["id"]: training_rows(demo, p["id"]) for p in config["people"]}
    refs = git(
        demo.repo, "for-each-ref", "--format=%(refname:short)", "refs/heads", "refs/remotes"
    ).splitlines()
    unmerged = {}
    for ref in refs:
        ahead = git(demo.repo, "log", "--oneline", f"HEAD..{ref}").splitlines()
        if ahead:
            unmerged[ref] = len(ahead)
    return Facts(
        config=config,
        kinds=kinds,
        status=json_of(demo, "status", "--date", DAY),
        due=json_of(demo, "due", "--date", DAY)["items"],
        training=training,
        unmerged=unmerged,
        head_branch=git(demo.repo, "branch", "--show-current"),
    )


@pytest.fixture(scope="module")
def inboxes(demo: Demo, facts: Facts) -> dict[str, tuple[int, dict[str, Any]]]:
    """Every person's `qms inbox --person P --date DAY --format json`, with its exit code."""
    found = {}
    for person in facts.people():
        result = qms_cli(
            demo.repo,
            *("inbox", "--person", person["id"], "--date", DAY, "--format", "json"),
            check=False,
        )
        assert result.returncode in (0, 1), (person["id"], result.stdout, result.stderr)
        found[person["id"]] = (result.returncode, json.loads(result.stdout))
    return found


@pytest.fixture(scope="module")
def logs(demo: Demo, facts: Facts) -> dict[str, list[dict[str, Any]]]:
    """`qms log RECORD --format json` of every record `qms status` lists."""
    return {
        r["id"]: json_of(demo, "log", r["id"], exit_codes=(0,))["entries"]
        for r in facts.status["records"]
    }


# --- the derivation -------------------------------------------------------------------------------


def independent(facts: Facts, kind: str, meaning: str) -> bool:
    rule = facts.policy(kind, meaning).get("independent")
    return bool(rule) if rule is not None else meaning in INDEPENDENT_BY_DEFAULT


def authors_since_approval(entries: Sequence[Mapping[str, Any]]) -> set[str]:
    """The proven authors of the changes after the record's last valid 'approved' signature
    made on main (a merge only brings changes; the author is who signed the change). An
    approval made on a pull-request branch (the entry after it is that branch's merge) clears
    no author: at the merge the authors of both sides are joined, the stricter reading, since
    whether that approval still counts is judged only there."""
    authors: set[str] = set()
    for number, entry in enumerate(entries):
        after = entries[number + 1]["action"] if number + 1 < len(entries) else ""
        on_a_branch = after.startswith("merged from branch")
        if entry["action"] == "approved" and entry["verdict"].startswith("valid"):
            if not on_a_branch:
                authors = set()
        elif entry["action"] in ("created", "changed"):
            found = AUTHOR.search(entry["verdict"])
            authors.add(found.group(1) if found else f"unproven <{entry['email']}>")
    return authors


def document_waits(
    facts: Facts, record: Mapping[str, Any], person: Mapping[str, Any], authors: set[str]
) -> list[str]:
    """The next approval meaning of a draft or in-review version, if `person` may sign it."""
    working = record.get("working")
    if not working or working["status"] not in ("draft", "in review"):
        return []
    kind = record["kind"]
    for meaning in facts.lifecycle(kind).get("approval", []):
        policy = facts.policy(kind, meaning)
        signers = {s["person"] for s in working["signatures"] if s["meaning"] == meaning}
        if len(signers) >= int(policy.get("count", 1)):
            continue  # this meaning is complete; the next one waits
        if not set(person.get("roles", [])) & set(policy.get("roles", [])):
            return []
        if person["id"] in signers:
            return []
        if independent(facts, kind, meaning) and person["id"] in authors:
            return []
        return [meaning]
    return []


def condition_holds(record: Mapping[str, Any], requirement: str) -> bool:
    """A transition's `requires: [field=value]` as the file at HEAD holds it; a plain field
    (a reason to give) is given with the move, so it does not hold a move back."""
    field, equals, value = requirement.partition("=")
    if not equals:
        return True
    current: Any = record
    for part in field.split("."):
        current = current.get(part) if isinstance(current, Mapping) else None
    return str(current) == value


def record_waits(
    facts: Facts,
    demo: Demo,
    record: Mapping[str, Any],
    person: Mapping[str, Any],
    authors: set[str],
) -> list[str]:
    """The target states of the moves `person` may sign from the record's state."""
    kind = record["kind"]
    lifecycle = facts.lifecycle(kind)
    if record["state"] in lifecycle.get("closed", []):
        return []
    declaration = facts.kinds[kind]
    data = at_head(demo, f"{declaration['folder']}/{record['id']}.{declaration['file']}")
    targets = []
    for move in lifecycle.get("transitions", []):
        sources = move["from"] if isinstance(move["from"], list) else [move["from"]]
        meaning = move["meaning"]
        if record["state"] not in sources or meaning in NOT_IN_INBOX:
            continue
        if not all(condition_holds(data, r) for r in move.get("requires", [])):
            continue
        if not set(person.get("roles", [])) & set(facts.policy(kind, meaning).get("roles", [])):
            continue
        if independent(facts, kind, meaning) and person["id"] in authors:
            continue
        targets.append(move["to"])
    return targets


def derived_signatures(
    facts: Facts, demo: Demo, logs: Mapping[str, list[dict[str, Any]]], person: Mapping[str, Any]
) -> set[Signature]:
    if person.get("left"):
        return set()
    found: set[Signature] = set()
    for record in facts.status["records"]:
        kind = record["kind"]
        authors = authors_since_approval(logs[record["id"]])
        if facts.kinds[kind]["family"] == "document":
            waits = document_waits(facts, record, person, authors)
        else:
            waits = record_waits(facts, demo, record, person, authors)
        found |= {(record["id"], facts.head_branch, what) for what in waits}
    return found


def listed_signatures(inbox: Mapping[str, Any]) -> set[Signature]:
    return {
        (s["record"], s["branch"], s.get("target") or s["meaning"]) for s in inbox["signatures"]
    }


def derived_due(facts: Facts, person: str) -> set[Due]:
    return {
        (i["record"], i["what"], i["due"], i["overdue"])
        for i in facts.due
        if i["owner"] == person and not i["what"].startswith("training of ")
    }


def derived_training(facts: Facts, person: str) -> set[Training]:
    return {
        (r["document"], r["version"], r["due"], r["status"])
        for r in facts.training[person]
        if r["status"] != "trained"
    }


# --- the tests ----------------------------------------------------------------------------------


def test_the_inbox_is_asked_about_every_person_of_the_demo(
    facts: Facts, inboxes: dict[str, tuple[int, dict[str, Any]]]
) -> None:
    people = [p["id"] for p in facts.people()]
    assert len(people) >= 10 and len(set(people)) == len(people), people
    assert sorted(inboxes) == sorted(people)
    for person, (_, inbox) in inboxes.items():
        assert (inbox["person"], inbox["date"]) == (person, DAY), inbox


def test_no_branch_is_left_unmerged_so_everything_waits_on_main(
    facts: Facts, inboxes: dict[str, tuple[int, dict[str, Any]]]
) -> None:
    """README: every change in the demo arrives on main through a merge; so no branch holds a
    commit HEAD lacks, and every signature waiting is on main."""
    assert facts.unmerged == {}, facts.unmerged
    assert facts.head_branch == "main"
    branches = {s["branch"] for _, inbox in inboxes.values() for s in inbox["signatures"]}
    assert branches <= {"main"}, branches


def test_the_signatures_waiting_are_exactly_those_the_status_and_policy_allow(
    demo: Demo,
    facts: Facts,
    logs: dict[str, list[dict[str, Any]]],
    inboxes: dict[str, tuple[int, dict[str, Any]]],
) -> None:
    expected = {p["id"]: derived_signatures(facts, demo, logs, p) for p in facts.people()}
    listed = {person: listed_signatures(inbox) for person, (_, inbox) in inboxes.items()}
    differences = {
        person: {
            "listed, not derived": sorted(listed[person] - expected[person]),
            "derived, not listed": sorted(expected[person] - listed[person]),
        }
        for person in expected
        if listed[person] != expected[person]
    }
    assert differences == {}, json.dumps(differences, indent=1)
    # The demo's story: its open records and the two documents under review wait for someone;
    # the author of the new draft SOP-0013 holds a reviewing role but is not asked to review it.
    everything = set().union(*expected.values())
    assert {r for r, _, _ in everything} >= {"SOP-0001", "SOP-0013", "DEV-2026-0008"}, everything
    assert ("SOP-0001", "main", "approved") in expected["a.weber"]
    assert ("SOP-0013", "main", "reviewed") in expected["m.okafor"]
    assert not [s for s in expected["s.murphy"] if s[0] == "SOP-0013"]


def test_each_persons_due_items_are_those_qms_due_gives_them(
    facts: Facts, inboxes: dict[str, tuple[int, dict[str, Any]]]
) -> None:
    listed = {
        person: {(i["record"], i["what"], i["due"], i["overdue"]) for i in inbox["due"]}
        for person, (_, inbox) in inboxes.items()
    }
    expected = {p["id"]: derived_due(facts, p["id"]) for p in facts.people()}
    assert listed == expected
    # `qms due` names no owner outside the registry: every item is in someone's inbox.
    owners = {i["owner"] for i in facts.due}
    assert owners <= set(expected), owners - set(expected)
    # The story's one overdue CAPA action is in its owner's inbox.
    overdue = {(p, i) for p, items in listed.items() for i in items if i[3]}
    assert overdue == {("j.lindqvist", ("CAPA-2026-0002", "action A4", "2026-10-15", True))}


def test_each_persons_training_is_what_qms_training_says_is_not_yet_done(
    facts: Facts, inboxes: dict[str, tuple[int, dict[str, Any]]]
) -> None:
    listed = {
        person: {(r["document"], r["version"], r["due"], r["status"]) for r in inbox["training"]}
        for person, (_, inbox) in inboxes.items()
    }
    expected = {p["id"]: derived_training(facts, p["id"]) for p in facts.people()}
    assert listed == expected
    # and `qms due` names the same training, person by person
    in_due = {
        (i["owner"], i["record"], i["due"])
        for i in facts.due
        if i["what"].startswith("training of ")
    }
    from_matrix = {(p, doc, due) for p, rows in expected.items() for doc, _, due, _ in rows}
    assert in_due == from_matrix


def test_people_with_nothing_waiting_get_an_empty_inbox_and_exit_0(
    demo: Demo,
    facts: Facts,
    logs: dict[str, list[dict[str, Any]]],
    inboxes: dict[str, tuple[int, dict[str, Any]]],
) -> None:
    idle = [
        p["id"]
        for p in facts.people()
        if not derived_signatures(facts, demo, logs, p)
        and not derived_due(facts, p["id"])
        and not derived_training(facts, p["id"])
    ]
    assert idle, "the demo has people with nothing waiting (those without roles, the leaver)"
    for person in idle:
        code, inbox = inboxes[person]
        assert (inbox["signatures"], inbox["due"], inbox["training"]) == ([], [], []), inbox
        assert (code, inbox["overdue"]) == (0, 0), (person, code, inbox)
    left = [p["id"] for p in facts.people() if p.get("left")]
    assert left and set(left) <= set(idle), (left, idle)


def test_the_exit_code_is_1_exactly_for_those_with_something_overdue(
    facts: Facts, inboxes: dict[str, tuple[int, dict[str, Any]]]
) -> None:
    for person, (code, inbox) in inboxes.items():
        late = [f"{i[0]} {i[1]}" for i in derived_due(facts, person) if i[3]]
        late += [f"{r[0]} v{r[1]}" for r in derived_training(facts, person) if r[3] == "overdue"]
        assert inbox["overdue"] == len(late), (person, inbox, late)
        assert code == (1 if late else 0), (person, code)
    assert {p for p, (code, _) in inboxes.items() if code == 1} == {"j.lindqvist", "p.rossi"}


def test_asked_again_about_the_story_day_the_inbox_answers_the_same(
    demo: Demo, inboxes: dict[str, tuple[int, dict[str, Any]]]
) -> None:
    """The inbox is read from committed history for the day asked, so asking again gives the
    same answer, and the story's day is the day `qms demo` reported."""
    for person in ("a.weber", "p.rossi"):
        again = json_of(demo, "inbox", "--person", person, "--date", DAY)
        assert again == inboxes[person][1]
    assert date.fromisoformat(DAY) == demo.today
