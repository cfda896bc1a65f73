"""The verifier's shortcuts over a record's lines must answer as the strict loader does.

The version a signature names (`stated_version`) and whether a signed commit changed only a
record's state fields (`edits_only`, which decides separation of duties' authorship) are read
from record text that anyone with push rights writes. A shortcut that answers where the strict
loader refuses the text, or answers differently, makes a verdict that the full parse would not.
Each case below once did; the seeded runs search line shapes for more.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest

from gitqms.records.document import split_front_matter
from gitqms.records.lifecycles import STATE_FIELDS
from gitqms.safeyaml import LoadError, edits_only, load_fields, load_yaml, top_level_lines
from gitqms.safeyaml.lines import _top_level_lines
from gitqms.signatures.claims import stated_version, version_of

CAPA = "CAPA-2026-0001"
ROOT = Path(__file__).resolve().parents[1]


def _strict(text: str) -> Any:
    try:
        return load_yaml(text, lines=False).data
    except LoadError:
        return None


def _version_by_parsing(text: str) -> str | None:
    """The version the strict loader reads: the top-level fields it builds, when the whole
    text is one YAML document (an error nested in another field is validation's business)."""
    try:
        return version_of(load_fields(text, frozenset({"version", "state"})))
    except LoadError:
        return None


def _authored_by_parsing(old: str, new: str) -> bool:
    """What `Contents._changed_more` answers without its shortcut: more than state changed."""
    before, after = _strict(old), _strict(new)
    if not isinstance(before, dict) or not isinstance(after, dict):
        return True
    return any(before.get(k) != after.get(k) for k in (before.keys() | after.keys()) - STATE_FIELDS)


def _authored_by_lines(old: str, new: str) -> bool:
    """What it answers with the shortcut: a state-only edit of a text that loads as a mapping."""
    if edits_only(old, new, STATE_FIELDS) and isinstance(_strict(old), dict):
        return False
    return _authored_by_parsing(old, new)


@pytest.mark.parametrize(
    "text",
    [
        "version: 3\n  -\n",  # the bare '-' continues the plain text: '3 -'
        "version: 3\n  - # c\n",
        "state: x-y\n  -  # c\n  # c\n",
        "  -\nstate: open\n\n",  # a sequence before any key: not YAML at all
        "  - \n  # c\nversion: '3'\n\n",
        "x: a: b\nstate: x-y",  # ': ' in a plain value: a syntax error elsewhere
        "a-b: - x\nversion: 3\n",
        "notes: ,a\nversion: 3\n",
        "state: 3 # c\ntitle: a # c\n  |\n",  # text after a comment goes on: an error
        "title: 'q'\n  more\nversion: 3\n",  # nothing goes on after a quoted value
        "version: 3\ntitle: a\x01b\n",  # a control character anywhere
        "version: 3\nnotes: |x\n  a\n",  # not a block header
    ],
)
def test_the_version_a_signature_names_is_the_strict_loaders(text: str) -> None:
    assert stated_version(text.encode(), CAPA) == _version_by_parsing(text)
    front = text if text.endswith("\n") else f"{text}\n"  # front matter ends its last line
    markdown = f"---\n{front}---\nbody\n"
    assert split_front_matter(markdown)[0] == front
    assert stated_version(markdown.encode(), "SOP-0001") == _version_by_parsing(front)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("state: open\n  -\n", 'state: "open"\n  -\n'),  # a quoted value cannot go on
        ("title: x\nstate: open\n  -  # c\n", "title: x\nstate: 'x'\n  -  # c\n"),
        ("state: open\n", ""),  # nothing left: not a mapping
        ("# c\nclosed: open\n", "# c\n"),
        ("\nstate: '3'\n", "\n"),
    ],
)
def test_a_state_edit_that_breaks_the_record_is_authorship(old: str, new: str) -> None:
    assert isinstance(_strict(old), dict) and not isinstance(_strict(new), dict)
    assert _authored_by_lines(old, new) is True


# -- seeded searches over line shapes ---------------------------------------------------------

_KEYS = ["version", "state", "title", "notes", "a-b", "closed"]
_VALUES = [
    *("", "3", "open", "'3'", '"open"', "[a]", "{a: 1}", "|", ">", "|+", "|-2", "a # c", "a: b"),
    *("'a", '"a', "[a", "-", "- x", "&a 1", "*a", "!!str 3", "3 # c", "true", "null", "0010"),
    *("1.10", "a #", "#c", "x-y", "~", "'it''s'", "? a", "%x", "@a", "`a", ",a", "a,b", "{", "]"),
    *("-1", "+1", "a:", ":a", "a:b", "'a' b", "[a, b]", "[]", "{}", "|x", ">0"),
]
_INDENTED = [
    *("  -", "  - ", "  - x", "  - - x", "  -x", "  # c", "  a: 1", "  'q", "    text", "  - # c"),
    *("  -  # c", "", " ", "  x: y: z", "  |", "  ? a", "  : b", "  - a: 1", "   b", "  ---"),
    *("  ...", "  - [a]", "  b: 'c'", "    - y"),
]
_TOP = ["# c", "#", "---", "...", "-", "- x", "? a", ": b", "%YAML 1.2", "[a]", "a b: 1", "k:v"]


