"""Checks of qms.yaml's `kinds:` section, the kinds a hospital declares: each a valid
declaration (schemas/kind.schema.json) with a pinned schema fit to run (records/pinned.py),
no behaviour that only the package's kinds may have, and nothing that shadows another kind or a
file gitqms keeps: names, folders and ID prefixes unique across every kind, folders away from
the paths gitqms reserves."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..records.kinds import PACKAGE, RESERVED, declaration_problem, page_problem
from ..records.pinned import BlobReader, Pin, load_pinned
from .findings import Reporter

_IDENTITY = (("name", "name"), ("folder", "folder"), ("prefix", "ID prefix"))


def _identity(item: Mapping[str, Any], what: str) -> str:
    return str(item["id"]["prefix"] if what == "prefix" else item[what])


def check_kinds(
    data: Mapping[str, Any], report: Reporter, read_blob: BlobReader | None
) -> Iterator[tuple[int, Mapping[str, Any], Mapping[str, Any]]]:
    """Report what is wrong with each declared kind; yield (index, declaration, schema) of the
    sound ones, whose lifecycles the caller checks against their schemas."""
    taken: dict[str, dict[str, str]] = {
        what: {
            _identity_of(kind, what): f"the built-in kind {kind.name!r}" for kind in PACKAGE.kinds
        }
        for what, _ in _IDENTITY
    }
    for index, item in enumerate(data.get("kinds") or ()):
        here = ("kinds", index)
        problem = declaration_problem(item)
        if problem is not None:
            place: tuple[str | int, ...] = (*here, *[p for p in problem[0].split(".") if p])
            report(
                place,
                "kind.invalid",
                f"the kind declaration is invalid: {problem[1]}",
                "correct it against gitqms's schemas/kind.schema.json",
            )
            continue
        if not _owned(item, index, taken, report):
            continue
        if "special" in item:
            report(
                (*here, "special"),
                "kind.special",
                "only gitqms's built-in kinds have behaviour in code ('special')",
                "remove 'special'; declare the kind's rules in its declaration",
            )
            continue
        if not isinstance(item["schema"], Mapping):
            report(
                (*here, "schema"),
                "kind.schema-pin",
                "a declared kind's schema is pinned by blob id and sha256, not named",
                "add the kind with `qms kinds add DECL.yaml --schema FILE --reason …`",
            )
            continue
        schema = _schema(item, here, report, read_blob)
        if schema is not None:
            yield index, item, schema


def _identity_of(kind: Any, what: str) -> str:
    return str(getattr(kind, what))


def _owned(
    item: Mapping[str, Any], index: int, taken: dict[str, dict[str, str]], report: Reporter
) -> bool:
    """Whether the kind's name, folder and prefix are its own; notes them as taken."""
    here = ("kinds", index)
    sound = True
    if item["folder"] in RESERVED:
        report(
            (*here, "folder"),
            "kind.shadows",
            f"the folder {item['folder']!r} is reserved for gitqms's own files",
            "choose another folder name",
        )
        sound = False
    for what, words in _IDENTITY:
        value = _identity(item, what)
        owner = taken[what].get(value)
        if owner is not None:
            report(
                (*here, "id" if what == "prefix" else what),
                "kind.shadows",
                f"the {words} {value!r} is already {owner}'s",
                f"choose another {words}; a kind never takes another's",
            )
            sound = False
    for what, _ in _IDENTITY:
        taken[what].setdefault(_identity(item, what), f"the declared kind {item['name']!r}")
    return sound


def _schema(
    item: Mapping[str, Any],
    here: tuple[str | int, ...],
    report: Reporter,
    read_blob: BlobReader | None,
) -> Mapping[str, Any] | None:
    if read_blob is None:
        return None  # only the form can be checked: nothing to read the pinned schema from
    loaded = load_pinned(Pin.of(item["schema"]), item["family"], read_blob)
    if isinstance(loaded, str):
        report(
            (*here, "schema"),
            "kind.schema",
            loaded,
            "pin the schema again with `qms kinds add`, or correct the file it pins",
        )
        return None
    if item["family"] == "record" and "lifecycle" not in item:
        report(
            here,
            "kind.lifecycle",
            "a record kind needs a lifecycle (its state machine)",
            "add 'lifecycle:' with initial, closed and transitions",
        )
        return None
    if item["family"] == "document" and "document" not in item:
        report(
            here,
            "kind.lifecycle",
            "a document kind needs 'document:' with its approval",
            "add 'document: {approval: [reviewed, approved]}'",
        )
        return None
    unfit = page_problem(item, loaded)
    if unfit is not None:
        report(
            (*here, "page"),
            "kind.page",
            unfit,
            "name fields of the kind's schema in page:, then declare it again (qms kinds add)",
        )
        return None
    return loaded


def unknown_policy_kinds(data: Mapping[str, Any], names: Sequence[str], report: Reporter) -> None:
    """`signatures:` and `lifecycles:` name only kinds of the set (or `qms`)."""
    known = {*names, "qms", "separation_of_duties"}
    for section in ("signatures", "lifecycles"):
        for name in data.get(section) or {}:
            if name not in known:
                report(
                    (section, name),
                    "config.unknown-kind",
                    f"{section}.{name} names no kind of this repository",
                    "declare the kind under 'kinds:' (qms kinds add), or remove this policy",
                )
