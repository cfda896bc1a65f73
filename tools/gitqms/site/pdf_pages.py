"""The site's PDF downloads: one uncontrolled PDF per document version in force or approved and
about to be, in `pdf/ID-vN.pdf`, made only when the build asks for them (`qms build --pdfs`,
or `QMS_SITE_PDFS=1`), in parallel processes, after the pages are written.

A PDF takes a WeasyPrint layout of its own (about a second a document), so a site of hundreds
of documents would pay minutes on every build; without `--pdfs` the build makes none and
links to none, and its time stays that of the pages.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path

from ..files import write_bytes_atomic
from ..reports.copies import CopySource, published_source
from ..reports.entries import PublishedVersion, SopEntry
from ..reports.publication import Publication
from .pdf import copy_pdf
from .sop_pages import pdf_uri


def downloadable(sop: SopEntry) -> Iterator[PublishedVersion]:
    """The versions of `sop` that have a PDF: in force, and approved about to be."""
    if sop.current is not None and sop.current.status == "effective":
        yield sop.current
    if sop.upcoming is not None:
        yield sop.upcoming


def _render(job: tuple[CopySource, datetime, Path]) -> str:
    source, now, target = job
    write_bytes_atomic(target, copy_pdf(source, None, now).pdf)
    return target.name


def write_pdfs(
    publication: Publication, site_dir: Path, site_url: str | None, now: datetime
) -> list[str]:
    """Write every downloadable version's PDF under `site_dir`; returns their file names."""
    folder = site_dir / "pdf"
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [
        (
            published_source(publication, sop, version, site_url),
            now,
            site_dir / pdf_uri(sop.id, version.version),
        )
        for sop in publication.sops
        for version in downloadable(sop)
    ]
    workers = min(len(jobs), os.cpu_count() or 1)
    if workers <= 1:
        return [_render(job) for job in jobs]
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        return list(pool.map(_render, jobs))
