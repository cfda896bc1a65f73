"""Legacy logs as tables: an .xlsx sheet (values, never formulas) or a .csv in any common dialect."""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from ..errors import QmsError
from .sources import MAX_COLUMNS, MAX_ROWS, Source

Cell = str | int | float | bool | datetime | date | time | None
HEADER_SEARCH_ROWS = 20  # a title or notes may stand above the header row


@dataclass(frozen=True)
class Row:
    number: int  # as the spreadsheet program shows it (1 = the first line of the file)
    cells: tuple[Cell, ...]
    uncomputed: tuple[int, ...] = ()  # columns holding a formula whose value was never saved

    @property
    def blank(self) -> bool:
        return not self.uncomputed and all(is_blank(cell) for cell in self.cells)


@dataclass(kw_only=True)
class Table:
    source: Source
    sheet: str | None
    headers: list[str]
    header_row: int
    rows: list[Row]  # every row below the header, blank ones included
    encoding: str | None = None
    delimiter: str | None = None
    other_sheets: list[str] = field(default_factory=list)


def is_blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def read_table(source: Source, sheet: str | None, known: Callable[[str], bool]) -> Table:
    """The source's table; `known` says whether a header names a field (finds the header row)."""
    if source.path.suffix.lower() == ".csv":
        if sheet is not None:
            raise QmsError(f"{source.path}: a .csv file has no sheets", hint="drop --sheet")
        text, encoding = _decode(source)
        delimiter = _delimiter(source, text)
        try:
            raw = list(_bounded(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)))
        except csv.Error as error:
            raise QmsError(f"{source.path}: not a readable CSV file: {error}") from None
        table = _table(source, None, [tuple(r) for r in raw], known)
        table.encoding, table.delimiter = encoding, delimiter
        return table
    return _read_xlsx(source, sheet, known)


def _bounded(rows: Iterable[list[str]]) -> Iterable[list[str]]:
    for count, row in enumerate(rows):
        if count > MAX_ROWS + HEADER_SEARCH_ROWS:
            raise QmsError(
                f"more than {MAX_ROWS} rows; import the log in parts of at most {MAX_ROWS} rows"
            )
        yield row


