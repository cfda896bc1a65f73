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
from .declaration import Declared, declared, unknown_paths


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
    special: str | None = None  # behaviour that stays in code: "audit-review", "deviation", …
    # people, references, dates, due items, links, register
    declared: Declared = field(default_factory=Declared)
    # the declaration's own `lifecycle` (record family) or `document` section: the policy that
    # qms.yaml's `lifecycles:` overrides
    policy: Any = field(default=None, compare=False, repr=False)
    repository: bool = False  # declared in qms.yaml, not shipped with the package
    schema_file: str | None = None  # a repository kind's: the readers' copy of its schema

    @property
    def identity(self) -> tuple[str, str, str, str, str, bool]:
        """What may never change once records of the kind can exist."""
        return (self.name, self.family, self.folder, self.suffix, self.prefix, self.yearly)

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
    "training-session",
    "controlled-copy",
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
    kind = declare(data, where)
    return kind, kind.policy


def declaration_problem(data: Any) -> tuple[str, str] | None:
    """(where in the declaration, what is wrong) by schemas/kind.schema.json, or None."""
    invalid = best_match(_declaration_checker().iter_errors(data))
    if invalid is None:
        return None
    return ".".join(str(step) for step in invalid.absolute_path), invalid.message


def page_problem(data: Mapping[str, Any], schema: Mapping[str, Any]) -> str | None:
    """What is wrong with the `page:` of the declaration `data` against its records' schema."""
    unknown = unknown_paths(declared(data).page.paths, schema)
    if not unknown:
        return None
    return f"page: {', '.join(map(repr, unknown))} names no field of the kind's schema"


def declare(data: Any, where: str = "the declaration", *, schema_key: str | None = None) -> Kind:
    """The kind `data` declares, checked against schemas/kind.schema.json; QmsError naming
    `where` and the field if it is broken. `schema_key`: a repository kind's pinned schema
    (`sha256:HEX`, see records/pinned.py); else the packaged schema `data` names."""
    problem = declaration_problem(data)
    if problem is not None:
        raise _broken(where, f"{problem[0] or '(the declaration)'}: {problem[1]}")
    if schema_key is not None:
        schema = schema_key
    elif isinstance(data["schema"], str):
        schema = data["schema"].removesuffix(".schema.json")
        if not resources.files("gitqms").joinpath("schemas", data["schema"]).is_file():
            raise _broken(where, f"no packaged schema {data['schema']!r} for the kind {schema!r}")
        text = resources.files("gitqms").joinpath("schemas", data["schema"]).read_text("utf-8")
        problem_paths = page_problem(data, json.loads(text))
        if problem_paths is not None:
            raise _broken(where, problem_paths)
    else:
        raise _broken(where, "schema: a packaged kind names a packaged schema")
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
        policy=data.get("lifecycle", data.get("document")),
        repository=schema_key is not None,
        schema_file=data["schema"]["file"] if schema_key is not None else None,
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
ISSUED_MEANING = "issued"  # the issuer's signature on a controlled copy's record
BY_NAME: dict[str, Kind] = {kind.name: kind for kind in KINDS}
BY_FOLDER: dict[str, Kind] = {kind.folder: kind for kind in KINDS}
BY_PREFIX: dict[str, Kind] = {kind.prefix: kind for kind in KINDS}
SOP, CAPA, DEVIATION, AUDIT_REVIEW, CHANGE_CONTROL = (BY_NAME[name] for name in PACKAGED[:5])

# Template text that `qms new` leaves for the author to replace.
PLACEHOLDER = "FILL IN"

# Files a record folder may hold besides records.
IGNORED_NAMES = frozenset({".gitkeep", ".keep"})

_PREFIX = re.compile(r"([A-Z][A-Z0-9]*)-")  # every declared prefix has this form

# Top-level paths no kind's folder may be: files and folders gitqms itself keeps.
RESERVED = frozenset(
    {"qms.yaml", "mkdocs.yml", "docs", "schemas", "kinds", "imports", "templates", "site", "tools"}
)


def _takes_nothing(kind: Kind, of: list[Kind]) -> bool:
    """Whether `kind` has a name, folder and ID prefix none of `of` has."""
    return all(
        kind.name != k.name and kind.folder != k.folder and kind.prefix != k.prefix for k in of
    )


