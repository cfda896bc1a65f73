"""Making signatures: one signed commit per command, checked before anything is written.

The commit is built with plumbing (`commit-tree`, then a compare-and-swap `update-ref`), so the
index and work tree are never touched and an interrupted or refused signature leaves the
repository exactly as it was. Before the branch moves, the new commit goes through the same
verifier that `qms verify` runs; a signature it would reject is never published.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .. import clock, git
from ..crypto.openpgp import SecretKey, secret_keys
from ..crypto.sshkeys import KEY_TYPES, KeyFormatError, SshKey, parse_openssh
from ..errors import QmsError, Refused
from ..history.commits import format_trailers
from ..landing import land
from ..lifecycle.acknowledgement import acknowledgement_refusal
from ..lifecycle.change_control import release_refusal
from ..records.config import Person, SignatureRule
from ..records.kinds import kind_of_id
from ..signatures.claims import (
    CONFIG_RECORD,
    Claim,
    content_hash,
    is_document,
    stated_version,
    trailer_lines,
)
from ..signatures.registry import Registry, key_window_problem
from ..signatures.verify import UNPROVEN, Walk, walk_history

SigningKey = SshKey | SecretKey  # both name their key by `.fingerprint`


@dataclass(frozen=True)
class Signer:
    person: Person
    key: SigningKey
    email: str


def signing_key(root: Path) -> SigningKey:
    """The key git will sign with, from gpg.format and user.signingkey."""
    fmt = git.config_value(root, "gpg.format") or "openpgp"
    if fmt == "openpgp":
        return openpgp_signing_key(root)
    if fmt != "ssh":
        raise QmsError(
            f"git signs with {fmt} (gpg.format), and gitqms accepts SSH and OpenPGP signatures",
            hint="git config --global gpg.format ssh (or openpgp, with a gpg key)",
        )
    value = git.config_value(root, "user.signingkey")
    if not value:
        raise QmsError(
            "git has no signing key configured (user.signingkey)",
            hint="git config --global user.signingkey ~/.ssh/id_ed25519.pub "
            "(then register it: qms keys add YOUR-ID ~/.ssh/id_ed25519.pub --reason 'new signer')",
        )
    line = value.removeprefix("key::") if value.startswith("key::") else None
    if line is None:
        path = Path(value).expanduser()
        candidates = [path] if path.suffix == ".pub" else [path, path.with_name(path.name + ".pub")]
        for candidate in candidates:
            try:
                text = candidate.read_text(errors="replace").strip()
            except OSError:
                continue
            if text.split(" ", 1)[0] in KEY_TYPES:
                line = text.splitlines()[0]
                break
        if line is None:
            raise QmsError(
                f"cannot find the public half of the signing key {value}",
                hint=f"keep it beside the private key as {path.name}.pub, or point "
                "user.signingkey at the .pub file",
            )
    try:
        return parse_openssh(line)
    except KeyFormatError as error:
        raise QmsError(f"the signing key {value} cannot be read: {error}") from None


def openpgp_signing_key(root: Path) -> SecretKey:
    """The gpg key git will sign with: user.signingkey, else the committer identity (as git)."""
    configured = git.config_value(root, "user.signingkey")
    if configured and (configured.startswith("key::") or Path(configured).expanduser().exists()):
        raise QmsError(
            "user.signingkey names an SSH key, but git signs with OpenPGP (gpg.format is "
            "unset or openpgp)",
            hint="git config --global gpg.format ssh",
        )
    spec = configured or git.committer_identity(root)
    program = (
        git.config_value(root, "gpg.openpgp.program")
        or git.config_value(root, "gpg.program")
        or "gpg"
    )
    found = secret_keys(program, spec)
    if not found:
        raise QmsError(
            f"gpg has no secret key for {spec!r}, the key git would sign with",
            hint="point git at your key: git config --global user.signingkey FINGERPRINT "
            "(gpg --list-secret-keys shows it), or make one: "
            "gpg --quick-gen-key 'Your Name <you@hospital>' ed25519 sign; "
            "to sign with SSH instead: git config --global gpg.format ssh",
        )
    if len(found) > 1:
        raise QmsError(
            f"{len(found)} gpg secret keys match {spec!r}; gitqms cannot tell which git signs with",
            hint="name yours: git config --global user.signingkey FINGERPRINT",
        )
    if found[0].validity in ("r", "e"):
        state = "revoked" if found[0].validity == "r" else "expired"
        raise QmsError(
            f"your gpg key {found[0].fingerprint} is {state} in your keyring; gpg will not sign "
            "with it",
            hint="make a new key and ask an admin to register it: "
            "qms keys add YOUR-ID NEW_KEY.asc --reason 'replaces an expired key'",
        )
    return found[0]


def current_signer(root: Path, registry: Registry, today: datetime) -> Signer:
    """The registered person behind this git setup, with a key that may sign today."""
    email = git.config_value(root, "user.email")
    if not email:
        raise QmsError("git has no user.email", hint="git config --global user.email YOU@hospital")
    person = registry.config.person_by_email(email)
    if person is None:
        raise QmsError(
            f"{email} is not a registered person in qms.yaml",
            hint="ask an admin to run: qms people add YOUR-ID --name 'Printed Name' "
            f"--email {email} --role ROLE --reason 'new signer'",
        )
    key = signing_key(root)
    gpg = isinstance(key, SecretKey)
    registered = registry.key_by_fingerprint(key.fingerprint)
    if registered is None:
        export = f"gpg --armor --export {key.fingerprint} > {person.id}.asc, then " if gpg else ""
        file = f"{person.id}.asc" if gpg else "PATH/TO/KEY.pub"
        raise QmsError(
            f"your signing key {key.fingerprint} is not registered in qms.yaml",
            hint=f"{export}ask an admin to run: qms keys add {person.id} {file} --reason 'new key'",
        )
    if registered.person.id != person.id:
        yours = "YOUR-FINGERPRINT" if gpg else "PATH/TO/YOUR/KEY.pub"
        raise QmsError(
            f"your signing key {key.fingerprint} is registered to {registered.person.id}, "
            f"not to {person.id} ({email})",
            hint=f"sign with your own key: git config user.signingkey {yours}",
        )
    problem = key_window_problem(registered.key, today.astimezone(UTC).date())
    if problem:
        raise QmsError(
            f"your signing key {key.fingerprint} cannot sign: {problem}",
            hint="ask an admin to register a new key: "
            f"qms keys add {person.id} NEW_KEY.{'asc' if gpg else 'pub'} --reason 'new key'",
        )
    return Signer(person, key, email)


@dataclass(frozen=True)
class Head:
    ref: str  # the branch HEAD is on, or HEAD itself when detached
    commit: str
    tree: str


def head(root: Path) -> Head:
    commit = git.rev_parse(root, "HEAD^{commit}")
    if commit is None:
        raise QmsError("the repository has no commits yet", hint="commit the records first")
    tree = git.rev_parse(root, "HEAD^{tree}")
    assert tree is not None
    return Head(git.symbolic_head(root) or "HEAD", commit, tree)


def require_committed(root: Path, paths: list[str], what: str) -> None:
    """Refuse to sign a file whose work-tree copy differs from what would be signed."""
    if git.status_porcelain(root, paths):
        raise QmsError(
            f"{what} has uncommitted changes; a signature covers the committed content only",
            hint="commit the change first (with a 'Reason:' trailer), or restore the file",
        )


def commit_signature(
    root: Path,
    base: Head,
    tree: str,
    claims: list[Claim],
    reason: str | None,
    subject: str,
    files: Mapping[str, bytes] | None = None,
) -> str:
    """Make the signed commit, verify it as `qms verify` would, then move the branch to it and
    bring `files` (what `tree` changes: paths from the top, with content) into the index and
    work tree, crash-safe (landing.py)."""
    message = f"{subject}\n\n{format_trailers(trailer_lines(claims, reason))}\n"
    new = git.commit_tree_signed(root, tree, [base.commit], message)
    walk = walk_history(root, [new])
    problems = [
        f"{v.record}: {problem}"
        for v in walk.report.verdicts
        if v.commit == new
        for problem in v.problems
    ]
    if problems:
        raise Refused(
            "the new signature would not verify, so it was not recorded:\n  "
            + "\n  ".join(problems)
        )
    land(root, base.ref, base.commit, new, files or {}, f"qms: {subject}")
    return new


def plan_record_signatures(
    walk: Walk,
    base: Head,
    records: dict[str, bytes],
    meaning: str,
    signer: Signer,
    registry: Registry,
    *,
    state_change: bool = False,
) -> list[Claim]:
    """The claims to sign, after the checks the verifier will make, each with its fix."""
    claims = []
    problems = []
    for record_id, content in records.items():
        kind = kind_of_id(record_id)
        assert kind is not None
        rule = registry.config.signatures.get(kind.name, {}).get(meaning)
        version = stated_version(content, record_id)
        claim = Claim(record_id, version, content_hash(content), meaning)
        problems += _claim_problems(walk, base, claim, kind.name, rule, signer, state_change)
        if rule is not None and rule.audience:
            refusal = acknowledgement_refusal(
                walk,
                base.commit,
                record_id,
                content,
                rule,
                signer.person,
                registry.config,
                clock.today(),
            )
            problems += [refusal] if refusal else []
        policy = registry.config.lifecycles.documents.get(kind.name)
        if policy is not None and meaning == policy.release:
            held = release_refusal(walk, base.commit, record_id, content, meaning, signer.person.id)
            problems += [f"{record_id}: {held}"] if held else []
        claims.append(claim)
    if problems:
        raise Refused("cannot sign:\n  " + "\n  ".join(problems))
    return claims


def _claim_problems(
    walk: Walk,
    base: Head,
    claim: Claim,
    kind: str,
    rule: SignatureRule | None,
    signer: Signer,
    state_change: bool = False,
) -> list[str]:
    record_id, meaning = claim.record, claim.meaning
    person = signer.person
    registry = walk.registry_at(base.commit)
    assert registry is not None
    if rule is None:
        known = ", ".join(sorted(registry.config.signatures.get(kind, {}))) or "none"
        return [
            f"{record_id}: '{meaning}' is not a signature meaning for {kind} records (known: {known})"
        ]
    problems = []
    if not rule.audience and not person.roles & rule.roles:
        problems.append(
            f"{record_id}: '{meaning}' needs one of the roles {', '.join(sorted(rule.roles))}; "
            f"{person.id} holds {', '.join(sorted(person.roles))}"
        )
    independent = rule.independent and registry.config.separation_of_duties
    authors = walk.authors_at(base.commit, record_id)
    if independent and UNPROVEN in authors:
        problems.append(
            f"{record_id}: this version holds a change whose author is not proven (a commit "
            "after the trust root that no registered person's key signed; `qms log "
            f"{record_id}` shows it), so a '{meaning}' signature would not count; its author "
            "re-commits the change signed (git commit -S, or amend and re-sign the branch "
            "before it is merged), then sign"
        )
    elif independent and person.email.lower() in authors:
        problems.append(
            f"{record_id}: {person.id} changed this version and cannot sign it '{meaning}' "
            "(separation of duties); another person with the role must sign"
        )
    earlier = (
        None if state_change else walk.seen.get((record_id, claim.content, meaning, person.id))
    )
    if earlier:
        problems.append(
            f"{record_id}: {person.id} already signed '{meaning}' for this content "
            f"(version {claim.version}) in commit {earlier[:12]}"
        )
    return problems


def subject_for(meaning: str, claims: list[Claim]) -> str:
    names = ", ".join(
        f"{c.record} v{c.version}" if is_document(c.record) else c.record for c in claims
    )
    return f"{meaning.capitalize()}: {names}"


def config_claim(content: bytes) -> Claim:
    return Claim(CONFIG_RECORD, None, content_hash(content), "changed")


def sign_records(
    root: Path, record_ids: list[str], meaning: str, reason: str | None, now: datetime
) -> str:
    """`qms sign`: one signed commit over the committed content of each record."""
    from ..records.repository import Repository
    from ..validation.run import validate

    repo = Repository.discover(root)
    base = head(repo.root)
    history_prefix = git.show_prefix(repo.root)
    paths = {}
    for record_id in dict.fromkeys(record_ids):
        kind = kind_of_id(record_id)
        if kind is None:
            raise QmsError(
                f"{record_id!r} is not a record ID",
                hint="name records by ID, such as SOP-0003, CAPA-2026-0001 or DEV-2026-0002",
            )
        paths[record_id] = f"{kind.folder}/{record_id}{kind.suffix}"
    require_committed(repo.root, list(paths.values()), ", ".join(paths))
    contents = {}
    for record_id, path in paths.items():
        blob = git.cat_objects(repo.root, [f"{base.commit}:{history_prefix}{path}"])
        found = [content for _, kind, content in blob if kind == "blob"]
        if not found:
            raise QmsError(
                f"{record_id} is not committed ({path} is not in HEAD)",
                hint="create it with `qms new`, commit it, then sign",
            )
        contents[record_id] = found[0]
    result = validate(repo, [repo.root / path for path in paths.values()], now=now)
    errors = [f for f in result.findings if f.severity == "error"]
    if errors:
        raise QmsError(
            f"{len(errors)} validation error(s) in what you are signing; "
            f"run `qms validate {' '.join(paths.values())}` and fix them first"
        )
    walk = walk_history(repo.root, [base.commit])
    registry = walk.registry_at(base.commit)
    if registry is None:
        raise QmsError(
            "no trusted qms.yaml at HEAD: the registry was never signed by an admin",
            hint="run `qms verify` to see why",
        )
    signer = current_signer(repo.root, registry, now)
    claims = plan_record_signatures(walk, base, contents, meaning, signer, registry)
    return commit_signature(
        repo.root, base, base.tree, claims, reason, subject_for(meaning, claims)
    )
