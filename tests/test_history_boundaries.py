"""History boundaries never choose the trust root.

In a shallow clone the commit where the history stops has no parents, and `.git/info/grafts` can
give any commit none: either way that commit looks like the one that introduces qms.yaml, so an
outsider's unsigned registry change, sitting at the boundary, would become the trust root and
the outsider's own signatures would count. Every command that reads the history refuses such a
repository, unless a trust root is pinned inside the history that is there; grafts are ignored
as replace refs are, so a pinned walk judges the history as committed.
"""

from __future__ import annotations

import json
from pathlib import Path

from toolkit.cli import qms, qms_cli
from toolkit.people import Person
from toolkit.process import git
from toolkit.world import SOP, World


def outsider_takes_over(world: World) -> tuple[str, str, str, Person]:
    """An insider with push rights (the SOP's author) commits, unsigned, a qms.yaml that
    registers an outsider as admin and QA manager; the outsider approves SOP-0001 with their
    own key.

    Returns (the last legitimate commit, the registry change, the approval, the outsider).
    """
    stranger = world.person("x.x", "Xavier X")
    legitimate = world.head()
    config = (world.repo / "qms.yaml").read_text()
    entry = (
        f'  - id: x.x\n    name: "Xavier X"\n    email: "{stranger.email}"\n'
        f"    roles: [admin, qa-manager]\n    keys:\n"
        f'      - public_key: "{stranger.public_line()}"\n        valid_from: "2020-01-01"\n'
    )
    forged = config.replace("people:\n", "people:\n" + entry, 1)
    insider = world.people["l.santos"]
    change = world.commit_file(insider, "qms.yaml", forged, "new QA manager")
    approval = world.raw_commit(stranger, world.trailers("SOP-0001", SOP, "approved", version="1"))
    return legitimate, change, approval, stranger


def report(repo: Path, *args: str) -> dict[str, object]:
    result = qms("verify", *args, "--format", "json", repo=repo)
    assert result.exit_code in (0, 1), result.output + result.stderr
    return dict(json.loads(result.output))


def verdict(found: dict[str, object], commit: str) -> dict[str, object]:
    signatures = found["signatures"]
    assert isinstance(signatures, list)
    return next(v for v in signatures if v["commit"] == commit)


def shallow_clone(world: World, depth: int, name: str = "shallow") -> Path:
    target = world.base / name
    git(world.base, "clone", "-q", f"--depth={depth}", f"file://{world.repo}", str(target))
    assert git(target, "rev-parse", "--is-shallow-repository") == "true"
    return target


# Every command that reads the history, as a user would run it in the cut repository.
COMMANDS = [
    ("verify",),
    ("check", "HEAD"),
    ("log", "SOP-0001"),
    ("status", "--date", "2026-06-01"),
    ("audit-trail", "--since", "2020-01-01", "--until", "2026-06-01"),
    ("build", "--date", "2026-06-01", "--site-dir", "{base}/site"),
    ("archive", "{base}/archive", "--date", "2026-06-01"),
]


def refused_everywhere(repo: Path, base: Path, *words: str) -> None:
    """Each command, run as the real `qms` program, refuses with the problem and its fix."""
    for command in COMMANDS:
        args = [arg.replace("{base}", str(base)) for arg in command]
        result = qms_cli(repo, *args, check=False)
        output = result.stdout + result.stderr
        assert result.returncode in (1, 2), (command, output)
        assert "Traceback" not in output
        for word in words:
            assert word in output, (command, output)
    assert not (base / "archive").exists() and not (base / "site").exists()


def test_the_full_history_judges_the_outsider(world: World) -> None:
    """The reference: with the whole history the registry change is unsigned, not adopted."""
    _, change, approval, _ = outsider_takes_over(world)
    found = report(world.repo)
    root = world.git("rev-list", "--max-parents=0", "HEAD")
    assert found["trust_root"] == root
    assert "is not registered" in str(verdict(found, approval)["problems"])
    assert "without an admin's signature" in str(verdict(found, change)["problems"])


