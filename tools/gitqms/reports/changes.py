"""What changed between two versions of a controlled document, as plain data: the Markdown
aligned block by block (paragraphs, headings, list items, table rows), then word by word inside
the blocks that changed, and the front matter compared field by field.

Each version comes from the signed bytes (`PublishedVersion`); nothing here renders HTML: the
site escapes every piece of text. `difflib` does the aligning; each pair of versions is compared
once, in time proportional to its texts (a changed region too large to pair block by block is
shown as removed and added).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Any, Literal

from .entries import PublishedVersion, SopEntry

Mark = Literal["same", "ins", "del"]
BlockMark = Literal["same", "added", "removed", "changed"]

# Fields that say which version a text is, not what it says: the page states both versions.
_NOT_COMPARED = frozenset({"id", "version", "supersedes"})
SIMILAR = 0.5  # blocks at least this alike are one block changed, not one removed, one added
_PAIRING_LIMIT = 2_500  # old x new blocks of one changed region worth pairing one by one
_LIST_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,9}[.)])\s")
_WORD = re.compile(r"\s+|\w+|[^\w\s]")


@dataclass(frozen=True)
class Piece:
    """A run of text in a changed block: kept, inserted or deleted."""

    mark: Mark
    text: str


@dataclass(frozen=True, kw_only=True)
class Block:
    """One block of the redline. `pieces` hold its text: one piece unless it changed inside.
    `moved`: the same text was removed here and added elsewhere (a list reordered)."""

    mark: BlockMark
    pieces: tuple[Piece, ...]
    moved: bool = False

    @property
    def heading(self) -> bool:
        return "".join(p.text for p in self.pieces).lstrip().startswith("#")

    @property
    def fenced(self) -> bool:
        """Code or a literal block: its line breaks matter."""
        return "".join(p.text for p in self.pieces).lstrip().startswith(("```", "~~~"))


@dataclass(frozen=True, kw_only=True)
class FieldChange:
    key: str
    before: Any  # None where the field was not there
    after: Any


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """`new` as a change from `old` (of `old_id`, the same document or the one it replaces)."""

    record_id: str
    old_id: str
    old: PublishedVersion
    new: PublishedVersion
    blocks: tuple[Block, ...]
    fields: tuple[FieldChange, ...]

    @property
    def text_changed(self) -> bool:
        return any(block.mark != "same" for block in self.blocks)

    @property
    def counts(self) -> dict[str, int]:
        counted = {"added": 0, "removed": 0, "changed": 0}
        for block in self.blocks:
            if block.mark in counted:
                counted[block.mark] += 1
        return counted


def predecessors(sops: Sequence[SopEntry]) -> dict[tuple[str, int], tuple[str, PublishedVersion]]:
    """(document, version) -> the published version it takes over from, for every approved
    version that has one: the version of the same document that staff worked to the day
    before it comes into force; for a document with none (a new document), the version its
    `supersedes` names, of another document; else this document's newest approved version
    before it. A first issue has none.

    What a version's own `supersedes` says never hides its own document's text in force: a
    revision naming some other version as the one it replaces is still compared with what
    staff worked to (the reviewer's "decoy" case)."""
    published = {(sop.id, v.version): v for sop in sops for v in sop.revisions}
    found: dict[tuple[str, int], tuple[str, PublishedVersion]] = {}
    for sop in sops:
        for version in sop.revisions:
            older = [v for v in sop.revisions if v.version < version.version]
            worked = [v for v in older if _in_force_before(v, version.effective_from)]
            named = _named(version.fields.get("supersedes"))
            if worked:
                chosen = max(worked, key=lambda v: (v.effective_from or date.min, v.version))
                found[(sop.id, version.version)] = (sop.id, chosen)
            elif named is not None and named != (sop.id, version.version) and named in published:
                found[(sop.id, version.version)] = (named[0], published[named])
            elif older:
                found[(sop.id, version.version)] = (sop.id, max(older, key=lambda v: v.version))
    return found


def _in_force_before(version: PublishedVersion, start: date | None) -> bool:
    """Whether `version` was in force on the day before `start` (for a version with no day
    yet, on any day: it is the one in force now or was)."""
    begun = version.effective_from
    if begun is None:
        return False
    if start is None:
        return version.until is None or version.until > begun
    return begun < start and (version.until is None or version.until >= start)


def _named(value: object) -> tuple[str, int] | None:
    """'SOP-0004 v3' -> ('SOP-0004', 3)."""
    if not isinstance(value, str):
        return None
    record, _, number = value.partition(" v")
    return (record.strip(), int(number)) if number.strip().isdigit() else None


def compare(
    record_id: str, new: PublishedVersion, old_id: str, old: PublishedVersion
) -> Comparison:
    return Comparison(
        record_id=record_id,
        old_id=old_id,
        old=old,
        new=new,
        blocks=tuple(redline(old.body, new.body)),
        fields=tuple(field_changes(old.fields, new.fields)),
    )


def field_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[FieldChange]:
    """The front-matter fields whose values differ, in the new version's order, then the
    fields the new version no longer has."""
    keys = [*new, *(k for k in old if k not in new)]
    return [
        FieldChange(key=key, before=old.get(key), after=new.get(key))
        for key in keys
        if key not in _NOT_COMPARED and old.get(key) != new.get(key)
    ]


def blocks_of(markdown: str) -> list[str]:
    return list(_blocks(markdown))


@lru_cache(maxsize=64)  # a version is split once, as the newer and as the older of two pairs
def _blocks(markdown: str) -> tuple[str, ...]:
    """A Markdown body's blocks: paragraphs (separated by blank lines), with every heading,
    list item (and its continuation lines) and table row a block of its own. Fenced code is
    kept whole."""
    blocks: list[str] = []
    current: list[str] = []
    fenced = False

    def close() -> None:
        if current:
            blocks.append("\n".join(current))
            current.clear()

    for line in markdown.splitlines():
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            if not fenced:
                close()
            fenced = not fenced
            current.append(line)
            if not fenced:
                close()
            continue
        if fenced:
            current.append(line)
        elif not stripped:
            close()
        elif stripped.startswith(("#", "|")) or _LIST_ITEM.match(line):
            close()
            current.append(line)
            if stripped.startswith(("#", "|")):
                close()
        else:
            current.append(line)
    close()
    return tuple(blocks)


def _fenced(block: str) -> bool:
    return block.lstrip().startswith(("```", "~~~"))


def _key(block: str) -> str:
    """What a block is compared by: its words, but fenced code exactly as written (there
    spacing and line breaks carry meaning, as indentation does in YAML)."""
    return block if _fenced(block) else " ".join(block.split())


def redline(old: str, new: str) -> list[Block]:
    """The blocks of `new` and the removed blocks of `old`, in reading order."""
    after = _blocks(new)
    if old == new:  # a reissue with the same text: nothing to align
        return [Block(mark="same", pieces=(Piece("same", b),)) for b in after]
    before = _blocks(old)
    matcher = SequenceMatcher(None, [_key(b) for b in before], [_key(b) for b in after], False)
    found: list[Block] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            found += [Block(mark="same", pieces=(Piece("same", b),)) for b in after[j1:j2]]
        else:
            found += _region(before[i1:i2], after[j1:j2])
    return _moves(found)


def _region(before: Sequence[str], after: Sequence[str]) -> list[Block]:
    """A changed region: blocks alike enough (by their words) are paired in order and compared
    word by word; the rest are removed or added."""
    removed = [Block(mark="removed", pieces=(Piece("del", b),)) for b in before]
    added = [Block(mark="added", pieces=(Piece("ins", b),)) for b in after]
    if not before or not after or len(before) * len(after) > _PAIRING_LIMIT:
        return removed + added
    old_words = [b.split() for b in before]
    found: list[Block] = []
    start = 0  # pairs keep their order: an old block is paired at most once, left to right
    for j, new in enumerate(after):
        if _fenced(new):  # changed code is shown whole, old and new: never word by word
            found.append(added[j])
            continue
        best, score = -1, SIMILAR
        alike = SequenceMatcher(None, autojunk=False)
        alike.set_seq2(new.split())  # difflib caches what it learns of the second sequence
        for i in range(start, len(before)):
            if _fenced(before[i]):
                continue
            alike.set_seq1(old_words[i])
            if alike.real_quick_ratio() >= score and alike.quick_ratio() >= score:
                ratio = alike.ratio()
                if ratio >= score:
                    best, score = i, ratio
        if best < 0:
            found.append(added[j])
            continue
        found += removed[start:best]
        found.append(Block(mark="changed", pieces=tuple(words(before[best], new))))
        start = best + 1
    return found + removed[start:]


def words(old: str, new: str) -> list[Piece]:
    """`new` as a change of `old`, word by word (spaces and punctuation are words too; a line
    break and a space are the same space). Kept runs are shown as `new` writes them."""
    a, b = _WORD.findall(old), _WORD.findall(new)
    matcher = SequenceMatcher(None, [_space(t) for t in a], [_space(t) for t in b], False)
    pieces: list[Piece] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            pieces.append(Piece("same", "".join(b[j1:j2])))
            continue
        if i2 > i1:
            pieces.append(Piece("del", "".join(a[i1:i2])))
        if j2 > j1:
            pieces.append(Piece("ins", "".join(b[j1:j2])))
    return _merged(pieces)


def _space(token: str) -> str:
    return " " if token.isspace() else token


def _merged(pieces: Iterable[Piece]) -> list[Piece]:
    merged: list[Piece] = []
    for piece in pieces:
        if merged and merged[-1].mark == piece.mark:
            merged[-1] = Piece(piece.mark, merged[-1].text + piece.text)
        elif piece.text:
            merged.append(piece)
    return merged


def _moves(blocks: list[Block]) -> list[Block]:
    """Blocks removed in one place and added unchanged in another are marked as moved."""
    removed = {_key(b.pieces[0].text) for b in blocks if b.mark == "removed"}
    added = {_key(b.pieces[0].text) for b in blocks if b.mark == "added"}
    both = removed & added
    return [
        Block(mark=b.mark, pieces=b.pieces, moved=True)
        if b.mark in ("removed", "added") and _key(b.pieces[0].text) in both
        else b
        for b in blocks
    ]
