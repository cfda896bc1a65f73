"""Adversarial review of `header_commit`'s short read of a plain commit head (`_plain_head`,
history/commits.py): for every head, what a skipped commit is read as (tree, author, committer
with their dates and zones) and whether it is refused must be exactly what `parse_commit` reads,
or the narrow gate (`qms check`, `qms log` on a fresh clone) and the full walk (`qms verify`, the
server) judge one history two ways: a planted commit dated one way for one and another way for
the other, or refused by one only.

Heads are made at random (seeded, so a failure is repeated by its seed) and by hand, read in
process; a few of them are then written into a real repository with `git hash-object
--literally`, read back through `git cat-file`, and judged by `qms check` and `qms log` under
GITQMS_GATE=narrow and =full.
"""

from __future__ import annotations

import contextlib
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitqms import git
from gitqms.audit.record_log import record_log
from gitqms.history import commits
from gitqms.history.commits import Commit, Identity, header_commit, parse_commit
from gitqms.rules.check import CheckReport, check_range
from toolkit.process import environment, run_bytes
from toolkit.world import SOP, World

TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's empty tree
PARENT = "1" * 40

# -- what each reader makes of a head ------------------------------------------------------------


def _identity(found: Identity) -> tuple[Any, ...]:
    """Everything of an identity, its zone included (aware datetimes compare by instant only)."""
    return (found.name, found.email, found.time.isoformat(), found.time.utcoffset())


def _outcome(read: Callable[[], Commit]) -> tuple[Any, ...]:
    """(tree, author, committer) as read, or the error raised (its type and message)."""
    try:
        found = read()
    except Exception as error:  # any error at all: it must be the same one both ways
        return ("error", type(error).__name__, str(error))
    return ("read", found.tree, _identity(found.author), _identity(found.committer))


def both_readers(raw: bytes, commit_id: str = "c" * 40) -> tuple[tuple[Any, ...], ...]:
    """What `parse_commit` and `header_commit` read of `raw` (header_commit given the parents
    parse_commit read, as git would give them for a plain head)."""
    parents: tuple[str, ...] = ()
    with contextlib.suppress(Exception):  # the outcome below says which
        parents = parse_commit(commit_id, raw).parents
    full = _outcome(lambda: parse_commit(commit_id, raw))
    light = _outcome(lambda: header_commit(commit_id, raw, parents))
    return full, light


def _head(raw: bytes) -> bytes:
    head, sep, _ = raw.partition(b"\n\n")
    return head if sep else raw.rstrip(b"\n")


def assert_read_alike(raw: bytes) -> bool:
    """Both readers agree on `raw`; when the short read takes it, its four headers are the ones
    parse_commit's splitting gives. Whether the short read took it."""
    full, light = both_readers(raw)
    assert light == full, raw
    head = _head(raw)
    plain = commits._plain_head(head)
    if plain is None:
        return False
    split, _, _ = commits._split_head(head)
    assert plain[b"tree"][:1] == split[b"tree"][:1], raw
    assert plain[b"author"][:1] == split[b"author"][:1], raw
    assert plain[b"committer"][:1] == split[b"committer"][:1], raw
    assert plain[b"parent"] == split.get(b"parent", []), raw  # all of them: each is decoded
    return True


# -- hand-made heads -----------------------------------------------------------------------------

AUTHOR = b"author A U Thor <a@x.example> 1700000000 +0100"
COMMITTER = b"committer C O Mitter <c@x.example> 1700000300 -0230"
GPGSIG = b"gpgsig -----BEGIN SSH SIGNATURE-----\n U1NIU0lHAAAAAQ==\n -----END SSH SIGNATURE-----"


def plain(
    *rest: bytes, parents: int = 1, author: bytes = AUTHOR, committer: bytes = COMMITTER
) -> bytes:
    """A head the way git writes it, then the lines `rest`."""
    lines = [f"tree {TREE}".encode(), *[f"parent {PARENT}".encode()] * parents, author, committer]
    return b"\n".join([*lines, *rest])


