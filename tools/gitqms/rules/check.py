"""`qms check BASE..HEAD`: what a range of commits may and may not do. The one gate that CI
and the server hook call.

The whole history up to HEAD is verified (separation of duties and the trusted registry need
it); the rules are applied to the commits of the range, each against its first parent and the
trusted qms.yaml in force there. Everything is read from Git objects, so the gate also runs in
a bare repository on the server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .. import git
from ..errors import QmsError
from ..history.commits import CommitFormatError, parse_commit
from ..history.read import NOT_A_FILE_FIX, Step, not_a_file, record_blobs
from ..lifecycle.signed import extension_signed, investigation_extension, signed_contents
from ..records.config import CONFIG_FILE, QmsConfig
from ..records.kinds import BY_NAME, REVIEW_MEANING, kind_of_id
from ..records.lifecycles import EXTENSION_MEANING
from ..records.migration import MIGRATED_MEANING, MIGRATION_FIELD
from ..records.repository import RecordFile
from ..safeyaml import LoadError, decode_record_bytes
from ..signatures.claims import content_hash, read_claims, record_data
from ..signatures.verify import AUTHORED, Verdict, Walk, walk_history
from ..validation.run import check_record_text
from ..validation.semantic import Context
from .site_inputs import site_changes, unexplained_site_changes, unsigned_site_changes

Severity = Literal["error", "warning"]
Approvals = dict[str, tuple[Verdict, ...]]  # SOP -> its valid approvals, in order


@dataclass(frozen=True)
class Violation:
    commit: str
    record: str | None
    rule: str
    message: str
    fix: str
    severity: Severity = "error"

    def to_json(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "record": self.record,
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "fix": self.fix,
        }


@dataclass
class CheckReport:
    base: str | None
    head: str
    commits: int
    violations: list[Violation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

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
    walk = walk_history(root, [head])
    gate = _Gate(root, walk, in_range)
    gate.run()
    report = CheckReport(base, head, len(in_range), gate.violations, list(walk.report.notes))
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


class _Gate:
    def __init__(self, root: Path, walk: Walk, in_range: set[str]) -> None:
        self.root = root
        self.walk = walk
        self.history = walk.history
        self.in_range = in_range
        self.violations: list[Violation] = []
        self.reported: set[tuple[str | None, str, str]] = set()
        self.released: dict[str, Approvals] = {}
        self.touched: dict[str, str] = {}  # record -> the last commit in range that changed it
        self.verdicts: dict[str, list[Verdict]] = {}
        for verdict in walk.report.verdicts:
            self.verdicts.setdefault(verdict.commit, []).append(verdict)
        self.ids: frozenset[str] = frozenset()
        self.blobs: dict[str, bytes | None] = {}
        self.at_head: dict[str, bytes] = {}  # touched records' content at the end of the range

    def add(
        self,
        commit: str,
        record: str | None,
        rule: str,
        message: str,
        fix: str,
        severity: Severity = "error",
    ) -> None:
        key = (record, rule, message)
        if key not in self.reported:  # each violation once, at the first commit that shows it
            self.reported.add(key)
            self.violations.append(Violation(commit, record, rule, message, fix, severity))

    def run(self) -> None:
        steps = self.walk.steps_for(self.in_range)  # the rest of history is read as a graph
        names = {c.old_blob for s in steps for c in s.records.values() if c.old_blob}
        names |= {c.new_blob for s in steps for c in s.records.values() if c.new_blob}
        self.blobs = self.history.blobs(sorted(names))
        head = self.walk.tip
        if head is None:
            return
        self.ids = frozenset(record_blobs(self.root, head, self.history.prefix))
        in_range = {step.commit.id: step for step in steps}
        released, verdicts = self.released, self.verdicts
        for commit, parents in self.walk.graph():
            if commit in in_range:
                self._check(in_range[commit])
            if len(parents) == 1 and commit not in verdicts:  # most commits: as their parent
                released[commit] = released.get(parents[0], {})
            else:
                self._release(commit, parents)
        paths = {r: self.history.path_of(r) for r in sorted(self.touched)}
        blobs = self.history.files_at(head, paths.values())  # regular files only
        self.at_head = {r: c for r, path in paths.items() if (c := blobs.get(path)) is not None}
        self._check_extensions()
        self._check_controlled_files()

    # -- the state the rules need from before each commit ---------------------------------

    def _release(self, commit: str, parents: tuple[str, ...]) -> None:
        """The approvals of SOP versions as of this commit (its parents' plus its own), per SOP
        in the order they apply. A commit that adds none shares its parent's; what each one
        approved is read only for the SOPs a rule asks about (`_released`)."""
        released = [self.released.get(p, {}) for p in parents]
        own: list[Verdict] = []
        if verdicts := self.verdicts.get(commit):
            config = self._config(commit, parents)
            release = config.lifecycles.sop.release if config else "approved"
            own = [
                v for v in verdicts if v.ok and v.meaning == release and v.record.startswith("SOP-")
            ]
        if len(released) == 1 and not own:
            self.released[commit] = released[0]
            return
        merged = dict(released[0]) if released else {}
        for other in released[1:]:
            for record, approvals in other.items():
                # A merge replays both sides; an approval both hold applies where it last does.
                both = (*merged.get(record, ()), *approvals)
                merged[record] = tuple(reversed(dict.fromkeys(reversed(both))))
        for verdict in own:
            merged[verdict.record] = (*merged.get(verdict.record, ()), verdict)
        self.released[commit] = merged

    def _released(self, commit: str | None, record: str) -> dict[int, str]:
        """Version -> content hash of each approved version of `record` as of `commit`."""
        versions: dict[int, str] = {}
        for verdict in self.released.get(commit or "", {}).get(record, ()):
            content = self.walk.claimed_content(verdict)
            number = _version(record_data(self.walk.content_at(verdict.commit, record), record))
            if content is not None and number is not None:
                versions[number] = content
        return versions

    def _config(self, commit: str, parents: tuple[str, ...]) -> QmsConfig | None:
        registry = self.walk.registry_at(parents[0] if parents else commit)
        if registry is None and self.walk.root_commit == commit:
            registry = self.walk.registry_at(commit)
        return registry.config if registry else None

    # -- the rules -----------------------------------------------------------------------

    def _check(self, step: Step) -> None:
        commit = step.commit
        short = commit.id
        for verdict in self.verdicts.get(commit.id, ()):
            if not verdict.ok and verdict.meaning == AUTHORED:
                self.add(
                    short,
                    verdict.record,
                    "authorship.unsigned",
                    f"the change by {verdict.signer} <{verdict.email}> is not attributable: "
                    f"{'; '.join(verdict.problems)}",
                    "sign your changes with your registered key (git config commit.gpgsign "
                    "true, or git commit -S); re-sign a branch before it is merged: "
                    "git rebase --exec 'git commit --amend --no-edit -S' BASE",
                )
            elif not verdict.ok:
                self.add(
                    short,
                    verdict.record,
                    "signature.invalid",
                    f"the signature '{verdict.meaning}' by {verdict.signer} <{verdict.email}> "
                    f"does not count: {'; '.join(verdict.problems)}",
                    "sign again with your own registered key (qms sign/approve/advance); "
                    "never edit or copy a signature commit",
                )
        if step.config is not None and step.config.new_mode not in (None, git.REGULAR_FILE):
            self._not_a_file(short, CONFIG_FILE, step.config)
        elif step.config is not None and step.config.new_blob is None:
            self.add(
                short,
                CONFIG_FILE,
                "record.deleted",
                f"{CONFIG_FILE} was deleted",
                "restore it: git revert this commit",
            )
        config = self._config(step.commit.id, step.commit.parents)
        added = [r for r, c in step.records.items() if c.old_blob is None and c.new_blob]
        registry_changed = step.config is not None and step.config.new_blob is not None
        if registry_changed and len(commit.parents) == 1 and not commit.gives_reason:
            # People, roles, keys and policy are controlled like records (a merge brings the
            # branch's commits, each checked on its own).
            self.add(
                short,
                CONFIG_FILE,
                "record.reason",
                f"the change to {CONFIG_FILE} has no 'Reason:' trailer",
                "amend the commit message with a line 'Reason: why this changed' "
                "(git commit --amend --no-edit --trailer 'Reason: …') before it is merged; "
                "qms people and qms keys write it from --reason",
            )
        for record, change in step.records.items():
            if len(commit.parents) > 1 and self._from_branch(step, record):
                continue  # checked on the branch it was made on
            self.touched[record] = commit.id
            if change.new_blob is None and change.new_mode != git.FOLDER:
                kind = kind_of_id(record)
                moved = next((r for r in added if kind_of_id(r) is kind), None)
                self.add(
                    short,
                    record,
                    "record.renamed" if moved else "record.deleted",
                    f"{record} was {'renamed to ' + moved if moved else 'deleted'}; records are "
                    "never deleted or renamed (retention)",
                    "restore it: git revert this commit; retire an SOP or cancel a CAPA or "
                    "deviation through its lifecycle instead",
                )
                continue
            if not commit.gives_reason:
                self.add(
                    short,
                    record,
                    "record.reason",
                    f"the change to {record} has no 'Reason:' trailer",
                    "amend the commit message with a line 'Reason: why this changed' "
                    "(git commit --amend --no-edit --trailer 'Reason: …') before it is merged",
                )
            if change.new_mode != git.REGULAR_FILE:
                self._not_a_file(short, record, change)
                continue
            new = self._record(step, record, change, config)
            if new is None or config is None:
                continue
            old = self._data(change.old_blob, record)
            if old is None and change.old_mode not in (None, git.REGULAR_FILE):
                continue  # a regular file again: replacing it was the violation
            self._migration_rules(step, record, old, new)
            if record.startswith("SOP-"):
                self._sop_rules(step, record, old, new, change)
            elif record.startswith("ATR-"):
                self._review_rules(step, record, old)
            else:
                self._state_rules(step, record, old, new, config)

    def _not_a_file(self, commit: str, record: str, change: git.Change) -> None:
        """A record's path (or qms.yaml's) holds a link, a submodule, an executable or a folder."""
        path = change.path[len(self.history.prefix) :]
        self.add(commit, record, "record.not-a-file", not_a_file(path, change.new_mode), _FIX)

    def _check_controlled_files(self) -> None:
        """mkdocs.yml and schemas/ are regular files too, as records and qms.yaml are."""
        prefix = self.history.prefix
        paths = [f"{prefix}{name}" for name in CONTROLLED_FILES]
        revisions = [f"^{p}" for p in self._bases()] + [self.walk.tip or "HEAD"]
        for entry in git.log_changes(self.root, revisions, paths):
            if entry.id not in self.in_range:
                continue
            for change in entry.changes:
                path, inside = _controlled_path(change.path[len(prefix) :])
                mode = git.FOLDER if inside and change.new_mode else change.new_mode
                if mode not in (None, git.REGULAR_FILE):
                    self.add(entry.id, path, "record.not-a-file", not_a_file(path, mode), _FIX)

    def _bases(self) -> list[str]:
        """The parents of the range's commits outside it: where the range starts."""
        steps = self.walk.steps_for(self.in_range)
        return sorted({p for s in steps for p in s.commit.parents} - self.in_range)

    def _from_branch(self, step: Step, record: str) -> bool:
        """Whether a merge's version of `record` is what a merged branch made of it.

        Equal to a side parent's copy is not enough: that branch must itself have changed the
        record since it forked, or the merge could bring back an old copy (reopen a closed
        record, restore a deleted one, drop a new one) unchecked. A side with no merge base
        with the first parent (an unrelated history) never counts: nothing checked it here.
        """
        path = self.history.path_of(record)
        mine = self.walk.content_at(step.commit.id, record)
        first = step.commit.parents[0]
        for side in step.commit.parents[1:]:
            theirs = self.walk.contents.get(f"{side}:{path}")
            if mine != theirs:
                continue
            base = git.merge_base(self.root, first, side)
            if base is None:
                # An unrelated history: nothing on it was checked against the registry and
                # rules in force here, so its content is judged as this merge's own change.
                continue
            before = self.history.blobs([f"{base}:{path}"]).get(f"{base}:{path}")
            if theirs != before:
                return True
        return False

    def _record(
        self, step: Step, record: str, change: git.Change, config: QmsConfig | None
    ) -> dict[str, Any] | None:
        """The record's new data, after its validation findings are reported."""
        kind = kind_of_id(record)
        assert kind is not None
        path = self.history.path_of(record)
        content = self.blobs.get(change.new_blob or "")
        if content is None:
            return None
        try:
            text = decode_record_bytes(content)
        except LoadError as error:
            self.add(
                step.commit.id, record, "record.invalid", f"{path}: {error.message}", error.fix
            )
            return None
        ctx = Context(config, {i: i for i in self.ids}, step.commit.committer.utc)
        file = RecordFile(kind, f"{kind.folder}/{record}{kind.suffix}", record)
        findings = check_record_text(file, text, ctx)[2]
        for finding in findings:
            self.add(
                step.commit.id,
                record,
                "record.invalid" if finding.severity == "error" else "record.warning",
                f"{finding.location}: {finding.message} [{finding.code}]",
                finding.fix,
                finding.severity,
            )
        data = record_data(content, record)
        return data if isinstance(data, dict) else None

    def _data(self, blob: str | None, record: str) -> dict[str, Any] | None:
        data = record_data(self.blobs.get(blob or ""), record) if blob else None
        return data if isinstance(data, dict) else None

    def _sop_rules(
        self,
        step: Step,
        record: str,
        old: dict[str, Any] | None,
        new: dict[str, Any],
        change: git.Change,
    ) -> None:
        parent = step.commit.parents[0] if step.commit.parents else None
        released = self._released(parent, record)
        number = _version(new)
        if number is None or not released:
            return
        content = content_hash(self.blobs.get(change.new_blob or "") or b"")
        newest = max(released)
        if number < newest:
            self.add(
                step.commit.id,
                record,
                "sop.version-decreased",
                f"{record} states version {number}, below its approved version {newest}; "
                "versions only increase",
                f"set 'version: {newest + 1}'",
            )
        elif number in released and released[number] != content:
            self.add(
                step.commit.id,
                record,
                "sop.version-not-raised",
                f"{record} v{number} is an approved version; this commit changes it without "
                "raising the version",
                f"set 'version: {newest + 1}' and 'supersedes: \"{record} v{newest}\"' with the "
                "reason for the change, then have the new version reviewed and approved",
            )
        elif number > newest and new.get("supersedes") != f"{record} v{newest}":
            self.add(
                step.commit.id,
                record,
                "sop.supersedes",
                f"{record} v{number} follows approved version {newest}, but 'supersedes' says "
                f"{new.get('supersedes')!r}",
                f"write 'supersedes: \"{record} v{newest}\"'",
            )

    def _review_rules(self, step: Step, record: str, old: dict[str, Any] | None) -> None:
        """An audit-trail review is written once, in the commit that signs it."""
        commit = step.commit.id
        if old is not None:
            self.add(
                commit,
                record,
                "record.closed",
                f"{record} is a signed audit-trail review; a review is not edited",
                "revert this change; record a new review with `qms audit-trail --sign`",
            )
            return
        signed = [
            v
            for v in self.verdicts.get(commit, ())
            if v.record == record and v.ok and v.meaning == REVIEW_MEANING
        ]
        if not signed:
            self.add(
                commit,
                record,
                "state.signature",
                f"{record} was created without a valid signature '{REVIEW_MEANING}' in the "
                "same commit",
                "write reviews with `qms audit-trail --since D --until D --sign --conclusion T`",
            )

    def _state_rules(
        self,
        step: Step,
        record: str,
        old: dict[str, Any] | None,
        new: dict[str, Any],
        config: QmsConfig,
    ) -> None:
        kind = kind_of_id(record)
        assert kind is not None
        machine = config.lifecycles.machines[kind.name]
        label = BY_NAME[kind.name].label
        target = new.get("state")
        commit = step.commit.id
        if old is None:
            if target != machine.initial and not self._signed_migration(commit, record, new):
                fix = f"create it with state '{machine.initial}' and move it on with " + (
                    f"`qms advance {record} --to STATE`"
                    if MIGRATION_FIELD not in new
                    else f"`qms import … --commit`, signed with the meaning '{MIGRATED_MEANING}' "
                    "by a person holding the role the policy gives it"
                )
                self.add(
                    commit,
                    record,
                    "state.initial",
                    f"{record} was created in state '{target}'; a new {label} starts as "
                    f"'{machine.initial}'"
                    + (
                        f", unless it is migrated with a valid '{MIGRATED_MEANING}' signature "
                        "in the same commit"
                        if MIGRATION_FIELD in new
                        else ""
                    ),
                    fix,
                )
            return
        source = old.get("state")
        if source == target:
            if source in machine.closed:
                self.add(
                    commit,
                    record,
                    "record.closed",
                    f"{record} is {source}; a {source} record is not edited",
                    f"reopen it first: qms advance {record} --to "
                    f"{'/'.join(machine.targets(str(source))) or 'STATE'} --reason '…'",
                )
            return
        transition = machine.transition(str(source), str(target))
        if transition is None:
            allowed = ", ".join(machine.targets(str(source))) or "none"
            self.add(
                commit,
                record,
                "state.transition",
                f"{record} moved from '{source}' to '{target}', which its lifecycle does not allow",
                f"from '{source}' a {label} may move to: {allowed} (lifecycles in qms.yaml)",
            )
            return
        rule = config.signatures.get(kind.name, {}).get(transition.meaning)
        roles = ", ".join(sorted(rule.roles)) if rule else "(none defined)"
        signed = [
            v
            for v in self.verdicts.get(commit, ())
            if v.record == record
            and v.ok
            and v.meaning == transition.meaning
            and v.version == target
        ]
        if not signed:
            self.add(
                commit,
                record,
                "state.signature",
                f"{record} moved from '{source}' to '{target}' without a valid signature "
                f"'{transition.meaning}' in the same commit",
                f"make the change with `qms advance {record} --to {target}`, signed by a "
                f"person holding one of: {roles}",
            )
        for requirement in transition.requires:
            if not requirement.met(new):
                self.add(
                    commit,
                    record,
                    "state.requires",
                    f"moving {record} from '{source}' to '{target}' needs '{requirement.text}'",
                    f"fill in '{requirement.text}' (qms advance --reason writes a reopening or "
                    "cancelling reason)",
                )

    def _signed_migration(self, commit: str, record: str, new: dict[str, Any]) -> bool:
        """A migrated record may start past its initial state when this very commit carries a
        valid 'migrated' signature for it, claiming the state it was created in."""
        return MIGRATION_FIELD in new and any(
            v.record == record
            and v.ok
            and v.meaning == MIGRATED_MEANING
            and v.version == str(new.get("state"))
            for v in self.verdicts.get(commit, ())
        )

    def _migration_rules(
        self, step: Step, record: str, old: dict[str, Any] | None, new: dict[str, Any]
    ) -> None:
        """The migration block is written when the record is created and never changed."""
        if old is None or old.get(MIGRATION_FIELD) == new.get(MIGRATION_FIELD):
            return
        what = "added to" if MIGRATION_FIELD not in old else "changed in"
        if MIGRATION_FIELD not in new:
            what = "removed from"
        self.add(
            step.commit.id,
            record,
            "migration.changed",
            f"the '{MIGRATION_FIELD}' block was {what} {record}; it records where a migrated "
            "record came from and is written only when the record is created",
            "restore the block as it was (git revert this commit); a legacy record is migrated "
            "as a new record with `qms import`",
        )

    def _check_extensions(self) -> None:
        """An investigation extension counts only once QA signed it ('extended')."""
        by_record = signed_contents(self.walk, records=self.touched.keys())
        for record, commit in self.touched.items():
            extension = _extension(self.at_head.get(record), record)
            if not record.startswith("DEV-") or not isinstance(extension, dict):
                continue
            approver = extension.get("approved_by")
            signed = extension_signed(by_record.get(record, {}), extension)
            if not signed:
                self.add(
                    commit,
                    record,
                    "deviation.extension",
                    f"the investigation extension of {record} (due {extension.get('due')}) is "
                    f"not signed by {approver} with the meaning '{EXTENSION_MEANING}'",
                    f"{approver} signs it: qms sign {record} --meaning {EXTENSION_MEANING} "
                    "--reason '…'",
                )


# Besides records and qms.yaml, what must hold nothing but regular files (paths in the QMS folder).
CONTROLLED_FILES = ("mkdocs.yml", "schemas")
_FIX = NOT_A_FILE_FIX


def _controlled_path(inside: str) -> tuple[str, bool]:
    """(the controlled file a changed path belongs to, whether the path lies inside it: a folder
    at the file's path): 'schemas/x.json/y' -> ('schemas/x.json', True)."""
    parts = inside.split("/")
    depth = 1 if parts[0] != "schemas" else 2
    return "/".join(parts[:depth]), len(parts) > depth


def _version(data: object) -> int | None:
    value = data.get("version") if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _extension(content: bytes | None, record: str) -> object:
    data = record_data(content, record)
    return investigation_extension(data if isinstance(data, dict) else None)


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
