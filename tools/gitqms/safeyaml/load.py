"""The strict loader: YAML text to JSON-like values, with the line of each value."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from .limits import MAX_DEPTH, MAX_DIGITS, MAX_NODES, LoadError

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

# libyaml's composer recurses in C: tens of thousands of levels overflow the stack before
# _check_bounds could refuse them. A cheap textual bound on nesting refuses those first.
_PARSER_SAFE_DEPTH = 500  # far above any record, far below the ~30,000 levels that crash
_DEEP_BLOCK = re.compile(rf"^(?:[ \t]|[-?](?=[ \t])){{{_PARSER_SAFE_DEPTH}}}", re.MULTILINE)
_FLOW = re.compile(r"[\[\]{}]")

PathKey = tuple[str | int, ...]
LineMap = Mapping[PathKey, int]


@dataclass(frozen=True)
class Loaded:
    data: Any
    lines: LineMap  # path inside the data -> 1-based line in the file


class _StrictLoader(_BaseLoader):
    """SafeLoader narrowed to the YAML 1.2 JSON schema, without implicit dates or yes/no."""

    line_offset = 0  # set per document; shifts the lines named in messages

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        """The tag of a scalar as `BaseResolver.resolve` gives it here (no wildcard or path
        resolvers are registered), without building a list of resolvers on every call."""
        if kind is SequenceNode:
            return "tag:yaml.org,2002:seq"
        if kind is MappingNode:
            return "tag:yaml.org,2002:map"
        if implicit[0]:
            for tag, regexp in self.yaml_implicit_resolvers.get(value[:1], ()):
                if regexp.match(value):
                    return tag
        return "tag:yaml.org,2002:str"


_StrictLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^[-+]?(?:0|[1-9][0-9]*)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$",
        "-+0123456789.",
    ),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", "~nN"),
):
    _StrictLoader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))
# An empty plain scalar resolves with first character "" (see Resolver.resolve).
_StrictLoader.yaml_implicit_resolvers.setdefault("", []).append(
    ("tag:yaml.org,2002:null", re.compile(r"^$"))
)
assert None not in _StrictLoader.yaml_implicit_resolvers and not _StrictLoader.yaml_path_resolvers


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _scalar(loader: _StrictLoader, node: Node) -> Any:
    assert isinstance(node, ScalarNode)
    value: str = node.value
    tag = node.tag
    if tag == "tag:yaml.org,2002:str":
        return value
    if tag == "tag:yaml.org,2002:int" and re.fullmatch(r"[-+]?[0-9]+", value):
        if len(value) > MAX_DIGITS:
            raise LoadError(
                _line(node),
                f"a number of {len(value)} digits, longer than any field allows",
                "write the real value; quote it if it is an identifier rather than a number",
            )
        return int(value, 10)
    if tag == "tag:yaml.org,2002:float":
        try:
            return float(value)
        except ValueError:
            pass
    if tag == "tag:yaml.org,2002:bool" and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if tag == "tag:yaml.org,2002:null" and value in ("", "~", "null", "Null", "NULL"):
        return None
    raise LoadError(
        _line(node),
        f"the value {value!r} carries the tag {tag!r}, which records may not use",
        "remove the '!!' tag; write plain text, numbers, true/false or null",
    )


def _sequence(loader: _StrictLoader, node: Node) -> list[Any]:
    assert isinstance(node, SequenceNode)
    return [loader.construct_object(item, deep=True) for item in node.value]


def _mapping(loader: _StrictLoader, node: Node) -> dict[str, Any]:
    assert isinstance(node, MappingNode)
    result: dict[str, Any] = {}
    first_seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
            shown = key_node.value if isinstance(key_node, ScalarNode) else "a list or map"
            raise LoadError(
                _line(key_node),
                f"the key {shown!r} is not text",
                "field names are text: write a name such as 'title', or quote the key",
            )
        key = key_node.value
        if key == "<<":
            raise LoadError(
                _line(key_node),
                "merge keys ('<<') are not allowed in records",
                "write the fields out in full; a merge hides where a value came from",
            )
        if key in first_seen:
            raise LoadError(
                _line(key_node),
                f"duplicate key '{key}' (first given on line {first_seen[key] + loader.line_offset})",
                "keep one of the two values and delete the other; YAML would silently keep the last",
            )
        first_seen[key] = _line(key_node)
        result[key] = loader.construct_object(value_node, deep=True)
    return result


def _unsupported(loader: _StrictLoader, node: Node) -> Any:
    raise LoadError(
        _line(node),
        f"the tag {node.tag!r} is not allowed in records",
        "remove the '!' tag; records hold only plain text, numbers, true/false, lists and maps",
    )


_StrictLoader.yaml_constructors = {}
_StrictLoader.yaml_multi_constructors = {}
for _t in ("str", "int", "float", "bool", "null"):
    _StrictLoader.add_constructor(f"tag:yaml.org,2002:{_t}", _scalar)
_StrictLoader.add_constructor("tag:yaml.org,2002:seq", _sequence)
_StrictLoader.add_constructor("tag:yaml.org,2002:map", _mapping)
_StrictLoader.add_constructor(None, _unsupported)


def _children(node: Node) -> Iterator[tuple[str | int, Node]]:
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            yield (key_node.value if isinstance(key_node, ScalarNode) else "?"), value_node
    elif isinstance(node, SequenceNode):
        yield from enumerate(node.value)


def _check_bounds(root: Node) -> None:
    """Count nodes as if every alias were expanded; refuse deep, recursive or explosive trees."""
    sizes: dict[int, int] = {}

    def size(node: Node, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise LoadError(
                _line(node),
                f"nesting deeper than {MAX_DEPTH} levels, or an alias that contains itself",
                "flatten the structure; records need only a few levels",
            )
        known = sizes.get(id(node))
        if known is not None:
            return known
        total = 1
        for _, child in _children(node):
            total += size(child, depth + 1)
            if total > MAX_NODES:
                raise LoadError(
                    _line(node),
                    f"more than {MAX_NODES} values once aliases are expanded",
                    "remove the anchors (&) and aliases (*); write each value out",
                )
        sizes[id(node)] = total
        return total

    size(root, 0)


class _Unusual(Exception):
    """A node the fast builder leaves to the loader's own constructors."""


