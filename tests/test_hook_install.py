"""`qms hook install` and the hook commands run by hand: what is written where, what is refused,
and the server policy in qms.yaml."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from gitqms.cli.main import cli
from gitqms.records.config import QmsConfig
from gitqms.validation.run import parse_config
from toolkit.cli import qms, write
from toolkit.process import git


def bare(tmp_path: Path, name: str = "srv.git") -> Path:
    path = tmp_path / name
    git(tmp_path, "init", "-q", "--bare", "--initial-branch=main", str(path))
    return path


def hook_input(repo: Path, command: str, text: str) -> Result:
    runner = CliRunner(mix_stderr=False)
    return runner.invoke(cli, ["--repo", str(repo), "hook", command], input=text)


def test_install_writes_two_executable_hooks_that_run_this_python(tmp_path: Path) -> None:
    repo = bare(tmp_path)
    result = qms("hook", "install", str(repo))
    assert result.exit_code == 0, result.output + result.stderr
    assert (
        "clones fetch the receipts after: git config --add remote.origin.fetch "
        "refs/notes/qms-receipts:refs/notes/qms-receipts" in result.output
    )
    for name in ("pre-receive", "post-receive"):
        hook = repo / "hooks" / name
        mode = hook.stat().st_mode
        assert mode & stat.S_IXUSR and mode & stat.S_IXOTH, oct(mode)
        text = hook.read_text()
        assert text.startswith("#!/bin/sh\n# gitqms server hook")
        assert (
            text.splitlines()[-1] == f"exec {sys.executable} -I -X utf8 -m gitqms.cli hook {name}"
        )
    # Written in place of temporary files, none left behind; installing again is the same.
    before = {p.name: p.read_text() for p in (repo / "hooks").iterdir()}
    assert qms("hook", "install", str(repo)).exit_code == 0
    assert {p.name: p.read_text() for p in (repo / "hooks").iterdir()} == before
    assert not [p for p in (repo / "hooks").iterdir() if p.name.endswith(".tmp")]


def test_install_keeps_a_hook_it_did_not_write_unless_forced(tmp_path: Path) -> None:
    repo = bare(tmp_path)
    foreign = write(repo / "hooks" / "post-receive", "#!/bin/sh\necho mirror to backup\n")
    result = qms("hook", "install", str(repo))
    assert result.exit_code == 2
    assert f"error: {foreign} already exists and was not written by gitqms; nothing was " in (
        result.stderr
    )
    assert "fix: merge its work into another hook, or replace it with --force" in result.stderr
    assert foreign.read_text() == "#!/bin/sh\necho mirror to backup\n"
    assert not (repo / "hooks" / "pre-receive").exists()  # nothing half-installed
    forced = qms("hook", "install", str(repo), "--force")
    assert forced.exit_code == 0
    assert f"replaced a hook gitqms did not write: {foreign}" in forced.output
    assert "gitqms server hook (post-receive)" in foreign.read_text()


def test_install_follows_core_hooks_path(tmp_path: Path) -> None:
    repo = bare(tmp_path)
    git(repo, "config", "core.hooksPath", "server-hooks")
    assert qms("hook", "install", str(repo)).exit_code == 0
    assert (repo / "server-hooks" / "pre-receive").is_file()
    assert not (repo / "hooks" / "pre-receive").exists()


def test_install_refuses_what_is_not_a_bare_repository(tmp_path: Path) -> None:
    work = tmp_path / "work"
    git(tmp_path, "init", "-q", str(work))
    result = qms("hook", "install", str(work))
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert f"error: {work} is not a bare repository" in result.stderr
    plain = tmp_path / "plain"
    plain.mkdir()
    result = qms("hook", "install", str(plain))
    assert result.exit_code == 2 and f"error: {plain} is not a git repository" in result.stderr
    assert not (work / ".git" / "hooks" / "pre-receive").exists()


def test_the_pre_receive_command_refuses_a_push_made_against_an_old_tip(tmp_path: Path) -> None:
    """A push judged after another one moved the branch is refused by the gate, in words,
    before git's own compare-and-swap would refuse it tersely."""
    work, repo = tmp_path / "work", tmp_path / "srv.git"
    git(tmp_path, "init", "-q", "--initial-branch=main", str(work))
    for message in ("one", "two", "three"):
        git(work, "commit", "-q", "--allow-empty", "--no-gpg-sign", "-m", message)
    git(tmp_path, "clone", "-q", "--bare", str(work), str(repo))
    one, two, three = git(work, "rev-list", "--reverse", "main").split()
    git(repo, "update-ref", "refs/heads/main", two)
    stale = hook_input(repo, "pre-receive", f"{one} {three} refs/heads/main\n")
    assert stale.exit_code == 1
    assert (
        f"qms: refused main: main moved to {two[:12]} while this push was on its way: another "
        "push came first" in stale.output
    )
    assert stale.output.splitlines()[-1] == "qms: push refused; nothing was changed on the server"


def test_hook_commands_refuse_input_that_is_not_ref_updates(tmp_path: Path) -> None:
    repo = bare(tmp_path)
    for command in ("pre-receive", "post-receive"):
        result = hook_input(repo, command, "main is now abc\n")
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.stderr
        assert "error: line 1 of the hook's input is not 'OLD NEW REF'" in result.stderr
        assert "install it with `qms hook install BARE_REPO`" in result.stderr


def test_the_server_policy_in_qms_yaml(example: Path) -> None:
    config_path = example / "qms.yaml"
    text = config_path.read_text()
    assert "server:\n  # Never rewritten" in text  # the shipped example says it explicitly

    def parsed(source: str) -> QmsConfig:
        config, findings = parse_config(source)
        assert config is not None, findings
        return config

    config = parsed(text)
    assert config.protected_branches == ("main",) and config.receipt_tolerance_hours == 24
    # Both spellings count (the older top-level list too); without either, main is protected.
    both = text.replace(
        "protected_branches: [main]", 'protected_branches: [main, "release/*"]'
    ).replace("receipt_tolerance_hours: 24", "receipt_tolerance_hours: 72")
    config = parsed(both + "protected_branches: [production]\n")
    assert config.protected_branches == ("main", "release/*", "production")
    assert config.receipt_tolerance_hours == 72
    bare_server = text[: text.index("server:\n")]
    assert parsed(bare_server).protected_branches == ("main",)
    assert parsed(bare_server).receipt_tolerance_hours == 24
    # Nonsense is a finding, with its fix.
    config_path.write_text(
        text.replace("receipt_tolerance_hours: 24", "receipt_tolerance_hours: 0").replace(
            "protected_branches: [main]", 'protected_branches: ["main branch"]'
        )
    )
    result = qms("validate", repo=example)
    assert result.exit_code == 1
    assert "a whole number of hours, such as 24" in result.output
    assert "a branch name such as 'main', or a pattern such as 'release/*'" in result.output
