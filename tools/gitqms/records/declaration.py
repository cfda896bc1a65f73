"""What generic code does with a kind's fields, as its declaration says (schemas/kind.schema.json):
who the people are, which fields name records, which dates must be in the past or in order,
what is due when, which fields link to other kinds, and the register's columns.

A path is a field path: `owner`, `effectiveness.checked_by`, `actions[].owner` (`[]` steps into
every item of a list). In a due item with `each`, paths are within the item, and a path that
starts with `/` is the record's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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
    )
