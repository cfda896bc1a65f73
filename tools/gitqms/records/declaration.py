"""What generic code does with a kind's fields, as its declaration says (schemas/kind.schema.json):
who the people are, which fields name records, which dates must be in the past or in order,
what is due when, which fields link to other kinds, the register's columns and the layout of
the record's page.

A path is a field path: `owner`, `effectiveness.checked_by`, `actions[].owner` (`[]` steps into
every item of a list). In a due item with `each`, paths are within the item, and a path that
starts with `/` is the record's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

Location = tuple[str | int, ...]


@dataclass(frozen=True)
class Path:
    text: str  # as declared: "actions[].owner", "/owner"

    @property
    def steps(self) -> tuple[str, ...]:
        return tuple(self.text.removeprefix("/").split("."))

    @property
    def from_root(self) -> bool:
        return self.text.startswith("/")

    def found(self, data: Any) -> Iterator[tuple[Location, Any]]:
        """Every (location, value) the path reaches in `data`; nothing where a field is absent."""
        yield from _found(data, self.steps, ())

    def first(self, data: Any) -> Any:
        """The first value the path reaches, or None."""
        return next((value for _, value in self.found(data)), None)


def _found(data: Any, steps: tuple[str, ...], at: Location) -> Iterator[tuple[Location, Any]]:
    if not steps:
        yield at, data
        return
    step, rest = steps[0], steps[1:]
    name = step.removesuffix("[]")
    if not isinstance(data, Mapping) or name not in data:
        return
    value = data[name]
    if not step.endswith("[]"):
        yield from _found(value, rest, (*at, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _found(item, rest, (*at, name, index))


def _paths(data: Mapping[str, Any], key: str) -> tuple[Path, ...]:
    return tuple(Path(text) for text in data.get(key) or ())


@dataclass(frozen=True)
class Fields:
    """Where a record kind keeps its common facts."""

    owner: Path | None = None
    opened: Path | None = None
    closed: Path | None = None


@dataclass(frozen=True)
class Unique:
    each: Path  # the list
    key: Path  # the field of each item that must be unique
    code: str  # the finding's code, after the kind's name: "capa.action-id"
    label: str  # "action ID"
    hint: str


@dataclass(frozen=True)
class DateOrder:
    earlier: Path
    later: Path
    what: str  # "{later}" is replaced by the later field's place


@dataclass(frozen=True, kw_only=True)
class DueItem:
    what: str  # "action {id}": {field} is a field of the item
    date: Path
    each: Path | None = None
    owner: Path | None = None
    while_: tuple[tuple[str, tuple[Any, ...]], ...] = ()  # (field, values it may hold)
    done: Path | None = None
    until: tuple[str, ...] | None = None  # None: every closed state
    detail: str | None = None


@dataclass(frozen=True)
class LinkRule:
    field: Path
    to: tuple[str, ...]  # kind names
    back: Path | None = None
    both_ways: str | None = None  # "warning"


@dataclass(frozen=True)
class Column:
    label: str
    fields: tuple[Path, ...]  # the first that holds a value is shown


@dataclass(frozen=True)
class Register:
    title: str
    columns: tuple[Column, ...] = ()


@dataclass(frozen=True)
class Section:
    title: str
    fields: tuple[Path, ...] = ()
    risk: Path | None = None  # a map of severity, occurrence, detectability, level, rationale


@dataclass(frozen=True)
class Page:
    """The record's page: the fields of its header and its sections (`page:`); a kind without
    one shows every field under one section."""

    summary: tuple[Path, ...] = ()
    sections: tuple[Section, ...] = ()

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every path the page names, in order."""
        named = [*self.summary]
        for section in self.sections:
            named += [*section.fields, *((section.risk,) if section.risk else ())]
        return tuple(named)


@dataclass(frozen=True, kw_only=True)
class Declared:
    """The parts of a declaration that generic code reads."""

    fields: Fields = field(default_factory=Fields)
    people: tuple[Path, ...] = ()
    references: tuple[Path, ...] = ()
    versions: tuple[Path, ...] = ()
    coi: tuple[Path, ...] = ()
    unique: tuple[Unique, ...] = ()
    past: tuple[Path, ...] = ()
    order: tuple[DateOrder, ...] = ()
    due: tuple[DueItem, ...] = ()
    links: tuple[LinkRule, ...] = ()
    register: Register | None = None
    approved_states: frozenset[str] = frozenset()  # change control: its documents may be released
    page: Page = field(default_factory=Page)