HAND_MADE: dict[str, bytes] = {
    "git's own": plain(),
    "a root commit": plain(parents=0),
    "an octopus": plain(parents=5),
    "a signed one": plain(GPGSIG),
    "a signed one, encoding after": plain(GPGSIG, b"encoding latin1"),
    "a mergetag": plain(b"mergetag object " + PARENT.encode() + b"\n type commit\n tag v1"),
    # continuation lines
    "the committer continued": plain(b" 1800000000 +0000"),
    "the committer continued twice": plain(b" x", b" 1800000000 +0000"),
    "the author continued": plain(parents=1).replace(
        AUTHOR, b"author A U Thor <a@x.example>\n 1700000000 +0100"
    ),
    "the tree continued": plain().replace(TREE.encode(), TREE.encode() + b"\n more"),
    "a parent continued": plain().replace(PARENT.encode(), PARENT.encode() + b"\n more"),
    "a continuation after gpgsig": plain(GPGSIG, b" trailing"),
    # bare names (no space, no value)
    "a bare committer first": plain().replace(b"committer ", b"committer\n "),
    "a bare committer, then a plain one": plain(b"committer X <x@y> 1 +0000").replace(
        COMMITTER, b"committer\n C <c@x> 4102444800 +0000"
    ),
    "a bare author first": plain().replace(b"author ", b"author\nauthor ", 1),
    "a bare tree": plain().replace(f"tree {TREE}".encode(), b"tree"),
    "a bare parent": plain().replace(f"parent {PARENT}".encode(), b"parent"),
    "a bare parent after the committer": plain(b"parent"),
    "a bare committer after the committer": plain(b"committer"),
    "an empty tree value": plain().replace(f"tree {TREE}".encode(), b"tree "),
    "an empty committer value": plain(committer=b"committer "),
    # parent lines after the committer
    "a parent after the committer": plain(b"parent " + PARENT.encode()),
    "a non-ASCII parent after the committer": plain("parent caf\u00e9".encode()),
    "a non-ASCII parent after a gpgsig": plain(GPGSIG, "parent caf\u00e9".encode()),
    "a parentx header after the committer": plain(b"parentx \xff"),
    "a parent line continued after the committer": plain(b"x y", b"parent \xff"),
    # duplicates and order
    "two committers": plain(b"committer Z <z@z> 4102444800 +1400"),
    "two authors after": plain(b"author Z <z@z> 4102444800 +1400"),
    "two trees": plain(b"tree " + PARENT.encode()),
    "a non-ASCII tree after": plain("tree caf\u00e9".encode()),
    "committer before author": b"\n".join([f"tree {TREE}".encode(), COMMITTER, AUTHOR]),
    "author before tree": b"\n".join([AUTHOR, f"tree {TREE}".encode(), COMMITTER]),
    "no author": b"\n".join([f"tree {TREE}".encode(), COMMITTER]),
    "no committer": b"\n".join([f"tree {TREE}".encode(), AUTHOR]),
    "no tree": b"\n".join([AUTHOR, COMMITTER]),
    "only a tree": f"tree {TREE}".encode(),
    "nothing": b"",
    "a leading blank line": b"\n" + plain(),
    "a leading continuation": b" x\n" + plain(),
    # CR bytes, tabs, NULs and non-ASCII
    "CRLF lines": plain().replace(b"\n", b"\r\n"),
    "a CR at the committer's end": plain(committer=COMMITTER + b"\r"),
    "a CR after the committer's name": plain(committer=b"committer\r C <c@x> 1 +0000"),
    "a CR in the tree": plain().replace(TREE.encode(), TREE.encode() + b"\r"),
    "a tab after tree": plain().replace(b"tree ", b"tree\t"),
    "a NUL in the name": plain(committer=b"committer C\0 <c@x> 1 +0000"),
    "a non-ASCII name": plain(committer="committer Zo\u00eb <z@x> 1 +0000".encode()),
    "invalid UTF-8 in the name": plain(committer=b"committer \xff\xfe <z@x> 1 +0000"),
    "invalid UTF-8 in the tree": plain().replace(TREE.encode(), b"\xff" * 40),
    # identities
    "a '>' in the name": plain(committer=b"committer a>b <c@x> 1 +0000"),
    "a '<' in the email": plain(committer=b"committer C <c<d@x> 1 +0000"),
    "two '>'": plain(committer=b"committer C <c@x> junk> 1 +0000"),
    "no '<'": plain(committer=b"committer C c@x> 1 +0000"),
    "no '>'": plain(committer=b"committer C <c@x 1 +0000"),
    "no date": plain(committer=b"committer C <c@x>"),
    "two spaces before the date": plain(committer=b"committer C <c@x>  1 +0000"),
    "a zone of +1400": plain(committer=b"committer C <c@x> 1700000000 +1400"),
    "a zone of -1200": plain(committer=b"committer C <c@x> 1700000000 -1200"),
    "a zone of -0000": plain(committer=b"committer C <c@x> 1700000000 -0000"),
    "a zone of +1959": plain(committer=b"committer C <c@x> 1700000000 +1959"),
    "a zone of +2000": plain(committer=b"committer C <c@x> 1700000000 +2000"),
    "a zone of +0160": plain(committer=b"committer C <c@x> 1700000000 +0160"),
    "a zone without sign": plain(committer=b"committer C <c@x> 1700000000 0100"),
    "a date far ahead": plain(committer=b"committer C <c@x> 999999999999 +0000"),
    "a date of 13 digits": plain(committer=b"committer C <c@x> 1000000000000 +0000"),
    "the epoch": plain(committer=b"committer C <c@x> 0 +0000"),
    "a negative date": plain(committer=b"committer C <c@x> -1 +0000"),
}

