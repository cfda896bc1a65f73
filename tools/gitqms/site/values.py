"""Record values as people read them: yes/no for booleans, date-times in the organisation's
time zone with the zone named, dates as dates, people by their printed names, records as links,
lists of maps as small tables; empty values left out. Everything from a record is escaped here
(`text()`); nothing in this module emits record text unescaped."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import QmsError
from .layout import link, scroller
from .sanitise import text

_DATE_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)")
_DATE = re.compile(r"\d{4}-\d\d-\d\d")


def zone(name: str) -> ZoneInfo:
    """The organisation's time zone (qms.yaml organisation.time_zone)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise QmsError(
            f"qms.yaml: organisation.time_zone '{name}' is not a time zone of this machine",
            hint="write an IANA zone such as Europe/Berlin (Debian: apt-get install tzdata)",
        ) from None


def local(when: datetime, where: ZoneInfo) -> str:
    """A moment as `<time>`: the local date and time with the zone's abbreviation, the exact
    moment (UTC) in the attribute and the title."""
    at = when.astimezone(where)
    utc = when.astimezone(ZoneInfo("UTC"))
    return (
        f'<time datetime="{text(utc.isoformat())}" title="{utc:%Y-%m-%d %H:%M} UTC">'
        f"{at:%Y-%m-%d %H:%M} {text(at.tzname() or where.key)}</time>"
    )


def empty(value: Any) -> bool:
    """Nothing recorded: None, "", an empty list or map, or one holding only empty values."""
    if value is None or value == "":
        return True
    if isinstance(value, Mapping):
        return all(empty(v) for v in value.values())
    if isinstance(value, list):
        return all(empty(v) for v in value)
    return False


_ACRONYMS = {"capa": "CAPA", "sop": "SOP", "sops": "SOPs", "coi": "COI", "oos": "OOS", "id": "ID"}


def label(path: str) -> str:
    """A field path as a label: `root_cause.method` -> "Root cause method", `sops` -> "SOPs"."""
    steps = " ".join(step.removesuffix("[]").replace("_", " ") for step in path.split("."))
    words = [_ACRONYMS.get(word, word) for word in steps.split()]
    joined = " ".join(words)
    return joined[:1].upper() + joined[1:]


@dataclass(frozen=True, kw_only=True)
class Shown:
    """What showing a record's values needs: the registry's printed names, the zone, which
    paths name people and records (the kind's declaration), and the pages a record links to."""

    people: Mapping[str, str]
    zone: ZoneInfo
    person_paths: frozenset[str] = frozenset()
    record_paths: frozenset[str] = frozenset()
    record_link: Callable[[str], str | None] = lambda _: None  # record ID -> URL, or None

    def scalar(self, value: Any, path: str) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, str):
            path = path.removesuffix("[]")
            if path in self.person_paths and value in self.people:
                return f"{text(self.people[value])} <small>({text(value)})</small>"
            if path in self.record_paths:
                href = self.record_link(value)
                return link(href, value) if href else text(value)
            if _DATE_TIME.fullmatch(value):
                try:
                    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
                except ValueError:
                    return text(value)
                return local(when, self.zone)
            if _DATE.fullmatch(value):
                return f'<time datetime="{text(value)}">{text(value)}</time>'
        return text(value)

    def value(self, value: Any, path: str) -> str:
        """Any value under `path`: maps as definition lists, lists of maps as tables."""
        if isinstance(value, Mapping):
            items = [
                f"<dt>{text(label(str(k)))}</dt><dd>{self.value(v, f'{path}.{k}')}</dd>"
                for k, v in value.items()
                if not empty(v)
            ]
            return f'<dl class="qms-fields">{"".join(items)}</dl>'
        if isinstance(value, list):
            items = [v for v in value if not empty(v)]
            if items and all(isinstance(item, Mapping) for item in items):
                return self.table(items, f"{path}[]")
            shown = [self.value(v, f"{path}[]") for v in items]
            if all(not isinstance(v, Mapping | list) for v in items):
                return ", ".join(shown)
            return "<ul>" + "".join(f"<li>{v}</li>" for v in shown) + "</ul>"
        return self.scalar(value, path)

    def table(self, items: list[Any], path: str) -> str:
        """A list of maps as a small table, with a column for each key any item fills."""
        keys = list(
            dict.fromkeys(str(k) for item in items for k, v in item.items() if not empty(v))
        )
        head = "".join(f'<th scope="col">{text(label(k))}</th>' for k in keys)
        rows = "".join(
            "<tr>"
            + "".join(
                f"<td>{'' if empty(item.get(k)) else self.value(item.get(k), f'{path}.{k}')}</td>"
                for k in keys
            )
            + "</tr>"
            for item in items
        )
        return (
            scroller("qms-items", label(path.removesuffix("[]")))
            + f"<table><thead><tr>{head}</tr></thead>"
            f"<tbody>{rows}</tbody></table></div>"
        )
