"""`qms build` and `qms serve`: MkDocs run on a QMS repository's own mkdocs.yml, with the day
and draft mode handed to the `qms` plugin."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from mkdocs.commands.build import build
from mkdocs.commands.serve import serve
from mkdocs.config import load_config
from mkdocs.exceptions import MkDocsException

from ..errors import QmsError

CONFIG = "mkdocs.yml"


@contextlib.contextmanager
def _options(on: date | None, drafts: bool) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in ("QMS_SITE_DATE", "QMS_SITE_DRAFTS")}
    os.environ["QMS_SITE_DATE"] = on.isoformat() if on else ""
    os.environ["QMS_SITE_DRAFTS"] = "1" if drafts else ""
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")  # the theme's own notice, not ours
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _config_file(root: Path) -> Path:
    path = root / CONFIG
    if not path.is_file():
        raise QmsError(
            f"{root} has no {CONFIG}",
            hint="`qms init` writes one; it must list the `qms` plugin",
        )
    return path


def build_site(root: Path, site_dir: Path, on: date | None = None, drafts: bool = False) -> Path:
    """Build the site of the repository at `root` into `site_dir`; returns its index.html."""
    config_file = _config_file(root)
    logging.getLogger("mkdocs").setLevel(logging.WARNING)
    with _options(on, drafts):
        try:
            config = load_config(str(config_file), site_dir=str(site_dir.resolve()))
            if "qms" not in config.plugins:
                raise QmsError(
                    f"{config_file} does not use the qms plugin",
                    hint="add `- qms` under `plugins:`",
                )
            build(config)
        except MkDocsException as error:
            raise QmsError(f"the site did not build: {error}") from None
    return site_dir / "index.html"


def serve_site(root: Path, on: date | None, drafts: bool, address: str) -> None:
    """Serve the site with live reload: it rebuilds when a commit lands or a record changes."""
    config_file = _config_file(root)
    with _options(on, drafts):
        try:
            serve(str(config_file), dev_addr=address, livereload=True)
        except MkDocsException as error:
            raise QmsError(f"the site could not be served: {error}") from None