def _maybe(text: str | None) -> Path | None:
    return None if text is None else Path(text)


def _due(item: Mapping[str, Any]) -> DueItem:
    until = item.get("until", "closed")
    return DueItem(
        what=item["what"],
        date=Path(item["date"]),
        each=_maybe(item.get("each")),
        owner=_maybe(item.get("owner")),
        while_=tuple((k, tuple(v)) for k, v in (item.get("while") or {}).items()),
        done=_maybe(item.get("done")),
        until=None if until == "closed" else tuple(until),
        detail=item.get("detail"),
    )


def _column(item: Mapping[str, Any]) -> Column:
    field = item["field"]
    return Column(item["label"], tuple(map(Path, field if isinstance(field, list) else [field])))


def _page(data: Mapping[str, Any]) -> Page:
    return Page(
        summary=_paths(data, "summary"),
        sections=tuple(
            Section(item["title"], _paths(item, "fields"), _maybe(item.get("risk")))
            for item in data.get("sections") or ()
        ),
    )


def declared(data: Mapping[str, Any]) -> Declared:
    """The generic parts of a declaration that has passed kind.schema.json."""
    fields = data.get("fields") or {}
    dates = data.get("dates") or {}
    register = data.get("register")
    return Declared(
        fields=Fields(*(_maybe(fields.get(k)) for k in ("owner", "opened", "closed"))),
        people=_paths(data, "people"),
        references=_paths(data, "references"),
        versions=_paths(data, "versions"),
        coi=_paths(data, "coi"),
        unique=tuple(
            Unique(Path(u["each"]), Path(u["key"]), u["code"], u["label"], u["hint"])
            for u in data.get("unique") or ()
        ),
        past=_paths(dates, "past"),
        order=tuple(
            DateOrder(Path(o["earlier"]), Path(o["later"]), o["what"])
            for o in dates.get("order") or ()
        ),
        due=tuple(_due(item) for item in data.get("due") or ()),
        links=tuple(
            LinkRule(
                Path(link["field"]),
                tuple(link["to"]),
                _maybe(link.get("back")),
                link.get("both_ways"),
            )
            for link in data.get("links") or ()
        ),
        register=Register(register["title"], tuple(map(_column, register.get("columns") or ())))
        if register
        else None,
        approved_states=frozenset(data.get("approved_states") or ()),
        page=_page(data.get("page") or {}),
    )


def unknown_paths(paths: Iterable[Path], schema: Mapping[str, Any]) -> list[str]:
    """The paths that name no field of the record `schema` (JSON Schema) describes."""
    return [path.text for path in paths if not _known(schema, path.steps, schema)]


def _known(node: Any, steps: tuple[str, ...], root: Mapping[str, Any]) -> bool:
    if not steps:
        return True
    step = steps[0]
    name = step.removesuffix("[]")
    for part in _parts(node, root, 0):
        found = (part.get("properties") or {}).get(name)
        if not isinstance(found, Mapping):
            continue
        if not step.endswith("[]"):
            if _known(found, steps[1:], root):
                return True
            continue
        for inner in _parts(found, root, 0):
            items = inner.get("items")
            if isinstance(items, Mapping) and _known(items, steps[1:], root):
                return True
    return False


def _parts(node: Any, root: Mapping[str, Any], depth: int) -> Iterator[Mapping[str, Any]]:
    """`node` and every subschema it combines or refers to (`$ref`, allOf, anyOf, …)."""
    if not isinstance(node, Mapping) or depth > 20:
        return
    yield node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for key in ref[2:].split("/"):
            target = target.get(key) if isinstance(target, Mapping) else None
        yield from _parts(target, root, depth + 1)
    for key in ("allOf", "anyOf", "oneOf"):
        for item in node.get(key) or ():
            yield from _parts(item, root, depth + 1)
    for key in ("if", "then", "else"):
        yield from _parts(node.get(key), root, depth + 1)
