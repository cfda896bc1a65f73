"""The published site has only controlled inputs: an insider with push rights commits, signed
with their own registered key, a static page, a site configuration or a symbolic link meant to
run code on the build machine, publish its secrets, or run script in readers' browsers.

`qms build` and `qms archive` build from a configuration the qms plugin owns (plain values only
are taken from the committed mkdocs.yml; anything else is refused, naming the key) and read the
static pages from Git objects at the published commit, regular files only. Every static page is
sanitised like a record body. The history index's HMAC key is kept out of every repository.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result

from gitqms.history import index_store
from toolkit.browser import chromium, http_server
from toolkit.cli import qms
from toolkit.people import Person
from toolkit.world import World

DAY = "2026-11-23"
MARK = "SITEPROBE"


def commit(world: World, person: Person, files: dict[str, str], message: str) -> str:
    """A signed commit by `person` (an insider with push rights) of these files, with a Reason."""
    for path, text in files.items():
        (world.repo / path).parent.mkdir(parents=True, exist_ok=True)
        (world.repo / path).write_text(text)
    return commit_paths(world, person, list(files), message)


def commit_paths(world: World, person: Person, paths: list[str], message: str) -> str:
    with world.acting(person):
        world.git("add", "--", *paths)
        world.git(
            "commit",
            "-q",
            *world.sign_args(person),
            *("-m", message, "-m", "Reason: site update"),
            env=person.signing_env(),
        )
    return world.head()


def link(world: World, person: Person, name: str, target: Path) -> str:
    """A committed symbolic link docs/`name` -> `target`."""
    (world.repo / "docs" / name).symlink_to(target)
    return commit_paths(world, person, [f"docs/{name}"], f"Add docs/{name}")


def build(world: World, person: Person, site: Path) -> Result:
    with world.acting(person):
        return qms("build", "--site-dir", str(site), "--date", DAY, repo=world.repo)


def archive(world: World, person: Person, out: Path) -> Result:
    with world.acting(person):
        return qms("archive", str(out), "--date", DAY, repo=world.repo)


def site_bytes(site: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file())


def mkdocs_config(world: World) -> dict[str, Any]:
    loaded = yaml.safe_load((world.repo / "mkdocs.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def with_config(world: World, **changes: Any) -> str:
    config = mkdocs_config(world)
    config.update(changes)
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


# --- raw HTML in a static page -----------------------------------------------------------------

HOSTILE_PAGE = f"""---
title: "{MARK} <img src=x onerror=\\"window.__xss='meta-title'\\">"
template: main.html
---

# {MARK} notice <img src=x onerror="window.__xss='heading'">

<script>window.__xss='script'</script>

<img src="x" onerror="window.__xss='onerror'">

<a href="javascript:window.__xss='jsurl'">{MARK} click</a>

<svg onload="window.__xss='svg'"></svg>

<iframe srcdoc="<script>parent.__xss='iframe'</script>"></iframe>

