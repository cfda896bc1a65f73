"""Authorship is proven, not claimed: who changed a record comes from the signature of the
commit that changed it, never from the author or committer email an insider can type."""

from __future__ import annotations

import json

import pytest

from gitqms.signatures.verify import walk_history
from toolkit.people import Person
from toolkit.process import environment, run
from toolkit.world import SOP, World, refused


def posing_as(colleague: Person) -> dict[str, str]:
    """The environment of a commit made under a colleague's name and email."""
    return {
        "GIT_AUTHOR_NAME": colleague.name,
        "GIT_AUTHOR_EMAIL": colleague.email,
        "GIT_COMMITTER_NAME": colleague.name,
        "GIT_COMMITTER_EMAIL": colleague.email,
    }


def unsigned_edit(world: World, actor: Person, colleague: Person, text: str) -> str:
    """`actor` rewrites the SOP and commits it, unsigned, as `colleague` (plain git)."""
    (world.repo / SOP).write_text(text)
    with world.acting(actor):
        world.git("add", SOP)
        world.git(
            "commit", "-q", "--no-gpg-sign", "-m", "Edit", "-m", "Reason: tidy",
            env=posing_as(colleague),
        )  # fmt: skip
    return world.head()


def verdicts(world: World) -> dict[str, list[dict[str, object]]]:
    out = world.qms(world.people["a.weber"], "verify", "--format", "json", ok=False)
    found: dict[str, list[dict[str, object]]] = {}
    for verdict in json.loads(out)["signatures"]:
        found.setdefault(str(verdict["commit"]), []).append(verdict)
    return found


def check(world: World, spec: str) -> list[dict[str, str]]:
    out = world.qms(world.people["a.weber"], "check", spec, "--format", "json", ok=False)
    return list(json.loads(out)["violations"])


def git_says_good(world: World, commit: str) -> bool:
    """`git verify-commit` with everyone's key allowed: the signature itself is good."""
    allowed = world.base / "allowed_signers"
    allowed.write_text("".join(f"{p.email} {p.public_line()}\n" for p in world.people.values()))
    verified = run(
        ["git", "-c", f"gpg.ssh.allowedSignersFile={allowed}", "verify-commit", commit],
        cwd=world.repo,
        env=environment(),
        check=False,
    )
    return verified.returncode == 0


def test_an_approver_cannot_write_a_version_under_a_colleagues_email(world: World) -> None:
    """The attack: the approver rewrites the SOP, commits it unsigned as its author, has it
    reviewed, then approves it with a perfectly good signature."""
    admin, reviewer, author = (world.people[p] for p in ("a.weber", "m.okafor", "l.santos"))
    base = world.head()
    text = (world.repo / SOP).read_text().replace("Described.", "The approver's own text.", 1)
    forged = unsigned_edit(world, admin, author, text)
    world.raw_commit(reviewer, world.trailers("SOP-0001", SOP, "reviewed", version="1"))
    approval = world.raw_commit(admin, world.trailers("SOP-0001", SOP, "approved", version="1"))
    assert git_says_good(world, approval)  # git finds nothing wrong with the approval itself

    found = verdicts(world)
    [approved] = [v for v in found[approval] if v["meaning"] == "approved"]
    assert approved["status"] == "invalid", approved
    assert "not proven" in " ".join(map(str, approved["problems"]))
    [unproven] = found[forged]
    assert unproven["status"] == "invalid" and unproven["record"] == "SOP-0001"
    status = json.loads(world.qms(admin, "status", "SOP-0001", "--format", "json"))
    assert status["records"][0]["state"] not in ("approved", "effective")

    rules = {(v["record"], v["rule"]) for v in check(world, f"{base}..HEAD")}
    assert ("SOP-0001", "authorship.unsigned") in rules


def test_a_signed_change_by_the_approver_makes_them_the_author(world: World) -> None:
    """The same attack with the approver's own signature on the edit: the signer is the
    author, whatever email the commit states."""
    admin, reviewer, author = (world.people[p] for p in ("a.weber", "m.okafor", "l.santos"))
    (world.repo / SOP).write_text((world.repo / SOP).read_text() + "\nMine.\n")
    with world.acting(admin):
        world.git("add", SOP)
        world.git(
            "commit", "-q", *world.sign_args(admin), "-m", "Edit", "-m", "Reason: tidy",
            env=admin.signing_env() | {"GIT_AUTHOR_NAME": author.name,
                                       "GIT_AUTHOR_EMAIL": author.email},
        )  # fmt: skip
    world.qms(reviewer, "review", "SOP-0001", "--reason", "checked")
    approval = world.raw_commit(admin, world.trailers("SOP-0001", SOP, "approved", version="1"))
    [approved] = [v for v in verdicts(world)[approval] if v["meaning"] == "approved"]
    assert "separation of duties" in " ".join(map(str, approved["problems"]))


