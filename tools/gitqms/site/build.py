"""`qms build` and `qms serve`: MkDocs run on a configuration the `qms` plugin owns, with the day
and draft mode handed to the plugin.

The repository's mkdocs.yml is never executed as given: its plain values, checked against an
allow-list (records/site_inputs.py), go into a fresh configuration written to a scratch folder,
with an empty docs folder; the plugin adds the static pages from the published commit's Git
objects. So no hook, plugin or template of the repository runs, and no link is followed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from mkdocs.commands.build import build
from mkdocs.commands.serve import serve
from mkdocs.config import load_config
from mkdocs.exceptions import MkDocsException

from ..collector import lasting
from ..errors import QmsError
from ..records.site_inputs import site_inputs


@contextlib.contextmanager
def _options(on: date | None, drafts: bool, pdfs: bool = False) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in ("QMS_SITE_DATE", "QMS_SITE_DRAFTS", "QMS_SITE_PDFS")}
    os.environ["QMS_SITE_DATE"] = on.isoformat() if on else ""
    os.environ["QMS_SITE_DRAFTS"] = "1" if drafts else ""
    os.environ["QMS_SITE_PDFS"] = "1" if pdfs else ""
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")  # the theme's own notice, not ours
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def _fixed_config(root: Path, *, pinned: bool) -> Iterator[Path]:
    """The plugin's own configuration for the repository at `root`, in a scratch folder; with
    `pinned`, the plugin publishes the commit whose settings these are (else HEAD, as it
    moves: `qms serve`)."""
    inputs = site_inputs(root)
    qms: dict[str, str] = {"repository": str(root.resolve())}
    if pinned:
        qms["revision"] = inputs.commit
    plugins: list[object] = [] if inputs.search is None else [{"search": inputs.search}]
    with tempfile.TemporaryDirectory(prefix="qms-site-config-") as scratch:
        docs = Path(scratch) / "docs"
        docs.mkdir()
        config = {**inputs.settings, "docs_dir": str(docs), "plugins": [*plugins, {"qms": qms}]}
        path = Path(scratch) / "mkdocs.yml"
        path.write_text(json.dumps(config, indent=1), encoding="utf-8")  # JSON is YAML, no tags
        yield path


def build_site(
    root: Path, site_dir: Path, on: date | None = None, drafts: bool = False, pdfs: bool = False
) -> Path:
    """Build the site of the repository at `root` into `site_dir` (`pdfs`: with a PDF download
    of each version in force or about to be); returns its index.html."""
    logging.getLogger("mkdocs").setLevel(logging.WARNING)
    with lasting(), _options(on, drafts, pdfs), _fixed_config(root, pinned=True) as config_file:
        try:
            build(load_config(str(config_file), site_dir=str(site_dir.resolve())))
        except MkDocsException as error:
            raise QmsError(f"the site did not build: {error}") from None
    return site_dir / "index.html"


def serve_site(root: Path, on: date | None, drafts: bool, address: str) -> None:
    """Serve the site with live reload: it rebuilds when a commit lands or a record changes."""
    with lasting(), _options(on, drafts), _fixed_config(root, pinned=False) as config_file:
        try:
            serve(str(config_file), dev_addr=address, livereload=True)
        except MkDocsException as error:
            raise QmsError(f"the site could not be served: {error}") from None
