"""The site's inputs (mkdocs.yml and its docs folder) are controlled like qms.yaml: every commit
of a range that changes them must say why in a 'Reason:' trailer. (A merge brings its branch's
commits, each checked on its own.) And every such commit after the trust root must be signed by a
person whose key the registry at its parent holds: the site is published under the QMS's name, so
who changed it must be proven, not stated."""

from __future__ import annotations

import contextlib
from pathlib import Path

from .. import git
from ..errors import QmsError
from ..reports.site_inputs import CONFIG, docs_folder
from ..signatures.commits import CommitFormatError, parse_commit
from ..signatures.verify import Walk


def _changing(root: Path, base: str | None, head: str) -> list[tuple[str, str]]:
    """(commit, path) for each commit of BASE..HEAD that changes a site input."""
    prefix = git.show_prefix(root)
    folders = {"docs"}
    with contextlib.suppress(QmsError):  # an unreadable configuration is the build's to refuse
        folders.add(docs_folder(root, head))
    revisions = [f"{base}..{head}" if base else head]
    return [
        (commit, path)
        for path in (CONFIG, *(f"{folder}/" for folder in sorted(folders)))
        for commit in git.commits_changing(root, revisions, [f"{prefix}{path}"])
    ]


def unsigned_site_changes(
    root: Path, walk: Walk, base: str | None, head: str
) -> list[tuple[str, str, str]]:
    """(commit, path, why) for each non-merge commit of BASE..HEAD after the trust root that
    changes a site input and is not signed by a person registered at its parent."""
    changes = _changing(root, base, head)
    raws = _raw_commits(root, changes)
    found: list[tuple[str, str, str]] = []
    for commit_id, path in changes:
        try:
            commit = parse_commit(commit_id, raws[commit_id])
        except (CommitFormatError, KeyError):
            found.append((commit_id, path, "cannot be read as a commit"))
            continue
        if len(commit.parents) != 1:
            continue  # the root commit, or a merge: its branch's commits are checked
        registry = walk.registry_at(commit.parents[0])
        if registry is None:
            continue  # before the trust root: nothing is judged there
        if commit.signature is None:
            found.append((commit_id, path, "is not signed"))
        elif walk.signer(commit, registry) is None:
            found.append((commit_id, path, "is not signed by a registered person's valid key"))
    return found


def unexplained_site_changes(root: Path, base: str | None, head: str) -> list[tuple[str, str]]:
    """(commit, path) for each commit of BASE..HEAD that changes a site input with no Reason."""
    changes = _changing(root, base, head)
    raws = _raw_commits(root, changes)
    found: list[tuple[str, str]] = []
    for commit, path in changes:
        try:
            explained = parse_commit(commit, raws[commit]).gives_reason
        except (CommitFormatError, KeyError):
            explained = False
        if not explained:
            found.append((commit, path))
    return found


def _raw_commits(root: Path, changes: list[tuple[str, str]]) -> dict[str, bytes]:
    return {name: raw for name, _, raw in git.cat_objects(root, sorted({c for c, _ in changes}))}
