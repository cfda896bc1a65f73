"""The site's own inputs, as the published commit holds them: plain settings from mkdocs.yml and
the static files under its docs folder.

Committed files are untrusted, so the site's configuration is not executed as given: the qms
plugin owns it (theme mkdocs-material, the search and qms plugins, an allow-list of Markdown
extensions) and takes from mkdocs.yml only plain values on an allow-list (names, colours, nav
order). Anything else (hooks, other plugins, custom_dir, extra_javascript, INHERIT …) is
refused, naming the key. No string may hold '<', '>' or '"', since the theme prints several of
them without escaping. Static files are read from Git objects, regular files only: a symbolic
link or a submodule under the docs folder is refused, so a build never follows a link out of
the repository. Nothing here runs repository code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .. import git
from ..errors import QmsError
from ..safeyaml import LoadError, decode_record_bytes, load_yaml

CONFIG = "mkdocs.yml"
_REGULAR = ("100644", "100755")
# Markdown pages (rendered, then sanitised) and files a browser does not run. MkDocs copies any
# other file as it is, and an HTML, SVG or JavaScript file would run on the site's own origin.
STATIC_SUFFIXES = frozenset({".md", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".ico", ".pdf"})
_UNSAFE = re.compile(r"[<>\"\x00-\x08\x0b-\x1f\x7f]")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# A link or path is taken only when it is made of these characters: no whitespace or control
# character (a browser drops a tab or a newline inside 'java\tscript:'), no quote, no colon.
_SAFE_PATH = re.compile(r"[A-Za-z0-9._/#-]+")
# An http(s) address, strictly: a host name, an optional port, a path of unreserved characters.
_WEB = re.compile(
    r"https?://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?"
    r"(?:/[A-Za-z0-9._~%/?#&=+,;@!$*:-]*)?"
)
DOCS_DIR = "docs"
PLUGINS = ("search", "qms")
SEARCH_OPTIONS = frozenset({"lang", "separator", "min_search_length"})
MARKDOWN_EXTENSIONS = frozenset(
    {
        "abbr",
        "admonition",
        "attr_list",
        "def_list",
        "footnotes",
        "md_in_html",
        "tables",
        "toc",
        "pymdownx.betterem",
        "pymdownx.caret",
        "pymdownx.details",
        "pymdownx.highlight",
        "pymdownx.inlinehilite",
        "pymdownx.keys",
        "pymdownx.mark",
        "pymdownx.smartsymbols",
        "pymdownx.superfences",
        "pymdownx.tabbed",
        "pymdownx.tasklist",
        "pymdownx.tilde",
    }
)


@dataclass(frozen=True)
class SiteFile:
    path: str  # inside the docs folder, '/'-separated
    content: bytes


@dataclass(frozen=True)
class SiteInputs:
    commit: str
    settings: dict[str, Any]  # plain values for MkDocs: names, theme options, nav, extensions
    search: dict[str, Any] | None  # the search plugin's options; None when it is not listed
    docs_dir: str  # the folder of static pages, from the top of the QMS folder
    files: tuple[SiteFile, ...]


class _Refused(Exception):
    def __init__(self, key: str, why: str) -> None:
        super().__init__(why)
        self.key = key
        self.why = why


def site_inputs(root: Path, revision: str = "HEAD") -> SiteInputs:
    """The site's settings and static files at `revision` of the repository at `root`."""
    commit = git.rev_parse(root, f"{revision}^{{commit}}")
    if commit is None:
        raise QmsError(f"{revision} is not a commit of {root}", hint="commit the records first")
    prefix = git.show_prefix(root)
    settings, search, docs_dir = _checked(root, commit, prefix)
    return SiteInputs(commit, settings, search, docs_dir, _files(root, commit, prefix, docs_dir))


def docs_folder(root: Path, commit: str) -> str:
    """The folder of static pages that mkdocs.yml names at `commit`."""
    return _checked(root, commit, git.show_prefix(root))[2]


def site_url_at(root: Path, commit: str) -> str | None:
    """mkdocs.yml's `site_url` at `commit`; None when it sets none, or the site's configuration
    is missing or refused (`qms build` names the problem)."""
    try:
        url = _checked(root, commit, git.show_prefix(root))[0].get("site_url")
    except QmsError:
        return None
    return url if isinstance(url, str) and url else None


def _checked(
    root: Path, commit: str, prefix: str
) -> tuple[dict[str, Any], dict[str, Any] | None, str]:
    raw = _read_config(root, commit, prefix)
    try:
        text = decode_record_bytes(raw)
        data = load_yaml(text, lines=False).data
    except LoadError as error:
        at = f", line {error.line}" if error.line else ""
        raise QmsError(f"{CONFIG}{at}: {error.message}", hint=error.fix) from None
    try:
        return _settings(data)
    except _Refused as refused:
        raise QmsError(
            f"{CONFIG} (commit {commit[:12]}): '{refused.key}' {refused.why}",
            hint="the site's configuration is owned by the qms plugin; mkdocs.yml may set only "
            "plain values (site_name, nav, theme colours and features, the allowed Markdown "
            "extensions): remove it and commit",
        ) from None


