"""Shared fixtures: an isolated git identity, a copy of the shipped examples, the CLI runner."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from git_server import GitServer
from helpers import EXAMPLE_PARTS, ROOT
from signing_world import World

SOP = "sops/SOP-0001.md"


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


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """A repository with an admin, a reviewer and an author, and one committed draft SOP."""
    world = World(tmp_path, monkeypatch)
    admin = world.person("a.weber", "Dr. Anna Weber")
    reviewer = world.person("m.okafor", "Michael Okafor")
    author = world.person("l.santos", "Lucia Santos")
    world.init(admin)
    for person, role in ((reviewer, "sop-reviewer"), (author, "sop-author")):
        world.add_person(admin, person, role)
        world.qms(admin, "keys", "add", person.id, str(person.pub), "--reason", "new signer")
    world.qms(author, "new", "sop", "--title", "Receipt of ATMPs")
    text = re.sub(r"FILL IN[^\n]*", "Described.", (world.repo / SOP).read_text())
    world.commit_file(author, SOP, text, "new procedure")
    yield world
    world.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[GitServer]:
    """An empty bare repository with the gitqms hooks, served by git daemon; stopped after."""
    server = GitServer(tmp_path)
    server.create()
    server.install()
    server.start()
    yield server
    server.stop()
