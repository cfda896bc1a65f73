"""The form `qms advance` opens in the editor (issue 22, item 1): exactly the fields a move
still needs, nested as in the record, each with what it holds and what it takes, the values
the policy computes already written in; and the form read back as `--set` fields.

What a move needs comes from the kind's schema, judged on the record as it would be after the
move: every `required` the schema (with its state-dependent `if/then` branches) reports, asked
again on a probe with the missing mappings filled in, until nothing new is missing.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from ..records.kinds import PLACEHOLDER
from ..records.lifecycles import STATE_FIELDS
from ..safeyaml import LoadError, load_yaml
from ..text import one_line

_WIDTH = 200  # an error or description line is cut here

Path = tuple[str, ...]
Fields = dict[Path, Any]  # dotted path -> value, as `--set` gives them
_ROUNDS = 8  # nesting deeper than this is not asked for in one form
_FORBIDDEN = frozenset({"id", "kind", *STATE_FIELDS})  # written by the move, never by the form
_ERROR = "# error: "


@dataclass(frozen=True)
class Ask:
    path: Path
    about: str  # what it holds and what it takes, one line
    value: Any = None  # written in: given, computed or the schema's default
    items: tuple[str, ...] = ()  # a list of mappings: the fields each item needs


def schema_of(validator: Draft202012Validator) -> Mapping[str, Any]:
    schema = validator.schema
    return schema if isinstance(schema, Mapping) else {}


def missing(validator: Draft202012Validator, data: Mapping[str, Any]) -> list[Path]:
    """The paths of the fields `data` lacks by its schema (mappings and lists by themselves,
    then what they need inside), in the order the schema reports them. Items of a list are
    not descended into: a missing field inside an existing item is an error to show."""
    probe = copy.deepcopy(dict(data))
    found: list[Path] = []
    for _ in range(_ROUNDS):
        new = [p for p in _required(validator, probe) if p not in found]
        if not new:
            break
        found += new
        for path in new:
            node = node_at(schema_of(validator), path)
            if _is_object(schema_of(validator), node):
                _put(probe, path, {})
    return found


def _required(validator: Draft202012Validator, data: Mapping[str, Any]) -> Iterable[Path]:
    for error in _flat(validator.iter_errors(data)):
        at = tuple(error.absolute_path)
        if any(isinstance(step, int) for step in at):
            continue
        base = tuple(str(step) for step in at)
        if error.validator == "required" and isinstance(error.instance, Mapping):
            names = error.validator_value
            for name in names if isinstance(names, list) else ():
                if name not in error.instance:
                    yield (*base, name)
        elif error.validator == "minItems" and error.instance == [] and base:
            yield base


def _flat(errors: Iterable[ValidationError]) -> Iterable[ValidationError]:
    for error in errors:
        yield error
        yield from _flat(error.context or ())


def _put(data: dict[str, Any], path: Path, value: Any) -> None:
    for step in path[:-1]:
        child = data.get(step)
        if not isinstance(child, dict):
            child = data[step] = {}
        data = child
    data.setdefault(path[-1], value)


def node_at(schema: Mapping[str, Any], path: Path) -> Mapping[str, Any]:
    """The schema of the field at `path` (its `$ref` followed), {} when the schema says none."""
    node: Mapping[str, Any] = schema
    for step in path:
        node = resolved(schema, (node.get("properties") or {}).get(step) or {})
    return node


def resolved(schema: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    reference = node.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/$defs/"):
        target = (schema.get("$defs") or {}).get(reference.rsplit("/", 1)[1]) or {}
        return {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def templated(data: Mapping[str, Any], above: Path = ()) -> list[Path]:
    """The fields that still hold the template's text (lists are not descended into)."""
    found: list[Path] = []
    for key, value in data.items():
        path = (*above, str(key))
        if isinstance(value, Mapping):
            found += templated(value, path)
        elif isinstance(value, str) and PLACEHOLDER in value:
            found.append(path)
    return found


