"""The site's inputs (mkdocs.yml and its docs folder) are controlled like qms.yaml: every commit
of a range that changes them must say why in a 'Reason:' trailer. (A merge brings its branch's
commits, each checked on its own.)"""

from __future__ import annotations

import contextlib
from pathlib import Path

from .. import git
from ..errors import QmsError
from ..reports.site_inputs import CONFIG, docs_folder
from ..signatures.claims import REASON
from ..signatures.commits import CommitFormatError, parse_commit


def unexplained_site_changes(root: Path, base: str | None, head: str) -> list[tuple[str, str]]:
    """(commit, path) for each commit of BASE..HEAD that changes a site input with no Reason."""
    prefix = git.show_prefix(root)
    folders = {"docs"}
    with contextlib.suppress(QmsError):  # an unreadable configuration is the build's to refuse
        folders.add(docs_folder(root, head))
    revisions = [f"{base}..{head}" if base else head]
    found: list[tuple[str, str]] = []
    for path in (CONFIG, *(f"{folder}/" for folder in sorted(folders))):
        commits = git.commits_changing(root, revisions, [f"{prefix}{path}"])
        for commit, _, raw in git.cat_objects(root, commits):
            try:
                reason = parse_commit(commit, raw).trailer_values(REASON)
            except CommitFormatError:
                reason = []
            if not (reason and reason[-1].strip()):
                found.append((commit, path))
    return found
