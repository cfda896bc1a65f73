"""Shared fixtures: an isolated git identity, a copy of the shipped examples, the CLI runner."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers import EXAMPLE_PARTS, ROOT


@pytest.fixture(autouse=True)
def git_identity(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test sees the same git identity and none of the machine's git configuration."""
    home = tmp_path_factory.mktemp("home")
    config = home / ".gitconfig"
    config.write_text(
        "[user]\n\tname = Dr. Anna Weber\n\temail = a.weber@st-aurelia.example\n"
        "[init]\n\tdefaultBranch = main\n"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for variable in (
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
    ):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A private copy of the shipped example QMS (records and qms.yaml), with real schemas/."""
    target = tmp_path / "qms"
    target.mkdir()
    for part in EXAMPLE_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, target / part)
        else:
            shutil.copy2(source, target / part)
    shutil.copytree(ROOT / "schemas", target / "schemas")  # follows the symlink: real files
    return target
