"""A PDF copy of an approved document version (`qms pdf`, and the site's download).

The page: a running header (ID, title, version, effective date) and footer (the copy's marking
and "page X of Y") on every sheet, the version's text exactly as signed (Markdown rendered and
sanitised like the site's), and a signature manifest: every counted signature on that exact
content (printed name, role, meaning, UTC and the organisation's local time with its zone,
commit), the sha256 of the version's bytes, a QR code of the version's page on the site and
the command that checks the hash against the repository.

Record text is untrusted: the body is cleaned by the site's nh3 policy, every field is escaped,
text placed in CSS (the margin boxes) is written as CSS escapes, and the renderer fetches
nothing (pdf_render.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import markdown
import segno

from ..reports.copies import CopySource
from ..reports.entries import SignatureLine
from . import values
from .pdf_render import Rendered, render_pdf
from .sanitise import clean_body, text
from .version_pages import verify_command as command_of
from .version_pages import verify_uri

UNCONTROLLED = "UNCONTROLLED WHEN PRINTED"
_EXTENSIONS = ["tables", "admonition", "sane_lists", "def_list"]


@dataclass(frozen=True)
class CopyMark:
    """An issued controlled copy: its number and where it is kept; for a reprint, its record,
    when it was issued and when it was printed again."""

    number: int
    location: str
    record: str = ""
    issued_at: str = ""
    reprinted: datetime | None = None


def version_page(source: CopySource) -> str:
    """The site's verification page of the version, relative to the site's root (`….html`):
    its address never changes, it says whether the version is still the one to work to, gives
    the hash and the signatures, and leads to the version's text (site/version_pages.py)."""
    return verify_uri(source.id, source.version.version).removesuffix(".md") + ".html"


def page_url(source: CopySource) -> tuple[str, bool]:
    """The verification page's address, and whether it is absolute (mkdocs.yml's site_url)."""
    page = version_page(source)
    if source.site_url:
        return source.site_url.rstrip("/") + "/" + page, True
    return page, False


def verify_command(source: CopySource, mark: CopyMark | None) -> str:
    return command_of(
        source.id, source.version.version, source.content_sha256, mark.number if mark else None
    )


def marking(source: CopySource, mark: CopyMark | None, now: datetime) -> str:
    """The footer's marking: what this sheet is."""
    status = source.version.status
    if status in ("superseded", "obsolete"):
        return f"{status.upper()}: NOT FOR USE. {UNCONTROLLED}. Printed {now:%Y-%m-%d}"
    ahead = ""
    if status == "approved" and source.version.effective_from:
        ahead = f"NOT YET IN FORCE (effective {source.version.effective_from}). "
    if mark is not None:
        again = f". REPRINT, printed {mark.reprinted:%Y-%m-%d %H:%M} UTC" if mark.reprinted else ""
        return f"{ahead}CONTROLLED COPY n° {mark.number}, kept at {mark.location}{again}"
    return f"{ahead}{UNCONTROLLED}. Printed {now:%Y-%m-%d}"


def copy_pdf(source: CopySource, mark: CopyMark | None, now: datetime) -> Rendered:
    """The PDF of `source`, as an issued copy (`mark`) or an uncontrolled download."""
    title = f"{source.id} v{source.version.version}"
    return render_pdf(copy_html(source, mark, now), title)


def copy_html(source: CopySource, mark: CopyMark | None, now: datetime) -> str:
    version = source.version
    effective = str(version.effective_from) if version.effective_from else "not set"
    head = f"{source.id} v{version.version}: {source.title}"
    body = clean_body(markdown.markdown(version.body, extensions=_EXTENSIONS, output_format="html"))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{text(head)}</title><style>{_styles(source, mark, now, effective)}</style>"
        "</head><body>"
        f'<header class="cover"><p class="org">{text(source.organisation)}</p>'
        f"<h1>{text(source.title)}</h1>"
        f"<p>{text(source.label)}, {text(source.id)} version {version.version} "
        f"({text(version.status)}), effective from {text(effective)}</p>"
        f'<p class="mark">{text(marking(source, mark, now))}</p></header>'
        f'<main class="content">{body}</main>'
        f"{manifest_html(source, mark)}</body></html>"
    )


