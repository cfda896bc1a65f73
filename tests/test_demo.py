"""`qms demo` fails cleanly: a clear message, and nothing left behind."""

from __future__ import annotations

import shutil
from pathlib import Path

from toolkit.cli import ROOT, qms


def test_demo_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "notes.txt").write_text("keep me")
    result = qms("demo", "--dir", str(tmp_path / "demo"), repo=tmp_path)
    assert result.exit_code == 2
    assert "already exists and is not empty" in result.stderr
    assert (tmp_path / "demo" / "notes.txt").read_text() == "keep me"


def test_a_failing_demo_leaves_nothing_behind(tmp_path: Path) -> None:
    examples = tmp_path / "examples"
    for part in ("qms.yaml", "sops", "capa", "deviations"):
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, examples / part)
        else:
            examples.mkdir(exist_ok=True)
            shutil.copy(source, examples / part)
    broken = examples / "sops" / "SOP-0004.md"
    broken.write_text(broken.read_text().replace("version: 2", "version: two", 1))
    result = qms(
        "demo", "--dir", str(tmp_path / "out" / "demo"), "--examples", str(examples), repo=tmp_path
    )
    assert result.exit_code == 2, result.output
    assert "SOP-0004" in result.stderr and "failed" in result.stderr
    assert "Traceback" not in result.stderr
    assert list((tmp_path / "out").iterdir()) == []  # no demo, no staging folder
