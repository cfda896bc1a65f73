"""A QA team on a calendar: people with real keys whose commits are dated day by day.

`Team.on(day)` sets the author and committer dates of everything git does next, so a history
of months is made in seconds and `qms status --date` can be asked about any day of it.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from gitqms import clock
from gitqms.history import index_store

from .people import Person
from .world import SOP, World, isolated

FIRST_DAY = "2026-01-05"
# (attribute, id, name, roles besides the admin's)
MEMBERS = (
    ("admin", "a.weber", "Dr. Anna Weber", ()),  # admin, qa-manager
    ("officer", "m.okafor", "Michael Okafor", ("qa-officer", "sop-reviewer")),
    ("author", "l.santos", "Lucia Santos", ("sop-author",)),
    ("owner", "j.lindqvist", "Dr. Johan Lindqvist", ("pharmacist", "sop-author")),
)


class Calendar:
    """People acting on `world` day by day; `admin` answers `status`."""

    admin: Person

    def __init__(self, world: World) -> None:
        self.world = world
        self.stamp = ""

    def on(self, day: str, time: str = "10:00:00") -> None:
        self.stamp = f"{day}T{time}Z"
        for variable in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
            self.world.monkeypatch.setenv(variable, self.stamp)

    def qms(self, person: Person, *args: str, ok: bool = True) -> str:
        return self.world.qms(person, *args, ok=ok)

    def status(self, day: str, *records: str) -> dict[str, Any]:
        out = self.qms(self.admin, "status", *records, "--date", day, "--format", "json")
        return {r["id"]: r for r in json.loads(out)["records"]}


class Team(Calendar):
    officer: Person
    author: Person
    owner: Person

    def __init__(self, world: World, *, joined: bool = False) -> None:
        """The team set up on `world`: keys made, `qms init` by the admin, everyone added with
        their roles and keys on the first day; `joined`: the team `world` already holds."""
        super().__init__(world)
        if joined:
            for attribute, person_id, _, _ in MEMBERS:
                setattr(self, attribute, world.people[person_id])
            return
        for attribute, person_id, name, _ in MEMBERS:
            setattr(self, attribute, world.person(person_id, name))
        self.on(FIRST_DAY)
        world.init(self.admin)
        for attribute, _, _, roles in MEMBERS[1:]:
            person = getattr(self, attribute)
            world.add_person(self.admin, person, *roles)
            world.qms(
                self.admin, "keys", "add", person.id, str(person.pub), "--reason", "new signer"
            )

    def copy(self, base: Path, monkeypatch: pytest.MonkeyPatch) -> Team:
        """This team's world copied into `base` for one test, its clock where this one's is."""
        team = Team(self.world.copy(base, monkeypatch), joined=True)
        day, _, time = self.stamp.removesuffix("Z").partition("T")
        team.on(day, time)
        return team

    def sign_config(self, text: str, by: Person | None = None) -> str:
        """A change to qms.yaml, signed by the admin (or `by`) as the registry rules require."""
        world = self.world
        (world.repo / "qms.yaml").write_text(text)
        world.git("add", "qms.yaml")
        digest = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
        return world.raw_commit(
            by or self.admin, world.trailers("qms.yaml", "qms.yaml", "changed", content=digest)
        )

    def check(self, spec: str, ok: bool = True) -> dict[str, Any]:
        out = self.qms(self.admin, "check", spec, "--format", "json", ok=ok)
        return dict(json.loads(out))

    def sop_text(
        self, version: int, effective: str, body: str, supersedes: int | None = None
    ) -> str:
        text = (self.world.repo / SOP).read_text() if (self.world.repo / SOP).exists() else ""
        if not text:
            self.qms(self.author, "new", "sop", "--title", "Receipt of ATMPs")
            text = (self.world.repo / SOP).read_text()
        text = re.sub(r"FILL IN[^\n]*", body, text)
        text = re.sub(r"(?m)^version: .*$", f"version: {version}", text)
        text = re.sub(r"(?m)^effective_date:.*$", f'effective_date: "{effective}"', text)
        text = re.sub(
            r"(?m)^supersedes:.*$",
            f'supersedes: "SOP-0001 v{supersedes}"' if supersedes else "supersedes:",
            text,
        )
        change = f'"CC-2026-{version:03d}"' if version > 1 else ""
        return re.sub(r"(?m)^change_control:.*$", f"change_control: {change}".rstrip(), text)

    def write_sop(
        self, version: int, effective: str, body: str, supersedes: int | None = None
    ) -> str:
        text = self.sop_text(version, effective, body, supersedes)
        if version > 1:
            text = re.sub(r"(?ms)^(## Purpose\n\n).*?(\n## )", rf"\g<1>{body}\n\2", text)
        return self.world.commit_file(self.author, SOP, text, f"version {version}")

    def release_sop(self, reviewed_on: str, approved_on: str) -> None:
        self.on(reviewed_on)
        self.qms(self.officer, "review", "SOP-0001", "--reason", "content checked")
        self.on(approved_on)
        self.qms(self.admin, "approve", "SOP-0001", "--reason", "released")


def sop_written(team: Team) -> None:
    """`then` for `build_team`: SOP-0001 v1 written on 2026-02-01, to take effect on 2026-04-01."""
    team.on("2026-02-01")
    team.write_sop(1, "2026-04-01", "Described.")


def build_team(
    factory: pytest.TempPathFactory, then: Callable[[Team], object] | None = None
) -> Team:
    """A module's team, built once away from the machine's git settings, and what `then` does
    with it; tests work on `Team.copy`, never on this one."""
    with isolated(factory) as patch:
        team = Team(World(factory.mktemp("team"), patch))
        if then is not None:
            then(team)
    return team


def cold_copies(then: Callable[[Team], object], now: datetime) -> tuple[Any, Any]:
    """A module's two fixtures: `built`, its team with `then` done once, and `team`, a copy of
    it for each test with no history index stored yet, the clock at `now` (`without_index`)."""

    @pytest.fixture(scope="module")
    def built(tmp_path_factory: pytest.TempPathFactory) -> Team:
        return build_team(tmp_path_factory, then)

    @pytest.fixture
    def team(built: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Team]:
        with without_index(built, tmp_path, monkeypatch, now) as copy:
            yield copy

    return built, team


@contextmanager
def without_index(
    built: Team, base: Path, monkeypatch: pytest.MonkeyPatch, now: datetime
) -> Iterator[Team]:
    """A copy of `built` for one test with no history index stored yet and an index key of its
    own (under `base`), the clock fixed at `now`: its first walk is cold."""
    team = built.copy(base, monkeypatch)
    monkeypatch.setenv("XDG_CACHE_HOME", str(base / "cache"))
    index_store._secret.cache_clear()
    shutil.rmtree(team.world.repo / ".git" / "qms", ignore_errors=True)
    try:
        with clock.fixed(now):
            yield team
    finally:
        index_store._secret.cache_clear()
