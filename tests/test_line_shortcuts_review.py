"""A review of the line shortcuts (safeyaml/lines.py) and of `loads_as_mapping` against the
strict loader: cases the seeded searches of test_line_shortcuts_agree.py do not reach.

A state line that `edits_only` lets a signed commit drop or change is read by the loader across
the whole text too: an anchor on it is what an alias elsewhere names, and its brackets count
towards the nesting bound (counted even inside quotes). Dropping it can leave a text that does
not load, which the shortcut must not call a state-only edit of a mapping.
"""

from __future__ import annotations

import json
import re

import pytest

from gitqms.records.lifecycles import STATE_FIELDS
from gitqms.safeyaml import MAX_FILE_BYTES, edits_only
from gitqms.signatures import claims
from gitqms.signatures.claims import loads_as_mapping, record_data, stated_version
from test_line_shortcuts_agree import _authored_by_lines, _authored_by_parsing, _strict
from toolkit.world import SOP, World

_OPEN, _CLOSE = "[" * 300, "]" * 300  # each under the nesting bound, together over it


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # the anchor goes with the state line; the alias left behind names nothing
        ("state: [&a x]\nother: [*a]\n", "state: closed\nother: [*a]\n"),
        ("state: [&a x]\nother: [*a]\n", "other: [*a]\n"),
        (
            "state: {k: &a v}\ntitle: t\nreopen_reason: {k: *a}\n",
            "title: t\nreopen_reason: {k: *a}\n",
        ),
        # closing brackets (in quotes) kept the running depth down; without them it is over
        (
            f"a: '{_OPEN}'\nstate: '{_CLOSE}'\nb: '{_OPEN}'\n",
            f"a: '{_OPEN}'\nstate: x\nb: '{_OPEN}'\n",
        ),
        (f"a: '{_OPEN}'\nstate: '{_CLOSE}'\nb: '{_OPEN}'\n", f"a: '{_OPEN}'\nb: '{_OPEN}'\n"),
    ],
)
def test_dropping_a_state_line_the_whole_text_depends_on_is_authorship(old: str, new: str) -> None:
    assert isinstance(_strict(old), dict) and not isinstance(_strict(new), dict)
    assert not edits_only(old, new, STATE_FIELDS)
    assert _authored_by_lines(old, new) is _authored_by_parsing(old, new) is True


def test_state_lines_without_anchors_or_brackets_still_take_the_shortcut() -> None:
    old = "title: '[a]'\nstate: open\nother: [*a]\nx: [&a 1]\n"  # what stays is not dropped
    assert edits_only("title: t\nstate: open\n", "title: t\nstate: closed\n", STATE_FIELDS)
    assert edits_only("state: open\nx: [1]\n", "x: [1]\n", STATE_FIELDS)
    assert edits_only(old, old.replace("open", "closed"), STATE_FIELDS)


# -- loads_as_mapping: the cache must answer as record_data does --------------------------

_CONTENTS = [
    b"version: 3\n",
    b"version: 3\n  -\n",
    b"---\nversion: 3\n---\nbody\n",  # front matter; as YAML, two documents
    b"---\nversion: 3\n",  # front matter never closed; as YAML, a mapping
    b"---\nversion: 3\n...\nbody\n",
    b"---\r\nversion: 3\r\n---\r\n",
    b"---\n- 1\n---\n",
    b"---\n---\n",
    b"\xef\xbb\xbfversion: 3\n",  # a BOM
    b"\xef\xbb\xbf---\nversion: 3\n---\n",
    b"\xffversion: 3\n",  # not UTF-8
    b"version: 3\0\n",  # binary
    b"- 1\n",
    b"",
    b"x: a: b\nversion: 3\n",  # the version is read, the text does not load
    b"version: 3\n" + b"#" * MAX_FILE_BYTES,  # too large
]


@pytest.mark.parametrize("record", ["CAPA-2026-0001", "SOP-0001", "qms.yaml"])
@pytest.mark.parametrize("version_first", [True, False])
def test_loads_as_mapping_is_record_data_being_a_mapping(
    record: str, version_first: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    for cache, empty in (("_MAPPINGS", set()), ("_VERSIONS", {}), ("_PARSED", {})):
        monkeypatch.setattr(claims, cache, empty)
    for content in _CONTENTS:
        if version_first:
            stated_version(content, record)
        expected = isinstance(record_data(content, record), dict)
        assert loads_as_mapping(content, record) is expected, (record, content[:40])
        for other in ("CAPA-2026-0001", "SOP-0001"):  # the same bytes as the other file form
            stated_version(content, other)
            assert loads_as_mapping(content, record) is expected, (record, other, content[:40])
        claims._MAPPINGS.clear()
        assert loads_as_mapping(content, record) is expected


# -- end to end: the version a signature names is the loader's --------------------------


def test_a_signature_naming_the_version_before_a_bare_dash_line_is_invalid(world: World) -> None:
    """`version: 3` and then an indented bare `-`: the loader reads the version as '3 -' (the
    `-` continues the plain text), so a signature that names version 3 names another version.
    The line shortcut that `stated_version` once took read 3 and let the signature stand."""
    author, reviewer = world.people["l.santos"], world.people["m.okafor"]
    text = (world.repo / SOP).read_text()
    front = re.sub(r"(?m)^version: .*$", "version: 3\n  -", text, count=1)
    assert front != text
    world.commit_file(author, SOP, front, "version three")
    signed = world.raw_commit(reviewer, world.trailers("SOP-0001", SOP, "reviewed", version="3"))
    report = json.loads(world.qms(reviewer, "verify", "--format", "json", ok=False))
    verdict = next(v for v in report["signatures"] if v["commit"] == signed)
    assert verdict["status"] == "invalid", verdict
    assert verdict["problems"] == [
        "the trailer claims version 3, but the record at this commit states 3 -"
    ]
