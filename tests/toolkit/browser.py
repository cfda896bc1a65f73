"""A built site as the tests read it, a local web server for it, and a real headless Chromium.

Nothing here is mocked: the server is `python -m http.server`, the browser Debian's Chromium.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .process import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


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


@contextlib.contextmanager
def http_server(root: Path) -> Iterator[str]:
    """`python -m http.server` on 127.0.0.1 and a free port, serving `root`; yields its URL."""
    for _ in range(5):  # a port found free can be taken (by another test worker) before we bind
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "http.server",
                str(port),
                "--bind",
                "127.0.0.1",
                "-d",
                str(root),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            if _serving(server, f"http://127.0.0.1:{port}/index.html"):
                yield f"http://127.0.0.1:{port}/"
                return
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    raise AssertionError(f"the web server for {root} did not start")


def _serving(server: subprocess.Popen[bytes], url: str) -> bool:
    """Whether `server` itself answers at `url` (not another process that holds the port)."""
    deadline = time.monotonic() + 60
    while server.poll() is None and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    time.sleep(0.2)  # a server that lost the port exits right after starting
                    return server.poll() is None
        except OSError:
            time.sleep(0.2)
    return False


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


# A page fits the screen: nothing wider than the window, but a table inside its .qms-scroll
# wrapper, which scrolls sideways within the window. Returns the width, tables and problems.
FITS_SCREEN = """
const problems = [];
const width = window.innerWidth;
for (const e of [document.documentElement, document.body]) {
  if (e.scrollWidth > width) problems.push(`${e.tagName} is ${e.scrollWidth}px wide in ${width}px`);
}
const tables = [...document.querySelectorAll('article table')];
for (const table of tables) {
  const box = table.getBoundingClientRect();
  const head = table.querySelector('th') ? table.querySelector('th').textContent.trim() : '?';
  if (box.left >= -1 && box.right <= width + 1 && table.scrollWidth <= table.clientWidth + 1) {
    continue;
  }
  const wrap = table.closest('.qms-scroll');
  if (!wrap) { problems.push(`table '${head}' does not fit and has no .qms-scroll`); continue; }
  const around = wrap.getBoundingClientRect();
  const overflow = getComputedStyle(wrap).overflowX;
  if (around.left < -1 || around.right > width + 1 || !['auto', 'scroll'].includes(overflow)) {
    problems.push(`table '${head}': its .qms-scroll is at ${around.left}..${around.right}px, `
      + `overflow-x ${overflow}`);
  }
}
return {width: width, tables: tables.length, problems: problems};
"""


def open_page(driver: Any, url: str, width: int) -> None:
    """`url` in the browser, `width` CSS pixels wide, once it has loaded."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False},
    )
    driver.get(url)
    WebDriverWait(driver, 60).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )
