"""Text for synthetic records: the shipped examples' fields and vocabulary, varied, and written
out in the examples' own YAML style (quoted lines, folded `>-` paragraphs, flow lists of IDs).

The shipped SOPs, CAPAs and deviations are the archetypes: a generated record starts as a copy
of one, its numbers, dates and record IDs changed, some paragraphs rebuilt from sentences of the
same field in other examples, and a title assembled from parts, so no two records are the same.
"""

from __future__ import annotations

import copy
import functools
import random
import re
import textwrap
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

WIDTH = 96
# Plain (unquoted) scalars, as the examples write IDs, person IDs and enum values.
_PLAIN = re.compile(r"[a-z][a-z0-9.-]*|[A-Z]+-[0-9]{4}(-[0-9]{3,4})?|A[0-9]{1,3}|[0-9]+-whys")
_LINE_FIELDS = frozenset({"title"})  # one line, quoted, however long
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})
_SENTENCE_END = re.compile(r"(?<=\.)\s+(?=[A-Z(])")
_TOKEN = re.compile(
    r"(?P<id>\b(?:SOP-\d{4}|(?:CAPA|DEV)-\d{4}-\d{4})\b)"
    r"|(?P<cc>\bCC-\d{4}-\d{3}\b)"
    r"|(?P<date>\b\d{4}-\d{2}-\d{2}\b)"
    r"|(?P<time>\b[0-2]\d:[0-5]\d\b)"
    r"|(?P<num>\b\d+(?:\.\d+)?\b)(?P<pct> ?%)?"
)
_LIST_ITEM = re.compile(r"^(\d+\. |- )(?!\*\*)")

PickId = Callable[[str], "str | None"]  # record kind prefix ("SOP") -> an existing ID, if any


# --- the YAML the examples are written in ---------------------------------------------------


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text not in _YAML_WORDS:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _lines(key: str, value: Any, indent: int) -> Iterator[str]:
    pad = " " * indent
    if isinstance(value, dict):
        yield f"{pad}{key}:"
        for sub, item in value.items():
            yield from _lines(sub, item, indent + 2)
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        yield f"{pad}{key}:"
        for item in value:
            lines = [line for sub, v in item.items() for line in _lines(sub, v, indent + 4)]
            yield f"{pad}  - {lines[0].lstrip()}"
            yield from lines[1:]
    elif isinstance(value, list):
        items = [_scalar(v) for v in value]
        if all(not item.startswith('"') for item in items):
            yield f"{pad}{key}: [{', '.join(items)}]"
        else:
            yield f"{pad}{key}:"
            yield from (f"{pad}  - {item}" for item in items)
    elif isinstance(value, str) and len(value) > 90 and key not in _LINE_FIELDS:
        yield f"{pad}{key}: >-"
        yield from _folded(value, indent + 2)
    else:
        yield f"{pad}{key}: {_scalar(value)}"


@functools.lru_cache(maxsize=1 << 16)
def _folded(text: str, indent: int) -> tuple[str, ...]:
    """A paragraph wrapped as a folded block; records keep most paragraphs across versions."""
    pad = " " * indent
    return tuple(
        textwrap.wrap(
            text,
            WIDTH,
            initial_indent=pad,
            subsequent_indent=pad,
            break_long_words=False,
            break_on_hyphens=False,
        )
    )


def render_yaml(data: dict[str, Any]) -> str:
    return "".join(line + "\n" for key, value in data.items() for line in _lines(key, value, 0))


def render_sop(front: dict[str, Any], body: str) -> str:
    return f"---\n{render_yaml(front)}---\n\n{body}"


# --- the examples ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Archetype:
    kind: str  # sop, capa, deviation
    data: dict[str, Any]
    body: str  # an SOP's Markdown; '' for the others


