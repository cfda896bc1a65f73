"""The JSON Schemas of a repository's own kinds: pinned in qms.yaml by git blob id and sha256,
read by blob id (so editing the file in the tree changes nothing until an admin re-pins it),
checked before a registry that pins them is adopted, and kept by content for the validators.

A schema is code that runs on every record of its kind, in CI and in the server's hook, so it
is held to limits: Draft 2020-12, at most 256 KiB, references only inside itself (`#/…`), no
`$id` or `$dynamicRef`, every `pattern` compiling and at most 200 characters long; and it must
require what the family's code relies on (`id`, `title`, and `state` for a record kind).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

MAX_BYTES = 256 * 1024
MAX_PATTERN = 200
DRAFT = "https://json-schema.org/draft/2020-12/schema"
_FAMILY_FIELDS = {"document": ("id", "title"), "record": ("id", "title", "state")}

BlobReader = Callable[[str], bytes | None]  # git blob id -> its bytes, None if not there


@dataclass(frozen=True)
class Pin:
    file: str  # schemas/NAME.schema.json, the readers' copy
    blob: str  # git blob id
    sha256: str

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Pin:
        return cls(str(data["file"]), str(data["blob"]), str(data["sha256"]))

    @property
    def key(self) -> str:
        """How validators name the schema: by content."""
        return f"sha256:{self.sha256}"


# "sha256:HEX" -> the schema; content-addressed, so any repository may share it.
_KEPT: dict[str, Mapping[str, Any]] = {}
# The pins already read and checked, (blob, sha256, family): a pin naming a blob that is not
# there is refused however often its content was seen, so that no verdict depends on what
# this process read before.
_CHECKED: set[tuple[str, str, str]] = set()


def kept_schema(key: str) -> Mapping[str, Any] | None:
    return _KEPT.get(key)


def load_pinned(pin: Pin, family: str, read_blob: BlobReader) -> Mapping[str, Any] | str:
    """The schema `pin` names, checked; else a sentence saying what is wrong with it."""
    if (pin.blob, pin.sha256, family) in _CHECKED:
        return _KEPT[pin.key]
    content = read_blob(pin.blob)
    if content is None:
        return f"the pinned schema {pin.file} (blob {pin.blob[:12]}) is not in the repository"
    if hashlib.sha256(content).hexdigest() != pin.sha256:
        return f"the pinned schema {pin.file} does not match its sha256"
    if len(content) > MAX_BYTES:
        return f"the pinned schema {pin.file} is larger than {MAX_BYTES // 1024} KiB"
    try:
        schema = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return f"the pinned schema {pin.file} is not JSON: {error}"
    problem = schema_problem(schema, family)
    if problem is not None:
        return f"the pinned schema {pin.file}: {problem}"
    _KEPT[pin.key] = schema
    _CHECKED.add((pin.blob, pin.sha256, family))
    return _KEPT[pin.key]


def schema_problem(schema: Any, family: str) -> str | None:
    """What makes `schema` unfit to judge a kind's records, or None."""
    if not isinstance(schema, dict):
        return "it is not a JSON object"
    if schema.get("$schema") != DRAFT:
        return f"'$schema' must be {DRAFT!r}"
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        return f"it is not a valid JSON Schema: {error.message}"
    for where, key, value in _keywords(schema, ()):
        if key in ("$id", "$dynamicRef", "$dynamicAnchor", "$anchor"):
            return f"{where}: '{key}' is not allowed; keep the schema self-contained"
        if key == "$ref" and not (isinstance(value, str) and value.startswith("#/")):
            return f"{where}: '$ref' must point inside the schema ('#/…'), not {value!r}"
        if key == "pattern" and isinstance(value, str):
            if len(value) > MAX_PATTERN:
                return f"{where}: a pattern longer than {MAX_PATTERN} characters"
            try:
                re.compile(value)
            except re.error as error:
                return f"{where}: the pattern does not compile ({error})"
    required = set(schema.get("required") or ())
    missing = [name for name in _FAMILY_FIELDS.get(family, ()) if name not in required]
    if missing:
        return f"it must require {', '.join(missing)} (what every {family} kind has)"
    return None


def _keywords(node: Any, at: tuple[str, ...]) -> Iterator[tuple[str, str, Any]]:
    """(where, keyword, value) for every keyword of every subschema."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield "/".join(at) or "(top)", key, value
            if key not in ("enum", "const", "examples", "default", "x-fix", "x-when"):
                yield from _keywords(value, (*at, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _keywords(item, (*at, str(index)))


def states_of(schema: Mapping[str, Any]) -> tuple[str, ...]:
    """The states a record kind's schema allows (`properties.state.enum`), if it says."""
    state = (schema.get("properties") or {}).get("state") or {}
    return tuple(state.get("enum") or ())
