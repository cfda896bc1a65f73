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
import re._parser as sre_parse  # type: ignore[import-not-found]  # the stdlib's (3.11+)
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
        if key == "$ref":
            if not (isinstance(value, str) and value.startswith("#/")):
                return f"{where}: '$ref' must point inside the schema ('#/…'), not {value!r}"
            if _target(schema, value) is None:
                return f"{where}: '$ref' {value!r} points at nothing in the schema"
        patterns = (
            [value] if key == "pattern" else list(value) if key == "patternProperties" else []
        )
        for pattern in patterns if all(isinstance(p, str) for p in patterns) else ():
            problem = pattern_problem(pattern)
            if problem is not None:
                return f"{where}: the pattern {pattern[:40]!r}: {problem}"
    loop = _reference_loop(schema)
    if loop is not None:
        return f"{loop}: a '$ref' leads back to itself without reading the record"
    required = set(schema.get("required") or ())
    missing = [name for name in _FAMILY_FIELDS.get(family, ()) if name not in required]
    if missing:
        return f"it must require {', '.join(missing)} (what every {family} kind has)"
    if family == "record" and not states_of(schema):
        return 'properties.state must list the kind\'s states: {"enum": ["open", …]}'
    return None


def pattern_problem(pattern: str) -> str | None:
    """Why a schema's pattern may not run on every record in CI and in the server's hook: too
    long, not compiling, or able to backtrack exponentially (a repeat inside a repeat, or an
    alternative under a repeat, as in `(a+)+` or `(a|ab)*`)."""
    if len(pattern) > MAX_PATTERN:
        return f"longer than {MAX_PATTERN} characters"
    try:
        parsed = sre_parse.parse(pattern)
    except re.error as error:
        return f"it does not compile ({error})"
    if _nested(list(parsed), inside_repeat=False):
        return (
            "a repeat contains another repeat or alternatives, which can take exponential "
            "time on a crafted value; write it without nesting, e.g. '^[A-Za-z0-9 ]+$'"
        )
    return None


_REPEATS = {sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT, getattr(sre_parse, "POSSESSIVE_REPEAT", -1)}


def _nested(items: list[Any], *, inside_repeat: bool) -> bool:
    """Whether parsed pattern items hold a repeat or an alternation inside a repeat of more
    than one."""
    for op, arg in items:
        inner: list[list[Any]] = []
        deeper = inside_repeat
        if op in _REPEATS:
            if inside_repeat:
                return True
            _, high, body = arg
            deeper = high is sre_parse.MAXREPEAT or high > 1
            inner = [list(body)]
        elif op is sre_parse.BRANCH:
            if inside_repeat:
                return True
            inner = [list(branch) for branch in arg[1]]
        elif op is sre_parse.SUBPATTERN:
            inner = [list(arg[-1])]
        elif op in (sre_parse.ASSERT, sre_parse.ASSERT_NOT):
            inner = [list(arg[1])]
        if any(_nested(part, inside_repeat=deeper) for part in inner):
            return True
    return False


def _target(schema: Mapping[str, Any], pointer: str) -> Any:
    node: Any = schema
    for part in pointer[2:].split("/") if pointer != "#/" else ():
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


# Keywords whose subschemas apply to the same value (they read nothing of it first).
_SAME_VALUE = ("allOf", "anyOf", "oneOf", "not", "if", "then", "else")


def _reference_loop(schema: Mapping[str, Any]) -> str | None:
    """The first `$ref` from which references and same-value keywords lead back, or None."""

    def same_value(node: Any) -> Iterator[Any]:
        if not isinstance(node, Mapping):
            return
        if isinstance(node.get("$ref"), str):
            target = _target(schema, node["$ref"])
            if target is not None:
                yield node["$ref"], target
        for key in _SAME_VALUE:
            parts = node.get(key)
            for part in parts if isinstance(parts, list) else [parts] if parts is not None else []:
                yield from same_value(part)

    for where, _, value in _keywords(schema, ()):
        if not isinstance(value, str) or not value.startswith("#/"):
            continue
        seen = {value}
        todo = [value]
        while todo:
            target = _target(schema, todo.pop())
            for pointer, _ in same_value(target):
                if pointer == value:
                    return str(where)
                if pointer not in seen:
                    seen.add(pointer)
                    todo.append(pointer)
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
    properties = schema.get("properties")
    state = properties.get("state") if isinstance(properties, Mapping) else None
    states = state.get("enum") if isinstance(state, Mapping) else None
    if not isinstance(states, list) or not all(isinstance(s, str) for s in states):
        return ()
    return tuple(states)