def test_a_shallow_clone_is_refused_unless_a_trust_root_inside_it_is_pinned(
    world: World, tmp_path: Path
) -> None:
    legitimate, change, approval, stranger = outsider_takes_over(world)
    cut = shallow_clone(world, 2)  # the registry change is where the history stops
    assert git(cut, "rev-list", "--max-parents=0", "HEAD") == change
    # git itself finds the outsider's signature good by the boundary's registry: only the
    # trust chain, which the cut history no longer shows, makes it worthless.
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f'{stranger.email} namespaces="git" {stranger.public_line()}\n')
    git(cut, "-c", f"gpg.ssh.allowedSignersFile={allowed}", "verify-commit", approval)

    refused_everywhere(cut, tmp_path, "shallow", "git fetch --unshallow")
    assert "git config qms.trustRoot COMMIT" in qms("verify", repo=cut).stderr

    # A pinned root that the clone does not hold is named as such.
    missing = qms("verify", "--trust-root", legitimate, repo=cut)
    assert missing.exit_code == 2 and "not a commit of this repository" in missing.stderr

    # Deep enough to hold the last legitimate commit, and pinned there: judged correctly.
    deeper = shallow_clone(world, 3, "deeper")
    assert git(deeper, "rev-list", "--max-parents=0", "HEAD") == legitimate
    found = report(deeper, "--trust-root", legitimate)
    assert found["trust_root"] == legitimate
    assert "is not registered" in str(verdict(found, approval)["problems"])
    assert "without an admin's signature" in str(verdict(found, change)["problems"])
    git(deeper, "config", "qms.trustRoot", legitimate)
    assert report(deeper)["trust_root"] == legitimate
    assert qms("check", "HEAD", repo=deeper).exit_code == 1  # the violations, not a refusal

    # The whole history again: no pin needed, the true root found.
    git(cut, "fetch", "-q", "--unshallow")
    found = report(cut)
    assert found["trust_root"] == world.git("rev-list", "--max-parents=0", "HEAD")
    assert "is not registered" in str(verdict(found, approval)["problems"])


def test_a_pinned_root_does_not_cover_a_branch_cut_before_it(world: World) -> None:
    """A branch that left main before the pinned root and was merged after it reaches further
    back than the clone holds: its signatures would be judged without their registry."""
    admin = world.people["a.weber"]
    pinned = world.head()
    world.git("checkout", "-q", "-b", "side", "HEAD~1")
    for number in range(4):
        world.commit_file(admin, f"notes-{number}.txt", f"{number}\n", "working notes")
    world.git("checkout", "-q", "main")
    with world.acting(admin):
        world.git("merge", "-q", "--no-ff", "--no-gpg-sign", "side", "-m", "Merge side")
    cut = shallow_clone(world, 3)  # main: merge, pinned, its parent; side: cut at notes-1
    assert world.git("merge-base", "--is-ancestor", pinned, "HEAD") == ""
    result = qms("verify", "--trust-root", pinned, repo=cut)
    output = result.output + result.stderr
    assert result.exit_code == 2, output
    assert "after the trust root" in output and "git fetch --unshallow" in output


def test_grafts_are_refused_unless_pinned_and_then_ignored(world: World, tmp_path: Path) -> None:
    legitimate, change, approval, _ = outsider_takes_over(world)
    # The insider grafts the real root away: the registry change has no parents any more.
    grafts = world.repo / ".git" / "info" / "grafts"
    grafts.parent.mkdir(exist_ok=True)
    grafts.write_text(f"{change}\n")
    assert git(world.repo, "rev-list", "--max-parents=0", "HEAD") == change

    refused_everywhere(world.repo, tmp_path, ".git/info/grafts", "git grafts")
    assert "git config qms.trustRoot COMMIT" in qms("verify", repo=world.repo).stderr

    # Pinned, the walk reads the history as committed, grafts ignored.
    root = git(world.repo, "rev-list", "--max-parents=0", f"{legitimate}")
    for pin in (root, legitimate):
        found = report(world.repo, "--trust-root", pin)
        assert found["trust_root"] == pin
        assert "is not registered" in str(verdict(found, approval)["problems"])
        assert "without an admin's signature" in str(verdict(found, change)["problems"])
        committed = world.git("rev-list", "HEAD", env={"GIT_GRAFT_FILE": "/nonexistent"})
        assert found["commits"] == len(committed.split())
