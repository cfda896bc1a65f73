"""One legacy log row made into a CAPA's or deviation's fields, with every gap named."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..records.config import QmsConfig
from ..records.kinds import kind_of_id
from ..validation.privacy import forbidden_patterns
from .fields import CHOICES, STATES, Field, field_named, normalise
from .gaps import Gap
from .tables import Cell, is_blank
from .values import (
    DayOrder,
    Moment,
    ValueProblem,
    read_bool,
    read_integer,
    read_moment,
    read_person,
    slug,
    text_of,
)

PLACEHOLDER_TEXT = "FILL IN: not in the legacy record"
_LINE_MAX = 200


@dataclass(frozen=True)
class RowContext:
    kind: str  # "capa" or "deviation"
    config: QmsConfig
    ids: frozenset[str]  # record IDs of the repository
    legacy: Mapping[str, str]  # legacy ID (any kind) -> the record it was migrated into
    order: DayOrder
    defaults: Mapping[str, str]  # field -> value text (--default)


@dataclass
class BuiltRow:
    data: dict[str, Any] = field(default_factory=dict)
    gaps: list[Gap] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    legacy_id: str | None = None
    year: int | None = None  # from the opening or occurrence date, for the new ID


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    node = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def get_path(data: Mapping[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def identifier_kind(text: str, config: QmsConfig) -> str | None:
    """The name of the patient-identifier pattern `text` matches, if any."""
    for name, pattern in forbidden_patterns(config):
        if pattern.search(text):
            return name
    return None


def build_row(
    cells: Mapping[str, tuple[str, Cell]],  # field path -> (column header, cell)
    ctx: RowContext,
) -> BuiltRow:
    built = BuiltRow()
    values: dict[str, Any] = {}
    for path, (column, cell) in cells.items():
        spec = field_named(ctx.kind, path)
        if spec is None or is_blank(cell):
            continue
        text = text_of(cell)
        found = identifier_kind(text, ctx.config)
        if found is not None:
            built.refused.append(
                f"column '{column}' looks like it holds a patient identifier ({found}); "
                "it is not stored, so the row is not imported"
            )
            built.gaps.append(Gap("privacy", path, column, f"patient identifier ({found})"))
            continue
        try:
            values[path] = _convert(spec, cell, ctx, built, column)
        except ValueProblem as problem:
            if problem.ambiguous:
                built.gaps.append(Gap("ambiguous", path, column, str(problem)))
                built.refused.append(
                    f"column '{column}' is ambiguous: {problem}; rerun with --day-first or "
                    "--month-first"
                )
            elif path in ctx.defaults:
                built.gaps.append(Gap("default", path, column, f"{problem}; --default {path} used"))
            else:
                built.gaps.append(Gap("unreadable", path, column, str(problem)))
                built.refused.append(f"column '{column}': {problem}")
    for path, text in ctx.defaults.items():
        if path in values:
            continue
        spec = field_named(ctx.kind, path)
        assert spec is not None  # checked when the options were read
        try:
            values[path] = _convert(spec, text, ctx, built, "--default")
        except ValueProblem as problem:
            built.refused.append(f"--default {path}={text}: {problem}")
            continue
        if path not in {p for p, _ in cells.items() if not is_blank(cells[p][1])}:
            built.gaps.append(Gap("default", path, None, "not in the source; --default used"))
    legacy = values.pop("legacy_id", None)
    built.legacy_id = legacy if isinstance(legacy, str) else None
    if ctx.kind == "capa":
        _capa(values, built, ctx)
    else:
        _deviation(values, built, ctx)
    return built


def _convert(spec: Field, cell: Cell, ctx: RowContext, built: BuiltRow, column: str) -> Any:
    text = text_of(cell)
    kind = spec.type
    if kind in ("text", "plain", "legacy-id", "action"):
        if kind == "legacy-id":
            return " ".join(text.split())[:_LINE_MAX]
        return text
    if kind == "line":
        return _line(text, built, spec.path, column)
    if kind == "date":
        moment = read_moment(cell, ctx.order)
        return moment.date_text()
    if kind == "date-time":
        return _date_time(cell, ctx, built, spec.path, column)
    if kind == "person":
        return read_person(cell, ctx.config)
    if kind == "score":
        return read_integer(cell, 1, 5)
    if kind == "bool":
        return read_bool(cell)
    if kind == "state":
        word = normalise(text)
        state = STATES[ctx.kind].get(word)
        if state is None:
            raise ValueProblem(f"the status '{text}' is not a known legacy wording")
        return state
    if kind == "choice":
        assert spec.choices is not None
        value = CHOICES[spec.choices].get(normalise(text))
        if value is None:
            raise ValueProblem(f"'{text}' is not a known value of {spec.path}")
        return value
    if kind == "area":
        return _area(text, ctx.config)
    if kind == "refs":
        return _references(text, ctx, built, spec.path, column)
    raise AssertionError(kind)


def _line(text: str, built: BuiltRow, path: str, column: str) -> str:
    line = " ".join(text.split())
    if len(line) > _LINE_MAX:
        built.gaps.append(Gap("assumed", path, column, f"shortened to {_LINE_MAX} characters"))
        line = line[: _LINE_MAX - 1].rstrip() + "…"
    return line


def _date_time(cell: Cell, ctx: RowContext, built: BuiltRow, path: str, column: str) -> Moment:
    moment = read_moment(cell, ctx.order)
    if moment.clock is None:
        built.gaps.append(
            Gap("assumed", path, column, "no time of day recorded; 00:00 UTC written")
        )
    elif moment.zone is None:
        built.gaps.append(Gap("assumed", path, column, "no time zone recorded; UTC"))
    return moment


def _area(text: str, config: QmsConfig) -> str:
    area = slug(text)
    if area in config.areas:
        return area
    for key, description in config.areas.items():  # "Pharmacy" for "pharmacy"
        if normalise(description).startswith(normalise(text)) and normalise(text):
            return key
    raise ValueProblem(f"the area '{text}' is not an area of qms.yaml")


def _references(text: str, ctx: RowContext, built: BuiltRow, path: str, column: str) -> list[str]:
    found: list[str] = []
    for token in (t for t in re.split(r"[,;\n]+|\s{2,}", text) if t.strip()):
        token = token.strip()
        if kind_of_id(token) is not None and token in ctx.ids:
            found.append(token)
        elif token in ctx.legacy:
            found.append(ctx.legacy[token])
            built.gaps.append(
                Gap("assumed", path, column, f"legacy '{token}' is {ctx.legacy[token]}")
            )
        else:
            built.gaps.append(
                Gap(
                    "missing",
                    path,
                    column,
                    f"'{token}' is not a record of this repository nor a migrated legacy ID; "
                    "import that log first",
                )
            )
    return list(dict.fromkeys(found))


def _year(built: BuiltRow, value: Any) -> None:
    if isinstance(value, Moment):
        built.year = value.day.year
    elif isinstance(value, str) and re.match(r"\d{4}-", value):
        built.year = int(value[:4])


def _capa(values: dict[str, Any], built: BuiltRow, ctx: RowContext) -> None:
    data = built.data
    state = values.get("state")
    _year(built, values.get("opened"))
    actions: list[dict[str, Any]] = []
    done = state in ("effectiveness-check", "closed")
    for number, kind in enumerate(("corrective", "preventive"), start=1):
        description = values.pop(f"actions.{kind}", None)
        if not description:
            continue
        action: dict[str, Any] = {"id": f"A{len(actions) + 1}", "type": kind}
        action["description"] = description
        if "owner" in values:
            action["owner"] = values["owner"]
        action_due = values.get("actions.due") or values.get("due")
        if action_due:
            action["due"] = action_due
        if done:
            action["status"] = "done"
            if values.get("actions.completed"):
                action["completed"] = values["actions.completed"]
            action["evidence"] = values.get("actions.evidence") or PLACEHOLDER_TEXT
        else:
            action["status"] = "in-progress" if state == "implementation" else "open"
            built.gaps.append(
                Gap(
                    "assumed",
                    f"actions[{number - 1}].status",
                    None,
                    f"not recorded; '{action['status']}' from the CAPA state",
                )
            )
        actions.append(action)
    for path in ("actions.due", "actions.completed", "actions.evidence"):
        values.pop(path, None)
    if actions:
        built.gaps.append(
            Gap("assumed", "actions", None, "each action's owner and due date are the CAPA's")
        )
        values["actions"] = actions
    for path, value in values.items():
        set_path(data, path, value)
    if "source" in data and "type" not in data["source"] and data["source"].get("references"):
        data["source"]["type"] = "deviation"
        built.gaps.append(Gap("assumed", "source.type", None, "'deviation' from its reference"))
    refs = get_path(data, "source.references")
    if refs == []:
        del data["source"]["references"]


def _deviation(values: dict[str, Any], built: BuiltRow, ctx: RowContext) -> None:
    data = built.data
    _year(built, values.get("occurred_at"))
    if "discovered_at" not in values and "occurred_at" in values:
        values["discovered_at"] = values["occurred_at"]
        built.gaps.append(
            Gap("assumed", "discovered_at", None, "not recorded; the occurrence date is used")
        )
    for path in ("occurred_at", "discovered_at", "reported_at"):
        if isinstance(values.get(path), Moment):
            values[path] = values[path].date_time_text()
    if values.get("capa") == []:
        del values["capa"]
    named = "capa_decision.required" not in values and values.get("capa")
    if named and values.get("state") in ("capa-decided", "closed"):
        values["capa_decision.required"] = True
        built.gaps.append(
            Gap("assumed", "capa_decision.required", None, "true: the row names a CAPA")
        )
    if values.get("type") == "excursion" and not any(k.startswith("excursion.") for k in values):
        for part in ("parameter", "limit", "observed"):
            values[f"excursion.{part}"] = PLACEHOLDER_TEXT
    for path, value in values.items():
        set_path(data, path, value)


TEXT_FIELDS = frozenset(
    {
        "title",
        "problem",
        "description",
        "immediate_actions",
        "reported_by",
        "risk.rationale",
        "root_cause.description",
        "effectiveness.criteria",
        "effectiveness.result",
        "classification.rationale",
        "investigation.root_cause",
        "investigation.product_impact",
        "investigation.patient_impact",
        "capa_decision.rationale",
        "cancel_reason",
        "source.external_ref",
        "excursion.parameter",
        "excursion.limit",
        "excursion.observed",
    }
)
