"""The Reason where it is needed (issue 22, item 3): the commit-msg hook that git runs before a
commit of a controlled file, how it is installed, and `qms commit --reason`. Real repositories,
real `git commit` running the installed hook."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

from toolkit.cli import qms, write
from toolkit.people import Person
from toolkit.process import environment, git, run
from toolkit.world import SOP, World, refused, snapshot

ADMIN = ("--name", "Dr. Anna Weber", "--email", "a.weber@st-aurelia.example")


def install(world: World) -> Path:
    out = world.qms(world.people["l.santos"], "hook", "install-commit-msg")
    hook = world.repo / ".git" / "hooks" / "commit-msg"
    assert out.strip() == f"installed {hook}"
    return hook


def edit_sop(world: World, text: str = "Described again.") -> None:
    sop = world.repo / SOP
    sop.write_text(sop.read_text().replace("Described.", text, 1))


def commit(world: World, person: Person, *args: str) -> subprocess.CompletedProcess[str]:
    """`git commit` as `person` types it, signed with their key, the hooks running."""
    with world.acting(person):
        env = environment() | person.signing_env()
        return run(
            ["git", "commit", "-q", *world.sign_args(person), *args],
            cwd=world.repo,
            env=env,
            check=False,
        )


def test_a_commit_changing_an_sop_without_a_reason_is_refused_by_git(world: World) -> None:
    author = world.people["l.santos"]
    hook = install(world)
    mode = hook.stat().st_mode
    assert mode & stat.S_IXUSR, oct(mode)
    assert f"exec {sys.executable} -I -X utf8 -m gitqms.cli --repo . hook commit-msg" in (
        hook.read_text()
    )
    edit_sop(world)
    world.git("add", SOP)
    before = snapshot(world)
    result = commit(world, author, "-m", "Edit the SOP")
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        f"qms: this commit changes controlled files ({SOP}) and its message has no 'Reason:' "
        "trailer" in result.stderr
    )
    assert "qms commit -m 'Summary' --reason 'why this changed'" in result.stderr
    assert "Reason: why this changed" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(world) == before  # nothing committed, the change still staged
    # `git commit -a` and `git commit PATH` are judged on the index git gives the hook.
    world.git("reset", "-q")
    assert commit(world, author, "-am", "Edit the SOP").returncode == 1
    assert commit(world, author, "-m", "Edit the SOP", "--", SOP).returncode == 1
    assert world.head() == before[0]
    # An empty Reason is no reason.
    assert commit(world, author, "-am", "Edit", "-m", "Reason:").returncode == 1


def test_a_commit_with_a_reason_passes_and_qms_check_accepts_it(world: World) -> None:
    author = world.people["l.santos"]
    install(world)
    edit_sop(world)
    base = world.head()
    result = commit(world, author, "-am", "Edit the SOP", "-m", "Reason: clearer wording")
    assert result.returncode == 0, result.stderr
    assert world.git("log", "-1", "--format=%(trailers:key=Reason,valueonly)") == (
        "clearer wording"
    )
    report = json.loads(world.qms(author, "check", f"{base}..HEAD", "--format", "json"))
    assert [v["rule"] for v in report["violations"] if v["severity"] == "error"] == []


def test_a_commit_of_uncontrolled_files_passes_without_a_reason(world: World) -> None:
    author = world.people["l.santos"]
    install(world)
    write(world.repo / "README.md", "# Our QMS\n")
    write(world.repo / "notes" / "todo.txt", "ask QA\n")
    world.git("add", "README.md", "notes")
    before = world.head()
    result = commit(world, author, "-m", "Notes for the team")
    assert result.returncode == 0, result.stderr
    assert world.git("rev-parse", "HEAD~1") == before


def test_a_merge_passes_without_a_reason(world: World) -> None:
    author = world.people["l.santos"]
    install(world)
    world.git("switch", "-q", "-c", "change")
    edit_sop(world)
    assert commit(world, author, "-am", "Edit", "-m", "Reason: wording").returncode == 0
    world.git("switch", "-q", "main")
    write(world.repo / "README.md", "# Our QMS\n")
    world.git("add", "README.md")
    assert commit(world, author, "-m", "Readme").returncode == 0
    with world.acting(author):
        merged = run(
            ["git", "merge", "--no-ff", "--no-gpg-sign", "-m", "Merge change", "change"],
            cwd=world.repo,
            env=environment(),
            check=False,
        )
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert len(world.git("log", "-1", "--format=%P").split()) == 2


def test_qms_commit_writes_the_trailer_and_signs(world: World) -> None:
    author = world.people["l.santos"]
    install(world)  # the hook runs under qms commit too, and lets it through
    edit_sop(world)
    base = world.head()
    out = world.qms(author, "commit", "-m", "Clarify receipt", "--reason", "audit finding", SOP)
    assert out.startswith("signed commit "), out
    assert "1 file, 1 controlled, Reason: audit finding" in out
    assert world.git("log", "-1", "--format=%B") == "Clarify receipt\n\nReason: audit finding"
    assert "\ngpgsig -----BEGIN SSH SIGNATURE-----" in world.git("cat-file", "commit", "HEAD")
    report = json.loads(world.qms(author, "check", f"{base}..HEAD", "--format", "json"))
    assert [v for v in report["violations"] if v["severity"] == "error"] == []
    # What is already staged, with a trailer paragraph of its own: the Reason joins it.
    edit_sop(world, "Described once more.")
    world.git("add", SOP)
    message = "Clarify again\n\nRefs: CAPA-2026-001"
    world.qms(author, "commit", "-m", message, "--reason", "second finding")
    assert world.git("log", "-1", "--format=%B") == (
        "Clarify again\n\nRefs: CAPA-2026-001\nReason: second finding"
    )


def test_qms_commit_refuses_and_changes_nothing(world: World) -> None:
    author = world.people["l.santos"]
    out = refused(world, author, "commit", "-m", "Nothing", "--reason", "why")
    assert "error: nothing is staged to commit" in out
    edit_sop(world)
    out = refused(world, author, "commit", "-m", "Edit", "--reason", "  ", SOP)
    assert "error: the reason is empty" in out
    out = refused(world, author, "commit", "-m", "Edit\n\nReason: one", "--reason", "two", SOP)
    assert "already has the trailer 'Reason: one', which differs from --reason 'two'" in out
    sop = world.repo / SOP
    sop.write_text(sop.read_text().replace("version: 1", "version: one", 1))
    out = refused(world, author, "commit", "-m", "Edit", "--reason", "why", SOP)
    assert "the files to commit do not validate; nothing was committed" in out
    # A controlled file staged, then changed again: what would be checked is not what is
    # committed.
    edit_sop(world)
    world.git("add", SOP)
    sop.write_text(sop.read_text() + "\nMore.\n")
    out = refused(world, author, "commit", "-m", "Edit", "--reason", "why")
    assert f"{SOP} has changes that are not staged" in out


def test_qms_init_installs_the_hook(tmp_path: Path) -> None:
    target = tmp_path / "qms"
    result = qms("init", target, *ADMIN)
    assert result.exit_code == 0, result.output + result.stderr
    hook = target / ".git" / "hooks" / "commit-msg"
    assert f"installed the commit-msg hook {hook}" in result.output
    assert "gitqms commit-msg hook" in hook.read_text()
    git(target, "add", "-A")
    refusal = run(
        ["git", "commit", "-q", "-m", "Initial"], cwd=target, env=environment(), check=False
    )
    assert refusal.returncode == 1
    assert "qms.yaml" in refusal.stderr and "'Reason:'" in refusal.stderr
    git(target, "commit", "-q", "-m", "Initial", "-m", "Reason: set up the QMS")
    assert git(target, "log", "--format=%s") == "Initial"
    skipped = tmp_path / "plain"
    assert qms("init", skipped, *ADMIN, "--no-commit-msg-hook").exit_code == 0
    assert not (skipped / ".git" / "hooks" / "commit-msg").exists()


def test_a_foreign_hook_is_kept_unless_forced(world: World) -> None:
    author = world.people["l.santos"]
    foreign = write(world.repo / ".git" / "hooks" / "commit-msg", "#!/bin/sh\nexit 0\n")
    out = world.qms(author, "hook", "install-commit-msg", ok=False)
    assert f"error: {foreign} already exists and was not written by gitqms; nothing was" in out
    assert "--force" in out
    assert foreign.read_text() == "#!/bin/sh\nexit 0\n"
    out = world.qms(author, "hook", "install-commit-msg", "--force")
    assert f"replaced a hook gitqms did not write: {foreign}" in out
    assert "gitqms commit-msg hook" in foreign.read_text()
    # Ours is rewritten without --force.
    assert world.qms(author, "hook", "install-commit-msg").strip() == f"installed {foreign}"


def test_the_hook_follows_core_hooks_path(world: World) -> None:
    author = world.people["l.santos"]
    world.git("config", "core.hooksPath", "my-hooks")
    out = world.qms(author, "hook", "install-commit-msg")
    assert out.strip() == f"installed {world.repo / 'my-hooks' / 'commit-msg'}"
    assert not (world.repo / ".git" / "hooks" / "commit-msg").exists()
    edit_sop(world)
    assert commit(world, author, "-am", "Edit").returncode == 1