def _read_config(root: Path, commit: str, prefix: str) -> bytes:
    path = f"{prefix}{CONFIG}"
    entries = [e for e in git.list_tree(root, commit, [path]) if e[0] == path]
    if not entries:
        raise QmsError(
            f"{CONFIG} is not committed (commit {commit[:12]} has none)",
            hint="the site is built from the committed mkdocs.yml: commit it "
            "(`qms init` writes one)",
        )
    _, mode, oid = entries[0]
    if mode not in _REGULAR:
        raise QmsError(
            f"{CONFIG} is {_what(mode)}, not a regular file (commit {commit[:12]})",
            hint="commit mkdocs.yml itself as a file",
        )
    return _blobs(root, [oid])[oid]


def _files(root: Path, commit: str, prefix: str, docs_dir: str) -> tuple[SiteFile, ...]:
    folder = f"{prefix}{docs_dir}/"
    wanted: list[tuple[str, str]] = []
    for path, mode, oid in git.list_tree(root, commit, [folder]):
        inside = path[len(folder) :]
        if mode not in _REGULAR:
            raise QmsError(
                f"{docs_dir}/{inside} is {_what(mode)} (commit {commit[:12]}); the site "
                "publishes regular files only and never follows a link",
                hint=f"replace {docs_dir}/{inside} by the file itself (git rm it, add the "
                "content) and commit; nothing was published",
            )
        if any(part.startswith(".") for part in inside.split("/")):
            continue  # MkDocs' own rule: hidden files are not published
        if PurePosixPath(inside).suffix.lower() not in STATIC_SUFFIXES:
            raise QmsError(
                f"{docs_dir}/{inside} (commit {commit[:12]}) is not a Markdown page or an "
                "image: a browser could run what it holds on the controlled site",
                hint=f"the site publishes {', '.join(sorted(STATIC_SUFFIXES))} files from "
                f"{docs_dir}/: move it out of {docs_dir}/ and commit",
            )
        wanted.append((inside, oid))
    contents = _blobs(root, [oid for _, oid in wanted])
    return tuple(SiteFile(inside, contents[oid]) for inside, oid in wanted)


def _blobs(root: Path, oids: list[str]) -> dict[str, bytes]:
    found = {}
    for name, kind, content in git.cat_objects(root, oids):
        if kind != "blob":
            raise QmsError(f"object {name} of the site's inputs is missing", hint="run git fsck")
        found[name] = content
    return found


def _what(mode: str) -> str:
    return {"120000": "a symbolic link", "160000": "a submodule (gitlink)"}.get(
        mode, f"an entry of mode {mode}"
    )


# --- the allow-list ---------------------------------------------------------------------------


def _settings(data: object) -> tuple[dict[str, Any], dict[str, Any] | None, str]:
    if not isinstance(data, dict):
        raise _Refused("(top level)", "must be a mapping of settings")
    settings: dict[str, Any] = {}
    search: dict[str, Any] | None = None
    docs_dir = "docs"
    seen_qms = False
    for key, value in data.items():
        check = _TOP.get(key)
        if key == "plugins":
            search, seen_qms = _plugins(value)
        elif key == "docs_dir":
            if value not in (DOCS_DIR, f"{DOCS_DIR}/"):
                raise _Refused(
                    key,
                    f"must be {DOCS_DIR!r}: the static pages live in {DOCS_DIR}/, never among "
                    f"the records (not {str(value)[:60]!r})",
                )
        elif check is None:
            raise _Refused(key, "is not allowed in the site's configuration")
        else:
            settings[key] = check(key, value)
    if not seen_qms:
        raise _Refused("plugins", "does not use the qms plugin: add `- qms` under `plugins:`")
    if "site_name" not in settings:
        raise _Refused("site_name", "is missing: name the site")
    settings["theme"] = _theme("theme", data.get("theme", "material"))
    return settings, search, docs_dir


def _plain(key: str, value: object) -> Any:
    """Plain data (text, numbers, true/false, lists, mappings) with no markup in its text."""
    if isinstance(value, str):
        if _UNSAFE.search(value):
            raise _Refused(key, f"holds '<', '>', '\"' or a control character: {value[:60]!r}")
        return value
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, list):
        return [_plain(key, item) for item in value]
    if isinstance(value, dict):
        return {str(_plain(key, k)): _plain(f"{key}.{k}", v) for k, v in value.items()}
    raise _Refused(key, "is not plain data")


def _text(key: str, value: object) -> str:
    if not isinstance(value, str):
        raise _Refused(key, "must be text")
    return str(_plain(key, value))


