"""The `qms` MkDocs plugin: publishes the controlled versions of a QMS repository.

At each build it asks the core for a `Publication` (one verified walk of the history, status on
the day) and adds one generated page per SOP, archived version, CAPA, deviation and person
(what waits for them), plus the index, register, dashboard, training and verification pages.
Pages carry placeholders around any record body; once MkDocs has rendered a page, the
placeholders become HTML built here with every record value escaped, and the body between them
is cleaned by `sanitise.clean_body`. The placeholders hold a random token per build, so record
text cannot forge them.

Static pages are the plugin's too: whatever MkDocs found in the docs folder is dropped and the
regular files under the docs folder of the published commit are added from Git objects
(records/site_inputs.py refuses links and any configuration outside its allow-list). Each
static page is cleaned by `sanitise.clean_body` like a record body, and of its front matter
only an escaped title is kept.

Options (mkdocs.yml, or the environment for `qms build`/`qms serve` and scheduled CI runs):
  date: YYYY-MM-DD      status as of that day (QMS_SITE_DATE; default: today, UTC)
  drafts: true|false    a preview with drafts, DRAFT on every page (QMS_SITE_DRAFTS=1)
  revision: COMMIT      the commit to publish (default: HEAD); `qms build` pins it
"""

from __future__ import annotations

import os
import secrets
from datetime import date
from pathlib import Path
from typing import Any

from mkdocs.config import config_options
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.livereload import LiveReloadServer
from mkdocs.plugins import BasePlugin, event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import AnchorLink
from mkdocs.utils import get_relative_url

from .. import clock
from ..errors import QmsError
from ..records.kinds import active_kinds
from ..records.site_inputs import SiteFile, site_inputs
from ..reports.publication import Publication, publication
from .copy_pages import copy_pages
from .dashboard_pages import dashboard_pages
from .inbox_pages import inbox_pages
from .layout import UNSEARCHED, PageSpec, banner, heading, scroll_tables, without_title
from .record_pages import record_pages
from .sanitise import clean_body, plain, text
from .sop_pages import sop_pages
from .training_pages import training_pages
from .version_pages import version_pages
from .whats_new_pages import whats_new_pages

log = get_plugin_logger(__name__)
ASSETS = Path(__file__).parent / "assets"
THEME = Path(__file__).parent / "theme"
# the plugin's own files: stylesheet and small local scripts (no CDN)
_ASSETS = {name: f"assets/qms/{name}" for name in ("qms.css", "qms.js", "qms-register.js")}


class QmsPluginConfig(Config):  # type: ignore[no-untyped-call]
    date = config_options.Optional(config_options.Type(str))
    drafts = config_options.Type(bool, default=False)
    pdfs = config_options.Type(bool, default=False)  # a PDF download per version in force
    repository = config_options.Optional(config_options.Type(str))
    revision = config_options.Optional(config_options.Type(str))