ENDINGS = [b"\n\nA message\n", b"\n\n", b"", b"\n", b"\n\n\nA message\n\nReason: x\n"]


@pytest.mark.parametrize("name", sorted(HAND_MADE))
def test_a_hand_made_head_is_read_alike(name: str) -> None:
    for ending in ENDINGS:
        assert_read_alike(HAND_MADE[name] + ending)


def test_the_hand_made_heads_reach_the_short_read() -> None:
    """The cases above test the short read, not only the long one: git's own heads and those
    with lines after the committer are taken by it, read and refused alike."""
    taken = {name for name, head in HAND_MADE.items() if commits._plain_head(head) is not None}
    assert {"git's own", "an octopus", "a signed one", "two committers"} <= taken
    assert {"the committer continued", "a parent after the committer"}.isdisjoint(taken)
    assert {"a CR at the committer's end", "a zone of +1400", "no date"} <= taken


# -- heads made at random ------------------------------------------------------------------------

_NAMES = [b"A", b"Zo\xc3\xab", b"\xff", b"", b"a>b", b"C <x", b" ", b"Dr. Anna Weber"]
_EMAILS = [b"a@x", b"", b"c<d@x", b"x>y", b"\xc3\xa9@x"]
_TIMES = [b"0", b"1", b"1700000000", b"4102444800", b"999999999999", b"1000000000000", b"", b"-1"]
_ZONES = [b"+0000", b"-0000", b"+1400", b"-1200", b"+0530", b"+1959", b"+2000", b"+0160", b"0100"]
_ODD = [b"\r", b"\t", b"\0", b" ", b"<", b">", b"\xff", b"\n "]


def _identity_value(rng: random.Random) -> bytes:
    if rng.random() < 0.6:  # a well-formed one: a name, an email, a date and a zone
        name, email = rng.choice(_NAMES[:3]), rng.choice(_EMAILS[:2])
        when, zone = rng.choice(_TIMES[:4]), rng.choice(_ZONES[:6])
        return b"%s <%s> %s %s" % (name, email, when, zone)
    parts = [
        rng.choice(_NAMES),
        b" <" if rng.random() < 0.9 else b" ",
        rng.choice(_EMAILS),
        b"> " if rng.random() < 0.9 else b">",
        rng.choice(_TIMES),
        b" " if rng.random() < 0.9 else b"  ",
        rng.choice(_ZONES),
    ]
    if rng.random() < 0.15:
        at = rng.randrange(len(parts) + 1)
        parts.insert(at, rng.choice(_ODD))
    return b"".join(parts)


def _name(rng: random.Random, name: bytes) -> bytes:
    """A header name as written: mostly right, sometimes bare, glued or with an odd byte."""
    roll = rng.random()
    if roll < 0.75:
        return name + b" "
    if roll < 0.85:
        return name
    if roll < 0.9:
        return name + b"x "
    return name + rng.choice([b"\r ", b"\t", b"\r", b"  "])


