"""The cyclic garbage collector's pace while a walk of history builds its objects."""

from __future__ import annotations

import contextlib
import functools
import gc
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

# A walk builds hundreds of thousands of objects that live as long as it does (commits, steps,
# verdicts, the ledger) and makes few cycles. At the collector's default pace (a young
# collection every 700 allocations) most of the collector's work is scanning those objects
# again for cycles they are not part of: about a tenth of a cold `qms verify`. During a walk it
# collects far less often (the pace mypy sets for the same reason); cycles are still collected.
_WALKING = (200_000, 30, 30)


# One entry per `for_one_command` or `lasting` block entered, innermost last: whether the
# process ends with it. What a walk leaves is frozen only while every entry says so.
_one_command: list[bool] = []


@contextlib.contextmanager
def for_one_command() -> Iterator[None]:
    """A command that ends its process (the CLI's): what a walk leaves is frozen, not only
    moved to the oldest generation, so no full collection scans it before the command ends.
    A command run inside another (`qms demo` runs hundreds) does not end the process: what its
    walks leave is thawed. On leaving, everything frozen is thawed (a test runs many commands
    in one process)."""
    with _block(not _one_command):
        yield


def lasting() -> contextlib.AbstractContextManager[None]:
    """Work that walks again and again within one command (a site build, `qms serve`): what
    each walk leaves is thawed, so that the cycles it holds are freed once it is dropped."""
    return _block(False)


@contextlib.contextmanager
def _block(ends_process: bool) -> Iterator[None]:
    _one_command.append(ends_process)
    try:
        yield
    finally:
        _one_command.pop()
        if not _one_command:
            gc.unfreeze()


def _after_walk() -> None:
    """In a command that ends its process, freeze every object the collector tracks (gc.freeze):
    at the walk's pace its survivors pile up in the young generations, and the first
    collections at the usual pace would each scan all of them (a quarter of a second after a
    walk of 20,000 commits); frozen, they are never scanned again. Anywhere else (a site
    build, a server, the commands `qms demo` runs, a library caller) nothing is done: frozen
    or only moved to the oldest generation (a freeze then a thaw), the cycles a dropped walk
    holds would wait for a full collection that the moved objects never bring on (`qms demo`
    peaked at 378 MB so, 79 MB without)."""
    if _one_command and all(_one_command):
        gc.freeze()


def fewer_collections(function: Callable[P, R]) -> Callable[P, R]:
    """`function` runs with the collector at the walk's pace, and the pace before is restored
    (a walk inside a walk keeps the outer one's)."""

    @functools.wraps(function)
    def paced(*args: P.args, **kwargs: P.kwargs) -> R:
        before = gc.get_threshold()
        gc.set_threshold(*_WALKING)
        try:
            return function(*args, **kwargs)
        finally:
            if before != _WALKING:
                _after_walk()
            gc.set_threshold(*before)

    return paced
