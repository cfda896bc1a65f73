"""Golden outputs of the demo: what `qms` prints about the demo repository and what its site
shows, captured from the code as it was before record kinds became declarations (issue 20), so
that the refactor can be checked byte for byte.

Each command runs on a copy of the session's demo (toolkit.demo), through the real command line
(toolkit.cli.qms, in process, so that the one clock can be set): gitqms.clock reads the story's
day (`demo.today`) at 12:00 UTC, the moment the demo itself ran `qms verify`, and so does git's
clock (GIT_COMMITTER_DATE, which `qms audit-trail` reports as the time its report was generated).
Commands that take `--date` are also given the story's day. The site pages are the main content
(the `<article>` element) of the site `qms demo` built.

Only what differs between two builds of the demo is normalised, since every demo person gets a
fresh SSH key from ssh-keygen:
- commit ids (every signed commit, and qms.yaml with the keys, differs): a full id becomes
  `<commit N>`, an abbreviation `<commit N:LENGTH>`, N the commit's place in
  `git rev-list --reverse --topo-order HEAD` (the demo's history has the same shape every time);
- key fingerprints: `<key of PERSON>`;
- the audit-trail report's hash (a hash over a report that names commit ids): `<report hash>`;
- the demo's temporary folder, should it appear: `<demo>`.
There are no timings, build timestamps or version strings in these outputs; content hashes of
records do not vary and are kept.

On a mismatch the test prints a unified diff (first 80 lines). After a change that is meant to
change these outputs, rewrite the golden files from the current code and review the diff:

    GITQMS_UPDATE_GOLDEN=1 .venv/bin/pytest -n 2 tests/test_golden_demo.py -q
    git diff --stat tests/golden/demo
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from gitqms import clock
from toolkit.browser import article
from toolkit.cli import qms
from toolkit.demo import Demo, copy_demo, pristine_demo
from toolkit.process import run

GOLDEN = Path(__file__).resolve().parent / "golden" / "demo"
UPDATE = os.environ.get("GITQMS_UPDATE_GOLDEN") == "1"
DIFF_LINES = 80
HOUR = 12  # the hour of the story's day the clocks read (the demo's own `qms verify` ran then)

# The records each command is asked about: one of each kind, with a history worth showing.
SOP, CAPA, DEV, ATR = "SOP-0003", "CAPA-2026-0002", "DEV-2026-0002", "ATR-2026-0001"

# Golden name -> the command's arguments; {today}, {start} (the first day of the demo's
# history) and {root} (its first commit) are filled in from the demo.
COMMANDS: dict[str, tuple[str, ...]] = {
    "status-all": ("status", "--format", "json", "--date", "{today}"),
    "status-all-by-clock": ("status", "--format", "json"),
    "status-sop": ("status", SOP, "--date", "{today}"),
    "status-capa": ("status", CAPA, "--date", "{today}"),
    "status-deviation": ("status", DEV, "--date", "{today}"),
    "status-audit-review": ("status", ATR, "--date", "{today}"),
    "due": ("due", "--format", "json", "--date", "{today}"),
    "due-by-clock": ("due", "--format", "json"),
    "due-within-365": ("due", "--format", "json", "--date", "{today}", "--within", "365"),
    "due-text": ("due", "--date", "{today}"),
    "verify": ("verify", "--format", "json"),
    "list-all": ("list", "--format", "json"),
    "list-all-text": ("list",),
    "list-sop": ("list", "--kind", "sop", "--format", "json"),
    "list-capa": ("list", "--kind", "capa", "--format", "json"),
    "list-deviation": ("list", "--kind", "deviation", "--format", "json"),
    "list-audit-review": ("list", "--kind", "audit-review", "--format", "json"),
    "log-sop": ("log", SOP, "--format", "json"),
    "log-capa": ("log", CAPA, "--format", "json"),
    "log-deviation": ("log", DEV, "--format", "json"),
    "log-audit-review": ("log", ATR, "--format", "json"),
    "validate": ("validate", "--format", "json"),
    "validate-text": ("validate",),
    "check": ("check", "{root}..HEAD", "--format", "json"),
    "check-text": ("check", "{root}..HEAD"),
    "audit-trail": ("audit-trail", "--since", "{start}", "--until", "{today}", "--format", "json"),
}

# The site's pages whose main content is kept: the home page, registers, dashboards, the
# verification report, and every record page (the site has no page for audit reviews).
PAGES = (
    "index.html",
    "dashboards.html",
    "verification.html",
    "sops/index.html",
    "capa/index.html",
    "deviations/index.html",
    "archive/index.html",
    *(f"sops/SOP-{n:04d}.html" for n in range(1, 13)),
    *(f"capa/CAPA-2026-{n:04d}.html" for n in range(1, 7)),
    *(f"deviations/DEV-2026-{n:04d}.html" for n in range(1, 9)),
    "upcoming/SOP-0003-v2.html",
    "upcoming/SOP-0011-v1.html",
    "archive/SOP-0005-v1.html",
    "archive/SOP-0012-v1.html",
    "redline/SOP-0005-v3.html",  # what changed: a redline of text and metadata
    "training.html",
    "inbox/index.html",
    *(f"inbox/{person}.html" for person in ("a.weber", "j.lindqvist", "p.rossi", "n.achebe")),
    "whats-new.html",
    "copies.html",
    "verify/SOP-0003-v2.html",
    "verify/SOP-0005-v1.html",
)
PAGE_LIST = "site/pages.json"  # every HTML page of the built site, by path

HEX = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{7,40}(?![0-9A-Za-z])")
FINGERPRINT = re.compile(r"SHA256:[A-Za-z0-9+/]{43}")
REPORT_HASH = re.compile(r'("report_sha256": "sha256:)[0-9a-f]{64}(")')


# --- what varies between two builds of the demo ------------------------------------------------


@dataclass(frozen=True)
class Normaliser:
    commits: tuple[str, ...]  # oldest first, as `git rev-list --reverse --topo-order HEAD`
    keys: dict[str, str]  # key fingerprint -> the demo person it belongs to
    folders: tuple[str, ...]  # the demo's folder, as given and resolved

    def __call__(self, text: str) -> str:
        for folder in self.folders:
            text = text.replace(folder, "<demo>")
        text = FINGERPRINT.sub(lambda m: self._key(m.group(0)), text)
        text = REPORT_HASH.sub(r"\1<report hash>\2", text)
        return HEX.sub(lambda m: self._commit(m.group(0)), text)

    def _key(self, fingerprint: str) -> str:
        person = self.keys.get(fingerprint)
        return f"<key of {person}>" if person else fingerprint

    def _commit(self, hexits: str) -> str:
        found = [n for n, commit in enumerate(self.commits, 1) if commit.startswith(hexits)]
        if len(found) != 1:
            return hexits  # not a commit of the demo (or ambiguous): kept as it is
        return (
            f"<commit {found[0]:03d}>"
            if len(hexits) == 40
            else f"<commit {found[0]:03d}:{len(hexits)}>"
        )


def normaliser(demo: Demo, *also: Path) -> Normaliser:
    commits = run(["git", "-C", demo.repo, "rev-list", "--reverse", "--topo-order", "HEAD"])
    keys = {}
    for public in sorted(demo.people.glob("*.pub")):
        listed = run(["ssh-keygen", "-l", "-f", public]).stdout.split()
        keys[listed[1]] = public.name.removesuffix(".pub")
    folders = {str(p) for folder in (demo.folder, *also) for p in (folder, folder.resolve())}
    return Normaliser(
        commits=tuple(commits.stdout.split()),
        keys=keys,
        folders=tuple(sorted(folders, key=len, reverse=True)),
    )


# --- comparing with the golden files -----------------------------------------------------------


def _readable(text: str) -> list[str]:
    """Lines to diff: HTML broken between tags, so a changed cell shows as a changed line."""
    return text.replace("><", ">\n<").splitlines()


def compare(relative: str, actual: str) -> None:
    """`actual` against the golden file (or, with GITQMS_UPDATE_GOLDEN=1, written to it)."""
    path = GOLDEN / relative
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != actual:
            path.write_text(actual, encoding="utf-8")
        return
    if not path.is_file():
        pytest.fail(
            f"no golden file {path.relative_to(GOLDEN.parents[2])}: run the test with "
            "GITQMS_UPDATE_GOLDEN=1 to write it",
            pytrace=False,
        )
    expected = path.read_text(encoding="utf-8")
    if actual == expected:
        return
    diff = list(
        difflib.unified_diff(
            _readable(expected), _readable(actual), f"golden/{relative}", "actual", lineterm=""
        )
    )
    if not diff:  # the difference is in whitespace between tags or in line ends
        diff = list(
            difflib.unified_diff(
                [repr(line) for line in expected.splitlines(keepends=True)],
                [repr(line) for line in actual.splitlines(keepends=True)],
                f"golden/{relative}",
                "actual",
                lineterm="",
            )
        )
    shown = "\n".join(diff[:DIFF_LINES])
    more = f"\n… {len(diff) - DIFF_LINES} more diff lines" if len(diff) > DIFF_LINES else ""
    pytest.fail(
        f"{relative} differs from its golden file (GITQMS_UPDATE_GOLDEN=1 rewrites it, if the "
        f"change is meant):\n{shown}{more}",
        pytrace=False,
    )


def dumped(value: object) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def prints_json(args: tuple[str, ...]) -> bool:
    return "--format" in args and args[args.index("--format") + 1] == "json"


def stdout_file(name: str) -> str:
    """The golden file of a command's output: .json when it prints JSON, else .txt."""
    return f"cli/{name}.{'json' if prints_json(COMMANDS[name]) else 'txt'}"


