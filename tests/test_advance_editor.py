"""The `$EDITOR` loop of `qms advance` (issue 22, item 1), written from its specification.

When the new state still lacks fields, `qms advance RECORD --to STATE` at a terminal (or with
`--edit`; never with `--no-edit`) opens the editor git would open, on QMS_ADVANCE_EDITMSG in the
git directory: a YAML form of what the move needs, each field under a comment saying what it
takes, computed values and --set values filled in. A form left empty abandons the move and
changes nothing; a form that is still not right opens again with `# error:` lines on top and the
person's own values kept; a right one ends as `--set` does: the fields in a commit by the signer,
then the signed state change. The form fills in fields only: it never moves the state, and it
changes nothing the move did not ask for.

Everything is real: signed history, SSH keys, the installed `qms` in its own process on a
pseudo-terminal (tests/toolkit/terminal.py) or on pipes, and a scripted editor that git's own
rules find. The repository's policy gives an investigation 21 days and wants its method when
it opens, so opening one asks for `investigation.method` beside the computed `investigation.due`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from toolkit.cli import QMS
from toolkit.process import environment, run
from toolkit.team import Team, build_team
from toolkit.terminal import MarkerEditor, Screen, ScriptedEditor, on_terminal
from toolkit.world import World, snapshot

DEV = "DEV-2026-0001"
PATH = f"deviations/{DEV}.yaml"
FORM = "QMS_ADVANCE_EDITMSG"
DUE = "2026-02-23"  # discovered 2026-02-02, plus this repository's investigation_days: 21
METHODS = ("5-whys", "fishbone", "fault-tree", "fmea", "is-is-not", "other")
REFUSAL = "--set investigation.method=…"  # what the refusal without an editor names

CLASSIFICATION = {
    "level": "minor",
    "severity": 2,
    "occurrence": 2,
    "detectability": 1,
    "rationale": "No product affected; the logger was read within its window.",
}
CLASSIFIED = {
    "description": "The shipper's logger was read 40 minutes after opening.",
    "immediate_actions": "Product quarantined until the logger file was reviewed.",
    "classification": json.dumps(CLASSIFICATION),
}


def opened(due: str = "2026-02-20", method: str = "fishbone") -> str:
    """A form as a person writes it back: the investigation's due day and method."""
    return f'investigation:\n  due: "{due}"\n  method: {method}\n'