def _line(rng: random.Random) -> bytes:
    """One header line (or a few: a header with continuation lines) of any kind."""
    kind = rng.choice(
        ["tree", "parent", "author", "committer", "continued", "gpgsig", "other", "encoding"]
    )
    if kind == "tree":
        return _name(rng, b"tree") + rng.choice([TREE.encode(), b"", b"\xff" * 2, b"x\r"])
    if kind == "parent":
        return _name(rng, b"parent") + rng.choice([PARENT.encode(), b"", b"caf\xc3\xa9", b"\xff"])
    if kind in ("author", "committer"):
        return _name(rng, kind.encode()) + _identity_value(rng)
    if kind == "continued":
        return b" " + rng.choice([_identity_value(rng), b"", b"x", b"parent " + PARENT.encode()])
    if kind == "gpgsig":
        return rng.choice([GPGSIG, b"gpgsig", b"gpgsig-sha256 x\n y"])
    if kind == "encoding":
        return b"encoding latin1"
    return rng.choice([b"x y", b"mergetag object x\n type commit", b"", b" ", b"treex y"])


def _git_like(rng: random.Random) -> list[bytes]:
    """A head the way git writes it (so the short read is tried), then lines of any kind."""
    lines = [b"tree " + TREE.encode()]
    lines += [b"parent " + PARENT.encode()] * rng.choice([0, 1, 1, 2, 3])
    lines += [b"author " + _identity_value(rng), b"committer " + _identity_value(rng)]
    lines += [_line(rng) for _ in range(rng.choice([0, 0, 1, 2, 3, 5]))]
    return lines


def _mutated(rng: random.Random, head: bytes) -> bytes:
    """`head` with a few bytes put in, taken out or swapped for odd ones."""
    data = bytearray(head)
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(data) + 1)
        roll = rng.random()
        odd = rng.choice([*_ODD, b"\n", b"p", b"t", b"0", b"+", b"-", b"\xc3\xa9"])
        if roll < 0.4 or not data:
            data[at:at] = odd
        elif roll < 0.7:
            del data[min(at, len(data) - 1)]
        else:
            data[min(at, len(data) - 1) : min(at, len(data) - 1) + 1] = odd
    return bytes(data)


def random_head(rng: random.Random) -> bytes:
    roll = rng.random()
    if roll < 0.45:
        lines = _git_like(rng)
        if rng.random() < 0.25:
            rng.shuffle(lines)
        head = b"\n".join(lines)
    elif roll < 0.75:
        head = _mutated(rng, b"\n".join(_git_like(rng)))
    else:
        head = b"\n".join(_line(rng) for _ in range(rng.randint(0, 8)))
    return head + rng.choice(ENDINGS)


@pytest.mark.parametrize("seed", range(8))
def test_random_heads_are_read_alike(seed: int) -> None:
    """Thousands of heads per seed, most of them opening as git writes them."""
    rng = random.Random(f"plain-head-{seed}")
    taken = read = refused = 0
    for _ in range(4000):
        raw = random_head(rng)
        if assert_read_alike(raw):
            taken += 1
            if both_readers(raw)[0][0] == "read":
                read += 1
            else:
                refused += 1
    # the short read was tried, on heads it reads and on heads both refuse
    assert taken > 1000 and read > 200 and refused > 200, (taken, read, refused)


# -- the same heads in a real repository ---------------------------------------------------------


def forge(world: World, head: bytes, *, on_main: bool) -> str:
    """A commit object with the head `head` on the world's HEAD (its tree and parent filled in),
    written as given; `on_main`: main moved to it, the work tree reset."""
    tree = world.git("rev-parse", "HEAD^{tree}").encode()
    raw = head.replace(TREE.encode(), tree).replace(PARENT.encode(), world.head().encode())
    made = run_bytes(
        ["git", "hash-object", "-t", "commit", "-w", "--stdin", "--literally"],
        cwd=world.repo,
        env=environment(),
        input=raw + b"\n\nPlanted\n",
    )
    commit = made.stdout.decode().strip()
    if on_main:
        world.git("update-ref", "refs/heads/main", commit)
        world.git("reset", "-q", "--hard")
    return commit


def test_real_objects_are_read_alike_through_git(world: World) -> None:
    """Each hand-made head and a few hundred random ones, written by git and read back from
    `git cat-file` as the walks read them."""
    rng = random.Random("plain-head-git")
    heads = [*HAND_MADE.values(), *(_head(random_head(rng)) for _ in range(300))]
    made = [forge(world, head, on_main=False) for head in heads]
    taken = 0
    for name, kind, raw in git.cat_objects(world.repo, made):
        assert kind == "commit"
        full, light = both_readers(raw, name)
        assert light == full, raw
        taken += commits._plain_head(_head(raw)) is not None
    assert taken > 100


Outcome = tuple[str, Any]