# --- the demo ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Golden:
    demo: Demo  # a copy of the session's demo: commands may write caches into it
    normalise: Normaliser
    values: dict[str, str]  # what fills {today}, {start} and {root}

    @property
    def moment(self) -> datetime:
        return datetime.combine(self.demo.today, time(HOUR), UTC)


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> Golden:
    source = pristine_demo(tmp_path_factory)
    demo = copy_demo(source, tmp_path_factory.mktemp("golden") / "demo")
    first = run(["git", "-C", demo.repo, "log", "--max-parents=0", "--format=%H %cs", "HEAD"])
    root, start = first.stdout.split()
    return Golden(
        demo=demo,
        normalise=normaliser(demo, source.folder),
        values={"today": demo.today.isoformat(), "start": start, "root": root},
    )


@pytest.fixture
def clocks(golden: Golden, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """gitqms.clock and git's clock both read the story's day at noon, UTC."""
    monkeypatch.setenv("GIT_COMMITTER_DATE", golden.moment.strftime("%Y-%m-%dT%H:%M:%SZ"))
    with clock.fixed(golden.moment):
        yield


# --- the tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_command_output_is_golden(name: str, golden: Golden, clocks: None) -> None:
    template = COMMANDS[name]
    args = [arg.format(**golden.values) for arg in template]
    result = qms(*args, repo=golden.demo.repo)
    stdout = golden.normalise(result.stdout)
    if prints_json(template):
        json.loads(stdout)  # what a machine reads must stay JSON, whatever it says
    compare(stdout_file(name), stdout)
    outcome = {
        "command": ["qms", *template],
        "exit_code": result.exit_code,
        "stderr": golden.normalise(result.stderr).splitlines(),
    }
    compare(f"cli/{name}.outcome.json", dumped(outcome))


@pytest.mark.parametrize("page", PAGES)
def test_site_page_is_golden(page: str, golden: Golden) -> None:
    html = (golden.demo.site / page).read_text(encoding="utf-8")
    compare(f"site/{page}", golden.normalise(article(html)) + "\n")


def test_site_has_the_golden_pages(golden: Golden) -> None:
    site = golden.demo.site
    compare(PAGE_LIST, dumped(sorted(str(p.relative_to(site)) for p in site.rglob("*.html"))))


def test_no_stale_golden_files() -> None:
    """Every golden file belongs to a case above (a removed case takes its files with it)."""
    expected = {PAGE_LIST, *(f"site/{page}" for page in PAGES)}
    for name in COMMANDS:
        expected |= {stdout_file(name), f"cli/{name}.outcome.json"}
    present = {str(p.relative_to(GOLDEN)) for p in GOLDEN.rglob("*") if p.is_file()}
    if UPDATE:
        for stale in present - expected:
            (GOLDEN / stale).unlink()
        return
    assert present == expected, (
        f"golden files without a case: {sorted(present - expected)}; "
        f"cases without a golden file: {sorted(expected - present)} "
        "(GITQMS_UPDATE_GOLDEN=1 writes and prunes them)"
    )