class KindSet:
    """A set of kinds with O(1) lookups by name, folder and ID prefix: the package's, or the
    package's and those a repository's qms.yaml declares."""

    def __init__(self, kinds: tuple[Kind, ...]) -> None:
        self.kinds = kinds
        self.by_name: Mapping[str, Kind] = MappingProxyType({k.name: k for k in kinds})
        self.by_folder: Mapping[str, Kind] = MappingProxyType({k.folder: k for k in kinds})
        self.by_prefix: Mapping[str, Kind] = MappingProxyType({k.prefix: k for k in kinds})
        self.declared = tuple(kind for kind in kinds if kind.repository)
        self._hash = hash(kinds)

    def __contains__(self, kind: object) -> bool:
        return isinstance(kind, Kind) and self.by_name.get(kind.name) == kind

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, KindSet) and self.kinds == other.kinds)

    def __hash__(self) -> int:
        return self._hash

    def holds(self, kind: Kind | None) -> bool:
        """Whether `kind` (as the repository's files name it) is in force in this set: built
        in, or declared here with the same identity. None (no kind) is not this set's to say."""
        if kind is None or not kind.repository:
            return True
        held = self.by_name.get(kind.name)
        return held is not None and held.identity == kind.identity

    def under(self, trusted: KindSet) -> KindSet:
        """The kinds `trusted` (a registry in force) holds, then those of this set that take
        nothing of theirs: what a tip's files are read by when its qms.yaml drops or changes
        a kind that is still in force."""
        found = list(trusted.kinds)
        found += [kind for kind in self.declared if _takes_nothing(kind, found)]
        return KindSet(tuple(found))

    def with_declared(self, declared: tuple[Kind, ...]) -> KindSet:
        return KindSet((*self.kinds, *declared)) if declared else self

    def reading(self, declarations: Any) -> KindSet:
        """This set and the kinds of a qms.yaml `kinds:` section, read leniently: a broken
        declaration, or one that takes a name, folder or prefix already taken, is left out
        (`qms validate` reports it). For knowing which files are records, not whether a
        kind is in force."""
        found = list(self.kinds)
        for item in declarations if isinstance(declarations, list) else ():
            if declaration_problem(item) is not None or not isinstance(item["schema"], dict):
                continue
            if "special" in item or not isinstance(item["schema"].get("sha256"), str):
                continue
            kind = declare(item, schema_key=f"sha256:{item['schema']['sha256']}")
            if kind.folder not in RESERVED and _takes_nothing(kind, found):
                found.append(kind)
        return self if len(found) == len(self.kinds) else KindSet(tuple(found))

    @property
    def digest(self) -> str:
        """What classifies paths as records: it keys the history index."""
        return ";".join("|".join(map(str, kind.identity)) for kind in self.declared)

    def of_id(self, record_id: str) -> Kind | None:
        """The kind whose ID pattern `record_id` matches: one prefix lookup, one full match."""
        prefix = _PREFIX.match(record_id)
        kind = self.by_prefix.get(prefix.group(1)) if prefix else None
        return kind if kind is not None and kind.id_pattern.fullmatch(record_id) else None

    def id_of_path(self, path: PurePosixPath) -> str | None:
        """`sops/SOP-0003.md` -> `SOP-0003`; None when the path is not a record's path."""
        kind = self.by_folder.get(path.parent.as_posix())
        if kind is None or path.suffix != kind.suffix:
            return None
        return path.stem if kind.id_pattern.fullmatch(path.stem) else None


PACKAGE = KindSet(KINDS)

# The kinds of the repository this process works on: the package's, and those its qms.yaml
# declares, set when the repository is opened (`use_kinds`). They say only which files are
# records and of which kind; whether a declared kind is in force at a commit, and so whether a
# signature on its records counts, is the registry's question (signatures/trust.py).
_active: list[KindSet] = [PACKAGE]
_work_tree: list[KindSet] = [PACKAGE]  # what the work tree's qms.yaml says, where there is one


def use_kinds(kinds: KindSet, *, work_tree: bool = False) -> None:
    """Read files by `kinds` from now on; `work_tree`: they are the work tree's, the base that
    each walk adds its tip's kinds to (`work_tree_kinds`)."""
    _active[0] = kinds
    if work_tree:
        _work_tree[0] = kinds


def work_tree_kinds() -> KindSet:
    return _work_tree[0]


def active_kinds() -> KindSet:
    return _active[0]


def declared_in(text: str | None) -> Any:
    """The `kinds:` section of a qms.yaml text, read leniently: None if it has none or does
    not parse (then `qms validate` says why)."""
    if not text or "kinds" not in text:  # YAML or JSON, the key is spelled out
        return None
    try:
        data = load_yaml(text, lines=False).data
    except LoadError:
        return None
    return data.get("kinds") if isinstance(data, dict) else None


def kind_of_id(record_id: str) -> Kind | None:
    """The kind (of the repository's kinds) whose ID pattern `record_id` matches."""
    return _active[0].of_id(record_id)


def kind_named(name: str) -> Kind | None:
    return _active[0].by_name.get(name)


def record_id_from_path(path: PurePosixPath) -> str | None:
    """`sops/SOP-0003.md` -> `SOP-0003`; None when the path is not a record's path."""
    return _active[0].id_of_path(path)
