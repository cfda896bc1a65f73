"""qms.yaml as typed objects: organisation, people and keys, roles, policies."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .kinds import PACKAGE, Kind, KindSet, declare
from .lifecycles import Lifecycles, build_lifecycles
from .pinned import Pin

CONFIG_FILE = "qms.yaml"
DEFAULT_PROTECTED_BRANCHES = ("main",)
DEFAULT_RECEIPT_TOLERANCE_HOURS = 24


@dataclass(frozen=True, kw_only=True)
class SigningKey:
    public_key: str  # "ssh-ed25519 AAAA…" without the comment, or an armored OpenPGP block
    valid_from: str
    valid_until: str | None
    revoked_on: str | None
    revoked_reason: str | None
    verify_required: bool = False  # FIDO keys: user verification (PIN) required
    no_touch_required: bool = False  # FIDO keys: user presence not required


@dataclass(frozen=True, kw_only=True)
class Person:
    id: str
    name: str  # printed name, as in signature blocks
    email: str  # "" for a person without keys, who never signs
    roles: frozenset[str]
    title: str | None = None
    keys: tuple[SigningKey, ...] = ()
    audiences: frozenset[str] = frozenset()  # as listed for the person; see QmsConfig.audiences_of
    joined: str | None = None  # the day they started
    left_on: str | None = None  # the day they left: their keys count as revoked from then
    left_reason: str | None = None


@dataclass(frozen=True)
class SignatureRule:
    roles: frozenset[str]
    count: int = 1
    independent: bool = False  # separation of duties: an author of the version cannot sign
    # signed by anyone in one of the document version's training audiences, not by role:
    # read-and-understood
    audience: bool = False


INDEPENDENT_BY_DEFAULT = frozenset({"reviewed", "approved"})


DEFAULT_NEW_STARTER_DAYS = 30
DEFAULT_RECENT_DAYS = 30  # publication.recent_days: the window of the site's "What is new"


@dataclass(frozen=True, kw_only=True)
class DuePolicy:
    report_hours: int = 24
    investigation_days: int = 30
    capa_effectiveness_months: int = 3
    sop_review_months: int = 24
    training_window_days: int = 14
    oos_notification_hours: int = 48
    # organisation.time_zone: the hospital's calendar, whose day a date-time falls on when a
    # due date is counted from it ("30 days after discovery")
    time_zone: str = "UTC"


@dataclass(frozen=True, kw_only=True)
class QmsConfig:
    organisation: str
    site: str | None
    people: tuple[Person, ...]
    roles: Mapping[str, str]
    areas: Mapping[str, str]
    audiences: Mapping[str, str]
    signatures: Mapping[str, Mapping[str, SignatureRule]]  # kind -> meaning -> rule
    separation_of_duties: bool
    due: DuePolicy
    coi_pattern: re.Pattern[str]
    forbidden_patterns: tuple[tuple[str, re.Pattern[str]], ...]
    protected_branches: tuple[str, ...]  # names or glob patterns (server.protected_branches)
    lifecycles: Lifecycles
    receipt_tolerance_hours: int = DEFAULT_RECEIPT_TOLERANCE_HOURS
    gitqms_source: str | None = None  # tooling.gitqms: the pip requirement CI installs
    kinds: KindSet = PACKAGE  # the package's kinds and those qms.yaml declares (`kinds:`)
    role_audiences: Mapping[str, frozenset[str]] = field(default_factory=dict)
    new_starter_days: int = DEFAULT_NEW_STARTER_DAYS
    time_zone: str = "UTC"  # organisation.time_zone: the IANA zone local times are shown in
    recent_days: int = DEFAULT_RECENT_DAYS
    _by_id: Mapping[str, Person] = field(default_factory=dict, repr=False, compare=False)
    _by_email: Mapping[str, Person] = field(default_factory=dict, repr=False, compare=False)

    def person(self, person_id: str) -> Person | None:
        return self._by_id.get(person_id)

    def person_by_email(self, email: str) -> Person | None:
        return self._by_email.get(email.lower())

    def audiences_of(self, person: Person) -> frozenset[str]:
        """The training audiences `person` belongs to: their own and their roles'."""
        implied = (self.role_audiences.get(role, frozenset()) for role in person.roles)
        return person.audiences.union(*implied)


def key_material(public_key: str) -> str:
    """'ssh-ed25519 AAAA… comment' -> 'ssh-ed25519 AAAA…': the comment is not part of the key.

    An armored OpenPGP block is kept whole, line by line, without trailing spaces.
    """
    if public_key.lstrip().startswith("-----BEGIN PGP"):
        return "\n".join(line.rstrip() for line in public_key.strip().splitlines()) + "\n"
    return " ".join(public_key.split()[:2])