def manifest_html(source: CopySource, mark: CopyMark | None) -> str:
    """The signature manifest page: the counted signatures, the hash, the QR code."""
    zone = values.zone(source.time_zone)
    counted = [line for line in source.version.signatures if line.verdict == "valid"]
    rows = "".join(_signature_row(line, zone) for line in counted) or (
        '<tr><td colspan="6">No counted signature.</td></tr>'
    )
    url, absolute = page_url(source)
    qr = segno.make(url, error="m").svg_inline(scale=3, border=2, omitsize=False)
    where = (
        f"<p>The version's verification page: <code>{text(url)}</code></p>"
        if absolute
        else f"<p>The version's verification page on the published site, relative to its "
        f"address: <code>{text(url)}</code></p>"
    )
    issued = (
        f"<p>Controlled copy n° {mark.number} of this version, kept at {text(mark.location)}.</p>"
        if mark
        else "<p>A download, not an issued copy: it is not controlled once printed.</p>"
    )
    if mark is not None and mark.reprinted is not None:
        issued += (
            f"<p>REPRINT of {text(mark.record)}, issued {text(mark.issued_at)}: printed again "
            f"{mark.reprinted:%Y-%m-%d %H:%M} UTC. The same copy, not a new one: it replaces a "
            "lost or damaged sheet of copy n° "
            f"{mark.number}, which is destroyed.</p>"
        )
    return (
        '<section class="manifest"><h1>Signature manifest</h1>'
        f"<p>{text(source.id)} version {source.version.version}: {text(source.title)}</p>"
        "<table><thead><tr><th>Printed name</th><th>Role</th><th>Meaning</th><th>UTC</th>"
        f"<th>Local time ({text(source.time_zone)})</th><th>Commit</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        f'<p>Content sha256 (the version\'s exact bytes, as signed):<br><code class="hash">'
        f"{text(source.content_sha256)}</code></p>"
        f"<p>Read from commit <code>{text(source.version.commit)}</code>; status derived at "
        f"<code>{text(source.commit)}</code> for {source.on}.</p>"
        f'<div class="qr">{qr}</div>{where}{issued}'
        "<p>To check this copy against the repository (offline, from any clone):<br>"
        f'<code class="command">{text(verify_command(source, mark))}</code></p>'
        "</section>"
    )


def _signature_row(line: SignatureLine, zone: ZoneInfo) -> str:
    local = line.when.astimezone(zone)
    return (
        f"<tr><td>{text(line.name)}</td><td>{text(line.role or '—')}</td>"
        f"<td>{text(line.meaning)}</td><td>{line.when:%Y-%m-%d %H:%M:%S} UTC</td>"
        f"<td>{local:%Y-%m-%d %H:%M:%S} {text(local.tzname() or '')}</td>"
        f"<td><code>{text(line.commit)}</code></td></tr>"
    )


def css_string(value: str) -> str:
    """`value` as a CSS string that no character of it can end or escape from."""
    safe = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-_:()/°")
    return '"' + "".join(c if c in safe else f"\\{ord(c):06x}" for c in value) + '"'


def _styles(source: CopySource, mark: CopyMark | None, now: datetime, effective: str) -> str:
    version = source.version
    left = css_string(f"{source.id} v{version.version}: {source.title}")
    right = css_string(f"Effective {effective}")
    foot = css_string(marking(source, mark, now))
    return (
        "@page { size: A4; margin: 24mm 16mm 22mm 16mm; font-family: 'DejaVu Sans', sans-serif;"
        f" @top-left {{ content: {left}; font-size: 9pt; width: 70%; }}"
        f" @top-right {{ content: {right}; font-size: 9pt; }}"
        f" @bottom-left {{ content: {foot}; font-size: 8pt; font-weight: bold; width: 75%; }}"
        ' @bottom-right { content: "Page " counter(page) " of " counter(pages); font-size: 9pt; }'
        " }"
        " body { font-family: 'DejaVu Sans', sans-serif; font-size: 10pt; line-height: 1.35; }"
        " .cover { border-bottom: 1px solid #444; margin-bottom: 6mm; }"
        " .cover .org { font-size: 9pt; color: #333; } .cover .mark { font-weight: bold; }"
        " h1 { font-size: 16pt; } h2 { font-size: 13pt; } h3 { font-size: 11pt; }"
        " table { border-collapse: collapse; width: 100%; font-size: 8pt; }"
        " th, td { border: 1px solid #777; padding: 2px 4px; vertical-align: top; }"
        " code { font-family: 'DejaVu Sans Mono', monospace; font-size: 8pt;"
        " overflow-wrap: anywhere; } td code { word-break: break-all; font-size: 7pt; }"
        " .manifest td:last-child { width: 24%; }"
        " .manifest { page-break-before: always; } .qr svg { width: 40mm; height: 40mm; }"
        " img { max-width: 100%; }"
    )
