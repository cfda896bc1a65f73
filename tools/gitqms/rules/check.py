"""`qms check BASE..HEAD`: what a range of commits may and may not do. The one gate that CI
and the server hook call.

The rules are applied to the commits of the range, each against its first parent and the
trusted qms.yaml in force there (gate.py, record_rules.py), by a walk of the history up to HEAD
(separation of duties and the trusted registry need it). On a fresh clone that walk is narrow:
it reads in full only what the range depends on (depends.py) and gives the full walk's
verdicts; a stored history index makes the full walk cheaper still (signatures/scope.py).
Everything is read from Git objects, so the gate also runs in a bare repository on the server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .. import git
from ..errors import QmsError
from ..history.commits import CommitFormatError, parse_commit
from ..signatures import scope
from ..signatures.claims import content_hash, read_claims
from ..signatures.verify import walk_history, walk_narrow
from .depends import range_depends
from .gate import Gate
from .site_inputs import site_changes, unexplained_site_changes, unsigned_site_changes
from .violations import Violation


@dataclass
class CheckReport:
    base: str | None
    head: str
    commits: int
    violations: list[Violation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    scope: str = "full"  # which walk judged it: "narrow" (depends.py) or "full"

    @property
    def errors(self) -> list[Violation]:
        return [v for v in self.violations if v.severity == "error"]


def parse_range(root: Path, spec: str) -> tuple[str | None, str]:
    """'BASE..HEAD' -> (base, head) as commit ids; a single revision means its whole history."""
    base_name, dots, head_name = spec.partition("..")
    if not dots:
        base_name, head_name = "", spec
    if head_name.startswith("."):
        raise QmsError(f"{spec!r} is not a range", hint="write BASE..HEAD (two dots)")
    head = git.rev_parse(root, f"{head_name or 'HEAD'}^{{commit}}")
    base = git.rev_parse(root, f"{base_name}^{{commit}}") if base_name else None
    if head is None or (base_name and base is None):
        raise QmsError(
            f"{spec!r} does not name commits of this repository",
            hint="write BASE..HEAD, for example origin/main..HEAD",
        )
    return base, head


def check_range(root: Path, spec: str) -> CheckReport:
    base, head = parse_range(root, spec)
    in_range = set(git.rev_list(root, [f"{base}..{head}" if base else head]))
    narrow = base is not None and scope.narrow_wanted(root, head)
    report = _judge(root, base, head, in_range, narrow=narrow)
    if report.scope == "narrow":
        scope.confirm(
            f"qms check {spec}",
            report,
            lambda: _judge(root, base, head, in_range, narrow=False),
            key=lambda r: (r.violations, r.notes),
        )
    return report


def _judge(
    root: Path, base: str | None, head: str, in_range: set[str], *, narrow: bool
) -> CheckReport:
    """The report of the range, from the narrow walk of what it depends on (depends.py) where
    that applies, else from the full walk."""
    walk = None
    if narrow and base is not None:
        walk = walk_narrow(root, head, lambda: range_depends(root, base, head, in_range))
    judged_by = "full" if walk is None else "narrow"
    walk = walk or walk_history(root, [head])
    gate = Gate(root, walk, in_range)
    gate.run()
    notes = list(walk.report.notes)
    report = CheckReport(base, head, len(in_range), gate.violations, notes, judged_by)
    report.violations.extend(_lost_signatures(root, head, gate.at_head))
    changed_site = site_changes(root, base, head)  # the site's inputs
    for commit, path in unexplained_site_changes(changed_site):
        report.violations.append(
            Violation(
                commit,
                None,
                "site.reason",
                f"the change to {path} has no 'Reason:' trailer (the site's inputs are controlled)",
                "amend the commit message with a line 'Reason: why this changed' "
                "(git commit --amend --no-edit --trailer 'Reason: …') before it is merged",
            )
        )
    for commit, path, why in unsigned_site_changes(walk, changed_site):
        report.violations.append(
            Violation(
                commit,
                None,
                "site.unsigned",
                f"the change to {path} {why} (the site's inputs are controlled: who changed "
                "them must be proven by a signature)",
                "commit it again signed with your registered key (git commit -S) before it is "
                "merged",
            )
        )
    return report


def _lost_signatures(root: Path, head: str, at_head: Mapping[str, bytes]) -> list[Violation]:
    """Signatures made on another branch for content that reached HEAD without them: what a
    squash or rebase merge does to approvals."""
    off = git.commits_off(root, head)
    if not off or not at_head:
        return []
    hashes = {record: content_hash(content) for record, content in at_head.items()}
    found = []
    for name, kind, raw in git.cat_objects(root, off):
        if kind != "commit":
            continue
        try:
            claims = read_claims(parse_commit(name, raw))
        except CommitFormatError:
            continue
        for claim in claims.claims if claims else ():
            if hashes.get(claim.record) == claim.content:
                found.append(
                    Violation(
                        name,
                        claim.record,
                        "signature.not-merged",
                        f"the signature '{claim.meaning}' for {claim.record} in commit "
                        f"{name[:12]} is not in HEAD's history, though HEAD holds the content "
                        "it signed (a squash or rebase merge drops signatures)",
                        "merge the branch with a merge commit (git merge --no-ff), never squash "
                        "or rebase signed work",
                        "warning",
                    )
                )
    return found
