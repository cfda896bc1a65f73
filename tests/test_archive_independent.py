"""Independent tests of `qms archive OUT_DIR` and `qms archive verify DIR`.

Written by someone who did not write the feature, the way an inspector, an attacker and a tired
QA officer would use it. One copy of the session demo is given a second branch, a tag, a server
receipt note, a committed .gitattributes naming a filter, and an untracked page in docs/; it is
archived once by the real `qms` command. Tests that tamper work on copies of that archive, with
the tools an attacker has: git, sha256sum, and gitqms's own code to recompute every hash and seal.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitqms.archive import ARCHIVE_JSON, manifest, render_archive_json, seal
from gitqms.archive.report import render_json, render_text, verification_report
from gitqms.errors import QmsError
from toolkit.cli import QMS, qms_cli
from toolkit.demo import Demo, copy_demo, new_desk, pristine_demo
from toolkit.process import clean_env, from_a_shell, git, run

WHEN = "2026-11-21T12:00:00+00:00"
STRAY = "Stray draft page: never committed, must not be archived"


CLERK = {
    "GIT_AUTHOR_NAME": "Records Clerk",
    "GIT_AUTHOR_EMAIL": "clerk@st-aurelia.example",
    "GIT_COMMITTER_NAME": "Records Clerk",
    "GIT_COMMITTER_EMAIL": "clerk@st-aurelia.example",
    "GIT_AUTHOR_DATE": WHEN,
    "GIT_COMMITTER_DATE": WHEN,
}


def as_clerk(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """git as the records clerk, in a fresh terminal, with the clock on WHEN."""
    return git(repo, *args, env=env, base=clean_env(**CLERK))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verify(
    folder: Path | str, *extra: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run([QMS, "archive", "verify", folder, *extra], cwd=cwd, env=env, check=False)


def heads(bundle: Path) -> dict[str, str]:
    listed = run(["git", "bundle", "list-heads", bundle]).stdout
    return {ref: oid for oid, ref in (line.split(" ", 1) for line in listed.splitlines())}


def reseal(folder: Path, **changes: object) -> None:
    """archive.json rewritten by someone who knows the format: new values, the manifest's sha256
    and the seal recomputed, bytes exactly as gitqms writes them."""
    value = json.loads((folder / ARCHIVE_JSON).read_text())
    value.update(changes)
    value["manifest_sha256"] = sha256(folder / "manifest.sha256")
    value["seal_sha256"] = seal(value)
    (folder / ARCHIVE_JSON).write_bytes(render_archive_json(value))


def swap_history(folder: Path, repo: Path, *, honest_report: bool = True) -> dict[str, Any]:
    """The strongest attacker without the anchor: the bundle replaced by one of `repo`, the
    reports recomputed by gitqms's own code from the archived trust root, every manifest line
    and archive.json recomputed and resealed. Returns the recomputed report."""
    bundle = folder / "repository.bundle"
    bundle.unlink()
    as_clerk(repo, "bundle", "create", "--quiet", str(bundle), "--all")
    refs = heads(bundle)
    tip = refs["HEAD"]
    old = json.loads((folder / "verification.json").read_text())
    report = verification_report(repo, tip, old["trust_root"])
    if not honest_report:  # the forged signature claimed valid, the totals to match
        for verdict in report["signatures"]:
            verdict["status"], verdict["problems"] = "valid", []
        report["failures"] = 0
    (folder / "verification.json").write_bytes(render_json(report))
    (folder / "verification.txt").write_bytes(render_text(report, tip))
    manifest.write(folder)
    reseal(
        folder,
        refs={**{r: o for r, o in refs.items() if r != "HEAD"}, "HEAD": tip},
        tip=tip,
        commits=report["commits"],
        signatures=len(report["signatures"]),
        invalid=report["failures"],
    )
    return report


# --- the archived repository, built once --------------------------------------------------------


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    demo = copy_demo(pristine_demo(tmp_path_factory), tmp_path_factory.mktemp("indep") / "demo")
    repo = demo.repo
    report = json.loads(qms_cli(repo, "verify", "--format", "json").stdout)
    signed = report["signatures"][0]["commit"]
    note = "qms-receipt 1\nreceived: 2026-11-21T11:00:00Z\nref: refs/heads/main\npusher: a.weber\n"
    as_clerk(repo, "notes", "--ref=qms-receipts", "add", "-m", note, signed)
    as_clerk(repo, "branch", "training-2027", "HEAD~4")
    as_clerk(repo, "switch", "-q", "training-2027")
    (repo / "docs" / "training.md").write_text("# Training plan 2027\n\nDraft.\n")
    as_clerk(repo, "add", "docs/training.md")
    as_clerk(repo, "commit", "-q", "--no-gpg-sign", "-m", "Training plan draft")
    as_clerk(repo, "switch", "-q", "main")
    as_clerk(repo, "tag", "-a", "inspection-2026", "-m", "state shown to the inspector", "HEAD~1")
    # A committed .gitattributes naming a filter and a diff driver: a verifying machine whose
    # config defines them must still run neither.
    (repo / ".gitattributes").write_text("* filter=evil diff=evil\n")
    as_clerk(repo, "add", ".gitattributes")
    as_clerk(repo, "commit", "-q", "--no-gpg-sign", "-m", "attributes")
    # Untracked and never committed: not part of the archived tip, so not of its site.
    (repo / "docs" / "stray.md").write_text(f"# Stray\n\n{STRAY}\n")
    return demo


@pytest.fixture(scope="module")
def archived(source: Demo, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(the archive of `source`, the manifest sha256 the command told us to write down)."""
    out = tmp_path_factory.mktemp("indep-archive") / "archive"
    printed = qms_cli(source.repo, "archive", out, "--date", "2026-11-21").stdout
    anchor = re.search(r"manifest sha256: ([0-9a-f]{64})", printed)
    assert anchor, printed
    return out, anchor.group(1)


