"""`qms people …` and `qms keys …`: edits of qms.yaml, each made as one admin-signed commit.

qms.yaml is edited with ruamel.yaml's round-trip mode, which keeps its comments, order and
quoting; the edited text then passes the same checks as `qms validate` before anything is
written. The commit is built from the committed qms.yaml, never from the work tree.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString as Quoted
from ruamel.yaml.scalarstring import LiteralScalarString

from .. import git
from ..crypto import openpgp
from ..crypto.keys import parse_public_key, stored_form
from ..crypto.sshkeys import KeyFormatError
from ..errors import QmsError, Refused
from ..records.config import CONFIG_FILE
from ..records.repository import Repository
from ..signatures.registry import Registry
from ..signatures.verify import walk_history
from ..validation.run import parse_config
from .sign import (
    commit_signature,
    config_claim,
    current_signer,
    head,
    require_committed,
)

Edit = Callable[[CommentedMap, Registry], str]  # changes the data, returns the subject line


def _yaml() -> YAML:
    yaml = YAML()  # round-trip
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.preserve_quotes = True
    yaml.width = 100
    return yaml


@dataclass(frozen=True)
class RegistryChange:
    commit: str
    subject: str


def change_registry(
    root: Path,
    edit: Edit,
    reason: str,
    now: datetime,
    more: Mapping[str, bytes] | None = None,
) -> RegistryChange:
    """Make `edit` as one admin-signed commit whose Reason trailer says `reason`: a registry
    change is a controlled change like any other, and its audit trail says why. `more`: other
    files of the same change (paths from the QMS folder), such as a kind's pinned schema."""
    if not reason.strip():
        raise QmsError(
            f"a change to {CONFIG_FILE} needs a reason; it is recorded in the signed commit",
            hint="add --reason 'why', e.g. --reason 'joins QA as reviewer'",
        )
    repo = Repository.discover(root)
    base = head(repo.root)
    path = f"{git.show_prefix(repo.root)}{CONFIG_FILE}"
    require_committed(repo.root, [CONFIG_FILE], CONFIG_FILE)
    committed = [c for _, kind, c in git.cat_objects(repo.root, [f"{base.commit}:{path}"]) if kind]
    if not committed:
        raise QmsError(f"{CONFIG_FILE} is not committed yet", hint="commit it first")
    walk = walk_history(repo.root, [base.commit])
    registry = walk.registry_at(base.commit)
    if registry is not None and walk.config_blob.get(base.commit) != registry.blob:
        raise Refused(
            f"the committed {CONFIG_FILE} holds changes that are not in force (not signed by "
            "an admin); editing it now would sign them too",
            hint=f"run `qms verify` to see the change, then restore the trusted {CONFIG_FILE} "
            "(git revert that commit) and run this command again",
        )
    if registry is None:
        raise Refused(
            "there is no trusted registry at HEAD, so no one can change it",
            hint="run `qms verify` to see why the registry is not trusted",
        )
    signer = current_signer(repo.root, registry, now)
    rule = registry.config.signatures.get("qms", {}).get("changed")
    allowed = rule.roles if rule else frozenset({"admin"})
    if not signer.person.roles & allowed:
        raise Refused(
            f"changes to {CONFIG_FILE} are signed by {', '.join(sorted(allowed))}; "
            f"{signer.person.id} holds {', '.join(sorted(signer.person.roles))}",
            hint="ask an admin to make this change",
        )
    yaml = _yaml()
    try:
        data = yaml.load(committed[0].decode("utf-8"))
    except (YAMLError, UnicodeDecodeError) as error:
        raise QmsError(f"{CONFIG_FILE} cannot be edited: {error}") from None
    subject = edit(data, registry)
    out = io.StringIO()
    yaml.dump(data, out)
    text = out.getvalue()
    config, findings = parse_config(text, lambda blob: git.read_blob(repo.root, blob))
    errors = [f for f in findings if f.severity == "error"]
    if config is None or errors:
        raise QmsError(
            "the change would make qms.yaml invalid, so nothing was written:\n  "
            + "\n  ".join(f"{f.message} ({f.fix})" for f in errors)
        )
    content = text.encode("utf-8")
    prefix = git.show_prefix(repo.root)
    files = {path: content, **{f"{prefix}{name}": data for name, data in (more or {}).items()}}
    blobs = {name: git.hash_blob(repo.root, data) for name, data in files.items()}
    tree = git.tree_with_files(repo.root, base.tree, blobs)
    claims = [config_claim(content)]
    commit = commit_signature(repo.root, base, tree, claims, reason, subject, files)
    return RegistryChange(commit, subject)


def _people(data: CommentedMap) -> CommentedSeq:
    people = data.get("people")
    if not isinstance(people, CommentedSeq):
        raise QmsError(f"{CONFIG_FILE} has no people list")
    return people


def person_entry(data: CommentedMap, person_id: str) -> CommentedMap:
    for person in _people(data):
        if person.get("id") == person_id:
            assert isinstance(person, CommentedMap)
            return person
    raise QmsError(
        f"no person {person_id!r} in {CONFIG_FILE}",
        hint="see `qms people list`, or add them: qms people add ID --name … --email … --role … "
        "--reason …",
    )