def test_a_signed_life_cycle_counts_and_names_the_proven_author(world: World) -> None:
    admin, reviewer = world.people["a.weber"], world.people["m.okafor"]
    world.qms(reviewer, "review", "SOP-0001", "--reason", "checked")
    world.qms(admin, "approve", "SOP-0001", "--reason", "release")
    assert json.loads(world.qms(admin, "verify", "--format", "json"))["failures"] == 0
    log = json.loads(world.qms(admin, "log", "SOP-0001", "--format", "json"))
    entries = log["entries"] if isinstance(log, dict) else log
    created = next(e for e in entries if e["action"] == "created")
    assert created["name"] == "Lucia Santos" and "signed by the author" in created["verdict"]


def test_qms_approve_refuses_a_version_with_an_unproven_author(world: World) -> None:
    admin, reviewer, author = (world.people[p] for p in ("a.weber", "m.okafor", "l.santos"))
    unsigned_edit(world, reviewer, author, (world.repo / SOP).read_text() + "\nMore.\n")
    output = refused(world, admin, "approve", "SOP-0001", "--reason", "release")
    assert "not proven" in output and "commit -S" in output
    log = json.loads(world.qms(admin, "log", "SOP-0001", "--format", "json"))
    entries = log["entries"] if isinstance(log, dict) else log
    assert "author not proven" in entries[-1]["verdict"]


def test_a_signed_recommit_makes_its_signer_answer_for_the_version(world: World) -> None:
    admin, reviewer, author = (world.people[p] for p in ("a.weber", "m.okafor", "l.santos"))
    text = (world.repo / SOP).read_text()
    unsigned_edit(world, reviewer, author, text + "\nMore.\n")
    world.commit_file(author, SOP, text + "\nMore, signed.\n", "re-committed signed")
    world.qms(reviewer, "review", "SOP-0001", "--reason", "checked")
    world.qms(admin, "approve", "SOP-0001", "--reason", "release")
    found = verdicts(world)
    approvals = [v for vs in found.values() for v in vs if v["meaning"] == "approved"]
    assert [v["status"] for v in approvals] == ["valid"]


def test_merges_bring_signed_work_unsigned_but_resolve_conflicts_signed(world: World) -> None:
    admin, reviewer, author = (world.people[p] for p in ("a.weber", "m.okafor", "l.santos"))
    base = world.head()
    text = (world.repo / SOP).read_text()
    world.git("switch", "-q", "-c", "edit")
    world.commit_file(author, SOP, text.replace("Described.", "Branch text.", 1), "branch")
    world.git("switch", "-q", "main")
    with world.acting(admin):
        world.git("merge", "-q", "--no-ff", "--no-gpg-sign", "edit", "-m", "Merge edit")
    assert not [v for v in check(world, f"{base}..HEAD") if v["rule"] == "authorship.unsigned"]

    # A merge whose own tree differs from both sides is a change of its own, here unsigned.
    world.git("switch", "-q", "-c", "other", base)
    world.commit_file(author, SOP, text.replace("Described.", "Other text.", 1), "other")
    world.git("switch", "-q", "main")
    with world.acting(admin):
        run(
            ["git", "merge", "-q", "--no-ff", "other"],
            cwd=world.repo,
            env=environment(),
            check=False,
        )
        (world.repo / SOP).write_text(text.replace("Described.", "Resolved by me.", 1))
        world.git("add", SOP)
        world.git("commit", "-q", "--no-gpg-sign", "--no-edit", env=posing_as(author))
    merge = world.head()
    world.raw_commit(reviewer, world.trailers("SOP-0001", SOP, "reviewed", version="1"))
    approval = world.raw_commit(admin, world.trailers("SOP-0001", SOP, "approved", version="1"))
    found = verdicts(world)
    assert [v["record"] for v in found[merge]] == ["SOP-0001"]
    assert found[approval][0]["status"] == "invalid"


@pytest.mark.parametrize("warm", [False, True])
def test_the_history_index_gives_the_same_authorship_verdicts(world: World, warm: bool) -> None:
    admin, reviewer, author = (world.people[p] for p in ("a.weber", "m.okafor", "l.santos"))
    unsigned_edit(world, admin, author, (world.repo / SOP).read_text() + "\nMine.\n")
    world.raw_commit(reviewer, world.trailers("SOP-0001", SOP, "reviewed", version="1"))
    if not warm:
        world.git("config", "qms.historyIndex", "false")
    first = walk_history(world.repo).report.verdicts
    world.raw_commit(admin, world.trailers("SOP-0001", SOP, "approved", version="1"))
    again = walk_history(world.repo)  # walked on from the stored walk when warm
    assert again.report.verdicts[: len(first)] == first
    world.git("config", "qms.historyIndex", "false")
    cold = walk_history(world.repo)
    assert again.report.verdicts == cold.report.verdicts
    assert again.proven == cold.proven
    assert not again.report.verdicts[-1].ok