@pytest.fixture
def copy(archived: tuple[Path, str], tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(archived[0], target, symlinks=True)
    return target


# --- what an archive holds ----------------------------------------------------------------------


def test_site_is_the_archived_tip_not_the_working_folder(
    source: Demo, archived: tuple[Path, str]
) -> None:
    """An untracked page in docs/ is not in the history, so it must not be in the archived
    site either (nor in its search index); and the site is sane in date and size."""
    out, _ = archived
    assert (source.repo / "docs" / "stray.md").is_file()
    assert not (out / "site" / "stray.html").exists()
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert STRAY.encode() not in data, path
            assert b"PRIVATE KEY" not in data, path
    assert not any(p.name == ".git" for p in out.rglob("*"))
    meta = json.loads((out / ARCHIVE_JSON).read_text())
    created = datetime.strptime(meta["created"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert created <= datetime.now(UTC)
    assert meta["site_date"] == "2026-11-21"
    assert "Figures for 2026-11-21" in (out / "site" / "dashboards.html").read_text()
    assert meta["tip"] in (out / "site" / "verification.html").read_text()
    size = sum(p.stat().st_size for p in (out / "site").rglob("*") if p.is_file())
    assert 50_000 < size < 30_000_000


def test_readme_steps_work_by_hand(
    source: Demo, archived: tuple[Path, str], tmp_path: Path
) -> None:
    """Every command of README.txt, run as written (with /tmp moved into the test's folder)."""
    out, anchor = archived
    readme = (out / "README.txt").read_text()
    meta = json.loads((out / ARCHIVE_JSON).read_text())
    checked = run(["sha256sum", "-c", "manifest.sha256"], cwd=out).stdout.splitlines()
    assert checked and all(line.endswith(": OK") for line in checked)
    assert run(["sha256sum", "manifest.sha256"], cwd=out).stdout.split()[0] == anchor
    assert meta["manifest_sha256"] == anchor
    commands = [
        line.strip().split("   ")[0].strip()
        for line in readme.split("2. Check and restore the history")[1]
        .split("3. Check the signatures")[0]
        .splitlines()
        if line.startswith("    git ")
    ]
    assert len(commands) == 7, commands
    env = clean_env(PWD=str(out))
    for command in commands:
        command = command.replace("/tmp/", f"{tmp_path}/")
        result = subprocess.run(
            ["bash", "-c", command], cwd=out, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, (command, result.stderr)
    restored = tmp_path / "restored"
    assert as_clerk(restored, "rev-parse", "HEAD").strip() == meta["tip"]
    mirrored = as_clerk(
        tmp_path / "restored.git", "for-each-ref", "--format=%(refname) %(objectname)"
    )
    listed = dict(line.split() for line in mirrored.splitlines())
    assert {k: v for k, v in meta["refs"].items() if k != "HEAD"} == listed
    notes = as_clerk(restored, "notes", "--ref=qms-receipts", "list").splitlines()
    assert len(notes) == 1
    step3 = re.search(r"qms -C /tmp/restored verify --trust-root (\S+)", readme)
    assert step3 and step3.group(1) == meta["trust_root"]
    verified = qms_cli(restored, "verify", "--trust-root", step3.group(1), check=False).stdout
    assert (out / "verification.txt").read_text().partition("\n\n")[2] == verified
    # "With git alone": the signer's key from qms.yaml in the first parent, then verify-commit.
    report = json.loads((out / "verification.json").read_text())
    signature = report["signatures"][-1]
    registry = yaml.safe_load(as_clerk(restored, "show", f"{signature['commit']}^:qms.yaml"))
    person = next(p for p in registry["people"] if p["email"] == signature["email"])
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(
        "".join(f'{person["email"]} namespaces="git" {k["public_key"]}\n' for k in person["keys"])
    )
    as_clerk(
        restored,
        "-c",
        f"gpg.ssh.allowedSignersFile={allowed}",
        "verify-commit",
        "-v",
        signature["commit"],
    )


def test_detached_head_with_several_branches(source: Demo, tmp_path: Path) -> None:
    demo = copy_demo(source, tmp_path / "detached")
    as_clerk(demo.repo, "checkout", "-q", "--detach", "HEAD~3")
    tip = as_clerk(demo.repo, "rev-parse", "HEAD").strip()
    out = tmp_path / "out"
    qms_cli(demo.repo, "archive", out, "--date", "2026-11-21")
    meta = json.loads((out / ARCHIVE_JSON).read_text())
    assert meta["tip"] == tip and meta["head"] is None
    assert {"refs/heads/main", "refs/heads/training-2027", "refs/tags/inspection-2026"} <= set(
        meta["refs"]
    )
    assert "refs/notes/qms-receipts" in meta["refs"]
    assert f"Archived tip:  {tip} (detached HEAD)" in (out / "README.txt").read_text()
    commits = int(as_clerk(demo.repo, "rev-list", "--count", tip).strip())
    assert json.loads((out / "verification.json").read_text())["commits"] == commits
    result = verify(out)
    assert result.returncode == 0, result.stdout + result.stderr
    # A resealed archive.json that puts the detached tip on a branch is not believed.
    reseal(out, head="refs/heads/main")
    result = verify(out)
    assert result.returncode == 1
    assert 'archive.json: head "refs/heads/main" is not a restored ref at the tip' in result.stdout


# --- attackers who recompute every hash and the seal --------------------------------------------


def test_forged_signature_in_a_swapped_bundle(
    source: Demo, archived: tuple[Path, str], copy: Path, tmp_path: Path
) -> None:
    """An attacker adds an approval in the QA head's name, signed with their own key, and
    rebuilds the whole archive around it. Re-verification still judges it invalid; claiming it
    valid in verification.json is caught; and the written-down manifest sha256 catches all."""
    forged = copy_demo(source, tmp_path / "forged").repo
    (tmp_path / "attacker").mkdir()
    desk = new_desk(tmp_path / "attacker", "mallory", "Mallory", "mallory@elsewhere.example")
    digest = hashlib.sha256((forged / "sops" / "SOP-0013.md").read_bytes()).hexdigest()
    trailers = (
        f"QMS-Record: SOP-0013\nQMS-Content: sha256:{digest}\nQMS-Meaning: approved\n"
        "Reason: release"
    )
    as_clerk(
        forged,
        "-c",
        "gpg.format=ssh",
        "-c",
        f"user.signingkey={tmp_path / 'attacker' / 'mallory'}",
        "commit",
        "-q",
        "-S",
        "--allow-empty",
        "-m",
        "Approved: SOP-0013",
        "-m",
        trailers,
        env={
            "GIT_AUTHOR_NAME": "Dr. Anna Weber",
            "GIT_AUTHOR_EMAIL": "a.weber@st-aurelia.example",
            "GIT_COMMITTER_NAME": "Dr. Anna Weber",
            "GIT_COMMITTER_EMAIL": "a.weber@st-aurelia.example",
            "GIT_CONFIG_GLOBAL": str(desk.config),
        },
    )
    forged_commit = as_clerk(forged, "rev-parse", "HEAD").strip()
    _, anchor = archived

    honest = tmp_path / "honest"
    shutil.copytree(copy, honest)
    report = swap_history(honest, forged)
    verdict = next(v for v in report["signatures"] if v["commit"] == forged_commit)
    assert verdict["status"] == "invalid" and verdict["signer"] == "Dr. Anna Weber"
    assert run(["sha256sum", "-c", "--quiet", "manifest.sha256"], cwd=honest).returncode == 0
    result = verify(honest)  # self-consistent: only the anchor can tell it is not the original
    assert result.returncode == 0, result.stdout
    assert f"({report['failures']} invalid)" in result.stdout and report["failures"] >= 1
    result = verify(honest, "--manifest-sha256", anchor)
    assert result.returncode == 1
    assert "as written down when the archive was made" in result.stdout

    swap_history(copy, forged, honest_report=False)
    result = verify(copy)
    assert result.returncode == 1
    assert any(
        line.strip().startswith(f"signature {forged_commit[:12]}")
        and 'status is "valid" in verification.json, the restored history gives "invalid"' in line
        for line in result.stdout.splitlines()
    ), result.stdout


def test_rewritten_side_branch_is_caught_by_the_anchor(
    source: Demo, archived: tuple[Path, str], copy: Path, tmp_path: Path
) -> None:
    """A branch outside the tip's history rewritten (its commit replaced): nothing in the
    archive re-verifies it, so only the manifest sha256 written down elsewhere can."""
    rewritten = copy_demo(source, tmp_path / "rewritten").repo
    as_clerk(rewritten, "switch", "-q", "training-2027")
    as_clerk(rewritten, "commit", "-q", "--amend", "--no-gpg-sign", "-m", "Training plan (other)")
    as_clerk(rewritten, "switch", "-q", "main")
    swap_history(copy, rewritten)
    original = json.loads((archived[0] / ARCHIVE_JSON).read_text())["refs"]
    assert (
        heads(copy / "repository.bundle")["refs/heads/training-2027"]
        != (original["refs/heads/training-2027"])
    )
    result = verify(copy, "--manifest-sha256", archived[1])
    assert result.returncode == 1
    assert "manifest.sha256: sha256 " in result.stdout


def test_archive_json_counts_and_head_cannot_be_resealed(
    archived: tuple[Path, str], copy: Path
) -> None:
    """archive.json is outside the manifest, so the anchor does not cover it: each value in it
    must be checked against the restored history, or a resealed one says what it likes."""
    meta = json.loads((copy / ARCHIVE_JSON).read_text())
    reseal(
        copy,
        commits=3,
        signatures=1,
        invalid=meta["invalid"] + 7,
        head="refs/heads/forged",
    )
    result = verify(copy, "--manifest-sha256", archived[1])
    assert result.returncode == 1, result.stdout
    for words in (
        f"archive.json: commits is 3, the restored history gives {meta['commits']}",
        f"archive.json: signatures is 1, the restored history gives {meta['signatures']}",
        f"archive.json: invalid is {meta['invalid'] + 7}, the restored history gives",
        'archive.json: head "refs/heads/forged" is not a restored ref',
    ):
        assert words in result.stdout, result.stdout


# --- paths, links and names ---------------------------------------------------------------------


def test_manifest_paths_escaping_the_archive_are_not_followed(copy: Path, tmp_path: Path) -> None:
    """Lines naming files outside the archive, with the right sha256 of those files: each is
    refused by line number, none is read, and the archive fails."""
    outside = tmp_path / "outside.txt"
    outside.write_text("a file beside the archive\n")
    digest = sha256(outside)
    lines = (copy / "manifest.sha256").read_text()
    lines += f"{digest}  ../outside.txt\n{digest}  {outside}\n{digest}  site/../../outside.txt\n"
    (copy / "manifest.sha256").write_text(lines)
    reseal(copy)
    result = verify(copy)
    assert result.returncode == 1
    count = lines.count("\n")
    for number, name in (
        (count - 2, "../outside.txt"),
        (count - 1, str(outside)),
        (count, "site/../../outside.txt"),
    ):
        assert (
            f"manifest.sha256 line {number}: {name!r} is not a plain path inside the archive"
            in result.stdout
        ), result.stdout
    assert "OK" not in result.stdout.splitlines()[-1]


def test_symbolic_links_inside_the_archive_are_refused(copy: Path, tmp_path: Path) -> None:
    """A listed file and a folder replaced by links to identical copies outside the archive:
    the hashes would match if followed, so the links themselves must fail the archive."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.move(copy / "verification.json", elsewhere / "verification.json")
    (copy / "verification.json").symlink_to(elsewhere / "verification.json")
    shutil.move(copy / "site" / "assets", elsewhere / "assets")
    (copy / "site" / "assets").symlink_to(elsewhere / "assets")
    result = verify(copy)
    assert result.returncode == 1
    assert "verification.json: a symbolic link (an archive holds only regular files)" in (
        result.stdout
    )
    assert "site/assets: a symbolic link" in result.stdout
    assert "site/assets/" in result.stdout  # the files below it are missing, not read


def test_odd_file_names_round_trip_with_sha256sum(tmp_path: Path) -> None:
    """Spaces, leading and trailing blanks, unicode and backslashes: the manifest gitqms writes
    is read by coreutils' `sha256sum -c`, and what coreutils writes is read by gitqms."""
    folder = tmp_path / "names"
    names = ["a b.txt", " leading.txt", "trailing .txt", "Prüfung-日本.html", "back\\slash.txt"]
    for number, name in enumerate(names):
        (folder / "sub dir").mkdir(parents=True, exist_ok=True)
        (folder / "sub dir" / name).write_text(f"file {number}\n")
    written = manifest.write(folder)
    checked = run(["sha256sum", "-c", "manifest.sha256"], cwd=folder).stdout.splitlines()
    assert sorted(checked) == sorted(f"sub dir/{name}: OK" for name in names)
    entries, problems = manifest.parse(written)
    assert problems == [] and set(entries) == {f"sub dir/{name}" for name in names}
    assert manifest.compare(folder, entries) == []
    by_coreutils = run(
        ["sha256sum", *(f"sub dir/{name}" for name in sorted(names))], cwd=folder
    ).stdout.encode()
    assert manifest.parse(by_coreutils) == (entries, [])
    (folder / "new\nline.txt").write_text("x")
    with pytest.raises(QmsError, match="control character"):
        manifest.write(folder)


def test_a_file_name_cannot_forge_a_line_of_the_verdict(copy: Path) -> None:
    """A file whose name holds a newline and `archive ...: OK` is named on one line, escaped."""
    (copy / "site" / "x\narchive copy: OK").write_text("injected")
    result = verify("copy", cwd=copy.parent)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert "archive copy: OK" not in lines
    assert any("'site/x\\narchive " in line and "extra file" in line for line in lines), lines


# --- where and how it is verified ---------------------------------------------------------------


@pytest.fixture
def read_only(copy: Path) -> Iterator[Path]:
    modes = {}
    for path in [copy, *copy.rglob("*")]:
        modes[path] = path.stat().st_mode
        path.chmod(modes[path] & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    yield copy
    for path, mode in modes.items():
        path.chmod(mode)


def test_verify_from_a_read_only_folder_changes_nothing(read_only: Path) -> None:
    before = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in read_only.rglob("*")}
    result = verify(".", cwd=read_only)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "archive .: OK" in result.stdout
    assert {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in read_only.rglob("*")} == before


def test_verifier_git_config_hooks_filters_and_fsmonitor_never_run(
    archived: tuple[Path, str], tmp_path: Path
) -> None:
    """The verifying machine's git config defines every hook (through core.hooksPath and a
    template folder), core.fsmonitor, and the filter and diff driver the archived
    .gitattributes names. Verification restores and re-verifies without running any of them."""
    marker = tmp_path / "ran"
    script = tmp_path / "evil.sh"
    script.write_text(f'#!/bin/sh\necho "$0 $*" >> {marker}\ncat\n')
    script.chmod(0o755)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for hook in ("post-checkout", "reference-transaction", "pre-auto-gc", "post-index-change"):
        shutil.copy(script, hooks / hook)
    template = tmp_path / "template"
    shutil.copytree(hooks, template / "hooks")
    config = tmp_path / "gitconfig"
    config.write_text(
        f"[core]\n\thooksPath = {hooks}\n\tfsmonitor = {script}\n\tpager = {script}\n"
        f"[init]\n\ttemplateDir = {template}\n"
        f'[filter "evil"]\n\tclean = {script}\n\tsmudge = {script}\n\tprocess = {script}\n'
        f'[diff "evil"]\n\ttextconv = {script}\n\tcommand = {script}\n'
    )
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(HOME=str(home), GIT_CONFIG_GLOBAL=str(config))
    result = verify(archived[0], env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not marker.exists(), marker.read_text()


# --- interrupted ---------------------------------------------------------------------------------


def test_ctrl_c_during_the_site_build_leaves_nothing(source: Demo, tmp_path: Path) -> None:
    """A real SIGINT to the real command while the site builds (held there by the build
    machine's own code), into an existing empty OUT_DIR: it stays empty, no staging
    folder is left, and the repository is as it was."""
    demo = copy_demo(source, tmp_path / "held")
    started, release = tmp_path / "started", tmp_path / "release"
    # The build machine's own code (never the repository's: a committed MkDocs hook is
    # refused) holds the build: a sitecustomize on PYTHONPATH wraps MkDocs' build.
    machine = tmp_path / "machine"
    machine.mkdir()
    (machine / "sitecustomize.py").write_text(
        "import os, pathlib, time\n"
        "import mkdocs.commands.build as mkdocs_build\n\n"
        "_build = mkdocs_build.build\n\n\n"
        "def held(config, **options):\n"
        "    pathlib.Path(os.environ['HOLD_STARTED']).write_text('x')\n"
        "    while not pathlib.Path(os.environ['HOLD_RELEASE']).exists():\n"
        "        time.sleep(0.02)\n"
        "    return _build(config, **options)\n\n\n"
        "mkdocs_build.build = held\n"
    )
    state = as_clerk(demo.repo, "status", "--porcelain", "--ignored") + as_clerk(
        demo.repo, "rev-parse", "HEAD"
    )
    parent = tmp_path / "archives"
    out = parent / "out"
    out.mkdir(parents=True)
    env = clean_env(HOLD_STARTED=str(started), HOLD_RELEASE=str(release), PYTHONPATH=str(machine))
    process = subprocess.Popen(
        from_a_shell([str(QMS), "-C", str(demo.repo), "archive", str(out)]),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while not started.exists():
            assert process.poll() is None, process.communicate()
            time.sleep(0.02)
        staging = [p.name for p in parent.iterdir() if p.name != "out"]
        assert len(staging) == 1 and staging[0].startswith(".out.staging-")
        os.kill(process.pid, signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        release.write_text("go")
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode != 0, stdout
    assert "Traceback" not in stderr, stderr
    assert [p.name for p in parent.iterdir()] == ["out"]
    assert list(out.iterdir()) == []
    after = as_clerk(demo.repo, "status", "--porcelain", "--ignored") + as_clerk(
        demo.repo, "rev-parse", "HEAD"
    )
    assert after == state


def test_extended_cached_walk_matches_a_fresh_walk(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """The history index carried on by one commit judges every signature as a fresh walk
    does, including which commit last changed a record brought in by a merge (found while
    archiving: a report made from the index differed from the restored archive's)."""
    demo = copy_demo(pristine_demo(tmp_path_factory), tmp_path / "d")
    qms_cli(demo.repo, "verify", "--format", "json", check=False)  # fills .git/qms
    (demo.repo / "note.txt").write_text("x\n")
    as_clerk(demo.repo, "add", "note.txt")
    as_clerk(demo.repo, "commit", "-q", "--no-gpg-sign", "-m", "note")
    cached = qms_cli(demo.repo, "verify", "--format", "json", check=False).stdout
    assert (demo.repo / ".git" / "qms").is_dir()
    shutil.rmtree(demo.repo / ".git" / "qms")
    fresh = qms_cli(demo.repo, "verify", "--format", "json", check=False).stdout
    assert cached == fresh
    # SOP-0005 v1's signatures name the author of v2 (j.lindqvist), not the merger (a.weber).
    superseded = [
        v["superseded"]
        for v in json.loads(fresh)["signatures"]
        if v["record"] == "SOP-0005" and v["superseded"]
    ]
    assert superseded and all("by Dr. Johan Lindqvist" in text for text in superseded)
