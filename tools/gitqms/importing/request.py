"""What `qms import` is asked to do, checked before any file is read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..errors import QmsError
from .fields import field_named
from .sops import SOP_DEFAULTS
from .values import DayOrder

ImportKind = Literal["sop", "capa", "deviation"]


@dataclass(frozen=True)
class ImportRequest:
    kind: ImportKind
    files: tuple[Path, ...]
    columns: Mapping[str, str] = field(default_factory=dict)  # header (normalised) -> field
    defaults: Mapping[str, str] = field(default_factory=dict)  # field -> value
    order: DayOrder = None
    sheet: str | None = None


def parse_assignments(pairs: tuple[str, ...], option: str) -> dict[str, str]:
    """'left=right' options, as a dict; one clear error for a malformed one."""
    found = {}
    for pair in pairs:
        left, sep, right = pair.rpartition("=")
        if not sep or not left.strip() or not right.strip():
            raise QmsError(f"{option} {pair!r} is not of the form 'NAME=VALUE'")
        found[left.strip()] = right.strip()
    return found


def check_request(request: ImportRequest) -> None:
    kind = request.kind
    for header, path in request.columns.items():
        if kind == "sop":
            raise QmsError("--map applies to CAPA and deviation logs, not to SOP documents")
        if path != "-" and field_named(kind, path) is None:
            raise QmsError(
                f"--map {header}={path}: {path!r} is not a field a {kind} log can fill",
                hint="use a field such as title, state, owner, opened, due, problem, "
                "root_cause.description (see qms import --help); '-' ignores the column",
            )
    for path in request.defaults:
        known = path in SOP_DEFAULTS if kind == "sop" else field_named(kind, path) is not None
        if not known or path == "legacy_id":
            raise QmsError(
                f"--default {path}=…: {path!r} is not a field that can be defaulted here",
                hint="for SOPs: " + ", ".join(sorted(SOP_DEFAULTS))
                if kind == "sop"
                else "use a field of the log, as owner, area, patient_involved",
            )
