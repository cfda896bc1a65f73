"""Checks of qms.yaml that its schema cannot express: unique people and emails, defined roles,
one owner per key and valid key windows, an admin, lifecycles that fit the records and the
signature policy, and regular expressions that compile (a COI pattern that refuses names)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..crypto import openpgp
from ..records.config import key_material
from ..records.document import Document
from ..records.kinds import PACKAGE
from ..records.lifecycles import DEFAULTS, DocumentPolicy
from ..records.pinned import BlobReader, states_of
from .findings import Finding, Reporter, Severity
from .kind_checks import check_kinds, unknown_policy_kinds
from .schemas import Location, dotted, packaged_schema_text

# A COI pattern that accepts any of these, bare or after its own literal prefix, would let a
# name or a number in.
_NOT_PSEUDONYMS = ("", "Smith, John", "John Smith 1961-03-02", "12345678")


def _accepts_names(source: str, pattern: re.Pattern[str]) -> bool:
    prefix = re.match(r"\^?([A-Za-z0-9_-]*)", source)
    literal = prefix.group(1) if prefix else ""
    samples = {*_NOT_PSEUDONYMS, *(literal + sample for sample in _NOT_PSEUDONYMS)}
    return any(pattern.fullmatch(sample) for sample in samples)


def config_findings(doc: Document, read_blob: BlobReader | None = None) -> list[Finding]:
    """qms.yaml beyond its schema: unique people, known roles, one owner per key, valid patterns,
    declared kinds (whose pinned schemas `read_blob` reads by blob id)."""
    report = Reporter(doc, None)
    data = doc.data
    roles = set(data["roles"])
    _check_people(data["people"], roles, report)
    _check_signature_roles(data["signatures"], roles, _document_meanings(data), report)
    _check_lifecycles(data, report)
    _check_training(data, roles, report)
    declared = list(check_kinds(data, report, read_blob))
    for _, item, schema in declared:
        if item["family"] == "record":
            _check_machine(
                item["name"],
                data.get("lifecycles") or {},
                data["signatures"],
                report,
                default=item["lifecycle"],
                schema=schema,
            )
    names = [kind.name for kind in PACKAGE.kinds]
    names += [item["name"] for item in data.get("kinds") or () if isinstance(item, dict)]
    unknown_policy_kinds(data, [str(name) for name in names], report)
    _check_patterns(data, report)
    return report.found


def _check_people(people: Sequence[Any], roles: set[str], report: Reporter) -> None:
    """Unique IDs and emails, defined roles, each key registered to one person, an admin."""
    ids: set[str] = set()
    emails: set[str] = set()
    owners: dict[str, str] = {}  # key material -> the person it is registered to
    for index, person in enumerate(people):
        here: Location = ("people", index)
        if person["id"] in ids:
            report(
                (*here, "id"),
                "config.person-id",
                f"the person ID {person['id']!r} is used twice",
                "give every person one unique ID",
            )
        ids.add(person["id"])
        email = str(person.get("email") or "").lower()
        if email and email in emails:
            report(
                (*here, "email"),
                "config.email",
                f"the email {person['email']} belongs to two people",
                "each person signs with their own email; correct one of them",
            )
        emails.add(email)
        for r, role in enumerate(person["roles"]):
            if role not in roles:
                report(
                    (*here, "roles", r),
                    "config.unknown-role",
                    f"the role {role!r} is not defined",
                    f"use one of: {', '.join(sorted(roles))}; or define it under 'roles:'",
                )
        for k, key in enumerate(person.get("keys") or ()):
            _check_key(key, person["id"], (*here, "keys", k), owners, report)
    if not any("admin" in person["roles"] and not person.get("left") for person in people):
        report(
            ("people",),
            "config.no-admin",
            "no person holds the role 'admin'",
            "give at least one person the admin role; only admins can change people and keys",
        )


def _check_training(data: Mapping[str, Any], roles: set[str], report: Reporter) -> None:
    """Audiences that exist, for people and roles; a person leaves after joining."""
    audiences = set(data["audiences"])
    known = ", ".join(sorted(audiences))

    def audience_ok(location: Location, name: str) -> None:
        if name not in audiences:
            report(
                location,
                "config.unknown-audience",
                f"the audience {name!r} is not listed under 'audiences:'",
                f"use one of: {known}; or add it under 'audiences:'",
            )

    for index, person in enumerate(data["people"]):
        for a, name in enumerate(person.get("audiences") or ()):
            audience_ok(("people", index, "audiences", a), name)
        left, joined = (person.get("left") or {}).get("on"), person.get("joined")
        if left and joined and left < joined:
            report(
                ("people", index, "left", "on"),
                "config.left-before-joined",
                f"{person['id']} leaves on {left}, before joining on {joined}",
                "correct the day they left or joined",
            )
    implied = (data.get("training") or {}).get("role_audiences") or {}
    for role, names in implied.items():
        if role not in roles:
            report(
                ("training", "role_audiences", role),
                "config.unknown-role",
                f"the role {role!r} is not defined",
                f"use one of: {', '.join(sorted(roles))}; or define it under 'roles:'",
            )
        for a, name in enumerate(names):
            audience_ok(("training", "role_audiences", role, a), name)


def _check_key(
    key: Mapping[str, Any],
    person: str,
    here: Location,
    owners: dict[str, str],
    report: Reporter,
) -> None:
    """A key that reads, belongs to `person` alone, and is not valid or revoked before it starts."""
    material = key_material(key["public_key"])
    if openpgp.is_openpgp(material):
        try:
            material = openpgp.parse_public_key(material).fingerprint
        except openpgp.OpenPgpFormatError as error:
            report(
                (*here, "public_key"),
                "config.openpgp-key",
                f"the OpenPGP key cannot be read: {error}",
                "paste the whole block that `gpg --armor --export you@hospital` prints, "
                "from its BEGIN line to its END line, or register it with `qms keys add`",
            )
            return
    if material in owners and owners[material] != person:
        report(
            here,
            "config.key-reuse",
            f"this key is already registered to {owners[material]}",
            "a signing key belongs to one person only; register a key of their own",
        )
    owners.setdefault(material, person)
    until, revoked = key.get("valid_until"), (key.get("revoked") or {}).get("on")
    for field, value in (("valid_until", until), ("revoked", revoked)):
        if value is not None and value < key["valid_from"]:
            report(
                (*here, field),
                "config.key-window",
                f"'{field}' {value} is before 'valid_from' {key['valid_from']}",
                "correct the key's validity window",
            )


def _document_meanings(data: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """Each document kind -> the meanings its lifecycle uses (approval, release, retirement,
    periodic review): none of them may be signed by an audience."""
    policies: dict[str, Any] = {
        kind.name: kind.policy for kind in PACKAGE.kinds if kind.is_document
    }
    for item in data.get("kinds") or ():
        if isinstance(item, dict) and item.get("family") == "document":
            policies[str(item.get("name"))] = item.get("document")
    given = data.get("lifecycles") or {}
    return {
        kind: DocumentPolicy.of(
            {"approval": (), **(default or {}), **(given.get(kind) or {})}
        ).meanings
        for kind, default in policies.items()
    }


def _check_signature_roles(
    signatures: Mapping[str, Any],
    roles: set[str],
    documents: Mapping[str, frozenset[str]],
    report: Reporter,
) -> None:
    """The signature policy names only defined roles; only a document kind's meaning may be
    signed by its audience (read-and-understood)."""
    for kind, meanings in signatures.items():
        if not isinstance(meanings, dict):
            continue
        lifecycle = documents.get(kind, frozenset())
        for meaning, rule in meanings.items():
            if rule.get("audience") and (kind not in documents or meaning in lifecycle):
                report(
                    ("signatures", kind, meaning, "audience"),
                    "config.audience-rule",
                    f"'{kind}: {meaning}' is signed by an audience, which only a document "
                    "version's training meaning may be (never one that approves, releases, "
                    "retires or reviews a version)",
                    "name the roles that sign it instead",
                )
            for r, role in enumerate(rule.get("roles") or ()):
                if role not in roles:
                    report(
                        ("signatures", kind, meaning, "roles", r),
                        "config.unknown-role",
                        f"the policy for '{kind}: {meaning}' names the undefined role {role!r}",
                        f"use one of: {', '.join(sorted(roles))}",
                    )


def _check_patterns(data: Mapping[str, Any], report: Reporter) -> None:
    """The COI pattern and the forbidden patterns compile; the COI pattern refuses names."""
    patterns: list[tuple[Location, str]] = [(("coi", "pattern"), data["coi"]["pattern"])]
    for index, item in enumerate((data.get("privacy") or {}).get("forbidden_patterns") or ()):
        patterns.append((("privacy", "forbidden_patterns", index, "pattern"), item["pattern"]))
    for location, pattern in patterns:
        try:
            compiled = re.compile(pattern)
        except re.error as error:
            report(
                location,
                "config.regex",
                f"'{dotted(location)}' is not a valid regular expression: {error}",
                "correct the pattern (Python regular-expression syntax)",
            )
            continue
        if location == ("coi", "pattern") and _accepts_names(pattern, compiled):
            report(
                location,
                "config.coi-pattern",
                "the COI pattern also accepts empty text or names, so it cannot keep patient "
                "identifiers out",
                "allow only the pseudonym's own form, e.g. '^COI-[A-Z]{3}-[0-9]{6}$'",
            )


def _check_lifecycles(data: Mapping[str, Any], report: Reporter) -> None:
    """States known to the schema, meanings defined in the signature policy, fields that exist.

    Parts left to gitqms's defaults are checked too: a default transition whose meaning the
    policy lacks can never be made, which is worth a warning.
    """
    given = data.get("lifecycles") or {}
    policy = data["signatures"]
    sop = given.get("sop") or DEFAULTS["sop"]
    for index, meaning in enumerate(sop["approval"]):
        if meaning not in (policy.get("sop") or {}):
            report(
                ("lifecycles", "sop", "approval", index) if "sop" in given else ("signatures",),
                "config.lifecycle-meaning",
                f"SOP approval needs the meaning '{meaning}', which signatures.sop does not define",
                f"define '{meaning}' under signatures.sop, or name defined meanings here",
                "error" if "sop" in given else "warning",
            )
    for kind in ("capa", "deviation"):
        _check_machine(kind, given, policy, report)


def _check_machine(
    kind: str,
    given: Mapping[str, Any],
    policy: Mapping[str, Any],
    report: Reporter,
    *,
    default: Mapping[str, Any] | None = None,
    schema: Mapping[str, Any] | None = None,
) -> None:
    configured = kind in given
    machine = given.get(kind) or default or DEFAULTS[kind]
    severity: Severity = "error" if configured or default is not None else "warning"
    base: Location = ("lifecycles", kind) if configured or default is None else ("kinds",)
    schema = schema or json.loads(packaged_schema_text(kind))
    states = set(states_of(schema))
    fields = set(schema.get("properties") or ())

    def state_ok(location: Location, state: str) -> None:
        if state not in states:
            report(
                location if configured else ("lifecycles",),
                "config.lifecycle-state",
                f"the {kind} lifecycle names the state {state!r}, which {kind} records cannot hold",
                f"use one of: {', '.join(sorted(states))}",
                severity,
            )

    def requirement_ok(location: Location, text: str) -> None:
        name = text.split("=", 1)[0].split(".")[0].removesuffix("[]")
        if name not in fields:
            report(
                location,
                "config.lifecycle-field",
                f"the {kind} lifecycle requires the field {name!r}, which {kind} records "
                "do not have",
                f"use one of: {', '.join(sorted(fields))}",
                severity,
            )

    state_ok((*base, "initial"), machine["initial"])
    for i, state in enumerate(machine.get("closed") or ()):
        state_ok((*base, "closed", i), state)
    for i, item in enumerate(machine["transitions"]):
        here: Location = (*base, "transitions", i)
        sources = item["from"] if isinstance(item["from"], list) else [item["from"]]
        for state in (*sources, item["to"]):
            state_ok(here, state)
        if item["meaning"] not in (policy.get(kind) or {}):
            report(
                (*here, "meaning") if configured else ("signatures",),
                "config.lifecycle-meaning",
                f"the {kind} transition {'/'.join(sources)} -> {item['to']} is signed "
                f"'{item['meaning']}', which signatures.{kind} does not define",
                f"define '{item['meaning']}' with its roles under signatures.{kind}",
                severity,
            )
        for j, text in enumerate(item.get("requires") or ()):
            requirement_ok((*here, "requires", j), text)
    for state, texts in (machine.get("requires") or {}).items():
        state_ok((*base, "requires", state), state)
        for j, text in enumerate(texts):
            requirement_ok((*base, "requires", state, j), text)
