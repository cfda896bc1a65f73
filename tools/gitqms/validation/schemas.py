"""JSON Schema checks, compiled once per run, with errors turned into words a QA author can act on.

Schemas may carry annotations that jsonschema ignores and we read:
- `x-fix`: what to write in a field that fails;
- `x-when`: on an `if/then` branch, the rule that made its requirements apply;
- `x-default`: 'signer' or 'today', the value `qms advance` writes into the field when a move
  needs it and it is empty (actions/form.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from ..errors import QmsError
from ..records.kinds import KINDS, PACKAGED
from ..records.pinned import kept_schema
from .fastcheck import compile_validity

# The packaged schemas a repository keeps copies of: each kind's, then qms.yaml's.
SCHEMA_NAMES = (*(kind.schema for kind in KINDS), "qms")

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})"
)
_YES_NO = {"yes", "no", "y", "n", "on", "off"}

Location = tuple[str | int, ...]


@dataclass(frozen=True)
class SchemaProblem:
    location: Location  # where in the data; the line comes from the document's line map
    code: str
    message: str
    fix: str


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("date", raises=ValueError)
    def is_date(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not _DATE.fullmatch(value):
            return False
        date.fromisoformat(value)
        return True

    @checker.checks("date-time", raises=ValueError)
    def is_date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not _DATE_TIME.fullmatch(value):
            return False
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True

    return checker


def packaged_schema_text(name: str) -> str:
    return resources.files("gitqms").joinpath("schemas", f"{name}.schema.json").read_text("utf-8")


def readers_copies() -> dict[str, str]:
    """The files `qms init` writes for editors and readers, by path: each kind's schema and
    qms.yaml's, the declaration format, and the declarations of the package's kinds. gitqms
    never reads them; `qms validate` warns when one drifts from the installed gitqms."""
    files = {f"schemas/{name}.schema.json": packaged_schema_text(name) for name in SCHEMA_NAMES}
    files["schemas/kind.schema.json"] = packaged_schema_text("kind")
    package = resources.files("gitqms")
    for name in PACKAGED:
        files[f"kinds/{name}.yaml"] = package.joinpath("kinds", f"{name}.yaml").read_text("utf-8")
    return files


@cache
def validator(name: str) -> Draft202012Validator:
    """The compiled validator for one record type; built once per process. `name`: a packaged
    schema's, or `sha256:HEX` for a repository kind's pinned schema (records/pinned.py)."""
    pinned = kept_schema(name) if name.startswith("sha256:") else None
    if name.startswith("sha256:") and pinned is None:
        raise QmsError(
            f"the schema {name[:19]}… is not loaded", hint="report this: the kind was not checked"
        )
    schema = pinned if pinned is not None else json.loads(packaged_schema_text(name))
    return Draft202012Validator(schema, format_checker=_format_checker())


def dotted(location: Location) -> str:
    parts: list[str] = []
    for part in location:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + part)
    return "".join(parts) or "(the record)"


_LONG_NUMBER = re.compile(r"[0-9]{5}")


def safe_to_show(text: str) -> bool:
    """Whether record text may be repeated in a finding. Findings land in CI logs: long
    texts and anything with a long number (a possible patient identifier) are not echoed."""
    return len(text) <= 40 and not _LONG_NUMBER.search(text)


def _describe(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if not safe_to_show(value):
            return f"a text of {len(value)} characters (not repeated here)"
        return f"the text {value!r}"
    if isinstance(value, float):
        return f"the decimal number {value}"
    if isinstance(value, int):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    return "a map of fields"


_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a map of fields",
    "null": "empty",
}


def _annotations(
    schema: Mapping[str, Any], error: ValidationError
) -> tuple[str | None, str | None]:
    """The innermost `x-fix` and `x-when` along the failing keyword's schema path.

    A `$ref` is followed whether or not the path names it; an `x-fix` written beside a `$ref`
    is more specific than the referenced definition's own and wins over it.
    """
    fix = when = None
    node: Any = schema
    for step in (*error.absolute_schema_path, None):
        pinned = False  # an x-fix beside a $ref outranks the definition's
        while isinstance(node, Mapping):
            when = node.get("x-when", when)
            if not pinned:
                fix = node.get("x-fix", fix)
            if "$ref" in node and (step is None or step == "$ref" or step not in node):
                pinned = pinned or "x-fix" in node
                node = _resolve(schema, node["$ref"])
                continue
            break
        if step is None or step == "$ref":
            continue
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
    return fix, when


def _resolve(schema: Mapping[str, Any], ref: str) -> Any:
    node: Any = schema
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


@dataclass(frozen=True, kw_only=True)
class _Failure:
    """One error of jsonschema, as the explanations below read it."""

    location: Location
    where: str  # the location, dotted
    fix: str | None  # the schema's own x-fix, if any
    because: str  # " (x-when)" or ""
    keyword: Any
    instance: Any
    expected: Any
    subschema: Any
    detail: str  # jsonschema's own message

    @classmethod
    def of(cls, schema: Mapping[str, Any], error: ValidationError) -> _Failure:
        location: Location = tuple(error.absolute_path)
        fix, when = _annotations(schema, error)
        return cls(
            location=location,
            where=dotted(location),
            fix=fix,
            because=f" ({when})" if when else "",
            keyword=error.validator,
            instance=error.instance,
            expected=error.validator_value,
            subschema=error.schema,
            detail=error.message,
        )


def _problems(schema: Mapping[str, Any], error: ValidationError) -> Iterator[SchemaProblem]:
    failure = _Failure.of(schema, error)
    explain = _EXPLAIN.get(str(failure.keyword), _other)
    return explain(failure)


def _required(f: _Failure) -> Iterator[SchemaProblem]:
    for name in f.expected:
        if isinstance(f.instance, dict) and name not in f.instance:
            field = dotted((*f.location, name))
            yield SchemaProblem(
                f.location,
                "schema.required",
                f"missing field '{field}'{f.because}",
                f"add '{name}:' with its value",
            )


def _unknown_fields(f: _Failure) -> Iterator[SchemaProblem]:
    if not isinstance(f.instance, dict):
        yield from _other(f)
        return
    allowed = sorted(f.subschema.get("properties", {}))
    for name in f.instance:
        if name not in allowed:
            shown = (
                f"'{dotted((*f.location, name))}'" if safe_to_show(name) else "(name not repeated)"
            )
            yield SchemaProblem(
                (*f.location, name),
                "schema.unknown-field",
                f"unknown field {shown}",
                "remove it or correct its spelling"
                + (f"; fields allowed here: {', '.join(allowed)}" if allowed else ""),
            )


def _wrong_type(f: _Failure) -> Iterator[SchemaProblem]:
    wanted = f.expected if isinstance(f.expected, list) else [f.expected]
    words = " or ".join(_TYPE_WORDS.get(str(w), str(w)) for w in wanted if w != "null")
    message = f"'{f.where}' must be {words}, not {_describe(f.instance)}"
    fix = f.fix
    if "boolean" in wanted and isinstance(f.instance, str) and f.instance.lower() in _YES_NO:
        fix = (
            f"write true or false; {f.instance!r} is kept as text so that it cannot "
            "silently change meaning"
        )
    elif "integer" in wanted and isinstance(f.instance, float | str):
        fix = fix or "write a whole number without quotes or decimals"
    yield SchemaProblem(f.location, "schema.type", message + f.because, fix or f"write {words}")


def _not_allowed(f: _Failure) -> Iterator[SchemaProblem]:
    options = f.expected if f.keyword == "enum" else [f.expected]
    listed = ", ".join(json.dumps(option) for option in options)
    yield SchemaProblem(
        f.location,
        f"schema.{f.keyword}",
        f"'{f.where}' is {_describe(f.instance)}; allowed: {listed}{f.because}",
        f.fix or f"use one of: {listed}",
    )


def _wrong_form(f: _Failure) -> Iterator[SchemaProblem]:
    kind = {"date": "a valid date", "date-time": "a valid date-time with zone"}.get(
        str(f.expected), "in the expected form"
    )
    yield SchemaProblem(
        f.location,
        f"schema.{f.keyword}",
        f"'{f.where}' is {_describe(f.instance)}, which is not {kind}{f.because}",
        f.fix or f"match the pattern {f.expected}",
    )


def _bad_name(f: _Failure) -> Iterator[SchemaProblem]:
    bad = [key for key in f.instance if not re.search(f.expected.get("pattern", ""), key)]
    yield SchemaProblem(
        f.location,
        "schema.name",
        f"'{f.where}' has the name {bad[0] if bad else '?'!r}, which is not lower-case-with-hyphens",
        "use lower-case names joined by hyphens, such as 'qa-manager'",
    )


def _other(f: _Failure) -> Iterator[SchemaProblem]:
    where, expected, entries = f.where, f.expected, f"entr{'y' if f.expected == 1 else 'ies'}"
    messages = {
        "minLength": f"'{where}' is too short (at least {expected} characters)",
        "maxLength": f"'{where}' is too long (at most {expected} characters)",
        "minimum": f"'{where}' is {f.instance}, below the minimum {expected}",
        "maximum": f"'{where}' is {f.instance}, above the maximum {expected}",
        "minItems": f"'{where}' needs at least {expected} {entries}",
        "uniqueItems": f"'{where}' lists the same entry more than once",
        "minProperties": f"'{where}' needs at least {expected} {entries}",
        "anyOf": f"'{where}' does not meet the rule",
    }
    yield SchemaProblem(
        f.location,
        f"schema.{f.keyword}",
        messages.get(str(f.keyword), f"'{where}': {f.detail}") + f.because,
        f.fix or "see the record's schema in schemas/",
    )


# How each failing keyword is explained; any other keyword by `_other`.
_EXPLAIN: dict[str, Callable[[_Failure], Iterator[SchemaProblem]]] = {
    "required": _required,
    "additionalProperties": _unknown_fields,
    "type": _wrong_type,
    "enum": _not_allowed,
    "const": _not_allowed,
    "pattern": _wrong_form,
    "format": _wrong_form,
    "propertyNames": _bad_name,
}


@cache
def _quick_validity(name: str) -> Callable[[Any], bool] | None:
    return compile_validity(validator(name))


def schema_problems(name: str, data: Any) -> list[SchemaProblem]:
    """Every schema problem of one document, deduplicated, in document order."""
    valid = _quick_validity(name)
    if valid is not None and valid(data):
        return []  # what jsonschema would find: nothing (see fastcheck.py)
    compiled = validator(name)
    schema: Mapping[str, Any] = compiled.schema  # type: ignore[assignment]
    seen: set[tuple[Location, str, str]] = set()
    problems: list[SchemaProblem] = []
    for error in compiled.iter_errors(data):
        for problem in _problems(schema, error):
            key = (problem.location, problem.code, problem.message)
            if key not in seen:
                seen.add(key)
                problems.append(problem)
    return problems
