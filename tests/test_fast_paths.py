"""Shortcuts taken for speed must give exactly what the long way gives: the quick schema
validity check, the one-pass YAML builder, and telling a state-only edit from the lines."""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import pytest

from gitqms.records.document import split_front_matter
from gitqms.records.lifecycles import STATE_FIELDS
from gitqms.safeyaml import LoadError, edits_only, load_yaml
from gitqms.safeyaml import load as safeyaml_load
from gitqms.validation.fastcheck import compile_validity
from gitqms.validation.schemas import SCHEMA_NAMES, validator

ROOT = Path(__file__).resolve().parents[1]
KINDS = {"sops": "sop", "capa": "capa", "deviations": "deviation"}


def examples() -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = [("qms", load_yaml((ROOT / "qms.yaml").read_text()).data)]
    for folder, kind in KINDS.items():
        for path in sorted((ROOT / folder).iterdir()):
            text = path.read_text()
            if path.suffix == ".md":
                text = split_front_matter(text)[0]
            found.append((kind, load_yaml(text).data))
    return found


VALUES: list[Any] = [None, True, 0, 1, -1, 1.5, 2.0, float("nan"), "", "x", "2026-02-30"]
VALUES += ["2026-01-01T10:00:00Z", "closed", [], ["a", "a"], [1, True], {}, {"a": 1}, "A" * 300]


def mutations(data: Any, rng: random.Random, count: int) -> list[Any]:
    """Copies of `data` with a value replaced, a field removed or one added."""
    out = []
    for _ in range(count):
        copied = copy.deepcopy(data)
        node = copied
        while isinstance(node, dict | list) and node and rng.random() < 0.6:
            key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
            if not isinstance(node[key], dict | list):
                break
            node = node[key]
        if isinstance(node, dict) and node:
            key = rng.choice(list(node))
            choice = rng.random()
            if choice < 0.5:
                node[key] = copy.deepcopy(rng.choice(VALUES))
            elif choice < 0.75:
                del node[key]
            else:
                node["extra"] = copy.deepcopy(rng.choice(VALUES))
        elif isinstance(node, list) and node:
            node[rng.randrange(len(node))] = copy.deepcopy(rng.choice(VALUES))
        out.append(copied)
    return out


def test_every_packaged_schema_compiles() -> None:
    for name in SCHEMA_NAMES:
        assert compile_validity(validator(name)) is not None, name


def test_the_quick_validity_check_agrees_with_jsonschema() -> None:
    rng = random.Random(7)
    checked = invalid = 0
    for kind, data in examples():
        quick = compile_validity(validator(kind))
        assert quick is not None
        for candidate in [data, *mutations(data, rng, 25)]:
            expected = validator(kind).is_valid(candidate)
            assert quick(candidate) == expected, (kind, candidate)
            checked += 1
            invalid += not expected
    assert checked > 500 and 0 < invalid < checked


def outcome(text: str) -> object:
    try:
        loaded = load_yaml(text, line_offset=2)
        return ("ok", loaded.data, dict(loaded.lines))
    except LoadError as error:
        return ("error", error.line, error.message, error.fix)
    except Exception as error:  # what the constructors raise for a tag on the wrong node
        return ("exception", type(error).__name__, str(error))


TRICKY = [
    "a: 1\nb: [x, y]\nc: {d: e}\n",
    "a: &x [1, 2]\nb: *x\n",
    "a: 1\na: 2\n",
    "a:\n  b: 1\n  b: 2\n",
    "<<: {a: 1}\n",
    "1: x\n",
    "a: !!str 1\nb: !!int '2'\n",
    "a: !!seq x\n",
    "a: !custom x\n",
    "a: 1234567890123456789012\n",
    "a: " + "[" * 70 + "]" * 70 + "\n",
    "a: &a [*a]\n",
    "- a\n- b: c\n  d: [1, 2.5, true, null, ~, '']\n",
]


