"""Adversarial review of issue 22 (qms commit, the commit-msg hook, advance --set, revise,
inbox). Each test states what must hold; real repositories and keys (tests/toolkit)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml

from test_acknowledge import released
from toolkit.process import environment, run
from toolkit.team import Team, build_team
from toolkit.world import SOP, refused

DEV = "DEV-2026-0001"
PATH = f"deviations/{DEV}.yaml"
CLASSIFICATION = json.dumps(
    {
        "level": "minor",
        "severity": 2,
        "occurrence": 2,
        "detectability": 1,
        "rationale": "No product affected; the logger was read within its window.",
    }
)
CLASSIFY = [
    "--set=description=The shipper's logger was read 40 minutes after opening.",
    "--set=immediate_actions=Product quarantined until the logger file was reviewed.",
    f"--set=classification={CLASSIFICATION}",
]


def setup(team: Team) -> None:
    """SOP-0001 v1 effective 2026-02-20; a deviation reported on 2026-02-05."""
    released(team)
    team.on("2026-02-05")
    team.qms(team.author, "new", "deviation", "--title", "Logger read late at receipt")
    text = (team.world.repo / PATH).read_text()
    team.world.commit_file(team.author, PATH, text, "new deviation")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Team:
    return build_team(tmp_path_factory, setup)


@pytest.fixture
def team(built: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Team:
    return built.copy(tmp_path, monkeypatch)


def data(team: Team) -> dict:
    return dict(yaml.safe_load((team.world.repo / PATH).read_text()))


def investigating(team: Team) -> None:
    team.on("2026-02-06")
    team.qms(team.officer, "advance", DEV, "--to", "classified", *CLASSIFY)
    team.on("2026-02-07")
    team.qms(team.officer, "advance", DEV, "--to", "investigation")


# --- advance --set -------------------------------------------------------------------------


def test_set_below_a_scalar_field_is_refused_cleanly(team: Team) -> None:
    """`--set state.x=1` turns the state into a mapping: it must be refused like state=…"""
    team.on("2026-02-06")
    out = refused(team.world, team.officer, "advance", DEV, "--to", "classified",
                  *CLASSIFY, "--set", "state.x=1")  # fmt: skip
    assert "--to STATE" in out or "state" in out, out


def test_set_id_is_refused(team: Team) -> None:
    team.on("2026-02-06")
    out = refused(team.world, team.officer, "advance", DEV, "--to", "classified",
                  *CLASSIFY, "--set", "id=DEV-2026-0009")  # fmt: skip
    assert "id" in out, out


def test_set_investigation_due_beyond_the_policy_needs_an_extension(team: Team) -> None:
    """The policy gives 30 days; writing investigation.due=2099-12-31 when the investigation
    opens skips the signed extension (investigation.extension.approved_by)."""
    team.on("2026-02-06")
    team.qms(team.officer, "advance", DEV, "--to", "classified", *CLASSIFY)
    team.on("2026-02-07")
    out = refused(team.world, team.officer, "advance", DEV, "--to", "investigation",
                  "--set", "investigation.due=2099-12-31")  # fmt: skip
    assert "extension" in out or "due" in out, out


def test_the_filler_of_an_independent_move_cannot_also_sign_it(team: Team) -> None:
    """The admin (qa-manager) gives the investigation's findings with --set and signs
    'approved' (independent by default) over them: the signature must be refused or not count."""
    investigating(team)
    team.on("2026-02-10")
    before = team.world.head()
    out = team.qms(team.admin, "advance", DEV, "--to", "capa-decided",
                   "--set", "investigation.method=5-whys",
                   "--set", "investigation.root_cause=The logger was in the outer box.",
                   "--set", "investigation.product_impact=None.",
                   "--set", "investigation.patient_impact=None.",
                   "--set", "capa_decision.required=false",
                   "--set", "capa_decision.rationale=Single event.",
                   ok=False)  # fmt: skip
    if team.world.head() == before:
        assert "Traceback" not in out, out
        return  # refused: separation of duties held
    verified = json.loads(team.qms(team.admin, "verify", "--format", "json", ok=False))
    mine = [s for s in verified["signatures"] if s.get("record") == DEV
            and s.get("meaning") == "approved"]  # fmt: skip
    assert mine and all(s.get("status") not in ("valid", "counts") for s in mine), (out, mine)


# --- qms commit ----------------------------------------------------------------------------


def test_qms_commit_refuses_a_folder_at_a_records_path(team: Team) -> None:
    world = team.world
    (world.repo / PATH).unlink()
    (world.repo / PATH).mkdir()
    (world.repo / PATH / "x.yaml").write_text("a: 1\n")
    out = refused(world, team.author, "commit", "-m", "tidy", "--reason", "tidy", "deviations")
    assert "Traceback" not in out, out


def test_qms_commit_refuses_an_executable_record(team: Team) -> None:
    world = team.world
    os.chmod(world.repo / PATH, 0o755)
    out = refused(world, team.author, "commit", "-m", "mode", "--reason", "mode", PATH)
    assert "Traceback" not in out, out


def test_qms_commit_refuses_a_symlink_at_a_records_path(team: Team, tmp_path: Path) -> None:
    world = team.world
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text((world.repo / PATH).read_text())
    (world.repo / PATH).unlink()
    (world.repo / PATH).symlink_to(outside)
    out = refused(world, team.author, "commit", "-m", "link", "--reason", "link", PATH)
    assert "Traceback" not in out, out


def test_qms_commit_reason_only_in_the_subject_is_not_a_trailer(team: Team) -> None:
    world = team.world
    text = (world.repo / PATH).read_text().replace("Logger read late", "Logger read late!")
    (world.repo / PATH).write_text(text)
    team.qms(team.author, "commit", "-m", "Reason: x", "--reason", "x", PATH, ok=False)
    message = world.git("log", "-1", "--format=%B")
    trailers = world.git("interpret-trailers", "--parse", input=message)
    assert "Reason: x" in trailers, message


# --- the commit-msg hook -------------------------------------------------------------------


def git_commit(team: Team, *args: str) -> tuple[int, str]:
    person = team.author
    with team.world.acting(person):
        env = environment() | person.signing_env()
        done = run(["git", "commit", "-q", *team.world.sign_args(person), *args],
                   cwd=team.world.repo, env=env, check=False)  # fmt: skip
    return done.returncode, done.stdout + done.stderr


def test_hook_refuses_an_amend_that_drops_the_reason(team: Team) -> None:
    """The last commit changed a controlled file with a Reason; `git commit --amend -m X`
    with nothing staged makes a commit that changes it without one."""
    world = team.world
    team.qms(team.author, "hook", "install-commit-msg")
    head = world.head()
    code, out = git_commit(team, "--amend", "-m", "Edit without a reason")
    changed = world.git("diff", "--name-only", "HEAD~1", "HEAD").split()
    message = world.git("log", "-1", "--format=%B")
    assert code != 0 or "Reason:" in message or PATH not in changed, (head, out, message)


# --- qms revise ----------------------------------------------------------------------------


def test_revise_while_an_approved_version_waits_to_take_effect(team: Team) -> None:
    """v1 in force, v2 approved and effective later: a revision must be v3 superseding v2
    (or be refused), never a second v2 written over the approved text."""
    team.on("2026-03-01")
    team.qms(team.author, "revise", "SOP-0001", "--reason", "second version", "--change-control", "CC-2025-040",
             "--effective-date", "2026-06-01")  # fmt: skip
    team.qms(team.author, "commit", "-m", "SOP-0001 v2", "--reason", "v2", SOP)
    team.release_sop("2026-03-02", "2026-03-03")
    team.on("2026-03-10")
    out = team.qms(team.author, "revise", "SOP-0001", "--reason", "third version",
                   "--change-control", "CC-2025-041", ok=False)  # fmt: skip
    text = (team.world.repo / SOP).read_text()
    version = re.search(r"(?m)^version: (\d+)", text)
    assert version is not None
    assert version[1] == "3" or ("Traceback" not in out and "refus" in out), (
        out,
        text[:400],
    )


# --- qms inbox -----------------------------------------------------------------------------


def inbox(team: Team, person_id: str) -> tuple[dict | None, str]:
    out = team.qms(team.admin, "inbox", "--person", person_id, "--format", "json", ok=False)
    assert "Traceback" not in out, out
    try:
        return json.loads(out[: out.rindex("}") + 1]), out
    except ValueError:
        return None, out


def on_branch(team: Team, name: str, path: str, text: str, *, sign: bool) -> None:
    world = team.world
    world.git("switch", "-q", "-c", name)
    (world.repo / path).parent.mkdir(parents=True, exist_ok=True)
    world.commit_file(team.author, path, text, "on a branch", sign=sign)
    world.git("switch", "-q", "main")


def test_inbox_survives_a_branch_with_a_malformed_record(team: Team) -> None:
    on_branch(team, "broken", PATH, "id: [unclosed\n  state: : :\n", sign=False)
    found, out = inbox(team, team.officer.id)
    assert found is not None, out
    assert any(s["record"] == DEV and s["branch"] == "main" for s in found["signatures"]), out


def test_inbox_does_not_trust_an_unsigned_registry_on_a_branch(team: Team) -> None:
    """On a branch, an unsigned commit gives l.santos the role qa-officer: her inbox must not
    offer her the deviation's classification there."""
    config = (team.world.repo / "qms.yaml").read_text()
    forged = re.sub(
        r"(?m)^(\s+roles: \[)sop-author\]", r"\1sop-author, qa-officer]", config, count=1
    )
    assert forged != config, config
    on_branch(team, "forged", "qms.yaml", forged, sign=False)
    found, out = inbox(team, team.author.id)
    assert found is not None, out
    assert not [s for s in found["signatures"] if s["record"] == DEV], out


def test_inbox_survives_a_branch_ref_that_is_not_a_commit(team: Team) -> None:
    world = team.world
    world.git("update-ref", "refs/remotes/origin/odd", world.git("rev-parse", "HEAD^{tree}"))
    found, out = inbox(team, team.officer.id)
    assert found is not None, out


def test_a_value_with_newlines_and_colons_stays_one_text(team: Team) -> None:
    team.on("2026-02-06")
    value = "Quarantined.\nstate: closed\nid: DEV-2026-0009\n# done: yes"
    team.qms(team.officer, "advance", DEV, "--to", "classified", *CLASSIFY[:1], CLASSIFY[2],
             f"--set=immediate_actions={value}")  # fmt: skip
    found = data(team)
    assert (found["state"], found["id"], found["immediate_actions"]) == (
        "classified",
        DEV,
        value,
    ), found