def _judged(run: Callable[[], Any]) -> Outcome:
    try:
        found = run()
    except Exception as error:  # any difference between the ways counts
        return ("error", f"{type(error).__name__}: {str(error).splitlines()[0]}")
    if isinstance(found, CheckReport):
        return ("report", (found.violations, found.notes))
    return ("result", found)


def both_gates(monkeypatch: pytest.MonkeyPatch, repo: Path, run: Callable[[], Any]) -> Outcome:
    monkeypatch.setenv("GITQMS_GATE", "full")
    full = _judged(run)
    monkeypatch.setenv("GITQMS_GATE", "narrow")
    narrow = _judged(run)
    assert narrow == full
    return full


# Planted commits the narrow walk passes without judging (no record changed, no trailers).
PLANTED = {
    "git's own, back-dated": plain(committer=b"committer C <c@x> 1000000000 +0000"),
    "dated in 2100": plain(committer=b"committer C <c@x> 4102444800 +0000"),
    "two committers, 2100 first": plain(b"committer C <c@x> 1 +0000").replace(
        COMMITTER, b"committer C <c@x> 4102444800 +0000"
    ),
    "two committers, 2100 second": plain(b"committer C <c@x> 4102444800 +0000"),
    "a zone of +1400 in 2100": plain(committer=b"committer C <c@x> 4102444800 +1400"),
    "a zone of -1200 in 2100": plain(committer=b"committer C <c@x> 4102444800 -1200"),
    "the committer continued with 2100": plain(b" 4102444800 +0000").replace(
        COMMITTER, b"committer C <c@x>"
    ),
    "a bare committer with 2100, then a plain one": HAND_MADE["a bare committer, then a plain one"],
    "a CR at the committer's end": HAND_MADE["a CR at the committer's end"],
    "a parent after the committer": HAND_MADE["a parent after the committer"],
    "a non-ASCII parent after a gpgsig": HAND_MADE["a non-ASCII parent after a gpgsig"],
    "a bogus gpgsig": plain(GPGSIG),
    "a non-ASCII name": HAND_MADE["a non-ASCII name"],
    "invalid UTF-8 in the name": HAND_MADE["invalid UTF-8 in the name"],
    "a '>' in the name, 2100 after the last": plain(
        committer=b"committer a>b <c@x> 4102444800 +0000"
    ),
    "no date": HAND_MADE["no date"],
    "a date of 13 digits": HAND_MADE["a date of 13 digits"],
    "an empty committer value": HAND_MADE["an empty committer value"],
}


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_a_planted_commit_is_judged_alike_by_the_narrow_and_the_full_gate(
    world: World, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """The insider plants the commit; the reviewer then signs SOP-0001 on top of it. `qms
    check` of the signature's range and `qms log SOP-0001` give the same verdicts both ways
    (a planted date the two ways read differently back-dates the signature for one only)."""
    [(_, _, raw)] = list(git.cat_objects(world.repo, [forge(world, PLANTED[name], on_main=True)]))
    full, light = both_readers(raw)
    assert light == full
    base = world.head()
    reviewer = world.people["m.okafor"]
    world.raw_commit(reviewer, world.trailers("SOP-0001", SOP, "reviewed", version="1"))
    both_gates(monkeypatch, world.repo, lambda: check_range(world.repo, f"{base}..HEAD"))
    both_gates(monkeypatch, world.repo, lambda: record_log(world.repo, "SOP-0001"))


def test_the_planted_heads_reach_the_short_read() -> None:
    taken = {name for name, head in PLANTED.items() if commits._plain_head(head) is not None}
    assert {"dated in 2100", "two committers, 2100 first", "a zone of +1400 in 2100"} <= taken
    assert "the committer continued with 2100" not in taken


def test_a_commit_made_by_git_with_an_odd_zone_is_read_alike(world: World) -> None:
    """git itself writes the zone it is given: far east and far west of UTC."""
    for stamp in ("2026-02-01T23:30:00+1400", "2026-02-01T00:30:00-1200"):
        env = {"GIT_COMMITTER_DATE": stamp, "GIT_AUTHOR_DATE": stamp}
        world.git("commit", "-q", "--allow-empty", "--no-gpg-sign", "-m", "Tidy", env=env)
        [(name, _, raw)] = list(git.cat_objects(world.repo, [world.head()]))
        assert re.search(rb"(?m)^committer .* [+-]1[24]00$", raw)
        full, light = both_readers(raw, name)
        assert light == full
        assert commits._plain_head(_head(raw)) is not None
