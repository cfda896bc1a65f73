"""The walk: every signature commit judged against the registry of its first parent.

One walk over history, parents before children, drives four parts, each with one job:
- reading (contents.py): the blobs it judges by, fetched in one batch, and cheap facts of them;
- the trust chain (trust.py): per commit, the trusted qms.yaml;
- the authorship ledger (ledger.py): who authored each record since its last approval, for
  separation of duties;
- the judge (judge.py): one signature commit's verdicts, and the signatures already counted,
  so one person signs a meaning once per version.
When it reaches the tip it marks revocations, bindings and superseded signatures (marks.py).
Its state (state.py) is what the history index saves and restores.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import datetime
from functools import partial

from ..crypto.ahead import SshChecks
from ..history.commits import Commit
from ..history.read import History, Step
from ..records.config import Person
from .authors import AuthorSet
from .claims import CONFIG_RECORD, Claim, Claims, read_claims, record_data
from .contents import Contents, blob_names
from .eligible import version_audiences
from .judge import Judge
from .later import Later
from .ledger import Ledger, LedgerState
from .marks import Receipts, bind_to_line, mark_superseded, named_change, recheck_revocations
from .record_changes import ChangeIndex
from .registry import Registry
from .state import WalkState
from .trust import INVALID, UNSIGNED, TrustChain, TrustState
from .verdict import AUTHORED, Report, SeenKey, Unextendable, Verdict

# What runs beside the marks (the history index's copy of the walk): entered once the steps
# are walked and the raw verdicts set, left once the marks are made.
Beside = Callable[["Walk"], AbstractContextManager[None]]


class Walk:
    def __init__(
        self,
        history: History,
        trust_root: str | None,
        ssh_checks: SshChecks | None = None,
        *,
        restored: WalkState | None = None,
    ) -> None:
        """A walk of `history` (call `run`), or, `restored`, one read back from the index."""
        self._history = history
        self.place = replace(history, steps=[])  # where records live, and reading blobs
        state = restored or WalkState(
            trust=TrustState(pinned_root=trust_root),
            ledger=LedgerState(),
            claims=Later.now({}),
            seen=Later.now({}),
            raw_verdicts=Later.now([]),
            verdicts=[],
            read={},
            receipts=(False, None),
        )
        self.reader = Contents(
            self.place, self._all_names, None if restored is None else state.read
        )
        self.trust = TrustChain(state.trust, self.reader)
        self.judge = Judge(self.reader, ssh_checks or SshChecks(), state.seen)
        self.ledger = Ledger(state.ledger, self.reader, self.judge.signer)
        self.receipts = Receipts(history.root)  # read again, if need be, by a restored walk
        self._claims = state.claims
        self._raw = state.raw_verdicts
        self.verdicts = state.verdicts
        self.report = Report([], 0, None)
        self.partial = False  # a narrow walk (history/narrow.py): not every record's history

    def state(self) -> WalkState:
        """What the walk derived, for the history index."""
        return WalkState(
            trust=self.trust.state,
            ledger=self.ledger.state,
            claims=self._claims,
            seen=self.judge.seen,
            raw_verdicts=self._raw,
            verdicts=self.verdicts,
            read=self.reader.read(),
            receipts=(self.receipts.read, self.receipts.tip),
        )

    # -- walking ----------------------------------------------------------------------------

    def run(self, beside: Beside | None = None) -> None:
        steps = self.history.steps
        self._walk(steps, {step.commit.id for step in steps}, fresh=True)
        self._finish(beside=beside)

    def extend(
        self, more: History, ssh_checks: SshChecks | None = None, beside: Beside | None = None
    ) -> None:
        """Walk on over `more`, commits that descend from this walk's tip, whose parents are
        all walked here or in `more`: what a full walk of the later tip would do, when it
        walks this history first (the caller checks that it does). Raises Unextendable when
        `more` introduces qms.yaml afresh, which could change the trust root."""
        known = {commit for commit, _ in self.graph()}
        known.update(step.commit.id for step in more.steps)
        if not self.trust.state.pinned_root and self.trust.root_candidates(more.steps):
            raise Unextendable("a new commit introduces qms.yaml")
        if ssh_checks is not None:
            self.judge.ssh_checks = ssh_checks
        self._append(more.steps)
        merges = {commit[:12] for commit, parents in self.graph() if len(parents) > 1}
        earlier = {  # a mark naming a merge gives way to a later change of the record's own
            at: v.superseded
            for at, v in enumerate(self.verdicts)
            if v.superseded and named_change(v.superseded) not in merges
        }
        self.verdicts = list(self.raw_verdicts)
        self._walk(more.steps, known, fresh=False)
        self._finish(earlier, beside)

    def _walk(self, steps: Sequence[Step], known: set[str], *, fresh: bool) -> None:
        claims = self.claims
        for step in steps:
            if (found := read_claims(step.commit)) is not None:
                claims[step.commit.id] = found
            self.ledger.expect(step)
        self.judge.ssh_checks.flush()
        try:
            self.reader.prefetch(steps, known, claims)
            for step in steps:
                for parent in step.commit.parents:
                    if parent not in known and parent not in self.trust.state.config_blob:
                        self.trust.take_base(parent)  # the base of a range
                        self.ledger.hold(parent, {})
            if fresh:
                self.trust.find_root(self.history.steps)
            for step in steps:
                self._step(step)
        finally:
            self.reader.stop_reading_ahead()
            self.judge.close()

    def _append(self, steps: Sequence[Step]) -> None:
        history = self._history
        self._history = History(history.root, history.prefix, [*history.steps, *steps])

    def _step(self, step: Step) -> None:
        commit = step.commit
        is_root, registry = self.trust.enter(step)
        self.judge.times[commit.id] = commit.committer.utc
        pending = self.ledger.merged(commit.parents)
        claims = self.claims.get(commit.id)
        verdicts = self.judge.judge(step, claims, registry, pending) if claims else []
        self.verdicts.extend(verdicts)
        if not is_root:
            self._registry_changed(step, verdicts, registry)
        before_root = partial(self.trust.before_root, commit.id, self.graph)
        unproven, authored = self.ledger.record(
            step, pending, registry, is_root, before_root, (claims, verdicts)
        )
        for record in authored if unproven else ():
            problem = (
                f"{record} was changed by a commit that {unproven}, so its author is not "
                "proven: no independent signature of this version counts until a registered "
                "person commits it signed (git commit -S)"
            )
            claim = Claim(record, None, None, AUTHORED)
            self.verdicts.append(self.judge.verdict(commit, claim, None, registry, (problem,)))

    def _registry_changed(
        self, step: Step, verdicts: list[Verdict], registry: Registry | None
    ) -> None:
        """Let the trust chain decide the qms.yaml in force after `step`, and report a change
        of it that is not in force."""
        problem = self.trust.leave(step, verdicts)
        if problem == INVALID:
            last = [v for v in verdicts if v.record == CONFIG_RECORD][-1]
            index = self.verdicts.index(last)
            why = self.trust.why_not(step.commit.id, step.config.new_blob if step.config else None)
            invalid = "the new qms.yaml does not validate, so it is not in force" + (
                f": {why}" if why else ""
            )
            self.verdicts[index] = replace(last, problems=(*last.problems, invalid))
        elif problem == UNSIGNED:
            commit = step.commit
            who = f"{commit.committer.name} <{commit.committer.email}>"
            unsigned = (  # who made it is unknown: the committer it states is a claim
                f"qms.yaml was changed in a commit that states {who} as its committer, without "
                "an admin's signature (meaning 'changed'); the change is not in force"
            )
            claim = Claim(CONFIG_RECORD, None, None, "changed")
            self.verdicts.append(self.judge.verdict(commit, claim, None, registry, (unsigned,)))

    def _finish(
        self, earlier: Mapping[int, str] | None = None, beside: Beside | None = None
    ) -> None:
        """The marks made once the tip is reached (`earlier`: the superseded marks of the walk
        this one extends, by position), with `beside` running meanwhile."""
        self._raw.set(list(self.verdicts))
        with nullcontext() if beside is None else beside(self):
            self._mark(earlier)

    def _mark(self, earlier: Mapping[int, str] | None = None) -> None:
        tip = self.tip
        registry = None if tip is None else self.registry_at(tip)
        if registry is not None:
            recheck_revocations(self.verdicts, registry, self.receipts)
        bind_to_line(self.verdicts, self.graph(), self.registry_at, self.receipts, self._audiences)
        if tip is not None:
            mark_superseded(
                self.verdicts,
                self.place,
                tip,
                self.claimed_content,
                self._changes,
                self._proven_name,
                earlier,
            )
        self.report = self._report(len(self.graph()))

    def _audiences(self, verdict: Verdict) -> frozenset[str]:
        """The training audiences named by the content `verdict` signed."""
        content = self.content_at(verdict.commit, verdict.record)
        return version_audiences(record_data(content, verdict.record))

    def proven_person(self, commit: Commit) -> Person | None:
        """The registered person whose valid signature makes them the author of `commit`'s
        changes, as the registry that proved them (at its first parent) has them: their name
        and email of that day, whatever the tip's registry says later; None when nobody is
        proven to have made them."""
        person_id = self.proven.get(commit.id)
        judged = self.registry_at(commit.parents[0]) if person_id and commit.parents else None
        return judged.config.person(person_id) if judged is not None and person_id else None

    def _proven_name(self, commit: Commit) -> str | None:
        person = self.proven_person(commit)
        return person.name if person is not None else self.proven.get(commit.id)

    def _changes(self) -> tuple[ChangeIndex, list[tuple[str, tuple[str, ...]]]]:
        return self.change_index(), self.graph()

    def _report(self, commits: int) -> Report:
        state = self.trust.state
        return Report(self.verdicts, commits, state.pinned_root or state.root_commit, state.notes)

    # -- what callers read ------------------------------------------------------------------

    @property
    def history(self) -> History:
        return self._history

    @property
    def claims(self) -> dict[str, Claims]:
        """Commit -> the signatures its trailers claim."""
        return self._claims()

    @property
    def raw_verdicts(self) -> list[Verdict]:
        """The verdicts before the marks made after the walk."""
        return self._raw()

    @property
    def seen(self) -> dict[SeenKey, str]:
        """The signatures counted: (record, content, meaning, person) -> the commit."""
        return self.judge.seen()

    @property
    def trusted(self) -> dict[str, str | None]:
        """Commit -> the qms.yaml blob in force for its children."""
        return self.trust.state.trusted

    @property
    def config_blob(self) -> dict[str, str | None]:
        """Commit -> its qms.yaml blob, trusted or not."""
        return self.trust.state.config_blob

    @property
    def root_commit(self) -> str | None:
        return self.trust.state.root_commit

    @property
    def proven(self) -> dict[str, str]:
        """A commit that changed records -> its signer's person id."""
        return self.ledger.state.proven

    @property
    def contents(self) -> dict[str, bytes | None]:
        """The blobs the walk read, by name: what `content_at` and merges look up."""
        return self.reader.all

    def content_at(self, commit: str, record: str) -> bytes | None:
        """A record's bytes at a signature commit or a merge, as fetched for the walk."""
        return self.reader.content_at(commit, record)

    def read_ahead(self, wanted: Iterable[tuple[str, str]]) -> None:
        """Fetch at once the contents `content_at` will be asked for: (commit, record) pairs."""
        self.reader.read_ahead(wanted)

    def registry(self, blob: str | None) -> Registry | None:
        return self.trust.registry(blob)

    def registry_at(self, commit: str) -> Registry | None:
        """The registry that a child of `commit` is judged by."""
        return self.trust.registry_at(commit)

    def signer(self, commit: Commit, registry: Registry) -> Person | None:
        """The person `registry` registers whose valid key signed `commit` as its committer."""
        problem, person, _ = self.judge.signer(commit, registry)
        return person if problem is None else None

    def authors_at(self, commit: str, record: str) -> frozenset[str]:
        """Emails of everyone who changed `record` since its last approval, as of `commit` (a
        tip of the walk)."""
        return self.ledger.authors_at(commit, record)

    def open_authors_at(self, commit: str, record: str) -> AuthorSet:
        """`authors_at`, its questions left open: `authors.holds` asks only what decides."""
        return self.ledger.open_authors_at(commit, record)

    def brought_in(self, step: Step, record: str) -> bool:
        """Whether a merge's version of `record` is a merged branch's, not its own edit."""
        return self.reader.brought_in(step, record)

    def received_at(self, commit: str) -> datetime | None:
        """The server's receipt time of `commit`, if it has one."""
        return self.receipts.at(commit)

    def graph(self) -> list[tuple[str, tuple[str, ...]]]:
        """Every commit walked, with its parents, parents first."""
        return [(step.commit.id, step.commit.parents) for step in self.history.steps]

    def tip_time(self) -> datetime | None:
        """The committer date of the last commit walked, in UTC."""
        steps = self.history.steps
        return steps[-1].commit.committer.utc if steps else None

    def commit_times(self) -> dict[str, datetime]:
        """Every commit walked -> its committer date, in UTC."""
        return {step.commit.id: step.commit.committer.utc for step in self.history.steps}

    def steps_for(self, commits: Collection[str]) -> list[Step]:
        """The steps of these commits, in the order walked."""
        return [step for step in self.history.steps if step.commit.id in commits]

    @property
    def tip(self) -> str | None:
        """The last commit walked."""
        steps = self.history.steps
        return steps[-1].commit.id if steps else None

    def touching(self, record: str) -> list[Step]:
        """The steps that changed `record` (for qms.yaml: the registry) or signed it."""
        signed = {v.commit for v in self.report.verdicts if v.record == record}
        return [
            step
            for step in self.history.steps
            if (step.config if record == CONFIG_RECORD else step.records.get(record)) is not None
            or step.commit.id in signed
        ]

    def change_index(self) -> ChangeIndex:
        """Where each record changed in this walk."""
        steps = self.history.steps
        changes = ChangeIndex(lambda at: steps[at].commit)
        changes.add(steps, 0)
        return changes

    def claimed_content(self, verdict: Verdict) -> str | None:
        """The content hash a signature's trailers name for its record."""
        claims = self.claims.get(verdict.commit)
        if claims is None:
            return None
        return next((c.content for c in claims.claims if c.record == verdict.record), None)

    def _all_names(self) -> set[str]:
        """The names of every blob a full walk reads."""
        steps = self.history.steps
        return blob_names(self.place, steps, {step.commit.id for step in steps}, self.claims)
