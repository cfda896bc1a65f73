"""The cyclic garbage collector's pace while a walk of history builds its objects."""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

# A walk builds hundreds of thousands of objects that live as long as it does (commits, steps,
# verdicts, the ledger) and makes few cycles. At the collector's default pace (a young
# collection every 700 allocations) most of the collector's work is scanning those objects
# again for cycles they are not part of: about a tenth of a cold `qms verify`. During a walk it
# collects far less often (the pace mypy sets for the same reason); cycles are still collected.
_WALKING = (200_000, 30, 30)


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
            gc.set_threshold(*before)

    return paced
