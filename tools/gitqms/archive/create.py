"""`qms archive OUT_DIR`: write an archive of a repository, all or nothing.

Everything is written to a staging folder beside OUT_DIR and renamed into place at the end; a
failure or an interrupt removes the staging folder, so OUT_DIR either holds a whole archive or
is as it was.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from .. import __version__, clock, git
from ..errors import QmsError
from ..history.boundaries import cut_history
from ..site.build import build_site
from . import (
    ARCHIVE_JSON,
    BUNDLE,
    FORMAT,
    FORMAT_VERSION,
    README,
    REPORT_JSON,
    REPORT_TEXT,
    SEAL,
    SITE,
    manifest,
    render_archive_json,
    seal,
)
from .readme import readme_text
from .report import render_json, render_text, verification_report


@dataclass(frozen=True, kw_only=True)
class Created:
    folder: Path
    tip: str
    refs: dict[str, str]
    commits: int
    signatures: int
    invalid: int
    files: int  # listed in the manifest
    manifest_sha256: str


def create_archive(root: Path, out_dir: Path, on: date | None = None) -> Created:
    """Archive the repository at `root` into `out_dir` (absent or empty); the site shows the
    status as of `on` (default: today, UTC)."""
    target = Path(os.path.abspath(out_dir))
    _check_target(target)
    if git.rev_parse(root, "HEAD^{commit}") is None:
        if not git.all_refs(root):
            raise QmsError(
                f"{root} has no commits, so there is nothing to archive",
                hint="commit the records first (qms init makes the first signed commit)",
            )
        raise QmsError(
            f"HEAD of {root} names no commit, so there is no tip to archive",
            hint="check out the branch to archive (git switch main)",
        )
    cut = cut_history(git.history_boundaries(root))
    if cut is not None:  # a bundle of it would not restore, or not be the history as committed
        raise QmsError(f"{cut[0]}; an archive keeps the whole history", hint=cut[1])
    changed = git.tracked_changes(root)
    if changed:
        raise QmsError(
            f"{root} has uncommitted changes to tracked files ({', '.join(changed[:3])}"
            + (", ..." if len(changed) > 3 else "")
            + "); the site would not be the archived tip's",
            hint="commit or discard them, then archive again",
        )
    on = clock.day_or_today(on)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.staging-", dir=target.parent))
    except OSError as error:
        raise QmsError(
            f"cannot write in {target.parent}: {error.strerror}",
            hint="choose an OUT_DIR in a folder you can write to",
        ) from None
    try:
        mask = os.umask(0)
        os.umask(mask)
        staging.chmod(0o777 & ~mask)  # as a folder made by mkdir: readable by whom it should be
        created = _write(root, staging, target, on)
        _move_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return created


def _check_target(target: Path) -> None:
    if not target.parent.is_dir():
        raise QmsError(
            f"{target.parent} does not exist, so the archive cannot be written there",
            hint="create that folder first, or choose another OUT_DIR",
        )
    if target.exists() and not target.is_dir():
        raise QmsError(f"{target} exists and is not a folder", hint="choose another OUT_DIR")
    if target.is_dir() and any(target.iterdir()):
        raise QmsError(
            f"{target} is not empty; an archive is never written over another folder's files",
            hint="choose a new or empty OUT_DIR",
        )


def _write(root: Path, staging: Path, target: Path, on: date) -> Created:
    git.bundle_create(root, staging / BUNDLE)
    refs = git.bundle_heads(staging, staging / BUNDLE)
    tip = refs.get("HEAD")
    if tip is None:
        raise QmsError(f"HEAD of {root} names no commit", hint="check out a branch")
    # The report and the site are made from the bundle's own history, never from the working
    # folder or its derived caches: an untracked docs/ page is not part of the archived history,
    # and what `qms archive verify` recomputes from the bundle must be what was written.
    with tempfile.TemporaryDirectory(prefix="qms-archive-tip-") as scratch:
        checkout = Path(scratch) / "tip"
        checkout.mkdir()
        git.checkout_from_bundle(staging / BUNDLE, tip, checkout)
        report = verification_report(checkout, tip, None)
        if report["trust_root"] is None:
            raise QmsError(
                f"the history of {root} has no trust root (no commit introduces qms.yaml)",
                hint="run `qms verify` to see why; an archive must be verifiable",
            )
        (staging / REPORT_JSON).write_bytes(render_json(report))
        (staging / REPORT_TEXT).write_bytes(render_text(report, tip))
        build_site(checkout, staging / SITE, on)
    if git.rev_parse(root, "HEAD^{commit}") != tip:
        raise QmsError(
            f"HEAD of {root} moved while the archive was written; nothing was kept",
            hint="archive again when no one is committing",
        )
    head = git.symbolic_head(root)
    (staging / README).write_text(
        readme_text(tip, head, report["trust_root"], report["commits"]), encoding="utf-8"
    )
    listing = manifest.write(staging)
    value: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tools": {
            "gitqms": __version__,
            "git": git.version(root),
            "python": platform.python_version(),
        },
        "tip": tip,
        "head": head,
        "refs": refs,
        "trust_root": report["trust_root"],
        "site_date": on.isoformat(),
        "commits": report["commits"],
        "signatures": len(report["signatures"]),
        "invalid": report["failures"],
        "manifest_sha256": hashlib.sha256(listing).hexdigest(),
    }
    value[SEAL] = seal(value)
    (staging / ARCHIVE_JSON).write_bytes(render_archive_json(value))
    return Created(
        folder=target,
        tip=tip,
        refs=refs,
        commits=report["commits"],
        signatures=len(report["signatures"]),
        invalid=report["failures"],
        files=listing.count(b"\n"),
        manifest_sha256=value["manifest_sha256"],
    )


def _move_into_place(staging: Path, target: Path) -> None:
    """Rename the finished archive to `target` (an empty folder there is replaced)."""
    try:
        os.rename(staging, target)
    except OSError as error:
        raise QmsError(
            f"the archive could not be moved to {target}: {error.strerror}; nothing was kept",
            hint="check that OUT_DIR is still empty and on the same file system as its parent",
        ) from None
