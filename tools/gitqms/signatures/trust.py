"""The walk's trust chain: which qms.yaml is in force at each commit.

It is the trust root's, changed only by commits that an admin of the parent's registry validly
signed; an unsigned or unauthorised change is reported and not adopted. A merge takes a branch's
registry only if it grew, by signed changes, out of the one in force on its first parent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..errors import QmsError
from ..history.read import Step
from ..safeyaml import LoadError, decode_record_bytes
from ..validation.run import parse_config
from .claims import CONFIG_RECORD
from .contents import Contents
from .registry import Registry
from .verdict import Verdict, git_blob_id

UNSIGNED = "unsigned"  # qms.yaml changed without an admin's signature
INVALID = "invalid"  # qms.yaml changed, signed, but it does not validate


@dataclass(slots=True, kw_only=True)
class TrustState:
    """The trust chain as the history index keeps it."""

    pinned_root: str | None  # given by the caller or by git config qms.trustRoot
    root_commit: str | None = None  # the trust root the walk found (or the pinned one)
    config_blob: dict[str, str | None] = field(default_factory=dict)  # commit -> its qms.yaml
    trusted: dict[str, str | None] = field(default_factory=dict)  # commit -> qms.yaml in force
    lineage: dict[str, frozenset[str]] = field(default_factory=dict)  # -> trusted before it
    notes: list[str] = field(default_factory=list)


class TrustChain:
    def __init__(self, state: TrustState, contents: Contents) -> None:
        self.state = state
        self.contents = contents
        self._registries: dict[str, Registry | None] = {}
        self._why: dict[str, str] = {}  # qms.yaml blob or commit -> why it is not in force
        self._root_ancestors: frozenset[str] | None = None  # the trust root and before it

    def registry(self, blob: str | None) -> Registry | None:
        """The registry a qms.yaml blob holds; None when it does not validate."""
        if blob is None:
            return None
        if blob not in self._registries:
            content = self.contents.registry_blob(blob)
            config = None
            if content is not None:
                try:
                    text = decode_record_bytes(content)
                    config, found = parse_config(text, self.contents.any_blob)
                    error = next((f for f in found if f.severity == "error"), None)
                    if error is not None:
                        self._why[blob] = f"{error.location}: {error.message}"
                except LoadError as problem:
                    config = None
                    self._why[blob] = problem.message
                except Exception as problem:  # fail closed: never crash the walk
                    # A registry gitqms cannot read is never in force, whatever the reason.
                    config = None
                    self._why[blob] = f"it cannot be read ({type(problem).__name__}: {problem})"
            self._registries[blob] = None if config is None else Registry(config, blob)
        return self._registries[blob]

    def why_not(self, commit: str, blob: str | None) -> str | None:
        """Why the qms.yaml `blob` of `commit` was not adopted, when the chain knows."""
        return self._why.get(commit) or self._why.get(blob or "")

    def registry_at(self, commit: str) -> Registry | None:
        """The registry that a child of `commit` is judged by."""
        return self.registry(self.state.trusted.get(commit))

    def take_base(self, parent: str) -> None:
        """A parent outside the walk (the base of a range): its registry is taken as verified."""
        state = self.state
        content = self.contents.blob(f"{parent}:{self.contents.config_path}")
        blob = None if content is None else git_blob_id(content)
        if content is not None:
            self.contents.keep(blob or "", content)
        state.config_blob[parent] = blob
        state.trusted[parent] = blob
        state.lineage.setdefault(blob or "", frozenset())
        if blob:
            state.notes.append(
                f"the registry at {parent[:12]}, the base of the range, is taken as "
                "verified; run `qms verify` without a range to check it"
            )

    def find_root(self, steps: Sequence[Step]) -> None:
        """The pinned root, else the one commit in the range that introduces qms.yaml.

        Inside a range whose base already has a registry, nothing in the range can be a root.
        Two commits that both introduce qms.yaml (an unrelated history merged in) are refused
        rather than guessed between: the attacker could choose which comes first.
        """
        candidates = self.root_candidates(steps)
        state = self.state
        if state.pinned_root:
            state.root_commit = state.pinned_root
        elif any(blob for blob in state.config_blob.values()):
            state.root_commit = None  # the base of the range holds the trusted registry
        elif len(candidates) > 1:
            raise QmsError(
                f"{len(candidates)} commits each introduce qms.yaml ("
                + ", ".join(c[:12] for c in candidates)
                + "); the trust root is ambiguous",
                hint="pin it: git config qms.trustRoot COMMIT, or qms verify --trust-root COMMIT",
            )
        else:
            state.root_commit = candidates[0] if candidates else None

    def root_candidates(self, steps: Sequence[Step]) -> list[str]:
        """The commits of `steps` that hold qms.yaml where none of their parents does."""
        blobs = dict(self.state.config_blob)
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

    def enter(self, step: Step) -> tuple[bool, Registry | None]:
        """Note the qms.yaml of `step`: whether it is the trust root, and the registry that
        judges it. A commit cannot authorise itself: it is judged by its parent's registry;
        only the trust root, which nothing precedes, is judged by its own."""
        state = self.state
        commit = step.commit
        first = commit.parents[0] if commit.parents else None
        blob = state.config_blob.get(first) if first else None
        if step.config is not None:
            blob = step.config.new_blob
        state.config_blob[commit.id] = blob
        if commit.id == state.root_commit:
            state.trusted[commit.id] = blob
            state.lineage[blob or ""] = frozenset()
            return True, self.registry(blob)
        return False, self.registry(state.trusted.get(first) if first else None)

    def before_root(
        self, commit: str, graph: Callable[[], list[tuple[str, tuple[str, ...]]]]
    ) -> bool:
        """Whether `commit` is the trust root or one of its ancestors. With no trust root, only
        when no registry is trusted anywhere (no qms.yaml yet: nothing is judged); inside a
        range whose base holds the registry, nothing is before the root."""
        if self._root_ancestors is None:
            root = self.state.pinned_root or self.state.root_commit
            if root is None:
                if not any(self.state.trusted.values()):
                    return True  # no registry yet: recomputed, as one may be trusted later
                self._root_ancestors = frozenset()
                return False
            parents = dict(graph())
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

    def leave(self, step: Step, verdicts: Sequence[Verdict]) -> str | None:
        """Decide the registry in force after `step` (not the trust root), judged with its
        `verdicts`; what went wrong with a change of qms.yaml (UNSIGNED, INVALID), if it did."""
        state = self.state
        commit = step.commit
        trusted, problem = self._trusted_after(step, state.config_blob[commit.id], verdicts)
        state.trusted[commit.id] = trusted
        return problem

    def _trusted_after(
        self, step: Step, blob: str | None, verdicts: Sequence[Verdict]
    ) -> tuple[str | None, str | None]:
        state = self.state
        commit = step.commit
        first = commit.parents[0] if commit.parents else None
        first_trusted = state.trusted.get(first) if first else None
        if first_trusted is None:
            return None, None  # before the trust root nothing is trusted
        if blob == first_trusted or blob == state.config_blob.get(first or ""):
            return first_trusted, None  # unchanged here: the first parent's stays in force
        for side in commit.parents[1:]:
            # A merge takes a branch's registry only if it grew, by signed changes, out of the
            # one in force here: an old registry (a key not yet revoked) cannot come back.
            side_trusted = state.trusted.get(side)
            if side_trusted == blob and first_trusted in state.lineage.get(blob or "", ()):
                return blob, None
        signed = [v for v in verdicts if v.record == CONFIG_RECORD]
        if any(v.ok for v in signed):
            registry = self.registry(blob)
            refused = (
                None if registry is None else self._kinds_refused(step, registry, first_trusted)
            )
            if refused is not None:
                self._why[commit.id] = refused
            if registry is not None and refused is None:
                state.lineage[blob or ""] = (
                    state.lineage.get(blob or "", frozenset())
                    | state.lineage.get(first_trusted, frozenset())
                    | {first_trusted}
                )
                return blob, None
            return first_trusted, INVALID
        return first_trusted, None if signed else UNSIGNED

    def _kinds_refused(self, step: Step, registry: Registry, before: str) -> str | None:
        """Why `registry`, signed at `step`, may not be adopted for its kinds, or None: a kind
        adopted before removed or its identity changed (files already named by it would
        change meaning), or a new kind whose folder already holds files (they would become
        records after the fact)."""
        old = self.registry(before)
        if old is None:
            return None
        new = registry.config.kinds.by_name
        for kind in old.config.kinds.declared:
            if kind.name not in new or new[kind.name].identity != kind.identity:
                return (
                    f"it removes or changes the adopted kind {kind.name!r}; a kind's name, "
                    "family, folder, file form and ID numbering never change"
                )
        for kind in registry.config.kinds.declared:
            if kind.name not in old.config.kinds.by_name and self.contents.place.holds_files(
                step.commit.id, kind.folder
            ):
                return (
                    f"it declares the kind {kind.name!r}, whose folder {kind.folder}/ already "
                    "holds files; a new kind starts with an empty folder"
                )
        return None
