"""CAPA and deviation lifecycles from real signed history, tested from the outside.

`qms advance` takes records along every legal transition, signed by the role the policy
names, and refuses every illegal one without touching the repository; `qms check` reports
each violation of a commit range once, with its rule, commit and fix; `qms due` lists what is
due and exits 1 when anything is overdue.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from click.testing import Result

from toolkit.cli import qms
from toolkit.people import Person
from toolkit.team import Team
from toolkit.world import refused

CAPA = "CAPA-2026-0001"
CAPA_FILE = f"capa/{CAPA}.yaml"
DEV = "DEV-2026-0001"
DEV_FILE = f"deviations/{DEV}.yaml"


# -- reading and writing records as a person would --------------------------------------------


def capa_file(number: int) -> str:
    return f"capa/CAPA-2026-{number:04d}.yaml"


def put(text: str, key: str, block: str | None) -> str:
    """`text` with the top-level field `key` (and its indented lines) replaced by `block`,
    appended when absent, removed when `block` is None."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith(f"{key}:")), None)
    new = [] if block is None else [block if block.endswith("\n") else block + "\n"]
    if start is None:
        return "".join(lines + new)
    end = start + 1
    while end < len(lines) and (lines[end].startswith((" ", "-")) or not lines[end].strip()):
        end += 1
    return "".join(lines[:start] + new + lines[end:])


def fill(text: str, **fields: str | None) -> str:
    for key, block in fields.items():
        text = put(text, key, block)
    return text


def read(team: Team, path: str) -> str:
    return (team.world.repo / path).read_text()


def edit(team: Team, person: Person, path: str, reason: str, **fields: str | None) -> str:
    """A change by `person`, signed with their key, with a Reason trailer; returns the commit."""
    return team.world.commit_file(person, path, fill(read(team, path), **fields), reason)


def run(team: Team, person: Person, *args: str) -> Result:
    """A qms command as `person`, with its exit code."""
    with team.world.acting(person):
        return qms(*args, repo=team.world.repo)


def advance(team: Team, person: Person, record: str, to: str, reason: str | None = None) -> str:
    args = ["advance", record, "--to", to] + (["--reason", reason] if reason else [])
    out = team.qms(person, *args)
    commit = team.world.head()
    assert f"-> {to}, signed" in out and commit[:12] in out, out
    return commit


def trailers(team: Team, commit: str) -> list[tuple[str, str]]:
    out = team.world.git("log", "-1", "--format=%(trailers:only,unfold)", commit)
    return [(k, v.strip()) for k, _, v in (line.partition(":") for line in out.splitlines())]


def diff_lines(team: Team, commit: str) -> tuple[list[str], list[str]]:
    """The lines a commit removed and added, over all files."""
    out = team.world.git("diff", "--unified=0", f"{commit}^", commit)
    removed = [line[1:] for line in out.splitlines() if line.startswith("-")]
    added = [line[1:] for line in out.splitlines() if line.startswith("+")]
    return (
        [line for line in removed if not line.startswith("-- ")],
        [line for line in added if not line.startswith("++ ")],
    )


def sha256(team: Team, path: str, commit: str = "HEAD") -> str:
    return "sha256:" + hashlib.sha256(team.world.content(path, commit)).hexdigest()