def load_archetypes(project: Path) -> dict[str, list[Archetype]]:
    """The shipped examples, read with libyaml: trusted files of this project."""
    found: dict[str, list[Archetype]] = {"sop": [], "capa": [], "deviation": []}
    for kind, pattern in (("sop", "sops/SOP-*.md"), ("capa", "capa/*.yaml")):
        for path in sorted(project.glob(pattern)):
            text = path.read_text(encoding="utf-8")
            front, body = text.split("---\n", 2)[1:] if kind == "sop" else (text, "")
            found[kind].append(Archetype(kind, yaml.load(front, yaml.CSafeLoader), body.lstrip()))
    for path in sorted(project.glob("deviations/*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), yaml.CSafeLoader)
        found["deviation"].append(Archetype("deviation", data, ""))
    return found


def _texts(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(field path without list indices, text) for every paragraph-long string."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item, path)
    elif isinstance(value, str) and len(value) > 90:
        yield path, value


class Writer:
    """Varied text: numbers, dates and IDs changed; paragraphs rebuilt from sentence pools."""

    def __init__(self, archetypes: dict[str, list[Archetype]], rng: random.Random) -> None:
        self.rng = rng
        self.pools: dict[str, list[str]] = {}
        for group in archetypes.values():
            for archetype in group:
                for path, text in _texts(archetype.data):
                    self.pools.setdefault(path, []).extend(_SENTENCE_END.split(text))
        self.steps = [  # procedure steps of every example SOP
            _LIST_ITEM.sub("", line)
            for group in archetypes["sop"]
            for line in group.body.splitlines()
            if _LIST_ITEM.match(line) and line.rstrip().endswith(".")
        ]

    def vary(self, text: str, when: date, pick_id: PickId) -> str:
        """`text` with its record IDs, change controls, dates, times and numbers changed."""
        rng = self.rng

        def swap(match: re.Match[str]) -> str:
            token = match.group(0)
            if match["id"]:
                return pick_id(token.split("-")[0]) or token
            if match["cc"]:
                return f"CC-{when.year}-{rng.randrange(1, 400):03d}"
            if match["date"]:
                return (when - timedelta(days=rng.randrange(0, 60))).isoformat()
            if match["time"]:
                return f"{rng.randrange(24):02d}:{rng.randrange(60):02d}"
            return _vary_number(rng, match["num"], match["pct"] or "", when)

        return _TOKEN.sub(swap, text)

    def paragraph(self, path: str, when: date, pick_id: PickId, fallback: str = "") -> str:
        """Two to four sentences that examples wrote in this field, varied."""
        pool = self.pools.get(path) or _SENTENCE_END.split(fallback)
        count = min(len(pool), self.rng.randint(2, 4))
        return self.vary(" ".join(self.rng.sample(pool, count)), when, pick_id)

    def step(self, when: date, pick_id: PickId) -> str:
        """One procedure step, as the SOPs write them."""
        return self.vary(self.rng.choice(self.steps), when, pick_id)

    def vary_tree(self, value: Any, when: date, pick_id: PickId, path: str = "") -> Any:
        """A copy of an example's fields: every text varied, half the paragraphs rebuilt."""
        if isinstance(value, dict):
            return {
                k: self.vary_tree(v, when, pick_id, f"{path}.{k}" if path else k)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.vary_tree(v, when, pick_id, path) for v in value]
        if isinstance(value, str) and len(value) > 90 and self.rng.random() < 0.5:
            return self.paragraph(path, when, pick_id, value)
        if isinstance(value, str) and " " in value:  # enum values and IDs have no spaces
            return self.vary(value, when, pick_id)
        return copy.copy(value)

    def revise_body(self, body: str, when: date, pick_id: PickId) -> str:
        """An SOP body with one or two procedure steps replaced by others, varied."""
        lines = body.split("\n")
        items = [i for i, line in enumerate(lines) if _LIST_ITEM.match(line)]
        for _ in range(self.rng.randint(1, 2)):
            index = self.rng.choice(items)
            marker = _LIST_ITEM.match(lines[index])
            assert marker is not None
            lines[index] = marker.group(1) + self.step(when, pick_id)
        return "\n".join(lines)


def _vary_number(rng: random.Random, number: str, percent: str, when: date) -> str:
    """A number near this one: same width when zero-padded, a nearby year, at most 100 %."""
    if "." in number:
        decimals = number.split(".")[1]
        value = float(number) * rng.uniform(0.7, 1.3)
        return f"{value:.{len(decimals)}f}{percent}"
    if number.startswith("0") and len(number) > 1:
        return f"{rng.randrange(10 ** len(number)):0{len(number)}d}{percent}"
    value = int(number)
    if len(number) == 4 and 1990 <= value <= 2099:
        return str(when.year - rng.randrange(2)) + percent
    varied = max(1, round(value * rng.uniform(0.7, 1.3)))
    if percent:
        varied = min(varied, 100)
    return f"{varied}{percent}"


# --- titles ---------------------------------------------------------------------------------

SOP_ACTIONS = (
    "Receipt and inspection of",
    "Storage and monitoring of",
    "Thawing and administration of",
    "Release for administration of",
    "Dispensing and transport of",
    "Quarantine and disposition of",
    "Cleaning and qualification of",
    "Handover and chain-of-identity checks for",
    "Training and competency for handling",
    "Documentation and records for",
    "Return and destruction of",
    "Emergency handling of",
)
SOP_OBJECTS = (
    "cryoshipped CAR-T products",
    "gene therapy vials",
    "apheresis starting material",
    "investigational ATMPs",
    "dry shippers and loggers",
    "liquid-nitrogen storage devices",
    "tocilizumab rescue stock",
    "allogeneic cell products",
    "tissue-engineered products",
    "retained samples",
    "temperature-controlled transport boxes",
    "out-of-specification products",
)
SOP_CONTEXTS = (
    "",
    " in pharmacy",
    " on the haematology ward",
    " out of hours",
    " in clinical trials",
    " at the cryostorage room",
    " during power or LN2 supply failure",
    " for paediatric patients",
    " in the intensive care unit",
    " across sites",
)
DEVIATION_EVENTS = {
    "excursion": ("Temperature excursion of", "Logger alarm during transport of", "Warm-up of"),
    "coi-break": ("COI mismatch found for", "Chain-of-identity label error on", "Wrong COI on"),
    "oos": ("Out-of-specification result for", "Viability below specification for"),
    "adverse-reaction": ("CRS after infusion of", "ICANS after administration of"),
    "documentation": ("Late entry in the records of", "Missing signature on records of"),
    "planned": ("Planned: temporary storage change for", "Planned: alternative route for"),
    "equipment": ("Alarm failure while storing", "Level sensor fault affecting"),
    "chain-of-custody": ("Unattended handover of", "Custody gap in the transport of"),
    "unplanned": ("Unplanned delay in handling", "Procedure not followed for"),
}
DEVIATION_OBJECTS = (
    "an AUR-19 CAR-T batch",
    "a Cellvaro batch",
    "an investigational gene therapy",
    "apheresis material",
    "a dry shipper",
    "products in CRYO-01",
    "products in CRYO-02",
    "a retained sample",
    "an allogeneic product",
    "a returned shipper",
)
CAPA_REMEDIES = (
    "Make the logger review a hold point for",
    "Independent double check of",
    "Reserve and check stock for",
    "Shorten the maintenance interval for",
    "Contemporaneous records for",
    "Remove manual transcription from",
    "Alarm escalation and on-call response for",
    "Supplier agreement change for",
    "Training refresher on",
    "Label redesign for",
)
CAPA_OBJECTS = (
    "cryoshipped receipts",
    "bedside COI checks",
    "tocilizumab on the ward",
    "CRYO-01 and CRYO-02",
    "weekend cryostorage checks",
    "ATMP prescriptions",
    "courier pick-ups",
    "out-of-specification releases",
    "sample retention",
    "transport to the ward",
)
CONTEXTS = ("", " (day shift)", " (night shift)", " at weekends", " in pharmacy", " on the ward")
PROGRAMMES = tuple(  # fictional products and programmes an SOP or CAPA may be specific to
    f"- {name}"
    for name in (
        "AUR-19 trial",
        "AUR-BC2 trial",
        "Cellvaro",
        "Myelora",
        "Hemavant",
        "GTX-07 gene therapy",
        "ALG-3 allogeneic programme",
        "paediatric ALL programme",
        "adult lymphoma programme",
        "myeloma programme",
        "early access programme",
        "all products",
    )
)


def title(rng: random.Random, *parts: Sequence[str]) -> str:
    """One choice from each part, joined: 'Storage and monitoring of' 'retained samples' …"""
    picks = (rng.choice(options).strip() for options in parts)
    return " ".join(pick for pick in picks if pick)
