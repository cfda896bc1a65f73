"""Raw git commit objects: headers, the signed payload, the message and its trailers."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

_DATE = re.compile(rb"^(?P<time>\d{1,12}) (?P<tz>[+-][01]\d[0-5]\d)$")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
_TRAILER = re.compile(r"^(?P<key>[A-Za-z0-9][A-Za-z0-9-]*): ?(?P<value>.*)$")

REASON = "Reason"  # the trailer that says why a change was made


@dataclass(frozen=True)
class Identity:
    name: str
    email: str
    time: datetime  # aware, in the zone the commit states

    @property
    def utc(self) -> datetime:
        return self.time.astimezone(UTC)


@dataclass(frozen=True, kw_only=True)
class Commit:
    id: str
    tree: str
    parents: tuple[str, ...]
    author: Identity
    committer: Identity
    message: str
    signature: str | None  # the armored gpgsig header, if any
    payload: bytes = field(repr=False)  # the object without its signature: what was signed
    trailers: tuple[tuple[str, str], ...] = ()
    problem: str | None = None  # a header that makes the signature untrustworthy

    @property
    def summary(self) -> str:
        return self.message.split("\n", 1)[0].strip()

    def trailer_values(self, key: str) -> list[str]:
        lower = key.lower()
        return [value for name, value in self.trailers if name.lower() == lower]

    @property
    def gives_reason(self) -> bool:
        """Whether its last `Reason:` trailer says something: why a controlled change was made."""
        reasons = self.trailer_values(REASON)
        return bool(reasons) and bool(reasons[-1].strip())


class CommitFormatError(ValueError):
    pass


def parse_commit(commit_id: str, raw: bytes) -> Commit:
    """Split a commit object into its parts; the signature header is cut out of the payload."""
    head, sep, body = raw.partition(b"\n\n")
    if not sep:
        head, body = raw.rstrip(b"\n"), b""
    values, cut, odd = _split_head(head)
    payload = raw
    for start, stop in reversed(cut):
        payload = payload[:start] + payload[stop:]
    if not sep:
        payload = payload.rstrip(b"\n") if cut else head
    tree, parents, author, committer = _essentials(commit_id, values)
    signature = values[b"gpgsig"][0].decode("utf-8", "replace") if b"gpgsig" in values else None
    problem = None
    if len(values.get(b"gpgsig", [])) > 1:
        problem = "the commit carries more than one signature header"
    elif odd or b"encoding" in values:
        problem = (
            "the commit has a signature header git reads differently (gpgsig with no value, "
            "gpgsig-sha256, …) or an encoding header, which gitqms does not accept"
        )
    message = body.decode("utf-8", "replace")
    return Commit(
        id=commit_id,
        tree=tree,
        parents=parents,
        author=author,
        committer=committer,
        message=message,
        signature=signature,
        payload=payload,
        trailers=parse_trailers(message),
        problem=problem,
    )


def header_commit(commit_id: str, raw: bytes, parents: tuple[str, ...]) -> Commit:
    """What a walk needs of a commit it passes without judging: its tree, parents and the two
    identities with their dates, read from the headers exactly as `parse_commit` reads them
    (the same splitting, the same errors). Nothing else: no message, trailers or signature, so
    it claims and proves nothing. `parents`: as git reads them (history/read.py)."""
    head, sep, _ = raw.partition(b"\n\n")
    if not sep:
        head = raw.rstrip(b"\n")
    values = _plain_head(head)
    if values is None:
        values = {}
        for found in _ESSENTIAL.finditer(head):  # as _split_head folds them, without the rest
            folded = (found[2] or b"") + found[3].replace(b"\n ", b"\n")
            values.setdefault(found[1], []).append(folded)
    tree, _, author, committer = _essentials(commit_id, values)
    return Commit(
        id=commit_id,
        tree=tree,
        parents=parents,
        author=author,
        committer=committer,
        message="",
        signature=None,
        payload=b"",
    )


Headers = dict[bytes, list[bytes]]
# A header line named tree, parent, author or committer (its name runs to the first space) and
# its continuation lines (each starts with a space): what `_split_head` makes of those four.
_ESSENTIAL = re.compile(
    rb"^(tree|parent|author|committer)(?: ([^\n]*))?((?:\n [^\n]*)*)(?=\n|\Z)", re.MULTILINE
)


def _plain_head(head: bytes) -> Headers | None:
    """The four headers `_ESSENTIAL` reads, when the head opens the way git writes it (a tree
    line, parent lines, an author line and a committer line, none continued on the next line)
    and names no parent later; None otherwise, for the general reader."""
    lines = head.split(b"\n")
    if not lines[0].startswith(b"tree "):
        return None
    at = 1
    while at < len(lines) and lines[at].startswith(b"parent "):
        at += 1
    if at + 1 >= len(lines) or not (
        lines[at].startswith(b"author ") and lines[at + 1].startswith(b"committer ")
    ):
        return None
    rest = lines[at + 2 :]
    if (rest and rest[0].startswith(b" ")) or any(line.startswith(b"parent") for line in rest):
        return None
    return {
        b"tree": [lines[0][5:]],
        b"parent": [line[7:] for line in lines[1:at]],
        b"author": [lines[at][7:]],
        b"committer": [lines[at + 1][10:]],
    }


def _split_head(head: bytes) -> tuple[Headers, list[tuple[int, int]], bool]:
    """The header lines, with continuation lines (a leading space) folded into their header;
    the byte spans of gpgsig headers (cut from the payload); and whether a header is one git
    reads as a signature other than ours, and cuts from its payload."""
    values: Headers = {}
    cut: list[tuple[int, int]] = []
    name = b""
    parts: list[bytes] = []
    position = 0
    odd = False
    for line in head.split(b"\n"):
        end = position + len(line) + 1
        if line[:1] == b" " and parts:
            parts.append(line[1:])
            if name == b"gpgsig":
                cut[-1] = (cut[-1][0], end)
        else:
            if parts:
                values.setdefault(name, []).append(b"\n".join(parts))
            name, _, value = line.partition(b" ")
            parts = [value]
            odd = odd or (name.startswith(b"gpgsig") and not line.startswith(b"gpgsig "))
            if name == b"gpgsig":
                cut.append((position, end))
        position = end
    if parts:
        values.setdefault(name, []).append(b"\n".join(parts))
    return values, cut, odd


def _essentials(commit_id: str, values: Headers) -> tuple[str, tuple[str, ...], Identity, Identity]:
    """(tree, parents, author, committer) from the headers; CommitFormatError when one is
    missing or unreadable."""
    try:
        tree = values[b"tree"][0].decode("ascii")
        parents = tuple(p.decode("ascii") for p in values.get(b"parent", []))
        author = _identity(values[b"author"][0])
        committer = _identity(values[b"committer"][0])
    except (KeyError, UnicodeDecodeError) as error:
        raise CommitFormatError(f"commit {commit_id} is malformed: {error}") from None
    return tree, parents, author, committer


def _identity(value: bytes) -> Identity:
    """Split 'Name <email> time zone' the way git does: the email runs from the first '<' to
    the next '>', and the date follows the last '>'."""
    start = value.find(b"<")
    end = value.find(b">", start + 1)
    last = value.rfind(b">")
    match = _DATE.match(value[last + 2 :]) if start >= 0 and end > start else None
    if not match:
        raise CommitFormatError(f"bad identity line {value[:80]!r}")
    name, email = value[:start].rstrip(b" "), value[start + 1 : end]
    try:
        when = datetime.fromtimestamp(int(match["time"]), _zone(match["tz"]))
    except (ValueError, OverflowError, OSError):
        raise CommitFormatError(f"impossible date in identity line {value[:80]!r}") from None
    return Identity(
        name=name.decode("utf-8", "replace"),
        email=email.decode("utf-8", "replace"),
        time=when,
    )


@functools.cache
def _zone(tz: bytes) -> timezone:
    """'+0130' -> UTC+01:30; a history has few distinct zones."""
    offset = timedelta(hours=int(tz[1:3]), minutes=int(tz[3:5]))
    return timezone(-offset if tz[:1] == b"-" else offset)


def parse_trailers(message: str) -> tuple[tuple[str, str], ...]:
    """The `Key: value` lines of the message's last paragraph, if every line there is one.

    Only the last paragraph counts, as for `git interpret-trailers`, so a `QMS-Meaning:` line
    quoted in the body of a message is not a trailer.
    """
    paragraphs = [p for p in re.split(r"\n[ \t]*\n", message.strip("\n")) if p.strip(" \t\n")]
    if len(paragraphs) < 2:
        return ()
    trailers: list[tuple[str, str]] = []
    for line in paragraphs[-1].split("\n"):  # lines as git splits them: on \n only
        if line[:1] in (" ", "\t") and trailers:  # folded continuation line
            key, value = trailers[-1]
            trailers[-1] = (key, f"{value} {line.strip()}")
            continue
        match = _TRAILER.match(line)
        if not match or _CONTROL.search(line):
            return ()
        trailers.append((match["key"], match["value"].strip()))
    return tuple(trailers)


def format_trailers(pairs: list[tuple[str, str]]) -> str:
    """Trailer lines; values are folded onto one line so they cannot forge another trailer."""
    return "\n".join(f"{key}: {' '.join(value.split())}" for key, value in pairs)
