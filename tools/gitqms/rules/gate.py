"""The gate behind `qms check`: one pass over the verified history that applies the rules to
each commit of the range, against its first parent and the trusted qms.yaml in force there.

The rules of a commit's signatures, of qms.yaml and of record files are here; what a record's
content may become is in record_rules.py. Everything is read from Git objects, so the gate also
runs in a bare repository on the server.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .. import git
from ..history.read import NOT_A_FILE_FIX, Step, not_a_file, record_blobs, record_entries
from ..lifecycle.signed import extension_signed, investigation_extension, signed_contents
from ..records.config import CONFIG_FILE, QmsConfig
from ..records.kinds import kind_of_id
from ..records.lifecycles import EXTENSION_MEANING
from ..records.repository import RecordFile
from ..safeyaml import LoadError, decode_record_bytes
from ..signatures.claims import record_data, record_kind
from ..signatures.verify import AUTHORED, Verdict, Walk
from ..validation.findings import Severity
from ..validation.record_checks import Context
from ..validation.run import check_record_text
from .change_control import change_control_rules
from .copies import copy_rules
from .record_rules import migration_rules, sop_rules, state_rules, version
from .special import CONTENT_RULES
from .training import training_rules
from .violations import Breach, Violation

Approvals = dict[str, tuple[Verdict, ...]]  # document -> its valid approvals, in order
# Besides records and qms.yaml, what must hold nothing but regular files (paths in the QMS folder).
CONTROLLED_FILES = ("mkdocs.yml", "schemas")
_FIX = NOT_A_FILE_FIX


class Gate:
    """Walks the verified history once; checks each commit of the range as it passes it."""

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
        parents_of = {step.commit.id: step.commit.parents for step in steps}

        def config_at(commit: str) -> QmsConfig | None:
            return self._config(commit, parents_of.get(commit, ()))

        for rules in (change_control_rules, training_rules, copy_rules):
            for found in rules(self.walk, steps, verdicts, config_at):
                breach = found.breach
                self.add(found.commit, found.record, breach.rule, breach.message, breach.fix)

    # -- the state the rules need from before each commit ---------------------------------

    def _release(self, commit: str, parents: tuple[str, ...]) -> None:
        """The approvals of document versions (SOPs, …) as of this commit (its parents' plus
        its own), per document in the order they apply, each under the release meaning of its
        kind's policy. A commit that adds none shares its parent's; what each one approved is
        read only for the documents a rule asks about (`_released`)."""
        released = [self.released.get(p, {}) for p in parents]
        own: list[Verdict] = []
        if verdicts := self.verdicts.get(commit):
            config = self._config(commit, parents)
            own = [v for v in verdicts if v.ok and v.meaning == _release(config, v.record)]
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
            number = version(record_data(self.walk.content_at(verdict.commit, record), record))
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
        self._signature_rules(step)
        self._registry_rules(step)
        config = self._config(step.commit.id, step.commit.parents)
        added = [r for r, c in step.records.items() if c.old_blob is None and c.new_blob]
        for record, change in step.records.items():
            if len(step.commit.parents) > 1 and self._from_branch(step, record):
                continue  # checked on the branch it was made on
            self.touched[record] = step.commit.id
            self._record_rules(step, record, change, added, config)
        if len(step.commit.parents) > 1:
            self._kinds_merged(step, config)

    def _kinds_merged(self, step: Step, before: QmsConfig | None) -> None:
        """A merge that brings a kind's adoption makes the files already in its folder on the
        first parent records: each is judged as created by the merge (its schema, its state
        at creation), since nothing checked it as a record before."""
        after = self.walk.registry_at(step.commit.id)
        if before is None or after is None:
            return
        new = [k for k in after.config.kinds.declared if not before.kinds.holds(k)]
        if not new:
            return
        first = step.commit.parents[0]
        files, _ = record_entries(self.root, first, self.history.prefix)
        found = {r: b for r, b in files.items() if kind_of_id(r) in new and r not in step.records}
        self.blobs.update(self.history.blobs(sorted(found.values())))
        for record, blob in sorted(found.items()):
            path = self.history.path_of(record)
            change = git.Change(path, None, blob, "A", None, git.REGULAR_FILE)
            self.touched[record] = step.commit.id
            self._record_rules(step, record, change, [], after.config)

    def _signature_rules(self, step: Step) -> None:
        """Every signature and every authored change of the commit counts."""
        for verdict in self.verdicts.get(step.commit.id, ()):
            if not verdict.ok and verdict.meaning == AUTHORED:
                self.add(
                    step.commit.id,
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
                    step.commit.id,
                    verdict.record,
                    "signature.invalid",
                    f"the signature '{verdict.meaning}' by {verdict.signer} <{verdict.email}> "
                    f"does not count: {'; '.join(verdict.problems)}",
                    "sign again with your own registered key (qms sign/approve/advance); "
                    "never edit or copy a signature commit",
                )

    def _registry_rules(self, step: Step) -> None:
        """qms.yaml stays a regular file, is never deleted, and each change gives a reason."""
        commit, change = step.commit, step.config
        if change is None:
            return
        if change.new_mode not in (None, git.REGULAR_FILE):
            self._not_a_file(commit.id, CONFIG_FILE, change)
        elif change.new_blob is None:
            self.add(
                commit.id,
                CONFIG_FILE,
                "record.deleted",
                f"{CONFIG_FILE} was deleted",
                "restore it: git revert this commit",
            )
        if change.new_blob is not None and len(commit.parents) == 1 and not commit.gives_reason:
            # People, roles, keys and policy are controlled like records (a merge brings the
            # branch's commits, each checked on its own).
            self.add(
                commit.id,
                CONFIG_FILE,
                "record.reason",
                f"the change to {CONFIG_FILE} has no 'Reason:' trailer",
                "amend the commit message with a line 'Reason: why this changed' "
                "(git commit --amend --no-edit --trailer 'Reason: …') before it is merged; "
                "qms people and qms keys write it from --reason",
            )

    def _record_rules(
        self,
        step: Step,
        record: str,
        change: git.Change,
        added: list[str],
        config: QmsConfig | None,
    ) -> None:
        """A record is never deleted or renamed, each change gives a reason, the file is a
        regular file that validates, and its content follows the rules of its kind."""
        commit = step.commit
        if change.new_blob is None and change.new_mode != git.FOLDER:
            kind = kind_of_id(record)
            moved = next((r for r in added if kind_of_id(r) is kind), None)
            self.add(
                commit.id,
                record,
                "record.renamed" if moved else "record.deleted",
                f"{record} was {'renamed to ' + moved if moved else 'deleted'}; records are "
                "never deleted or renamed (retention)",
                "restore it: git revert this commit; retire an SOP or cancel a CAPA or "
                "deviation through its lifecycle instead",
            )
            return
        if not commit.gives_reason:
            self.add(
                commit.id,
                record,
                "record.reason",
                f"the change to {record} has no 'Reason:' trailer",
                "amend the commit message with a line 'Reason: why this changed' "
                "(git commit --amend --no-edit --trailer 'Reason: …') before it is merged",
            )
        if change.new_mode != git.REGULAR_FILE:
            self._not_a_file(commit.id, record, change)
            return
        if not self._in_force(commit.id, record, config):
            return
        new = self._record(step, record, change, config)
        if new is None or config is None:
            return
        old = self._data(change.old_blob, record)
        if old is None and change.old_mode not in (None, git.REGULAR_FILE):
            return  # a regular file again: replacing it was the violation
        self._add_all(commit.id, record, migration_rules(record, old, new))
        self._add_all(
            commit.id, record, self._content_rules(step, record, old, new, change, config)
        )

    def _in_force(self, commit: str, record: str, config: QmsConfig | None) -> bool:
        """Whether the kind of `record` is in force at `commit`: built in, or declared by the
        registry that judges the commit. A file of a kind declared only by an unsigned qms.yaml
        is not a record yet, and nothing may treat it as one."""
        kind = kind_of_id(record)
        if kind is None or config is None or config.kinds.holds(kind):
            return True
        self.add(
            commit,
            record,
            "kind.not-in-force",
            f"{record} is a {kind.label}, a kind that no admin-signed qms.yaml had declared "
            "when this commit was made",
            "declare the kind first (qms kinds add DECL --schema FILE --reason …, signed by "
            "an admin), then add its records in a later commit",
        )
        return False

    def _content_rules(
        self,
        step: Step,
        record: str,
        old: dict[str, Any] | None,
        new: dict[str, Any],
        change: git.Change,
        config: QmsConfig,
    ) -> Iterator[Breach]:
        verdicts = self.verdicts.get(step.commit.id, ())
        kind = record_kind(record)
        assert kind is not None  # a changed record's path names its kind
        if kind.is_document:
            parent = step.commit.parents[0] if step.commit.parents else None
            content = self.blobs.get(change.new_blob or "") or b""
            return sop_rules(record, new, content, self._released(parent, record))
        special = CONTENT_RULES.get(kind.special or "")
        if special is not None:
            return special(record, old, new, config, verdicts)
        return state_rules(record, old, new, config, verdicts)

    def _add_all(self, commit: str, record: str, breaches: Iterable[Breach]) -> None:
        for breach in breaches:
            self.add(commit, record, breach.rule, breach.message, breach.fix)

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
        known = kind_of_id(record)
        assert known is not None
        # judged by the kind in force at the commit (its pinned schema), not by the tip's claim
        kind = config.kinds.by_name.get(known.name, known) if config is not None else known
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

    def _check_extensions(self) -> None:
        """An investigation extension counts only once QA signed it ('extended')."""
        by_record = signed_contents(self.walk, records=self.touched.keys())
        for record, commit in self.touched.items():
            kind = record_kind(record)
            if kind is None or kind.special != "deviation":
                continue
            extension = _extension(self.at_head.get(record), record)
            if not isinstance(extension, dict):
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


def _controlled_path(inside: str) -> tuple[str, bool]:
    """(the controlled file a changed path belongs to, whether the path lies inside it: a folder
    at the file's path): 'schemas/x.json/y' -> ('schemas/x.json', True)."""
    parts = inside.split("/")
    depth = 1 if parts[0] != "schemas" else 2
    return "/".join(parts[:depth]), len(parts) > depth


def _release(config: QmsConfig | None, record: str) -> str | None:
    """The meaning that releases a version of `record` (frozen once signed) under its kind's
    document policy; None for a record that is not a document."""
    kind = record_kind(record)
    if kind is None or not kind.is_document:
        return None
    return config.lifecycles.documents[kind.name].release if config else "approved"


def _extension(content: bytes | None, record: str) -> object:
    data = record_data(content, record)
    return investigation_extension(data if isinstance(data, dict) else None)
