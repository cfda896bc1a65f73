"""The privacy scan of many records in a second process, while this one parses and checks them.

On a large repository `qms validate` spends about as long matching the privacy patterns
against every line as it does parsing and checking the records, and Python's regular
expressions hold the interpreter, so threads would not help. With two cores the halves run
side by side: a forked child gets the texts already read (the very bytes this process checks)
and sends back only its findings. If the child cannot start or dies, the scan runs here: the
findings are the same either way, only slower.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from .findings import Finding
from .semantic import Patterns, scan_privacy

# Below this, starting a process costs more than the scan it saves.
MIN_TEXTS = 300

Text = tuple[str, str, str]  # path, record ID, text


def scan_all(texts: Sequence[Text], patterns: Patterns) -> list[Finding]:
    found: list[Finding] = []
    for path, record_id, text in texts:
        found += scan_privacy(path, text, patterns, record_id)
    return found


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def start_scan(texts: Sequence[Text], patterns: Patterns) -> Callable[[], list[Finding]]:
    """Start scanning `texts`; the returned function waits for and returns the findings."""
    if (
        len(texts) < MIN_TEXTS
        or _cores() < 2
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        found = scan_all(texts, patterns)
        return lambda: found
    try:
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
        future: Future[list[Finding]] = pool.submit(scan_all, list(texts), patterns)
    except (OSError, BrokenProcessPool):
        found = scan_all(texts, patterns)
        return lambda: found

    def finish() -> list[Finding]:
        try:
            return future.result()
        except (OSError, BrokenProcessPool):
            return scan_all(texts, patterns)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    return finish
