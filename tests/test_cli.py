"""The `qms` command as users meet it: a real subprocess, exit codes, output formats, errors."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from toolkit.cli import ROOT, qms, qms_command, write


def test_the_shipped_examples_validate_clean() -> None:
    result = qms_command("validate", cwd=ROOT, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    folders = ("sops/*.md", "capa/*.yaml", "deviations/*.yaml", "changes/*.yaml")
    folders += ("work-instructions/*.md", "forms/*.md", "policies/*.md", "external/*.md")
    files = sum(len(list(ROOT.glob(pattern))) for pattern in folders)
    files += 1  # qms.yaml
    assert result.stdout == f"0 errors, 0 warnings in {files} files\n"


def test_the_examples_cover_what_the_domain_needs() -> None:
    listing = json.loads(qms_command("list", "--format", "json", cwd=ROOT, check=False).stdout)
    by_kind: dict[str, list[dict[str, str]]] = {}
    for record in listing["records"]:
        by_kind.setdefault(record["kind"], []).append(record)
    assert len(by_kind["sop"]) >= 8
    assert len(by_kind["deviation"]) >= 5
    assert len(by_kind["capa"]) >= 4
    assert len({r["state"] for r in by_kind["capa"]}) >= 4
    assert listing["invalid_files"] == 0


def test_validate_in_a_subfolder_finds_the_repository(example: Path) -> None:
    result = qms_command("validate", cwd=example / "sops", check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_outside_a_repository_is_a_usage_error(tmp_path: Path) -> None:
    result = qms_command("validate", cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert result.stderr.startswith(
        f"error: no qms.yaml in {tmp_path.resolve()} or any folder above it"
    )
    assert "fix: run the command inside a QMS repository" in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_files_exit_1_and_name_file_line_record_and_fix(example: Path) -> None:
    path = example / "capa" / "CAPA-2026-0001.yaml"
    path.write_text(path.read_text().replace("state: closed", "state: finished", 1))
    result = qms_command("validate", cwd=example, check=False)
    assert result.returncode == 1
    line = next(
        n for n, text in enumerate(path.read_text().splitlines(), 1) if text.startswith("state:")
    )
    assert re.search(
        rf"^capa/CAPA-2026-0001.yaml:{line}: error: CAPA-2026-0001: 'state' is the text 'finished'; "
        r"allowed: \"initiated\", .*\[schema.enum\]$",
        result.stdout,
        re.MULTILINE,
    ), result.stdout
    assert "    fix: use one of:" in result.stdout
    files = 1 + sum(len(list((example / f).iterdir())) for f in ("sops", "capa", "deviations"))
    assert result.stdout.endswith(f"1 error, 0 warnings in {files} files\n")


def test_json_output_is_machine_readable(example: Path) -> None:
    (example / "sops" / "notes.txt").write_text("not a record")
    result = qms_command("validate", "--format", "json", cwd=example, check=False)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["errors"] == 1
    assert report["findings"] == [
        {
            "path": "sops/notes.txt",
            "line": 0,
            "severity": "error",
            "code": "layout.unexpected-file",
            "message": "this file is not named as a record, so it is not under control",
            "fix": "name records as sops/SOP-0001.md; keep other files outside the record folders",
            "record": None,
        }
    ]


def test_validate_paths_limits_the_report_to_those_files(example: Path) -> None:
    broken = example / "deviations" / "DEV-2026-0001.yaml"
    broken.write_text(broken.read_text() + "surprise: field\n")
    only_sop = qms_command("validate", "sops/SOP-0001.md", cwd=example, check=False)
    assert (only_sop.returncode, only_sop.stdout) == (0, "0 errors, 0 warnings in 1 file\n")
    folder = qms_command("validate", "deviations", cwd=example, check=False)
    assert folder.returncode == 1
    assert "deviations/DEV-2026-0001.yaml" in folder.stdout
    assert "unknown field 'surprise'" in folder.stdout


def test_validate_a_path_that_is_no_record_is_a_usage_error(example: Path) -> None:
    write(example / "README.md", "hello")
    result = qms_command("validate", "README.md", cwd=example, check=False)
    assert result.returncode == 2
    assert "README.md is not a record of this repository" in result.stderr
    outside = qms_command("validate", "/etc/hostname", cwd=example, check=False)
    assert outside.returncode == 2
    assert "is outside the QMS repository" in outside.stderr


def test_broken_qms_yaml_is_named_when_records_are_validated_alone(example: Path) -> None:
    config = example / "qms.yaml"
    config.write_text(config.read_text().replace("format: 1", "format: 1\nformat: 1", 1))
    result = qms_command("validate", "sops", cwd=example, check=False)
    assert result.returncode == 1
    assert (
        "qms.yaml: error: qms.yaml has errors, so people, areas and COI references were not checked"
        in result.stdout
    )
    full = qms_command("validate", cwd=example, check=False)
    assert re.search(r"^qms.yaml:\d+: error: duplicate key 'format'", full.stdout, re.MULTILINE)


def test_usage_errors_exit_2() -> None:
    result = qms_command("validate", "--format", "xml", check=False)
    assert result.returncode == 2
    assert "Invalid value for '--format'" in result.stderr
    assert qms_command("frobnicate", check=False).returncode == 2


def test_an_internal_error_exits_3_with_a_crash_log_and_no_traceback(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A defect cannot be produced on purpose from outside, so one is planted in the core.
    def defect(*args: object, **kwargs: object) -> None:
        raise KeyError("planted defect")

    monkeypatch.setattr("gitqms.cli.validate.run_validation", defect)
    result = qms("validate", repo=example)
    assert result.exit_code == 3
    assert "internal error: gitqms" in result.stderr
    assert "Traceback" not in result.stderr
    log = Path(re.search(r"details: (\S+)", result.stderr).group(1))  # type: ignore[union-attr]
    assert "KeyError: 'planted defect'" in log.read_text()
    log.unlink()
    with pytest.raises(KeyError):
        qms("--debug", "validate", repo=example)


def test_list_shows_every_record(example: Path) -> None:
    result = qms("list", "--kind", "capa", repo=example)
    assert result.exit_code == 0
    for path in (example / "capa").glob("*.yaml"):
        assert path.stem in result.stdout


def test_terminal_output_neutralises_control_characters(example: Path) -> None:
    sop = example / "sops" / "SOP-0001.md"
    # YAML refuses a raw ESC byte, but a double-quoted "\e" escape makes one.
    sop.write_text(sop.read_text().replace("\ntitle:", '\n"x\\e[31mevil": 1\ntitle:', 1))
    result = qms("validate", repo=example)
    assert "\x1b[31m" not in result.stdout
    assert "unknown field 'x\\x1b[31mevil'" in result.stdout


def test_make_demo_commands_work_on_a_copy(tmp_path: Path) -> None:
    """`make demo` runs validate and list at the repository root; run them on a copy."""
    copy = tmp_path / "copy"
    shutil.copytree(
        ROOT, copy, ignore=shutil.ignore_patterns(".venv", ".git", "site", "*.egg-info")
    )
    for command in (("validate",), ("list",)):
        result = qms_command(*command, cwd=copy, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
    assert "St. Aurelia University Hospital" in qms_command("list", cwd=copy, check=False).stdout


def test_list_shows_record_text_literally(example: Path) -> None:
    sop = example / "sops" / "SOP-0002.md"
    text = sop.read_text()
    start = text.index("\ntitle:") + 1
    end = text.index("\n", start)
    sop.write_text(
        text[:start]
        + 'title: "[red]Deviation[/red] \\e]8;;http://x\\e\\\\ management"'
        + text[end:]
    )
    result = qms("list", "--kind", "sop", "--format", "text", repo=example)
    assert result.exit_code == 0, result.stdout
    assert "[red]Deviation" in result.stdout  # shown as written, not obeyed as markup
    assert "\x1b" not in result.stdout


def test_repo_option_works_like_git_dash_c(example: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = qms_command(
        "--repo", example, "validate", "sops/SOP-0001.md", cwd=elsewhere, check=False
    )
    assert (result.returncode, result.stdout) == (0, "0 errors, 0 warnings in 1 file\n")