_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_SCALARS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("int", "float", "bool", "null"))


def _build(loader: _StrictLoader, root: Node, text: str) -> Any:
    """The document's data: what `_check_bounds` and then `construct_document` give, built in
    one plain pass when the document is regular (no aliases, text keys, known tags, within the
    bounds); anything else, errors included, goes the loader's way, which says what is wrong."""
    if "*" not in text:  # no alias, so no node is reached twice
        count = 0

        def build(node: Node, depth: int) -> Any:
            nonlocal count
            count += 1
            if depth > MAX_DEPTH or count > MAX_NODES:
                raise _Unusual
            kind, tag = type(node), node.tag
            if kind is ScalarNode:
                if tag == _STR:
                    return node.value
                if tag in _SCALARS:
                    return _scalar(loader, node)
            elif kind is SequenceNode and tag == _SEQ:
                return [build(item, depth + 1) for item in node.value]
            elif kind is MappingNode and tag == _MAP:
                result: dict[str, Any] = {}
                for key_node, value_node in node.value:
                    if type(key_node) is not ScalarNode or key_node.tag != _STR:
                        raise _Unusual
                    key = key_node.value
                    if key == "<<" or key in result:
                        raise _Unusual
                    result[key] = build(value_node, depth + 1)
                return result
            raise _Unusual

        try:
            return build(root, 0)
        except (_Unusual, LoadError, RecursionError):
            pass
        finally:
            del build  # it refers to itself: a cycle that would keep the nodes until a collection
    _check_bounds(root)
    return loader.construct_document(root)


def _line_map(root: Node, offset: int) -> dict[PathKey, int]:
    lines: dict[PathKey, int] = {(): _line(root) + offset}
    seen: set[int] = set()
    stack: list[tuple[PathKey, Node]] = [((), root)]
    while stack:
        path, node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, ScalarNode) else "?"
                child = (*path, key)
                lines[child] = _line(key_node) + offset
                stack.append((child, value_node))
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                lines[(*path, index)] = _line(item) + offset
                stack.append(((*path, index), item))
    return lines


