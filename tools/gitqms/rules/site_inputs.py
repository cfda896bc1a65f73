"""The site's inputs (mkdocs.yml and its docs folder) are controlled like qms.yaml: every commit
of a range that changes them must say why in a 'Reason:' trailer. (A merge brings its branch's
commits, each checked on its own.) And every such commit after the trust root must be signed by a
person whose key the registry at its parent holds: the site is published under the QMS's name, so
who changed it must be proven, not stated."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import git
from ..history.commits import Commit, CommitFormatError, parse_commit
from ..signatures.verify import Walk
from .reason import site_inputs


@dataclass(frozen=True)
class SiteChange:
    commit_id: str
    path: str  # mkdocs.yml, or the docs folder with a trailing slash
    commit: Commit | None  # None when the object does not read as a commit


def site_changes(root: Path, base: str | None, head: str) -> list[SiteChange]:
    """Each commit of BASE..HEAD that changes a site input, read once for both rules."""
    prefix = git.show_prefix(root)
    revisions = [f"{base}..{head}" if base else head]
    pairs = [
        (commit, path)
        for path in site_inputs(root, head)  # what the commit-msg hook asks a Reason for too
        for commit in git.commits_changing(root, revisions, [f"{prefix}{path}"])
    ]
    raws = {name: raw for name, _, raw in git.cat_objects(root, sorted({c for c, _ in pairs}))}
    return [SiteChange(commit, path, _parsed(commit, raws.get(commit))) for commit, path in pairs]


def _parsed(commit_id: str, raw: bytes | None) -> Commit | None:
    try:
        return parse_commit(commit_id, raw) if raw is not None else None
    except CommitFormatError:
        return None


def unsigned_site_changes(walk: Walk, changes: list[SiteChange]) -> list[tuple[str, str, str]]:
    """(commit, path, why) for each non-merge change after the trust root that is not signed by
    a person registered at its parent."""
    found: list[tuple[str, str, str]] = []
    for change in changes:
        commit = change.commit
        if commit is None:
            found.append((change.commit_id, change.path, "cannot be read as a commit"))
            continue
        if len(commit.parents) != 1:
            continue  # the root commit, or a merge: its branch's commits are checked
        registry = walk.registry_at(commit.parents[0])
        if registry is None:
            continue  # before the trust root: nothing is judged there
        if commit.signature is None:
            found.append((change.commit_id, change.path, "is not signed"))
        elif walk.signer(commit, registry) is None:
            why = "is not signed by a registered person's valid key"
            found.append((change.commit_id, change.path, why))
    return found


def unexplained_site_changes(changes: list[SiteChange]) -> list[tuple[str, str]]:
    """(commit, path) for each change with no Reason."""
    return [
        (change.commit_id, change.path)
        for change in changes
        if change.commit is None or not change.commit.gives_reason
    ]
