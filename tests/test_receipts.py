"""The receipt log without a network: the note format, the date rule, the pusher's identity,
and the writer under concurrent pushes, on real bare repositories."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gitqms.history.receipts import (
    NOTES_REF,
    Receipt,
    date_flag,
    format_receipt,
    parse_receipt,
    read_receipts,
)
from gitqms.server.post_receive import Pusher, pusher_from, record_receipts
from gitqms.server.updates import RefUpdate, parse_updates
from toolkit.process import git

WHEN = datetime(2026, 11, 21, 9, 30, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


@pytest.mark.parametrize(
    ("committed", "flag"),
    [
        (WHEN, None),
        (WHEN - timedelta(hours=23, minutes=59), None),  # signed yesterday, pushed today
        (WHEN - DAY, None),
        (WHEN - DAY - timedelta(seconds=1), "back-dated: dated 24 hours before"),
        (WHEN - timedelta(days=30), "back-dated: dated 30 days before"),
        (WHEN + timedelta(minutes=9), None),  # clocks differ a little
        (WHEN + timedelta(minutes=11), "future-dated: dated 11 minutes after"),
        (WHEN + timedelta(days=3), "future-dated: dated 3 days after"),
    ],
)
def test_a_date_is_flagged_when_it_is_far_before_or_after_its_receipt(
    committed: datetime, flag: str | None
) -> None:
    said = date_flag(committed, WHEN, DAY)
    if flag is None:
        assert said is None
    else:
        assert said is not None and said.startswith(flag), said
        assert ("(tolerance 24 hours)" in said) == said.startswith("back-dated")


def test_a_receipt_note_is_small_versioned_and_reads_back() -> None:
    receipt = Receipt("a" * 40, WHEN, "refs/heads/main", "a.weber", "GL_USERNAME", "10.1.2.3")
    text = format_receipt(receipt)
    assert text == (
        "qms-receipt 1\n"
        "received: 2026-11-21T09:30:00Z\n"
        "ref: refs/heads/main\n"
        "pusher: a.weber\n"
        "pusher-source: GL_USERNAME\n"
        "address: 10.1.2.3\n"
    )
    assert parse_receipt("a" * 40, text.encode()) == receipt
    # Unknown fields of version 1 are ignored; anything else is not taken for a receipt.
    assert parse_receipt("b" * 40, text.encode() + b"colour: blue\n") == Receipt(
        "b" * 40, WHEN, "refs/heads/main", "a.weber", "GL_USERNAME", "10.1.2.3"
    )
    for other in (
        b"qms-receipt 2\nreceived: 2026-11-21T09:30:00Z\n",
        b"received: 2026-11-21T09:30:00Z\n",
        b"qms-receipt 1\nreceived: yesterday\n",
        b"qms-receipt 1\n",
        b"",
        b"qms-receipt 1\nreceived: 2026-11-21T09:30:00Z\n" + b"x" * 5000,
    ):
        assert parse_receipt("c" * 40, other) is None, other


def test_what_the_environment_says_cannot_add_lines_to_a_receipt() -> None:
    hostile = Receipt("a" * 40, WHEN, "refs/heads/main", "eve\nreceived: 2020-01-01T00:00:00Z")
    text = format_receipt(hostile)
    assert text.count("\n") == 4 and "received: 2026-11-21T09:30:00Z" in text
    read = parse_receipt("a" * 40, text.encode())
    assert read is not None and read.received == WHEN
    assert read.pusher == "eve?received: 2020-01-01T00:00:00Z"
    long = format_receipt(Receipt("a" * 40, WHEN, pusher="x" * 1000))
    assert max(len(line) for line in long.splitlines()) <= len("pusher: ") + 200


@pytest.mark.parametrize(
    ("environ", "pusher"),
    [
        ({"REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "4711"}, Pusher(None, None, "127.0.0.1")),
        (
            {"GL_USERNAME": "a.weber", "GL_ID": "user-7", "REMOTE_ADDR": "10.0.0.5"},
            Pusher("a.weber", "GL_USERNAME", "10.0.0.5"),
        ),
        (
            {"GITEA_PUSHER_NAME": "m.okafor", "SSH_CONNECTION": "10.0.0.9 5000 10.0.0.1 22"},
            Pusher("m.okafor", "GITEA_PUSHER_NAME", "10.0.0.9"),
        ),
        ({"GL_USER": "l.santos"}, Pusher("l.santos", "GL_USER", None)),
        ({"REMOTE_USER": "h.nakamura"}, Pusher("h.nakamura", "REMOTE_USER", None)),
        (
            {"SSH_CONNECTION": "192.0.2.4 5000 192.0.2.1 22", "USER": "git"},
            Pusher("git", "USER (ssh)", "192.0.2.4"),
        ),
        ({"USER": "root"}, Pusher(None, None, None)),  # not a push over SSH: says nothing
    ],
)
def test_the_pusher_is_who_the_servers_environment_says(
    environ: dict[str, str], pusher: Pusher
) -> None:
    assert pusher_from(environ) == pusher


def test_hook_input_is_read_strictly() -> None:
    old, new = "1" * 40, "2" * 40
    updates = parse_updates(f"{'0' * 40} {new} refs/heads/main\n{old} {'0' * 40} refs/tags/v1\n")
    assert updates == [
        RefUpdate(None, new, "refs/heads/main"),
        RefUpdate(old, None, "refs/tags/v1"),
    ]
    assert updates[0].branch == "main" and updates[1].branch is None


# -- the writer on a real repository ------------------------------------------------------------


def bare_with_branches(tmp_path: Path, count: int) -> tuple[Path, list[str]]:
    """A bare repository with one commit on main and `count` branches of one commit each."""
    work, bare = tmp_path / "work", tmp_path / "srv.git"
    git(tmp_path, "init", "-q", "--initial-branch=main", str(work))
    git(work, "commit", "-q", "--allow-empty", "--no-gpg-sign", "-m", "root")
    tips = []
    for number in range(count):
        git(work, "checkout", "-q", "-b", f"b{number}", "main")
        git(work, "commit", "-q", "--allow-empty", "--no-gpg-sign", "-m", f"b{number}")
        tips.append(git(work, "rev-parse", "HEAD"))
    git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    return bare, tips


def test_concurrent_writers_lose_no_receipt_and_never_replace_one(tmp_path: Path) -> None:
    bare, tips = bare_with_branches(tmp_path, 8)
    root = git(bare, "rev-parse", "main")
    pusher = Pusher("a.weber", "GL_USERNAME", None)
    failures: list[BaseException] = []

    def write(number: int) -> None:
        try:
            update = RefUpdate(root, tips[number], f"refs/heads/b{number}")
            record_receipts(bare, [update], WHEN + timedelta(seconds=number), pusher)
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(len(tips))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    found = read_receipts(bare)
    assert {c: (r.ref, r.received) for c, r in found.items()} == {
        tip: (f"refs/heads/b{n}", WHEN + timedelta(seconds=n)) for n, tip in enumerate(tips)
    }
    chain = git(bare, "rev-list", "--parents", NOTES_REF).splitlines()
    assert len(chain) == len(tips)  # one notes commit per push, each on top of the last
    assert [len(line.split()) for line in chain] == [2] * (len(tips) - 1) + [1]

    # A later push of the same commits elsewhere keeps their first receipts; only the commit
    # no push had brought yet (main's, which was on the server from the start) gets one.
    later = RefUpdate(None, tips[0], "refs/heads/copy")
    assert [r.commit for r in record_receipts(bare, [later], WHEN + DAY, pusher)] == [root]
    assert record_receipts(bare, [later], WHEN + DAY, pusher) == []
    assert read_receipts(bare)[tips[0]].ref == "refs/heads/b0"


def test_a_commit_the_server_held_before_the_hook_gets_no_receipt(tmp_path: Path) -> None:
    from toolkit.cli import qms

    bare, tips = bare_with_branches(tmp_path, 2)
    assert qms("hook", "install", str(bare)).exit_code == 0
    work = tmp_path / "work"
    git(work, "checkout", "-q", "b0")
    git(work, "commit", "-q", "--allow-empty", "--no-gpg-sign", "-m", "after")
    after = git(work, "rev-parse", "HEAD")
    git(work, "push", "-q", bare, "b0")
    # b1's commit was on the server before installation: moving main onto it is no receipt.
    git(bare, "update-ref", "refs/heads/main", tips[1])
    update = RefUpdate(None, tips[1], "refs/heads/elsewhere")
    assert record_receipts(bare, [update], WHEN, Pusher(None, None, None)) == []
    assert set(read_receipts(bare)) == {after}
