"""Edits of top-level fields told from the lines of a record alone.

Many versions of a record differ from the one before only in a one-line state field. The
shortcut here answers from the two texts when their lines prove the answer, and returns None
otherwise, so the caller parses with the strict loader (load.py): it never answers differently
from the strict loader, only sooner (tests/test_line_shortcuts_agree.py searches for a case
where it would). Reading a field's value from the lines is not offered: proving that a whole
text loads costs about what loading it does.
"""

from __future__ import annotations

import re

from .limits import MAX_DIGITS, MAX_NODES

_KEY = r"[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*"
_KEY_LINE = re.compile(rf"({_KEY}):(?:[ \t]+(.*))?")
# A value that cannot run on past its line: a closed quote or flow, a block header, or a plain
# value that does not open a construct (no value holds a line break: `[^\n]`, not `.`).
_VALUE = (
    r"""(?:"[^"\\\n]*"|'[^'\n]*'|[\[{][^\[\]{}"'#\n]*[\]}]|[|>][^"'\[\]{}\n]*"""
    r"""|(?!["'\[\]{}&*!%@`?|>])[^\n]*)(?:[ \t]+#[^\n]*)?"""
)
_END = r"(?=\n|\Z)"
_KEYED = rf"{_KEY}:(?:[ \t]++{_VALUE})?{_END}"  # key: value, the value checked as a whole
_CONTENT = (  # an indented line after its spaces and sequence dashes ('- ', or a bare '-')
    rf"(?:-(?: ++|{_END}))*+(?:\#[^\n]*|{_KEYED}|(?!{_KEY}:(?:[ \t]|\n|\Z)){_VALUE}{_END})"
)
_BEFORE = r"(?> *+(?:\#[^\n]*)?)"  # a line before the first key: blank, or a comment
_LINE = rf"(?>\#[^\n]*|{_KEYED}| ++(?:\#[^\n]*|{_CONTENT})?|)"  # each line atomic: linear time
_SIMPLE = re.compile(rf"(?:{_BEFORE}\n)*+(?:{_BEFORE}|{_KEYED}(?:\n{_LINE})*+)")
_TOP_KEY = re.compile(rf"\n({_KEY}):(?:[ \t]++([^\n]*))?")  # after a line break: found fast
_GOES_ON = re.compile(r"^ +[^ #\n]", re.MULTILINE)  # an indented line other than a comment
_BREAKS = ("\t", "\r", "\x85", "\u2028", "\u2029")  # tabs and the line breaks other than \n


def top_level_lines(text: str) -> dict[str, str | None] | None:
    """Each top-level key's value as written on its line, when the text is simple enough to be
    sure of that without a parser; None when it is not (the caller then parses). Remembered
    for recent texts (a record's content is read at one commit and again at the next);
    callers must not change what they get.

    Simple means: every line at column 0 is `key: value` with a plain key, and no value
    anywhere opens a quote, bracket or other construct that could run on past its own line.
    Then the lines at column 0 are exactly the top-level keys, since anything that continues a
    value sits further right. A key's value is None when indented lines other than blanks and
    comments follow it (a nested block, a plain text that runs on, a bare `-`), so only the
    parser can say what it is. This does not prove that the text loads: a value on its line
    may still be one the parser refuses, so only `edits_only`, which asks that of the parser,
    relies on it.
    """
    if text not in _TOP_LEVEL:
        if len(_TOP_LEVEL) >= 4096:
            _TOP_LEVEL.clear()
        _TOP_LEVEL[text] = _top_level_lines(text)
    return _TOP_LEVEL[text]


_TOP_LEVEL: dict[str, dict[str, str | None] | None] = {}


