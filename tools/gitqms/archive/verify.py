"""`qms archive verify DIR`: restore an archive into a temporary repository and compare.

Nothing outside DIR is used: no original repository, no path from it. Nothing in DIR is taken
on trust that the manifest does not cover: archive.json (which the manifest cannot list, as it
holds the manifest's sha256) must be byte for byte as gitqms writes it and match its own seal,
and each of its values is checked against what the bundle restores. The trust root used is the
one in verification.json, which the manifest covers.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import git
from ..errors import QmsError
from . import (
    ARCHIVE_JSON,
    BUNDLE,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    README,
    REPORT_JSON,
    REPORT_TEXT,
    SEAL,
    SITE,
    manifest,
    render_archive_json,
    seal,
)
from .report import render_json, render_text, verification_report

REQUIRED = (BUNDLE, REPORT_JSON, REPORT_TEXT, README, f"{SITE}/index.html")
_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


@dataclass
class Checked:
    folder: Path
    differences: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # what was found sound, for the report

    @property
    def ok(self) -> bool:
        return not self.differences


def verify_archive(folder: Path, expected_manifest: str | None = None) -> Checked:
    """Every check of the archive in `folder`; `expected_manifest` is the manifest's sha256 as
    written down elsewhere when the archive was made (the one anchor outside the archive)."""
    if not folder.is_dir():
        raise QmsError(f"{folder} is not a folder", hint="give the folder `qms archive` wrote")
    result = Checked(folder)
    entries, digest = _check_manifest(folder, result, expected_manifest)
    meta = _check_archive_json(folder, result, digest)
    if entries is not None:
        _check_files(folder, entries, result)
    archived = _load_report(folder, result)
    with tempfile.TemporaryDirectory(prefix="qms-archive-verify-") as scratch:
        restored = _restore(folder / BUNDLE, Path(scratch), result)
        if restored is not None:
            tip = _check_refs(restored, meta, result)
            if tip is not None:
                _reverify(folder, restored, tip, meta, archived, result)
    return result


def _check_manifest(
    folder: Path, result: Checked, expected: str | None
) -> tuple[dict[str, str] | None, str | None]:
    path = folder / MANIFEST
    if not path.is_file():
        result.differences.append(f"{MANIFEST}: missing; no file of the archive can be checked")
        return None, None
    content = path.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    if expected is not None and expected.lower() != digest:
        result.differences.append(
            f"{MANIFEST}: sha256 {digest}, not {expected.lower()} as written down when the "
            "archive was made"
        )
    entries, problems = manifest.parse(content)
    result.differences += problems
    for name in REQUIRED:
        if name not in entries:
            result.differences.append(f"{name}: not listed in {MANIFEST}")
    return entries, digest


def _check_archive_json(folder: Path, result: Checked, digest: str | None) -> dict[str, Any]:
    path = folder / ARCHIVE_JSON
    if not path.is_file():
        result.differences.append(f"{ARCHIVE_JSON}: missing")
        return {}
    content = path.read_bytes()
    try:
        value = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        result.differences.append(f"{ARCHIVE_JSON}: not valid JSON ({error})")
        return {}
    if not isinstance(value, dict):
        result.differences.append(f"{ARCHIVE_JSON}: not a JSON object")
        return {}
    if content != render_archive_json(value):
        result.differences.append(
            f"{ARCHIVE_JSON}: its bytes are not as gitqms wrote them (the file was edited)"
        )
    if value.get(SEAL) != seal(value):
        result.differences.append(
            f"{ARCHIVE_JSON}: its seal does not match its content (a value was changed after "
            "the archive was made)"
        )
    if value.get("format") != FORMAT or value.get("format_version") != FORMAT_VERSION:
        result.differences.append(
            f"{ARCHIVE_JSON}: format {value.get('format')!r} version "
            f"{value.get('format_version')!r}, this gitqms reads {FORMAT!r} version "
            f"{FORMAT_VERSION}"
        )
    listed = value.get("manifest_sha256")
    if digest is not None and listed != digest:
        result.differences.append(
            f"{MANIFEST}: changed (sha256 {digest}, {ARCHIVE_JSON} says {listed})"
        )
    return value


def _check_files(folder: Path, entries: dict[str, str], result: Checked) -> None:
    differences = manifest.compare(folder, entries)
    result.differences += differences
    if not differences:
        result.checked.append(f"{len(entries)} files match {MANIFEST}")


def _load_report(folder: Path, result: Checked) -> dict[str, Any] | None:
    path = folder / REPORT_JSON
    if not path.is_file():
        return None  # named as missing by the manifest check
    try:
        value = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        result.differences.append(f"{REPORT_JSON}: not valid JSON ({error})")
        return None
    if not isinstance(value, dict):
        result.differences.append(f"{REPORT_JSON}: not a JSON object")
        return None
    return value


def _restore(bundle: Path, scratch: Path, result: Checked) -> Path | None:
    """The bundle cloned (every ref) into a bare repository in `scratch`, or None."""
    if not bundle.is_file():
        result.differences.append(f"{BUNDLE}: missing; the history cannot be restored")
        return None
    bundle = bundle.resolve()
    empty = scratch / "empty.git"
    git.init_bare(empty)
    problem = git.bundle_problem(bundle, empty)
    if problem is not None:
        result.differences.append(f"{BUNDLE}: git bundle verify fails: {problem}")
    restored = scratch / "restored.git"
    problem = git.clone_mirror_problem(bundle, restored)
    if problem is not None:
        result.differences.append(f"{BUNDLE}: the history does not restore: {problem}")
        return None
    problem = git.fsck_problem(restored)
    if problem is not None:
        result.differences.append(f"{BUNDLE}: git fsck of the restored history fails: {problem}")
    return restored


def _check_refs(restored: Path, meta: dict[str, Any], result: Checked) -> str | None:
    """Compare the restored refs with archive.json's; the restored HEAD commit, if any."""
    refs = git.all_refs(restored)
    for ref in sorted(r for r in refs if r.startswith(git.REPLACE_REFS)):
        result.differences.append(
            f"ref {ref}: a replace ref, with which plain git shows {refs[ref]} in place of "
            f"{ref.removeprefix(git.REPLACE_REFS)}; gitqms never archives one (the bundle "
            "was changed)"
        )
    listed = meta.get("refs")
    if not isinstance(listed, dict):
        if meta:
            result.differences.append(f"{ARCHIVE_JSON}: no refs listed")
    else:
        before = len(result.differences)
        for ref in sorted(listed.keys() | refs.keys()):
            archived, found = listed.get(ref), refs.get(ref)
            if archived is None:
                result.differences.append(
                    f"ref {ref}: restored at {found}, not listed in {ARCHIVE_JSON}"
                )
            elif found is None:
                result.differences.append(
                    f"ref {ref}: listed in {ARCHIVE_JSON} at {archived}, not in the bundle"
                )
            elif archived != found:
                result.differences.append(
                    f"ref {ref}: restored at {found}, {ARCHIVE_JSON} says {archived}"
                )
        if len(result.differences) == before:
            result.checked.append(
                f"{len(refs)} refs restored from {BUNDLE}, as {ARCHIVE_JSON} lists them"
            )
    tip = refs.get("HEAD")
    if tip is None:
        result.differences.append(f"{BUNDLE}: the restored history has no HEAD commit")
        return None
    if meta and meta.get("tip") != tip:
        result.differences.append(
            f"{ARCHIVE_JSON}: tip {meta.get('tip')}, the restored HEAD is {tip}"
        )
    head = meta.get("head")
    if head is not None and (not isinstance(head, str) or refs.get(head) != tip):
        result.differences.append(
            f"{ARCHIVE_JSON}: head {_show(head)} is not a restored ref at the tip {tip}"
        )
    return tip


