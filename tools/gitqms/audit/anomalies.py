"""The anomalies of an audit-trail review: what an inspector must see among a period's commits.

Each anomaly has a stable code (ANOMALY_KINDS), the commit, the record, the person and a sentence
that says what is wrong: a change without a reason, a signature that does not count (and why:
unsigned, a revoked key, a key outside its window, a role the policy does not give), an edit of a
closed record, a commit dated far from when the server received it, a commit that reached a
protected branch without a merge.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from ..history.read import Step
from ..history.receipts import DatedReceipt
from ..records.kinds import kind_of_id
from ..signatures.claims import CONFIG_RECORD, record_data, record_kind
from ..signatures.registry import key_window_problem
from ..signatures.verify import Verdict, Walk
from .record_log import change_of
from .special import CLOSED_WHEN_WRITTEN

# code -> what it means, for people; codes never change once published (reviews record them).
ANOMALY_KINDS: dict[str, str] = {
    "change.no-reason": "a change to a record without a 'Reason:' trailer",
    "signature.unsigned": "signature trailers on a commit that carries no signature",
    "signature.invalid": "a signature that does not count",
    "signature.role": "a signature by someone without a role the policy requires",
    "key.revoked": "a signature made with a key on or after its revocation",
    "key.validity": "a signature made with a key outside its validity window",
    "date.back-dated": "a commit dated long before the server received it",
    "date.future-dated": "a commit dated after the server received it",
    "record.closed-edited": "an edit of a closed or cancelled record that was not a signed reopening",
    "branch.direct-commit": "a change on the protected branch that did not arrive through a merge",
}


@dataclass(frozen=True)
class Anomaly:
    code: str
    commit: str
    record: str
    person: str  # printed name and email
    when: datetime  # the commit's committer date, UTC
    message: str


class AnomalyFinder:
    """Collects the anomalies of the period's steps, one kind of check per method."""

    def __init__(self, walk: Walk, tip: str, verdicts: Mapping[str, list[Verdict]]) -> None:
        self.walk = walk
        self.verdicts = verdicts
        self.found: list[Anomaly] = []
        self.latest = walk.registry_at(tip)

    def add(self, code: str, step: Step, record: str, person: str, message: str) -> None:
        commit = step.commit
        self.found.append(Anomaly(code, commit.id, record, person, commit.committer.utc, message))

    def author(self, step: Step) -> str:
        """Who made the commit's changes, as proven: the registered person whose valid
        signature makes them its author, by the name and email the registry at its parent
        gives them; else the name and email the commit states, said to be only that (an
        email a commit states is anyone's to write, so it never names a registered person)."""
        commit = step.commit
        person = self.walk.proven_person(commit)
        if person is not None:
            return f"{person.name} <{person.email}>"
        return f"{commit.author.name} <{commit.author.email}> (as the commit states, not proven)"

    def own_changes(self, step: Step) -> list[str]:
        """Records this commit changed itself (a merge: not the ones a branch brought in)."""
        merge = len(step.commit.parents) > 1
        return [r for r in sorted(step.records) if not (merge and self.walk.brought_in(step, r))]

    def reasons(self, step: Step) -> None:
        if step.commit.gives_reason:
            return
        for record in self.own_changes(step):
            self.add(
                "change.no-reason",
                step,
                record,
                self.author(step),
                f"{record} was changed in commit {step.commit.id[:12]} by {self.author(step)} "
                "without a 'Reason:' trailer, so the audit trail does not say why it changed.",
            )

    def signatures(self, step: Step) -> None:
        for verdict in self.verdicts.get(step.commit.id, ()):
            if verdict.ok:
                continue
            code = self._code(step, verdict)
            self.add(
                code,
                step,
                verdict.record,
                f"{verdict.signer} <{verdict.email}>",
                f"The signature '{verdict.meaning}' on {verdict.record} by {verdict.signer} "
                f"<{verdict.email}> in commit {verdict.commit[:12]}, dated "
                f"{verdict.when:%Y-%m-%d %H:%M}Z, does not count: "
                + "; ".join(verdict.problems)
                + ".",
            )

    def _code(self, step: Step, verdict: Verdict) -> str:
        """The most telling code for a signature that does not count."""
        claims = any(key.lower().startswith("qms-") for key, _ in step.commit.trailers)
        if step.commit.signature is None and claims:
            return "signature.unsigned"
        parent = step.commit.parents[0] if step.commit.parents else step.commit.id
        before = self.walk.registry_at(parent)
        if verdict.fingerprint is not None:
            then = before.key_by_fingerprint(verdict.fingerprint) if before else None
            now = self.latest.key_by_fingerprint(verdict.fingerprint) if self.latest else None
            day = verdict.when.date()
            known = now or then
            revoked = known.key.revoked_on if known else None
            if (then and then.key.revoked_on) or (revoked and day >= date.fromisoformat(revoked)):
                return "key.revoked"
            if then and key_window_problem(then.key, day):
                return "key.validity"
        if verdict.person is not None and before is not None:
            kind = kind_of_id(verdict.record)
            name = "qms" if verdict.record == CONFIG_RECORD else (kind.name if kind else "")
            rule = before.config.signatures.get(name, {}).get(verdict.meaning)
            person = before.config.person(verdict.person)
            if rule is not None and person is not None and not person.roles & rule.roles:
                return "signature.role"
        return "signature.invalid"

    def closed_edits(self, steps: Sequence[Step]) -> None:
        """Changes to a closed or cancelled record with states (a CAPA, a deviation), other
        than a signed move out, and any change to a record closed when written (a signed
        audit-trail review)."""
        candidates = [
            (step, record)
            for step in steps
            for record in self.own_changes(step)
            if (kind := record_kind(record)) is not None
            and not kind.is_document
            and (change := step.records[record]).old_blob
            and change.new_blob
        ]
        edited = [(s, r, m) for s, r in candidates if (m := _written_once(r)) is not None]
        for step, record, message in edited:
            self.add(
                "record.closed-edited",
                step,
                record,
                self.author(step),
                message.format(record=record, commit=step.commit.id[:12], author=self.author(step)),
            )
        candidates = [(s, r) for s, r in candidates if _written_once(r) is None]
        blobs = self.walk.place.blobs(
            blob
            for step, record in candidates
            for blob in (step.records[record].old_blob, step.records[record].new_blob)
            if blob
        )
        for step, record in candidates:
            change = step.records[record]
            old = record_data(blobs.get(change.old_blob or ""), record)
            new = record_data(blobs.get(change.new_blob or ""), record)
            kind = record_kind(record)
            registry = self.walk.registry_at(step.commit.parents[0]) or self.latest
            if not isinstance(old, dict) or kind is None or registry is None:
                continue
            machine = registry.config.lifecycles.machines.get(kind.name)
            source = str(old.get("state"))
            if machine is None or source not in machine.closed:
                continue
            target = str(new.get("state")) if isinstance(new, dict) else "?"
            move = machine.transition(source, target) if target != source else None
            if move is not None and any(
                v.ok and v.record == record and v.meaning == move.meaning and v.version == target
                for v in self.verdicts.get(step.commit.id, ())
            ):
                continue  # a signed reopening (or another allowed, signed move)
            what = (
                "edited it"
                if target == source
                else f"moved it to '{target}' without a valid signed transition"
            )
            self.add(
                "record.closed-edited",
                step,
                record,
                self.author(step),
                f"{record} was {source}; commit {step.commit.id[:12]} by {self.author(step)} "
                f"{what}. A {source} record changes only by a signed reopening.",
            )

    def receipt_dates(self, steps: Sequence[Step], receipts: Mapping[str, DatedReceipt]) -> None:
        for step in steps:
            dated = receipts.get(step.commit.id)
            if dated is None or not dated.flag:
                continue
            code = "date.back-dated" if dated.flag.startswith("back") else "date.future-dated"
            signers = {f"{v.signer} <{v.email}>" for v in self.verdicts.get(step.commit.id, ())}
            person = ", ".join(sorted(signers)) or self.author(step)
            for record in _records_of(step, self.verdicts.get(step.commit.id, ())):
                self.add(
                    code,
                    step,
                    record,
                    person,
                    f"Commit {step.commit.id[:12]} by {person} is dated "
                    f"{dated.committed:%Y-%m-%d %H:%M}Z, but the server received it at "
                    f"{dated.receipt.received:%Y-%m-%d %H:%M}Z ({dated.flag}).",
                )

    def direct_commits(self, period: set[str], root_commit: str | None) -> None:
        """Commits of the first-parent chain of the tip that are not merges and change records:
        they reached the protected branch without a merge (a reviewed pull request)."""
        steps = {step.commit.id: step for step in self.walk.steps_for(period)}
        parents = dict(self.walk.graph())
        commit: str | None = self.walk.tip
        while commit is not None:
            step = steps.get(commit)
            first = parents.get(commit, ())
            if step is not None and len(first) == 1 and commit != root_commit and step.records:
                for record in sorted(step.records):
                    self.add(
                        "branch.direct-commit",
                        step,
                        record,
                        self.author(step),
                        f"Commit {commit[:12]} by {self.author(step)} changed {record} directly "
                        "on the protected branch: it is not a merge, so it did not arrive "
                        "through a reviewed merge request.",
                    )
            commit = first[0] if first else None


def _written_once(record: str) -> str | None:
    """What is said of an edit of `record` when its kind is closed when written; else None."""
    kind = record_kind(record)
    return CLOSED_WHEN_WRITTEN.get(kind.special or "") if kind is not None else None


def _records_of(step: Step, verdicts: Iterable[Verdict]) -> list[str]:
    records = set(step.records) | {v.record for v in verdicts}
    if change_of(step, CONFIG_RECORD) is not None:
        records.add(CONFIG_RECORD)
    return sorted(records) or ["-"]
