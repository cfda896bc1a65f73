"""A kind's register page: the records of one page (PAGE_SIZE a page), their declared columns,
and the controls the local script `qms-register.js` brings to life (sort by a column, filter
by text and by state, within the page shown)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..records.declaration import Column
from ..records.kinds import Kind
from ..reports.entries import RecordEntry
from ..reports.publication import Publication
from .layout import Link, badge, day, link, person, scroller
from .sanitise import text

PAGE_SIZE = 200  # rows per register page: thousands of records stay out of the navigation


def register_uri(kind: Kind, page: int = 1) -> str:
    return f"{kind.folder}/index.md" if page == 1 else f"{kind.folder}/page-{page}.md"


def _filed(record: RecordEntry) -> str:
    """The state the register files a record under: the one a signature reached."""
    return (record.signed_state or "not signed") if record.unsigned_state else record.state


def _state(record: RecordEntry) -> str:
    """The state a signature reached; a state the file names that none reached is not taken
    for it (the filter files the record under its signed state), but said beside it."""
    if not record.unsigned_state:
        return f'<td class="qms-state" data-state="{text(record.state)}">{badge(record.state)}</td>'
    signed = _filed(record)
    return (
        f'<td class="qms-state" data-state="{text(signed)}">{badge(signed)}'
        f'<br><small class="qms-unsigned">the file says "{text(record.state)}": no valid '
        "signature reached it</small></td>"
    )


def register_html(
    publication: Publication,
    kind: Kind,
    records: Sequence[RecordEntry],
    number: int,
    total: int,
    record_link: Link,
    go: Link,
) -> str:
    """The register page `number` of `total`, listing `records`."""
    assert kind.declared.register is not None
    columns = kind.declared.register.columns
    people = publication.people
    of_kind = publication.of_kind(kind.name)
    heads = [
        _head("ID", "qms-id", sort="descending"),
        _head("Title", "qms-title"),
        _head("State", "qms-state"),
        *(_head(column.label, "qms-lesser") for column in columns),
        _head("Owner", "qms-lesser"),
        _head("Next due", "qms-due"),
    ]
    rows = []
    for record in records:
        upcoming = min(record.due, key=lambda d: d.due, default=None)
        due = (badge("overdue") + " " if record.overdue else "") + (
            text(f"{day(upcoming.due)}: {upcoming.what}") if upcoming else "—"
        )
        owner = person(people, _owner(kind, record.fields))
        cells = [
            f'<td class="qms-id">{link(record_link(record.id), record.id)}</td>',
            f'<td class="qms-title">{text(record.title)}</td>',
            _state(record),
            *(f'<td class="qms-lesser">{text(_column(c, record.fields))}</td>' for c in columns),
            f'<td class="qms-lesser">{owner}</td>',
            f'<td class="qms-due" data-sort="{text(upcoming.due.isoformat() if upcoming else "")}">'
            f"{due}</td>",
        ]
        css = ' class="qms-overdue"' if record.overdue else ""
        rows.append(f"<tr{css}>{''.join(cells)}</tr>")
    states = sorted({_filed(r) for r in records})
    options = "".join(f'<option value="{text(s)}">{text(s)}</option>' for s in states)
    shown = f"{len(records)} on this page" if total > 1 else f"all {len(records)}"
    parts = [
        f"<p>{len(of_kind)} records as committed on {day(publication.on)}; "
        f"{sum(1 for r in of_kind if r.due)} with open items; "
        f"{sum(1 for r in of_kind if r.overdue)} overdue.</p>",
        '<div class="qms-register-tools" hidden>'
        '<label>Filter <input type="search" class="qms-filter" '
        'placeholder="ID, title, owner…" autocomplete="off"></label> '
        '<label>State <select class="qms-state-filter"><option value="">any</option>'
        f"{options}</select></label> "
        f'<span class="qms-count" aria-live="polite"></span>'
        f"<p><small>Sorting and filtering work on the records of this page ({shown}); "
        f"the register shows up to {PAGE_SIZE} records a page.</small></p></div>",
        scroller("qms-register", kind.declared.register.title, "data-qms-register") + "<table>"
        f"<thead><tr>{''.join(heads)}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>",
    ]
    if total > 1:
        pages = [
            f"<strong>{n}</strong>" if n == number else link(go(register_uri(kind, n)), str(n))
            for n in range(1, total + 1)
        ]
        parts.append(f'<nav class="qms-pages" aria-label="Pages">Page {" ".join(pages)}</nav>')
    return "".join(parts)


def _head(label: str, css: str, sort: str | None = None) -> str:
    """A column heading whose button sorts the rows (qms-register.js sets aria-sort)."""
    state = f' aria-sort="{sort}"' if sort else ""
    return (
        f'<th scope="col" class="{css}"{state}>'
        f'<button type="button" class="qms-sort">{text(label)}</button></th>'
    )


def _column(column: Column, fields: Mapping[str, Any]) -> str:
    """A register cell: the values of the first of the column's fields that holds one."""
    for path in column.fields:
        found = [value for _, value in path.found(dict(fields))]
        items = [v for value in found for v in (value if isinstance(value, list) else [value])]
        values = [str(item) for item in items if item]
        if values:
            return ", ".join(values)
    return "—"


def _owner(kind: Kind, fields: Mapping[str, Any]) -> Any:
    path = kind.declared.fields.owner
    return path.first(dict(fields)) if path is not None else None
