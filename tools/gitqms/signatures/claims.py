"""What a signature commit claims, from its trailers, and the version a record's content states.

QMS-Record: SOP-0003       one group per record signed
QMS-Version: 4             a document's version (SOP); a record's state (CAPA, deviation)
QMS-Content: sha256:…      the record file's bytes at this commit
QMS-Meaning: approved      once, for every record in the commit
Reason: …                  once, optional
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..history.commits import REASON, Commit
from ..records.config import CONFIG_FILE
from ..records.document import split_front_matter
from ..records.kinds import Kind, KindSet, active_kinds
from ..safeyaml import (
    LoadError,
    decode_record_bytes,
    load_fields,
    load_yaml,
)

RECORD = "QMS-Record"
VERSION = "QMS-Version"
CONTENT = "QMS-Content"
MEANING = "QMS-Meaning"
CONFIG_RECORD = CONFIG_FILE  # registry changes name qms.yaml as their record


@dataclass(frozen=True)
class Claim:
    record: str
    version: str | None
    content: str | None
    meaning: str


@dataclass(frozen=True)
class Claims:
    claims: tuple[Claim, ...]
    reason: str | None
    problem: str | None = None  # trailers that cannot be read as a signature


def read_claims(commit: Commit) -> Claims | None:
    """The commit's claims, or None when it carries no QMS trailers at all."""
    qms = [(k, v) for k, v in commit.trailers if k.lower().startswith("qms-")]
    reasons = commit.trailer_values(REASON)
    reason = reasons[-1] if reasons else None
    if not qms:
        return None
    meanings = [v for k, v in qms if k.lower() == MEANING.lower()]
    if len(meanings) != 1:
        return Claims((), reason, f"needs exactly one {MEANING} trailer, found {len(meanings)}")
    groups: list[dict[str, str]] = []
    for key, value in qms:
        lower = key.lower()
        if lower == RECORD.lower():
            groups.append({"record": value})
        elif lower in (VERSION.lower(), CONTENT.lower()):
            if not groups or lower in groups[-1]:
                return Claims((), reason, f"{key} must follow its own {RECORD} trailer")
            groups[-1][lower] = value
        elif lower != MEANING.lower():
            return Claims((), reason, f"unknown trailer {key}")
    if not groups:
        return Claims((), reason, f"no {RECORD} trailer")
    claims = tuple(
        Claim(g["record"], g.get(VERSION.lower()), g.get(CONTENT.lower()), meanings[0])
        for g in groups
    )
    return Claims(claims, reason)


def content_hash(content: bytes) -> str:
    return "sha256:" + hashlib.sha256(content).hexdigest()


MARKDOWN = ".md"  # the suffix of a kind whose file is Markdown with front matter


def record_kind(record: str) -> Kind | None:
    """`kind_of_id`, remembered: it is asked for every change of long histories."""
    return _record_kind(active_kinds(), record)


@lru_cache(maxsize=1 << 16)
def _record_kind(kinds: KindSet, record: str) -> Kind | None:
    return kinds.of_id(record)


def front_matter(record: str) -> bool:
    """Whether the record's file is Markdown with YAML front matter (its kind's file form, as
    an SOP's); False for a YAML record file and for what is not a record ID (qms.yaml)."""
    kind = record_kind(record)
    return kind is not None and kind.suffix == MARKDOWN


def is_document(record: str) -> bool:
    """Whether `record` is the ID of a document (an SOP, …: versions approved by signatures);
    False for a record with states, and for what is not a record ID (qms.yaml)."""
    kind = record_kind(record)
    return kind is not None and kind.is_document


def version_of(data: Any) -> str | None:
    """The version a record's content states: a document's version, a record's state."""
    if not isinstance(data, dict):
        return None
    value = data.get("version", data.get("state"))
    return None if value is None or isinstance(value, dict | list) else str(value)


