"""The collector's pace during a walk, and a load that leaves no garbage only it can free.

A walk runs with the cyclic collector at a slower pace (gitqms/collector.py) and puts the pace
back afterwards, whatever happens. Loading a record leaves no reference cycle behind, so its
nodes are freed at once rather than at the next collection, which a walk makes rarer.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from gitqms import git
from gitqms.collector import _WALKING, fewer_collections, for_one_command
from gitqms.safeyaml.load import load_yaml
from gitqms.signatures import verify


@pytest.fixture
def default_pace() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield gc.get_threshold()
    gc.set_threshold(*before)


def test_a_walk_runs_at_the_slower_pace_and_puts_the_pace_back(
    default_pace: tuple[int, int, int],
) -> None:
    seen: list[tuple[int, int, int]] = []

    @fewer_collections
    def walk(fail: bool) -> int:
        seen.append(gc.get_threshold())
        if fail:
            raise RuntimeError("stopped")
        return 7

    assert walk(False) == 7
    with pytest.raises(RuntimeError):
        walk(True)
    assert seen == [_WALKING, _WALKING]
    assert gc.get_threshold() == default_pace


def test_a_walk_inside_a_walk_keeps_the_outer_pace(default_pace: tuple[int, int, int]) -> None:
    @fewer_collections
    def inner() -> tuple[int, int, int]:
        return gc.get_threshold()

    @fewer_collections
    def outer() -> tuple[tuple[int, int, int], tuple[int, int, int]]:
        return inner(), gc.get_threshold()

    assert outer() == (_WALKING, _WALKING)
    assert gc.get_threshold() == default_pace


def test_both_walks_of_history_are_paced(
    default_pace: tuple[int, int, int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`qms verify`, `status` and the site walk with walk_history, the narrow gate with
    walk_narrow: the walk itself (`_walk`) runs at the slower pace."""
    paces: list[tuple[int, int, int]] = []

    def walk(*args: object) -> str:
        paces.append(gc.get_threshold())
        return "walked"

    monkeypatch.setattr(verify, "_prepare", lambda *args: None)
    monkeypatch.setattr(verify, "_walk", walk)
    monkeypatch.setattr(verify, "_tip_kinds_dropped", lambda *args: False)
    monkeypatch.setattr(git, "rev_parse", lambda *args: None)  # a range: never stored
    assert cast(Any, verify.walk_history(tmp_path, ["HEAD"])) == "walked"
    assert verify.walk_narrow(tmp_path, "HEAD", lambda: None) is None  # needs the full walk
    depends = cast(Any, lambda: object())
    assert cast(Any, verify.walk_narrow(tmp_path, "HEAD", depends)) == "walked"
    assert paces == [_WALKING, _WALKING]
    assert gc.get_threshold() == default_pace


class Survivor:
    """An object a walk leaves behind (its class makes it one the collector tracks)."""


def _generation_of(thing: object) -> int | None:
    for generation in range(3):
        if any(each is thing for each in gc.get_objects(generation)):
            return generation
    return None  # frozen: in no generation the collector scans


def test_outside_a_command_what_a_walk_leaves_stays_where_the_collector_has_it() -> None:
    """Outside a command (a site build, a server, a library caller): neither frozen nor moved
    to the oldest generation, whose cycles only a full collection frees, and moved objects
    never bring one on (review 36: `qms demo` peaked at 378 MB so, 79 MB without)."""

    @fewer_collections
    def walk() -> Survivor:
        return Survivor()

    left = walk()
    assert gc.get_freeze_count() == 0
    assert _generation_of(left) in (0, 1)


def test_in_a_command_what_a_walk_leaves_is_frozen_until_the_command_ends() -> None:
    @fewer_collections
    def walk() -> Survivor:
        return Survivor()

    with for_one_command():
        left = walk()
        assert gc.get_freeze_count() > 0 and _generation_of(left) is None
        with for_one_command():  # a command run by a command (the demo's steps)
            pass
        assert _generation_of(left) is None  # the inner one thaws nothing
        after = Survivor()  # made after the walk: collected as usual
        assert _generation_of(after) == 0
    assert gc.get_freeze_count() == 0
    assert _generation_of(left) == 2


@pytest.mark.parametrize(
    "text",
    [
        "id: SOP-0001\nversion: 3\nsteps:\n  - one\n  - two\nowner: {name: a, role: b}\n",
        "- 1\n- [2, 3]\n",
        "",
    ],
)
def test_loading_a_record_leaves_no_cycle_behind(text: str) -> None:
    load_yaml(text)
    gc.collect()
    gc.disable()
    try:
        for _ in range(20):
            load_yaml(text)
        assert gc.collect() == 0
    finally:
        gc.enable()