def declared_kinds(data: Mapping[str, Any]) -> tuple[Kind, ...]:
    """The kinds of qms.yaml's `kinds:` section, which has passed the semantic checks (their
    pinned schemas were read and kept then: records/pinned.py)."""
    return tuple(
        declare(item, f"{CONFIG_FILE}: kinds[{index}]", schema_key=Pin.of(item["schema"]).key)
        for index, item in enumerate(data.get("kinds") or ())
    )


def _keys(item: Mapping[str, Any]) -> tuple[SigningKey, ...]:
    """A person's keys; a person who left has every key revoked from that day at the latest."""
    left = item.get("left") or {}
    keys = []
    for key in item.get("keys") or ():
        revoked = key.get("revoked") or {}
        on, reason = revoked.get("on"), revoked.get("reason")
        if left and (on is None or left["on"] < on):
            on, reason = left["on"], f"left: {left['reason']}"
        keys.append(
            SigningKey(
                public_key=key_material(key["public_key"]),
                valid_from=key["valid_from"],
                valid_until=key.get("valid_until"),
                revoked_on=on,
                revoked_reason=reason,
                verify_required=key.get("verify_required", False),
                no_touch_required=key.get("no_touch_required", False),
            )
        )
    return tuple(keys)


def build_config(data: Mapping[str, Any]) -> QmsConfig:
    """Typed configuration from data that has passed qms.schema.json and the semantic checks.

    Regular expressions must already be known to compile (the semantic checks say so).
    """
    kinds = PACKAGE.with_declared(declared_kinds(data))
    people = tuple(
        Person(
            id=item["id"],
            name=item["name"],
            email=item.get("email") or "",  # none for a reader without keys
            roles=frozenset(item["roles"]),
            title=item.get("title"),
            keys=_keys(item),
            audiences=frozenset(item.get("audiences") or ()),
            joined=item.get("joined"),
            left_on=(item.get("left") or {}).get("on"),
            left_reason=(item.get("left") or {}).get("reason"),
        )
        for item in data["people"]
    )
    policy = data["signatures"]
    signatures = {
        kind: MappingProxyType(
            {
                meaning: SignatureRule(
                    frozenset(rule.get("roles") or ()),
                    rule.get("count", 1),
                    rule.get("independent", meaning in INDEPENDENT_BY_DEFAULT),
                    rule.get("audience", False),
                )
                for meaning, rule in (policy.get(kind) or {}).items()
            }
        )
        for kind in (*kinds.by_name, "qms")
    }
    privacy = data.get("privacy") or {}
    server = data.get("server") or {}
    # Both spellings count: a branch named in either list is protected.
    protected = [*(server.get("protected_branches") or ()), *(data.get("protected_branches") or ())]
    zone = data["organisation"].get("time_zone") or "UTC"
    return QmsConfig(
        organisation=data["organisation"]["name"],
        site=data["organisation"].get("site"),
        time_zone=zone,
        people=people,
        roles=MappingProxyType(dict(data["roles"])),
        areas=MappingProxyType(dict(data["areas"])),
        audiences=MappingProxyType(dict(data["audiences"])),
        signatures=MappingProxyType(signatures),
        separation_of_duties=policy.get("separation_of_duties", True),
        due=DuePolicy(**data.get("due_dates", {}), time_zone=zone),
        coi_pattern=re.compile(data["coi"]["pattern"]),
        forbidden_patterns=tuple(
            (item["name"], re.compile(item["pattern"]))
            for item in privacy.get("forbidden_patterns", ())
        ),
        protected_branches=tuple(dict.fromkeys(protected)) or DEFAULT_PROTECTED_BRANCHES,
        lifecycles=build_lifecycles(data.get("lifecycles"), kinds.kinds),
        receipt_tolerance_hours=server.get(
            "receipt_tolerance_hours", DEFAULT_RECEIPT_TOLERANCE_HOURS
        ),
        gitqms_source=(data.get("tooling") or {}).get("gitqms"),
        kinds=kinds,
        role_audiences=MappingProxyType(
            {
                role: frozenset(names)
                for role, names in (
                    (data.get("training") or {}).get("role_audiences") or {}
                ).items()
            }
        ),
        new_starter_days=(data.get("training") or {}).get(
            "new_starter_days", DEFAULT_NEW_STARTER_DAYS
        ),
        recent_days=(data.get("publication") or {}).get("recent_days", DEFAULT_RECENT_DAYS),
        _by_id=MappingProxyType({person.id: person for person in people}),
        _by_email=MappingProxyType({p.email.lower(): p for p in people if p.email}),
    )
