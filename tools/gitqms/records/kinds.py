"""The record kinds, their folders, file names and ID patterns.

Each kind is a declaration shipped with the package (`gitqms/kinds/NAME.yaml`, in the format of
`schemas/kind.schema.json`), read and checked once per process. SOPs, CAPAs and deviations are
written by people (`qms new`); an audit-trail review is written by `qms audit-trail --sign`, in
the same commit as the reviewer's signature.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import PurePosixPath
from types import MappingProxyType
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from ..errors import QmsError
from ..safeyaml import LoadError, load_yaml
from .declaration import Declared, declared


@dataclass(frozen=True, kw_only=True)
class Kind:
    name: str  # "sop", "capa", "deviation", "audit-review"
    label: str  # for people: "SOP", "CAPA", "deviation"
    folder: str
    suffix: str  # ".md" (Markdown with front matter) or ".yaml"
    prefix: str  # ID prefix
    yearly: bool  # IDs numbered per year: CAPA-2026-0001
    family: str  # "document" (versions approved by signatures) or "record" (a state machine)
    schema: str  # the packaged schema's name, as `packaged_schema_text` takes it: "capa"
    special: str | None = None  # behaviour that stays in code: "audit-review", "deviation"
    # people, references, dates, due items, links, register
    declared: Declared = field(default_factory=Declared)

    @property
    def is_document(self) -> bool:
        return self.family == "document"

    @property
    def id_pattern(self) -> re.Pattern[str]:
        return _id_pattern(self.prefix, self.yearly)

    def example_id(self) -> str:
        return f"{self.prefix}-2026-0001" if self.yearly else f"{self.prefix}-0001"

    def format_id(self, number: int, year: int | None = None) -> str:
        if self.yearly:
            return f"{self.prefix}-{year:04d}-{number:04d}"
        return f"{self.prefix}-{number:04d}"


@cache
def _id_pattern(prefix: str, yearly: bool) -> re.Pattern[str]:
    year = r"(?P<year>[0-9]{4})-" if yearly else ""
    return re.compile(rf"{prefix}-{year}(?P<number>[0-9]{{4}})")


@dataclass(frozen=True)
class Declarations:
    kinds: tuple[Kind, ...]
    # kind name -> its default policy: the `lifecycle` of a record kind that has a state
    # machine, the `document` section of a document kind (what qms.yaml's `lifecycles:` overrides)
    defaults: Mapping[str, Any]


# The kinds the package ships, in the order they are listed everywhere.
PACKAGED = (
    "sop",
    "capa",
    "deviation",
    "audit-review",
    "change-control",
    "work-instruction",
    "form",
    "policy",
    "external-document",
)
_SUFFIXES = {"markdown": ".md", "yaml": ".yaml"}


@cache
def _declaration_checker() -> Draft202012Validator:
    text = resources.files("gitqms").joinpath("schemas", "kind.schema.json").read_text("utf-8")
    return Draft202012Validator(json.loads(text))


def _broken(path: str, problem: str) -> QmsError:
    return QmsError(
        f"{path}: the kind declaration is broken: {problem}",
        hint="this file ships with gitqms; reinstall gitqms, or correct it against "
        "schemas/kind.schema.json",
    )


def _read(folder: Traversable, name: str) -> tuple[Kind, Any]:
    """The kind declared in `folder/name.yaml` and its default policy, if any."""
    file = folder.joinpath(f"{name}.yaml")
    where = str(file)  # the full path, so that a broken install is found
    try:
        data = load_yaml(file.read_text("utf-8"), lines=False).data
    except FileNotFoundError:
        raise _broken(where, "the file is missing") from None
    except LoadError as error:
        raise _broken(f"{where}:{error.line}", error.message) from None
    if isinstance(data, dict) and data.get("name") not in (None, name):
        raise _broken(where, f"it declares the kind {data['name']!r}, not {name!r}")
    return declare(data, where), data.get("lifecycle", data.get("document"))


def declare(data: Any, where: str = "the declaration") -> Kind:
    """The kind `data` declares, checked against schemas/kind.schema.json; QmsError naming
    `where` and the field if it is broken."""
    invalid = best_match(_declaration_checker().iter_errors(data))
    if invalid is not None:
        place = ".".join(str(step) for step in invalid.absolute_path) or "(the declaration)"
        raise _broken(where, f"{place}: {invalid.message}")
    schema = data["schema"].removesuffix(".schema.json")
    if not resources.files("gitqms").joinpath("schemas", data["schema"]).is_file():
        raise _broken(where, f"no packaged schema {data['schema']!r} for the kind {schema!r}")
    return Kind(
        name=data["name"],
        label=data["label"],
        folder=data["folder"],
        suffix=_SUFFIXES[data["file"]],
        prefix=data["id"]["prefix"],
        yearly=data["id"]["yearly"],
        family=data["family"],
        schema=schema,
        special=data.get("special"),
        declared=declared(data),
    )


def load_declarations(folder: Traversable, names: tuple[str, ...] = PACKAGED) -> Declarations:
    """The kinds `names` declared in `folder`; QmsError naming the file if one is broken or
    claims a folder or prefix another kind has."""
    found: list[Kind] = []
    defaults: dict[str, Any] = {}
    for name in names:
        kind, policy = _read(folder, name)
        for other in found:
            for what, value in (("folder", kind.folder), ("prefix", kind.prefix)):
                if value == getattr(other, what):
                    problem = f"the {what} {value!r} is also {other.name}.yaml's"
                    raise _broken(str(folder.joinpath(f"{name}.yaml")), problem)
        found.append(kind)
        if policy is not None:
            defaults[name] = policy
    return Declarations(tuple(found), MappingProxyType(defaults))


@cache
def packaged() -> Declarations:
    """The package's kind declarations, read once per process."""
    return load_declarations(resources.files("gitqms").joinpath("kinds"))


KINDS: tuple[Kind, ...] = packaged().kinds
REVIEW_MEANING = "audit-trail-reviewed"  # the reviewer's signature on an audit-trail review
BY_NAME: dict[str, Kind] = {kind.name: kind for kind in KINDS}
BY_FOLDER: dict[str, Kind] = {kind.folder: kind for kind in KINDS}
BY_PREFIX: dict[str, Kind] = {kind.prefix: kind for kind in KINDS}
SOP, CAPA, DEVIATION, AUDIT_REVIEW, CHANGE_CONTROL = (BY_NAME[name] for name in PACKAGED[:5])

# Template text that `qms new` leaves for the author to replace.
PLACEHOLDER = "FILL IN"

# Files a record folder may hold besides records.
IGNORED_NAMES = frozenset({".gitkeep", ".keep"})

_PREFIX = re.compile(r"([A-Z][A-Z0-9]*)-")  # every declared prefix has this form


def kind_of_id(record_id: str) -> Kind | None:
    """The kind whose ID pattern `record_id` matches: one prefix lookup, one full match."""
    prefix = _PREFIX.match(record_id)
    kind = BY_PREFIX.get(prefix.group(1)) if prefix else None
    return kind if kind is not None and kind.id_pattern.fullmatch(record_id) else None


def record_id_from_path(path: PurePosixPath) -> str | None:
    """`sops/SOP-0003.md` -> `SOP-0003`; None when the path is not a record's path."""
    kind = BY_FOLDER.get(path.parent.as_posix())
    if kind is None or path.suffix != kind.suffix:
        return None
    return path.stem if kind.id_pattern.fullmatch(path.stem) else None
