"""CSV for spreadsheets: the one writer of every CSV gitqms prints.

Record text is untrusted. A cell that a spreadsheet would read as a formula (starting with
= + - @, or with a tab or carriage return, as OWASP's CSV-injection guidance lists, also after
leading blanks, which some importers strip) is written with a leading apostrophe; every other
cell, the empty one included, is written as it is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def guard(value: str) -> str:
    """`value` as a spreadsheet shows it, never runs it."""
    return "'" + value if value.lstrip(" \n\xa0\u3000").startswith(FORMULA_STARTS) else value


def csv_text(fields: Sequence[str], rows: Iterable[Mapping[str, str]]) -> str:
    """A header of `fields`, then one guarded line per row."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(fields), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: guard(value) for key, value in row.items()})
    return out.getvalue()