def orphan_merge(world: World, actor: Person, colleague: Person, text: str) -> tuple[str, str]:
    """`actor` commits the SOP, unsigned as `colleague`, on an unrelated history (no qms.yaml
    there), then merges it into main, unsigned: the (orphan commit, merge)."""
    with world.acting(actor):
        world.git("switch", "-q", "--orphan", "elsewhere")
        (world.repo / "sops").mkdir(exist_ok=True)
        (world.repo / SOP).write_text(text)
        world.git("add", SOP)
        world.git(
            "commit", "-q", "--no-gpg-sign", "-m", "Edit", "-m", "Reason: tidy",
            env=posing_as(colleague),
        )  # fmt: skip
        orphan = world.head()
        world.git("clean", "-fdqx")
        world.git("switch", "-q", "main")
        run(
            ["git", "merge", "-q", "--no-ff", "--no-gpg-sign", "--allow-unrelated-histories",
             "elsewhere", "-m", "Merge"],
            cwd=world.repo, env=environment(), check=False,
        )  # fmt: skip
        world.git("checkout", "--theirs", SOP)
        world.git("add", SOP)
        world.git("commit", "-q", "--no-gpg-sign", "--no-edit", "-m", "Merge elsewhere")
    assert (world.repo / SOP).read_text() == text
    return orphan, world.head()


def test_an_unrelated_history_does_not_launder_an_unsigned_edit(world: World) -> None:
    """The attack: no registry is in force on an orphan branch, so its unsigned commit once
    counted the emails it typed; merged in, the approver's own text passed as a colleague's."""
    admin, reviewer, author = (world.people[p] for p in ("a.weber", "m.okafor", "l.santos"))
    base = world.head()
    text = (world.repo / SOP).read_text().replace("Described.", "The approver's own text.", 1)
    orphan, _ = orphan_merge(world, admin, author, text)
    refused(world, reviewer, "review", "SOP-0001", "--reason", "checked")
    world.raw_commit(reviewer, world.trailers("SOP-0001", SOP, "reviewed", version="1"))
    approval = world.raw_commit(admin, world.trailers("SOP-0001", SOP, "approved", version="1"))

    found = verdicts(world)
    [unproven] = found[orphan]
    assert unproven["status"] == "invalid" and unproven["record"] == "SOP-0001"
    [approved] = [v for v in found[approval] if v["meaning"] == "approved"]
    assert approved["status"] == "invalid"
    assert "not proven" in " ".join(map(str, approved["problems"]))
    status = json.loads(world.qms(admin, "status", "SOP-0001", "--format", "json"))
    assert status["records"][0]["state"] not in ("approved", "effective")
    found_rules = {(v["commit"], v["rule"]) for v in check(world, f"{base}..HEAD")}
    assert (orphan, "authorship.unsigned") in found_rules


def test_a_merge_of_an_unrelated_history_is_checked_as_its_own_change(world: World) -> None:
    """What a merge takes from an unrelated history was checked nowhere: the merge's rules
    apply to it (here: its missing 'Reason:')."""
    admin, author = world.people["a.weber"], world.people["l.santos"]
    base = world.head()
    text = (world.repo / SOP).read_text().replace("Described.", "Other text.", 1)
    _, merge = orphan_merge(world, admin, author, text)
    found = {(v["commit"], v["record"], v["rule"]) for v in check(world, f"{base}..HEAD")}
    assert (merge, "SOP-0001", "record.reason") in found


@pytest.mark.parametrize("warm", [False, True])
def test_the_history_index_judges_an_unrelated_history_alike(world: World, warm: bool) -> None:
    admin, reviewer, author = (world.people[p] for p in ("a.weber", "m.okafor", "l.santos"))
    if not warm:
        world.git("config", "qms.historyIndex", "false")
    walk_history(world.repo)  # stored when warm: the orphan history is walked on from it
    text = (world.repo / SOP).read_text() + "\nMine.\n"
    orphan, _ = orphan_merge(world, admin, author, text)
    world.raw_commit(reviewer, world.trailers("SOP-0001", SOP, "reviewed", version="1"))
    first = walk_history(world.repo).report.verdicts
    world.raw_commit(admin, world.trailers("SOP-0001", SOP, "approved", version="1"))
    again = walk_history(world.repo)
    assert again.report.verdicts[: len(first)] == first
    world.git("config", "qms.historyIndex", "false")
    cold = walk_history(world.repo)
    assert again.report.verdicts == cold.report.verdicts
    assert next(v.commit for v in cold.report.verdicts if not v.ok) == orphan
    assert not again.report.verdicts[-1].ok