def _decode(source: Source) -> tuple[str, str]:
    data = source.data
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise QmsError(
            f"{source.path}: the file holds NUL bytes; it is not a text CSV file",
            hint="export the log again as CSV (UTF-8)",
        )
    for bom, encoding in (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                raise QmsError(f"{source.path}: not valid {encoding} text") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:  # what Excel on Western European Windows writes
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        raise QmsError(
            f"{source.path}: the text is neither UTF-8 nor Windows-1252",
            hint="export the log again as CSV UTF-8",
        ) from None


def _delimiter(source: Source, text: str) -> str:
    sample = text[:16384]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        first = next((line for line in sample.splitlines() if line.strip()), "")
        counts = {d: first.count(d) for d in ",;\t|"}
        best = max(counts, key=lambda d: counts[d])
        if counts[best] == 0:
            raise QmsError(
                f"{source.path}: cannot tell how the columns are separated",
                hint="export the log as CSV with commas or semicolons between columns",
            ) from None
        return best


def _cell(value: object) -> Cell:
    """A workbook value as the tables hold it: rich text, decimals, durations and the like as
    the text they show."""
    if value is None or isinstance(value, str | int | float | bool | datetime | date | time):
        return value
    return str(value)


def _read_xlsx(source: Source, sheet: str | None, known: Callable[[str], bool]) -> Table:
    import openpyxl  # loaded only when a workbook is imported

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles it does not know
            book = openpyxl.load_workbook(
                io.BytesIO(source.data), read_only=True, data_only=True, keep_links=False
            )
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as error:
        raise QmsError(
            f"{source.path}: not a readable Excel workbook ({type(error).__name__})",
            hint="open it in Excel and save it again as .xlsx",
        ) from None
    try:
        names = list(book.sheetnames)
        chosen = sheet if sheet is not None else names[0]
        if chosen not in names:
            raise QmsError(
                f"{source.path} has no sheet {chosen!r}", hint=f"sheets: {', '.join(names)}"
            )
        worksheet = book[chosen]
        raw: list[tuple[Cell, ...]] = []
        for count, values in enumerate(worksheet.iter_rows(values_only=True)):
            if count > MAX_ROWS + HEADER_SEARCH_ROWS:
                raise QmsError(
                    f"{source.path}: sheet {chosen!r} has more than {MAX_ROWS} rows",
                    hint=f"import the log in parts of at most {MAX_ROWS} rows",
                )
            raw.append(tuple(_cell(value) for value in values[: MAX_COLUMNS + 1]))
    except QmsError:
        raise
    except Exception as error:  # openpyxl raises many kinds on a damaged part
        raise QmsError(
            f"{source.path}: the workbook cannot be read ({type(error).__name__})",
            hint="open it in Excel and save it again as .xlsx",
        ) from None
    finally:
        book.close()
    table = _table(source, chosen, raw, known, _uncomputed(source, chosen, raw))
    table.other_sheets = [name for name in names if name != chosen]
    return table


def _uncomputed(source: Source, sheet: str, raw: list[tuple[Cell, ...]]) -> list[tuple[int, ...]]:
    """Per row, the columns whose formula has no saved value: a workbook written by a program
    that does not calculate. Read as values only, those cells would look empty."""
    import openpyxl

    found: list[tuple[int, ...]] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(
                io.BytesIO(source.data), read_only=True, data_only=False, keep_links=False
            )
        try:
            for values, row in zip(book[sheet].iter_rows(values_only=True), raw, strict=False):
                found.append(
                    tuple(
                        index
                        for index, value in enumerate(values[: len(row)])
                        if is_blank(row[index])
                        and (
                            (isinstance(value, str) and value.startswith("="))
                            or not isinstance(value, str | int | float | bool | date | time | None)
                        )
                    )
                )
        finally:
            book.close()
    except Exception as error:  # as in _read_xlsx: a damaged part
        raise QmsError(
            f"{source.path}: the workbook cannot be read ({type(error).__name__})",
            hint="open it in Excel and save it again as .xlsx",
        ) from None
    return found


def _table(
    source: Source,
    sheet: str | None,
    raw: list[tuple[Cell, ...]],
    known: Callable[[str], bool],
    uncomputed: list[tuple[int, ...]] | None = None,
) -> Table:
    where = f"{source.path}" + (f", sheet {sheet!r}" if sheet else "")
    if any(len(row) > MAX_COLUMNS for row in raw):
        raise QmsError(f"{where}: more than {MAX_COLUMNS} columns; this is not a record log")
    best, best_score = None, 0
    for index, row in enumerate(raw[:HEADER_SEARCH_ROWS]):
        score = sum(1 for cell in row if isinstance(cell, str) and known(cell))
        if score > best_score:
            best, best_score = index, score
    if best is None or best_score < 2:
        raise QmsError(
            f"{where}: no header row naming the record's fields in the first "
            f"{HEADER_SEARCH_ROWS} rows",
            hint="the log needs a header row such as 'ID', 'Title', 'Status', 'Owner'; or "
            "name columns with --map 'Column name=field'",
        )
    headers = [str(cell).strip() if not is_blank(cell) else "" for cell in raw[best]]
    marks = uncomputed or []
    rows = [
        Row(
            best + 2 + offset,
            tuple(row) + (None,) * (len(headers) - len(row)),
            marks[best + 1 + offset] if best + 1 + offset < len(marks) else (),
        )
        for offset, row in enumerate(raw[best + 1 :])
    ]
    while rows and rows[-1].blank:  # trailing empty lines are not rows of the log
        rows.pop()
    if len([r for r in rows if not r.blank]) > MAX_ROWS:
        raise QmsError(f"{where}: more than {MAX_ROWS} rows; import the log in parts")
    return Table(source=source, sheet=sheet, headers=headers, header_row=best + 1, rows=rows)
