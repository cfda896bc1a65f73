"""Untrusted record text made safe for the site: the one HTML policy every record body passes.

Escaping at generation covers record fields; Markdown bodies, which may hold raw HTML, are
rendered by MkDocs and then cleaned here with nh3 (the Rust `ammonia` sanitiser): no script,
style, event handler, form, frame or meta element survives, links keep only http(s), mailto and
relative targets, images only relative sources (nothing is fetched from the internet), and ids and
classes are limited to the few the theme needs, so a body can neither clobber the page's own
elements nor dress itself up as a signature block.
"""

from __future__ import annotations

import html
import re

import nh3

from ..text import unturned

_TAGS = set(nh3.ALLOWED_TAGS) - {"area", "map"}
_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"colspan", "rowspan", "align"},
    "td": {"colspan", "rowspan", "align"},
    "ol": {"start"},
    "abbr": {"title"},
    **{f"h{level}": {"id"} for level in range(1, 7)},
}
_CLASSES = {
    "a": {"headerlink"},
    "div": {"admonition", "note", "info", "tip", "warning", "danger", "highlight"},
    "p": {"admonition-title"},
    "details": {"note", "info", "tip", "warning", "danger"},
}
_SAFE_ID = re.compile(r"[a-z0-9][a-z0-9_.-]{0,80}")
_SCHEME = re.compile(r"^\s*[a-zA-Z][a-zA-Z0-9+.-]*:|^\s*//|^\s*\\\\")


def _attribute(tag: str, name: str, value: str) -> str | None:
    if name == "id":
        return value if _SAFE_ID.fullmatch(value) else None
    if tag == "img" and name == "src":
        return None if _SCHEME.search(value) else value  # relative only: nothing remote
    return value


def clean_body(fragment: str) -> str:
    """A rendered Markdown body reduced to harmless HTML."""
    return nh3.clean(
        unturned(fragment),
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        attribute_filter=_attribute,
        allowed_classes=_CLASSES,
        url_schemes={"http", "https", "mailto"},
        strip_comments=True,
        link_rel="noopener noreferrer",
    )


def text(value: object) -> str:
    """Any record value as escaped HTML text (quotes too, so it is safe in attributes)."""
    return html.escape(unturned("" if value is None else str(value)), quote=True)


def plain(value: str) -> str:
    """Text that may hold markup (a heading as the Markdown renderer gave it) as plain escaped
    text: tags dropped, entities kept escaped."""
    return nh3.clean(value, tags=set(), attributes={}, strip_comments=True)
