"""HTML to PDF with WeasyPrint, fetching nothing.

WeasyPrint lays out HTML and CSS paged media itself (`@page` margin boxes for the running
header and footer, `counter(page)` and `counter(pages)` for "page X of Y"), from a pure Python
API over Pango, with no headless browser. Everything a copy shows is inside its HTML (the QR
code is inline SVG, the fonts are the system's), so the URL fetcher refuses every URL and keeps
a list of what was asked for: a record body that names a remote image, a stylesheet or a
`file:` path gets nothing, and a test can see that it was refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from ..errors import QmsError


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    refused: tuple[str, ...]  # every URL the renderer asked for; none was fetched


def _fetcher_class() -> Any:
    from weasyprint.urls import URLFetcher

    class RefusingFetcher(URLFetcher):  # type: ignore[misc]
        """A URL fetcher that fetches nothing: remote, local file and data URLs alike."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols=(), fail_on_errors=False)
            self.asked: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            self.asked.append(url)
            raise ValueError(f"gitqms fetches nothing for a PDF copy: refused {url[:80]}")

    return RefusingFetcher


def render_pdf(html: str, title: str) -> Rendered:
    """The PDF of `html`, a complete document with its own styles; nothing is fetched."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as error:  # OSError: Pango or its fonts are missing
        raise QmsError(
            f"the PDF renderer cannot start: {error}",
            hint="install WeasyPrint and its system libraries (Debian: libpango-1.0-0 "
            "libpangoft2-1.0-0 fonts-dejavu-core; `.ci/run` lists them)",
        ) from None
    fetcher = _fetcher_class()()
    # WeasyPrint warns on the logger for each refused resource; the refusals are returned.
    logger = logging.getLogger("weasyprint")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        document = HTML(string=html, base_url=None, url_fetcher=fetcher)
        pdf = document.write_pdf(
            pdf_identifier=title.encode("utf-8")[:64] or b"gitqms", uncompressed_pdf=False
        )
    finally:
        logger.setLevel(level)
    if not isinstance(pdf, bytes):
        raise QmsError("the PDF renderer returned nothing", hint="report this with --debug")
    return Rendered(pdf, tuple(fetcher.asked))
