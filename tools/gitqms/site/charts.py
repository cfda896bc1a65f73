"""Charts as inline SVG, drawn at build time: they render with no script and no internet.

Colours come from CSS classes (qms.css), so they follow the light and dark schemes; every label
is escaped, and each chart carries a text table for screen readers and print.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .sanitise import text

_ROW = 26  # height of one bar row, px
_LABEL = 170  # width of the label column, px
_WIDTH = 640


def bars(title: str, rows: Sequence[tuple[str, int]], unit: str = "") -> str:
    """Horizontal bars, one per row, with the value at the end of each."""
    if not rows:
        return f'<p class="qms-empty">{text(title)}: none.</p>'
    top = max(value for _, value in rows) or 1
    span = _WIDTH - _LABEL - 60
    height = _ROW * len(rows) + 10
    parts = [
        f'<svg class="qms-chart" role="img" viewBox="0 0 {_WIDTH} {height}" '
        f'width="100%" aria-label="{text(title)}"><title>{text(title)}</title>'
    ]
    for index, (label, value) in enumerate(rows):
        y = 5 + index * _ROW
        width = round(span * value / top)
        parts.append(
            f'<text class="qms-label" x="{_LABEL - 8}" y="{y + 17}" text-anchor="end">'
            f"{text(label)}</text>"
            f'<rect class="qms-bar" x="{_LABEL}" y="{y + 4}" width="{width}" height="{_ROW - 8}"/>'
            f'<text class="qms-value" x="{_LABEL + width + 6}" y="{y + 17}">{value}{text(unit)}'
            "</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def stacked_columns(
    title: str, columns: Sequence[tuple[str, Mapping[str, int]]], series: Sequence[str]
) -> str:
    """One column per label (months), stacked by series (classifications), with a legend."""
    if not columns:
        return f'<p class="qms-empty">{text(title)}: none.</p>'
    top = max(sum(values.values()) for _, values in columns) or 1
    plot, base, left = 180, 200, 30
    step = (_WIDTH - left) / len(columns)
    width = step * 0.6
    parts = [
        f'<svg class="qms-chart" role="img" viewBox="0 0 {_WIDTH} 250" width="100%" '
        f'aria-label="{text(title)}"><title>{text(title)}</title>'
        f'<line class="qms-axis" x1="{left}" y1="{base}" x2="{_WIDTH}" y2="{base}"/>'
        f'<text class="qms-value" x="0" y="{base - plot + 4}">{top}</text>'
    ]
    for index, (label, values) in enumerate(columns):
        x = left + index * step + (step - width) / 2
        y = float(base)
        for number, name in enumerate(series):
            count = values.get(name, 0)
            if not count:
                continue
            height = plot * count / top
            y -= height
            parts.append(
                f'<rect class="qms-series-{number}" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
                f'height="{height:.1f}"><title>{text(label)}: {count} {text(name)}</title></rect>'
            )
        parts.append(
            f'<text class="qms-label" x="{x + width / 2:.1f}" y="{base + 16}" '
            f'text-anchor="middle">{text(label[-2:])}</text>'
        )
    x = left
    for number, name in enumerate(series):
        parts.append(
            f'<rect class="qms-series-{number}" x="{x}" y="230" width="12" height="12"/>'
            f'<text class="qms-label" x="{x + 16}" y="241">{text(name)}</text>'
        )
        x += 30 + 8 * len(name)
    parts.append("</svg>")
    return "".join(parts)
