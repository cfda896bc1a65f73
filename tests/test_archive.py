"""`qms archive OUT_DIR` and `qms archive verify DIR` on the real demo repository.

The demo (one per session, see toolkit.demo) is copied, given a server receipt note under
refs/notes/qms-receipts and an annotated tag, and archived by the real `qms` command. Each test
that tampers works on its own copy of the archive; the tampering is done as a person (or an
attacker) would do it, on the files, and verification runs as the real command.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gitqms.archive import ARCHIVE_JSON, render_archive_json, seal
from gitqms.archive import create as archive_create
from toolkit.cli import QMS, qms_cli
from toolkit.demo import Demo, copy_demo, pristine_demo
from toolkit.process import clean_env, git, run

WHEN = "2026-11-21T12:00:00+00:00"  # the git clock for the note and the tag


SERVER = {
    "GIT_AUTHOR_NAME": "Receipt Server",
    "GIT_AUTHOR_EMAIL": "server@st-aurelia.example",
    "GIT_COMMITTER_NAME": "Receipt Server",
    "GIT_COMMITTER_EMAIL": "server@st-aurelia.example",
    "GIT_AUTHOR_DATE": WHEN,
    "GIT_COMMITTER_DATE": WHEN,
}


def as_server(repo: Path, *args: str) -> str:
    """git as the receipt server, in a fresh terminal, with the clock on WHEN."""
    return git(repo, *args, base=clean_env(**SERVER))


def add_receipt_and_tag(repo: Path) -> str:
    """A server receipt (as the pre-receive hook writes it) on the first signature commit, and
    an annotated tag; returns the commit that got the receipt."""
    report = json.loads(qms_cli(repo, "verify", "--format", "json").stdout)
    signed = report["signatures"][0]["commit"]
    stamp = int(as_server(repo, "log", "-1", "--format=%ct", signed).strip())
    received = datetime.fromtimestamp(stamp + 30, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    note = f"qms-receipt 1\nreceived: {received}\nref: refs/heads/main\npusher: a.weber\n"
    as_server(repo, "notes", "--ref=qms-receipts", "add", "-m", note, signed)
    as_server(repo, "tag", "-a", "release-2026", "-m", "annual archive point", "HEAD~2")
    return signed


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """A copy of the demo with receipts and a tag; never changed by the tests."""
    demo = copy_demo(pristine_demo(tmp_path_factory), tmp_path_factory.mktemp("archive") / "d")
    add_receipt_and_tag(demo.repo)
    return demo


@pytest.fixture(scope="module")
def archived(source: Demo, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The archive of `source`, written once by the real command; tests tamper with copies."""
    out = tmp_path_factory.mktemp("archived") / "archive"
    qms_cli(source.repo, "archive", out, "--date", "2026-11-21")
    return out