def _top_level_lines(text: str) -> dict[str, str | None] | None:
    if any(each in text for each in _BREAKS) or _SIMPLE.fullmatch(text) is None:
        return None
    fields: dict[str, str | None] = {}
    lined = "\n" + text  # every key line follows a line break
    keys = list(_TOP_KEY.finditer(lined))
    for at, key in enumerate(keys):
        if key[1] in fields:
            return None
        end = keys[at + 1].start() if at + 1 < len(keys) else len(lined)
        fields[key[1]] = None if _GOES_ON.search(lined, key.end(), end) else key[2] or ""
    return fields


# -- a shortcut for edits of one-line top-level fields, proven line by line --------------------

# A value the strict loader reads without fail (text, a short number, true/false, null) and
# that cannot run on past its line; ASCII, so the reader accepts every character.
_SAFE_VALUE = re.compile(
    r"""[A-Za-z0-9][A-Za-z0-9 ._/+(),;-]*|"[A-Za-z0-9 ._/+(),;:-]*"|'[A-Za-z0-9 ._/+(),;:-]*'"""
)
# A text this short has fewer nodes than MAX_NODES: in a simple text (one-line flows, which
# do not nest) an anchor is on a scalar, so an alias adds one node, as a value would.
_SAFE_SIZE = MAX_NODES // 2
# What a dropped line may not hold, since the loader reads it across the whole text: an anchor
# (an alias elsewhere would lose it) and a bracket (the nesting bound counts them even in quotes).
_WHOLE_TEXT = re.compile(r"[&\[\]{}]")


def edits_only(old: str, new: str, names: frozenset[str]) -> bool | None:
    """True when `new` is provably `old` with only one-line top-level entries of `names`
    changed, added or removed, each now a value the strict loader reads without fail. Then
    if `old` loads as a mapping, so does `new`, and every other field is equal in both.
    None when that cannot be told from the lines (the caller then parses).

    Both texts must be simple in the sense of `top_level_lines`, so a line at column 0 is a
    top-level key and its entry runs to the next such line. An entry is added or removed only
    right before a top-level key line or as the last line of a text that ends in a line break:
    the entry before it then ends on the same lines either way (a `|+` scalar keeps trailing
    blank lines, so which line ends it matters). An entry changed or removed holds no anchor
    or bracket (`_WHOLE_TEXT`).
    """
    if len(new) >= _SAFE_SIZE or top_level_lines(old) is None:
        return None
    fields = top_level_lines(new)
    if not fields:  # not simple, or no key left: then `new` is no mapping
        return None
    olds, news = old.split("\n"), new.split("\n")

    def entry(line: str) -> str | None:  # the key of a one-line entry of `names`
        match = _KEY_LINE.fullmatch(line) if line[:1] not in ("", " ", "#") else None
        return match[1] if match and match[1] in names else None

    def ends_entry(lines: list[str], at: int) -> bool:  # the next line starts an entry
        rest = lines[at + 1 : at + 2]
        if rest == [""]:
            return at + 2 == len(lines)
        return bool(rest) and rest[0][:1] not in (" ", "#") and bool(_KEY_LINE.fullmatch(rest[0]))

    def safe(line: str) -> bool:
        match = _KEY_LINE.fullmatch(line)
        value = ((match[2] or "") if match else "").rstrip(" ")
        if value.isdigit() and len(value) > MAX_DIGITS:
            return False
        return fields.get(match[1] if match else "") is not None and (
            not value or _SAFE_VALUE.fullmatch(value) is not None
        )

    i = j = 0
    while i < len(olds) or j < len(news):
        a = olds[i] if i < len(olds) else None
        b = news[j] if j < len(news) else None
        if a is not None and a == b:
            i, j = i + 1, j + 1
        elif a is not None and b is not None and entry(a) and entry(a) == entry(b):
            if not safe(b) or _WHOLE_TEXT.search(a):
                return None
            i, j = i + 1, j + 1
        elif b is not None and entry(b) and ends_entry(news, j):
            if not safe(b):
                return None
            j += 1
        elif a is not None and entry(a) and ends_entry(olds, i):
            if _WHOLE_TEXT.search(a):
                return None
            i += 1
        else:
            return None
    return True
