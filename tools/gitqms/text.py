"""Record text shown to people: control characters made visible, counts in words, a text on
one line."""

from __future__ import annotations

import re

# C0 and C1 controls, and the bidi overrides that can make text read differently than it is.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


# The bidi controls alone: in HTML, where line breaks and tabs are harmless.
BIDI = re.compile(r"[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """Record text for a terminal or a text file: control characters (escape sequences)
    shown, not obeyed."""
    return CONTROL.sub(lambda m: ascii(m.group())[1:-1], text)


def unturned(text: str) -> str:
    """Text for a web page: each bidi control shown as its code (`\\u202e`), so no record can
    make the browser draw its words in another order than they are stored."""
    return BIDI.sub(lambda m: ascii(m.group())[1:-1], text)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def one_line(text: str, width: int) -> str:
    """`text` on one line (runs of white space as one space), cut to `width` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."