<div markdown onclick="window.__xss='attr'">{MARK} body</div>
"""


def _browse(url: str) -> tuple[object, list[str]]:
    from selenium.common.exceptions import NoAlertPresentException

    driver: Any = chromium()
    try:
        driver.get(url)
        time.sleep(1.0)  # let any handler fire
        alerts = []
        for _ in range(5):
            try:
                alert = driver.switch_to.alert
            except NoAlertPresentException:
                break
            alerts.append(alert.text)
            alert.accept()
        return driver.execute_script("return window.__xss"), alerts
    finally:
        driver.quit()


def test_raw_html_in_a_static_page_neither_runs_nor_is_published(
    world: World, tmp_path: Path
) -> None:
    author = world.people["l.santos"]
    commit(world, author, {"docs/notice.md": HOSTILE_PAGE}, "A notice for staff")
    site = tmp_path / "site"
    result = build(world, author, site)
    assert result.exit_code == 0, result.output + result.stderr
    page = (site / "notice.html").read_text()
    assert MARK in page, "the page itself is published"
    assert "<script>window.__xss" not in page
    assert not re.search(r"<[^>]+\son\w+\s*=", page), "an event handler in a tag"
    assert not re.search(r"(href|src)\s*=\s*[\"']?\s*javascript:", page, re.I)
    assert "<iframe" not in page
    index = (site / "search" / "search_index.json").read_text()
    assert "onerror" not in index and "<script" not in index
    with http_server(site) as base:
        for name in ("notice.html", "index.html"):
            ran, alerts = _browse(base + name)
            assert ran is None and alerts == [], (name, ran, alerts)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("board.html", "<script>window.__xss='html'</script>"),
        ("logo.svg", "<svg xmlns='http://www.w3.org/2000/svg' onload=\"window.__xss=1\"/>"),
        ("app.js", "window.__xss='js'"),
    ],
)
def test_a_static_file_that_can_hold_script_is_refused(
    world: World, tmp_path: Path, name: str, content: str
) -> None:
    """MkDocs copies any other file of the docs folder as it is, and the browser runs what an
    HTML, SVG or JavaScript file holds on the controlled site's own origin: only Markdown pages
    and inert files (images, PDF, text) are published."""
    author = world.people["l.santos"]
    commit(world, author, {f"docs/{name}": content}, "A static file")
    site = tmp_path / "site"
    result = build(world, author, site)
    assert result.exit_code == 2, result.output + result.stderr
    assert f"docs/{name}" in result.stderr and "Traceback" not in result.stderr
    assert not site.exists()


# --- repository code during a build ------------------------------------------------------------

HOOK = "import pathlib\n\npathlib.Path({marker!r}).write_text('ran')\n"


def test_a_hook_in_mkdocs_yml_never_runs_in_build_or_archive(world: World, tmp_path: Path) -> None:
    author = world.people["l.santos"]
    marker = tmp_path / "marker"
    commit(
        world,
        author,
        {
            "site_hooks.py": HOOK.format(marker=str(marker)),
            "mkdocs.yml": with_config(world, hooks=["site_hooks.py"]),
        },
        "Site hook",
    )
    site = tmp_path / "site"
    result = build(world, author, site)
    assert result.exit_code == 2, result.output + result.stderr
    assert "mkdocs.yml" in result.stderr and "'hooks'" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not marker.exists(), "a committed hook ran on the build machine"
    assert not site.exists()
    out = tmp_path / "archive"
    result = archive(world, author, out)
    assert result.exit_code == 2, result.output + result.stderr
    assert "'hooks'" in result.stderr
    assert not marker.exists() and not out.exists()


@pytest.mark.parametrize(
    ("key", "change"),
    [
        ("extra_javascript", {"extra_javascript": ["evil.js"]}),
        ("theme.custom_dir", {"theme": {"name": "material", "custom_dir": "overrides"}}),
        ("plugins", {"plugins": ["search", "qms", "offline"]}),
        ("plugins", {"plugins": ["search", {"qms": {"drafts": True}}]}),
        ("markdown_extensions", {"markdown_extensions": ["pymdownx.snippets"]}),
        ("INHERIT", {"INHERIT": "../other.yml"}),
        ("docs_dir", {"docs_dir": "/etc"}),
        ("site_name", {"site_name": "<script>window.__xss=1</script>"}),
        ("nav", {"nav": [{"Home": "javascript:alert(1)"}]}),
        # A browser drops tabs and newlines inside a URL: 'java\tscript:' is 'javascript:'.
        ("nav", {"nav": [{"Home": "index.md"}, {"Read me": "java\tscript:window.__xss=42"}]}),
        ("nav", {"nav": [{"Read me": "java\nscript:window.__xss=42"}]}),
        ("nav", {"nav": [{"Read me": " javascript:window.__xss=42"}]}),
        ("nav", {"nav": [{"Read me": "//evil.example/x"}]}),
        ("nav", {"nav": [{"Read me": "https://evil.example/\tx"}]}),
        ("docs_dir", {"docs_dir": "sops"}),
        ("docs_dir", {"docs_dir": "."}),
        ("site_url", {"site_url": "https://qms.example\t/"}),
        ("repo_url", {"repo_url": 'https://x"onmouseover=1'}),
        ("repo_url", {"repo_url": "java\tscript:window.__xss=1//https://x"}),
        ("theme.logo", {"theme": {"name": "material", "logo": "java\tscript:alert(1)"}}),
        ("theme.favicon", {"theme": {"name": "material", "favicon": "img/a b.png"}}),
        ("theme.icon.repo", {"theme": {"name": "material", "icon": {"repo": "x\ny"}}}),
    ],
)
def test_site_configuration_outside_the_allow_list_is_refused_naming_the_key(
    world: World, tmp_path: Path, key: str, change: dict[str, Any]
) -> None:
    author = world.people["l.santos"]
    (world.repo / "docs" / "evil.js").write_text("window.__xss='extra'\n")
    (world.repo / "overrides").mkdir()
    (world.repo / "overrides" / "main.html").write_text("<script>window.__xss=1</script>\n")
    commit(world, author, {"mkdocs.yml": with_config(world, **change)}, "Site configuration")
    commit_paths(world, author, ["docs/evil.js", "overrides"], "assets")
    site = tmp_path / "site"
    result = build(world, author, site)
    assert result.exit_code == 2, result.output + result.stderr
    assert f"'{key}'" in result.stderr and "mkdocs.yml" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not site.exists()


def test_the_shipped_site_configuration_builds(world: World, tmp_path: Path) -> None:
    """`qms init`'s mkdocs.yml (theme, palette, features, nav) is all inside the allow-list; the
    static home page is published, cleaned, with its links."""
    site = tmp_path / "site"
    result = build(world, world.people["a.weber"], site)
    assert result.exit_code == 0, result.output + result.stderr
    home = (site / "index.html").read_text()
    assert 'href="sops/index.html"' in home and "Uncontrolled" not in home.split("<article")[0]


# --- symbolic links -----------------------------------------------------------------------------


def _targets(world: World) -> dict[str, tuple[Path, bytes]]:
    """What a link could reach: a system file, the home folder, the history index's key."""
    index_store.forget_key()  # this test's own HOME
    world.qms(world.people["a.weber"], "verify")  # makes the index, and its key
    home = Path(os.environ["HOME"])
    (home / "ci-secret.txt").write_text("CI_TOKEN=s3cr3t-of-the-build-machine\n")
    key = index_store.key_path()
    assert key.is_file()
    return {
        "passwd": (Path("/etc/passwd"), b"root:x:0:0"),
        "home": (home, b"s3cr3t-of-the-build-machine"),
        "key": (key, key.read_bytes()),
    }


