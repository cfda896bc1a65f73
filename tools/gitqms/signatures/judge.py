"""The walk's judge: one signature commit against the registry of its first parent.

A signature counts when the commit is signed by a key that registry holds for the committer,
valid on the commit's date (which may not go back behind a parent's), by a person whose role
the signature policy accepts for the meaning, over the content and version the trailers name;
an independent meaning also needs a signer who did not author the version. One person signs a
meaning once per version: the signatures already counted are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from .. import clock
from ..crypto.ahead import Outcome, SshChecks
from ..crypto.openpgp import SIGNATURE_BEGIN, Verifier
from ..crypto.sshsig import BEGIN as SSH_BEGIN
from ..history.commits import Commit
from ..history.read import Step
from ..records.config import Person, QmsConfig, SignatureRule
from ..records.kinds import kind_of_id
from .authors import AuthorSet, holds
from .claims import CONFIG_RECORD, Claim, Claims, content_hash, record_data, stated_version
from .contents import Contents
from .eligible import accepted_as
from .later import Later
from .registry import Registry, key_window_problem
from .verdict import UNPROVEN, SeenKey, Verdict

NO_REGISTRY = "no trusted qms.yaml registry precedes this commit (is it before the trust root?)"
SignerFound = tuple[str | None, Person | None, str | None]  # problem, person, key fingerprint


class Judge:
    def __init__(
        self, contents: Contents, ssh_checks: SshChecks, seen: Later[dict[SeenKey, str]]
    ) -> None:
        self.contents = contents
        self.ssh_checks = ssh_checks  # signatures checked ahead of the walk
        self.seen = seen  # (record, content, meaning, person) -> the commit that counted
        self.times: dict[str, datetime] = {}  # commit -> its committer date, UTC
        self.openpgp: Verifier | None = None  # gpg's throwaway keyrings, made on first need
        self._signers: dict[str, SignerFound] = {}

    def close(self) -> None:
        """The walk is over: the workers checking ahead stop (a later question is checked
        here)."""
        self.ssh_checks.close()
        if self.openpgp is not None:
            self.openpgp.close()
            self.openpgp = None

    def judge(
        self,
        step: Step,
        claims: Claims,
        registry: Registry | None,
        pending: Mapping[str, AuthorSet],
    ) -> list[Verdict]:
        """The verdicts on the signatures `step` claims, whose records' authors are `pending`."""
        commit = step.commit
        if claims.problem:
            claim = Claim("?", None, None, "?")
            problem = f"malformed trailers: {claims.problem}"
            return [self.verdict(commit, claim, None, registry, (problem,))]
        signer_problem, person, fingerprint = self.signer(commit, registry)
        verdicts = []
        for claim in claims.claims:
            if signer_problem:
                problems: tuple[str, ...] = (signer_problem,)
                role = None
            else:
                assert registry is not None and person is not None
                role, found = self._check_claim(step, claim, registry, person, pending)
                problems = tuple(found)
            verdict = self.verdict(commit, claim, person, registry, problems, role, fingerprint)
            verdict = replace(verdict, reason=claims.reason) if claims.reason else verdict
            # A state change writes the record in its own commit, so it cannot be replayed; the
            # same content may come round again (a plan returned, then proposed again).
            replayable = claim.record not in step.records
            if verdict.ok and person is not None and replayable:
                verdict = self._count_once(verdict, claim, person)
            verdicts.append(verdict)
        return verdicts

    def _count_once(self, verdict: Verdict, claim: Claim, person: Person) -> Verdict:
        seen = self.seen()
        key = (claim.record, claim.content, claim.meaning, person.id)
        if key not in seen:
            seen[key] = verdict.commit
            return verdict
        return replace(
            verdict,
            problems=(
                f"{person.name} already signed '{claim.meaning}' for this content of "
                f"{claim.record} in commit {seen[key][:12]}; one signature per "
                "person, meaning and version",
            ),
        )

    def signer(self, commit: Commit, registry: Registry | None) -> SignerFound:
        """The person whose registered key made a good signature, or why there is none; once
        per commit."""
        if commit.id not in self._signers:
            self._signers[commit.id] = self._check_signer(commit, registry)
        return self._signers[commit.id]

    def _check_signer(self, commit: Commit, registry: Registry | None) -> SignerFound:
        problem, fingerprint, checked = self._signature(commit, registry)
        if problem is not None or fingerprint is None:
            return problem, None, None
        if registry is None:
            return NO_REGISTRY, None, fingerprint
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

    def _signature(
        self, commit: Commit, registry: Registry | None
    ) -> tuple[str | None, str | None, Outcome | None]:
        """Why the commit's signature is not good, else the fingerprint of the key that made
        it (and, for SSH, the check's outcome)."""
        if commit.signature is None:
            return "the commit carries signature trailers but is not signed", None, None
        if commit.problem:
            return commit.problem, None, None
        armor = commit.signature.lstrip()
        if armor.startswith(SIGNATURE_BEGIN):  # OpenPGP: gpg, with the registry's keys only
            if registry is None:
                return NO_REGISTRY, None, None
            self.openpgp = self.openpgp or Verifier()
            gpg = self.openpgp.verify(commit.signature, commit.payload, registry.openpgp_blocks)
            if gpg.unknown_key:
                key = gpg.unknown_key
                return f"key {key} is not registered in qms.yaml at the parent commit", None, None
            if gpg.fingerprint is None:
                return gpg.problem or "gpg did not confirm a good signature", None, None
            return None, gpg.fingerprint, None
        if armor.startswith(SSH_BEGIN):
            checked = self.ssh_checks.outcome(commit.id, commit.signature, commit.payload)
            if checked.fingerprint is None:
                bad = f"the signature does not verify: {checked.error} (altered or copied commit)"
                return bad, None, None
            return None, checked.fingerprint, checked
        kind = armor.split("\n", 1)[0].strip("- ")[:40]
        return (
            f"unsupported signature format ({kind}); gitqms accepts SSH and OpenPGP signatures",
            None,
            None,
        )

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

    def _check_claim(
        self,
        step: Step,
        claim: Claim,
        registry: Registry,
        person: Person,
        pending: Mapping[str, AuthorSet],
    ) -> tuple[str | None, list[str]]:
        """The role the policy accepts for the claim, and what is wrong with it."""
        kind = (
            "qms"
            if claim.record == CONFIG_RECORD
            else getattr(kind_of_id(claim.record), "name", None)
        )
        if kind is None:
            return None, [f"{claim.record!r} is not a record ID"]
        if kind != "qms" and registry.config.kinds.of_id(claim.record) is None:
            return None, [
                f"the kind {kind!r} of {claim.record} is not in force in the registry of the "
                "parent commit: no admin-signed qms.yaml had declared it"
            ]
        rule: SignatureRule | None = registry.config.signatures.get(kind, {}).get(claim.meaning)
        data = None
        if rule is not None and rule.audience:  # whose version it is to read: its audiences
            path = self.contents.place.path_of(claim.record)
            data = record_data(self.contents.blob(f"{step.commit.id}:{path}"), claim.record)
        role, problems = _role(rule, kind, claim, person, registry.config, data)
        problems.extend(self._content_problems(step, claim, kind))
        separation = registry.config.separation_of_duties
        if rule is not None and rule.independent and separation:
            problems.extend(self._separation_problems(step, claim, person, pending))
        return role, problems

    def _content_problems(self, step: Step, claim: Claim, kind: str) -> list[str]:
        """Whether the record at the commit is the content and version the trailers name."""
        path = self.contents.place.path_of(claim.record)
        content = self.contents.blob(f"{step.commit.id}:{path}")
        if content is None:
            return [f"{claim.record} does not exist in this commit"]
        problems = []
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
        return problems

    def _separation_problems(
        self, step: Step, claim: Claim, person: Person, pending: Mapping[str, AuthorSet]
    ) -> list[str]:
        """Whether the signer of an independent meaning authored the version (or nobody can
        tell who did)."""
        authors = pending.get(claim.record, frozenset())
        if holds(authors, UNPROVEN):
            return [
                f"the author of this version of {claim.record} is not proven (a change no "
                "registered person's signature covers), so separation of duties cannot be "
                f"shown for '{claim.meaning}'"
            ]
        email = person.email.lower()  # the signer: the author of this commit's own change
        change = step.records.get(claim.record)
        if holds(authors, email) or (
            change is not None and self.contents.authored(step, claim.record, change)
        ):
            return [
                f"{person.id} authored changes to this version of {claim.record} and "
                f"cannot sign it '{claim.meaning}' (separation of duties)"
            ]
        return []

    def verdict(
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


def _role(
    rule: SignatureRule | None,
    kind: str,
    claim: Claim,
    person: Person,
    config: QmsConfig,
    data: Any,
) -> tuple[str | None, list[str]]:
    """The signer's role (or audience) that `rule` accepts for the claim, or why none does."""
    if rule is None:
        return None, [f"the signature policy has no meaning '{claim.meaning}' for {kind} records"]
    role, why = accepted_as(rule, config, person, data)
    if role is None:
        return None, [f"'{claim.meaning}' on a {kind} record: {why}"]
    return role, []