@pytest.mark.parametrize("text", TRICKY)
def test_the_one_pass_builder_gives_what_the_constructors_give(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    quick = outcome(text)
    original = safeyaml_load._build
    # A "*" in the text sends every document the constructors' way.
    monkeypatch.setattr(
        safeyaml_load, "_build", lambda loader, root, t: original(loader, root, t + "*")
    )
    assert quick == outcome(text)


CAPA = 'id: CAPA-2026-0001\ntitle: "t"\nstate: open\nowner: a\nnotes: |+\n  kept\n\n'


@pytest.mark.parametrize(
    ("old", "new", "told"),
    [
        (CAPA, CAPA.replace("state: open", "state: closed"), True),
        (CAPA, CAPA.replace("owner: a\n", 'owner: a\nclosed: "2026-01-01"\n'), True),
        (CAPA, CAPA.replace("state: open", "state: 'a: b'"), True),
        (CAPA, CAPA.replace("state: open", "state: a: b"), None),  # would not load
        (CAPA, CAPA.replace("state: open", "state: [open"), None),
        (CAPA, CAPA.replace("owner: a", "owner: b"), None),  # not a state field
        (CAPA, CAPA + "closed: x\n", True),  # the |+ block keeps its blank line either way
        ("n: |+\n  kept\n\nb: 1\n", "n: |+\n  kept\nclosed: x\n\nb: 1\n", None),  # it would not
        (CAPA, CAPA.replace("title", "closed: x\ntitle"), True),
        ("a: 1\nstate: x\n", "a: 1\n", True),
        ("a: 1\nstate:\n  - x\n", "a: 1\nstate: y\n", None),  # a block becomes a line
        ("a: 1\nstate: x", "a: 1\nstate: x\nclosed: y", None),  # no final line break
    ],
)
def test_a_state_only_edit_is_told_from_the_lines(old: str, new: str, told: bool | None) -> None:
    assert edits_only(old, new, STATE_FIELDS) is told
    if told:
        before, after = load_yaml(old).data, load_yaml(new).data
        assert {k: v for k, v in before.items() if k not in STATE_FIELDS} == {
            k: v for k, v in after.items() if k not in STATE_FIELDS
        }


def test_the_privacy_scan_in_a_second_process_finds_what_the_scan_here_finds(
    example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`qms validate` scans large repositories for identifiers in a forked child: the same
    findings, on the same lines, as scanning in the process itself."""
    import os

    from gitqms.records.repository import Repository
    from gitqms.validation import privacy_aside
    from gitqms.validation.run import validate

    source = (example / "deviations" / "DEV-2026-0001.yaml").read_text()
    for number in range(1, privacy_aside.MIN_TEXTS + 20):
        record = f"DEV-2027-{number:04d}"
        text = source.replace("DEV-2026-0001", record)
        if number % 97 == 0:
            text += f"# patient id 99{number:06d}\n"
        (example / "deviations" / f"{record}.yaml").write_text(text)
    repo = Repository(example)
    here = validate(repo, parallel=False)
    pids = tmp_path / "scanned-in"
    real_child = privacy_aside._child

    def child(*args: object) -> None:  # runs in the forked child
        pids.write_text(str(os.getpid()))
        real_child(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(privacy_aside, "_cores", lambda: 2)  # a one-core runner too
    monkeypatch.setattr(privacy_aside, "_child", child)
    aside = validate(repo, parallel=True)
    assert int(pids.read_text()) != os.getpid()  # scanned in another process
    assert aside.findings == here.findings
    privacy = [f for f in aside.findings if f.code == "privacy.patient-identifier"]
    assert [f.record for f in privacy] == ["DEV-2027-0097", "DEV-2027-0194", "DEV-2027-0291"]
    assert {f.line for f in privacy} == {source.count("\n") + 1}
    assert aside.files == here.files > privacy_aside.MIN_TEXTS


def test_leaving_a_scan_early_stops_the_child(monkeypatch: pytest.MonkeyPatch) -> None:
    """An error or Ctrl-C while the records are checked leaves no scanning process behind."""
    import multiprocessing

    from gitqms.validation import privacy_aside
    from gitqms.validation.privacy import DEFAULT_FORBIDDEN

    monkeypatch.setattr(privacy_aside, "_cores", lambda: 2)
    # 30 MB of text: seconds of scanning, so the child is still at work when the block ends.
    texts = [(f"capa/CAPA-2026-{n:04d}.yaml", "", "word " * 20_000) for n in range(300)]
    with pytest.raises(KeyboardInterrupt), privacy_aside.scanning(texts, DEFAULT_FORBIDDEN):
        assert multiprocessing.active_children()
        raise KeyboardInterrupt
    assert not multiprocessing.active_children()