def _is_object(schema: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    return node.get("type") == "object" or "properties" in node


def describe(schema: Mapping[str, Any], path: Path, node: Mapping[str, Any] | None = None) -> str:
    """What the field at `path` (of schema `node`, when known) holds and takes, in one line."""
    node = node_at(schema, path) if node is None else node
    parts = [str(node.get("description") or "").rstrip(".")]
    if isinstance(node.get("enum"), list):
        parts.append("one of: " + ", ".join(str(v).lower() for v in node["enum"]))
    elif node.get("type") == "boolean":
        parts.append("true or false")
    elif node.get("type") == "array":
        parts.append("a list")
    elif node.get("x-fix"):
        parts.append(str(node["x-fix"]))
    return one_line("; ".join(p for p in parts if p), _WIDTH)


def item_fields(schema: Mapping[str, Any], path: Path) -> tuple[str, ...]:
    """For a list of mappings: the fields each item needs."""
    items = resolved(schema, node_at(schema, path).get("items") or {})
    return tuple(str(name) for name in items.get("required") or ())


def default(schema: Mapping[str, Any], path: Path) -> str | None:
    """A schema's `x-default` for the field: 'signer' or 'today', else None."""
    value = node_at(schema, path).get("x-default")
    return value if value in ("signer", "today") else None


# --- the form as text ------------------------------------------------------------------------


def header(command: str, move: str) -> list[str]:
    """The comment lines at the top of the form: what it is for and how to give up."""
    return [
        f"# {command}",
        f"# {move}",
        "#",
        "# Fill in the fields below, then save and close the editor. Lines starting with '#'",
        "# are ignored. What you write is committed as yours, with the Reason trailer, and then",
        "# the move is signed. To abandon, leave every field empty (or close the editor without",
        "# saving): nothing is changed.",
    ]


def render(head: Sequence[str], asks: Sequence[Ask]) -> str:
    """The form: its header, then each field it asks for."""
    lines = [*head, ""]
    written: set[Path] = set()
    for ask in asks:
        for depth, step in enumerate(ask.path[:-1]):
            above = ask.path[: depth + 1]
            if above not in written:
                lines.append(f"{'  ' * depth}{step}:")
                written.add(above)
        indent = "  " * (len(ask.path) - 1)
        if ask.about:
            lines.append(f"{indent}# {ask.about}")
        lines += _field(indent, ask)
        written.add(ask.path)
    return "\n".join(lines) + "\n"


def _field(indent: str, ask: Ask) -> list[str]:
    name = ask.path[-1]
    if ask.items and ask.value is None:
        first, *rest = ask.items
        return [f"{indent}{name}:", f"{indent}  - {first}:", *(f"{indent}    {r}:" for r in rest)]
    if ask.value is None:
        return [f"{indent}{name}:"]
    if isinstance(ask.value, list | dict):
        block = yaml.safe_dump(ask.value, sort_keys=False, allow_unicode=True, width=88)
        return [f"{indent}{name}:", *(f"{indent}  {line}" for line in block.splitlines())]
    return [f"{indent}{name}: {json.dumps(ask.value, ensure_ascii=False)}"]


def with_errors(text: str, errors: Sequence[str], head: Sequence[str]) -> str:
    """`text` (the form as last saved) opened again: the errors of this try at the top, then
    the header, then what was written, without the errors and header of the last try."""
    ours = {*head, "#"}
    lines = text.splitlines()
    while lines and (lines[0].startswith(_ERROR) or lines[0] in ours):
        lines.pop(0)
    lines = [line for line in lines if not line.startswith(_ERROR)]
    shown = [_ERROR + one_line(error, _WIDTH) for error in errors]
    return "\n".join([*shown, "#", *head, *([""] if lines and lines[0] else []), *lines]) + "\n"


class FormError(Exception):
    """The form cannot be read as fields: what is wrong, one `# error:` line each."""

    def __init__(self, *problems: str) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def read(text: str, asked: Sequence[Path]) -> Fields | None:
    """The fields the form gives (nested mappings as dotted paths, empty values left out),
    or None when it gives none: the move is abandoned. A field the form did not ask for (or
    one the move writes itself) is refused: other changes are made with `qms commit`."""
    try:
        data = load_yaml(text, lines=False).data
    except LoadError as error:
        raise FormError(f"line {error.line}: {error.message}") from None
    if data is None:
        return None
    if not isinstance(data, dict):
        raise FormError("the form must be fields and their values, as 'field: value'")
    fields = dict(_given(data, ()))
    problems = []
    for path in fields:
        name = ".".join(path)
        if path[0] in _FORBIDDEN:
            problems.append(f"'{name}' is written by the move itself, not by the form; remove it")
        elif not any(path[: len(a)] == a for a in asked):
            problems.append(
                f"'{name}' is not a field this move asks for; remove it here and change it "
                "with `qms commit` (its own change, with its own reason)"
            )
    if problems:
        raise FormError(*problems)
    return fields or None


def _given(data: Mapping[str, Any], above: Path) -> Iterable[tuple[Path, Any]]:
    for key, value in data.items():
        path = (*above, str(key))
        if isinstance(value, dict):
            yield from _given(value, path)
        elif isinstance(value, list):
            items = [_kept(i) for i in value if _filled(i)]
            if items:
                yield path, items
        elif _filled(value):
            yield path, value


def _kept(item: Any) -> Any:
    """A list item without the fields left empty."""
    return {k: v for k, v in item.items() if _filled(v)} if isinstance(item, dict) else item


def _filled(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_filled(v) for v in value.values())
    if isinstance(value, list):
        return any(_filled(v) for v in value)
    return value not in (None, "")