def _reverify(
    folder: Path,
    restored: Path,
    tip: str,
    meta: dict[str, Any],
    archived: dict[str, Any] | None,
    result: Checked,
) -> None:
    root = archived.get("trust_root") if archived else None
    if meta and meta.get("trust_root") != root:
        result.differences.append(
            f"{ARCHIVE_JSON}: trust root {meta.get('trust_root')}, {REPORT_JSON} says {root}"
        )
    if not isinstance(root, str) or not _OBJECT_ID.fullmatch(root):
        result.differences.append(
            f"{REPORT_JSON}: no trust root to re-verify the signatures with ({root!r})"
        )
        return
    try:
        report = verification_report(restored, tip, root)
    except QmsError as error:
        result.differences.append(f"the restored history cannot be verified: {error}")
        return
    differences = compare_reports(archived or {}, report) if archived is not None else []
    result.differences += differences
    _check_totals(meta, report, result)
    if archived is not None and not differences:
        if (folder / REPORT_JSON).read_bytes() != render_json(report):
            result.differences.append(
                f"{REPORT_JSON}: same verdicts, but its bytes differ from the report of the "
                "restored history (the file was edited)"
            )
        else:
            result.checked.append(
                f"{len(report['signatures'])} signatures ({report['failures']} invalid) in "
                f"{report['commits']} commits re-verified from the trust root {root[:12]}: "
                f"every verdict as in {REPORT_JSON}"
            )
    text = folder / REPORT_TEXT
    if text.is_file() and text.read_bytes() != render_text(report, tip):
        result.differences.append(_text_difference(text.read_bytes(), render_text(report, tip)))


