"""The page of one record (a CAPA, a deviation, …) laid out as its kind declares (`page:`):
a header with the essentials (state, the declared summary fields, owner, next due, linked
records), the declared sections (a risk assessment as one risk table), every other recorded
field under "Other details", what is due, and the timeline of the record's signed life.

Which fields go where comes from the declaration; which commits make the timeline from the
record's trail (the entries of `qms log`). Values are shown by `values.Shown`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..audit.record_log import LogEntry
from ..records.declaration import Page, Path, Section
from ..records.kinds import Kind
from ..reports.entries import RecordEntry
from .layout import (
    UNSEARCHED,
    Link,
    badge,
    banner,
    day,
    due_rows,
    facts,
    link,
    person,
    scroller,
)
from .sanitise import text
from .values import Shown, empty, label, local

_RECORD = ("id", "title", "state")  # in the page's heading and header already
_RISK = ("severity", "occurrence", "detectability")


def record_html(
    record: RecordEntry,
    kind: Kind,
    shown: Shown,
    linked: Callable[[str], str | None],
    go: Link,
) -> str:
    """The page's HTML; `linked`: a record ID's page (relative to this one), or None."""
    page = kind.declared.page
    owner = kind.declared.fields.owner
    parts = []
    if record.overdue:
        parts.append(
            banner("overdue", "<strong>Overdue:</strong> an item below is past its due date.")
        )
    parts += [banner("warning", text(note)) for note in record.notes]
    parts.append(_header(record, page, owner, shown, linked, go))
    for section in page.sections:
        parts.append(_section(section, record.fields, shown))
    covered = [*map(Path, _RECORD), *page.paths, *((owner,) if owner else ())]
    rest = _without(record.fields, covered)
    title = "Other details" if page.sections else "Details"
    parts.append(_fields(title, rest, shown))
    if record.due:
        parts.append("<h2>What is due</h2>" + due_rows(record.due, shown.people, None, go))
    parts.append(timeline(record.trail, shown))
    return "".join(parts)


def _header(
    record: RecordEntry,
    page: Page,
    owner: Path | None,
    shown: Shown,
    linked: Callable[[str], str | None],
    go: Link,
) -> str:
    state = badge(record.state)
    if record.signed_state and record.signed_state != record.state:
        state += f" <small>(last signed state: {text(record.signed_state)})</small>"
    rows = [("State", state)]
    for path in page.summary:
        value = path.first(dict(record.fields))
        if not empty(value):
            rows.append((label(path.text), shown.value(value, path.text)))
    rows.append(
        ("Owner", person(shown.people, owner.first(dict(record.fields)) if owner else None, go))
    )
    upcoming = min(record.due, key=lambda d: d.due, default=None)
    if upcoming is None:
        rows.append(("Next due", "nothing open"))
    else:
        more = len(record.due) - 1
        rows.append(
            (
                "Next due",
                (badge("overdue") + " " if upcoming.overdue else "")
                + f"{text(day(upcoming.due))}: {text(upcoming.what)}"
                + (f" <small>(and {more} more below)</small>" if more else ""),
            )
        )
    names = []
    for other in record.links:
        href = linked(other)
        names.append(link(href, other) if href else text(other))
    rows.append(("Linked records", ", ".join(names) if names else "none"))
    zone = shown.zone.key
    return (
        '<div class="qms-record-header">'
        + facts(rows)
        + f'<p class="qms-zone"><small>Times are in {text(zone)} time (hover a time for UTC).'
        "</small></p></div>"
    )


def _section(section: Section, fields: Mapping[str, Any], shown: Shown) -> str:
    data = dict(fields)
    body = []
    if section.risk is not None:
        risk = section.risk.first(data)
        if isinstance(risk, Mapping) and not empty(risk):
            skip = {p.text.removeprefix(section.risk.text + ".") for p in section.fields}
            body.append(risk_table(risk, section.risk.text, shown, skip))
        elif not empty(risk):  # not the map the schema asks for: shown as written, never lost
            body.append(
                f'<dl class="qms-fields"><dt>{text(label(section.risk.text.split(".")[-1]))}'
                f"</dt><dd>{shown.value(risk, section.risk.text)}</dd></dl>"
            )
    items = []
    filled = [(p, _value(p, data)) for p in section.fields if not empty(_value(p, data))]
    if len(filled) == 1 and isinstance(filled[0][1], Mapping | list) and section.risk is None:
        path, value = filled[0]  # the section is this one field: no label repeating the title
        if isinstance(value, Mapping):
            filled = [(Path(f"{path.text}.{k}"), v) for k, v in value.items() if not empty(v)]
        else:
            body.append(shown.value(value, path.text))
            filled = []
    for path, value in filled:
        if not empty(value):
            items.append(
                f"<dt>{text(label(path.text.split('.')[-1]))}</dt>"
                f"<dd>{shown.value(value, path.text)}</dd>"
            )
    if items:
        body.append(f'<dl class="qms-fields">{"".join(items)}</dl>')
    if not body:
        return ""
    return f'<section class="qms-section"><h2>{text(section.title)}</h2>{"".join(body)}</section>'


def _value(path: Path, data: Mapping[str, Any]) -> Any:
    return path.first(data) if "[]" not in path.text else [v for _, v in path.found(data)]


def risk_table(risk: Mapping[str, Any], path: str, shown: Shown, skip: set[str]) -> str:
    """Severity, occurrence, detectability (and the level) in one row, as recorded (no
    score is computed that the record does not hold), the rationale under the table; any other field of the assessment after it."""
    heads, cells = [], []
    for key in (*_RISK, "level"):
        if not empty(risk.get(key)):
            heads.append(text(label(key)))
            cells.append(shown.value(risk[key], f"{path}.{key}"))
    html = ""
    if heads:
        head = "".join(f'<th scope="col">{h}</th>' for h in heads)  # escaped HTML
        row = "".join(f"<td>{c}</td>" for c in cells)
        html = (
            scroller("qms-risk", "Risk assessment") + f"<table><thead><tr>{head}</tr></thead>"
            f"<tbody><tr>{row}</tr></tbody></table></div>"
        )
    if not empty(risk.get("rationale")):
        html += (
            '<p class="qms-rationale"><strong>Rationale:</strong> '
            f"{shown.value(risk['rationale'], f'{path}.rationale')}</p>"
        )
    rest = {k: v for k, v in risk.items() if k not in {*_RISK, "level", "rationale", *skip}}
    if not empty(rest):
        html += shown.value(rest, path)
    return html


def _fields(title: str, rest: Mapping[str, Any], shown: Shown) -> str:
    items = [
        f"<dt>{text(label(str(k)))}</dt><dd>{shown.value(v, str(k))}</dd>"
        for k, v in rest.items()
        if not empty(v)
    ]
    if not items:
        return ""
    return (
        f'<section class="qms-section"><h2>{text(title)}</h2>'
        f'<dl class="qms-fields">{"".join(items)}</dl></section>'
    )


def _without(data: Mapping[str, Any], paths: list[Path]) -> dict[str, Any]:
    """`data` without the fields `paths` name: what no part of the page shows yet."""
    rest: Any = dict(data)
    for path in paths:
        rest = _drop(rest, path.steps)
    return dict(rest)


def _drop(data: Any, steps: tuple[str, ...]) -> Any:
    if not steps or not isinstance(data, Mapping):
        return data
    step = steps[0]
    name = step.removesuffix("[]")
    if name not in data:
        return data
    out = dict(data)
    if len(steps) == 1:
        del out[name]
    elif step.endswith("[]") and isinstance(out[name], list):
        out[name] = [_drop(item, steps[1:]) for item in out[name]]
    elif not step.endswith("[]"):
        out[name] = _drop(out[name], steps[1:])
    return out


def timeline(entries: tuple[LogEntry, ...] | list[LogEntry], shown: Shown) -> str:
    """The record's life, oldest first: each signature (meaning, the state it moved the record
    from and to, the signer's printed name and role, the time, the Reason) and, marked apart,
    each change made without a signature."""
    items = []
    for entry in entries:
        moved = entry.moved
        invalid = entry.verdict.startswith("invalid")
        css = "qms-event-signed" if entry.signed else "qms-event-change"
        who = f"<strong>{text(entry.name)}</strong>"
        if entry.role:
            who += f" ({text(entry.role)})"
        what = (
            f'<span class="qms-meaning">{text(entry.action)}</span>'
            if entry.signed
            else f'<span class="qms-unsigned">unsigned change</span>: {text(entry.action)}'
        )
        step = (
            f' <span class="qms-move">{badge(moved[0])} → {badge(moved[1])}</span>' if moved else ""
        )
        reason = (
            f'<div class="qms-reason">Reason: {text(entry.reason)}</div>' if entry.reason else ""
        )
        items.append(
            f'<li class="qms-event {css}{" qms-invalid" if invalid else ""}">'
            f'<div class="qms-when">{local(entry.when, shown.zone)}</div>'
            f'<div class="qms-what">{what}{step} by {who}</div>{reason}'
            f'<div class="qms-detail"><small>{text(entry.summary)}; signature: '
            f"{text(entry.verdict)}; commit <code>{text(entry.commit[:12])}</code></small></div>"
            "</li>"
        )
    return (
        UNSEARCHED
        + "<h2>Audit trail: the record's life</h2>"
        + (f'<ol class="qms-timeline">{"".join(items)}</ol>' if items else "<p>No commits.</p>")
        + "</section>"
    )
