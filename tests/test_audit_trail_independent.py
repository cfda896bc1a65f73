"""`qms audit-trail`, tested independently: period edges across time zones, merges, an attacker
who tampers with signed reviews, hostile record text in every format, the report hash as a third
party recomputes it, failures that leave nothing behind. One real signed history per module."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from toolkit.cli import qms
from toolkit.team import SOP, Team
from toolkit.world import World, isolated

HOSTILE_NAME = '=HYPERLINK("http://evil.invalid")<img src=x onerror=alert(1)>'
HOSTILE_REASON = '-2+3 "><svg onload=alert(1)></td><script>alert(2)</script>'
JAN = ("--since", "2026-01-20", "--until", "2026-01-22")
FEB = ("--since", "2026-02-01", "--until", "2026-02-28")
ATR1 = "audit-reviews/ATR-2026-0001.yaml"
ATR2 = "audit-reviews/ATR-2026-0002.yaml"


@dataclass
class History:
    team: Team
    tip: str  # main before any review
    commits: dict[str, str] = field(default_factory=dict)


def sha256_of(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def config_change(team: Team, text: str) -> str:
    """A change to qms.yaml, signed by the admin as the registry rules require."""
    world = team.world
    (world.repo / "qms.yaml").write_text(text)
    world.git("add", "qms.yaml")
    trailers = world.trailers(
        "qms.yaml", "qms.yaml", "changed", content=sha256_of(world.repo / "qms.yaml")
    )
    return world.raw_commit(team.admin, trailers)


def at(team: Team, stamp: str) -> None:
    for variable in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        team.world.monkeypatch.setenv(variable, stamp)


def edit_sop(team: Team, body: str, reason: str) -> str:
    text = (team.world.repo / SOP).read_text()
    text = re.sub(r"(?ms)^(## Purpose\n\n).*?(\n## )", rf"\g<1>{body}\n\2", text)
    return team.world.commit_file(team.author, SOP, text, reason)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    with isolated(tmp_path_factory) as monkeypatch:
        world = World(tmp_path_factory.mktemp("independent"), monkeypatch)
        try:
            team = Team(world)  # 2026-01-05
            yield build(team)
        finally:
            world.close()


def build(team: Team) -> History:
    world = team.world
    found = History(team, "")
    c = found.commits
    # No protected-branch setting at all: the default (main) must still apply.
    team.on("2026-01-06")
    text = (world.repo / "qms.yaml").read_text()
    assert "  protected_branches: [main]\n" in text
    c["config"] = config_change(team, text.replace("  protected_branches: [main]\n", ""))
    # A second key of the officer, valid only to 2026-02-10.
    spare = world.person("m.okafor-spare", "Michael Okafor")
    team.qms(team.admin, "keys", "add", team.officer.id, str(spare.pub), "--valid-from",
             "2026-01-06", "--valid-until", "2026-02-10", "--reason", "spare key")  # fmt: skip
    # 2026-01-20 .. 22: an SOP written and reviewed on a branch, merged with git's own message
    # (no Reason trailer: the merge changes nothing itself).
    world.git("checkout", "-q", "-b", "review/sop")
    team.on("2026-01-20")
    c["written"] = team.write_sop(1, "2026-03-01", "Receive every shipper at the pharmacy dock.")
    team.on("2026-01-21")
    team.qms(team.officer, "review", "SOP-0001", "--reason", "content checked")
    c["reviewed"] = world.head()
    world.git("checkout", "-q", "main")
    team.on("2026-01-22")
    with world.acting(team.admin):
        world.git("merge", "-q", "--no-ff", "--no-gpg-sign", "--no-edit", "review/sop")
    c["merge"] = world.head()
    # Straight on main, around the end of January in three time zones.
    at(team, "2026-01-31T23:30:00+02:00")  # 21:30Z on the 31st
    c["jan31-east"] = edit_sop(team, "Receive shippers at the dock.", "wording")
    at(team, "2026-02-01T00:30:00+02:00")  # 22:30Z on the 31st: still January in UTC
    c["feb1-east"] = edit_sop(team, "Receive every shipper at the dock.", "wording again")
    at(team, "2026-01-31T23:30:00-05:00")  # 04:30Z on 1 February
    c["jan31-west"] = edit_sop(team, "Receive each shipper at the dock.", "wording once more")
    # February: hostile text from someone outside the registry, and an expired key.
    team.on("2026-02-03")
    text = (world.repo / SOP).read_text().replace("each shipper", "each shipper <b>now</b>")
    (world.repo / SOP).write_text(text)
    world.git("add", SOP)
    hostile = {"GIT_AUTHOR_NAME": HOSTILE_NAME, "GIT_COMMITTER_NAME": HOSTILE_NAME,
               "GIT_AUTHOR_EMAIL": "x@evil.invalid", "GIT_COMMITTER_EMAIL": "x@evil.invalid"}  # fmt: skip
    world.git("commit", "-q", "--no-gpg-sign", "-m", "<i>edit</i>", "-m", f"Reason: {HOSTILE_REASON}",
              env=hostile)  # fmt: skip
    c["hostile"] = world.head()
    team.on("2026-02-12")
    reviewed = world.trailers("SOP-0001", SOP, "reviewed", version="1")
    c["key.validity"] = world.raw_commit(team.officer, reviewed, key=spare)
    found.tip = world.head()
    # March: a review signed straight on main, one signed on a branch and merged, then an
    # attacker: an edit of a signed review, a review created unsigned, one signed without role.
    team.on("2026-03-02")
    team.qms(team.officer, "audit-trail", *FEB, "--sign", "--conclusion", "Direct commits and an expired key; CAPA raised.")  # fmt: skip
    c["atr1"] = world.head()
    c["main-before-atr2"] = world.head()
    # Main is protected: the second review is signed on a branch, of main, and merged.
    world.git("checkout", "-q", "-b", "review/atr")
    team.on("2026-03-03")
    team.qms(team.officer, "audit-trail", *FEB, "--revision", "main", "--sign",
             "--conclusion", "Reviewed again through a merge request.")  # fmt: skip
    c["atr2"] = world.head()
    world.git("checkout", "-q", "main")
    with world.acting(team.admin):
        world.git("merge", "-q", "--no-ff", "--no-gpg-sign", "review/atr", "-m", "Merge review",
                  "-m", "Reason: January review")  # fmt: skip
    c["atr2-merge"] = world.head()
    team.on("2026-03-04")
    path = "audit-reviews/ATR-2026-0001.yaml"
    text = (world.repo / path).read_text()
    forged = re.sub(r"(?m)^conclusion: .*$", 'conclusion: "Nothing to report."', text)
    world.git("checkout", "-q", "-b", "fix/typo")
    c["atr-edited"] = world.commit_file(team.author, path, forged, "typo")
    world.git("checkout", "-q", "main")
    with world.acting(team.admin):
        world.git("merge", "-q", "--no-ff", "--no-gpg-sign", "fix/typo", "-m", "Merge fix/typo",
                  "-m", "Reason: typo")  # fmt: skip
    c["atr-edit-merge"] = world.head()
    team.on("2026-03-05")
    unsigned = text.replace("ATR-2026-0001", "ATR-2026-0003")
    c["atr-unsigned"] = world.commit_file(
        team.author, "audit-reviews/ATR-2026-0003.yaml", unsigned, "review"
    )
    team.on("2026-03-06")
    role = world.repo / "audit-reviews/ATR-2026-0004.yaml"
    role.write_text(text.replace("ATR-2026-0001", "ATR-2026-0004"))
    world.git("add", str(role))
    trailers = world.trailers(
        "ATR-2026-0004", "audit-reviews/ATR-2026-0004.yaml", "audit-trail-reviewed",
        content=sha256_of(role),
    )  # fmt: skip
    c["atr-role"] = world.raw_commit(team.author, trailers)
    return found


def run(history: History, *args: str) -> tuple[int, str, str]:
    with history.team.world.acting(history.team.admin):
        result = qms("audit-trail", *args, repo=history.team.world.repo)
    assert "Traceback" not in result.output + result.stderr
    return result.exit_code, result.stdout, result.stderr


def report(history: History, *args: str, revision: str = "") -> tuple[int, dict[str, Any]]:
    code, out, err = run(history, *args, "--revision", revision or history.tip, "--format", "json")
    assert code in (0, 1), out + err
    return code, json.loads(out)


def changes(history: History, since: str, until: str) -> list[str]:
    _, data = report(history, "--since", since, "--until", until)
    return [c["commit"] for c in data["changes"]]


def record_at(history: History, commit: str, path: str) -> str:
    return history.team.world.git("show", f"{commit}:{path}")


def canonical_sha(data: dict[str, Any]) -> str:
    """The report hash as README documents it: sha256 of the canonical JSON, recomputed by hand."""
    data = {k: v for k, v in data.items() if k not in ("report_sha256", "generated")}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(text.encode("ascii")).hexdigest()


def test_a_period_is_made_of_utc_days_whatever_zone_the_signer_used(history: History) -> None:
    c = history.commits
    last_of_january = changes(history, "2026-01-31", "2026-01-31")
    # 23:30+02:00 and 00:30+02:00 the next day are both 31 January in UTC; 23:30-05:00 is not.
    assert last_of_january == [c["jan31-east"], c["feb1-east"]]
    assert c["jan31-west"] in changes(history, "2026-02-01", "2026-02-01")
    assert c["feb1-east"] not in changes(history, "2026-02-01", "2026-02-28")
    assert c["jan31-west"] not in changes(history, "2026-01-01", "2026-01-31")
    _, data = report(history, "--since", "2026-01-31", "--until", "2026-01-31")
    assert [a["date"] for a in data["anomalies"]] == [
        "2026-01-31T21:30:00+00:00",
        "2026-01-31T22:30:00+00:00",
    ]


def test_changes_arriving_through_a_merge_are_not_direct_and_are_listed_once(
    history: History,
) -> None:
    c = history.commits
    code, data = report(history, *JAN)
    # The merge carries git's own message, no Reason trailer: it changed nothing itself.
    assert "Reason:" not in history.team.world.git("log", "-1", "--format=%B", c["merge"])
    assert code == 0 and data["anomalies"] == [], data["anomalies"]
    assert data["summary"]["commits"] == 3
    listed = Counter(ch["commit"] for ch in data["changes"])
    assert listed == {c["written"]: 1, c["reviewed"]: 1, c["merge"]: 1}
    assert data["by_record"] == {"SOP-0001": 3}


def test_without_a_protected_branch_setting_main_is_still_guarded(history: History) -> None:
    world = history.team.world
    assert "protected_branches" not in world.git("show", f"{history.tip}:qms.yaml")
    _, data = report(history, "--since", "2026-01-06", "--until", "2026-02-28")
    assert data["branch"] == "main" and data["protected"] is True
    direct = {a["commit"] for a in data["anomalies"] if a["code"] == "branch.direct-commit"}
    c = history.commits
    assert {c["jan31-east"], c["feb1-east"], c["jan31-west"], c["hostile"]} <= direct
    assert not direct & {c["written"], c["reviewed"], c["merge"], c["config"]}
    # A branch that is not protected: said in a note, and no direct commit is looked for.
    _, data = report(
        history, "--since", "2026-01-06", "--until", "2026-02-28", revision="review/sop"
    )
    assert data["branch"] == "review/sop" and data["protected"] is False
    assert not any(a["code"] == "branch.direct-commit" for a in data["anomalies"])
    assert any("review/sop is not protected" in note for note in data["notes"])


def test_an_expired_key_is_flagged_and_counts_agree_in_every_format(
    history: History, tmp_path: Path
) -> None:
    code, data = report(history, *FEB)
    assert code == 1
    [validity] = [a for a in data["anomalies"] if a["code"] == "key.validity"]
    assert validity["commit"] == history.commits["key.validity"]
    assert "expired on 2026-02-10" in validity["message"]
    assert data["summary"]["invalid_signatures"] == 1
    n = len(data["anomalies"])
    assert data["summary"]["anomalies"] == n == sum(data["by_anomaly"].values())
    assert data["by_anomaly"] == dict(Counter(a["code"] for a in data["anomalies"]))
    assert data["summary"]["changes"] + data["summary"]["signatures"] == len(data["changes"])
    period = (*FEB, "--revision", history.tip)
    _, text, _ = run(history, *period)
    assert f"Anomalies ({n})" in text and f"{n} anomalies" in text
    assert len(re.findall(r"(?m)^  \[[a-z.-]+\] ", text)) == n
    _, out, _ = run(history, *period, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert Counter(r["what"] for r in rows if r["type"] == "anomaly") == data["by_anomaly"]
    assert sum(r["type"] == "change" for r in rows) == len(data["changes"])
    target = tmp_path / "feb.html"
    run(history, *period, "--format", "html", "--output", str(target))
    page = target.read_text()
    table = page[page.index('<table class="anomaly">') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr><td>") == n


def test_hostile_names_and_reasons_stay_inert_in_html_and_csv(
    history: History, tmp_path: Path
) -> None:
    period = (*FEB, "--revision", history.tip)
    target = tmp_path / "feb.html"
    code, _, _ = run(history, *period, "--format", "html", "--output", str(target))
    page = target.read_text()
    body = page[page.index("<body>") :]
    assert "<script" not in body.lower() and "<svg" not in body.lower()
    assert "<img" not in body.lower() and "<b>" not in body and "<i>" not in body
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in body
    assert "&quot;&gt;&lt;svg onload=alert(1)&gt;&lt;/td&gt;" in body
    # Every element the page holds is one the generator writes itself.
    tags = set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", body))
    assert tags <= {
        "body",
        "div",
        "h1",
        "h2",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "p",
        "ul",
        "li",
    }
    assert code == 1
    code, out, _ = run(history, *period, "--format", "csv")
    assert code == 1
    rows = list(csv.DictReader(io.StringIO(out)))
    cells = [v for r in rows for v in r.values()]
    assert not any(v[:1] in ("=", "+", "-", "@", "\t", "\r") for v in cells)
    hostile = [r for r in rows if r["commit"] == history.commits["hostile"]]
    assert {r["person"] for r in hostile} == {"'" + HOSTILE_NAME.replace("<", "").replace(">", "")}
    assert "'" + HOSTILE_REASON in {r["reason"] for r in hostile}


def test_the_report_hash_is_recomputed_by_a_third_party_and_matches_the_signed_review(
    history: History,
) -> None:
    c = history.commits
    code, data = report(history, *FEB)
    assert code == 1 and data["report_sha256"] == canonical_sha(data)
    for commit, path in ((c["atr1"], ATR1), (c["atr2"], ATR2)):
        text = record_at(history, commit, path)
        revision = re.search(r'(?m)^revision: "([0-9a-f]{40})"$', text)
        assert revision is not None
        _, again = report(history, *FEB, revision=revision.group(1))
        # What the reviewer signed is what anyone gets from that revision and period later.
        assert f'report_sha256: "{canonical_sha(again)}"' in text, path
        assert f"summary:\n  commits: {again['summary']['commits']}\n" in text


def test_a_review_signed_on_a_branch_covers_the_protected_branch_and_merges_cleanly(
    history: History,
) -> None:
    team, c = history.team, history.commits
    text = record_at(history, c["atr2"], ATR2)
    assert f'revision: "{c["main-before-atr2"]}"' in text and 'branch: "main"' in text
    # The protected branch's direct commits are in the signed counts, not silently dropped.
    assert re.search(r"(?m)^  branch\.direct-commit: [1-9]", text), text
    assert "  key.validity: 1" in text
    checked = team.check(f"{c['main-before-atr2']}..{c['atr2-merge']}")
    assert checked["violations"] == [], checked
    verdicts = json.loads(team.qms(team.admin, "verify", "--format", "json", ok=False))
    [mine] = [v for v in verdicts["signatures"] if v["commit"] == c["atr2"]]
    assert (mine["record"], mine["status"], mine["role"]) == (
        "ATR-2026-0002",
        "valid",
        "qa-officer",
    )


def test_an_edited_signed_review_is_refused_and_flagged_even_through_a_merge(
    history: History,
) -> None:
    team, c = history.team, history.commits
    checked = team.check(f"{c['atr2-merge']}..{c['atr-edit-merge']}", ok=False)
    rules = {(v["commit"][:12], v["record"], v["rule"]) for v in checked["violations"]}
    assert (c["atr-edited"][:12], "ATR-2026-0001", "record.closed") in rules, checked
    verdicts = json.loads(team.qms(team.admin, "verify", "--format", "json", ok=False))
    [signed] = [v for v in verdicts["signatures"] if v["commit"] == c["atr1"]]
    assert signed["status"] != "valid"  # it no longer covers the review as it now reads
    # The audit trail of that day shows the tampering, though it came through a merge.
    code, data = report(history, "--since", "2026-03-04", "--until", "2026-03-04",
                        revision=c["atr-edit-merge"])  # fmt: skip
    assert code == 1
    found = {(a["code"], a["commit"], a["record"]) for a in data["anomalies"]}
    assert ("record.closed-edited", c["atr-edited"], "ATR-2026-0001") in found, data["anomalies"]
    assert not any(a["code"] == "branch.direct-commit" for a in data["anomalies"])


def test_a_review_created_unsigned_or_by_someone_without_the_role_is_refused(
    history: History,
) -> None:
    team, c = history.team, history.commits
    checked = team.check(f"{c['atr-edit-merge']}..{c['atr-role']}", ok=False)
    rules = {(v["commit"][:12], v["record"], v["rule"]) for v in checked["violations"]}
    assert (c["atr-unsigned"][:12], "ATR-2026-0003", "state.signature") in rules
    assert (c["atr-role"][:12], "ATR-2026-0004", "state.signature") in rules
    assert (c["atr-role"][:12], "ATR-2026-0004", "signature.invalid") in rules
    verdicts = json.loads(team.qms(team.admin, "verify", "--format", "json", ok=False))
    [forged] = [v for v in verdicts["signatures"] if v["commit"] == c["atr-role"]]
    assert forged["status"] == "invalid"
    _, data = report(history, "--since", "2026-03-06", "--until", "2026-03-06", revision="HEAD")
    assert ("signature.role", c["atr-role"]) in {
        (a["code"], a["commit"]) for a in data["anomalies"]
    }


def test_a_failed_run_leaves_the_output_file_as_it_was(history: History, tmp_path: Path) -> None:
    team, world = history.team, history.team.world
    target = tmp_path / "report.html"
    target.write_text("the previous report\n")
    code, out, err = run(history, *FEB, "--revision", "no-such-branch", "--output", str(target))
    assert code == 2 and out == "" and "no-such-branch" in err
    head = world.head()
    with world.acting(team.author):  # no role to sign: refused before anything is written
        result = qms("audit-trail", *FEB, "--sign", "--conclusion", "Fine.", "--format", "html",
                     "--output", str(target), repo=world.repo)  # fmt: skip
    assert result.exit_code != 0 and "Traceback" not in result.stderr
    assert world.head() == head and world.git("status", "--porcelain") == ""
    assert target.read_text() == "the previous report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
    missing = tmp_path / "nowhere" / "report.csv"
    code, _, err = run(history, *FEB, "--format", "csv", "--output", str(missing))
    assert code == 2 and "does not exist" in err and not missing.parent.exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--since", "2026-02-30"), "--since"),
        (("--until", "31/01/2026"), "--until"),
        (("--since", "yesterday"), "--since"),
        (("--since", "2026-03-01", "--until", "2026-02-01"), "after its end"),
        (("--sign", "--since", "2026-02-01", "--conclusion", "ok"), "--sign needs"),
    ],
)
def test_bad_dates_are_usage_errors_that_name_the_option(
    history: History, args: tuple[str, ...], expected: str
) -> None:
    code, out, err = run(history, *args)
    assert code == 2 and out == ""
    assert expected in err


def test_a_period_without_commits_is_an_empty_clean_review(history: History) -> None:
    code, data = report(history, "--since", "2026-04-01", "--until", "2026-04-30", revision="HEAD")
    assert code == 0
    assert data["summary"] == {
        "commits": 0, "changes": 0, "signatures": 0, "invalid_signatures": 0, "anomalies": 0,
    }  # fmt: skip
    assert data["changes"] == [] and data["anomalies"] == [] and data["by_person"] == {}
    assert data["report_sha256"] == canonical_sha(data)
    code, text, _ = run(history, "--since", "2026-04-01", "--until", "2026-04-30")
    assert code == 0 and "Anomalies (0)\n  none" in text and "0 commits" in text


def test_the_hash_does_not_depend_on_the_checkout(history: History) -> None:
    """A signed review's hash can be recomputed from a detached checkout (CI, a restored
    archive) by naming the branch its record gives."""
    text = record_at(history, history.commits["atr1"], ATR1)
    match = re.search(r'(?m)^revision: "([0-9a-f]{40})"$', text)
    branch = re.search(r'(?m)^branch: "([^"]+)"$', text)
    assert match and branch
    history.team.world.git("checkout", "-q", "--detach")
    try:
        _, detached = report(history, *FEB, revision=match.group(1))
        _, named = report(history, *FEB, "--branch", branch.group(1), revision=match.group(1))
    finally:
        history.team.world.git("checkout", "-q", "main")
    assert f'report_sha256: "{named["report_sha256"]}"' in text
    assert f'report_sha256: "{detached["report_sha256"]}"' not in text
