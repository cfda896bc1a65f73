"""`qms audit-trail`: the periodic audit-trail review, on a real signed history that holds every
anomaly it must flag, and a clean period that holds none; its formats; and the signed review,
judged by `qms verify` like any other signature."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from test_lifecycle_capa import RISK, fill, new_capa, read
from toolkit.cli import qms
from toolkit.people import ssh_fingerprint
from toolkit.team import SOP, Team
from toolkit.world import World, isolated, refused

CAPA = "CAPA-2026-0001"
CAPA_FILE = f"capa/{CAPA}.yaml"
HOSTILE_TITLE = "<script>alert(1)</script>"
FORMULA_REASON = "=HYPERLINK(evil)"


@dataclass
class History:
    team: Team
    tip: str  # main before any review was signed
    merge: str
    late_review: str  # the branch's signature, dated 01:00+03:00 on the 12th: the 11th in UTC
    commits: dict[str, str]  # anomaly code -> the commit that must carry it


def sha256_of(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    with isolated(tmp_path_factory) as monkeypatch:
        world = World(tmp_path_factory.mktemp("audit"), monkeypatch)
        try:
            team = Team(world)  # 2026-01-05: the trust root, people and keys, straight on main
            yield build(team)
        finally:
            world.close()


def build(team: Team) -> History:
    world, admin, officer, author, owner = (
        team.world,
        team.admin,
        team.officer,
        team.author,
        team.owner,
    )
    # The clean period, 2026-01-10 to 2026-01-12: an SOP written and reviewed on a branch, then
    # merged with a merge commit.
    world.git("checkout", "-q", "-b", "review/sop")
    team.on("2026-01-10")
    team.write_sop(1, "2026-03-01", "Receive every shipper at the pharmacy dock.")
    world.monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-01-12T01:00:00+03:00")
    world.monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-01-12T01:00:00+03:00")
    team.qms(officer, "review", "SOP-0001", "--reason", "content checked")
    late_review = world.head()
    world.git("checkout", "-q", "main")
    team.on("2026-01-12", "09:00:00")
    with world.acting(admin):
        world.git(
            "merge", "-q", "--no-ff", "--no-gpg-sign", "review/sop",
            "-m", "Merge review/sop", "-m", "Reason: SOP-0001 v1 reviewed",
        )  # fmt: skip
    merge = world.head()

    # The period of anomalies, 2026-02-01 to 2026-02-28, everything straight on main.
    commits: dict[str, str] = {}
    path = new_capa(team, "2026-02-02")  # created with a reason, but not through a merge
    commits["branch.direct-commit"] = world.head()
    team.on("2026-02-03")
    text = fill(read(team, path), risk=RISK, title=f'title: "{HOSTILE_TITLE}"')
    (world.repo / path).write_text(text)
    with world.acting(author):
        world.git("add", path)
        world.git("commit", "-q", "--no-gpg-sign", "-m", "Risk assessed")  # no Reason trailer
    commits["change.no-reason"] = world.head()
    team.on("2026-02-04")
    team.qms(admin, "advance", CAPA, "--to", "cancelled", "--reason", "raised twice")
    team.on("2026-02-05")
    text = read(team, path).replace("raised twice", "raised twice, see CAPA-2026-0002")
    commits["record.closed-edited"] = world.commit_file(author, path, text, FORMULA_REASON)
    team.on("2026-02-06")
    reviewed = world.trailers("SOP-0001", SOP, "reviewed", version="1")
    commits["signature.unsigned"] = world.raw_commit(officer, reviewed, sign=False)
    team.on("2026-02-07")  # the officer's key, but the author commits: a copied signature
    commits["signature.invalid"] = world.raw_commit(author, reviewed, key=officer)
    team.on("2026-02-08")  # the author approves: 'approved' needs a qa-manager
    approved = world.trailers("SOP-0001", SOP, "approved", version="1")
    commits["signature.role"] = world.raw_commit(author, approved)
    team.on("2026-02-09")
    team.qms(admin, "keys", "revoke", owner.id, ssh_fingerprint(owner.pub), "--reason", "laptop lost",
             "--on", "2026-02-09")  # fmt: skip
    team.on("2026-02-10")
    commits["key.revoked"] = world.raw_commit(owner, reviewed)
    # A valid signature whose commit says 2026-02-11, received by the server on 2026-02-20.
    team.on("2026-02-11")
    commits["date.back-dated"] = world.raw_commit(admin, approved)
    note = "qms-receipt 1\nreceived: 2026-02-20T09:00:00Z\nref: refs/heads/main\n"
    world.git("notes", "--ref=qms-receipts", "add", "-m", note, commits["date.back-dated"])
    return History(team, world.head(), merge, late_review, commits)


def run(history: History, *args: str) -> tuple[int, str, str]:
    with history.team.world.acting(history.team.admin):
        result = qms("audit-trail", *args, repo=history.team.world.repo)
    return result.exit_code, result.stdout, result.stderr


def report(history: History, *args: str, revision: str = "") -> tuple[int, dict[str, Any]]:
    """The report as json, of `revision` (default: main before any review was signed)."""
    revision = revision or history.tip
    code, out, err = run(history, *args, "--revision", revision, "--format", "json")
    assert code in (0, 1), out + err
    return code, json.loads(out)


def test_every_anomaly_is_flagged_with_its_code_commit_record_and_person(
    history: History,
) -> None:
    code, data = report(history, "--since", "2026-02-01", "--until", "2026-02-28")
    assert code == 1  # anomalies are a finding, as for qms verify
    found = {(a["code"], a["commit"]) for a in data["anomalies"]}
    for kind, commit in history.commits.items():
        assert (kind, commit) in found, (kind, [a for a in data["anomalies"] if a["code"] == kind])
    by_code = {a["code"]: a for a in data["anomalies"]}
    assert set(by_code) == set(history.commits)
    assert by_code["change.no-reason"]["record"] == CAPA
    # An unsigned commit proves nobody: the name and email it states are shown as its claim.
    assert by_code["change.no-reason"]["person"] == (
        "Lucia Santos <l.santos@st-aurelia.example> (as the commit states, not proven)"
    )
    # A signed change is its signer's, by the registry's name for them.
    closed_edit = by_code["record.closed-edited"]
    assert closed_edit["person"] == "Lucia Santos <l.santos@st-aurelia.example>"
    assert "without a 'Reason:' trailer" in by_code["change.no-reason"]["message"]
    assert by_code["record.closed-edited"]["record"] == CAPA
    assert "was cancelled" in by_code["record.closed-edited"]["message"]
    assert by_code["signature.role"]["record"] == "SOP-0001"
    assert "needs one of qa-manager" in by_code["signature.role"]["message"]
    assert "not signed" in by_code["signature.unsigned"]["message"]
    assert "registered to m.okafor" in by_code["signature.invalid"]["message"]
    assert by_code["key.revoked"]["person"].startswith("Dr. Johan Lindqvist")
    assert "revoked on 2026-02-09" in by_code["key.revoked"]["message"]
    back = by_code["date.back-dated"]
    assert "received it at 2026-02-20 09:00Z" in back["message"] and "back-dated" in back["message"]
    # The signed cancellation is a signed move out of an open state, not an edit of a closed
    # record; the direct commits are every non-merge change on main.
    closed = [a for a in data["anomalies"] if a["code"] == "record.closed-edited"]
    assert [a["commit"] for a in closed] == [history.commits["record.closed-edited"]]
    direct = {a["commit"] for a in data["anomalies"] if a["code"] == "branch.direct-commit"}
    assert history.commits["change.no-reason"] in direct and history.merge not in direct
    # Summary counts agree with the lists.
    summary = data["summary"]
    assert summary["anomalies"] == len(data["anomalies"]) == sum(data["by_anomaly"].values())
    assert summary["signatures"] == sum(
        1 for c in data["changes"] if c["verdict"] != "not a signature"
    )
    assert summary["invalid_signatures"] == 4  # unsigned, copied, role, revoked
    assert data["receipts"] is True and data["branch"] == "main" and data["protected"] is True
    assert data["by_record"][CAPA] == sum(1 for c in data["changes"] if c["record"] == CAPA)
    assert data["period"] == {
        "since": "2026-02-01",
        "until": "2026-02-28",
        "dates": "committer date, UTC",
    }


def test_a_clean_period_reports_no_anomaly_and_exits_0(history: History) -> None:
    code, data = report(history, "--since", "2026-01-10", "--until", "2026-01-12")
    assert code == 0, data["anomalies"]
    assert data["anomalies"] == [] and data["summary"]["anomalies"] == 0
    assert data["summary"]["commits"] == 3  # the change and the review on the branch, the merge
    actions = [(c["record"], c["action"]) for c in data["changes"]]
    assert ("SOP-0001", "created") in actions and ("SOP-0001", "reviewed") in actions
    merge = [c for c in data["changes"] if c["commit"] == history.merge]  # not a 2nd creation
    assert [(c["action"], c["summary"]) for c in merge] == [
        ("merged from branch review/sop", "brings in the new record")
    ]
    code, out, _ = run(
        history, "--since", "2026-01-10", "--until", "2026-01-12", "--revision", history.tip
    )
    assert code == 0 and "Anomalies (0)\n  none" in out
    assert "server receipts compared" in out


def test_the_period_is_inclusive_and_counted_in_utc(history: History) -> None:
    def commits(since: str, until: str) -> set[str]:
        _, data = report(history, "--since", since, "--until", until)
        return {c["commit"] for c in data["changes"]}

    # Dated 01:00+03:00 on the 12th: the 11th in UTC.
    assert history.late_review in commits("2026-01-11", "2026-01-11")
    assert history.late_review not in commits("2026-01-12", "2026-01-12")
    assert commits("2026-01-12", "2026-01-12") == {history.merge}
    # Both ends count: a period of one day holds that day's commits.
    day = history.commits["signature.role"]
    assert day in commits("2026-02-08", "2026-02-08")
    assert day in commits("2026-02-01", "2026-02-08") and day in commits("2026-02-08", "2026-02-28")
    assert day not in commits("2026-02-09", "2026-02-28") | commits("2026-02-01", "2026-02-07")
    code, _, err = run(history, "--since", "2026-02-10", "--until", "2026-02-01")
    assert code == 2 and "after its end" in err


def test_every_format_is_safe_to_open(history: History, tmp_path: Path) -> None:
    period = ("--since", "2026-02-01", "--until", "2026-02-28", "--revision", history.tip)
    # json: parses, and its hash is the sha256 of its canonical form.
    code, out, _ = run(history, *period, "--format", "json")
    data = json.loads(out)
    claimed = data.pop("report_sha256")
    data.pop("generated")
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert claimed == "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    # csv: one row per change and per anomaly; a formula in a reason arrives as text.
    code, out, _ = run(history, *period, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == len(data["changes"]) + len(data["anomalies"])
    assert {r["type"] for r in rows} == {"change", "anomaly"}
    assert "'" + FORMULA_REASON in {r["reason"] for r in rows}
    assert not any(v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())
    # html: one self-contained page, every record text escaped, no script, nothing remote.
    target = tmp_path / "review.html"
    code, out, err = run(history, *period, "--format", "html", "--output", str(target))
    assert code == 1 and out == "" and f"wrote {target}" in err
    page = target.read_text()
    assert "<script" not in page.lower() and "http" not in page.replace("http-equiv", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "@media print" in page and 'class="print-header"' in page
    assert history.tip[:12] in page and "2026-02-01 to 2026-02-28" in page
    assert "generated" in page.lower() and "branch.direct-commit" in page


def test_a_signed_review_verifies_and_appears_in_the_log(history: History) -> None:
    team, world = history.team, history.team.world
    team.on("2026-03-02")
    args = ("audit-trail", "--since", "2026-01-10", "--until", "2026-01-12")
    # Someone without a role the policy names for the meaning cannot sign; nothing changes.
    out = refused(world, team.author, *args, "--sign", "--conclusion", "Looks fine.")
    assert "'audit-trail-reviewed' needs one of the roles qa-manager, qa-officer" in out
    out = team.qms(team.officer, *args, "--sign", "--conclusion", "No anomalies; nothing to do.")
    assert "signed 'ATR-2026-0001'" in out
    review = world.head()
    assert world.git("status", "--porcelain") == ""
    record = (world.repo / "audit-reviews" / "ATR-2026-0001.yaml").read_text()
    assert f'revision: "{history.tip}"' in record and "anomalies: {}" in record
    assert 'conclusion: "No anomalies; nothing to do."' in record
    _, data = report(history, "--since", "2026-01-10", "--until", "2026-01-12")
    sha = hashlib.sha256(
        json.dumps(
            {k: v for k, v in data.items() if k not in ("report_sha256", "generated")},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=True,
        ).encode()
    ).hexdigest()
    assert f'report_sha256: "sha256:{sha}"' in record
    verdicts = json.loads(team.qms(team.admin, "verify", "--format", "json", ok=False))
    mine = [v for v in verdicts["signatures"] if v["commit"] == review]
    assert [(v["record"], v["meaning"], v["status"], v["role"]) for v in mine] == [
        ("ATR-2026-0001", "audit-trail-reviewed", "valid", "qa-officer")
    ]
    log = team.qms(team.admin, "log", "ATR-2026-0001")
    assert "Michael Okafor: audit-trail-reviewed" in log and "signature: valid" in log
    assert "0 violations" in team.qms(team.admin, "check", f"{history.tip}..{review}")
    assert "0 errors" in team.qms(team.admin, "validate")

    # The same record signed by hand by someone without the role: the verifier rejects it.
    team.on("2026-03-03")
    forged = world.repo / "audit-reviews" / "ATR-2026-0002.yaml"
    forged.write_text(record.replace("ATR-2026-0001", "ATR-2026-0002"))
    world.git("add", str(forged))
    trailers = world.trailers(
        "ATR-2026-0002",
        "audit-reviews/ATR-2026-0002.yaml",
        "audit-trail-reviewed",
        content=sha256_of(forged),
    )
    bad = world.raw_commit(team.author, trailers)
    verdicts = json.loads(team.qms(team.admin, "verify", "--format", "json", ok=False))
    [judged] = [v for v in verdicts["signatures"] if v["commit"] == bad]
    assert judged["status"] == "invalid"
    assert "needs one of qa-manager, qa-officer" in " ".join(judged["problems"])
    _, data = report(history, "--since", "2026-03-03", "--until", "2026-03-03", revision=bad)
    assert {a["code"] for a in data["anomalies"]} >= {"signature.role"}


def test_signing_without_the_policy_entry_says_what_to_add(history: History) -> None:
    team, world = history.team, history.team.world
    team.on("2026-03-10")
    config = world.repo / "qms.yaml"
    text = config.read_text()
    entry = "  audit-review:\n    audit-trail-reviewed: {roles: [qa-officer, qa-manager]}"
    assert entry in text
    config.write_text(text.replace(entry + "  # qms audit-trail --sign", "").replace(entry, ""))
    world.git("add", "qms.yaml")
    trailers = world.trailers("qms.yaml", "qms.yaml", "changed", content=sha256_of(config))
    world.raw_commit(team.admin, trailers)
    out = refused(
        world,
        team.officer,
        *("audit-trail", "--since", "2026-01-10", "--until", "2026-01-12", "--sign"),
        *("--conclusion", "Fine."),
    )
    assert "has no meaning 'audit-trail-reviewed' for audit-review records" in out
    assert (
        "audit-review:" in out and "audit-trail-reviewed: {roles: [qa-officer, qa-manager]}" in out
    )
    # Without --sign the report still runs.
    code, _, _ = run(history, "--since", "2026-01-10", "--until", "2026-01-12")
    assert code == 0
