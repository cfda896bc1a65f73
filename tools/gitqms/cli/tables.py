"""Tables for people: rich boxes for a screenful, plain aligned columns for thousands of rows.

Rich measures and lays out every cell of a table before it prints a line; at 2,000 records
that costs more than deriving their status. A table of more than LARGE rows is printed as
plain columns instead: one line per row, but for a cell wider than WIDEST, which wraps within
its column; a style (an overdue flag) kept as terminal colour. The `--format json` output
of the commands is not affected.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import click

from ..text import printable

LARGE = 200  # rows above which a table is printed as plain columns
WIDEST = 40  # a longer cell wraps within its column (but in the last column)
GAP = "  "


@dataclass(frozen=True)
class Cell:
    """Text shown as written (never read as rich markup), with a rich style such as 'bold red'."""

    text: str
    style: str = ""


@dataclass(frozen=True)
class Column:
    name: str
    no_wrap: bool = False


def echo_table(
    title: str,
    columns: Sequence[str | Column],
    rows: Sequence[Sequence[str | Cell]],
    *,
    width: int = 140,
) -> None:
    """A table of plain cells: rich on a screenful, plain columns above LARGE rows. Piped or
    logged, a rich table takes a fixed width wider than rich's 80."""
    heads = [c if isinstance(c, Column) else Column(c) for c in columns]
    cells = [[c if isinstance(c, Cell) else Cell(c) for c in row] for row in rows]
    if len(cells) > LARGE:
        for line in plain_lines(title, [h.name for h in heads], cells):
            click.echo(line)
        return
    _rich_table(title, heads, cells, width)


def plain_lines(title: str, columns: Sequence[str], rows: Sequence[Sequence[Cell]]) -> list[str]:
    """The table as lines: the title, the header, a rule, then each row: one line, or more where
    a cell is wider than WIDEST and wraps within its column (the last column never wraps)."""
    texts = [[printable(cell.text) for cell in row] for row in rows]
    widths = [len(name) for name in columns]
    for strings in texts:
        for index, text in enumerate(strings):
            widths[index] = max(widths[index], _width(text))
    last = len(columns) - 1
    widths = [
        w if i == last else min(w, max(WIDEST, len(columns[i]))) for i, w in enumerate(widths)
    ]

    def line(cells: Sequence[str], styles: Sequence[str]) -> str:
        parts = []
        for index, text in enumerate(cells):
            pad = "" if index == last else " " * max(0, widths[index] - _width(text))
            style = styles[index] if index < len(styles) else ""
            parts.append((_styled(text, style) if style and text else text) + pad)
        return GAP.join(parts).rstrip()

    lines = [printable(title), line(columns, ()), GAP.join("-" * w for w in widths)]
    for row, shown in zip(rows, texts, strict=True):
        styles = [cell.style for cell in row]
        if all(_width(t) <= widths[i] or i == last for i, t in enumerate(shown)):
            lines.append(line(shown, styles))
            continue
        wrapped = [
            [t] if i == last or _width(t) <= widths[i] else textwrap.wrap(t, widths[i]) or [""]
            for i, t in enumerate(shown)
        ]
        for number in range(max(len(w) for w in wrapped)):
            lines.append(line([w[number] if number < len(w) else "" for w in wrapped], styles))
    return lines


def _width(text: str) -> int:
    """Terminal cells `text` takes (a wide character takes two)."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def _styled(text: str, style: str) -> str:
    """`text` in the colour and weight of a rich style (shown on a terminal only: click strips
    colour from piped output)."""
    words = style.split()
    colour = next((w for w in words if w not in ("bold", "italic", "underline")), None)
    return click.style(text, fg=colour, bold="bold" in words)


def _rich_table(title: str, columns: Sequence[Column], rows: list[list[Cell]], width: int) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(printable(title)))
    for column in columns:
        table.add_column(column.name, no_wrap=column.no_wrap)
    for row in rows:
        table.add_row(*(Text(printable(cell.text), style=cell.style) for cell in row))
    console = Console()
    if not console.is_terminal:
        console = Console(width=width)
    console.print(table)
