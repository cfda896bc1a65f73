"""The audit-trail review as text, JSON, CSV and one self-contained, printable HTML page.

Record text is untrusted: every value is escaped in HTML, and a CSV cell that a spreadsheet
would run as a formula is prefixed with an apostrophe. The page has no script, no external
link and no remote resource; its CSS is inline.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from html import escape

from ..csv_cells import csv_text
from .anomalies import ANOMALY_KINDS
from .review import DATE_BASIS, AuditReview, Change, report_json, report_sha256

CSV_FIELDS = (
    "type",
    "date",
    "commit",
    "record",
    "person",
    "email",
    "what",
    "reason",
    "verdict",
    "detail",
    "received",
    "date_flag",
)


def report_output(review: AuditReview, output_format: str, generated: datetime) -> str:
    """The review in `output_format` (text, json, csv or html), as `qms audit-trail` writes it;
    json adds the report's hash and the time it was generated."""
    if output_format == "json":
        data = report_json(review) | {
            "report_sha256": report_sha256(review),
            "generated": generated.isoformat(),
        }
        return json.dumps(data, indent=2, ensure_ascii=True) + "\n"
    if output_format == "csv":
        return as_csv(review)
    if output_format == "html":
        return as_html(review, generated)
    return as_text(review, generated)


def period_text(review: AuditReview) -> str:
    since = review.since.isoformat() if review.since else "the beginning"
    until = review.until.isoformat() if review.until else "the tip"
    return f"{since} to {until}"


def header_lines(review: AuditReview, generated: datetime) -> list[str]:
    branch = f" ({review.branch}{', protected' if review.protected else ''})"
    return [
        f"Audit-trail review, {period_text(review)} (inclusive; dates: {DATE_BASIS})",
        f"revision {review.revision}{branch if review.branch else ''}",
        f"generated {generated:%Y-%m-%d %H:%M:%S}Z; server receipts "
        + ("compared" if review.receipts else "NOT fetched, dates not compared"),
    ]


def _counts(review: AuditReview) -> str:
    counts = review.counts()
    return (
        f"{counts['commits']} commits, {counts['changes']} changes, "
        f"{counts['signatures']} signatures ({counts['invalid_signatures']} invalid), "
        f"{counts['anomalies']} anomalies"
    )


def as_text(review: AuditReview, generated: datetime) -> str:
    lines = [*header_lines(review, generated), _counts(review), ""]
    lines.append(f"Anomalies ({len(review.anomalies)})")
    for anomaly in review.anomalies:
        lines.append(
            f"  [{anomaly.code}] {anomaly.when:%Y-%m-%d %H:%M}Z {anomaly.commit[:12]} "
            f"{anomaly.record}: {anomaly.message}"
        )
    if not review.anomalies:
        lines.append("  none")
    lines += ["", "Changes by record"]
    for record, changes in _by_record(review.changes).items():
        lines.append(f"  {record}")
        for change in changes:
            lines.append(f"    {_change_line(change)}")
    lines += ["", "Changes by person"]
    for person, count in review.by_person().items():
        lines.append(f"  {person}: {count}")
    if review.by_anomaly():
        lines += ["", "Anomalies by kind"]
        for code, count in review.by_anomaly().items():
            lines.append(f"  {code}: {count} ({ANOMALY_KINDS.get(code, '')})")
    if review.notes:
        lines.append("")
        lines += [f"note: {note}" for note in review.notes]
    return "\n".join(lines) + "\n"


def _change_line(change: Change) -> str:
    entry = change.entry
    reason = f" — {entry.reason}" if entry.reason else ""
    line = (
        f"{entry.when:%Y-%m-%d %H:%M}Z {entry.commit[:12]} {entry.name}: {entry.action}{reason}"
        f" ({entry.summary}; signature: {entry.verdict})"
    )
    if change.receipt is not None and change.receipt.flag:
        line += f" [{change.receipt.flag}]"
    return line


def _by_record(changes: Iterable[Change]) -> dict[str, list[Change]]:
    found: dict[str, list[Change]] = {}
    for change in changes:
        found.setdefault(change.record, []).append(change)
    return dict(sorted(found.items()))


def as_csv(review: AuditReview) -> str:
    """One row per change and one per anomaly."""
    rows: list[Mapping[str, str]] = []
    for change in review.changes:
        entry, dated = change.entry, change.receipt
        rows.append(
            {
                "type": "change",
                "date": entry.when.isoformat(),
                "commit": entry.commit,
                "record": change.record,
                "person": entry.name,
                "email": entry.email,
                "what": entry.action,
                "reason": entry.reason or "",
                "verdict": entry.verdict,
                "detail": entry.summary,
                "received": dated.receipt.received.isoformat() if dated else "",
                "date_flag": (dated.flag or "") if dated else "",
            }
        )
    for anomaly in review.anomalies:
        name, _, email = anomaly.person.partition(" <")
        rows.append(
            {
                "type": "anomaly",
                "date": anomaly.when.isoformat(),
                "commit": anomaly.commit,
                "record": anomaly.record,
                "person": name,
                "email": email.rstrip(">"),
                "what": anomaly.code,
                "reason": "",
                "verdict": "",
                "detail": anomaly.message,
                "received": "",
                "date_flag": "",
            }
        )
    return csv_text(CSV_FIELDS, rows)