@pytest.fixture
def copy(archived: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(archived, target)
    return target


def verify(folder: Path, *extra: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run([QMS, "archive", "verify", folder, *extra], cwd=cwd, check=False)


def flip(path: Path, offset: int | None = None) -> None:
    """Change one byte of `path` (the middle one unless told): one bit, as decay would."""
    data = bytearray(path.read_bytes())
    where = len(data) // 2 if offset is None else offset
    data[where] ^= 0x01
    path.write_bytes(bytes(data))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def reseal(folder: Path, **changes: object) -> None:
    """What an attacker who knows the format does: archive.json rewritten, manifest sha256 and
    seal recomputed, so archive.json itself looks untouched."""
    value = json.loads((folder / ARCHIVE_JSON).read_text())
    value.update(changes)
    value["manifest_sha256"] = sha256(folder / "manifest.sha256")
    value["seal_sha256"] = seal(value)
    (folder / ARCHIVE_JSON).write_bytes(render_archive_json(value))


def rehash(folder: Path, name: str) -> None:
    """Recompute the manifest line of `name` (the attacker updates both file and manifest)."""
    manifest = folder / "manifest.sha256"
    lines = manifest.read_text().splitlines(keepends=True)
    fixed = [
        f"{sha256(folder / name)}  {name}\n" if line.endswith(f"  {name}\n") else line
        for line in lines
    ]
    assert fixed != lines
    manifest.write_text("".join(fixed))


# --- writing an archive ------------------------------------------------------------------------


def test_archive_holds_every_part_and_verifies(source: Demo, archived: Path) -> None:
    names = sorted(p.relative_to(archived).as_posix() for p in archived.iterdir())
    assert names == [
        "README.txt",
        "archive.json",
        "manifest.sha256",
        "repository.bundle",
        "site",
        "verification.json",
        "verification.txt",
    ]
    assert (archived / "site" / "index.html").is_file()
    sop = (archived / "site" / "sops" / "SOP-0001.html").read_text()
    assert (source.site / "sops" / "SOP-0001.html").read_text().count("SOP-0001") > 0
    assert "SOP-0001" in sop and "uncontrolled" in sop.lower()
    result = verify(archived)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith(f"archive {archived}: OK")
    assert "every verdict as in verification.json" in result.stdout


def test_verification_json_is_what_qms_verify_prints(source: Demo, archived: Path) -> None:
    printed = qms_cli(source.repo, "verify", "--format", "json", check=False).stdout
    assert (archived / "verification.json").read_text() == printed
    report = json.loads(printed)
    received = [s for s in report["signatures"] if s.get("receipt")]
    assert len(received) == 1  # the receipt note made it into the report
    heading, _, body = (archived / "verification.txt").read_text().partition("\n\n")
    head = run(["git", "-C", source.repo, "rev-parse", "HEAD"]).stdout.strip()
    assert heading.splitlines() == [
        f"Signature verification (qms verify) of the history of {head}",
        f"from the trust root {report['trust_root']}",
    ]
    assert body == qms_cli(source.repo, "verify", check=False).stdout
    assert "    received " in body


def test_archive_json_names_tools_refs_trust_root_and_manifest(
    source: Demo, archived: Path
) -> None:
    meta = json.loads((archived / "archive.json").read_text())
    refs = {
        ref: oid
        for oid, ref in (
            line.split(" ", 1)
            for line in run(
                ["git", "-C", source.repo, "for-each-ref", "--format=%(objectname) %(refname)"]
            ).stdout.splitlines()
        )
    }
    head = run(["git", "-C", source.repo, "rev-parse", "HEAD"]).stdout.strip()
    assert meta["refs"] == refs | {"HEAD": head}
    assert {"refs/notes/qms-receipts", "refs/tags/release-2026", "refs/heads/main"} <= set(refs)
    assert meta["tip"] == head and meta["head"] == "refs/heads/main"
    report = json.loads((archived / "verification.json").read_text())
    assert meta["trust_root"] == report["trust_root"]
    assert meta["commits"] == report["commits"]
    assert meta["manifest_sha256"] == sha256(archived / "manifest.sha256")
    git_version = run(["git", "--version"]).stdout.split()[-1]
    assert meta["tools"]["git"] == git_version
    assert re.fullmatch(r"3\.\d+\.\d+", meta["tools"]["python"])
    assert meta["tools"]["gitqms"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", meta["created"])
    assert meta["site_date"] == "2026-11-21"
    assert (meta["format"], meta["format_version"]) == ("gitqms-archive", 1)


def test_manifest_checks_with_coreutils_sha256sum(archived: Path) -> None:
    result = run(["sha256sum", "-c", "manifest.sha256"], cwd=archived)
    listed = {line.rsplit(": ", 1)[0] for line in result.stdout.splitlines()}
    assert all(line.endswith(": OK") for line in result.stdout.splitlines())
    files = {p.relative_to(archived).as_posix() for p in archived.rglob("*") if p.is_file()} - {
        "manifest.sha256",
        "archive.json",
    }
    assert listed == files


def test_bundle_holds_notes_and_tags_and_restores_with_plain_git_clone(
    source: Demo, archived: Path, tmp_path: Path
) -> None:
    bundle = archived / "repository.bundle"
    heads = run(["git", "bundle", "list-heads", bundle]).stdout
    assert "refs/notes/qms-receipts" in heads and "refs/tags/release-2026" in heads
    clone = tmp_path / "restored"
    run(["git", "clone", "-q", bundle, clone])
    assert (clone / "qms.yaml").read_text() == (source.repo / "qms.yaml").read_text()
    run(["git", "-C", clone, "fetch", "-q", bundle, "refs/notes/*:refs/notes/*"])
    notes = run(["git", "-C", clone, "notes", "--ref=qms-receipts", "list"]).stdout
    assert len(notes.splitlines()) == 1
    readme = (archived / "README.txt").read_text()
    for step in ("sha256sum -c manifest.sha256", "bundle verify", "git clone", "verify-commit"):
        assert step in readme


def test_restore_on_another_machine(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Archive into a folder literally named verify (as ./verify), move the archive elsewhere,
    delete the repository, and verify as another user with another HOME and no git config."""
    demo = copy_demo(pristine_demo(tmp_path_factory), tmp_path_factory.mktemp("machine-a") / "demo")
    add_receipt_and_tag(demo.repo)
    work = demo.folder / "work"
    work.mkdir()
    run([QMS, "-C", demo.repo, "archive", "./verify"], cwd=work)
    assert (work / "verify" / "archive.json").is_file()
    other = tmp_path_factory.mktemp("machine-b")
    shutil.copytree(work / "verify", other / "received")
    shutil.rmtree(demo.folder)
    home = other / "home"
    home.mkdir()
    env = clean_env(HOME=str(home), GIT_CONFIG_GLOBAL=str(home / "none"), XDG_CACHE_HOME="")
    result = run([QMS, "archive", "verify", "received"], cwd=other, env=env, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "archive received: OK" in result.stdout
    for path in (other / "received").rglob("*"):
        if path.is_file() and path.suffix in (".json", ".txt", ".html", ".sha256"):
            assert str(demo.folder) not in path.read_text(errors="replace"), path


# --- what verification catches -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("repository.bundle", ["repository.bundle: changed", "repository.bundle: the history"]),
        ("site/index.html", ["site/index.html: changed"]),
        ("verification.json", ["verification.json: changed"]),
        ("manifest.sha256", ["manifest.sha256"]),
        ("archive.json", ["archive.json"]),
    ],
)
def test_one_changed_byte_fails_and_is_named(copy: Path, name: str, expected: list[str]) -> None:
    flip(copy / name)
    result = verify(copy)
    assert result.returncode == 1, result.stdout
    for words in expected:
        assert words in result.stdout, result.stdout
    assert "difference" in result.stdout.splitlines()[-1]


def test_changed_byte_in_archive_json_value_breaks_its_seal(copy: Path) -> None:
    text = (copy / ARCHIVE_JSON).read_text()
    (copy / ARCHIVE_JSON).write_text(
        text.replace('"site_date": "2026-11-21"', '"site_date": "2026-11-20"')
    )
    result = verify(copy)
    assert result.returncode == 1
    assert "archive.json: its seal does not match its content" in result.stdout


def test_changed_manifest_line_is_named_by_archive_json(copy: Path) -> None:
    rehash_target = copy / "README.txt"
    rehash_target.write_text(rehash_target.read_text() + "edited\n")
    rehash(copy, "README.txt")
    result = verify(copy)
    assert result.returncode == 1
    assert "manifest.sha256: changed (sha256 " in result.stdout
    assert "README.txt" not in result.stdout  # the README's own line matches now


def test_missing_and_extra_files_are_named(copy: Path) -> None:
    (copy / "site" / "404.html").unlink()
    (copy / "site" / "extra.html").write_text("<p>added later</p>")
    result = verify(copy)
    assert result.returncode == 1
    assert "site/404.html: missing" in result.stdout
    assert "site/extra.html: extra file" in result.stdout


def test_tampered_report_with_recomputed_hashes_is_caught_by_reverification(copy: Path) -> None:
    report = json.loads((copy / "verification.json").read_text())
    target = report["signatures"][3]
    target["signer"] = "Someone Else"
    removed = report["signatures"].pop(5)
    (copy / "verification.json").write_text(json.dumps(report, indent=2) + "\n")
    rehash(copy, "verification.json")
    reseal(copy)
    assert run(["sha256sum", "-c", "--quiet", "manifest.sha256"], cwd=copy).returncode == 0
    result = verify(copy)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(
        line.strip().startswith(f"signature {target['commit'][:12]}")
        and 'signer is "Someone Else" in verification.json' in line
        and "the restored history gives" in line
        for line in lines
    ), result.stdout
    assert any(
        line.strip().startswith(f"signature {removed['commit'][:12]}")
        and "in the restored history, not in verification.json" in line
        for line in lines
    ), result.stdout


def test_forged_validity_is_caught(copy: Path) -> None:
    """An attacker turns a valid signature into `invalid` in the report (to hide which ones
    count) and fixes every hash: the restored history still says valid."""
    report = json.loads((copy / "verification.json").read_text())
    victim = report["signatures"][0]
    victim["status"], victim["problems"] = "invalid", ["forged"]
    report["failures"] = 1
    (copy / "verification.json").write_text(json.dumps(report, indent=2) + "\n")
    rehash(copy, "verification.json")
    reseal(copy, invalid=1)
    result = verify(copy)
    assert result.returncode == 1
    assert "verification.json: failures is 1, the restored history gives 0" in result.stdout
    assert f"{victim['commit'][:12]}" in result.stdout
    assert 'status is "invalid" in verification.json' in result.stdout


def test_refs_that_differ_from_the_bundle_are_named(copy: Path) -> None:
    meta = json.loads((copy / ARCHIVE_JSON).read_text())
    refs = dict(meta["refs"])
    refs["refs/heads/main"] = "0" * 40
    refs["refs/heads/gone"] = meta["tip"]
    reseal(copy, refs=refs)
    result = verify(copy)
    assert result.returncode == 1
    assert f"ref refs/heads/main: restored at {meta['tip']}, archive.json says {'0' * 40}" in (
        result.stdout
    )
    assert "ref refs/heads/gone: listed in archive.json" in result.stdout


def test_expected_manifest_fingerprint(copy: Path) -> None:
    digest = sha256(copy / "manifest.sha256")
    assert verify(copy, "--manifest-sha256", digest).returncode == 0
    result = verify(copy, "--manifest-sha256", "f" * 64)
    assert result.returncode == 1
    assert "as written down when the archive was made" in result.stdout


# --- refusals and failures leave nothing behind ------------------------------------------------


def test_non_empty_out_dir_is_refused(source: Demo, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = qms_cli(source.repo, "archive", out, check=False)
    assert result.returncode == 2
    assert "is not empty" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_failed_site_build_leaves_no_out_dir(source: Demo, tmp_path: Path) -> None:
    """A real failure: mkdocs.yml no longer uses the qms plugin, so the site cannot build after
    the bundle and report were written."""
    demo = copy_demo(source, tmp_path / "broken")
    config = demo.repo / "mkdocs.yml"
    config.write_text(re.sub(r"(?m)^\s*- qms\b.*$", "", config.read_text()))
    as_server(demo.repo, "commit", "-q", "--no-gpg-sign", "-am", "site config without the plugin")
    parent = tmp_path / "archives"
    parent.mkdir()
    result = qms_cli(demo.repo, "archive", parent / "out", check=False)
    assert result.returncode == 2
    assert "does not use the qms plugin" in result.stderr
    assert list(parent.iterdir()) == []


def test_interrupted_archive_leaves_an_empty_out_dir_as_it_was(
    source: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C in the middle of the site build (after the bundle was written)."""
    written: list[Path] = []

    def interrupted(root: Path, site_dir: Path, on: object) -> Path:
        written.extend(site_dir.parent.iterdir())
        raise KeyboardInterrupt

    monkeypatch.setattr(archive_create, "build_site", interrupted)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(KeyboardInterrupt):
        archive_create.create_archive(source.repo, out)
    assert {p.name for p in written} >= {"repository.bundle", "verification.json"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert list(out.iterdir()) == []


def test_repository_without_commits_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "empty"
    repo.mkdir()
    run(["git", "init", "-q", repo])
    (repo / "qms.yaml").write_text("organisation: St Aurelia\n")
    result = qms_cli(repo, "archive", tmp_path / "out", check=False)
    assert result.returncode == 2
    assert "has no commits" in result.stderr
    assert not (tmp_path / "out").exists()


def test_command_shape(tmp_path: Path) -> None:
    result = run([QMS, "archive", "verify"], check=False)
    assert result.returncode == 2 and "./verify" in result.stderr
    result = run([QMS, "archive", "verify", tmp_path / "nothing"], check=False)
    assert result.returncode == 2 and "is not a folder" in result.stderr
    result = run([QMS, "archive", "--help"])
    assert "qms archive verify DIR" in result.stdout and "./verify" in result.stdout