def _check_totals(meta: dict[str, Any], report: dict[str, Any], result: Checked) -> None:
    """archive.json's counts against the restored history's: the manifest cannot cover them,
    so a resealed archive.json must not get to say other numbers than the history gives."""
    if not meta:
        return
    restored = {
        "commits": report["commits"],
        "signatures": len(report["signatures"]),
        "invalid": report["failures"],
    }
    for name, value in restored.items():
        if meta.get(name) != value:
            result.differences.append(
                f"{ARCHIVE_JSON}: {name} is {_show(meta.get(name))}, the restored history "
                f"gives {value}"
            )


def compare_reports(archived: dict[str, Any], restored: dict[str, Any]) -> list[str]:
    """Each difference between the archived report and the restored history's, by name: which
    total, or which signature (commit, record, meaning) and which of its values."""
    differences = []
    for total in ("commits", "trust_root", "failures", "notes", "date_flags"):
        if archived.get(total) != restored.get(total):
            differences.append(
                f"{REPORT_JSON}: {total} is {_show(archived.get(total))}, the restored history "
                f"gives {_show(restored.get(total))}"
            )
    signatures = archived.get("signatures")
    if not isinstance(signatures, list) or not all(isinstance(s, dict) for s in signatures):
        return [*differences, f"{REPORT_JSON}: signatures is not a list of verdicts"]
    old, new = _keyed(signatures), _keyed(restored["signatures"])
    for key, verdict in new.items():
        before = old.get(key)
        if before is None:
            differences.append(f"{_name(verdict)}: in the restored history, not in {REPORT_JSON}")
            continue
        for name in sorted(before.keys() | verdict.keys()):
            if before.get(name) != verdict.get(name):
                differences.append(
                    f"{_name(verdict)}: {name} is {_show(before.get(name))} in {REPORT_JSON}, "
                    f"the restored history gives {_show(verdict.get(name))}"
                )
    for key in old.keys() - new.keys():
        differences.append(f"{_name(old[key])}: in {REPORT_JSON}, not in the restored history")
    if not differences and list(old) != list(new):
        differences.append(f"{REPORT_JSON}: the signatures are listed in another order")
    return differences


def _key(verdict: dict[str, Any]) -> tuple[str, str, str]:
    return (str(verdict.get("commit")), str(verdict.get("record")), str(verdict.get("meaning")))


def _keyed(signatures: list[dict[str, Any]]) -> dict[tuple[str, str, str, int], dict[str, Any]]:
    keyed: dict[tuple[str, str, str, int], dict[str, Any]] = {}
    seen: dict[tuple[str, str, str], int] = {}
    for verdict in signatures:
        key = _key(verdict)
        seen[key] = seen.get(key, 0) + 1
        keyed[(*key, seen[key])] = verdict
    return keyed


def _name(verdict: dict[str, Any]) -> str:
    version = f" v{verdict.get('version')}" if verdict.get("version") else ""
    return (
        f"signature {str(verdict.get('commit'))[:12]} ({verdict.get('record')}{version} "
        f"{verdict.get('meaning')} by {verdict.get('signer')})"
    )


def _show(value: object) -> str:
    shown = json.dumps(value, ensure_ascii=True)
    return shown if len(shown) <= 120 else shown[:117] + "..."


def _text_difference(archived: bytes, restored: bytes) -> str:
    old = archived.decode("utf-8", "replace").splitlines()
    new = restored.decode("utf-8", "replace").splitlines()
    for number, (before, after) in enumerate(zip(old, new, strict=False), start=1):
        if before != after:
            return (
                f"{REPORT_TEXT}: line {number} is {_show(before)}, the restored history gives "
                f"{_show(after)}"
            )
    return f"{REPORT_TEXT}: {len(old)} lines, the restored history's report has {len(new)}"