@pytest.mark.parametrize(
    ("target", "name"), [("passwd", "passwd.md"), ("home", "home"), ("key", "index.key")]
)
def test_a_committed_symlink_in_docs_is_refused_and_nothing_is_published(
    world: World, tmp_path: Path, target: str, name: str
) -> None:
    author = world.people["l.santos"]
    path, secret = _targets(world)[target]
    link(world, author, name, path)
    site = tmp_path / "site"
    result = build(world, author, site)
    published = site_bytes(site) if site.exists() else b""
    assert secret not in published, f"the build published {path}"
    assert result.exit_code == 2, result.output + result.stderr
    assert f"docs/{name}" in result.stderr and "symbolic link" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not site.exists()


def test_a_committed_symlink_is_refused_by_archive_too(world: World, tmp_path: Path) -> None:
    author = world.people["l.santos"]
    path, _ = _targets(world)["passwd"]
    link(world, author, "passwd.md", path)
    out = tmp_path / "archive"
    result = archive(world, author, out)
    assert result.exit_code == 2, result.output + result.stderr
    assert "docs/passwd.md" in result.stderr and "symbolic link" in result.stderr
    assert not out.exists()


def test_an_uncommitted_symlink_in_the_working_folder_is_not_followed(
    world: World, tmp_path: Path
) -> None:
    """Static pages come from the published commit, never from the working folder."""
    path, secret = _targets(world)["passwd"]
    (world.repo / "docs" / "leak.md").symlink_to(path)
    (world.repo / "docs" / "draft.md").write_text(f"# {MARK} not committed\n")
    site = tmp_path / "site"
    result = build(world, world.people["a.weber"], site)
    assert result.exit_code == 0, result.output + result.stderr
    published = site_bytes(site)
    assert secret not in published and MARK.encode() not in published


