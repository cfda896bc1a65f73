"""The fields a state change needs, given on the command line instead of typed into YAML:
`qms advance RECORD --to STATE --set FIELD=VALUE … --from FILE` (issue 22).

`--set investigation.due=2026-12-01` sets one field (dotted for nested ones); a value that reads
as JSON (a number, true/false, a list or mapping in brackets, a quoted string) is taken as
that, anything else as text. `--from FILE` sets every field of a YAML mapping. The record's
file is edited round-trip (ruamel.yaml), so its comments and order stay, but for the
commented-out line `qms new` wrote for each field now given; a value given is written in the
style of the shipped records (a long text as a folded block, a short list in brackets).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, FoldedScalarString

from ..errors import QmsError
from ..safeyaml import LoadError, load_yaml
from ..validation.findings import Finding
from .form import Fields as Fields
from .shape import put_back, set_aside

_PATH = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
_JSON_START = ('"', "[", "{", "-", *"0123456789")


def parse_sets(pairs: Sequence[str]) -> Fields:
    """`FIELD=VALUE` options as fields; one clear error for a malformed one."""
    fields: Fields = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not _PATH.fullmatch(name):
            raise QmsError(
                f"--set {pair!r} is not of the form FIELD=VALUE",
                hint="as --set classification=major or --set investigation.due=2026-12-01",
            )
        fields[tuple(name.split("."))] = _value(text.strip())
    return fields


def _value(text: str) -> Any:
    if text in ("true", "false", "null") or text.startswith(_JSON_START):
        try:
            return json.loads(text)
        except ValueError:
            pass  # a date (2026-12-01) or other text
    return text


def read_from(path: Path) -> Fields:
    """The fields of a YAML mapping in `path` (nested mappings become dotted paths)."""
    try:
        data = load_yaml(path.read_text(encoding="utf-8"), lines=False).data
    except OSError as error:
        raise QmsError(f"--from {path}: {error.strerror}") from None
    except LoadError as error:
        raise QmsError(f"--from {path}:{error.line}: {error.message}", hint=error.fix) from None
    if not isinstance(data, dict):
        raise QmsError(f"--from {path} does not hold a mapping of fields to values")
    return dict(_flatten(data, ()))


def _flatten(data: Mapping[str, Any], above: tuple[str, ...]) -> Any:
    for key, value in data.items():
        if isinstance(value, dict) and value:
            yield from _flatten(value, (*above, str(key)))
        else:
            yield (*above, str(key)), value


def round_trip() -> YAML:
    yaml = YAML()  # round-trip: comments and order stay
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.preserve_quotes = True
    yaml.width = 96
    return yaml


def fill(text: str, fields: Fields, where: str) -> str:
    """`text` (a record's YAML) with `fields` set, everything else as it was (its block of
    fields for later kept at the end, without those now given)."""
    yaml = round_trip()
    text, later = set_aside(text)
    try:
        data = yaml.load(text)
    except YAMLError as error:
        raise QmsError(
            f"{where} does not parse: {error}", hint=f"run `qms validate {where}`"
        ) from None
    if not isinstance(data, CommentedMap):
        raise QmsError(f"{where} does not hold a record", hint=f"run `qms validate {where}`")
    for path, value in fields.items():
        if path == ("state",):
            raise QmsError("--set state=… is not how a record moves", hint="use --to STATE")
        node = data
        for step in path[:-1]:
            child = node.get(step)
            if not isinstance(child, dict):
                child = node[step] = CommentedMap()
            node = child
        node[path[-1]] = styled(value)
    return put_back(dumped(yaml, data), later)


def dumped(yaml: YAML, data: CommentedMap) -> str:
    """`data` as YAML text, with no line ending in spaces where the text means the same
    without them (ruamel.yaml leaves one where it wraps a long plain text it read)."""
    out = io.StringIO()
    yaml.dump(data, out)
    text = out.getvalue()
    trimmed = re.sub(r"[ \t]+$", "", text, flags=re.MULTILINE)
    if trimmed != text and yaml.load(trimmed) == yaml.load(text):
        return trimmed
    return text


_DAY_LIKE = re.compile(r"\d{4}-\d\d-\d\d")  # a day or a moment: quoted, so it stays text
_LONG = 60  # a text longer than this is written as a folded block


def styled(value: Any) -> Any:
    """`value` as the shipped records write theirs: a long text as a folded block (`>-`, no
    line ends with a space), a day or moment in double quotes, a short list of plain values
    in brackets; mappings and other lists with their items so styled."""
    if isinstance(value, str):
        one_line = "\n" not in value and "  " not in value and value == value.strip()
        if len(value) > _LONG and " " in value and one_line:
            return FoldedScalarString(value)
        return DoubleQuotedScalarString(value) if _DAY_LIKE.match(value) else value
    if isinstance(value, Mapping):
        mapping = CommentedMap()
        for key, item in value.items():
            mapping[key] = styled(item)
        return mapping
    if isinstance(value, list):
        items = CommentedSeq(styled(item) for item in value)
        plain = all(isinstance(item, (str, int, float, bool)) for item in value)
        if plain and sum(len(str(item)) + 2 for item in value) <= _LONG:
            items.fa.set_flow_style()
        return items
    return value


_ASKED = (
    re.compile(r"missing field '([a-z_][a-z0-9_.]*)'"),  # schema.required
    re.compile(r"'([a-z_][a-z0-9_.]*)' still holds template text"),  # placeholder
    re.compile(r"needs '([^'=]+)"),  # lifecycle.requires
)


def wanted(findings: Sequence[Finding], unmet: Sequence[str]) -> list[str]:
    """The fields a refusal asks for, as `--set` would name them."""
    names = [text.split("=", 1)[0] for text in unmet]
    for finding in findings:
        for pattern in _ASKED:
            found = pattern.search(finding.message)
            if found:
                names.append(found.group(1))
                break
    return list(dict.fromkeys(name.replace("[]", "") for name in names))
