"""The verifier: every signature commit judged against the registry of its first parent.

One walk over history, parents before children, keeps three things:
- per commit, the trusted qms.yaml: the trust root's, changed only by commits that an admin of
  the parent's registry validly signed; an unsigned or unauthorised change is reported and not
  adopted;
- who authored each record since its last approval, for separation of duties (per commit until
  its children are walked, then only at the tips). Authorship is proven, not claimed: the author
  of a change is the registered person whose key signed the commit, valid at its parent; a
  change after the trust root that no such signature covers is reported (meaning 'authored')
  and marks the version's author as unproven, so no independent signature of it counts until a
  registered person commits it signed (who then answers for it). Before the trust root nothing
  is judged: the emails a commit states are taken, as nothing else is known;
- the signatures already counted, so one person signs a meaning once per version.

`walk_history` keeps the finished walk of a commit in the history index (walk_index.py).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path

from .. import clock, git
from ..crypto.ahead import SshChecks
from ..crypto.openpgp import SIGNATURE_BEGIN, Verifier
from ..crypto.sshsig import BEGIN as SSH_BEGIN
from ..errors import QmsError
from ..history.boundaries import refuse_cut_history
from ..history.commits import Commit
from ..history.read import History, Step, blob_ids, load_history
from ..records.config import Person, SignatureRule
from ..records.kinds import kind_of_id
from ..records.lifecycles import STATE_FIELDS
from ..safeyaml import LoadError, decode_record_bytes, edits_only
from ..validation.run import parse_config
from .binding import binding_problem, brought_in
from .claims import (
    CONFIG_RECORD,
    Claim,
    Claims,
    content_hash,
    read_claims,
    record_data,
    stated_version,
)
from .record_changes import ChangeIndex
from .registry import Registry, key_window_problem

RELEASE_MEANING = "approved"  # a valid approval starts the next version's authorship afresh
AUTHORED = "authored"  # the meaning of the verdict on a change whose author is not proven
UNPROVEN = "?"  # among a version's authors: someone whose change no valid signature covers


class Unextendable(Exception):
    """A walk cannot be carried on to a later tip as a full walk would (walk it afresh)."""


@dataclass(frozen=True)
class Verdict:
    commit: str
    when: datetime  # committer date, UTC
    record: str
    version: str | None
    meaning: str
    reason: str | None
    signer: str  # printed name from the registry, else the committer's name
    email: str  # the committer's
    person: str | None
    role: str | None  # the signer's role that the policy accepted
    fingerprint: str | None
    problems: tuple[str, ...] = ()
    superseded: str | None = None  # why this valid signature no longer covers the record

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def status(self) -> str:
        if self.problems:
            return "invalid"
        return "superseded" if self.superseded else "valid"


@dataclass
class Report:
    verdicts: list[Verdict]
    commits: int
    trust_root: str | None
    notes: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.ok]


def git_blob_id(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def verify_history(
    root: Path, revisions: Sequence[str] = ("HEAD",), *, trust_root: str | None = None
) -> Report:
    return walk_history(root, revisions, trust_root=trust_root).report


def walk_to_sign(root: Path, commit: str) -> tuple[Walk, Registry]:
    """The walk of `commit` (HEAD, about to be signed on) and the registry trusted there; an
    error when there is none, since then no signature made now could count."""
    walk = walk_history(root, [commit])
    registry = walk.registry_at(commit)
    if registry is None:
        raise QmsError(
            "no trusted qms.yaml at HEAD, so no signature can count",
            hint="run `qms verify` to see why",
        )
    return walk, registry


def walk_history(
    root: Path, revisions: Sequence[str] = ("HEAD",), *, trust_root: str | None = None
) -> Walk:
    """The finished walk: its report, and the trusted registry and authorship at each commit.

    The trust root is the one given, else `git config qms.trustRoot`, else found in history.
    """
    pinned = trust_root or git.config_value(root, "qms.trustRoot")
    if pinned is not None:
        resolved = git.rev_parse(root, f"{pinned}^{{commit}}")
        if resolved is None:
            raise QmsError(
                f"the trust root {pinned} is not a commit of this repository",
                hint="check --trust-root or git config qms.trustRoot",
            )
        pinned = resolved
    refuse_cut_history(root, revisions, pinned)  # shallow or grafted: only from a pinned root

    def walk_all() -> Walk:
        checks = SshChecks()
        try:
            walk = Walk(load_history(root, revisions, on_commit=offer_to(checks)), pinned, checks)
            walk.run()
        finally:
            checks.close()
        return walk

    tip = git.rev_parse(root, f"{revisions[0]}^{{commit}}") if len(revisions) == 1 else None
    if tip is None or not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", tip):
        return walk_all()  # not one commit's whole history (a range, say): never stored
    from .walk_index import cached_walk  # it builds on this module

    return cached_walk(root, tip, pinned, walk_all, offer_to)


def offer_to(checks: SshChecks) -> Callable[[Commit], None]:
    """What hands each signature commit to `checks` as history is read, to check ahead."""

    def offer(commit: Commit) -> None:
        armored = commit.signature or ""
        if armored.lstrip().startswith(SSH_BEGIN):  # signatures and signed changes alike
            checks.offer(commit.id, armored, commit.payload)

    return offer


class Walk:
    def __init__(
        self, history: History, trust_root: str | None, ssh_checks: SshChecks | None = None
    ) -> None:
        self.history = history
        self.place = replace(history, steps=[])  # where records live, and reading blobs
        self.pinned_root = trust_root
        self.config_path = history.path_of(CONFIG_RECORD)
        self.claims: dict[str, Claims] = {}
        self.config_blob: dict[str, str | None] = {}
        self.trusted: dict[str, str | None] = {}
        # Who changed each record since its last approval, per commit. A map is kept only until
        # every child has read it (tips keep theirs), and one that no other commit holds is
        # updated in place: memory stays proportional to the open branches, not the history.
        self.pending: dict[str, dict[str, frozenset[str]]] = {}
        self._children: dict[str, int] = {}  # commit -> children not yet walked
        self._holders: dict[int, int] = {}  # id of a pending map -> commits holding it
        self._authorship: dict[tuple[str, str], bool] = {}  # (commit, record) -> _authored
        self._signers: dict[str, tuple[str | None, Person | None, str | None]] = {}
        self.proven: dict[str, str] = {}  # a commit that changed records -> its signer's id
        self._root_ancestors: frozenset[str] | None = None  # the trust root and before it
        self._received: dict[str, datetime] | None = None  # the server's receipts, once read
        self.receipts_tip: str | None = None  # the receipts' notes commit they were read from
        self._mappings: set[bytes] = set()  # sha256 of record contents known to load as maps
        self.seen: dict[
            tuple[str, str | None, str, str], str
        ] = {}  # (record, content, meaning, person)
        self.registries: dict[str, Registry | None] = {}
        # Blobs the walk reads, by name (`commit:path` or blob id). A walk restored from the
        # history index has none until a caller asks (see `contents`).
        self._contents: dict[str, bytes | None] = {}
        self._complete = True  # every blob a full walk would have fetched is in _contents
        self._fetchable: dict[str, list[str]] | None = None  # their names, by path
        self._fetched_paths = 0
        self.raw_verdicts: list[Verdict] = []  # before the marks made after the walk
        self.root_commit: str | None = None
        self.lineage: dict[str, frozenset[str]] = {}  # trusted qms.yaml -> trusted before it
        self.times: dict[str, datetime] = {}
        self.verdicts: list[Verdict] = []
        self.notes: list[str] = []
        self.report = Report([], 0, None)
        self.openpgp: Verifier | None = None  # gpg's throwaway keyrings, made on first need
        self.ssh_checks = ssh_checks or SshChecks()  # signatures checked ahead of the walk

    # -- reading ----------------------------------------------------------------------------

    def _names(self, steps: Sequence[Step], known: set[str]) -> set[str]:
        """Every blob the walk reads for `steps` (`known`: the commits walked or to be)."""
        names: set[str] = set()
        for step in steps:
            claims = self.claims.get(step.commit.id)
            if claims is not None:
                for claim in claims.claims:
                    names.add(f"{step.commit.id}:{self.place.path_of(claim.record)}")
                    change = step.records.get(claim.record)
                    if change and change.old_blob:
                        names.add(change.old_blob)
            if step.config and step.config.new_blob:
                names.add(step.config.new_blob)
            for parent in step.commit.parents:
                if parent not in known:
                    names.add(f"{parent}:{self.config_path}")
            for record in step.records if len(step.commit.parents) > 1 else ():
                path = self.place.path_of(record)
                names.update(f"{parent}:{path}" for parent in step.commit.parents[1:])
                names.add(f"{step.commit.id}:{path}")
        return names

    def _prefetch(self, steps: Sequence[Step], known: set[str]) -> None:
        """Fetch in one batch every blob the walk will read, by blob id where the changes of
        `steps` tell it."""
        names = sorted(self._names(steps, known))
        ids = blob_ids(steps, (name for name in names if ":" in name))
        self._contents.update(self.place.blobs_by_id(names, ids))
        for step in steps:
            for parent in step.commit.parents:
                if parent not in known and parent not in self.config_blob:
                    content = self._contents.get(f"{parent}:{self.config_path}")
                    blob = None if content is None else git_blob_id(content)
                    if content is not None:
                        self._contents[blob or ""] = content
                    self.config_blob[parent] = blob
                    self.trusted[parent] = blob  # the base of a range is taken as verified
                    self.lineage.setdefault(blob or "", frozenset())
                    self._hold(parent, {})
                    if blob:
                        self.notes.append(
                            f"the registry at {parent[:12]}, the base of the range, is taken as "
                            "verified; run `qms verify` without a range to check it"
                        )

    @property
    def contents(self) -> dict[str, bytes | None]:
        """The blobs the walk read, by name: what `content_at` and merges look up."""
        if not self._complete:
            names = self._all_names() - self._contents.keys()
            self._contents.update(self._fetch(sorted(names)))
            self._complete = True
        return self._contents

    def _all_names(self) -> set[str]:
        """The names of every blob a full walk reads."""
        steps = self.history.steps
        return self._names(steps, {step.commit.id for step in steps})

    def _fetch(self, names: Sequence[str]) -> dict[str, bytes | None]:
        """Blobs by name, for a walk restored from the history index."""
        return self.place.blobs(names)

    def _blob(self, name: str) -> bytes | None:
        """A blob the walk fetched for the commits it walks itself."""
        return self._contents.get(name)

    def registry(self, blob: str | None) -> Registry | None:
        if blob is None:
            return None
        if blob not in self.registries:
            content = self._contents.get(blob)
            if content is None and not self._complete:  # a restored walk: fetch this one
                content = self.place.blobs([blob]).get(blob)
            config = None
            if content is not None:
                try:
                    config, _ = parse_config(decode_record_bytes(content))
                except LoadError:
                    config = None
            self.registries[blob] = None if config is None else Registry(config, blob)
        return self.registries[blob]

    # -- the walk ---------------------------------------------------------------------------

    def run(self) -> None:
        steps = self.history.steps
        self._walk(steps, {step.commit.id for step in steps}, fresh=True)
        self._finish()

    def extend(self, more: History) -> None:
        """Walk on over `more`, commits that descend from this walk's tip, whose parents are
        all walked here or in `more`: what a full walk of the later tip would do, when it
        walks this history first (the caller checks that it does). Raises Unextendable when
        `more` introduces qms.yaml afresh, which could change the trust root."""
        known = {commit for commit, _ in self.graph()}
        known.update(step.commit.id for step in more.steps)
        if not self.pinned_root and self._root_candidates(more.steps):
            raise Unextendable("a new commit introduces qms.yaml")
        self._append(more.steps)
        self.verdicts = list(self.raw_verdicts)
        self._walk(more.steps, known, fresh=False)
        self._finish()

    def _walk(self, steps: Sequence[Step], known: set[str], *, fresh: bool) -> None:
        for step in steps:
            if (claims := read_claims(step.commit)) is not None:
                self.claims[step.commit.id] = claims
            for parent in step.commit.parents:
                self._children[parent] = self._children.get(parent, 0) + 1
        self.ssh_checks.flush()
        try:
            self._prefetch(steps, known)
            if fresh:
                self.root_commit = self._trust_root()
            for step in steps:
                self._step(step)
        finally:
            if self.openpgp is not None:
                self.openpgp.close()
                self.openpgp = None

    def _append(self, steps: Sequence[Step]) -> None:
        history = self.history
        self.history = History(history.root, history.prefix, [*history.steps, *steps])

    def _finish(self) -> None:
        self.raw_verdicts = list(self.verdicts)
        self._recheck_revocations()
        self._bind_to_line()
        self._mark_superseded()
        root = self.pinned_root or self.root_commit
        self.report = Report(self.verdicts, len(self.graph()), root, self.notes)

    def content_at(self, commit: str, record: str) -> bytes | None:
        """A record's bytes at a signature commit or a merge, as fetched for the walk."""
        path = self.place.path_of(record)
        name = f"{commit}:{path}"
        if not self._complete and name not in self._contents:
            # A restored walk: fetch what a full walk read of this record, the first few times
            # a record is asked for; after that, all of it at once.
            if self._fetchable is None:
                self._fetchable = {}
                for each in self._read_at_commits():
                    self._fetchable.setdefault(each.partition(":")[2], []).append(each)
            if name not in self._fetchable.get(path, ()):
                return None
            self._fetched_paths += 1
            if self._fetched_paths > 32:
                return self.contents.get(name)
            self._contents.update(self._fetch(self._fetchable.pop(path)))
        return self._contents.get(name)

    def _read_at_commits(self) -> set[str]:
        """The `commit:path` names among the blobs a full walk reads."""
        return {name for name in self._all_names() if ":" in name}

    def graph(self) -> list[tuple[str, tuple[str, ...]]]:
        """Every commit walked, with its parents, parents first."""
        return [(step.commit.id, step.commit.parents) for step in self.history.steps]

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

    def registry_at(self, commit: str) -> Registry | None:
        """The registry that a child of `commit` is judged by."""
        return self.registry(self.trusted.get(commit))

    def signer(self, commit: Commit, registry: Registry) -> Person | None:
        """The person `registry` registers whose valid key signed `commit` as its committer."""
        problem, person, _ = self._signer(commit, registry)
        return person if problem is None else None

    def authors_at(self, commit: str, record: str) -> frozenset[str]:
        """Emails of everyone who changed `record` since its last approval, as of `commit` (a
        tip of the walk: the maps of commits whose children were walked are not kept)."""
        return self.pending.get(commit, {}).get(record, frozenset())

    def _trust_root(self) -> str | None:
        """The pinned root, else the one commit in the range that introduces qms.yaml.

        Inside a range whose base already has a registry, nothing in the range can be a root.
        Two commits that both introduce qms.yaml (an unrelated history merged in) are refused
        rather than guessed between: the attacker could choose which comes first.
        """
        candidates = self._root_candidates(self.history.steps)
        if self.pinned_root:
            return self.pinned_root
        if any(blob for blob in self.config_blob.values()):
            return None  # the base of the range holds the trusted registry
        if len(candidates) > 1:
            raise QmsError(
                f"{len(candidates)} commits each introduce qms.yaml ("
                + ", ".join(c[:12] for c in candidates)
                + "); the trust root is ambiguous",
                hint="pin it: git config qms.trustRoot COMMIT, or qms verify --trust-root COMMIT",
            )
        return candidates[0] if candidates else None

    def _root_candidates(self, steps: Sequence[Step]) -> list[str]:
        """The commits of `steps` that hold qms.yaml where none of their parents does."""
        blobs = dict(self.config_blob)
        candidates = []
        for step in steps:
            parents = step.commit.parents
            blob = blobs.get(parents[0]) if parents else None
            if step.config is not None:
                blob = step.config.new_blob
            blobs[step.commit.id] = blob
            if blob is not None and all(blobs.get(p) is None for p in parents):
                candidates.append(step.commit.id)
        return candidates

    def _step(self, step: Step) -> None:
        commit = step.commit
        parents = commit.parents
        first = parents[0] if parents else None
        blob = self.config_blob.get(first) if first else None
        if step.config is not None:
            blob = step.config.new_blob
        self.config_blob[commit.id] = blob
        self.times[commit.id] = commit.committer.utc

        is_root = commit.id == self.root_commit
        if is_root:
            self.trusted[commit.id] = blob
            self.lineage[blob or ""] = frozenset()
        # A commit cannot authorise itself: it is judged by its parent's registry. Only the trust
        # root, which nothing precedes, is judged by its own.
        judge_by = blob if is_root else (self.trusted.get(first) if first else None)
        registry = self.registry(judge_by)
        pending = self._merged_pending(parents)

        claims = self.claims.get(commit.id)
        verdicts = self._judge(step, claims, registry, pending) if claims else []
        self.verdicts.extend(verdicts)

        if not is_root:
            self.trusted[commit.id] = self._trusted_after(step, blob, verdicts, registry)
        for parent in parents:
            self._read(parent)
        owned = id(pending) not in self._holders  # no other commit holds it: update in place
        unproven, people = None, frozenset[str]()
        if step.records:
            unproven, people = self._author(step, registry, is_root)
        after, authored = self._pending_after(step, pending, claims, verdicts, owned, people)
        self._hold(commit.id, after)
        for record in authored if unproven else ():
            problem = (
                f"{record} was changed by a commit that {unproven}, so its author is not "
                "proven: no independent signature of this version counts until a registered "
                "person commits it signed (git commit -S)"
            )
            claim = Claim(record, None, None, AUTHORED)
            self.verdicts.append(self._verdict(commit, claim, None, registry, (problem,)))

    def _author(
        self, step: Step, registry: Registry | None, is_root: bool
    ) -> tuple[str | None, frozenset[str]]:
        """Who answers for the changes of `step`: (None, the signer's email) when a registered
        key valid at the parent signed it; else (why not, {UNPROVEN}). At the trust root and
        before it (its ancestors) nothing is judged: (None, the emails the commit states). Any
        other commit without a trusted registry, such as one of an unrelated history, proves
        no author."""
        commit = step.commit
        if is_root or (registry is None and self._before_root(commit.id)):
            return None, frozenset({commit.author.email.lower(), commit.committer.email.lower()})
        if registry is None:
            # After the trust root, or beside it (an unrelated history merged in), a commit
            # that no trusted registry judges proves nobody: its stated emails are claims.
            return "no trusted registry judges", frozenset({UNPROVEN})
        if commit.signature is None:
            return "is not signed", frozenset({UNPROVEN})
        problem, person, _ = self._signer(commit, registry)
        if problem is not None or person is None:
            return f"is not validly signed ({problem})", frozenset({UNPROVEN})
        self.proven[commit.id] = person.id
        return None, frozenset({person.email.lower()})

    def _before_root(self, commit: str) -> bool:
        """Whether `commit` is the trust root or one of its ancestors. With no trust root, only
        when no registry is trusted anywhere (no qms.yaml yet: nothing is judged); inside a
        range whose base holds the registry, nothing is before the root."""
        if self._root_ancestors is None:
            root = self.pinned_root or self.root_commit
            if root is None:
                if not any(self.trusted.values()):
                    return True  # no registry yet: recomputed, as one may be trusted later
                self._root_ancestors = frozenset()
                return False
            parents = dict(self.graph())
            seen: set[str] = set()
            todo = [root]
            while todo:
                each = todo.pop()
                if each in seen:
                    continue
                seen.add(each)
                todo.extend(parents.get(each, ()))
            self._root_ancestors = frozenset(seen)
        return commit in self._root_ancestors

    def _signer(
        self, commit: Commit, registry: Registry | None
    ) -> tuple[str | None, Person | None, str | None]:
        """`_check_signer`, once per commit."""
        if commit.id not in self._signers:
            self._signers[commit.id] = self._check_signer(commit, registry)
        return self._signers[commit.id]

    def _hold(self, commit: str, pending: dict[str, frozenset[str]]) -> None:
        self.pending[commit] = pending
        self._holders[id(pending)] = self._holders.get(id(pending), 0) + 1

    def _read(self, parent: str) -> None:
        """A child of `parent` was walked; once all were, its map is dropped."""
        left = self._children.get(parent, 0) - 1
        self._children[parent] = left
        if left > 0 or parent not in self.pending:
            return
        held = id(self.pending.pop(parent))
        if self._holders[held] > 1:
            self._holders[held] -= 1
        else:
            del self._holders[held]

    def _trusted_after(
        self, step: Step, blob: str | None, verdicts: list[Verdict], registry: Registry | None
    ) -> str | None:
        commit = step.commit
        first = commit.parents[0] if commit.parents else None
        first_trusted = self.trusted.get(first) if first else None
        if first_trusted is None:
            return None  # before the trust root nothing is trusted
        if blob == first_trusted or blob == self.config_blob.get(first or ""):
            return first_trusted  # unchanged here: the first parent's registry stays in force
        for side in commit.parents[1:]:
            # A merge takes a branch's registry only if it grew, by signed changes, out of the
            # one in force here: an old registry (a key not yet revoked) cannot come back.
            side_trusted = self.trusted.get(side)
            if side_trusted == blob and first_trusted in self.lineage.get(blob or "", ()):
                return blob
        signed = [v for v in verdicts if v.record == CONFIG_RECORD]
        if any(v.ok for v in signed):
            if self.registry(blob) is not None:
                self.lineage[blob or ""] = (
                    self.lineage.get(blob or "", frozenset())
                    | self.lineage.get(first_trusted, frozenset())
                    | {first_trusted}
                )
                return blob
            self._replace_last(
                signed[-1], "the new qms.yaml does not validate, so it is not in force"
            )
            return first_trusted
        if not signed:
            who = f"{commit.committer.name} <{commit.committer.email}>"
            self.verdicts.append(
                self._verdict(
                    commit,
                    Claim(CONFIG_RECORD, None, None, "changed"),
                    None,
                    registry,
                    (
                        f"qms.yaml was changed by {who} without an admin's signature "
                        "(meaning 'changed'); the change is not in force",
                    ),
                )
            )
        return first_trusted

    def _replace_last(self, verdict: Verdict, problem: str) -> None:
        index = self.verdicts.index(verdict)
        self.verdicts[index] = replace(verdict, problems=(*verdict.problems, problem))

    def _merged_pending(self, parents: tuple[str, ...]) -> dict[str, frozenset[str]]:
        maps = [self.pending.get(p, {}) for p in parents]
        if not maps:
            return {}
        merged = maps[0]
        for other in maps[1:]:
            if other is merged or not other:
                continue
            merged = dict(merged)
            for record, authors in other.items():
                merged[record] = merged.get(record, frozenset()) | authors
        return merged

    def _pending_after(
        self,
        step: Step,
        pending: dict[str, frozenset[str]],
        claims: Claims | None,
        verdicts: list[Verdict],
        owned: bool,
        people: frozenset[str],
    ) -> tuple[dict[str, frozenset[str]], list[str]]:
        """The authors of each record after `step`, whose changes `people` made (UNPROVEN: no
        valid signature covers them), and the records whose change here was authorship (those
        of an unproven change all are)."""
        commit = step.commit
        updates: dict[str, frozenset[str] | None] = {}
        signed = {c.record for c in claims.claims} if claims else set()
        released = {v.record for v in verdicts if v.ok and v.meaning == RELEASE_MEANING}
        unproven = UNPROVEN in people
        for record, change in step.records.items():
            before = pending.get(record, frozenset())
            if record in released or (people <= before and not unproven and UNPROVEN not in before):
                continue  # cleared below, or nobody new: whether this is authorship is moot
            if len(commit.parents) > 1 and self._brought_in(step, record, self._blob):
                continue  # authored on the merged branch, and counted there
            if record in signed and not self._authored(step, record, change):
                continue
            # A signed change makes its signer answer for the version, unproven parts included.
            updates[record] = before | people if unproven else (before - {UNPROVEN}) | people
        for record in released:
            updates[record] = None
        authored = [record for record, authors in updates.items() if authors is not None]
        if not updates:
            return pending, authored
        result = pending if owned else dict(pending)
        for record, authors in updates.items():
            if authors is None:
                result.pop(record, None)
            else:
                result[record] = authors
        return result, authored

    def brought_in(self, step: Step, record: str) -> bool:
        """Whether a merge's version of `record` is a merged branch's, not its own edit."""
        return self._brought_in(step, record, self.contents.get)

    def _brought_in(self, step: Step, record: str, blob: Callable[[str], bytes | None]) -> bool:
        path = self.place.path_of(record)
        mine = blob(f"{step.commit.id}:{path}")
        return any(mine == blob(f"{p}:{path}") for p in step.commit.parents[1:])

    def _authored(self, step: Step, record: str, change: git.Change) -> bool:
        """Whether a signature commit changed more of the record than its state."""
        key = (step.commit.id, record)
        if key not in self._authorship:
            self._authorship[key] = self._changed_more(step, record, change)
        return self._authorship[key]

    def _changed_more(self, step: Step, record: str, change: git.Change) -> bool:
        before = self._blob(change.old_blob or "")
        after = self._blob(f"{step.commit.id}:{self.place.path_of(record)}")
        if before is not None and after is not None and not record.startswith("SOP-"):
            # Most state changes rewrite only one-line state fields: told from the lines, with
            # one parse of the old content (none when it is known to load as a mapping).
            try:
                lines = edits_only(
                    decode_record_bytes(before), decode_record_bytes(after), STATE_FIELDS
                )
            except LoadError:
                lines = None
            if lines and self._loads_as_mapping(before, record):
                self._mappings.add(hashlib.sha256(after).digest())
                return False
        old = record_data(before, record)
        new = record_data(after, record)
        if not isinstance(old, dict) or not isinstance(new, dict):
            return True
        keys = (old.keys() | new.keys()) - STATE_FIELDS
        return any(old.get(k) != new.get(k) for k in keys)

    def _loads_as_mapping(self, content: bytes, record: str) -> bool:
        digest = hashlib.sha256(content).digest()
        if digest not in self._mappings and isinstance(record_data(content, record), dict):
            self._mappings.add(digest)
        return digest in self._mappings

    # -- judging one signature commit ---------------------------------------------------------

    def _judge(
        self,
        step: Step,
        claims: Claims,
        registry: Registry | None,
        pending: Mapping[str, frozenset[str]],
    ) -> list[Verdict]:
        commit = step.commit
        if claims.problem:
            claim = Claim("?", None, None, "?")
            return [
                self._verdict(
                    commit, claim, None, registry, (f"malformed trailers: {claims.problem}",)
                )
            ]
        signer_problem, person, fingerprint = self._signer(commit, registry)
        verdicts = []
        for claim in claims.claims:
            if signer_problem:
                problems: tuple[str, ...] = (signer_problem,)
                role = None
            else:
                assert registry is not None and person is not None
                role, found = self._check_claim(step, claim, registry, person, pending)
                problems = tuple(found)
            verdict = self._verdict(commit, claim, person, registry, problems, role, fingerprint)
            verdict = replace(verdict, reason=claims.reason) if claims.reason else verdict
            # A state change writes the record in its own commit, so it cannot be replayed; the
            # same content may come round again (a plan returned, then proposed again).
            replayable = claim.record not in step.records
            if verdict.ok and person is not None and replayable:
                key = (claim.record, claim.content, claim.meaning, person.id)
                if key in self.seen:
                    verdict = replace(
                        verdict,
                        problems=(
                            f"{person.name} already signed '{claim.meaning}' for this content of "
                            f"{claim.record} in commit {self.seen[key][:12]}; one signature per "
                            "person, meaning and version",
                        ),
                    )
                else:
                    self.seen[key] = commit.id
            verdicts.append(verdict)
        return verdicts

    def _check_signer(
        self, commit: Commit, registry: Registry | None
    ) -> tuple[str | None, Person | None, str | None]:
        """The person whose registered key made a good signature, or why there is none."""
        if commit.signature is None:
            return "the commit carries signature trailers but is not signed", None, None
        if commit.problem:
            return commit.problem, None, None
        armor = commit.signature.lstrip()
        checked = None
        if armor.startswith(SIGNATURE_BEGIN):  # OpenPGP: gpg, with the registry's keys only
            if registry is None:
                return (
                    "no trusted qms.yaml registry precedes this commit (is it before the trust "
                    "root?)",
                    None,
                    None,
                )
            self.openpgp = self.openpgp or Verifier()
            gpg = self.openpgp.verify(commit.signature, commit.payload, registry.openpgp_blocks)
            if gpg.unknown_key:
                key = gpg.unknown_key
                return f"key {key} is not registered in qms.yaml at the parent commit", None, None
            if gpg.fingerprint is None:
                return gpg.problem or "gpg did not confirm a good signature", None, None
            fingerprint = gpg.fingerprint
        elif armor.startswith(SSH_BEGIN):
            checked = self.ssh_checks.outcome(commit.id, commit.signature, commit.payload)
            if checked.fingerprint is None:
                bad = f"the signature does not verify: {checked.error} (altered or copied commit)"
                return bad, None, None
            fingerprint = checked.fingerprint
        else:
            kind = armor.split("\n", 1)[0].strip("- ")[:40]
            return (
                f"unsupported signature format ({kind}); gitqms accepts SSH and OpenPGP signatures",
                None,
                None,
            )
        if registry is None:
            return (
                "no trusted qms.yaml registry precedes this commit (is it before the trust root?)",
                None,
                fingerprint,
            )
        registered = registry.key_by_fingerprint(fingerprint)
        if registered is None:
            return (
                f"key {fingerprint} is not registered in qms.yaml at the parent commit",
                None,
                fingerprint,
            )
        person = registered.person
        if person.email.lower() != commit.committer.email.lower():
            return (
                f"key {fingerprint} is registered to {person.id} <{person.email}>, but the "
                f"committer is <{commit.committer.email}>",
                None,
                fingerprint,
            )
        problem = key_window_problem(
            registered.key, commit.committer.utc.date()
        ) or self._date_problem(commit)
        if problem is None and checked is not None and checked.is_sk:
            if not checked.user_present and not registered.key.no_touch_required:
                problem = "the security key did not confirm user presence (no touch)"
            elif registered.key.verify_required and not checked.user_verified:
                problem = "the security key did not verify the user (PIN), which this key requires"
        return problem, person, fingerprint

    def _date_problem(self, commit: Commit) -> str | None:
        """The signer chooses the committer date; it may not go back behind a parent's."""
        when = commit.committer.utc
        for parent in commit.parents:
            before = self.times.get(parent)
            if before is not None and when < before:
                return (
                    f"the commit is dated {when:%Y-%m-%d %H:%M}Z, before its parent "
                    f"{parent[:12]} ({before:%Y-%m-%d %H:%M}Z): a back-dated signature"
                )
        if when > clock.now() + timedelta(days=1):
            return f"the commit is dated in the future ({when:%Y-%m-%d}Z)"
        return None

    def _recheck_revocations(self) -> None:
        """A key revoked later still voids what it signed on or after its revocation date,
        even on a branch that started before the revocation was recorded. The date is the
        server's receipt where one exists, else the signer's own."""
        if self.tip is None:
            return
        registry = self.registry_at(self.tip)
        if registry is None:
            return
        for index, verdict in enumerate(self.verdicts):
            if not verdict.ok or verdict.fingerprint is None:
                continue
            entry = registry.key_by_fingerprint(verdict.fingerprint)
            revoked = entry.key.revoked_on if entry else None
            if revoked is None:
                continue
            received = self.received().get(verdict.commit)
            if (received or verdict.when).date() >= date.fromisoformat(revoked):
                said = "received by the server" if received else "dated"
                self.verdicts[index] = replace(
                    verdict,
                    problems=(
                        f"the key was revoked on {revoked} ({entry.key.revoked_reason if entry else ''}), "
                        f"and this signature is {said} on or after that day",
                    ),
                )

    def _bind_to_line(self) -> None:
        """A signature brought onto the tip's first-parent line by a merge must also hold in
        the registry in force at that merge's first parent (binding.py)."""
        owner = brought_in(self.graph())
        for index, verdict in enumerate(self.verdicts):
            found = owner.get(verdict.commit)
            if found is None or not verdict.ok or verdict.fingerprint is None:
                continue
            merge, first = found
            registry = self.registry_at(first)
            if registry is None:
                continue
            problem = binding_problem(
                registry,
                merge,
                verdict.record,
                verdict.meaning,
                verdict.person,
                verdict.fingerprint,
                verdict.when,
                partial(self.received_at, verdict.commit),
            )
            if problem is not None:
                self.verdicts[index] = replace(verdict, problems=(problem,))

    @property
    def receipts_read(self) -> bool:
        """Whether a verdict was judged by the server's receipts (the index keeps their tip)."""
        return self._received is not None

    def received_at(self, commit: str) -> datetime | None:
        return self.received().get(commit)

    def received(self) -> dict[str, datetime]:
        """The server's receipt time of each commit (refs/notes/qms-receipts), read once."""
        if self._received is None:
            from ..history.receipts import NOTES_REF, read_receipts  # the server writes them

            self.receipts_tip = git.rev_parse(self.place.root, f"{NOTES_REF}^{{commit}}")
            found = read_receipts(self.place.root) if self.receipts_tip else {}
            self._received = {commit: r.received for commit, r in found.items()}
        return self._received

    def _check_claim(
        self,
        step: Step,
        claim: Claim,
        registry: Registry,
        person: Person,
        pending: Mapping[str, frozenset[str]],
    ) -> tuple[str | None, list[str]]:
        problems: list[str] = []
        kind = (
            "qms"
            if claim.record == CONFIG_RECORD
            else getattr(kind_of_id(claim.record), "name", None)
        )
        if kind is None:
            return None, [f"{claim.record!r} is not a record ID"]
        rule: SignatureRule | None = registry.config.signatures.get(kind, {}).get(claim.meaning)
        role = None
        if rule is None:
            problems.append(
                f"the signature policy has no meaning '{claim.meaning}' for {kind} records"
            )
        else:
            held = sorted(person.roles & rule.roles)
            role = held[0] if held else None
            if role is None:
                problems.append(
                    f"{person.id} holds {', '.join(sorted(person.roles))}; '{claim.meaning}' on "
                    f"a {kind} record needs one of {', '.join(sorted(rule.roles))}"
                )
        content = self._blob(f"{step.commit.id}:{self.place.path_of(claim.record)}")
        if content is None:
            problems.append(f"{claim.record} does not exist in this commit")
        else:
            actual = content_hash(content)
            if claim.content != actual:
                problems.append(
                    f"the trailer claims content {claim.content or '(none)'}, but "
                    f"{claim.record} at this commit is {actual}"
                )
            if kind != "qms":
                version = stated_version(content, claim.record)
                if claim.version != version:
                    problems.append(
                        f"the trailer claims version {claim.version or '(none)'}, but the "
                        f"record at this commit states {version}"
                    )
        separation = registry.config.separation_of_duties
        if rule is not None and rule.independent and separation:
            authors = set(pending.get(claim.record, frozenset()))
            email = person.email.lower()  # the signer: the author of this commit's own change
            change = step.records.get(claim.record)
            if (
                email not in authors  # else it makes no difference
                and change is not None
                and self._authored(step, claim.record, change)
            ):
                authors.add(email)
            if UNPROVEN in authors:
                problems.append(
                    f"the author of this version of {claim.record} is not proven (a change no "
                    "registered person's signature covers), so separation of duties cannot be "
                    f"shown for '{claim.meaning}'"
                )
            elif email in authors:
                problems.append(
                    f"{person.id} authored changes to this version of {claim.record} and "
                    f"cannot sign it '{claim.meaning}' (separation of duties)"
                )
        return role, problems

    def _verdict(
        self,
        commit: Commit,
        claim: Claim,
        person: Person | None,
        registry: Registry | None,
        problems: tuple[str, ...],
        role: str | None = None,
        fingerprint: str | None = None,
    ) -> Verdict:
        if person is None and registry is not None:
            person_hint = registry.config.person_by_email(commit.committer.email)
        else:
            person_hint = person
        return Verdict(
            commit=commit.id,
            when=commit.committer.utc,
            record=claim.record,
            version=claim.version,
            meaning=claim.meaning,
            reason=None,
            signer=person_hint.name if person_hint else commit.committer.name,
            email=commit.committer.email,
            person=person.id if person else None,
            role=role,
            fingerprint=fingerprint,
            problems=problems,
        )

    # -- after the walk ---------------------------------------------------------------------

    def _mark_superseded(self) -> None:
        """A valid signature stops covering its record once the record's content changes."""
        tip = self.tip
        if tip is None:
            return
        paths = {
            record: self.place.path_of(record)
            for record in {v.record for v in self.verdicts if v.ok}
        }
        at_tip = self.place.files_at(tip, paths.values())
        current = {  # each signed record's content hash at the tip, None when it is gone
            record: None if (content := at_tip.get(path)) is None else content_hash(content)
            for record, path in paths.items()
        }
        changes: ChangeIndex | None = None
        where: dict[str, int] = {}
        for index, verdict in enumerate(self.verdicts):
            if not verdict.ok or verdict.record == CONFIG_RECORD:
                continue  # a registry change is meant to be followed by others
            now = current.get(verdict.record)
            if now is not None and now == self.claimed_content(verdict):
                continue
            if changes is None:
                changes = self.change_index()
                where = {commit: at for at, (commit, _) in enumerate(self.graph())}
            changed = changes.first_after(verdict.record, where[verdict.commit])
            by = f" in {changed.id[:12]} by {changed.author.name}" if changed else ""
            self.verdicts[index] = replace(
                verdict,
                superseded=f"the record changed after this signature{by}; it covers earlier content",
            )

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
