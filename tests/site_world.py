"""Shared setup of the site tests: a real `qms demo`, people acting on it through the real `qms`
command line, a local web server for a built site, and a real headless Chromium.

Nothing here is mocked. The demo is built once per test session (it takes a while) by running
the `qms demo` command in a subprocess with a clean git environment; tests that change a
repository work on their own copy of it.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml

from gitqms import clock

QMS = Path(sys.executable).with_name("qms")
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
DRAFT_TEXT = "DRAFT-ONLY TEXT"

# Variables that would override a person's own identity, keys or repository.
_FOREIGN = (
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "GIT_COMMITTER_DATE",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_CONFIG",
    "GIT_CONFIG_COUNT",
    "GNUPGHOME",
    "EMAIL",
    "QMS_SITE_DATE",
    "QMS_SITE_DRAFTS",
)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["NO_MKDOCS_2_WARNING"] = "1"
    env.update(extra)
    return env


def run(
    args: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=dict(env) if env is not None else clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"`{' '.join(str(a) for a in args)}` exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return result


def qms_cli(
    repo: Path, *args: str | Path, env: Mapping[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """The real `qms` command, in a subprocess, on `repo`."""
    assert QMS.is_file(), f"the qms command is not installed beside {sys.executable}"
    return run([QMS, "-C", repo, *args], env=env, check=check)


# --- the demo ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Demo:
    folder: Path
    repo: Path
    site: Path
    people: Path
    today: date  # the story's day, as `qms demo` reported it (not the day it was run)
    output: str  # what `qms demo` printed
    ran: tuple[datetime, datetime]  # the machine's clock (UTC) before and after `qms demo`


def make_demo(folder: Path) -> Demo:
    """`qms demo --dir FOLDER`, run as a user would, with their own minimal git identity."""
    home = folder.parent / f"{folder.name}-home"
    home.mkdir(parents=True, exist_ok=True)
    config = home / ".gitconfig"
    config.write_text(
        "[user]\n\tname = Demo Runner\n\temail = demo.runner@st-aurelia.example\n"
        "[init]\n\tdefaultBranch = main\n"
    )
    started = clock.now()
    result = run(
        [QMS, "demo", "--dir", folder],
        cwd=home,
        env=clean_env(HOME=str(home), GIT_CONFIG_GLOBAL=str(config)),
        timeout=900,
    )
    span = re.search(r"signed work, \d{4}-\d\d-\d\d to (\d{4}-\d\d-\d\d)", result.stdout)
    assert span, f"`qms demo` did not say which day it took as today:\n{result.stdout}"
    today = date.fromisoformat(span.group(1))
    ran = (started, clock.now())
    demo = Demo(
        folder, folder / "repo", folder / "site", folder / "people", today, result.stdout, ran
    )
    assert (demo.site / "index.html").is_file(), result.stdout + result.stderr
    return demo


@functools.cache
def _pristine(root: str) -> Demo:
    return make_demo(Path(root) / "demo")


def pristine_demo(factory: pytest.TempPathFactory) -> Demo:
    """One demo per test session, shared read-only by the site tests (never changed by them)."""
    return _pristine(str(factory.getbasetemp() / "site-demo"))


def copy_demo(demo: Demo, target: Path) -> Demo:
    shutil.copytree(demo.folder, target, symlinks=True)
    return Demo(
        target,
        target / "repo",
        target / "site",
        target / "people",
        demo.today,
        demo.output,
        demo.ran,
    )


# --- the demo's people, acting through the command line ---------------------------------------


@dataclass(frozen=True)
class Desk:
    """One demo person at their desk: their own git config, signing with their own key."""

    id: str
    config: Path
    home: Path

    def env(self, when: str) -> dict[str, str]:
        return clean_env(
            HOME=str(self.home),
            GIT_CONFIG_GLOBAL=str(self.config),
            GIT_AUTHOR_DATE=when,
            GIT_COMMITTER_DATE=when,
        )


def desks(demo: Demo, folder: Path) -> dict[str, Desk]:
    """Each demo person's git config, signing with their key in THIS copy of the demo.

    The configs `qms demo` writes name the key by an absolute path; a copied demo (and, see the
    report, the demo itself) must point them at the key that is really there."""
    folder.mkdir(parents=True, exist_ok=True)
    found = {}
    for config in sorted(demo.people.glob("*.gitconfig")):
        person = config.name.removesuffix(".gitconfig")
        key = demo.people / person
        text = re.sub(
            r"(?m)^(\s*signingkey\s*=).*$",
            lambda m, key=key: f"{m.group(1)} {key}",
            config.read_text(),
        )
        own = folder / config.name
        own.write_text(text)
        home = folder / f"{person}-home"
        home.mkdir(exist_ok=True)
        found[person] = Desk(person, own, home)
    return found


def add_desk(folder: Path, person: str, name: str, email: str) -> tuple[Desk, Path]:
    """A new person with an ed25519 key made by ssh-keygen and a git config that signs with it."""
    key = folder / person
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", email, "-f", key])
    config = folder / f"{person}.gitconfig"
    config.write_text(
        f"[user]\n\tname = {json.dumps(name)}\n\temail = {email}\n\tsigningkey = {key}\n"
        "[gpg]\n\tformat = ssh\n[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"
    )
    home = folder / f"{person}-home"
    home.mkdir(exist_ok=True)
    return Desk(person, config, home), key.with_name(key.name + ".pub")


def commit_as(desk: Desk, repo: Path, when: str, files: Mapping[str, str], message: str) -> str:
    """An author's change: files written and committed, signed with the author's key (as
    `qms demo` does: the signature proves who wrote it)."""
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text, encoding="utf-8")
    env = desk.env(when)
    run(["git", "-C", repo, "add", "--", *files], env=env)
    run(["git", "-C", repo, "commit", "-q", "--gpg-sign", "-m", message, "--", *files], env=env)
    return run(["git", "-C", repo, "rev-parse", "HEAD"], env=env).stdout.strip()


def qms_as(desk: Desk, repo: Path, when: str, *args: str) -> str:
    return qms_cli(repo, *args, env=desk.env(when)).stdout


def build_site(repo: Path, site: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return qms_cli(repo, "build", "--site-dir", site, *extra, env=clean_env())


def front_matter(fields: Mapping[str, object], body: str) -> str:
    dumped = yaml.safe_dump(dict(fields), sort_keys=False, allow_unicode=True, width=10_000)
    return f"---\n{dumped}---\n\n{body}"


# --- reading a built site ---------------------------------------------------------------------


def pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def article(html: str) -> str:
    """The page's main content (MkDocs Material's <article>), without header, nav and footer."""
    start = html.find('<article class="md-content__inner')
    end = html.find("</article>", start)
    assert start >= 0 and end > start, "no <article> in the page"
    return html[start:end]


def visible_text(html: str) -> str:
    """Tags dropped, whitespace collapsed; entities kept (so escaped markup stays escaped)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- a local web server and a real browser ----------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def http_server(root: Path) -> Iterator[str]:
    """`python -m http.server` on 127.0.0.1 and a free port, serving `root`; yields its URL."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(root),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "index.html", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"the web server for {root} did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def chromium() -> object:
    """Debian's headless Chromium driven by its chromedriver. No internet: every host name but
    the local server's address fails to resolve, so nothing can come from a CDN."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    if missing:
        pytest.fail(
            f"the browser tests need Chromium and its driver, missing: {', '.join(missing)} "
            "(apt-get install chromium chromium-driver)",
            pytrace=False,
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as error:  # pragma: no cover - a broken environment must fail loudly
        pytest.fail(f"selenium is not installed in {sys.executable}: {error}", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1000",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "--disable-background-networking",
        "--no-first-run",
        "--lang=en-GB",
    ):
        options.add_argument(argument)
    options.unhandled_prompt_behavior = "ignore"  # an alert must stay open so a test can see it
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(120)
    driver.set_script_timeout(60)
    return driver
