"""`qms kinds add`: a kind the organisation declares, written into qms.yaml with its schema
pinned (git blob id and sha256) and the schema file beside it, as one admin-signed commit.

It refuses upfront what the trust chain would refuse to adopt (signatures/trust.py): a broken
declaration or schema, a name, folder or prefix already taken, a new kind whose folder already
holds files, and a change to an adopted kind's name, family, folder, file form or numbering.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from .. import git
from ..errors import QmsError, Refused
from ..records.config import CONFIG_FILE
from ..records.kinds import PACKAGE, RESERVED, declaration_problem, declare, page_problem
from ..records.pinned import Pin, load_pinned
from ..safeyaml import LoadError, load_yaml
from ..signatures.registry import Registry
from .registry import Edit


@dataclass(frozen=True)
class KindChange:
    edit: Edit
    schema_file: str  # from the QMS folder: schemas/NAME.schema.json
    schema: bytes


def kind_change(root: Path, declaration: Path, schema: Path, *, replace: bool) -> KindChange:
    """The edit of qms.yaml that declares the kind of `declaration` with `schema` pinned."""
    data = _declaration(declaration)
    signatures = data.pop("signatures", None)
    name = str(data.get("name", ""))
    try:
        content = schema.read_bytes()
    except OSError as error:
        raise QmsError(f"{schema}: cannot be read ({error.strerror})") from None
    file = f"schemas/{name}.schema.json"
    blob = git.hash_blob(root, content)
    data["schema"] = {"file": file, "blob": blob, "sha256": hashlib.sha256(content).hexdigest()}
    problem = declaration_problem(data)
    if problem is not None:
        raise QmsError(
            f"{declaration}: {problem[0] or '(the declaration)'}: {problem[1]}",
            hint="correct it against schemas/kind.schema.json (see docs/kinds.md)",
        )
    if "special" in data:
        raise Refused(
            f"{declaration}: only gitqms's built-in kinds have 'special' behaviour",
            hint="remove 'special'",
        )
    loaded = load_pinned(Pin.of(data["schema"]), str(data["family"]), lambda _: content)
    if isinstance(loaded, str):
        raise Refused(f"{schema}: {loaded.split(': ', 1)[-1]}", hint="correct the schema")
    unfit = page_problem(data, loaded)
    if unfit is not None:
        raise Refused(
            f"{declaration}: {unfit}",
            hint="name fields of the schema in page: (see docs/kinds.md)",
        )
    kind = declare(data, str(declaration), schema_key=Pin.of(data["schema"]).key)

    def edit(config: CommentedMap, registry: Registry) -> str:
        kinds = config.setdefault("kinds", CommentedSeq())
        old = next((i for i, item in enumerate(kinds) if item.get("name") == name), None)
        adopted = registry.config.kinds.by_name.get(name)
        if old is not None or adopted is not None:
            if not replace:
                raise Refused(
                    f"the kind {name!r} is declared already",
                    hint="pass --replace to pin a new schema or change its rules",
                )
            if adopted is not None and adopted.identity != kind.identity:
                raise Refused(
                    f"the kind {name!r} would change its family, folder, file form or ID; "
                    "those never change once the kind is adopted",
                    hint="declare a new kind instead",
                )
        else:
            _refuse_taken(root, kind.name, kind.folder, kind.prefix, registry)
        if old is None:
            kinds.append(data)
        else:
            kinds[old] = data
        if signatures is not None:
            config.setdefault("signatures", CommentedMap())[name] = signatures
        return f"{'Declare' if old is None else 'Change'} the kind {name!r} ({kind.label})"

    return KindChange(edit, file, content)


def _declaration(path: Path) -> dict[str, Any]:
    try:
        data = load_yaml(path.read_text("utf-8"), lines=False).data
    except OSError as error:
        raise QmsError(f"{path}: cannot be read ({error.strerror})") from None
    except LoadError as error:
        raise QmsError(f"{path}:{error.line}: {error.message}", hint=error.fix) from None
    if not isinstance(data, dict):
        raise QmsError(f"{path}: a kind declaration is a map of fields", hint="see docs/kinds.md")
    return data


def _refuse_taken(root: Path, name: str, folder: str, prefix: str, registry: Registry) -> None:
    if folder in RESERVED:
        raise Refused(f"the folder {folder!r} is reserved for gitqms", hint="choose another")
    for kind in registry.config.kinds.kinds:
        for what, mine, theirs in (
            ("name", name, kind.name),
            ("folder", folder, kind.folder),
            ("ID prefix", prefix, kind.prefix),
        ):
            if mine == theirs:
                built = "built-in" if kind in PACKAGE else "declared"
                raise Refused(
                    f"the {what} {mine!r} is the {built} kind {kind.name!r}'s",
                    hint=f"choose another {what}",
                )
    prefix_path = git.show_prefix(root)
    if git.list_tree(root, "HEAD", [f"{prefix_path}{folder}"]):
        raise Refused(
            f"the folder {folder}/ already holds files; a new kind starts with an empty folder, "
            "so that no file becomes a record after the fact",
            hint="choose another folder, or move those files out first (a commit with a Reason)",
        )


def kinds_table(kinds: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rows `qms kinds list` shows."""
    return [
        {
            "name": kind.name,
            "label": kind.label,
            "family": kind.family,
            "folder": kind.folder,
            "prefix": kind.prefix,
            "example": kind.example_id(),
            "declared_in": CONFIG_FILE if kind.repository else "gitqms",
        }
        for kind in kinds.values()
    ]
