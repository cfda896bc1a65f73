"""The built-in kinds are package declarations (issue 20, step 1): loading them gives exactly
the kinds, schema names and lifecycle defaults that were written in code before."""

from __future__ import annotations

import json
import re
import shutil
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from gitqms.errors import QmsError
from gitqms.records import kinds
from gitqms.records.lifecycles import DEFAULTS, build_lifecycles
from gitqms.safeyaml import load_yaml
from gitqms.validation.schemas import SCHEMA_NAMES

PACKAGE = resources.files("gitqms")

# The kinds as records/kinds.py wrote them before step 1:
# (name, label, folder, suffix, prefix, yearly).
OLD_KINDS = (
    ("sop", "SOP", "sops", ".md", "SOP", False),
    ("capa", "CAPA", "capa", ".yaml", "CAPA", True),
    ("deviation", "deviation", "deviations", ".yaml", "DEV", True),
    ("audit-review", "audit-trail review", "audit-reviews", ".yaml", "ATR", True),
)
OLD_SCHEMA_NAMES = ("sop", "capa", "deviation", "audit-review", "qms")

_OPEN_CAPA = ["initiated", "root-cause", "action-plan", "implementation", "effectiveness-check"]
_OPEN_DEVIATION = ["reported", "classified", "investigation", "capa-decided"]
OLD_DEFAULTS: dict[str, Any] = {
    "sop": {"approval": ["reviewed", "approved"]},
    "capa": {
        "initial": "initiated",
        "closed": ["closed", "cancelled"],
        "transitions": [
            {"from": "initiated", "to": "root-cause", "meaning": "analysis-started"},
            {"from": "root-cause", "to": "action-plan", "meaning": "plan-proposed"},
            {"from": "action-plan", "to": "root-cause", "meaning": "returned"},
            {"from": "action-plan", "to": "implementation", "meaning": "approved"},
            {"from": "implementation", "to": "effectiveness-check", "meaning": "reviewed"},
            {"from": "effectiveness-check", "to": "closed", "meaning": "closed"},
            {
                "from": "effectiveness-check",
                "to": "action-plan",
                "meaning": "effectiveness-verified",
                "requires": ["effectiveness.verdict=not-effective"],
            },
            {
                "from": "closed",
                "to": "action-plan",
                "meaning": "reopened",
                "requires": ["reopen_reason"],
            },
            {
                "from": _OPEN_CAPA,
                "to": "cancelled",
                "meaning": "cancelled",
                "requires": ["cancel_reason"],
            },
        ],
        "requires": {},
    },
    "deviation": {
        "initial": "reported",
        "closed": ["closed", "cancelled"],
        "transitions": [
            {"from": "reported", "to": "classified", "meaning": "classified"},
            {"from": "classified", "to": "investigation", "meaning": "investigation-opened"},
            {"from": "investigation", "to": "capa-decided", "meaning": "approved"},
            {"from": "capa-decided", "to": "investigation", "meaning": "returned"},
            {"from": "capa-decided", "to": "closed", "meaning": "closed"},
            {
                "from": "closed",
                "to": "investigation",
                "meaning": "reopened",
                "requires": ["reopen_reason"],
            },
            {
                "from": _OPEN_DEVIATION,
                "to": "cancelled",
                "meaning": "cancelled",
                "requires": ["cancel_reason"],
            },
        ],
        "requires": {"classified": ["immediate_actions"]},
    },
}


def _old_pattern(prefix: str, yearly: bool) -> re.Pattern[str]:
    year = r"(?P<year>[0-9]{4})-" if yearly else ""
    return re.compile(rf"{prefix}-{year}(?P<number>[0-9]{{4}})")


def old_kind_of_id(record_id: str) -> str | None:
    for name, _label, _folder, _suffix, prefix, yearly in OLD_KINDS:
        if _old_pattern(prefix, yearly).fullmatch(record_id):
            return name
    return None