class QmsPlugin(BasePlugin[QmsPluginConfig]):  # type: ignore[no-untyped-call]
    supports_multiple_instances = False

    def __init__(self) -> None:
        self.publication: Publication | None = None
        self.pages: dict[str, PageSpec] = {}
        self.token = ""
        self.root = Path(".")
        self.later: dict[str, list[str]] = {}  # page -> sections set aside from the search
        self.static: tuple[SiteFile, ...] = ()
        self.pdfs = False

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        self.root = self._root(config)
        on = self._day()
        drafts = self.config.drafts or os.environ.get("QMS_SITE_DRAFTS", "") in ("1", "true")
        try:
            revision = self.config.revision or "HEAD"
            self.publication = publication(self.root, on, drafts=drafts, revision=revision)
            self.static = site_inputs(self.root, self.publication.commit).files
        except QmsError as error:
            hint = f" ({error.hint})" if error.hint else ""
            raise PluginError(f"qms: {error}{hint}") from None
        self.token = secrets.token_hex(16)
        self.later = {}
        self.pdfs = (
            self.config.pdfs or os.environ.get("QMS_SITE_PDFS", "") in ("1", "true")
        ) and not drafts
        specs = [
            *sop_pages(self.publication, pdfs=self.pdfs),
            *record_pages(self.publication),
            *dashboard_pages(self.publication),
            *training_pages(self.publication),
            *inbox_pages(self.publication),
            *whats_new_pages(self.publication),
            *copy_pages(self.publication),
            *version_pages(self.publication),
        ]
        self.pages = {spec.uri: spec for spec in specs}
        custom = config.theme.custom_dir  # templates run unsandboxed: none may be committed
        if custom and Path(custom).resolve().is_relative_to(self.root):
            raise PluginError(f"qms: theme.custom_dir {custom} is inside the repository")
        config.theme.dirs.insert(1 if config.theme.custom_dir else 0, str(THEME))
        config.extra["qms"] = {
            "commit": self.publication.commit,
            "on": on.isoformat(),
            "built": clock.now().strftime("%Y-%m-%d %H:%M"),
            "drafts": drafts,
        }
        config.extra_css.append(_ASSETS["qms.css"])
        config.extra_javascript.append(_ASSETS["qms.js"])
        config.extra_javascript.append(_ASSETS["qms-register.js"])
        return config

    def _root(self, config: MkDocsConfig) -> Path:
        base = Path(config.config_file_path or ".").resolve().parent
        return (base / self.config.repository).resolve() if self.config.repository else base

    def _day(self) -> date:
        value = os.environ.get("QMS_SITE_DATE") or self.config.date
        if not value:
            return clock.today()
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise PluginError(f"qms: date {value!r} is not a day like 2026-05-04") from None

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        docs = Path(config.docs_dir).resolve()
        for found in list(files):  # the working folder's docs: never published
            if found.abs_src_path and Path(found.abs_src_path).absolute().is_relative_to(docs):
                files.remove(found)
        for static in self.static:
            if static.path in self.pages:
                raise PluginError(
                    f"qms: docs/{static.path} would hide the generated page of the same name; "
                    "rename or remove it"
                )
            files.append(File.generated(config, static.path, content=static.content))
        for uri, spec in self.pages.items():
            markdown = f"QMSHEAD{self.token}\n\n"
            if spec.body is not None:
                markdown += f"{without_title(spec.body)}\n\nQMSTAIL{self.token}\n"
            inclusion = InclusionLevel.INCLUDED if spec.listed else InclusionLevel.NOT_IN_NAV
            files.append(File.generated(config, uri, content=markdown, inclusion=inclusion))
        for name, uri in _ASSETS.items():
            content = (ASSETS / name).read_bytes()
            files.append(File.generated(config, uri, content=content))
        return files

    def on_page_markdown(
        self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str:
        spec = self.pages.get(page.file.src_uri)
        if spec is None:  # a static page: of its front matter, only the title, escaped
            title = page.meta.get("title")
            page.meta = {"title": text(title)} if isinstance(title, str) else {}
        elif page.file.generated_by:
            page.meta = {"title": text(spec.title)}  # templates do not escape: escape here
            if not spec.searchable:
                page.meta["search"] = {"exclude": True}
        return markdown

    def on_page_content(self, html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        spec = self.pages.get(page.file.src_uri)
        drafts = self.publication is not None and self.publication.drafts
        notice = (
            banner("draft", "<strong>DRAFT PREVIEW</strong>: not the controlled site; not for use.")
            if drafts
            else ""
        )
        if spec is None:  # a static page: as untrusted as a record body
            _clean_toc(page.toc)
            if "title" not in page.meta:
                page.meta["title"] = plain(str(page.title or ""))
            return notice + scroll_tables(clean_body(html))
        if not page.file.generated_by:
            return notice + html

        def go(uri: str) -> str:
            target = files.get_file_from_path(uri)
            return get_relative_url(target.url, page.url) if target else "#"

        _, _, rest = html.partition(f"QMSHEAD{self.token}")
        body, _, _ = rest.partition(f"QMSTAIL{self.token}")
        _clean_toc(page.toc)
        body_html = scroll_tables(clean_body(body)) if spec.body is not None else ""
        later: list[str] = []
        head, tail = (self._set_aside(part, later) for part in (spec.head(go), spec.tail(go)))
        if later:
            self.later[page.file.src_uri] = later
        return (
            notice + heading(spec.title) + head + f'<div class="qms-body">{body_html}</div>' + tail
        )

    def _set_aside(self, html: str, later: list[str]) -> str:
        """`html` with each section left out of search (an audit trail) moved into `later`
        and a placeholder in its place; `on_post_page` puts it back. The search plugin then
        never parses it, which on a large site is a third of its work."""
        parts = []
        while (start := html.find(UNSEARCHED)) >= 0:
            end = html.index("</section>", start) + len("</section>")
            parts.append(html[:start] + f"<!--QMSLATER{self.token}:{len(later)}-->")
            later.append(html[start:end])
            html = html[end:]
        return "".join(parts) + html

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        """The PDF downloads, when asked for: after the pages, in parallel processes."""
        if not self.pdfs or self.publication is None:
            return
        from .pdf_pages import write_pdfs

        try:
            written = write_pdfs(
                self.publication, Path(config.site_dir), config.site_url, clock.now()
            )
        except QmsError as error:
            raise PluginError(f"qms: the PDF downloads were not made: {error}") from None
        get_plugin_logger(__name__).info(f"{len(written)} PDF downloads written")

    @event_priority(100)  # before any other plugin's: none may see or drop a placeholder
    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str:
        for index, section in enumerate(self.later.pop(page.file.src_uri, ())):
            placeholder = f"<!--QMSLATER{self.token}:{index}-->"
            if output.count(placeholder) != 1:  # a trail must never go missing unnoticed
                raise PluginError(
                    f"qms: the audit trail of {page.file.src_uri} could not be put back on its "
                    "page; a theme override or another plugin changed the page's content"
                )
            output = output.replace(placeholder, section)
        return output

    def on_serve(
        self, server: LiveReloadServer, *, config: MkDocsConfig, builder: Any
    ) -> LiveReloadServer:
        """Rebuild when a commit lands (the site shows committed content) or a record changes."""
        git_dir = self.root / ".git"
        for path in (
            git_dir / "refs",
            git_dir / "logs",
            *(self.root / k.folder for k in active_kinds().kinds),
        ):
            if path.exists():
                server.watch(str(path))
        return server


def _clean_toc(items: Any) -> None:
    """Table-of-contents titles come from record headings: reduce them to plain text."""
    for item in items:
        if isinstance(item, AnchorLink):
            item.title = plain(item.title)
            _clean_toc(item.children)