def reported_under_a_policy(team: Team) -> None:
    """A deviation discovered on 2026-02-02, its text still the template's; then a policy,
    signed by the admin, that gives an investigation 21 days and wants its method named."""
    team.on("2026-02-02")
    team.qms(team.author, "new", "deviation", "--title", "Logger read late at receipt")
    team.world.commit_file(team.author, PATH, (team.world.repo / PATH).read_text(), "new one")
    team.on("2026-02-02", "11:00:00")
    text = (team.world.repo / "qms.yaml").read_text()
    requires, days = "      classified: [immediate_actions]\n", "  investigation_days: 30\n"
    assert text.count(requires) == 1 and text.count(days) == 1, "the template's policy moved"
    text = text.replace(requires, requires + "      investigation: [investigation.method]\n")
    team.sign_config(text.replace(days, "  investigation_days: 21\n"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Team:
    return build_team(tmp_path_factory, reported_under_a_policy)


@pytest.fixture
def reported(built: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Team:
    """This test's copy: the deviation reported, on 2026-02-03."""
    team = built.copy(tmp_path / "team", monkeypatch)
    team.on("2026-02-03")
    return team


@pytest.fixture
def team(reported: Team) -> Team:
    """The deviation classified (with --set) on 2026-02-03; the day now 2026-02-04, when the
    QA officer opens its investigation."""
    sets = [f"--set={field}={value}" for field, value in CLASSIFIED.items()]
    reported.qms(reported.officer, "advance", DEV, "--to", "classified", *sets)
    reported.on("2026-02-04")
    return reported


# ---- the desk: the officer's environment, a terminal or pipes, what must not move ----------


def desk(team: Team, **editors: str) -> dict[str, str]:
    """The QA officer's environment (their git config, the day set) with no editor but
    `editors` (GIT_EDITOR=…, VISUAL=…, EDITOR=…), on a terminal that is not dumb."""
    with team.world.acting(team.officer):
        env = environment()
    for variable in ("GIT_EDITOR", "VISUAL", "EDITOR"):
        env.pop(variable, None)
    return env | {"TERM": "xterm-256color"} | editors


def at_terminal(team: Team, env: dict[str, str], *args: str) -> Screen:
    """`qms advance DEV …` typed at a terminal (stdin, stdout and stderr a TTY)."""
    return on_terminal(
        [QMS, "-C", team.world.repo, "advance", DEV, *args], cwd=team.world.repo, env=env
    )


def piped(team: Team, env: dict[str, str], *args: str) -> Screen:
    """`qms advance DEV …` run by a script: stdin and stdout pipes, no terminal."""
    done = run(
        [QMS, "-C", team.world.repo, "advance", DEV, *args],
        cwd=team.world.repo,
        env=env,
        input="",
        timeout=180,
        check=False,
    )
    return Screen(done.returncode, done.stdout + done.stderr)


def state(world: World) -> tuple[Any, ...]:
    """Everything a refused or abandoned move must leave as it was: HEAD, the index, the work
    tree, every ref, the record's bytes."""
    return (*snapshot(world), world.git("for-each-ref"), (world.repo / PATH).read_bytes())


def record(world: World, commit: str | None = None) -> dict[str, Any]:
    text = world.git("show", f"{commit}:{PATH}") if commit else (world.repo / PATH).read_text()
    return dict(yaml.safe_load(text))


# ---- reading a form ----------------------------------------------------------------------


def header(form: str) -> list[str]:
    """The comment lines before the first field."""
    lines = []
    for line in form.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            break
        lines.append(line)
    return lines


def errors(form: str) -> list[str]:
    return [line for line in form.splitlines() if line.startswith("# error:")]


def comment_above(form: str, key: str) -> str:
    """The comment lines right above the first line that sets `key`."""
    lines = form.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith(f"{key}:"))
    above: list[str] = []
    while at > 0 and lines[at - 1].strip().startswith("#"):
        at -= 1
        above.insert(0, lines[at].strip())
    assert above, f"no comment above {key!r} in the form:\n{form}"
    return "\n".join(above)


def textual(value: Any) -> Any:
    """`value` with every date and number in it as text, empty values as None."""
    if isinstance(value, dict):
        return {k: textual(v) for k, v in value.items()}
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def values(form: str) -> dict[str, Any]:
    """The form as YAML (comments are comments), dates and numbers as text."""
    return dict(textual(yaml.safe_load(form) or {}))


def reopened_naming(editor: ScriptedEditor, *names: str) -> str:
    """The second form: `# error:` lines on top, before any field, one naming each of `names`."""
    assert editor.runs >= 2, f"the editor was not opened again ({editor.runs} run)"
    form = editor.forms[1]
    found = errors(form)
    assert found, f"no '# error:' line in the form opened again:\n{form}"
    assert set(found) <= set(header(form)), f"the errors are not on top:\n{form}"
    for name in names:
        assert any(name in line for line in found), f"no error names {name!r}:\n{form}"
    return form


def assert_opened(team: Team, start: str, **investigation: str) -> None:
    """The investigation opened as the --set path opens it: the fields in a signed commit of
    their own by the officer with a Reason trailer, then the signed state change; `qms check`
    clean on the range; the work tree clean and holding the new state."""
    world = team.world
    data = record(world)
    assert data["state"] == "investigation", data
    assert textual(data["investigation"]) == investigation, data["investigation"]
    assert world.content(PATH) == (world.repo / PATH).read_bytes()
    assert world.git("rev-list", "--count", f"{start}..HEAD") == "2"
    assert world.git("rev-parse", "HEAD~2") == start
    fill = world.git("log", "-1", "--format=%ae%n%B", "HEAD~1")
    assert fill.startswith(team.officer.email + "\n") and "\nReason: " in fill, fill
    assert record(world, "HEAD~1")["state"] == "classified"  # the fields first, the state after
    move = world.git("log", "-1", "--format=%ae%n%B", "HEAD")
    assert move.startswith(team.officer.email + "\n"), move
    for trailer in (f"QMS-Record: {DEV}", "QMS-Meaning: investigation-opened", "Reason: "):
        assert f"\n{trailer}" in move, move
    for commit in ("HEAD~1", "HEAD"):
        assert "\ngpgsig " in world.git("cat-file", "-p", commit), f"{commit} is not signed"
    assert not world.git("status", "--porcelain", "--untracked-files=all")
    report = team.check(f"{start}..HEAD")
    assert not [v for v in report["violations"] if v.get("severity", "error") == "error"], report


def assert_abandoned(screen: Screen, before: tuple[Any, ...], world: World) -> None:
    said = screen.flat.lower()
    assert screen.code == 1, screen
    assert "abandoned" in said and "nothing was changed" in said, screen.text
    assert "Traceback" not in screen.text
    assert state(world) == before, "an abandoned move changed the repository"


# ---- 1. at a terminal: the form, a wrong value, the form again, the move -----------------


def test_at_a_terminal_the_form_opens_again_until_it_is_right(team: Team, tmp_path: Path) -> None:
    editor = ScriptedEditor(
        tmp_path / "editor",
        opened(method="gut-feeling"),  # round 1: a method the schema does not know
        opened(method="fishbone"),  # round 2: corrected
    )
    start = team.world.head()
    screen = at_terminal(team, desk(team, GIT_EDITOR=editor.command), "--to", "investigation")

    assert screen.code == 0, screen.text
    assert "classified -> investigation" in screen.flat, screen.text
    assert editor.runs == 2, screen.text
    git_dir = Path(team.world.git("rev-parse", "--absolute-git-dir")).resolve()
    for call in editor.calls:
        assert Path(call["path"]).resolve() == git_dir / FORM, call
        assert call["tty"], "the editor was not given the terminal"

    first = editor.forms[0]
    top = "\n".join(header(first))
    assert top and f"qms advance {DEV} --to investigation" in top, first
    assert "abandon" in top.lower(), first  # it says how to give up
    assert not errors(first), first
    assert values(first) == {"investigation": {"due": DUE, "method": None}}, first
    assert "YYYY-MM-DD" in comment_above(first, "due"), first
    assert all(method in comment_above(first, "method") for method in METHODS), first

    second = reopened_naming(editor, "investigation.method")
    assert f"qms advance {DEV} --to investigation" in "\n".join(header(second)), second
    assert values(second) == {"investigation": {"due": "2026-02-20", "method": "gut-feeling"}}

    assert_opened(team, start, due="2026-02-20", method="fishbone")


# ---- 2. abandoning ---------------------------------------------------------------------------


def test_an_emptied_form_at_a_terminal_abandons_the_move(team: Team, tmp_path: Path) -> None:
    editor = ScriptedEditor(tmp_path / "editor", "")
    before = state(team.world)
    screen = at_terminal(team, desk(team, GIT_EDITOR=editor.command), "--to", "investigation")
    assert editor.runs == 1, screen.text
    assert_abandoned(screen, before, team.world)


def test_a_form_with_every_value_left_empty_abandons_the_move(team: Team, tmp_path: Path) -> None:
    editor = ScriptedEditor(tmp_path / "editor", "investigation:\n  due:\n  method:\n")
    before = state(team.world)
    screen = piped(team, desk(team, GIT_EDITOR=editor.command), "--to", "investigation", "--edit")
    assert editor.runs == 1, screen.text
    assert_abandoned(screen, before, team.world)


# ---- 3, 4. when the editor opens, and when it never does -------------------------------------


def test_edit_opens_the_editor_without_a_terminal(reported: Team, tmp_path: Path) -> None:
    """Classifying needs a nested classification and the text the template left to fill in."""
    team = reported
    answer = {
        "description": CLASSIFIED["description"],
        "immediate_actions": CLASSIFIED["immediate_actions"],
        "classification": CLASSIFICATION,
    }
    editor = ScriptedEditor(tmp_path / "editor", yaml.safe_dump(answer, sort_keys=False))
    start = team.world.head()
    screen = piped(team, desk(team, GIT_EDITOR=editor.command), "--to", "classified", "--edit")
    assert screen.code == 0, screen.text
    assert editor.runs == 1, screen.text

    form = editor.forms[0]
    assert f"qms advance {DEV} --to classified" in "\n".join(header(form)), form
    asked = values(form)
    assert {"classification", "description", "immediate_actions"} <= set(asked), form
    assert set(CLASSIFICATION) <= set(asked["classification"] or {}), form  # nested, each one
    assert all(level in comment_above(form, "level") for level in ("minor", "major", "critical"))
    assert "1" in comment_above(form, "severity") and "5" in comment_above(form, "severity")

    data = record(team.world)
    assert data["state"] == "classified" and data["classification"] == CLASSIFICATION, data
    assert data["immediate_actions"] == CLASSIFIED["immediate_actions"]
    assert team.world.git("rev-list", "--count", f"{start}..HEAD") == "2"
    assert not team.world.git("status", "--porcelain", "--untracked-files=all")


def test_no_edit_at_a_terminal_refuses_and_never_runs_the_editor(
    team: Team, tmp_path: Path
) -> None:
    never = MarkerEditor(tmp_path / "editor")
    before = state(team.world)
    screen = at_terminal(
        team, desk(team, GIT_EDITOR=never.command), "--to", "investigation", "--no-edit"
    )
    assert not never.ran, screen.text
    assert screen.code == 1, screen.text
    assert REFUSAL in screen.flat, screen.text
    assert state(team.world) == before


def test_without_a_terminal_it_refuses_naming_the_set_options(team: Team, tmp_path: Path) -> None:
    never = MarkerEditor(tmp_path / "editor")
    before = state(team.world)
    screen = piped(team, desk(team, GIT_EDITOR=never.command), "--to", "investigation")
    assert not never.ran, screen.text
    assert screen.code == 1, screen.text
    assert f"qms advance {DEV} --to investigation" in screen.flat, screen.text
    assert REFUSAL in screen.flat, screen.text
    assert state(team.world) == before


@pytest.mark.parametrize("edit", [(), ("--edit",)], ids=["terminal", "terminal-and-edit"])
def test_with_nothing_missing_no_editor_opens(
    team: Team, tmp_path: Path, edit: tuple[str, ...]
) -> None:
    never = MarkerEditor(tmp_path / "editor")
    start = team.world.head()
    screen = at_terminal(
        team,
        desk(team, GIT_EDITOR=never.command),
        *("--to", "investigation", "--set", "investigation.method=5-whys", *edit),
    )
    assert not never.ran, screen.text
    assert screen.code == 0, screen.text
    assert_opened(team, start, due=DUE, method="5-whys")


@pytest.mark.parametrize("chosen", ["GIT_EDITOR", "core.editor", "VISUAL", "EDITOR"])
def test_the_editor_is_the_one_git_would_open(team: Team, tmp_path: Path, chosen: str) -> None:
    """git's order: GIT_EDITOR, core.editor, VISUAL, EDITOR; those after the chosen one lose."""
    editor = ScriptedEditor(tmp_path / "editor", opened())
    order = ["GIT_EDITOR", "core.editor", "VISUAL", "EDITOR"]
    losers = {
        name: MarkerEditor(tmp_path / "losers", name) for name in order[order.index(chosen) + 1 :]
    }
    commands = {name: loser.command for name, loser in losers.items()} | {chosen: editor.command}
    if "core.editor" in commands:
        team.world.git("config", "core.editor", commands.pop("core.editor"))
    start = team.world.head()
    screen = piped(team, desk(team, **commands), "--to", "investigation", "--edit")
    assert not [name for name, loser in losers.items() if loser.ran], screen.text
    assert editor.runs == 1 and screen.code == 0, screen.text
    assert_opened(team, start, due="2026-02-20", method="fishbone")


def test_values_given_with_set_are_in_the_form(team: Team, tmp_path: Path) -> None:
    editor = ScriptedEditor(tmp_path / "editor", opened(due="2026-02-22"))
    start = team.world.head()
    screen = piped(
        team,
        desk(team, GIT_EDITOR=editor.command),
        *("--to", "investigation", "--edit", "--set", "investigation.due=2026-02-22"),
    )
    assert screen.code == 0, screen.text
    assert values(editor.forms[0]) == {"investigation": {"due": "2026-02-22", "method": None}}
    assert_opened(team, start, due="2026-02-22", method="fishbone")


# ---- 5. what is still not right opens the form again -------------------------------------


WRONG = {
    "a date that is no date": (opened(due="2026-13-45"), "investigation.due", "2026-13-45"),
    "a method outside the list": (
        opened(method="gut-feeling"),
        "investigation.method",
        "gut-feeling",
    ),
    "a field still missing": (
        'investigation:\n  due: "2026-02-20"\n  method:\n',
        "investigation.method",
        "2026-02-20",
    ),
}


@pytest.mark.parametrize("wrong", WRONG.values(), ids=WRONG.keys())
def test_a_form_that_is_not_right_opens_again(
    team: Team, tmp_path: Path, wrong: tuple[str, str, str]
) -> None:
    answer, field, kept = wrong
    editor = ScriptedEditor(tmp_path / "editor", answer, opened())
    start = team.world.head()
    screen = piped(team, desk(team, GIT_EDITOR=editor.command), "--to", "investigation", "--edit")
    assert screen.code == 0, screen.text
    assert editor.runs == 2, screen.text
    assert kept in reopened_naming(editor, field)  # the person's own value, not the default
    assert_opened(team, start, due="2026-02-20", method="fishbone")


def test_yaml_that_does_not_parse_opens_again_with_the_text_kept(
    team: Team, tmp_path: Path
) -> None:
    broken = 'investigation:\n  due: "2026-02-20"\n  method: [fishbone\n'
    editor = ScriptedEditor(tmp_path / "editor", broken, opened())
    start = team.world.head()
    screen = piped(team, desk(team, GIT_EDITOR=editor.command), "--to", "investigation", "--edit")
    assert screen.code == 0, screen.text
    assert editor.runs == 2, screen.text
    assert "method: [fishbone" in reopened_naming(editor)  # nothing typed is lost
    assert_opened(team, start, due="2026-02-20", method="fishbone")


def test_giving_up_after_an_error_still_changes_nothing(team: Team, tmp_path: Path) -> None:
    editor = ScriptedEditor(tmp_path / "editor", opened(method="gut-feeling"), "")
    before = state(team.world)
    screen = piped(team, desk(team, GIT_EDITOR=editor.command), "--to", "investigation", "--edit")
    assert editor.runs == 2, screen.text
    assert_abandoned(screen, before, team.world)


# ---- 7. the form fills in what the move asks for, and nothing else ------------------------


def test_the_form_cannot_move_the_state(team: Team, tmp_path: Path) -> None:
    """`state: closed` in the form is an error, never applied: only --to moves a record."""
    smuggled = "state: closed\nclosed: 2026-02-04\n" + opened()
    editor = ScriptedEditor(tmp_path / "editor", smuggled, opened())
    start = team.world.head()
    screen = piped(team, desk(team, GIT_EDITOR=editor.command), "--to", "investigation", "--edit")
    assert editor.runs == 2, screen.text
    reopened_naming(editor, "state")
    assert screen.code == 0, screen.text
    assert_opened(team, start, due="2026-02-20", method="fishbone")
    for commit in ("HEAD~1", "HEAD"):
        assert "closed" not in record(team.world, commit), commit


def test_the_form_changes_no_field_the_move_did_not_ask_for(team: Team, tmp_path: Path) -> None:
    """A state change signs what the move needs; reassigning the owner or reclassifying on the
    way is an error in the form (an edit of its own, with its own reason), never applied."""
    smuggled = "owner: m.okafor\nclassification:\n  level: critical\n" + opened()
    editor = ScriptedEditor(tmp_path / "editor", smuggled, opened())
    start = team.world.head()
    before = record(team.world)
    screen = piped(team, desk(team, GIT_EDITOR=editor.command), "--to", "investigation", "--edit")
    assert editor.runs == 2, screen.text
    reopened_naming(editor, "owner", "classification")
    assert screen.code == 0, screen.text
    assert_opened(team, start, due="2026-02-20", method="fishbone")
    filled = record(team.world, "HEAD~1")
    assert {k for k in before.keys() | filled.keys() if before.get(k) != filled.get(k)} == {
        "investigation"
    }, filled