def add_person(
    person_id: str,
    name: str,
    email: str | None,
    roles: list[str],
    title: str | None,
    audiences: list[str] | None = None,
) -> Edit:
    def edit(data: CommentedMap, registry: Registry) -> str:
        config = registry.config
        if config.person(person_id):
            raise QmsError(f"{person_id} is already registered", hint="choose another ID")
        if email and config.person_by_email(email):
            other = config.person_by_email(email)
            assert other is not None
            raise QmsError(f"{email} is already the email of {other.id}")
        unknown = [role for role in roles if role not in config.roles]
        if unknown:
            raise QmsError(
                f"unknown role(s): {', '.join(unknown)}",
                hint=f"roles defined in {CONFIG_FILE}: {', '.join(config.roles)}",
            )
        entry = CommentedMap(id=person_id, name=Quoted(name))
        if title:
            entry["title"] = Quoted(title)
        if email:
            entry["email"] = Quoted(email)
        entry["roles"] = flow_list(roles)
        if audiences:
            entry["audiences"] = flow_list(audiences)
        _people(data).append(entry)
        return (
            f"Register {person_id} ({', '.join(roles) or 'reader: ' + ', '.join(audiences or ())})"
        )

    return edit


def flow_list(items: list[str]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def read_public_key(path: Path) -> str:
    """The public key in a .pub file (its key line, without comment) or an .asc file (its
    armored OpenPGP block, re-armored canonically), checked."""
    try:
        text = path.read_text(errors="replace").strip()
    except OSError as error:
        raise QmsError(f"cannot read {path}: {error.strerror}") from None
    if openpgp.SECRET_BEGIN in text:
        raise QmsError(
            f"{path} is an OpenPGP private (secret) key; register the public key only",
            hint=f"{openpgp.EXPORT_HINT}, then qms keys add YOUR-ID you.asc",
        )
    if "PRIVATE KEY" in text:
        raise QmsError(
            f"{path} is a private key; register the public half only",
            hint=f"use {path}.pub",
        )
    if openpgp.KEY_BEGIN in text:
        try:
            return openpgp.parse_public_key(text).armored
        except KeyFormatError as error:
            raise QmsError(
                f"{path} is not a usable OpenPGP public key: {error}",
                hint=f"export it again: {openpgp.EXPORT_HINT}",
            ) from None
    try:
        return stored_form(parse_public_key(text.splitlines()[0] if text else ""))
    except KeyFormatError as error:
        raise QmsError(
            f"{path} is not an OpenSSH public key or an armored OpenPGP public key: {error}"
        ) from None


def add_key(
    person_id: str,
    public_key: str,
    valid_from: date,
    valid_until: date | None,
    verify_required: bool = False,
) -> Edit:
    def edit(data: CommentedMap, registry: Registry) -> str:
        if not person_entry(data, person_id).get("email"):
            raise Refused(
                f"{person_id} has no email in {CONFIG_FILE}; a signer's key is bound to the email "
                "they commit with",
                hint=f"give them one first: qms people set {person_id} --email NAME@HOSPITAL "
                "--reason …",
            )
        key = parse_public_key(public_key)
        owner = registry.key_by_fingerprint(key.fingerprint)
        if owner is not None:
            whose = "this person" if owner.person.id == person_id else owner.person.id
            make = (
                "gpg --quick-gen-key 'Name <email>' ed25519 sign"
                if isinstance(key, openpgp.OpenPgpKey)
                else "ssh-keygen -t ed25519"
            )
            raise Refused(
                f"key {key.fingerprint} is already registered to {whose}; a key is never "
                "registered twice or reassigned",
                hint=f"each person generates their own key: {make}",
            )
        if valid_until is not None and valid_until < valid_from:
            raise QmsError("--valid-until is before --valid-from")
        person = person_entry(data, person_id)
        stored = stored_form(key)
        text = LiteralScalarString(stored) if "\n" in stored else Quoted(stored)
        entry = CommentedMap(public_key=text, valid_from=Quoted(valid_from.isoformat()))
        if valid_until:
            entry["valid_until"] = Quoted(valid_until.isoformat())
        if verify_required:
            entry["verify_required"] = True
        person.setdefault("keys", CommentedSeq()).append(entry)
        return f"Register key {key.fingerprint} for {person_id}"

    return edit


def revoke_key(person_id: str, fingerprint: str, on: date, reason: str) -> Edit:
    wanted = openpgp.normal_fingerprint(fingerprint)

    def edit(data: CommentedMap, registry: Registry) -> str:
        person = person_entry(data, person_id)
        for entry in person.get("keys") or ():
            try:
                key = parse_public_key(str(entry["public_key"]))
            except KeyFormatError:
                continue
            if key.fingerprint != wanted:
                continue
            if entry.get("revoked"):
                raise QmsError(f"key {wanted} of {person_id} is already revoked")
            entry["revoked"] = CommentedMap(on=Quoted(on.isoformat()), reason=Quoted(reason))
            return f"Revoke key {wanted} of {person_id}"
        raise QmsError(
            f"{person_id} has no key {fingerprint}",
            hint="see `qms keys list` for fingerprints",
        )

    return edit