def _line(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.45:
        value = rng.choice(_VALUES)
        return f"{rng.choice(_KEYS)}:" + (f" {value}" if value else rng.choice(["", " "]))
    return rng.choice(_INDENTED) if roll < 0.85 else rng.choice(_TOP)


def _lines(rng: random.Random) -> list[str]:
    lines = [_line(rng) for _ in range(rng.randint(1, 7))]
    if rng.random() < 0.5:
        lines.insert(0, f"{rng.choice(sorted(STATE_FIELDS))}: open")
    return lines


def _edited(rng: random.Random, lines: list[str]) -> list[str]:
    """`lines` with state fields changed, added or removed."""
    lines = list(lines)
    for _ in range(rng.randint(1, 3)):
        value = rng.choice([*_VALUES, "closed", "'x'", '"y: z"'])
        line = f"{rng.choice(sorted(STATE_FIELDS))}:" + (f" {value}" if value else "")
        at = rng.randrange(len(lines)) if lines else 0
        is_state = bool(lines) and lines[at].split(":")[0] in STATE_FIELDS
        roll = rng.random()
        if roll < 0.4 and is_state:
            lines[at] = line
        elif roll < 0.7 or not lines:
            lines.insert(rng.randint(0, len(lines)), line)
        elif is_state:
            del lines[at]
    return lines


@pytest.mark.parametrize("seed", range(4))
def test_stated_version_agrees_with_the_strict_loader_on_random_lines(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(5000):
        text = "\n".join(_lines(rng)) + rng.choice(["\n", "", "\n\n"])
        assert stated_version(text.encode(), CAPA) == _version_by_parsing(text), text


@pytest.mark.parametrize("seed", range(4))
def test_a_state_only_edit_told_from_lines_is_one_by_the_strict_loader(seed: int) -> None:
    rng = random.Random(1000 + seed)
    told = 0
    for _ in range(5000):
        lines = _lines(rng)
        end = rng.choice(["\n", "", "\n\n"])
        old, new = "\n".join(lines) + end, "\n".join(_edited(rng, lines)) + end
        told += bool(edits_only(old, new, STATE_FIELDS))
        assert _authored_by_lines(old, new) == _authored_by_parsing(old, new), (old, new)
    assert told > 50  # the shortcut is taken often enough for the search to mean something


def test_top_level_lines_leaves_a_key_with_a_sequence_below_it_to_the_parser() -> None:
    assert top_level_lines("state: open\n  -\n") == {"state": None}
    assert top_level_lines("state:\n  -\n") == {"state": None}
    assert top_level_lines("  -\nstate: open\n") is None


# -- the one-pass reading of a text's lines against the line-by-line one it replaced ----------

_REF_KEY_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*):(?:[ \t]+(.*))?")
_REF_VALUE = re.compile(
    r"""(?:"[^"\\]*"|'[^']*'|[\[{][^\[\]{}"'#]*[\]}]|[|>][^"'\[\]{}]*|(?!["'\[\]{}&*!%@`?|>]).*)"""
    r"(?:[ \t]+#.*)?"
)


def _lines_one_by_one(text: str) -> dict[str, str | None] | None:
    """`top_level_lines` as it was written first: a loop over the lines, two matches each."""
    if re.search("[\t\r\x85\u2028\u2029]", text):
        return None
    fields: dict[str, str | None] = {}
    key: str | None = None
    for line in text.split("\n"):
        if line[:1] not in ("", " "):
            if line[0] == "#":
                continue
            match = _REF_KEY_LINE.fullmatch(line)
            if match is None or match[1] in fields or not _REF_VALUE.fullmatch(match[2] or ""):
                return None
            key = match[1]
            fields[key] = match[2] or ""
            continue
        content = line.lstrip(" ")
        if not content or content[0] == "#":
            continue
        while content[:2] == "- " or content == "-":
            content = content[2:].lstrip(" ")
        match = _REF_KEY_LINE.fullmatch(content)
        value = (match[2] or "") if match else content
        if key is None or (content[:1] != "#" and not _REF_VALUE.fullmatch(value)):
            return None
        fields[key] = None
    return fields


_PIECES = [*"ab:- #'\"[]{}|>&*!%@`?,\n\n\n  \t\x85xy1", "- ", ": ", "\n  ", "\n- ", "key: ", "\n#"]


@pytest.mark.parametrize("seed", range(4))
def test_the_one_pass_reading_of_lines_agrees_with_the_loop_over_them(seed: int) -> None:
    rng = random.Random(2000 + seed)
    examples = [p.read_text() for p in sorted((ROOT / "capa").glob("*.yaml"))]
    simple = 0
    for _ in range(5000):
        roll = rng.random()
        if roll < 0.4:
            text = "\n".join(_lines(rng)) + rng.choice(["\n", "", "\n\n"])
        elif roll < 0.7:
            text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 40)))
        else:  # a real record with a few pieces put in
            text = rng.choice(examples)
            for _ in range(rng.randint(0, 3)):
                at = rng.randint(0, len(text))
                cut = min(len(text), at + rng.randint(0, 5))
                text = text[:at] + "".join(rng.choice(_PIECES) for _ in range(3)) + text[cut:]
        expected = _lines_one_by_one(text)
        assert _top_level_lines(text) == expected, text
        simple += expected is not None
    assert simple > 1000, simple
