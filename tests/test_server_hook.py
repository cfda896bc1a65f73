"""The gate where pushes arrive, against a real server: `git daemon` on 127.0.0.1 running the
hooks `qms hook install` wrote, clones pushing and fetching over git://.

What is asserted is what a pusher sees (`remote:` lines, git's own verdict on each ref) and
what the server then holds (its branches, its receipt notes), read back by fresh clones.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from test_lifecycle_capa import RISK, advance, commit_paths, edit, fill, new_capa, read
from toolkit.cli import qms
from toolkit.people import Person
from toolkit.process import git
from toolkit.server import GitServer, push, push_at_once
from toolkit.team import Team
from toolkit.world import SOP, World

RECEIPTS = "refs/notes/qms-receipts"
REFUSED = "! [remote rejected] (pre-receive hook declined)"


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def connect(world: World, server: GitServer) -> None:
    world.git("remote", "add", "origin", server.url)


def fresh_clone(server: GitServer, base: Path, name: str = "fresh") -> Path:
    """A new clone that also fetches the receipts, as BRANCH-PROTECTION.md tells clients to."""
    target = base / name
    git(base, "clone", "-q", server.url, str(target))
    git(target, "config", "--add", "remote.origin.fetch", f"{RECEIPTS}:{RECEIPTS}")
    git(target, "fetch", "-q", "origin")
    return target


def receipts(clone: Path) -> dict[str, dict[str, str]]:
    """Commit -> the fields of its receipt note, as a clone reads them with plain git."""
    listing = git(clone, "notes", f"--ref={RECEIPTS}", "list")
    found = {}
    for line in listing.splitlines():
        blob, commit = line.split()
        text = git(clone, "cat-file", "blob", blob)
        lines = text.splitlines()
        assert lines[0] == "qms-receipt 1", text
        found[commit] = dict(line.split(": ", 1) for line in lines[1:])
    return found


def received(fields: dict[str, str]) -> datetime:
    return datetime.strptime(fields["received"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def commits(repo: Path, revisions: str) -> list[str]:
    return git(repo, "rev-list", revisions).split()


def qms_json(clone: Path, *args: str) -> dict[str, Any]:
    result = qms(*args, "--format", "json", repo=clone)
    assert result.exit_code in (0, 1), result.output + result.stderr
    return dict(json.loads(result.output))


# -- the first push, a signed change, receipts in a fresh clone ---------------------------------


def test_a_signed_change_goes_from_branch_to_main_and_every_commit_has_a_receipt(
    world: World, server: GitServer
) -> None:
    admin, reviewer = world.people["a.weber"], world.people["m.okafor"]
    connect(world, server)
    start = now()
    first = push(world.repo, "origin", "main")
    history = commits(world.repo, "main")
    # The first push creates the trust root; nothing was accepted before it, so the defaults
    # protect main, and the gate runs over the whole history.
    assert first.ok, first.stderr
    assert first.status("refs/heads/main") == "* [new branch]"
    assert (
        first.remote[0] == "qms: protected branches: main (the defaults: no accepted qms.yaml yet)"
    )
    assert "qms: main: the gate of `qms check`:" in first.remote
    assert f"{len(history)} commits checked: 0 violations, 0 warnings" in first.remote
    assert any(line.startswith(f"qms: received {len(history)} commits at") for line in first.remote)
    assert server.tip() == world.head()

    # Signatures are made on a branch, before they are merged; the branch is not protected.
    world.git("checkout", "-q", "-b", "review/SOP-0001")
    world.qms(reviewer, "review", "SOP-0001", "--reason", "content checked")
    reviewed = world.head()
    world.qms(admin, "approve", "SOP-0001", "--reason", "released")
    approved = world.head()
    branch = push(world.repo, "origin", "review/SOP-0001")
    assert branch.ok, branch.stderr
    assert "qms: review/SOP-0001: not protected; accepted without the gate" in branch.remote
    assert "qms: received 2 commits at" in " ".join(branch.remote)

    world.git("checkout", "-q", "main")
    with world.acting(admin):
        world.git("merge", "-q", "--no-ff", "--no-gpg-sign", "review/SOP-0001", "-m", "Merge")
    merge = world.head()
    merged = push(world.repo, "origin", "main")
    assert merged.ok, merged.stderr
    assert merged.status("refs/heads/main").startswith("  ")  # a fast-forward
    assert f"qms: protected branches: main (qms.yaml at main {history[0][:12]})" in merged.remote
    assert "3 commits checked: 0 violations, 0 warnings" in merged.remote
    assert "qms: received 1 commit at" in " ".join(merged.remote)  # the merge; the rest had one
    end = now()

    clone = fresh_clone(server, world.base)
    found = receipts(clone)
    assert set(found) == {*history, reviewed, approved, merge}
    for commit, fields in found.items():
        assert start <= received(fields) <= end
        assert fields["address"] == "127.0.0.1"  # git daemon says where; nobody says who
        assert "pusher" not in fields
        branch_made = commit in (reviewed, approved)
        assert fields["ref"] == ("refs/heads/review/SOP-0001" if branch_made else "refs/heads/main")

    # qms verify and qms log in the fresh clone: every signature with its receipt, none flagged.
    report = qms_json(clone, "verify")
    assert report["failures"] == 0 and report["date_flags"] == 0
    by_commit = {s["commit"]: s for s in report["signatures"]}
    assert by_commit[reviewed]["receipt"]["ref"] == "refs/heads/review/SOP-0001"
    assert by_commit[approved]["receipt"]["received"] == received(found[approved]).isoformat()
    assert all(s["receipt"] and s["date_flag"] is None for s in report["signatures"])
    text = qms("verify", repo=clone).output
    stamp = f"{received(found[approved]):%Y-%m-%d %H:%M:%S}Z"
    assert f"    received {stamp} (refs/heads/review/SOP-0001, from 127.0.0.1)" in text
    log = qms("log", "SOP-0001", repo=clone).output
    assert f"    received {stamp} (refs/heads/review/SOP-0001, from 127.0.0.1)" in log
    rows = qms_json(clone, "log", "SOP-0001")["entries"]
    assert [r["action"] for r in rows] == ["created", "reviewed", "approved"]
    assert all(r["received"] and r["date_flag"] == "" for r in rows)

    # Pushing the same commits again, elsewhere, gives them no second receipt.
    again = push(world.repo, "origin", "main:refs/heads/copy")
    assert again.ok and not any("qms: received" in line for line in again.remote)
    git(clone, "fetch", "-q", "origin")
    assert receipts(clone) == found


# -- every push that `qms check` refuses, the server refuses, in the same words -----------------


def check_lines(repo: Path, spec: str) -> list[str]:
    result = qms("check", spec, repo=repo)
    assert result.exit_code == 1, result.output + result.stderr
    return [line.rstrip() for line in result.output.splitlines()]


def holds_block(lines: list[str], block: list[str]) -> bool:
    return any(lines[i : i + len(block)] == block for i in range(len(lines) - len(block) + 1))


def test_every_push_qms_check_refuses_is_refused_with_the_same_lines(
    team: Team, server: GitServer
) -> None:
    world, admin, author = team.world, team.admin, team.author
    # On main: an approved SOP, a CAPA with its risk assessed, and a cancelled CAPA.
    team.on("2026-02-02")
    team.write_sop(1, "2026-03-01", "Described.")
    team.release_sop("2026-02-03", "2026-02-04")
    capa = new_capa(team, "2026-02-05")
    edit(team, author, capa, "risk assessed", risk=RISK)
    cancelled = new_capa(team, "2026-02-05", "Raised twice")
    team.on("2026-02-06")
    advance(team, admin, "CAPA-2026-0002", "cancelled", "raised twice")
    connect(world, server)
    assert push(world.repo, "origin", "main").ok
    accepted = server.tip()
    assert accepted == world.head()

    def change(path: str, reason: str | None, **fields: str) -> None:
        (world.repo / path).write_text(fill(read(team, path), **fields))
        commit_paths(team, author, reason, path)

    def moved(source: str, target: str, reason: str) -> None:
        world.git("mv", source, target)
        commit_paths(team, author, reason)

    def deleted() -> None:
        world.git("rm", "-q", capa)
        commit_paths(team, author, "not needed")

    def sop_edited() -> None:
        text = (world.repo / SOP).read_text().replace("Described.", "Described again.", 1)
        world.commit_file(author, SOP, text, "wording")

    def sop_without_supersedes() -> None:
        world.commit_file(author, SOP, team.sop_text(2, "2026-06-01", "Changed."), "version 2")

    def sop_version_zero() -> None:
        text = re.sub(r"(?m)^version: 1$", "version: 0", (world.repo / SOP).read_text())
        world.commit_file(author, SOP, text, "renumbered")

    def born_late() -> None:
        text = read(team, capa).replace("CAPA-2026-0001", "CAPA-2026-0003")
        (world.repo / "capa/CAPA-2026-0003.yaml").write_text(fill(text, state="state: root-cause"))
        commit_paths(team, author, "created", "capa/CAPA-2026-0003.yaml")

    def forged_approval() -> None:
        claims = world.trailers("SOP-0001", SOP, "approved", version="1")
        world.raw_commit(author, claims)  # the author holds no role that may approve

    violations = [
        ("record.reason", lambda: change(capa, None, problem='problem: "Three shippers."')),
        ("record.invalid", lambda: change(capa, "rescored", risk=RISK.replace("3", "9", 1))),
        ("record.deleted", deleted),
        ("record.renamed", lambda: moved(capa, "capa/CAPA-2026-0099.yaml", "renumbered")),
        ("sop.version-not-raised", sop_edited),
        ("sop.supersedes", sop_without_supersedes),
        ("sop.version-decreased", sop_version_zero),
        ("state.initial", born_late),
        ("state.transition", lambda: change(capa, "done", state="state: closed")),
        ("state.signature", lambda: change(capa, "analysis", state="state: root-cause")),
        ("state.requires", lambda: change(capa, "stop", state="state: cancelled")),
        ("record.closed", lambda: change(cancelled, "note", problem='problem: "Twice."')),
        ("signature.invalid", forged_approval),
    ]
    for day, (rule, make) in enumerate(violations, 10):
        team.on(f"2026-03-{day}")
        make()
        local = check_lines(world.repo, "origin/main..HEAD")
        assert any(line.endswith(f"[{rule}]") for line in local), (rule, local)
        pushed = push(world.repo, "origin", "main")
        assert not pushed.ok, rule
        assert pushed.status("refs/heads/main") == REFUSED, rule
        # The pusher reads exactly what `qms check` prints: every violation, fix and count.
        assert holds_block(pushed.remote, local), (rule, local, pushed.remote)
        errors = sum(1 for line in local if ": error: " in line)
        noun = "violation" if errors == 1 else "violations"
        assert f"qms: refused main: {errors} {noun}" in pushed.remote, rule
        assert pushed.remote[-1] == "qms: push refused; nothing was changed on the server"
        assert server.tip() == accepted, rule
        world.git("reset", "-q", "--hard", "origin/main")
    # A clean change on top is accepted.
    team.on("2026-03-30")
    change(capa, "detail", problem='problem: "Two shippers, both from the same courier."')
    good = push(world.repo, "origin", "main")
    assert good.ok, good.stderr
    assert "1 commit checked: 0 violations, 0 warnings" in good.remote
    assert server.tip() == world.head()


# -- history on a protected branch is never rewritten or deleted --------------------------------


def signed_config_change(world: World, admin: Person, old: str, new: str) -> str:
    """qms.yaml edited and signed 'changed' by an admin, as a registry change must be."""
    path = world.repo / "qms.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    world.git("add", "qms.yaml")
    digest = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    return world.raw_commit(
        admin, world.trailers("qms.yaml", "qms.yaml", "changed", content=digest)
    )


def test_a_protected_branch_is_never_rewritten_or_deleted_and_a_push_cannot_unprotect_it(
    world: World, server: GitServer
) -> None:
    admin, author = world.people["a.weber"], world.people["l.santos"]
    connect(world, server)
    assert push(world.repo, "origin", "main").ok
    accepted = world.head()

    # Rewriting: an amended commit, force-pushed.
    with world.acting(author):
        world.git("commit", "-q", "--amend", "--no-gpg-sign", "-m", "Rewritten", "-m", "Reason: x")
    forced = push(world.repo, "--force", "origin", "main")
    assert forced.status("refs/heads/main") == REFUSED
    assert (
        f"qms: refused main: main is a protected branch: this push is not a fast-forward of "
        f"{accepted[:12]} and would rewrite its history" in forced.remote
    )
    assert any(
        line.startswith("    fix: keep your commits on a branch and merge them into the server's")
        and line.endswith("never force-push a protected branch")
        for line in forced.remote
    ), forced.remote
    # Deleting.
    deleting = push(world.repo, "origin", ":main")
    assert deleting.status("refs/heads/main") == REFUSED
    assert (
        "qms: refused main: main is a protected branch: it cannot be deleted (its history is "
        "the record)" in deleting.remote
    )
    assert server.tip() == accepted

    # A push cannot loosen the rules it is judged by: they are read from what the server holds.
    world.git("reset", "-q", "--hard", accepted)
    path = world.repo / "qms.yaml"
    path.write_text(
        path.read_text().replace("protected_branches: [main]", "protected_branches: [x]")
    )
    world.git("add", "qms.yaml")
    with world.acting(author):
        world.git("commit", "-q", "--no-gpg-sign", "-m", "Unprotect", "-m", "Reason: faster")
    unprotecting = world.head()
    world.git("reset", "-q", "--hard", "HEAD~2")
    world.git("cherry-pick", "--allow-empty", unprotecting)
    both = push(world.repo, "--force", "origin", "main")  # loosen and rewrite at once
    assert both.status("refs/heads/main") == REFUSED
    assert "this push is not a fast-forward" in "\n".join(both.remote)
    world.git("reset", "-q", "--hard", unprotecting)
    unsigned = push(world.repo, "origin", "main")  # as a fast-forward: not signed by an admin
    assert unsigned.status("refs/heads/main") == REFUSED
    assert any(
        "qms.yaml was changed in a commit that states Lucia Santos <l.santos@st-aurelia.example> "
        "as its committer, without an admin's signature"
        in line
        and line.endswith("[signature.invalid]")
        for line in unsigned.remote
    ), unsigned.remote
    assert server.tip() == accepted

    # An admin's signed change protects release branches from the next push on.
    world.git("reset", "-q", "--hard", accepted)
    signed = signed_config_change(
        world, admin, "protected_branches: [main]", 'protected_branches: [main, "release/*"]'
    )
    assert push(world.repo, "origin", "main").ok
    assert server.tip() == signed
    release = push(world.repo, "origin", "main:refs/heads/release/2026")
    assert release.ok, release.stderr
    assert f"qms: protected branches: main, release/* (qms.yaml at main {signed[:12]})" in (
        release.remote
    )
    assert "qms: release/2026: the gate of `qms check`:" in release.remote
    assert (
        push(world.repo, "--force", "origin", "HEAD~1:refs/heads/release/2026").status(
            "refs/heads/release/2026"
        )
        == REFUSED
    )
    assert (
        push(world.repo, "origin", ":refs/heads/release/2026").status("refs/heads/release/2026")
        == REFUSED
    )
    assert server.tip("refs/heads/release/2026") == signed


def test_unprotected_branches_take_any_change_and_are_still_receipted(
    world: World, server: GitServer
) -> None:
    author = world.people["l.santos"]
    connect(world, server)
    assert push(world.repo, "origin", "main").ok
    world.git("checkout", "-q", "-b", "draft")
    (world.repo / SOP).write_text((world.repo / SOP).read_text() + "\nMore.\n")
    with world.acting(author):
        world.git("commit", "-q", "-a", "--no-gpg-sign", "-m", "No reason given")
    draft = world.head()
    assert qms("check", "origin/main..HEAD", repo=world.repo).exit_code == 1  # main would refuse
    pushed = push(world.repo, "origin", "draft")
    assert pushed.ok and pushed.status("refs/heads/draft") == "* [new branch]"
    assert "qms: draft: not protected; accepted without the gate" in pushed.remote
    world.git("reset", "-q", "--hard", "HEAD~1")
    assert (
        push(world.repo, "--force", "origin", "draft").status("refs/heads/draft").startswith("+ ")
    )
    assert push(world.repo, "origin", ":draft").status("refs/heads/draft") == "- [deleted]"
    assert server.tip("refs/heads/draft") is None
    clone = fresh_clone(server, world.base)
    assert receipts(clone)[draft]["ref"] == "refs/heads/draft"  # received, even if gone now


# -- only the server writes receipts ------------------------------------------------------------


def test_clients_cannot_push_notes_so_receipts_stay_the_servers(
    world: World, server: GitServer
) -> None:
    connect(world, server)
    assert push(world.repo, "origin", "main").ok
    genuine = server.tip(RECEIPTS)
    assert genuine is not None
    world.git("fetch", "-q", "origin", f"{RECEIPTS}:{RECEIPTS}")
    world.git(
        "notes",
        f"--ref={RECEIPTS}",
        "add",
        "-f",
        "-m",
        "qms-receipt 1\nreceived: 2026-01-01T00:00:00Z\nref: refs/heads/main",
        "HEAD",
    )
    forged = push(world.repo, "origin", RECEIPTS)
    assert forged.status(RECEIPTS) == REFUSED
    assert (
        f"qms: refused {RECEIPTS}: notes are written only by the server ({RECEIPTS} holds its "
        "receipts); a push cannot add, change or delete them" in forged.remote
    )
    assert push(world.repo, "--force", "origin", RECEIPTS).status(RECEIPTS) == REFUSED
    assert push(world.repo, "origin", f":{RECEIPTS}").status(RECEIPTS) == REFUSED
    world.git("notes", "add", "-m", "a comment", "HEAD")
    assert push(world.repo, "origin", "refs/notes/commits").status("refs/notes/commits") == REFUSED
    # One refused ref refuses the whole push: the branch that came with the notes is not created.
    together = push(world.repo, "origin", "main:refs/heads/feature", RECEIPTS)
    assert together.status("refs/heads/feature") == REFUSED
    assert server.tip("refs/heads/feature") is None
    assert server.tip(RECEIPTS) == genuine
    assert server.tip("refs/notes/commits") is None


# -- concurrent pushes --------------------------------------------------------------------------


def test_two_clones_push_to_main_at_once_one_wins_and_nothing_is_lost(
    world: World, server: GitServer
) -> None:
    connect(world, server)
    assert push(world.repo, "origin", "main").ok
    first = fresh_clone(server, world.base, "first")
    second = fresh_clone(server, world.base, "second")
    sop = (first / SOP).read_text()
    (first / SOP).write_text(sop.replace("Described.", "Described by the first.", 1))
    admin = world.people["a.weber"]
    signed = [*world.sign_args(admin), "-m"]  # changes are signed by their author
    git(first, "commit", "-q", "-a", *signed, "First", "-m", "Reason: one", env=admin.signing_env())
    (second / "docs" / "index.md").write_text("# Second\n")
    git(
        second,
        "commit",
        "-q",
        "-a",
        *signed,
        "Second",
        "-m",
        "Reason: two",
        env=admin.signing_env(),
    )
    ours = {
        first: git(first, "rev-parse", "HEAD"),
        second: git(second, "rev-parse", "HEAD"),
    }

    results = dict(
        zip((first, second), push_at_once((first, second), "origin", "main"), strict=True)
    )
    winners = [clone for clone, pushed in results.items() if pushed.ok]
    assert len(winners) == 1, {c.name: (r.code, r.stdout, r.stderr) for c, r in results.items()}
    loser = second if winners == [first] else first
    lost = results[loser]
    # Nothing of the loser reached main, and it is told why. Which words depends on when it
    # met the winner: its gate saw main move (the common case), git's own ref update found
    # main moved (both were judged at once), or the client saw the new tip before sending.
    status = lost.status("refs/heads/main")
    moved = f"qms: refused main: main moved to {ours[winners[0]][:12]} while this push was on "
    if status == REFUSED:
        assert any(line.startswith(moved) for line in lost.remote), lost.remote
        fix = "    fix: keep your commits on a branch and merge them into the server's main: "
        assert any(line.startswith(fix) for line in lost.remote), lost.remote
    else:
        assert status in (
            "! [remote rejected] (failed to update ref)",
            "! [rejected] (fetch first)",
        ), lost.stderr
    assert server.tip() == ours[winners[0]]

    # As the hook says: the loser's work merged into the server's main (its first parent).
    git(loser, "fetch", "-q", "origin")
    git(loser, "switch", "-q", "-c", "my-work")
    git(loser, "switch", "-q", "-C", "main", "origin/main")
    git(loser, "merge", "-q", "--no-ff", "--no-edit", "my-work")
    merge = git(loser, "rev-parse", "HEAD")
    again = push(loser, "origin", "main")
    assert again.ok, again.stderr
    assert server.tip() == merge

    clone = fresh_clone(server, world.base)
    assert "Described by the first." in (clone / SOP).read_text()
    assert (clone / "docs" / "index.md").read_text() == "# Second\n"
    found = receipts(clone)
    assert {ours[first], ours[second], merge} <= set(found)
    assert all(found[c]["ref"] == "refs/heads/main" for c in (ours[first], ours[second], merge))


def test_concurrent_pushes_each_get_their_receipts_and_the_notes_only_grow(
    world: World, server: GitServer
) -> None:
    connect(world, server)
    assert push(world.repo, "origin", "main").ok
    clones = [fresh_clone(server, world.base, f"clone{n}") for n in range(4)]
    made = {}
    for number, clone in enumerate(clones):
        git(clone, "checkout", "-q", "-b", f"topic/{number}")
        git(clone, "commit", "-q", "--allow-empty", "--no-gpg-sign", "-m", f"Topic {number}")
        made[git(clone, "rev-parse", "HEAD")] = f"refs/heads/topic/{number}"
    assert all(pushed.ok for pushed in push_at_once(clones, "origin", "HEAD"))
    clone = fresh_clone(server, world.base)
    found = receipts(clone)
    assert {commit: found[commit]["ref"] for commit in made} == made
    # Append-only: a single line of notes commits, each adding to the one before.
    history = git(clone, "rev-list", "--parents", RECEIPTS).splitlines()
    assert [len(line.split()) for line in history] == [2] * (len(history) - 1) + [1]
    assert len(history) == 5  # the first push, then one per topic branch


# -- back-dating --------------------------------------------------------------------------------


def test_a_back_dated_signature_is_flagged_against_its_receipt(
    team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, admin, officer = team.world, team.admin, team.officer
    team.on("2026-01-06")
    team.write_sop(1, "2026-02-01", "Described.")
    before = world.head()
    # The server held this history before the hook was installed: it gets no receipts.
    server = GitServer(tmp_path)
    server.create(seed=world.repo)
    server.install()
    server.start()
    try:
        connect(world, server)
        world.git("fetch", "-q", "origin")
        team.on("2026-06-01")  # a review dated months before it reaches the server
        world.qms(officer, "review", "SOP-0001", "--reason", "content checked")
        reviewed = world.head()
        assert push(world.repo, "origin", "main").ok
        for variable in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
            monkeypatch.delenv(variable)  # the approval: dated now, as git dates it
        world.qms(admin, "approve", "SOP-0001", "--reason", "released")
        approved = world.head()
        assert push(world.repo, "origin", "main").ok
        clone = fresh_clone(server, world.base)
    finally:
        server.stop()

    assert set(receipts(clone)) == {reviewed, approved}
    report = qms_json(clone, "verify")
    assert report["failures"] == 0 and report["date_flags"] == 1
    by_commit = {s["commit"]: s for s in report["signatures"]}
    flag = by_commit[reviewed]["date_flag"]
    days = (received(receipts(clone)[reviewed]) - datetime(2026, 6, 1, 10, tzinfo=UTC)).days
    assert flag == (
        f"back-dated: dated {days} days before the server received it (tolerance 24 hours)"
    )
    assert by_commit[approved]["date_flag"] is None and by_commit[approved]["receipt"]
    assert all(
        s["receipt"] is None
        for s in report["signatures"]
        if s["commit"] not in (reviewed, approved)
    )
    assert before in commits(clone, "main")
    result = qms("verify", repo=clone)
    assert result.exit_code == 0  # a flag is for the reviewer; the signature itself is valid
    lines = result.output.splitlines()
    at = next(i for i, line in enumerate(lines) if reviewed[:12] in line)
    assert lines[at + 1].startswith("    received ") and lines[at + 2] == f"    {flag}"
    assert lines[-1].endswith(
        ", 0 invalid, 1 with a date far from its receipt; trust root " + report["trust_root"][:12]
    )
    header = qms("log", "SOP-0001", "--format", "csv", repo=clone).output.splitlines()[0]
    assert (
        header == "commit,date,name,email,action,reason,verdict,summary,received,pusher,date_flag"
    )
    assert flag in qms("log", "SOP-0001", repo=clone).output


# -- replace refs never reach the server --------------------------------------------------------


def test_replace_refs_are_refused_so_plain_git_on_the_server_shows_what_was_committed(
    world: World, server: GitServer
) -> None:
    """An insider with push rights replaces the approved SOP text and the approval commit;
    gitqms reads objects as committed, but plain git on the server, and every clone that
    fetches refs/replace/*, would show the forgery."""
    admin, reviewer = world.people["a.weber"], world.people["m.okafor"]
    world.qms(reviewer, "review", "SOP-0001", "--reason", "content checked")
    world.qms(admin, "approve", "SOP-0001", "--reason", "released")
    approval = world.head()
    connect(world, server)
    assert push(world.repo, "origin", "main").ok
    approved_text = world.content(SOP).decode()
    blob = world.git("rev-parse", f"HEAD:{SOP}")
    forged = world.git(
        "hash-object", "-w", "--stdin", input=approved_text + "\nRoom temperature.\n"
    )
    world.git("replace", blob, forged)
    unsigned = world.git("commit-tree", "HEAD^{tree}", "-p", "HEAD~1", "-m", "Signature")
    world.git("replace", approval, unsigned)

    pushed = push(world.repo, "origin", "refs/replace/*:refs/replace/*")
    for replaced in (blob, approval):
        ref = f"refs/replace/{replaced}"
        assert pushed.status(ref) == REFUSED
        assert (
            f"qms: refused {ref}: replace refs make plain git show another object in place of "
            f"{replaced}; the server keeps history only as committed" in pushed.remote
        )
        assert server.tip(ref) is None
    assert server.git("show", f"main:{SOP}") == approved_text.strip()
    assert "\ngpgsig " in server.git("cat-file", "commit", "main")  # the signed approval

    # One left on the server from before the hook refused them can be deleted by a push.
    server.git("replace", blob, server.git("rev-parse", "main:qms.yaml"))
    deleted = push(world.repo, "origin", f":refs/replace/{blob}")
    assert deleted.ok, deleted.stderr
    assert server.tip(f"refs/replace/{blob}") is None
