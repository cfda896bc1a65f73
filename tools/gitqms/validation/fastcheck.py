"""A quick yes/no for "is this document valid under its schema", for the keywords our schemas use.

jsonschema walks a schema for every document, resolving each `$ref` and making a validator
object per step; most records are valid, and for those that walk finds nothing. This turns a
schema once into plain Python checks with jsonschema's own meaning for each keyword (its type
checker of draft 2020-12, its `equal` and `uniq`, the validator's format checker), so a valid
document costs a fraction of the walk. A document it rejects goes through jsonschema, which
says what is wrong; a schema with a keyword not listed here is never checked this way.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema._types import draft202012_type_checker
from jsonschema._utils import equal, uniq

Check = Callable[[Any], bool]

# Keywords that never make a document invalid (annotations, definitions, `then`/`else` read
# through `if`); names starting with "x-" are our own annotations.
_QUIET = frozenset(
    {"$schema", "$id", "$defs", "$comment", "title", "description", "default", "examples"}
)
_TYPES: dict[str, Check] = {
    "array": lambda x: isinstance(x, list),
    "boolean": lambda x: isinstance(x, bool),
    "integer": lambda x: (
        (isinstance(x, int) and not isinstance(x, bool))
        or (isinstance(x, float) and x.is_integer())
    ),
    "null": lambda x: x is None,
    "number": lambda x: isinstance(x, numbers.Number) and not isinstance(x, bool),
    "object": lambda x: isinstance(x, dict),
    "string": lambda x: isinstance(x, str),
}


def _every(checks: list[Check]) -> Check:
    if len(checks) == 1:
        return checks[0]

    def every(x: Any) -> bool:
        # A plain loop: all() over a generator costs more, and this runs for every value.
        for check in checks:  # noqa: SIM110
            if not check(x):
                return False
        return True

    return every


class Unsupported(Exception):
    """The schema uses something this module does not check."""


def compile_validity(validator: Draft202012Validator) -> Check | None:
    """A function telling whether a document is valid under `validator`'s schema, exactly as
    `validator.is_valid` would; None when the schema uses a keyword not supported here."""
    if validator.TYPE_CHECKER is not draft202012_type_checker:
        return None
    schema = validator.schema
    try:
        return _Compiler(schema, validator.format_checker).compile(schema)
    except Unsupported:
        return None


class _Compiler:
    def __init__(self, root: Any, formats: FormatChecker | None) -> None:
        self.root = root
        self.formats = formats
        self.refs: dict[str, Check] = {}

    def compile(self, schema: Any) -> Check:
        if schema is True:
            return lambda x: True
        if schema is False:
            return lambda x: False
        if not isinstance(schema, Mapping):
            raise Unsupported("a schema that is not an object")
        checks = [
            self.keyword(name, value, schema)
            for name, value in schema.items()
            if name not in _QUIET and not name.startswith("x-") and name not in ("then", "else")
        ]
        if "$id" in schema and schema is not self.root:
            raise Unsupported("$id below the root")
        return _every(checks)

    def keyword(self, name: str, value: Any, schema: Mapping[str, Any]) -> Check:
        family = _FAMILIES.get(name)
        if family is None:
            raise Unsupported(name)
        return family(self, name, value, schema)

    def value_keyword(self, name: str, value: Any, schema: Mapping[str, Any]) -> Check:
        """type, enum, const, pattern, format."""
        if name == "type":
            names = [value] if isinstance(value, str) else value
            if not all(isinstance(t, str) and t in _TYPES for t in names):
                raise Unsupported(f"type {value!r}")
            kinds = [_TYPES[t] for t in names]
            if len(kinds) == 1:
                return kinds[0]
            return lambda x: any(kind(x) for kind in kinds)
        if name == "enum":
            options = list(value)
            if all(isinstance(option, str) for option in options):
                # `equal` compares text with ==, and no non-text value equals a text.
                texts = frozenset(options)
                return lambda x: isinstance(x, str) and x in texts
            return lambda x: any(equal(option, x) for option in options)
        if name == "const":
            return lambda x: equal(x, value)
        if name == "pattern":
            search = re.compile(value).search
            return lambda x: not isinstance(x, str) or search(x) is not None
        formats = self.formats  # "format"
        return lambda x: formats is None or formats.conforms(x, value)

    def bound(self, name: str, value: Any, schema: Mapping[str, Any]) -> Check:
        """Lengths, sizes and numeric bounds. Written as jsonschema tests them (`x < minimum`
        fails), so that a value no comparison holds for (NaN) is judged alike."""
        if name == "minLength":
            return lambda x: not isinstance(x, str) or not len(x) < value
        if name == "maxLength":
            return lambda x: not isinstance(x, str) or not len(x) > value
        if name == "minimum":
            return lambda x: not _TYPES["number"](x) or not x < value
        if name == "maximum":
            return lambda x: not _TYPES["number"](x) or not x > value
        if name == "minItems":
            return lambda x: not isinstance(x, list) or not len(x) < value
        if name == "maxItems":
            return lambda x: not isinstance(x, list) or not len(x) > value
        return lambda x: not isinstance(x, dict) or not len(x) < value  # "minProperties"

    def container_keyword(self, name: str, value: Any, schema: Mapping[str, Any]) -> Check:
        """properties, patternProperties, additionalProperties, required, dependentRequired,
        propertyNames, items, uniqueItems."""
        compile_ = self.compile
        if name == "properties":
            subs = [(key, compile_(sub)) for key, sub in value.items()]

            def properties(x: Any) -> bool:
                if isinstance(x, dict):
                    for key, check in subs:
                        if key in x and not check(x[key]):
                            return False
                return True

            return properties
        if name == "patternProperties":  # as jsonschema: re.search on each name
            by_pattern = [(re.compile(pattern), compile_(sub)) for pattern, sub in value.items()]
            return lambda x: (
                not isinstance(x, dict)
                or all(
                    check(item)
                    for key, item in x.items()
                    for found, check in by_pattern
                    if found.search(key)
                )
            )
        if name == "additionalProperties":
            known = frozenset(schema.get("properties", {}))
            patterns = [re.compile(pattern) for pattern in schema.get("patternProperties", {})]
            extra = compile_(value)
            return lambda x: (
                not isinstance(x, dict)
                or all(
                    extra(item)
                    for key, item in x.items()
                    if key not in known and not any(found.search(key) for found in patterns)
                )
            )
        if name == "required":
            names = list(value)
            return lambda x: not isinstance(x, dict) or all(key in x for key in names)
        if name == "dependentRequired":  # a present key needs these others
            needs = [(key, list(others)) for key, others in value.items()]
            return lambda x: (
                not isinstance(x, dict)
                or all(all(other in x for other in others) for key, others in needs if key in x)
            )
        if name == "propertyNames":
            sub = compile_(value)
            return lambda x: not isinstance(x, dict) or all(sub(key) for key in x)
        if name == "uniqueItems":
            return lambda x: not value or not isinstance(x, list) or bool(uniq(x))
        if "prefixItems" in schema:  # "items"
            raise Unsupported("prefixItems")
        item = compile_(value)
        return lambda x: not isinstance(x, list) or all(item(each) for each in x)

    def combinator(self, name: str, value: Any, schema: Mapping[str, Any]) -> Check:
        """allOf, anyOf, oneOf, not, if (with then and else), $ref."""
        compile_ = self.compile
        if name in ("allOf", "anyOf", "oneOf"):
            parts = [compile_(part) for part in value]
            if name == "allOf":
                return _every(parts)
            if name == "anyOf":
                return lambda x: any(part(x) for part in parts)
            return lambda x: sum(1 for part in parts if part(x)) == 1
        if name == "not":
            sub = compile_(value)
            return lambda x: not sub(x)
        if name == "if":
            test = compile_(value)
            then = compile_(schema["then"]) if "then" in schema else None
            otherwise = compile_(schema["else"]) if "else" in schema else None
            return lambda x: (
                (then is None or then(x)) if test(x) else (otherwise is None or otherwise(x))
            )
        return self.ref(value)  # "$ref"

    def ref(self, pointer: str) -> Check:
        """A reference inside this schema (`#/$defs/name`), compiled once, even if recursive."""
        if not pointer.startswith("#/") or "~" in pointer or "%" in pointer:
            raise Unsupported(f"$ref {pointer}")
        if pointer not in self.refs:
            target: Any = self.root
            for part in pointer[2:].split("/"):
                if not isinstance(target, Mapping) or part not in target:
                    raise Unsupported(f"$ref {pointer}")
                target = target[part]
            compiled: list[Check] = []
            self.refs[pointer] = lambda x: compiled[0](x)
            compiled.append(self.compile(target))
        return self.refs[pointer]


_Family = Callable[[_Compiler, str, Any, Mapping[str, Any]], Check]
# Each keyword checked here, and the method that compiles it.
_FAMILIES: dict[str, _Family] = {
    **dict.fromkeys(("type", "enum", "const", "pattern", "format"), _Compiler.value_keyword),
    **dict.fromkeys(
        ("minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "minProperties"),
        _Compiler.bound,
    ),
    **dict.fromkeys(
        (
            "properties",
            "patternProperties",
            "additionalProperties",
            "required",
            "dependentRequired",
            "propertyNames",
            "items",
            "uniqueItems",
        ),
        _Compiler.container_keyword,
    ),
    **dict.fromkeys(("allOf", "anyOf", "oneOf", "not", "if", "$ref"), _Compiler.combinator),
}