def _too_deep_at(text: str) -> int | None:
    """The line where nesting could overflow the C parser, judged from the text alone: a run of
    indentation and block indicators, or of open flow brackets (counted even inside quotes),
    longer than the safe depth. None when neither is."""
    block = _DEEP_BLOCK.search(text)
    if block is not None:
        return text.count("\n", 0, block.start()) + 1
    if text.count("[") + text.count("{") <= _PARSER_SAFE_DEPTH:
        return None
    depth = 0
    for match in _FLOW.finditer(text):
        depth = depth + 1 if match.group() in "[{" else max(depth - 1, 0)
        if depth > _PARSER_SAFE_DEPTH:
            return text.count("\n", 0, match.start()) + 1
    return None


def load_yaml(text: str, *, line_offset: int = 0, lines: bool = True) -> Loaded:
    """Parse one YAML document. `line_offset` shifts line numbers (front matter in Markdown);
    `lines=False` skips the line map when only the data is wanted."""
    line = _too_deep_at(text)
    if line is not None:
        raise LoadError(
            line + line_offset,
            f"nesting deeper than {MAX_DEPTH} levels, or an alias that contains itself",
            "flatten the structure; records need only a few levels",
        )
    loader = _StrictLoader(text)
    loader.line_offset = line_offset
    try:
        node = loader.get_single_node()
        if node is None:
            return Loaded(None, {(): 1 + line_offset})
        data = _build(loader, node, text)
        return Loaded(data, _line_map(node, line_offset) if lines else {})
    except LoadError as error:
        error.line += line_offset if error.line else 0
        raise
    except yaml.MarkedYAMLError as error:
        # At the end of the text the problem mark points past the last line; the context
        # mark says where the unfinished construct (an unclosed quote, say) began.
        at_end = "end of stream" in (error.problem or "")
        mark = (error.context_mark if at_end else None) or error.problem_mark or error.context_mark
        line = (mark.line + 1 + line_offset) if mark is not None else 0
        problem = error.problem or error.context or "the text is not valid YAML"
        if "another document" in problem:
            raise LoadError(
                line,
                "the file holds more than one YAML document (a second '---' line)",
                "a record is one document: remove the extra '---' line",
            ) from None
        raise LoadError(
            line,
            f"YAML syntax error: {problem}",
            "check indentation and quoting on this line; quote values that contain ': ' or '#'",
        ) from None
    except ReaderError as error:
        raise LoadError(
            text.count("\n", 0, error.position) + 1 + line_offset,
            f"the character {chr(error.character)!r} (U+{error.character:04X}) is not allowed in YAML",
            "delete the control character; records hold printable text only",
        ) from None
    except yaml.YAMLError as error:
        raise LoadError(0, f"YAML error: {error}", "check that the file is plain YAML") from None
    except RecursionError:
        raise LoadError(0, "the YAML nests too deeply", "flatten the structure") from None
    finally:
        loader.dispose()


def load_fields(text: str, names: frozenset[str]) -> dict[str, Any] | None:
    """Only the named top-level fields of a mapping, without building the rest of it.

    The named fields are built by the same strict rules as `load_yaml`; None when the text is
    not a mapping. Anything irregular at the top level (a duplicate or non-text key, a merge
    key, a syntax error) is left to `load_yaml`, which raises the error it would raise.
    """
    if _too_deep_at(text) is None:
        loader = _StrictLoader(text)
        try:
            node = loader.get_single_node()
            if not isinstance(node, MappingNode):
                return None
            keys = [k.value for k, _ in node.value if isinstance(k, ScalarNode)]
            regular = len(keys) == len(node.value) == len(set(keys)) and "<<" not in keys
            if regular and all(k.tag == "tag:yaml.org,2002:str" for k, _ in node.value):
                wanted = {k.value: v for k, v in node.value if k.value in names}
                for value in wanted.values():
                    _check_bounds(value)
                return {key: loader.construct_object(v, deep=True) for key, v in wanted.items()}
        except (yaml.YAMLError, LoadError, RecursionError):
            pass  # load_yaml below says what is wrong, in its words
        finally:
            loader.dispose()
    data = load_yaml(text, lines=False).data
    return {k: v for k, v in data.items() if k in names} if isinstance(data, dict) else None