def findings(report: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    return [(v["commit"], v["record"], v["rule"]) for v in report["violations"]]


def due_items(team: Team, day: str, within: int) -> tuple[int, list[dict[str, Any]]]:
    result = run(
        team, team.admin, "due", "--date", day, "--within", str(within), "--format", "json"
    )
    assert result.exit_code in (0, 1), result.output + result.stderr
    return result.exit_code, json.loads(result.output)["items"]


# -- CAPA content, state by state -------------------------------------------------------------

RISK = """risk:
  severity: 3
  occurrence: 2
  detectability: 2
  rationale: "A warm shipper could be released before the logger is read."
"""
ROOT_CAUSE = """root_cause:
  method: 5-whys
  category: process
  description: "The receipt checklist does not ask for the logger read-out."
"""


def actions(a1: str = "open", a2: str = "open") -> str:
    text = "actions:\n"
    for number, status, due in (("A1", a1, "2026-04-30"), ("A2", a2, "2026-05-15")):
        text += (
            f"  - id: {number}\n"
            f"    type: {'corrective' if number == 'A1' else 'preventive'}\n"
            f'    description: "Action {number}: add the logger read-out to the checklist."\n'
            "    owner: l.santos\n"
            f'    due: "{due}"\n'
            f"    status: {status}\n"
        )
        if status == "done":
            text += '    completed: "2026-04-20"\n    evidence: "Checklist v3 in use."\n'
        if status == "cancelled":
            text += '    evidence: "Covered by A1; no separate action needed."\n'
    return text


def effectiveness(verdict: str | None = None, checked_on: str = "2026-07-20") -> str:
    text = (
        "effectiveness:\n"
        '  criteria: "No shipper released without a logger read-out for 3 months."\n'
        '  due: "2026-07-31"\n'
    )
    if verdict:
        text += (
            '  result: "All 41 shippers received since May had a logger read-out."\n'
            f"  verdict: {verdict}\n"
            f'  checked_on: "{checked_on}"\n'
            "  checked_by: m.okafor\n"
        )
    return text


def new_capa(team: Team, day: str, title: str = "Logger read-out missing at receipt") -> str:
    """`qms new capa` by the author, dated `day`, filled in and committed; returns its path."""
    team.on(day)
    out = team.qms(team.author, "new", "capa", "--title", title)
    found = re.search(r"capa/CAPA-\d{4}-\d{4}\.yaml", out)
    assert found is not None, out
    path = found[0]
    text = read(team, path)
    text = text.replace('"FILL IN: report or reference number"', '"Internal audit IA-2026-03"')
    text = fill(
        text,
        opened=f'opened: "{day}"',
        due='due: "2026-09-30"',
        problem='problem: "Two shippers were released before their logger was read."',
    )
    team.world.commit_file(team.author, path, text, "new CAPA from internal audit")
    return path


def assert_signed_move(
    team: Team,
    commit: str,
    person: Person,
    record: str,
    path: str,
    state: str,
    meaning: str,
    reason: str,
    also: tuple[str, ...] = (),
) -> None:
    """The commit is `person`'s signature of `meaning` on the record's new state, with the
    trailers of a signature, and it changes nothing but the state (and `also`)."""
    assert trailers(team, commit) == [
        ("QMS-Record", record),
        ("QMS-Version", state),
        ("QMS-Content", sha256(team, path, commit)),
        ("QMS-Meaning", meaning),
        ("Reason", reason),
    ]
    assert team.world.git("log", "-1", "--format=%ce", commit) == person.email
    raw = team.world.git("cat-file", "commit", commit)
    assert "\ngpgsig -----BEGIN SSH SIGNATURE-----" in raw, "not a signed commit"
    assert team.world.git("diff", "--name-only", f"{commit}^", commit) == path
    removed, added = diff_lines(team, commit)
    changed = {line.split(":")[0] for line in removed + added}
    assert changed <= {"state", "closed", "reopen_reason", "cancel_reason"}, (removed, added)
    assert f"state: {state}" in added
    assert set(also) <= changed


def test_a_capa_goes_through_every_legal_transition_signed_by_the_right_role(team: Team) -> None:
    path = new_capa(team, "2026-02-02")
    start = team.world.head()
    assert "state: initiated" in read(team, path)
    admin, officer, author = team.admin, team.officer, team.author
    moves: list[tuple[str, Person, str, str, str]] = []  # commit, signer, state, meaning, reason

    def move(day: str, person: Person, to: str, meaning: str, reason: str | None = None) -> str:
        source = re.search(r"(?m)^state: (.*)$", read(team, path))
        assert source is not None
        team.on(day)
        commit = advance(team, person, CAPA, to, reason)
        said = reason or f"{meaning}: moved from {source[1]} to {to}"
        moves.append((commit, person, to, meaning, said))
        return commit

    team.on("2026-02-03")
    edit(team, author, path, "risk assessed", risk=RISK)
    move("2026-02-04", officer, "root-cause", "analysis-started")
    team.on("2026-02-05")
    edit(
        team,
        author,
        path,
        "root cause and plan",
        root_cause=ROOT_CAUSE,
        actions=actions(),
        effectiveness=effectiveness(),
    )
    move("2026-02-06", officer, "action-plan", "plan-proposed")
    move("2026-02-07", admin, "root-cause", "returned", "ask the couriers too")
    team.on("2026-02-08")
    edit(team, author, path, "couriers asked", root_cause=ROOT_CAUSE.replace("checklist", "form"))
    move("2026-02-09", officer, "action-plan", "plan-proposed")
    move("2026-02-10", admin, "implementation", "approved")
    team.on("2026-05-16")
    edit(team, author, path, "actions finished", actions=actions("done", "cancelled"))
    move("2026-05-17", officer, "effectiveness-check", "reviewed")
    team.on("2026-07-21")
    edit(team, author, path, "not effective", effectiveness=effectiveness("not-effective"))
    move("2026-07-22", officer, "action-plan", "effectiveness-verified")
    move("2026-07-23", admin, "implementation", "approved", "same plan, run again")
    move("2026-07-24", officer, "effectiveness-check", "reviewed", "second round")
    team.on("2026-08-03")
    edit(team, author, path, "effective", effectiveness=effectiveness("effective", "2026-08-03"))
    closing = move("2026-08-04", admin, "closed", "closed")
    assert 'closed: "2026-08-04"' in read(team, path)
    reopening = move("2026-09-02", admin, "action-plan", "reopened", "Recurrence in August")
    text = read(team, path)
    assert 'reopen_reason: "Recurrence in August"' in text and "\nclosed:" not in text
    cancelling = move("2026-09-03", admin, "cancelled", "cancelled", "Merged into CAPA-2026-0002")
    assert 'cancel_reason: "Merged into CAPA-2026-0002"' in read(team, path)

    also = {closing: ("closed",), reopening: ("closed", "reopen_reason")}
    also[cancelling] = ("cancel_reason",)
    for commit, person, state, meaning, reason in moves:
        assert_signed_move(
            team, commit, person, CAPA, path, state, meaning, reason, also.get(commit, ())
        )
    assert team.world.git("status", "--porcelain") == ""  # the work tree follows the branch
    assert "Traceback" not in team.qms(admin, "verify")
    report = team.check(f"{start}..HEAD")
    assert (report["ok"], report["violations"], report["commits"]) == (True, [], len(moves) + 6)
    whole = team.check("HEAD")
    assert whole["ok"] is True and whole["violations"] == []
    record = team.status("2026-09-03", CAPA)[CAPA]
    assert (record["state"], record["signed_state"], record["notes"]) == (
        "cancelled",
        "cancelled",
        [],
    )
    assert record["due"] == []
    assert team.status("2026-05-20", CAPA)[CAPA]["signed_state"] == "effectiveness-check"


def refuse(team: Team, person: Person, record: str, to: str, *extra: str) -> str:
    """`qms advance` that must be refused, leaving HEAD, index and work tree as they were."""
    return refused(team.world, person, "advance", record, "--to", to, *extra)


def test_illegal_capa_transitions_are_refused_and_change_nothing(team: Team) -> None:
    path = new_capa(team, "2026-02-02")
    admin, officer, author = team.admin, team.officer, team.author
    team.on("2026-02-03")
    # A move the lifecycle does not have; a state that does not exist; staying put.
    out = refuse(team, admin, CAPA, "closed")
    assert "does not allow a move to 'closed'" in out
    assert "may move to: root-cause, cancelled" in out
    assert "does not allow" in refuse(team, admin, CAPA, "done")
    assert "does not allow" in refuse(team, admin, CAPA, "initiated")
    # The fields the new state needs: a risk assessment before root-cause analysis.
    out = refuse(team, officer, CAPA, "root-cause")
    assert "missing field 'risk'" in out and "nothing was changed" in out
    edit(team, author, path, "risk assessed", risk=RISK)
    # A person without the role the meaning needs.
    out = refuse(team, author, CAPA, "root-cause")
    assert "'analysis-started' needs one of the roles qa-manager, qa-officer" in out
    # What would be signed must be what is committed.
    (team.world.repo / path).write_text(read(team, path) + "related_sops: [SOP-0001]\n")
    assert "uncommitted changes" in refuse(team, officer, CAPA, "root-cause")
    team.world.git("checkout", "--", path)
    advance(team, officer, CAPA, "root-cause")
    assert "missing field 'root_cause'" in refuse(team, officer, CAPA, "action-plan")
    team.on("2026-02-05")
    plan = {"root_cause": ROOT_CAUSE, "actions": actions(), "effectiveness": effectiveness()}
    edit(team, author, path, "plan", **plan)
    advance(team, officer, CAPA, "action-plan")
    team.on("2026-02-06")
    # Only a QA manager approves the plan.
    out = refuse(team, officer, CAPA, "implementation")
    assert "'approved' needs one of the roles qa-manager" in out
    assert "does not allow" in refuse(team, admin, CAPA, "effectiveness-check")
    advance(team, admin, CAPA, "implementation")
    # Every action done (with evidence) or cancelled before the effectiveness check.
    team.on("2026-04-21")
    edit(team, author, path, "A1 done", actions=actions("done", "in-progress"))
    out = refuse(team, officer, CAPA, "effectiveness-check")
    assert "actions[1].status" in out and "actions[0]" not in out
    no_evidence = actions("done", "done").replace('    evidence: "Checklist v3 in use."\n', "")
    invalid = edit(team, author, path, "A2 done", actions=no_evidence)
    out = refuse(team, officer, CAPA, "effectiveness-check")
    assert "missing field 'actions[1].evidence'" in out
    edit(team, author, path, "evidence", actions=actions("done", "done"))
    advance(team, officer, CAPA, "effectiveness-check")
    # Closed only on an effective verdict, with its result, date and checker.
    team.on("2026-07-21")
    out = refuse(team, admin, CAPA, "closed")
    assert "missing field 'effectiveness.verdict'" in out
    out = refuse(team, officer, CAPA, "action-plan")  # back to the plan needs the verdict
    assert "'action-plan' needs 'effectiveness.verdict=not-effective'" in out
    edit(team, author, path, "checked", effectiveness=effectiveness("not-effective"))
    out = refuse(team, admin, CAPA, "closed")
    assert "a CAPA closes only on an 'effective' verdict" in out
    edit(team, author, path, "checked again", effectiveness=effectiveness("effective"))
    out = refuse(team, officer, CAPA, "closed")
    assert "'closed' needs one of the roles qa-manager" in out
    team.on("2026-07-22")
    closing = advance(team, admin, CAPA, "closed")
    # Reopened by hand: not signed, and without the reason reopening needs.
    team.world.git("checkout", "-q", "-b", "by-hand")
    by_hand = edit(team, author, path, "reopen", state="state: action-plan")
    assert findings(team.check(f"{closing}..HEAD", ok=False)) == [
        (by_hand, CAPA, "state.signature"),
        (by_hand, CAPA, "state.requires"),
    ]
    team.world.git("checkout", "-q", "main")
    team.world.git("branch", "-q", "-D", "by-hand")
    # Reopening needs a reason (a blank one is none) and a QA manager.
    team.on("2026-09-01")
    for reason in ((), ("--reason", "   ")):
        out = refuse(team, admin, CAPA, "action-plan", *reason)
        assert "needs a reason" in out and "--reason" in out
    out = refuse(team, officer, CAPA, "action-plan", "--reason", "recurrence")
    assert "'reopened' needs one of the roles qa-manager" in out
    assert "does not allow" in refuse(team, admin, CAPA, "implementation", "--reason", "x")
    # A closed CAPA is not cancelled; cancelling an open one needs a reason; it is final.
    assert "may move to: action-plan" in refuse(team, admin, CAPA, "cancelled", "--reason", "x")
    advance(team, admin, CAPA, "action-plan", "recurrence in August")
    assert "needs a reason" in refuse(team, admin, CAPA, "cancelled")
    advance(team, admin, CAPA, "cancelled", "merged into another CAPA")
    for target in ("action-plan", "closed", "initiated"):
        out = refuse(team, admin, CAPA, target, "--reason", "undo")
        assert "none (it is final)" in out
    # Not a CAPA or deviation, or not there at all.
    assert "not a CAPA, deviation, change control or training session" in refused(
        team.world, admin, "advance", "SOP-0001", "--to", "x"
    )
    assert "not committed" in refuse(team, admin, "CAPA-2026-0042", "closed")
    # The only violation of the whole history is the invalid record committed by hand.
    assert findings(team.check("HEAD", ok=False)) == [(invalid, CAPA, "record.invalid")] * 2


def test_the_author_of_a_capa_plan_cannot_approve_it(team: Team) -> None:
    path = new_capa(team, "2026-02-02")
    team.on("2026-02-03")
    edit(team, team.author, path, "risk", risk=RISK)
    advance(team, team.officer, CAPA, "root-cause")
    plan = {"root_cause": ROOT_CAUSE, "actions": actions(), "effectiveness": effectiveness()}
    edit(team, team.admin, path, "plan written by the QA manager", **plan)
    advance(team, team.officer, CAPA, "action-plan")
    out = refuse(team, team.admin, CAPA, "implementation")
    assert "a.weber changed this version" in out and "separation of duties" in out
    assert team.check("HEAD")["violations"] == []


# -- deviations ---------------------------------------------------------------------------------

DEVIATION = {
    "occurred_at": 'occurred_at: "2026-03-01T22:00:00Z"',
    "discovered_at": 'discovered_at: "2026-03-02T07:30:00Z"',
    "reported_at": 'reported_at: "2026-03-02T09:00:00Z"',
    "patient_involved": "patient_involved: true",
    "description": 'description: "CD3+ count of the CAR-T bag below specification."',
    "immediate_actions": 'immediate_actions: "Bag quarantined; treating physician informed."',
    "product": (
        'product:\n  name: "Tisagenlecleucel"\n  batch: "TSG-26-0117"\n  coi: "COI-KLN-004711"\n'
    ),
}
CLASSIFICATION = """classification:
  level: critical
  severity: 5
  occurrence: 2
  detectability: 3
  rationale: "Out-of-specification product given to a patient."
  classified_on: "2026-03-03"
"""


def oos(administered: bool, accepted: bool = False) -> str:
    text = (
        "oos:\n"
        '  parameter: "Viable CD3+ cells"\n'
        '  specification: ">= 80 %"\n'
        '  result: "71 %"\n'
        f"  administered: {'true' if administered else 'false'}\n"
    )
    if accepted:
        text += (
            '  physician_accepted_at: "2026-03-02T12:00:00Z"\n'
            '  accepted_by: "Treating haematologist, Dr. H. Berg"\n'
            '  sponsor_notified_at: "2026-03-03T08:00:00Z"\n'
        )
    return text


def investigation(due: str = "2026-04-01", done: bool = False, extension: str = "") -> str:
    text = f'investigation:\n  due: "{due}"\n'
    if done:
        text += (
            "  method: fishbone\n"
            '  root_cause: "Thaw ramp of the shipper was too slow."\n'
            '  product_impact: "One bag affected; no other batch."\n'
            '  patient_impact: "No adverse reaction within 28 days."\n'
        )
    if extension:
        text += (
            "  extension:\n"
            '    due: "2026-04-30"\n'
            '    justification: "The manufacturer needs four weeks for its own analysis."\n'
            f"    approved_by: {extension}\n"
        )
    return text


def new_deviation(team: Team, day: str, kind: str = "oos") -> str:
    team.on(day)
    out = team.qms(team.author, "new", "deviation", "--type", kind, "--title", "CAR-T bag OOS")
    found = re.search(r"deviations/DEV-\d{4}-\d{4}\.yaml", out)
    assert found is not None, out
    path = found[0]
    fields = dict(DEVIATION)
    if kind == "oos":
        fields["oos"] = oos(administered=True)
    text = fill(read(team, path), **fields)
    team.world.commit_file(team.author, path, text, "reported by the ward pharmacist")
    return path


def test_a_deviation_is_classified_investigated_decided_and_closed(team: Team) -> None:
    path = new_deviation(team, "2026-03-02")
    start = team.world.head()
    admin, officer, author = team.admin, team.officer, team.author
    team.on("2026-03-03")
    out = refuse(team, officer, DEV, "classified")
    assert "missing field 'classification'" in out
    assert "does not allow" in refuse(team, admin, DEV, "investigation")
    edit(team, author, path, "classified", classification=CLASSIFICATION)
    assert "'classified' needs one of the roles" in refuse(team, author, DEV, "classified")
    classified = advance(team, officer, DEV, "classified")
    assert_signed_move(
        team,
        classified,
        officer,
        DEV,
        path,
        "classified",
        "classified",
        "classified: moved from reported to classified",
    )
    # Given to the patient out of specification: the physician's acceptance and the sponsor's
    # notification must be recorded before the investigation opens.
    team.on("2026-03-04")
    edit(team, author, path, "investigation due", investigation=investigation())
    out = refuse(team, officer, DEV, "investigation")
    for field in ("physician_accepted_at", "accepted_by", "sponsor_notified_at"):
        assert f"missing field 'oos.{field}'" in out
    edit(team, author, path, "physician's acceptance", oos=oos(administered=True, accepted=True))
    advance(team, officer, DEV, "investigation")
    # Investigated; the CAPA decision says a CAPA is needed, and a critical one needs it linked.
    team.on("2026-03-25")
    done = {"investigation": investigation(done=True)}
    done["capa_decision"] = 'capa_decision:\n  required: false\n  rationale: "One-off."\n'
    edit(team, author, path, "investigated", **done)
    out = refuse(team, admin, DEV, "capa-decided")
    assert "a critical deviation needs a linked CAPA" in out
    decision = 'capa_decision:\n  required: true\n  rationale: "A process gap."\n'
    edit(team, author, path, "a CAPA is needed", capa_decision=decision)
    out = team.qms(author, "new", "capa", "--title", "Thaw ramp", "--ref", DEV)
    capa = fill(read(team, CAPA_FILE), opened='opened: "2026-03-25"', due='due: "2026-09-30"')
    capa = capa.replace('"FILL IN: the problem, its extent and its evidence."', '"Slow thaw."')
    team.world.commit_file(author, CAPA_FILE, capa, "CAPA for the OOS")
    edit(team, author, path, "CAPA linked", capa=f"capa: [{CAPA}]")
    decided = advance(team, admin, DEV, "capa-decided")
    assert trailers(team, decided)[3] == ("QMS-Meaning", "approved")
    team.on("2026-04-20")
    assert "'closed' needs one of the roles qa-manager" in refuse(team, officer, DEV, "closed")
    closed = advance(team, admin, DEV, "closed")
    assert_signed_move(
        team,
        closed,
        admin,
        DEV,
        path,
        "closed",
        "closed",
        "closed: moved from capa-decided to closed",
        ("closed",),
    )
    assert 'closed: "2026-04-20"' in read(team, path)
    # A closed deviation reopens with a reason, and may be cancelled from an open state.
    team.on("2026-05-04")
    assert "needs a reason" in refuse(team, admin, DEV, "investigation")
    advance(team, admin, DEV, "investigation", "sponsor asks for a second look")
    advance(team, admin, DEV, "cancelled", "duplicate of an earlier report")
    assert "none (it is final)" in refuse(team, admin, DEV, "investigation", "--reason", "x")
    team.qms(admin, "verify")
    report = team.check(f"{start}..HEAD")
    assert report["violations"] == [] and report["ok"] is True


def deviation_in_investigation(team: Team) -> str:
    """DEV-2026-0001 (OOS, administered with the physician's acceptance) under investigation
    from 2026-03-04, due 2026-04-01; returns the commit it got there in."""
    path = new_deviation(team, "2026-03-02")
    team.on("2026-03-03")
    edit(team, team.author, path, "classified", classification=CLASSIFICATION)
    advance(team, team.officer, DEV, "classified")
    team.on("2026-03-04")
    oos_block = oos(administered=True, accepted=True)
    edit(team, team.author, path, "open it", investigation=investigation(), oos=oos_block)
    return advance(team, team.officer, DEV, "investigation")


def investigation_due(team: Team, day: str) -> tuple[int, dict[str, Any] | None]:
    code, items = due_items(team, day, 60)
    found = [i for i in items if i["record"] == DEV and i["what"] == "investigation"]
    return code, (found[0] if found else None)


def test_an_investigation_extension_counts_only_once_its_approver_signed_it(team: Team) -> None:
    base = deviation_in_investigation(team)
    team.on("2026-03-20")
    recorded = edit(
        team, team.author, DEV_FILE, "extension", investigation=investigation(extension="a.weber")
    )
    report = team.check(f"{base}..HEAD", ok=False)
    assert findings(report) == [(recorded, DEV, "deviation.extension")]
    assert (
        "a.weber signs it: qms sign DEV-2026-0001 --meaning extended"
        in (report["violations"][0]["fix"])
    )
    text = team.qms(team.admin, "check", f"{base}..HEAD", ok=False)
    assert "[deviation.extension]" in text and "fix: a.weber signs it" in text
    code, item = investigation_due(team, "2026-04-02")
    assert code == 1 and item is not None
    assert (item["due"], item["overdue"]) == ("2026-04-01", True)
    assert "not signed by QA" in str(item["detail"])
    # Only a QA manager signs an extension.
    team.on("2026-03-21")
    out = refused(team.world, team.officer, "sign", DEV, "--meaning", "extended", "--reason", "ok")
    assert "needs one of the roles qa-manager" in out
    team.qms(team.admin, "sign", DEV, "--meaning", "extended", "--reason", "justified")
    assert team.check(f"{base}..HEAD")["violations"] == []
    code, item = investigation_due(team, "2026-04-02")
    assert code == 0 and item is not None
    assert (item["due"], item["overdue"]) == ("2026-04-30", False)
    assert item["detail"] == "extended, signed by QA"
    # The signature covers the extension it signed: a later change of it is unsigned again.
    team.on("2026-03-22")
    moved = investigation(extension="a.weber").replace("2026-04-30", "2026-05-15")
    changed = edit(team, team.author, DEV_FILE, "longer", investigation=moved)
    assert findings(team.check(f"{base}..HEAD", ok=False)) == [
        (changed, DEV, "deviation.extension")
    ]
    code, item = investigation_due(team, "2026-04-02")
    assert code == 1 and item is not None and item["due"] == "2026-04-01"


def test_an_extension_signed_by_someone_else_than_its_approver_does_not_move_the_due_date(
    team: Team,
) -> None:
    base = deviation_in_investigation(team)
    team.on("2026-03-20")
    # The file says m.okafor approved it; a.weber (a QA manager) signs 'extended' instead.
    recorded = edit(
        team, team.author, DEV_FILE, "extension", investigation=investigation(extension="m.okafor")
    )
    team.on("2026-03-21")
    team.qms(team.admin, "sign", DEV, "--meaning", "extended", "--reason", "justified")
    assert findings(team.check(f"{base}..HEAD", ok=False)) == [
        (recorded, DEV, "deviation.extension")
    ]
    # `qms check` says the extension is not signed by its approver; `qms due` must agree.
    code, item = investigation_due(team, "2026-04-02")
    assert item is not None and (item["due"], item["overdue"]) == ("2026-04-01", True)
    assert code == 1


def test_an_extension_does_not_count_on_days_before_it_was_signed(team: Team) -> None:
    deviation_in_investigation(team)
    team.on("2026-03-31")
    edit(team, team.author, DEV_FILE, "extension", investigation=investigation(extension="a.weber"))
    team.on("2026-04-03")
    team.qms(team.admin, "sign", DEV, "--meaning", "extended", "--reason", "late approval")
    # On 2 April the extension was not signed yet: the investigation was overdue that day.
    code, item = investigation_due(team, "2026-04-02")
    assert item is not None and (item["due"], item["overdue"]) == ("2026-04-01", True)
    assert code == 1
    code, item = investigation_due(team, "2026-04-03")
    assert item is not None and (item["due"], code) == ("2026-04-30", 0)


# -- the change gate ------------------------------------------------------------------------------


def commit_paths(team: Team, person: Person, reason: str | None, *paths: str) -> str:
    """Commit what is staged or in `paths`, signed with `person`'s key (an author's change),
    with a Reason trailer unless None."""
    message = ["-m", "Records changed"] + (["-m", f"Reason: {reason}"] if reason else [])
    with team.world.acting(person):
        if paths:
            team.world.git("add", "-A", "--", *paths)
        team.world.git(
            "commit", "-q", *team.world.sign_args(person), *message, env=person.signing_env()
        )
    return team.world.head()


def numbered(text: str, number: int) -> str:
    return text.replace(CAPA, f"CAPA-2026-{number:04d}")


def test_check_reports_each_violation_once_with_its_rule_commit_and_fix(team: Team) -> None:
    world, admin, officer, author = team.world, team.admin, team.officer, team.author
    template = fill(read(team, new_capa(team, "2026-02-02")), risk=RISK)
    planned = fill(
        template, root_cause=ROOT_CAUSE, actions=actions(), effectiveness=effectiveness()
    )
    team.on("2026-02-03")
    for number in range(1, 11):
        text = planned if number == 1 else template
        (world.repo / capa_file(number)).write_text(numbered(text, number))
    commit_paths(team, author, "CAPAs from the audit", "capa")
    team.on("2026-02-04")
    advance(team, admin, "CAPA-2026-0006", "cancelled", "raised twice")
    base = world.head()

    def change(day: str, number: int, reason: str | None = "edited", **fields: str) -> str:
        team.on(day)
        path = capa_file(number)
        (world.repo / path).write_text(fill(read(team, path), **fields))
        return commit_paths(team, author, reason, path)

    no_reason = change("2026-02-05", 7, None, title='title: "Logger read-out, second site"')
    team.on("2026-02-06")
    world.git("rm", "-q", capa_file(4))
    deleted = commit_paths(team, author, "not needed")
    team.on("2026-02-07")
    world.git("mv", capa_file(5), "capa/CAPA-2026-0099.yaml")
    renamed = commit_paths(team, author, "renumbered")
    skipped = change("2026-02-08", 1, state="state: action-plan")
    unsigned = change("2026-02-09", 2, state="state: root-cause")
    team.on("2026-02-10")
    path = capa_file(3)
    (world.repo / path).write_text(read(team, path).replace("initiated", "root-cause"))
    world.git("add", path)
    new_content = "sha256:" + hashlib.sha256((world.repo / path).read_bytes()).hexdigest()
    claims = world.trailers(
        "CAPA-2026-0003", path, "plan-proposed", version="root-cause", content=new_content
    )
    wrong_meaning = world.raw_commit(officer, claims)
    team.on("2026-02-11")
    late = numbered(template, 11).replace("state: initiated", "state: root-cause")
    (world.repo / capa_file(11)).write_text(late)
    born_late = commit_paths(team, author, "created", capa_file(11))
    edited_closed = change("2026-02-12", 6, problem='problem: "Raised twice, see CAPA-2026-0002."')
    team.on("2026-02-13")
    claims = world.trailers("CAPA-2026-0007", capa_file(7), "analysis-started", version="initiated")
    bad_signature = world.raw_commit(author, claims)
    invalid = change("2026-02-14", 8, risk=RISK.replace("severity: 3", "severity: 9"))
    # Signed on a branch, then squash-merged: HEAD holds the content without the signature.
    team.on("2026-02-15")
    world.git("checkout", "-q", "-b", "side")
    change("2026-02-15", 10, problem='problem: "Two shippers and one dry shipper."')
    team.on("2026-02-16")
    team.qms(officer, "sign", "CAPA-2026-0010", "--meaning", "reviewed", "--reason", "ok")
    side_signature = world.head()
    world.git("checkout", "-q", "main")
    world.git("merge", "-q", "--squash", "side")
    squashed = commit_paths(team, author, "merged the side branch")

    result = run(team, admin, "check", f"{base}..HEAD", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    expected = [
        (no_reason, "CAPA-2026-0007", "record.reason"),
        (deleted, "CAPA-2026-0004", "record.deleted"),
        (renamed, "CAPA-2026-0005", "record.renamed"),
        (renamed, "CAPA-2026-0099", "record.invalid"),  # its ID is not its file name
        (skipped, "CAPA-2026-0001", "state.transition"),
        (unsigned, "CAPA-2026-0002", "state.signature"),
        (wrong_meaning, "CAPA-2026-0003", "state.signature"),
        (born_late, "CAPA-2026-0011", "state.initial"),
        (edited_closed, "CAPA-2026-0006", "record.closed"),
        (bad_signature, "CAPA-2026-0007", "signature.invalid"),
        (invalid, "CAPA-2026-0008", "record.invalid"),
        (side_signature, "CAPA-2026-0010", "signature.not-merged"),
    ]
    assert sorted(findings(report)) == sorted(expected)
    assert report["commits"] == 11 and report["ok"] is False
    severity = {v["rule"]: v["severity"] for v in report["violations"]}
    assert severity["signature.not-merged"] == "warning" and severity["record.reason"] == "error"
    assert squashed not in {v["commit"] for v in report["violations"]}
    # The text names each rule and its fix.
    text = run(team, admin, "check", f"{base}..HEAD").output
    for fix in (
        "fix: amend the commit message with a line 'Reason: why this changed'",
        "fix: restore it: git revert this commit",
        "fix: from 'initiated' a CAPA may move to: root-cause, cancelled",
        "fix: make the change with `qms advance CAPA-2026-0002 --to root-cause`, signed by a "
        "person holding one of: qa-manager, qa-officer",
        "fix: make the change with `qms advance CAPA-2026-0003 --to root-cause`",
        "fix: create it with state 'initiated'",
        "fix: reopen it first",
        "fix: sign again with your own registered key",
        "fix: merge the branch with a merge commit (git merge --no-ff)",
    ):
        assert fix in text, fix
    for rule in {rule for _, _, rule in expected}:
        assert f"[{rule}]" in text
    assert "11 commits checked: 11 violations, 1 warning" in text
    # A clean change passes.
    team.on("2026-02-17")
    fixed = change("2026-02-17", 8, risk=RISK)
    result = run(team, admin, "check", f"{squashed}..{fixed}")
    assert result.exit_code == 0, result.output
    assert "1 commit checked: 0 violations, 0 warnings" in result.output


def test_squash_merged_state_change_loses_its_signature_and_a_merge_commit_keeps_it(
    team: Team,
) -> None:
    world = team.world
    path = new_capa(team, "2026-02-02")
    team.on("2026-02-03")
    edit(team, team.author, path, "risk", risk=RISK)
    base = world.head()
    world.git("checkout", "-q", "-b", "analysis")
    team.on("2026-02-04")
    signed = advance(team, team.officer, CAPA, "root-cause")
    world.git("checkout", "-q", "main")
    team.on("2026-02-05")
    with world.acting(team.admin):
        world.git("merge", "-q", "--no-ff", "--no-gpg-sign", "analysis", "-m", "Merge analysis")
    merged = world.head()
    assert team.check(f"{base}..HEAD")["violations"] == []
    # The same work squashed: the state moved in an unsigned commit; the signature is lost.
    world.git("reset", "-q", "--hard", base)
    world.git("merge", "-q", "--squash", "analysis")
    squashed = commit_paths(team, team.admin, "squash of the analysis branch")
    report = team.check(f"{base}..HEAD", ok=False)
    assert findings(report) == [
        (squashed, CAPA, "state.signature"),
        (signed, CAPA, "signature.not-merged"),
    ]
    assert [v["severity"] for v in report["violations"]] == ["error", "warning"]
    assert merged != squashed


def test_a_merge_can_neither_reopen_a_cancelled_capa_nor_drop_a_record(team: Team) -> None:
    """An 'evil merge' resolves to a branch's copy of files the branch never touched: a
    cancelled CAPA back to 'initiated' with no signed reopening, and a newer CAPA gone."""
    world = team.world
    new_capa(team, "2026-02-02")
    other = new_capa(team, "2026-02-03", "Second finding of the audit")
    base = world.head()
    world.git("branch", "side")
    team.on("2026-02-04")
    advance(team, team.admin, CAPA, "cancelled", "raised in error")
    third = new_capa(team, "2026-02-04", "Third finding of the audit")
    world.git("checkout", "-q", "side")
    edit(team, team.author, other, "more detail", problem='problem: "A third shipper too."')
    world.git("checkout", "-q", "main")
    team.on("2026-02-05")
    with world.acting(team.admin):
        world.git("merge", "-q", "--no-commit", "--no-ff", "side")
        world.git("checkout", "side", "--", CAPA_FILE)
        world.git("rm", "-q", third)
        world.git("commit", "-q", "--no-gpg-sign", "-m", "Merge side", "-m", "Reason: merge")
    merge = world.head()
    assert "state: initiated" in read(team, CAPA_FILE)
    assert not (world.repo / third).exists()
    report = team.check(f"{base}..HEAD", ok=False)
    flagged = {(commit, record) for commit, record, _ in findings(report)}
    assert flagged == {(merge, CAPA), (merge, "CAPA-2026-0003")}, report["violations"]
    rules = {record: rule for _, record, rule in findings(report)}
    assert rules[CAPA] in ("state.transition", "record.closed")
    assert rules["CAPA-2026-0003"] == "record.deleted"


def test_a_reason_cannot_forge_trailers(team: Team) -> None:
    path = new_capa(team, "2026-02-02")
    team.on("2026-02-03")
    forged = "raised twice\nQMS-Record: CAPA-2026-0002\nQMS-Meaning: closed"
    commit = advance(team, team.admin, CAPA, "cancelled", forged)
    pairs = trailers(team, commit)
    keys = ["QMS-Record", "QMS-Version", "QMS-Content", "QMS-Meaning", "Reason"]
    assert [k for k, _ in pairs] == keys
    assert pairs[-1] == ("Reason", "raised twice QMS-Record: CAPA-2026-0002 QMS-Meaning: closed")
    assert f"cancel_reason: {json.dumps(forged)}" in read(team, path)  # kept whole, as YAML
    assert team.check("HEAD")["violations"] == []


def test_advance_changes_the_state_line_and_keeps_every_other_line(team: Team) -> None:
    """`qms advance` promises to change only the state; a comment line that follows the
    state is part of the signed record and must survive."""
    path = new_capa(team, "2026-02-02")
    team.on("2026-02-03")
    text = read(team, path).replace("state: initiated\n", "state: initiated\n# QA note: audit\n")
    team.world.commit_file(team.author, path, text, "note")
    commit = advance(team, team.admin, CAPA, "cancelled", "raised twice")
    removed, added = diff_lines(team, commit)
    assert added == ["state: cancelled", 'cancel_reason: "raised twice"']
    assert removed == ["state: initiated"]
    assert "# QA note: audit" in read(team, path)


def test_status_on_a_past_day_gives_the_state_of_that_day(team: Team) -> None:
    path = new_capa(team, "2026-02-02")
    team.on("2026-02-03")
    edit(team, team.author, path, "risk", risk=RISK)
    advance(team, team.officer, CAPA, "root-cause")
    team.on("2026-03-01")
    advance(team, team.admin, CAPA, "cancelled", "raised in error")
    now = team.status("2026-03-01", CAPA)[CAPA]
    assert (now["state"], now["signed_state"], now["notes"]) == ("cancelled", "cancelled", [])
    # On 10 February the CAPA was in root-cause analysis, reached by a signed transition.
    then = team.status("2026-02-10", CAPA)[CAPA]
    assert then["signed_state"] == "root-cause"
    assert not any("not reached by a signed transition" in note for note in then["notes"]), then
    assert then["state"] == "root-cause"


# -- what is due ----------------------------------------------------------------------------------

REPORTS = """external_reporting:
  - to: sponsor
    deadline: "2026-03-03T09:00:00Z"
    done_at: "2026-03-03T08:00:00Z"
  - to: competent-authority
    deadline: "2026-03-09T09:00:00Z"
"""


def test_due_lists_what_falls_due_and_exits_1_when_anything_is_overdue(team: Team) -> None:
    path = new_capa(team, "2026-02-02")
    team.on("2026-02-03")
    plan = {"root_cause": ROOT_CAUSE, "actions": actions(), "effectiveness": effectiveness()}
    edit(team, team.author, path, "planned", risk=RISK, **plan)
    advance(team, team.officer, CAPA, "root-cause")
    advance(team, team.officer, CAPA, "action-plan")
    advance(team, team.admin, CAPA, "implementation")
    deviation = new_deviation(team, "2026-03-02")
    team.on("2026-03-03")
    accepted = oos(administered=True).replace(
        "  administered: true\n",
        '  administered: true\n  physician_accepted_at: "2026-03-02T12:00:00Z"\n'
        '  accepted_by: "Treating haematologist, Dr. H. Berg"\n',
    )
    edit(team, team.author, deviation, "reports", oos=accepted, external_reporting=REPORTS)

    def due(day: str, within: int) -> tuple[int, list[tuple[str, str, str, bool]]]:
        code, items = due_items(team, day, within)
        return code, [(i["due"], i["record"], i["what"], i["overdue"]) for i in items]

    notify = ("2026-03-04", DEV, "sponsor notification (OOS)")
    authority = ("2026-03-09", DEV, "report to competent-authority")
    inquiry = ("2026-04-01", DEV, "investigation")
    a1, a2 = ("2026-04-30", CAPA, "action A1"), ("2026-05-15", CAPA, "action A2")
    check = ("2026-07-31", CAPA, "effectiveness check")
    closure = ("2026-09-30", CAPA, "closure")
    assert due("2026-03-03", 0) == (0, [])
    assert due("2026-03-03", 7) == (0, [(*notify, False), (*authority, False)])
    assert due("2026-03-05", 0) == (1, [(*notify, True)])
    assert due("2026-04-02", 30) == (
        1,
        [(*notify, True), (*authority, True), (*inquiry, True), (*a1, False)],
    )
    out = run(team, team.admin, "due", "--date", "2026-04-02", "--within", "30")
    assert out.exit_code == 1
    assert (
        "OVERDUE 2026-04-01  DEV-2026-0001: investigation [l.santos] (30 days after " in out.output
    )
    assert "due     2026-04-30  CAPA-2026-0001: action A1 [l.santos]" in out.output
    assert "3 overdue items, 1 item due within 30 days" in out.output
    # Done is done: a report made, a notification sent, actions finished, a verdict given.
    team.on("2026-03-04")
    reported = REPORTS + '    done_at: "2026-03-04T10:00:00Z"\n'
    notified = accepted + '  sponsor_notified_at: "2026-03-04T09:00:00Z"\n'
    edit(team, team.author, deviation, "reported", external_reporting=reported, oos=notified)
    assert due("2026-08-01", 0) == (
        1,
        [(*inquiry, True), (*a1, True), (*a2, True), (*check, True)],
    )
    team.on("2026-08-01")
    edit(team, team.author, path, "done", actions=actions("done", "cancelled"))
    assert due("2026-08-01", 0) == (1, [(*inquiry, True), (*check, True)])
    edit(team, team.author, path, "checked", effectiveness=effectiveness("effective", "2026-07-20"))
    assert due("2026-08-01", 0) == (1, [(*inquiry, True)])
    advance(team, team.admin, DEV, "cancelled", "reported twice")
    assert due("2026-08-01", 0) == (0, [])
    assert due("2026-08-01", 60) == (0, [(*closure, False)])
    out = run(team, team.admin, "due", "--date", "2026-08-01", "--within", "60")
    assert out.exit_code == 0 and "0 overdue items, 1 item due within 60 days" in out.output


def test_a_rename_that_also_fixes_the_id_is_reported_as_a_rename(team: Team) -> None:
    """Renaming a record file means changing its ID too (the ID is the file name), so the
    renamed file's bytes differ from the old ones; git still sees a rename."""
    path = new_capa(team, "2026-02-02")
    base = team.world.head()
    team.on("2026-02-03")
    moved = "capa/CAPA-2026-0077.yaml"
    team.world.git("mv", path, moved)
    (team.world.repo / moved).write_text(read(team, moved).replace(CAPA, "CAPA-2026-0077"))
    renamed = commit_paths(team, team.author, "renumbered", "capa")
    assert "R0" in team.world.git("diff", "--name-status", "-M", f"{renamed}^", renamed)
    report = team.check(f"{base}..HEAD", ok=False)
    assert findings(report) == [(renamed, CAPA, "record.renamed")]
    assert "renamed to CAPA-2026-0077" in report["violations"][0]["message"]