# --- the history index's HMAC key -------------------------------------------------------------


def test_the_index_key_is_private_and_outside_the_repository(world: World) -> None:
    index_store.forget_key()
    world.qms(world.people["a.weber"], "verify")
    key = index_store.key_path()
    assert key.is_file()
    assert not key.resolve().is_relative_to(world.repo.resolve())
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.parent.stat().st_mode & 0o077 == 0


def test_a_cache_folder_inside_the_repository_gets_no_key(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """XDG_CACHE_HOME inside the work tree (a CI job's habit) would put the key where a commit,
    a build or an archive can take it: the index is then not kept, and no key is written."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(world.repo / ".cache"))
    index_store.forget_key()
    try:
        world.qms(world.people["a.weber"], "verify")
        assert not (world.repo / ".cache").exists()
    finally:
        index_store.forget_key()


def test_a_key_others_can_read_is_not_trusted(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key file others can read (its mode widened, or planted so) lets them forge the index.
    An index file made with such a key is not believed, and the key is replaced by a private
    one."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    known = bytes(range(32))
    path = index_store.key_path()
    path.parent.mkdir(parents=True, mode=0o700)
    path.write_bytes(known)
    path.chmod(0o600)
    store = index_store.Store(world.repo, "probe")
    index_store.forget_key()
    try:
        store.write("x", {"k": 1}, {"data": b"forged"})  # as anyone holding the key can
        assert store.read("x", {"k": 1}) == {"data": b"forged"}
        path.chmod(0o644)  # now others can read it
        index_store.forget_key()  # a new run
        assert store.read("x", {"k": 1}) is None, "an index made with a readable key counted"
        assert path.read_bytes() != known
        assert path.stat().st_mode & 0o777 == 0o600
    finally:
        index_store.forget_key()


# --- qms check: the site's inputs are controlled ------------------------------------------------


@pytest.mark.parametrize("path", ["mkdocs.yml", "docs/index.md"])
def test_a_change_to_the_site_inputs_needs_a_reason(world: World, path: str) -> None:
    author = world.people["l.santos"]
    base = world.head()
    (world.repo / path).write_text((world.repo / path).read_text() + "\n# changed\n")
    with world.acting(author):
        world.git("add", path)
        world.git("commit", "-q", *world.sign_args(author), "-m", "tweak", env=author.signing_env())
    output = world.qms(author, "check", f"{base}..HEAD", ok=False)
    named = "docs/" if path.startswith("docs/") else path
    assert f"the change to {named} has no 'Reason:' trailer" in output, output


def test_an_unsigned_change_to_the_site_inputs_is_reported_even_with_a_reason(
    world: World,
) -> None:
    """Who changed the published site must be proven: a commit after the trust root that changes
    docs/ or mkdocs.yml is signed by a person registered at its parent, whatever it states."""
    from gitqms.rules.site_inputs import site_changes, unsigned_site_changes
    from gitqms.signatures.verify import walk_history

    author = world.people["l.santos"]
    base = world.head()
    signed = commit(world, author, {"docs/signed.md": "# Signed\n"}, "signed notice")
    (world.repo / "docs" / "notice.md").write_text("# Notice\n\nUse the fridge in room 2.\n")
    world.git("add", "docs/notice.md")
    outsider = {"GIT_COMMITTER_EMAIL": "outsider@evil.example"}
    world.git("commit", "-q", "--no-gpg-sign", "-m", "notice", "-m", "Reason: x", env=outsider)
    unsigned = world.head()
    walk = walk_history(world.repo, [unsigned])
    found = unsigned_site_changes(walk, site_changes(world.repo, base, unsigned))
    assert [(c, p) for c, p, _ in found] == [(unsigned, "docs/")], found
    assert signed not in {c for c, _, _ in found}
    # `qms check` (so CI and the server hook) reports it.
    out = world.qms(author, "check", f"{base}..{unsigned}", "--format", "json", ok=False)
    rules = [(v["commit"], v["rule"]) for v in json.loads(out)["violations"]]
    assert (unsigned, "site.unsigned") in rules and (signed, "site.unsigned") not in rules
