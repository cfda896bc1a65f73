"""The comparison of two document versions in the core (reports/changes.py), on small texts:
blocks aligned, then words inside the blocks that changed; the front matter field by field;
which version a version takes over from."""

from __future__ import annotations

from datetime import date

from gitqms.reports.changes import (
    Block,
    blocks_of,
    compare,
    field_changes,
    predecessors,
    redline,
    words,
)
from gitqms.reports.entries import PublishedVersion, SopEntry

TEXT = """# Receipt of ATMPs

## 1 Purpose

To receive every shipper at the pharmacy.

## 2 Procedure

- Check the seal.
- Read the logger.
- Sign the courier's note.

The pharmacist decides on acceptance.
"""


def _text(block: Block) -> str:
    return "".join(piece.text for piece in block.pieces)


def _marked(blocks: list[Block], mark: str) -> list[str]:
    return [p.text for b in blocks for p in b.pieces if p.mark == mark]


def test_blocks_are_paragraphs_headings_and_list_items() -> None:
    assert blocks_of(TEXT) == [
        "# Receipt of ATMPs",
        "## 1 Purpose",
        "To receive every shipper at the pharmacy.",
        "## 2 Procedure",
        "- Check the seal.",
        "- Read the logger.",
        "- Sign the courier's note.",
        "The pharmacist decides on acceptance.",
    ]
    fenced = "Text\n\n```\na\n\nb\n```\n\nAfter"
    assert blocks_of(fenced) == ["Text", "```\na\n\nb\n```", "After"]


def test_identical_texts_have_no_change() -> None:
    blocks = redline(TEXT, TEXT)
    assert [b.mark for b in blocks] == ["same"] * 8
    assert [_text(b) for b in blocks] == blocks_of(TEXT)
    # line breaks and spacing inside a paragraph are not a change
    assert all(
        b.mark == "same" for b in redline(TEXT, TEXT.replace("every shipper", "every\nshipper"))
    )


def test_a_whole_paragraph_added() -> None:
    added = "Quarantine any shipper whose logger shows an excursion."
    new = TEXT.replace("## 2 Procedure", f"{added}\n\n## 2 Procedure")
    blocks = redline(TEXT, new)
    changed = [b for b in blocks if b.mark != "same"]
    assert [(b.mark, _text(b)) for b in changed] == [("added", added)]
    assert changed[0].pieces[0].mark == "ins"
    assert [_text(b) for b in blocks if b.mark != "removed"] == blocks_of(new)


def test_a_whole_paragraph_removed() -> None:
    new = TEXT.replace("The pharmacist decides on acceptance.\n", "")
    blocks = redline(TEXT, new)
    assert [(b.mark, _text(b)) for b in blocks if b.mark != "same"] == [
        ("removed", "The pharmacist decides on acceptance.")
    ]


def test_a_word_changed_inside_a_paragraph() -> None:
    new = TEXT.replace("every shipper at the pharmacy", "every shipper at the ATMP room")
    blocks = redline(TEXT, new)
    changed = [b for b in blocks if b.mark != "same"]
    assert len(changed) == 1 and changed[0].mark == "changed"
    assert _marked(changed, "del") == ["pharmacy"]
    assert _marked(changed, "ins") == ["ATMP room"]
    kept = "".join(p.text for p in changed[0].pieces if p.mark == "same")
    assert kept == "To receive every shipper at the ."


def test_a_heading_renamed() -> None:
    new = TEXT.replace("## 2 Procedure", "## 2 Procedure at receipt")
    changed = [b for b in redline(TEXT, new) if b.mark != "same"]
    assert [b.mark for b in changed] == ["changed"]
    assert changed[0].heading
    assert _marked(changed, "ins") == [" at receipt"]
    assert _marked(changed, "del") == []


def test_list_items_reordered_are_shown_as_moved_and_no_text_is_lost() -> None:
    new = TEXT.replace(
        "- Check the seal.\n- Read the logger.", "- Read the logger.\n- Check the seal."
    )
    blocks = redline(TEXT, new)
    moved = [(b.mark, _text(b)) for b in blocks if b.moved]
    assert len(moved) == 2
    assert {text for _, text in moved} == {"- Check the seal."} or {text for _, text in moved} == {
        "- Read the logger."
    }
    assert sorted(mark for mark, _ in moved) == ["added", "removed"]
    assert [_text(b) for b in blocks if b.mark != "removed"] == blocks_of(new)
    assert [_text(b) for b in blocks if b.mark != "added"] == blocks_of(TEXT)


def test_words_keep_every_character_of_both_texts() -> None:
    old, new = "Store at -150 °C or below.", "Store at -135 °C, for 10 minutes at most."
    pieces = words(old, new)
    assert "".join(p.text for p in pieces if p.mark != "ins") == old
    assert "".join(p.text for p in pieces if p.mark != "del") == new


def _version(number: int, body: str, **fields: object) -> PublishedVersion:
    return PublishedVersion(
        version=number,
        status="effective",
        fields={"id": "SOP-0001", "version": number, **fields},
        body=body,
        commit="0" * 40,
        approved_on=date(2026, 1, number),
        effective_from=date(2026, 2, number),
        until=None,
        signatures=(),
    )


def _entry(record_id: str, *versions: PublishedVersion) -> SopEntry:
    return SopEntry(
        id=record_id,
        title="t",
        area=None,
        owner=None,
        status="effective",
        current=versions[-1],
        upcoming=None,
        archive=(),
        revisions=tuple(reversed(versions)),
        draft=None,
        next_review=None,
        last_review=None,
        related=(),
        notes=(),
        trail=(),
    )


def test_the_front_matter_is_compared_field_by_field() -> None:
    old = {"id": "SOP-1", "version": 1, "title": "A", "owner": "x", "training_audience": ["a"]}
    new = {
        "id": "SOP-1",
        "version": 2,
        "supersedes": "SOP-1 v1",
        "title": "B",
        "owner": "x",
        "training_audience": ["a", "b"],
        "change_control": "CC-2026-0001",
    }
    found = {c.key: (c.before, c.after) for c in field_changes(old, new)}
    assert found == {
        "title": ("A", "B"),
        "training_audience": (["a"], ["a", "b"]),
        "change_control": (None, "CC-2026-0001"),
    }


def test_a_version_takes_over_from_the_one_before_or_the_one_it_names() -> None:
    v1, v2 = _version(1, "a"), _version(2, "b", supersedes="SOP-0001 v1")
    other = _version(1, "c", supersedes="SOP-0001 v2")  # a new document replacing SOP-0001
    found = predecessors([_entry("SOP-0001", v1, v2), _entry("SOP-0009", other)])
    assert found == {("SOP-0001", 2): ("SOP-0001", v1), ("SOP-0009", 1): ("SOP-0001", v2)}
    assert ("SOP-0001", 1) not in found  # a first issue

    comparison = compare("SOP-0009", other, "SOP-0001", v2)
    assert comparison.text_changed
    assert comparison.counts == {"added": 1, "removed": 1, "changed": 0}  # "b" and "c": unalike