# -- HTML ---------------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;
margin:2rem auto;max-width:70rem;padding:0 1rem}
h1{font-size:1.5rem;margin:.2rem 0 1rem}h2{font-size:1.15rem;margin:1.6rem 0 .5rem;
border-bottom:1px solid #bbb}
table{border-collapse:collapse;width:100%;margin:.3rem 0 1rem}
th,td{border:1px solid #ccc;padding:.25rem .4rem;text-align:left;vertical-align:top}
th{background:#eee}thead{display:table-header-group}tr{page-break-inside:avoid}
code{font-family:ui-monospace,Consolas,monospace;font-size:.92em}
.meta td:first-child{width:12rem;font-weight:600}
.anomaly td:first-child{color:#a00;font-weight:600}
.anomaly td:nth-child(-n+4),.changes td:nth-child(-n+3){white-space:nowrap}
.none{color:#2a6a2a;font-weight:600}.flag{color:#a00}
.print-header{display:none}
@media print{
body{margin:0;max-width:none;font-size:10pt;padding-top:3.2em}
.print-header{display:block;position:fixed;top:0;left:0;right:0;font-size:8pt;
border-bottom:1px solid #000;background:#fff;padding-bottom:.2em}
h2{page-break-after:avoid}
}
"""


def _cell(value: object) -> str:
    return f"<td>{escape(str(value), quote=True)}</td>"


def _row(*values: object) -> str:
    return "<tr>" + "".join(_cell(v) for v in values) + "</tr>"


def _table(headers: Iterable[str], rows: Iterable[str], css: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    thead = f"<thead><tr>{head}</tr></thead>" if head.replace("<th></th>", "") else ""
    body = "\n".join(rows)
    cls = f' class="{css}"' if css else ""
    return f"<table{cls}>{thead}<tbody>\n{body}\n</tbody></table>"


def as_html(review: AuditReview, generated: datetime) -> str:
    """One self-contained page: inline CSS, no script, every value escaped."""
    period = period_text(review)
    stamp = f"{generated:%Y-%m-%d %H:%M:%S}Z"
    header = (
        f"Audit-trail review {escape(period)} · revision {escape(review.revision[:12])}"
        f" · generated {escape(stamp)}"
    )
    counts = review.counts()
    summary = _table(
        ("Commits", "Changes", "Signatures", "Invalid signatures", "Anomalies"),
        [
            _row(
                counts["commits"],
                counts["changes"],
                counts["signatures"],
                counts["invalid_signatures"],
                counts["anomalies"],
            )
        ],
    )
    anomalies, kinds = _anomaly_tables(review)
    people = _table(("Person", "Entries"), [_row(p, n) for p, n in review.by_person().items()])
    records = _table(("Record", "Entries"), [_row(r, n) for r, n in review.by_record().items()])
    notes = "".join(f"<li>{escape(note)}</li>" for note in review.notes)
    title = f"Audit-trail review {period}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<div class="print-header">{header}</div>
<h1>{escape(title)}</h1>
{_meta_table(review, period, stamp)}
<h2>Summary</h2>
{summary}
<h2>Anomalies</h2>
{anomalies}
{kinds}
<h2>Every change and signature</h2>
{_changes_table(review)}
<h2>By person</h2>
{people}
<h2>By record</h2>
{records}
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
</body>
</html>
"""


def _meta_table(review: AuditReview, period: str, stamp: str) -> str:
    """What was reviewed: organisation, period, revision, branch, trust root, receipts."""
    return _table(
        ("", ""),
        [
            _row("Organisation", review.organisation),
            _row("Period", f"{period} (inclusive; dates: {DATE_BASIS})"),
            _row("Revision reviewed", review.revision),
            _row(
                "Branch",
                (review.branch or "(not a branch)") + (" (protected)" if review.protected else ""),
            ),
            _row("Trust root", review.trust_root or "(none)"),
            _row(
                "Server receipts",
                "fetched and compared" if review.receipts else "not fetched: dates not compared",
            ),
            _row("Generated", stamp),
        ],
        "meta",
    )


def _anomaly_tables(review: AuditReview) -> tuple[str, str]:
    """The anomalies, and the count of each kind with its meaning (or a line saying none)."""
    if not review.anomalies:
        return '<p class="none">No anomalies in this period.</p>', ""
    anomalies = _table(
        ("Code", "Date (UTC)", "Commit", "Record", "Person", "What is wrong"),
        [
            _row(
                a.code,
                f"{a.when:%Y-%m-%d %H:%M}",
                a.commit[:12],
                a.record,
                a.person,
                a.message,
            )
            for a in review.anomalies
        ],
        "anomaly",
    )
    kinds = _table(
        ("Code", "Meaning", "Count"),
        [_row(code, ANOMALY_KINDS.get(code, ""), n) for code, n in review.by_anomaly().items()],
    )
    return anomalies, kinds


def _changes_table(review: AuditReview) -> str:
    return _table(
        (
            "Date (UTC)",
            "Commit",
            "Record",
            "Person",
            "Action",
            "Reason",
            "Signature",
            "What changed",
            "Received",
        ),
        [
            _row(
                f"{c.entry.when:%Y-%m-%d %H:%M}",
                c.entry.commit[:12],
                c.record,
                c.person,
                c.entry.action,
                c.entry.reason or "",
                c.entry.verdict,
                c.entry.summary,
                (
                    f"{c.receipt.receipt.received:%Y-%m-%d %H:%M}"
                    + (f" ({c.receipt.flag})" if c.receipt.flag else "")
                )
                if c.receipt
                else "",
            )
            for c in review.changes
        ],
        "changes",
    )