def stated_version(content: bytes | None, record: str) -> str | None:
    """The version the record's content states, reading only its `version` and `state` fields.

    A signature names this in its QMS-Version trailer. Always the strict loader's reading: a
    shortcut over the lines answered where the loader refused the text (a syntax error in
    another field, a bare `-` that continues the value). Cached by the content's hash, like
    `record_data`, since signatures often share content (and a worker may have read it ahead:
    signatures/versions_ahead.py).
    """
    if content is None:
        return None
    key = (front_matter(record), hashlib.sha256(content).digest())
    if key not in _VERSIONS:
        remember(key, *version_facts(content, markdown=key[0]))
    return _VERSIONS[key]


def version_facts(content: bytes, *, markdown: bool) -> tuple[str | None, bool]:
    """The version a content states and whether it loads as a mapping (`record_data`), in one
    load: the whole text is loaded, as cheap as its fields alone (the parser reads all of it
    either way); only a text that does not load (an error nested in another field, say) is
    read for its fields alone."""
    try:
        text = decode_record_bytes(content)
        if markdown:
            text = split_front_matter(text)[0]
        try:
            data = load_yaml(text, lines=False).data
        except LoadError:
            return version_of(load_fields(text, _VERSION_FIELDS)), False
    except (LoadError, ValueError):
        return None, False
    return version_of(data), isinstance(data, dict)


def remember(key: tuple[bool, bytes], version: str | None, mapping: bool) -> None:
    """Keep what `version_facts` told of the content whose key is `key` (whether its record is
    Markdown, the sha256 of its bytes)."""
    if len(_VERSIONS) > 100_000:
        _VERSIONS.clear()
    _VERSIONS[key] = version
    if mapping:
        if len(_MAPPINGS) > 100_000:
            _MAPPINGS.clear()
        _MAPPINGS.add(key)


def loads_as_mapping(content: bytes, record: str) -> bool:
    """Whether `record_data` of the content is a mapping: known without parsing again when
    the content's version was read, or it was found so before."""
    if known_mapping(content, record):
        return True
    if isinstance(record_data(content, record), dict):
        remember_mapping(content, record)
        return True
    return False


def remember_mapping(content: bytes, record: str) -> None:
    """Keep that the content loads as a mapping (`record_data`), as parsed or proven."""
    if len(_MAPPINGS) > 100_000:
        _MAPPINGS.clear()
    _MAPPINGS.add((front_matter(record), hashlib.sha256(content).digest()))


def known_mapping(content: bytes, record: str) -> bool:
    """Whether the content is known to load as a mapping (its version was read), no parse."""
    return (front_matter(record), hashlib.sha256(content).digest()) in _MAPPINGS


_VERSION_FIELDS = frozenset({"version", "state"})
_VERSIONS: dict[tuple[bool, bytes], str | None] = {}
_MAPPINGS: set[tuple[bool, bytes]] = set()  # keys of contents known to load as mappings


def trailer_lines(claims: list[Claim], reason: str | None) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for claim in claims:
        pairs.append((RECORD, claim.record))
        if claim.version is not None:
            pairs.append((VERSION, claim.version))
        if claim.content is not None:
            pairs.append((CONTENT, claim.content))
    pairs.append((MEANING, claims[0].meaning))
    if reason:
        pairs.append((REASON, reason))
    return pairs


def record_data(content: bytes | None, record: str) -> object:
    """A record's fields (a Markdown file's body under "(body)"), or None when it does not parse.

    Signatures often share content (a review, then the approval), so results are cached by
    the content's hash; callers must not change what they get.
    """
    if content is None:
        return None
    key = (front_matter(record), hashlib.sha256(content).digest())
    if key not in _PARSED:
        if len(_PARSED) > 20_000:
            _PARSED.clear()
        _PARSED[key] = _parse(content, markdown=key[0])
    return _PARSED[key]


_PARSED: dict[tuple[bool, bytes], object] = {}


def _parse(content: bytes, *, markdown: bool) -> object:
    try:
        text = decode_record_bytes(content)
        body = None
        if markdown:
            text, body, _ = split_front_matter(text)
        data = load_yaml(text, lines=False).data
    except (LoadError, ValueError):
        return None
    if isinstance(data, dict) and body is not None:
        data["(body)"] = body
    return data
