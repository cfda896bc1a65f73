"""Shared fixtures: an isolated git identity, a copy of the shipped examples, the signing
world and the lifecycle team (each built once per module, copied per test), a git server."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitqms.git import streams
from gitqms.records import kinds
from toolkit.cli import EXAMPLE_PARTS, ROOT
from toolkit.server import GitServer
from toolkit.team import Team, build_team
from toolkit.world import SOP, World, build_world, isolate


@pytest.fixture(autouse=True)
def git_identity(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test sees the same git identity and none of the machine's git configuration."""
    isolate(monkeypatch, tmp_path_factory.mktemp("home"))


@pytest.fixture(autouse=True)
def gate_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every `qms check` of every test is judged twice, by the narrow gate and by the full walk
    of history, and fails where the two differ (rules/check.py): each attack on the gate is a
    test of the narrow gate too. A test that sets GITQMS_GATE itself overrides this. The narrow
    walk reads history with two `git log` processes however short it is (git/streams.py), the
    full walk with one: the comparison covers that too."""
    monkeypatch.setenv("GITQMS_GATE", "compare")
    monkeypatch.setattr(streams, "_TWO_FROM", 0)


@pytest.fixture(autouse=True)
def package_kinds() -> Iterator[None]:
    """Each test starts knowing only the package's kinds: a repository opened in an earlier
    test must not lend this one the kinds its qms.yaml declares."""
    kinds.use_kinds(kinds.PACKAGE, work_tree=True)
    yield
    kinds.use_kinds(kinds.PACKAGE, work_tree=True)


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


def sop_draft(world: World) -> None:
    """An admin, a reviewer and an author, and one committed draft SOP."""
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


@pytest.fixture(scope="module")
def built_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """The module's world (`sop_draft`), never changed by a test."""
    return build_world(tmp_path_factory, sop_draft)


@pytest.fixture
def world(built_world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """A repository with an admin, a reviewer and an author, and one committed draft SOP: this
    test's own copy of the module's. The keyrings of gpg users it adds are stopped after."""
    world = built_world.copy(tmp_path, monkeypatch)
    yield world
    world.close()


@pytest.fixture(scope="module")
def built_team(tmp_path_factory: pytest.TempPathFactory) -> Team:
    """The module's lifecycle team (see Team), never changed by a test."""
    return build_team(tmp_path_factory)


@pytest.fixture
def team(built_team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Team]:
    """The lifecycle team on the first day: this test's own copy of the module's."""
    team = built_team.copy(tmp_path, monkeypatch)
    yield team
    team.world.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[GitServer]:
    """An empty bare repository with the gitqms hooks, served by git daemon; stopped after."""
    server = GitServer(tmp_path)
    server.create()
    server.install()
    server.start()
    yield server
    server.stop()
