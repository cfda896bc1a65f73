"""`qms init` and `qms new` on real repositories: layout, refusal to overwrite, IDs never reused."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
import yaml

from toolkit.cli import qms, write
from toolkit.process import git

ADMIN = ("--admin", "a.weber", "--name", "Dr. Anna Weber", "--email", "a.weber@st-aurelia.example")


def init(tmp_path: Path) -> Path:
    target = tmp_path / "hospital-qms"
    result = qms("init", target, *ADMIN, "--organisation", "St. Aurelia University Hospital")
    assert result.exit_code == 0, result.stderr
    return target


def test_init_scaffolds_the_layout_and_a_git_repository(tmp_path: Path) -> None:
    repo = init(tmp_path)
    for folder in ("sops", "capa", "deviations", "schemas", "docs"):
        assert (repo / folder).is_dir()
    for name in ("qms.yaml", "mkdocs.yml", ".gitignore", "schemas/capa.schema.json"):
        assert (repo / name).is_file()
    assert git(repo, "rev-parse", "--show-toplevel").strip() == str(repo.resolve())
    assert git(repo, "symbolic-ref", "--short", "HEAD").strip() == "main"
    config = yaml.safe_load((repo / "qms.yaml").read_text())
    assert config["people"] == [
        {
            "id": "a.weber",
            "name": "Dr. Anna Weber",
            "email": "a.weber@st-aurelia.example",
            "roles": ["admin", "qa-manager"],
        }
    ]
    assert config["organisation"]["name"] == "St. Aurelia University Hospital"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], (
        "staging folder left behind"
    )


def test_init_then_new_then_validate_passes(tmp_path: Path) -> None:
    repo = init(tmp_path)
    made = [
        qms("new", "sop", "--title", "Document control", repo=repo),
        qms("new", "deviation", "--title", "LN2 dewar alarm", "--type", "excursion", repo=repo),
        qms("new", "deviation", "--title", "Low viability product", "--type", "oos", repo=repo),
        qms("new", "capa", "--title", "Dewar alarm response", "--ref", "DEV-2026-0001", repo=repo),
        qms("new", "capa", "--title", "Findings of the 2026 audit", "--source", "audit", repo=repo),
    ]
    assert [r.exit_code for r in made] == [0] * 5, [r.stderr for r in made]
    year = yaml.safe_load((repo / made[1].stdout.strip()).read_text())["discovered_at"][:4]
    assert [r.stdout.strip() for r in made] == [
        "sops/SOP-0001.md",
        f"deviations/DEV-{year}-0001.yaml",
        f"deviations/DEV-{year}-0002.yaml",
        f"capa/CAPA-{year}-0001.yaml",
        f"capa/CAPA-{year}-0002.yaml",
    ]
    result = qms("validate", repo=repo)
    assert result.exit_code == 0, result.stdout
    assert "0 errors" in result.stdout
    assert "still holds template text" in result.stdout  # the author is told what to fill in
    # The deviation does not yet name the CAPA raised from it: a warning says which side to fix.
    assert (
        f"CAPA-{year}-0001 names DEV-{year}-0001, but DEV-{year}-0001 does not name"
        in result.stdout
    )


def test_init_refuses_an_existing_folder_and_changes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "existing"
    write(target / "notes.txt", "keep me")
    result = qms("init", target, *ADMIN)
    assert result.exit_code == 2
    assert "already exists and is not empty" in result.stderr
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    repo = init(tmp_path)
    before = (repo / "qms.yaml").read_text()
    again = qms("init", repo, *ADMIN)
    assert again.exit_code == 2
    assert "is a QMS repository" in again.stderr
    assert (repo / "qms.yaml").read_text() == before


def test_init_accepts_an_empty_folder_and_reads_the_git_identity(tmp_path: Path) -> None:
    target = tmp_path / "empty"
    target.mkdir()
    result = qms("init", target)
    assert result.exit_code == 0, result.stderr
    person = yaml.safe_load((target / "qms.yaml").read_text())["people"][0]
    assert person == {
        "id": "a.weber",
        "name": "Dr. Anna Weber",
        "email": "a.weber@st-aurelia.example",
        "roles": ["admin", "qa-manager"],
    }


def test_init_quotes_what_it_writes(tmp_path: Path) -> None:
    target = tmp_path / "odd"
    result = qms(
        "init",
        target,
        "--admin",
        "q.a",
        "--name",
        'O\'Brien: "QA" #1',
        "--email",
        "qa@x.example",
        "--organisation",
        "Hospital: no #2",
    )
    assert result.exit_code == 0, result.stderr
    config = yaml.safe_load((target / "qms.yaml").read_text())
    assert config["people"][0]["name"] == 'O\'Brien: "QA" #1'
    assert config["organisation"]["name"] == "Hospital: no #2"
    assert qms("validate", repo=target).exit_code == 0


def test_new_never_reuses_an_id_from_history(tmp_path: Path) -> None:
    repo = init(tmp_path)
    first = qms("new", "sop", "--title", "Cryostorage monitoring", repo=repo).stdout.strip()
    second = qms("new", "sop", "--title", "Thawing", repo=repo).stdout.strip()
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "two SOPs", "-m", "Reason: new procedures")
    git(repo, "rm", "-q", second)
    git(
        repo,
        "commit",
        "-qm",
        "delete the second (the gate forbids this; history keeps it)",
        "-m",
        "Reason: withdrawn",
    )
    assert (first, second) == ("sops/SOP-0001.md", "sops/SOP-0002.md")
    third = qms("new", "sop", "--title", "Receipt of shipments", repo=repo)
    assert third.stdout.strip() == "sops/SOP-0003.md"


def test_new_sees_ids_on_other_branches_and_in_the_index(tmp_path: Path) -> None:
    repo = init(tmp_path)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "scaffold", "-m", "Reason: set up")
    git(repo, "checkout", "-q", "-b", "draft")
    qms("new", "sop", "--title", "Drafted on a branch", repo=repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "draft SOP", "-m", "Reason: new procedure")
    git(repo, "checkout", "-q", "main")
    assert not (repo / "sops/SOP-0001.md").exists()
    write(repo / "sops/SOP-0002.md", "staged only")
    git(repo, "add", "sops/SOP-0002.md")
    (repo / "sops/SOP-0002.md").unlink()
    result = qms("new", "sop", "--title", "Made on main", repo=repo)
    assert result.stdout.strip() == "sops/SOP-0003.md"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("new", "sop", "--title", "x"),
            "the values given would make SOP-0001.md invalid: 'title' is too short",
        ),
        (
            ("new", "sop", "--title", "Valid title", "--owner", "nobody"),
            "'nobody' is not a person in qms.yaml",
        ),
        (
            ("new", "sop", "--title", "Valid title", "--area", "moon"),
            "the area 'moon' is not in qms.yaml",
        ),
        (
            ("new", "capa", "--title", "Valid title", "--source", "deviation"),
            "missing field 'source.references' (a CAPA raised from a deviation, OOS result or "
            "adverse reaction must name that record)",
        ),
        (
            ("new", "capa", "--title", "Valid title", "--ref", "DEV-2026-0042"),
            "DEV-2026-0042 is not a record",
        ),
    ],
)
def test_new_refuses_bad_requests_and_writes_nothing(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    repo = init(tmp_path)
    result = qms(*args, repo=repo)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not [
        p
        for folder in ("sops", "capa", "deviations")
        for p in (repo / folder).iterdir()
        if p.name != ".gitkeep"
    ]


def test_new_without_a_known_git_email_names_the_fix(tmp_path: Path) -> None:
    repo = init(tmp_path)
    git(repo, "config", "user.email", "stranger@elsewhere.example")
    result = qms("new", "sop", "--title", "Document control", repo=repo)
    assert result.exit_code == 2
    assert "stranger@elsewhere.example) is not a person's email in qms.yaml" in result.stderr
    assert "pass --owner with one of: a.weber" in result.stderr
    ok = qms("new", "sop", "--title", "Document control", "--owner", "a.weber", repo=repo)
    assert ok.exit_code == 0


def test_new_needs_a_valid_qms_yaml(tmp_path: Path) -> None:
    repo = init(tmp_path)
    (repo / "qms.yaml").write_text("format: 1\nformat: 2\n")
    result = qms("new", "sop", "--title", "Document control", repo=repo)
    assert result.exit_code == 2
    assert "qms.yaml:2: duplicate key 'format'" in result.stderr


def test_update_schemas_restores_drifted_copies(tmp_path: Path) -> None:
    repo = init(tmp_path)
    (repo / "schemas/sop.schema.json").write_text("{}")
    drift = qms("validate", repo=repo)
    assert drift.exit_code == 0
    assert "schemas/sop.schema.json: warning: this copy differs" in drift.stdout
    fixed = qms("init", "--update-schemas", repo=repo)
    assert fixed.stdout.strip() == "schemas/sop.schema.json"
    assert qms("validate", repo=repo).stdout == "0 errors, 0 warnings in 1 file\n"


def test_init_writes_the_package_kind_declarations_for_readers(tmp_path: Path) -> None:
    """The built-in kinds are declarations a reader can open in the repository; a copy that
    drifts is reported and restored, and never changes what is checked."""
    repo = init(tmp_path)
    package = resources.files("gitqms") / "kinds"
    names = sorted(p.name for p in (repo / "kinds").iterdir())
    assert names == sorted(p.name for p in package.iterdir() if p.name.endswith(".yaml"))
    assert (repo / "kinds/capa.yaml").read_text() == (package / "capa.yaml").read_text()
    assert (repo / "schemas/kind.schema.json").is_file()
    loosened = (repo / "kinds/capa.yaml").read_text().replace("folder: capa", "folder: elsewhere")
    (repo / "kinds/capa.yaml").write_text(loosened)
    drift = qms("validate", repo=repo)
    assert drift.exit_code == 0
    assert "kinds/capa.yaml: warning: this copy differs" in drift.stdout
    fixed = qms("init", "--update-schemas", repo=repo)
    assert fixed.stdout.strip() == "kinds/capa.yaml"
    assert qms("validate", repo=repo).stdout == "0 errors, 0 warnings in 1 file\n"