def old_record_id_from_path(path: PurePosixPath) -> str | None:
    by_folder = {kind[2]: kind for kind in OLD_KINDS}
    kind = by_folder.get(path.parent.as_posix())
    if kind is None or path.suffix != kind[3]:
        return None
    return path.stem if _old_pattern(kind[4], kind[5]).fullmatch(path.stem) else None


def test_every_packaged_declaration_validates() -> None:
    schema = json.loads(PACKAGE.joinpath("schemas", "kind.schema.json").read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    checker = Draft202012Validator(schema)
    files = sorted(p.name for p in PACKAGE.joinpath("kinds").iterdir() if p.name.endswith(".yaml"))
    assert files == [
        "audit-review.yaml",
        "capa.yaml",
        "change-control.yaml",
        "controlled-copy.yaml",
        "deviation.yaml",
        "external-document.yaml",
        "form.yaml",
        "policy.yaml",
        "sop.yaml",
        "training-session.yaml",
        "work-instruction.yaml",
    ]
    for name in files:
        data = load_yaml(PACKAGE.joinpath("kinds", name).read_text("utf-8")).data
        assert list(checker.iter_errors(data)) == [], name


def test_loaded_kinds_equal_the_old_constants() -> None:
    loaded = tuple((k.name, k.label, k.folder, k.suffix, k.prefix, k.yearly) for k in kinds.KINDS)
    # The four kinds of before, unchanged, then change control (issue 20, step 4) and the
    # document kinds of step 5, then training sessions (issue 21, step 4).
    assert loaded == (
        *OLD_KINDS,
        ("change-control", "change control", "changes", ".yaml", "CC", True),
        ("work-instruction", "work instruction", "work-instructions", ".md", "WI", False),
        ("form", "form", "forms", ".md", "FRM", False),
        ("policy", "policy", "policies", ".md", "POL", False),
        ("external-document", "document of external origin", "external", ".md", "EXT", False),
        ("training-session", "training session", "training", ".yaml", "TRN", True),
        # controlled copies issued by `qms pdf --copy-for` (issue 23, item 4)
        ("controlled-copy", "controlled copy", "controlled-copies", ".yaml", "COPY", True),
    )
    assert kinds.KINDS[:4] == (kinds.SOP, kinds.CAPA, kinds.DEVIATION, kinds.AUDIT_REVIEW)
    assert kinds.KINDS[4] == kinds.CHANGE_CONTROL
    assert [k.family for k in kinds.KINDS] == [
        *("document", "record", "record", "record", "record"),
        *("document", "document", "document", "document"),
        *("record", "record"),
    ]
    assert kinds.CHANGE_CONTROL.special == "change-control"
    assert kinds.AUDIT_REVIEW.special == "audit-review"
    assert {k.name: k for k in kinds.KINDS} == kinds.BY_NAME
    assert {k.folder: k for k in kinds.KINDS} == kinds.BY_FOLDER


def test_schema_names_and_defaults_come_from_the_declarations() -> None:
    old = list(OLD_SCHEMA_NAMES)
    documents = ["work-instruction", "form", "policy", "external-document"]
    later = ["change-control", *documents, "training-session"]
    assert list(SCHEMA_NAMES) == [*old[: old.index("qms")], *later, "controlled-copy", "qms"]
    assert {k: v for k, v in DEFAULTS.items() if k not in later} == OLD_DEFAULTS
    assert list(DEFAULTS) == [*OLD_DEFAULTS, *later]  # a controlled copy has no lifecycle
    assert all(DEFAULTS[name] == OLD_DEFAULTS["sop"] for name in documents)
    assert DEFAULTS["change-control"]["initial"] == "proposed"


IDS = [
    "SOP-0003", "SOP-003", "SOP-00031", "CAPA-2026-0001", "CAPA-26-0001", "CAPA-0001",
    "DEV-2026-0001", "DEV-0001", "ATR-2026-0001", "XSOP-0001", "SOP-0001x", "sop-0001",
    "SOP", "SOP-", "-0001", "", "CC-2026-0001", "CAPA-2026-0001-0001", "SOP-0003.md",
    "SOP-٠٠٠١", "CAPA-2026-0001\n",
]  # fmt: skip


@pytest.mark.parametrize("record_id", IDS)
def test_kind_of_id_agrees_with_the_old_search(record_id: str) -> None:
    found = kinds.kind_of_id(record_id)
    new = "change-control" if record_id == "CC-2026-0001" else None  # the kind added since
    assert (found.name if found else None) == (old_kind_of_id(record_id) or new)


PATHS = [
    "sops/SOP-0003.md", "sops/SOP-0003.yaml", "sops/SOP-0003.md/x", "sops/CAPA-2026-0001.md",
    "capa/CAPA-2026-0001.yaml", "capa/CAPA-2026-0001.md", "capa/DEV-2026-0001.yaml",
    "deviations/DEV-2026-0001.yaml", "audit-reviews/ATR-2026-0001.yaml", "ATR-2026-0001.yaml",
    "sops/../sops/SOP-0003.md", "../sops/SOP-0003.md", "sops/sub/SOP-0003.md",
    "x/sops/SOP-0003.md", "sops/SOP-003.md", "capa/CAPA-26-0001.yaml", "sops/.gitkeep",
    "deviations/DEV-2026-0001.yaml.bak", "sops/XSOP-0001.md",
]  # fmt: skip


@pytest.mark.parametrize("path", PATHS)
def test_record_id_from_path_agrees_with_the_old_rule(path: str) -> None:
    posix = PurePosixPath(path)
    assert kinds.record_id_from_path(posix) == old_record_id_from_path(posix)


def _copy_of_the_package_kinds(tmp_path: Path) -> Path:
    folder = tmp_path / "kinds"
    shutil.copytree(Path(str(PACKAGE.joinpath("kinds"))), folder)
    return folder


def test_a_copy_of_the_package_kinds_loads_the_same(tmp_path: Path) -> None:
    loaded = kinds.load_declarations(_copy_of_the_package_kinds(tmp_path))
    assert loaded.kinds == kinds.KINDS


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda t: t.replace("prefix: CAPA", "prefix: capa"), "capa.yaml"),
        (lambda t: t + "colour: blue\n", "colour"),
        (lambda t: t.replace("family: record", "family: folder"), "family"),
        (lambda t: t.replace("folder: capa", "folder: sops"), "folder 'sops'"),
        (lambda t: t.replace("prefix: CAPA", "prefix: DEV"), "prefix 'DEV'"),
        (lambda t: t.replace("name: capa", "name: deviation"), "capa.yaml"),
        (lambda t: t.replace("schema: capa.schema.json", "schema: cc.schema.json"), "cc"),
        (lambda t: t + "  - {broken\n", "capa.yaml"),
        (lambda t: "", "capa.yaml"),
    ],
)
def test_a_broken_declaration_is_a_clear_error_naming_the_file(
    tmp_path: Path, edit: Any, words: str
) -> None:
    folder = _copy_of_the_package_kinds(tmp_path)
    path = folder / "capa.yaml"
    path.write_text(edit(path.read_text("utf-8")), encoding="utf-8")
    with pytest.raises(QmsError) as raised:
        kinds.load_declarations(folder)
    assert "capa.yaml" in str(raised.value)
    assert words in str(raised.value)
    assert raised.value.hint


def test_a_missing_declaration_is_a_clear_error(tmp_path: Path) -> None:
    folder = _copy_of_the_package_kinds(tmp_path)
    (folder / "deviation.yaml").unlink()
    with pytest.raises(QmsError, match=r"deviation\.yaml"):
        kinds.load_declarations(folder)


def test_change_control_says_in_its_declaration_when_its_documents_may_be_released() -> None:
    declared = kinds.CHANGE_CONTROL.declared.approved_states
    assert declared == {"approved", "implemented", "effectiveness-verified", "closed"}
    machine = build_lifecycles(None).machines["change-control"]
    assert declared <= {t.target for t in machine.transitions}  # states the machine reaches
    assert not kinds.CAPA.declared.approved_states
