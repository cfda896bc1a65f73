"""An import put into the repository: every file in place at once or none, or one signed commit."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from .. import git
from ..errors import QmsError, Refused
from ..landing import land
from ..records.migration import MIGRATED_MEANING
from ..records.repository import Repository
from .plan import ImportPlan


def refuse_existing(root: Path, files: Mapping[str, str]) -> None:
    for path in files:
        if (root / path).exists() or (root / path).is_symlink():
            raise QmsError(f"{path} already exists; nothing was written")


def write_files(root: Path, files: Mapping[str, str]) -> list[Path]:
    """Every file staged first, then linked into place; if any cannot be, none stays.
    Returns the folders it made."""
    refuse_existing(root, files)
    staging = Path(tempfile.mkdtemp(prefix=".qms-import-", dir=root))
    placed: list[Path] = []
    made: list[Path] = []
    try:
        for index, text in enumerate(files.values()):
            staged = staging / str(index)
            with open(staged, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        for index, path in enumerate(files):
            target = root / path
            if not target.parent.is_dir():
                target.parent.mkdir(parents=True)
                made.append(target.parent)
            os.link(staging / str(index), target)  # fails if the file appeared meanwhile
            placed.append(target)
    except BaseException:
        for target in placed:
            target.unlink(missing_ok=True)
        for folder in reversed(made):
            shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return made


# The kinds whose imported records are signed 'migrated' (they may arrive past their initial
# state); a training session arrives as a draft, for its trainer to sign.
SIGNED_ON_IMPORT = ("capa", "deviation")


def place_import(repo: Repository, plan: ImportPlan, reason: str | None, now: datetime) -> None:
    """Put a planned import into the repository: with a `reason` (qms import --commit) and
    records to sign, as one signed commit named in the report; otherwise as files on disk."""
    if reason is not None and plan.records:
        plan.report.commit = commit_import(repo, plan, reason, now)
    else:
        write_files(repo.root, plan.files)


def commit_import(repo: Repository, plan: ImportPlan, reason: str, now: datetime) -> str:
    """One commit with every file of the import, signed 'migrated' for each record with states
    (a CAPA, a deviation; not a document), one signature claim per record, bound to its exact
    bytes; checked like `qms check`."""
    from ..actions.sign import current_signer, head, plan_record_signatures
    from ..history.commits import format_trailers
    from ..rules.check import check_range
    from ..signatures.claims import is_document, trailer_lines
    from ..signatures.verify import walk_to_sign

    root = repo.root
    base = head(root)
    prefix = git.show_prefix(root)
    walk, registry = walk_to_sign(root, base.commit)
    signer = current_signer(root, registry, now)
    signed = {
        record: plan.files[path].encode("utf-8")
        for record, path in plan.records.items()
        if not is_document(record) and plan.report.kind in SIGNED_ON_IMPORT
    }
    if signed and MIGRATED_MEANING not in registry.config.signatures.get(plan.report.kind, {}):
        raise QmsError(
            f"the signature policy in qms.yaml has no meaning '{MIGRATED_MEANING}' for "
            f"{plan.report.kind} records",
            hint=f"an admin adds it under signatures: {plan.report.kind}: "
            f"{MIGRATED_MEANING}: {{roles: [qa-manager]}}",
        )
    claims = (
        plan_record_signatures(
            walk, base, signed, MIGRATED_MEANING, signer, registry, state_change=True
        )
        if signed
        else []
    )
    blobs = {
        f"{prefix}{path}": git.hash_blob(root, text.encode("utf-8"))
        for path, text in plan.files.items()
    }
    tree = git.tree_with_files(root, base.tree, blobs)
    sources = ", ".join(f.source for f in plan.report.files)
    subject = f"Migrated: {len(plan.records)} legacy {plan.report.kind} record(s) from {sources}"
    subject = " ".join(subject.split())[:200]
    trailers = trailer_lines(claims, reason) if claims else [("Reason", reason)]
    message = f"{subject}\n\n{format_trailers(trailers)}\n"
    new = git.commit_tree_signed(root, tree, [base.commit], message)
    report = check_range(root, f"{base.commit}..{new}")
    if report.errors:
        raise Refused(
            "the import would not pass `qms check`, so nothing was recorded:\n  "
            + "\n  ".join(f"[{v.rule}] {v.record}: {v.message}" for v in report.errors)
        )
    refuse_existing(root, plan.files)
    files = {f"{prefix}{path}": text.encode("utf-8") for path, text in plan.files.items()}
    land(root, base.ref, base.commit, new, files, f"qms: {subject}")
    return new