def _flag(key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise _Refused(key, "must be true or false")
    return value


def _web(key: str, value: object) -> str:
    text = _text(key, value)
    if not _WEB.fullmatch(text):
        raise _Refused(key, f"must be a plain http(s) address, not {text[:60]!r}")
    return text


def _relative(key: str, value: object) -> str:
    """A path inside the site: letters, digits and . _ / # - only; not absolute, no '..'."""
    text = _text(key, value)
    path = PurePosixPath(text)
    if not _SAFE_PATH.fullmatch(text) or path.is_absolute() or ".." in path.parts:
        raise _Refused(
            key,
            "must be a relative path inside the site (letters, digits and . _ / # - only), "
            f"not {text[:60]!r}",
        )
    return path.as_posix()


def _icons(key: str, value: object) -> Any:
    """Icon names (material/library), or mappings of them: paths, checked like one."""
    if isinstance(value, dict):
        return {_text(key, name): _icons(f"{key}.{name}", item) for name, item in value.items()}
    return _relative(key, value)


def _link(key: str, value: object) -> str:
    text = _text(key, value)
    return _web(key, text) if _SCHEME.match(text) else _relative(key, text)


def _nav(key: str, value: object) -> Any:
    if isinstance(value, str):
        return _link(key, value)
    if isinstance(value, list):
        return [_nav(key, item) for item in value]
    if isinstance(value, dict) and len(value) == 1:
        ((title, target),) = value.items()
        return {_text(key, title): _nav(key, target)}
    raise _Refused(key, "must list pages ('Title: page.md') and sections")


_THEME: dict[str, Callable[[str, object], Any]] = {
    "features": _plain,
    "palette": _plain,
    "language": _text,
    "direction": _text,
    "icon": _icons,
    "logo": _relative,
    "favicon": _relative,
}


def _theme(key: str, value: object) -> dict[str, Any]:
    if value == "material":
        value = {"name": "material"}
    if not isinstance(value, dict) or value.get("name") != "material":
        raise _Refused(key, "must be mkdocs-material (name: material)")
    theme: dict[str, Any] = {"name": "material", "font": False}
    for name, option in value.items():
        if name in ("name", "font"):
            if name == "font" and option is not False:
                raise _Refused(f"{key}.font", "must be false: the site works with no internet")
            continue
        check = _THEME.get(name)
        if check is None:
            raise _Refused(f"{key}.{name}", "is not allowed in the site's configuration")
        theme[name] = check(f"{key}.{name}", option)
    return theme


def _plugins(value: object) -> tuple[dict[str, Any] | None, bool]:
    if not isinstance(value, list):
        raise _Refused("plugins", "must be a list")
    search: dict[str, Any] | None = None
    seen_qms = False
    for entry in value:
        name, options = next(iter(entry.items())) if isinstance(entry, dict) else (entry, None)
        if isinstance(entry, dict) and len(entry) != 1:
            raise _Refused("plugins", "lists one plugin per entry")
        if name == "qms" and not options:
            seen_qms = True
        elif name == "search" and (options is None or isinstance(options, dict)):
            unknown = sorted(set(options or {}) - SEARCH_OPTIONS)
            if unknown:
                raise _Refused("plugins", f"search option {unknown[0]!r} is not allowed")
            search = _plain("plugins.search", options or {})
        elif name == "qms":
            raise _Refused(
                "plugins", "qms takes no options here (qms build takes --date and --drafts)"
            )
        else:
            raise _Refused("plugins", f"{str(name)[:40]!r} is not one of {', '.join(PLUGINS)}")
    return search, seen_qms


def _extensions(key: str, value: object) -> list[Any]:
    if not isinstance(value, list):
        raise _Refused(key, "must be a list")
    chosen: list[Any] = []
    for entry in value:
        name, options = next(iter(entry.items())) if isinstance(entry, dict) else (entry, None)
        if name not in MARKDOWN_EXTENSIONS or (isinstance(entry, dict) and len(entry) != 1):
            raise _Refused(key, f"{str(name)[:40]!r} is not an allowed Markdown extension")
        chosen.append({name: _plain(f"{key}.{name}", options)} if options else name)
    return chosen


def _extra(key: str, value: object) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) - {"generator"}:
        raise _Refused(key, "may only set 'generator: false'")
    return {"generator": _flag(f"{key}.generator", value.get("generator", True))}


_TOP: Mapping[str, Callable[[str, object], Any]] = {
    "site_name": _text,
    "site_description": _text,
    "site_author": _text,
    "copyright": _text,
    "site_url": _web,
    "repo_url": _web,
    "repo_name": _text,
    "use_directory_urls": _flag,
    "theme": lambda key, value: value,  # checked once, below, with its default
    "nav": _nav,
    "markdown_extensions": _extensions,
    "extra": _extra,
}
