"""The privacy scan of many records in a second process, while this one parses and checks them.

On a large repository `qms validate` spends about as long matching the privacy patterns
against every line as it does parsing and checking the records, and Python's regular
expressions hold the interpreter, so threads would not help. With two cores the halves run
side by side: a forked child scans the texts already read (it has them from the fork: the very
text this process checks) and sends back only its findings. If the child cannot start or
dies, the scan runs here: the findings are the same either way, only slower.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.connection import Connection

from .findings import Finding
from .privacy import Patterns, scan_privacy

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


def _child(out: Connection, texts: Sequence[Text], patterns: Patterns) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    out.send(scan_all(texts, patterns))
    out.close()


@contextmanager
def scanning(texts: Sequence[Text], patterns: Patterns) -> Iterator[Callable[[], list[Finding]]]:
    """Start scanning `texts`; the function given waits for and returns the findings. On
    leaving the block for whatever reason (an error, Ctrl-C), the child is stopped."""
    if (
        len(texts) < MIN_TEXTS
        or _cores() < 2
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        yield lambda: scan_all(texts, patterns)
        return
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(send, texts, patterns), daemon=True)
    try:
        child.start()
    except OSError:
        receive.close()
        send.close()
        yield lambda: scan_all(texts, patterns)
        return
    send.close()  # the child's end: reading sees the end when the child exits

    def findings() -> list[Finding]:
        try:
            found: list[Finding] = receive.recv()
            return found
        except (EOFError, OSError):  # the child died: scan here instead
            return scan_all(texts, patterns)

    try:
        yield findings
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
        receive.close()
