"""Hostile or unusual input: the tool answers with a finding or a usage error, never a crash."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from toolkit.cli import QMS, qms, qms_cli, write
from toolkit.process import git, run


def init(target: Path) -> Path:
    result = qms(
        "init",
        target,
        "--admin",
        "a.weber",
        "--name",
        "Dr. Anna Weber",
        "--email",
        "a.weber@st-aurelia.example",
    )
    assert result.exit_code == 0, result.stderr
    return target


def validate_one(example: Path, path: Path) -> tuple[int, str]:
    result = qms("validate", path, repo=example)
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("? [a, b]\n: 1", "the key 'a list or map' is not text"),
        ("big: " + "9" * 5000, "a number of 5000 digits, longer than any field allows"),
    ],
)
def test_hostile_yaml_is_a_finding(example: Path, line: str, message: str) -> None:
    path = example / "capa" / "CAPA-2026-0001.yaml"
    text = path.read_text()
    path.write_text(text + line + "\n")
    code, out = validate_one(example, path)
    assert code == 1
    assert (
        f"capa/CAPA-2026-0001.yaml:{text.count(chr(10)) + 1}: error: CAPA-2026-0001: {message}"
        in out
    )


def test_a_dashed_line_in_a_block_text_is_not_nesting(example: Path) -> None:
    path = example / "capa" / "CAPA-2026-0001.yaml"
    path.write_text(path.read_text() + "note: |\n  " + "-" * 1500 + "\n")
    code, out = validate_one(example, path)
    assert code == 1
    assert "unknown field 'note'" in out and "nesting" not in out


def test_an_unclosed_quote_is_reported_where_it_opens(example: Path) -> None:
    path = example / "deviations" / "DEV-2026-0001.yaml"
    text = path.read_text()
    path.write_text(text + 'note: "never closed\nmore text\n\n')
    code, out = validate_one(example, path)
    assert code == 1
    assert f"deviations/DEV-2026-0001.yaml:{text.count(chr(10)) + 1}: error:" in out


def test_a_symlinked_record_is_refused_and_not_followed(example: Path, tmp_path: Path) -> None:
    secret = write(tmp_path / "outside.yaml", "id: DEV-2026-0999\nsecret: value outside the repo\n")
    link = example / "deviations" / "DEV-2026-0999.yaml"
    link.symlink_to(secret)
    code, out = validate_one(example, link)
    assert code == 1
    assert (
        "deviations/DEV-2026-0999.yaml: error: DEV-2026-0999: the record is a symbolic link" in out
    )
    assert "secret" not in out


def test_privacy_patterns_cannot_be_switched_off(example: Path) -> None:
    config = example / "qms.yaml"
    data = yaml.safe_load(config.read_text())
    data.pop("privacy")
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    path = example / "deviations" / "DEV-2026-0001.yaml"
    path.write_text(path.read_text() + "# MRN: 12345678\n")
    code, out = validate_one(example, path)
    assert code == 1
    assert "looks like it holds a patient identifier (medical record number)" in out
    assert "12345678" not in out


@pytest.mark.parametrize("pattern", [".*", "^.+$", "^[A-Za-z ,]+$"])
def test_a_coi_pattern_that_accepts_names_is_refused(example: Path, pattern: str) -> None:
    config = example / "qms.yaml"
    data = yaml.safe_load(config.read_text())
    data["coi"]["pattern"] = pattern
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    result = qms("validate", "qms.yaml", repo=example)
    assert result.exit_code == 1
    assert "the COI pattern also accepts empty text or names" in result.stdout


def test_new_keeps_braces_and_yaml_specials_in_titles_as_written(tmp_path: Path) -> None:
    repo = init(tmp_path / "qms")
    title = 'Use {{owner}} and {{type_block}}: "quotes", # not a comment, [brackets]'
    for kind in ("sop", "deviation", "capa"):
        result = qms("new", kind, "--title", title, repo=repo)
        assert result.exit_code == 0, result.stderr
        text = (repo / result.stdout.strip()).read_text()
        front = text.split("---\n")[1] if kind == "sop" else text
        assert yaml.safe_load(front)["title"] == title
    assert qms("validate", repo=repo).exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--ref", "qms.yaml"), "qms.yaml is not a record of this repository"),
        (("--ref", "sops/SOP-0001.md"), "sops/SOP-0001.md is not a record of this repository"),
    ],
)
def test_new_refuses_references_that_are_not_record_ids(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    repo = init(tmp_path / "qms")
    qms("new", "sop", "--title", "Document control", repo=repo)
    result = qms("new", "capa", "--title", "Something", *args, repo=repo)
    assert result.exit_code == 2
    assert message in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--name", "A\nB"), "the values given would make qms.yaml invalid"),
        (("--organisation", "ab"), "the values given would make qms.yaml invalid"),
        (("--admin", "Not An Id"), "the values given would make qms.yaml invalid"),
        (("--email", "nobody"), "the values given would make qms.yaml invalid"),
    ],
)
def test_init_refuses_values_that_would_not_validate(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = qms("init", tmp_path / "qms", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert not (tmp_path / "qms").exists()
    assert [p.name for p in tmp_path.iterdir()] == []


def test_init_under_a_file_is_a_clear_error(tmp_path: Path) -> None:
    blocker = write(tmp_path / "a-file", "x")
    result = qms("init", blocker / "sub")
    assert result.exit_code == 2
    assert f"cannot create {blocker / 'sub'}" in result.stderr


def test_init_ignores_a_git_dir_pointing_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other.git"
    monkeypatch.setenv("GIT_DIR", str(other))
    repo = init(tmp_path / "qms")
    monkeypatch.delenv("GIT_DIR")
    assert not other.exists()
    assert (repo / ".git").is_dir()


def test_ids_are_not_reused_when_the_qms_lives_in_a_subfolder(tmp_path: Path) -> None:
    outer = tmp_path / "hospital"
    outer.mkdir()
    git(outer, "init", "-q")
    repo = tmp_path / "staging"
    init(repo)
    (repo / ".git").rename(tmp_path / "unused.git")
    repo.rename(outer / "qms")
    repo = outer / "qms"
    qms("new", "sop", "--title", "First procedure", repo=repo)
    qms("new", "sop", "--title", "Second procedure", repo=repo)
    git(outer, "add", "-A")
    git(outer, "commit", "-qm", "two SOPs")
    git(outer, "rm", "-q", "qms/sops/SOP-0002.md")
    git(outer, "commit", "-qm", "deleted")
    result = qms("new", "sop", "--title", "Third procedure", repo=repo)
    assert result.stdout.strip() == "sops/SOP-0003.md"


def test_a_missing_repo_option_is_a_usage_error(tmp_path: Path) -> None:
    result = qms("--repo", tmp_path / "nowhere", "validate")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_terminal_escapes_in_file_names_are_shown_not_obeyed(example: Path) -> None:
    write(example / "sops" / "x\x1b]0;pwned\x07.md", "hello")
    done = qms_cli(example, "validate", check=False)
    assert done.returncode == 1
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert "sops/x\\x1b]0;pwned\\x07.md: error:" in done.stdout


def test_a_closed_pipe_ends_quietly(example: Path) -> None:
    for index in range(40):
        write(example / "sops" / f"stray-{index}.txt", "x")
    pipeline = f"{shlex.quote(str(QMS))} --repo {shlex.quote(str(example))} validate | head -1"
    done = run(["sh", "-c", pipeline], check=False)
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr


def test_a_failing_name_source_is_raised_not_a_silently_short_stream(tmp_path: Path) -> None:
    """cat_objects reads names in a feeder thread; its errors must reach the caller."""
    from gitqms import git

    git.init(tmp_path)
    (tmp_path / "a.txt").write_text("a\n")
    blob = git.hash_blob(tmp_path, b"a\n")

    def names() -> Iterator[str]:
        yield blob
        raise RuntimeError("the log broke off")

    with pytest.raises(RuntimeError, match="broke off"):
        list(git.cat_objects(tmp_path, names()))
    with pytest.raises(ValueError, match="newlines"):
        list(git.cat_objects(tmp_path, [blob, "HEAD:a\nb"]))


def test_a_reader_that_stops_early_is_not_blocked_by_the_feeder(tmp_path: Path) -> None:
    """The caller may stop reading cat_objects (a malformed commit) while git cat-file still has
    far more output than a pipe holds; stopping must not wait forever for the feeder thread."""
    import threading

    from gitqms import git

    git.init(tmp_path)
    blob = git.hash_blob(tmp_path, b"x" * 4096)
    outcome: list[str] = []

    def read_one() -> None:
        for name, _, _ in git.cat_objects(tmp_path, [blob] * 5000):
            outcome.append(name)
            break

    reader = threading.Thread(target=read_one, daemon=True)
    reader.start()
    reader.join(timeout=60)
    assert not reader.is_alive() and outcome == [blob]
