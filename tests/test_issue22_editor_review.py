"""An adversarial review of issue 22 item 1/2 (the editor's form of `qms advance`, the schema's
`x-default: signer|today`, `qms revise` at a desk): each test is a finding, written so that it
fails until the finding is fixed.

Everything is real: signed history and SSH keys (tests/toolkit), the installed `qms` in its own
process, and editors that git's own rules find. The CAPA is the one of
tests/test_advance_defaults.py: its actions done, its effectiveness check started on 2026-05-17.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from test_advance_defaults import RESULT, in_effectiveness_check
from test_lifecycle_capa import CAPA, CAPA_FILE, actions, edit
from toolkit.cli import QMS
from toolkit.process import environment, run
from toolkit.team import Team, build_team
from toolkit.terminal import Screen, ScriptedEditor, on_terminal
from toolkit.world import SOP, snapshot

FORM = "QMS_ADVANCE_EDITMSG"
CHECKED = (  # the effectiveness check as the QA officer records it, without who and when
    "effectiveness:\n"
    '  criteria: "No shipper released without a logger read-out for 3 months."\n'
    '  due: "2026-07-31"\n'
    f'  result: "{RESULT}"\n'
    "  verdict: effective\n"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Team:
    return build_team(tmp_path_factory, in_effectiveness_check)


@pytest.fixture
def team(built: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Team:
    return built.copy(tmp_path / "team", monkeypatch)


def capa(team: Team, commit: str | None = None) -> dict[str, Any]:
    world = team.world
    text = (
        world.git("show", f"{commit}:{CAPA_FILE}")
        if commit
        else world.repo.joinpath(CAPA_FILE).read_text()
    )
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def state(team: Team) -> tuple[Any, ...]:
    """What a refused or abandoned move must leave as it was."""
    world = team.world
    return (*snapshot(world), world.git("for-each-ref"), (world.repo / CAPA_FILE).read_bytes())


def qms_as(team: Team, *args: str, editor: str | None = None, cwd: Path | None = None) -> Screen:
    """`qms -C REPO args` as the admin (the QA manager who closes CAPAs), on pipes; `editor`
    is GIT_EDITOR."""
    with team.world.acting(team.admin):
        env = environment()
    for variable in ("GIT_EDITOR", "VISUAL", "EDITOR"):
        env.pop(variable, None)
    env["TERM"] = "xterm-256color"
    if editor is not None:
        env["GIT_EDITOR"] = editor
    done = run(
        [QMS, "-C", team.world.repo, *args],
        cwd=cwd or team.world.repo,
        env=env,
        input="",
        timeout=180,
        check=False,
    )
    return Screen(done.returncode, done.stdout + done.stderr)


def program(desk: Path, body: str) -> str:
    """An editor: a Python program, `body` run with `form` (the file's Path) and `n` (its run,
    from 1) defined; its GIT_EDITOR command."""
    desk.mkdir(parents=True, exist_ok=True)
    script = desk / "editor.py"
    script.write_text(
        "import subprocess, sys\nfrom pathlib import Path\n"
        f"desk = Path({str(desk)!r})\n"
        "n = len(list(desk.glob('run-*'))) + 1\n"
        "if n > 4:\n    sys.exit('opened too many times')\n"
        "(desk / f'run-{n}').write_text(sys.argv[1])\n"
        "form = Path(sys.argv[1])\n"
        "(desk / f'form-{n}.txt').write_bytes(form.read_bytes())\n" + body
    )
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"


def closing(team: Team) -> str:
    """The closing form as a person writes it back: the check, by the admin, on 2026-08-04."""
    return (
        f"effectiveness:\n  result: {RESULT}\n  verdict: effective\n"
        f"  checked_on: '2026-08-04'\n  checked_by: {team.admin.id}\n"
    )


# ---- the schema's default: the closer named as the checker of someone else's check ----------


def test_closing_does_not_name_the_closer_as_checker_of_a_check_someone_else_recorded(
    team: Team,
) -> None:
    """The QA officer records the effectiveness check (result and verdict, in a commit signed
    by them on 2026-07-20); the QA manager closes the CAPA two weeks later with nothing given.
    `x-default: signer|today` then writes the manager as `checked_by` and the closing day as
    `checked_on`: the record says the closer checked the effectiveness on the day of closing,
    which the signed history contradicts (the officer wrote the result, on another day). An
    inspector reads that as self-verification by the approver (ALCOA+ attributable,
    contemporaneous). A default that claims who did a check may only be written when the
    person running the command is recording that check now (its result given in the same
    move); otherwise the move must ask for it (refuse, naming --set)."""
    team.on("2026-07-20")
    edit(team, team.officer, CAPA_FILE, "effectiveness checked", effectiveness=CHECKED)
    team.on("2026-08-04")
    screen = qms_as(team, "advance", CAPA, "--to", "closed", "--no-edit")
    checked = capa(team).get("effectiveness") or {}
    who = (checked.get("checked_by"), checked.get("checked_on"))
    assert who == (None, None) or team.admin.id not in who, (
        f"the closer was written as the checker of a check they did not record: {who}\n"
        + screen.text
    )
    if screen.code != 0:
        assert "effectiveness.checked_by" in screen.flat, screen.text


# ---- the editor's form when what is wrong is not a field the form may give ------------------


def test_a_move_the_form_cannot_give_is_refused_with_its_reason_not_called_abandoned(
    team: Team, tmp_path: Path
) -> None:
    """Action A1 is `done` but its evidence was taken out (a signed edit); the effectiveness
    check is complete. Closing cannot work until A1 has its evidence, which the form does not
    ask for (items of a list are not asked). `--edit` then opens a form with no field and no
    word of what is wrong; closing it (there is nothing to fill in) says 'abandoned: the form
    gave no values'. The reason, which `--no-edit` names, is never shown. What the form cannot
    give must be refused before the editor opens (or shown on the first form), and never be
    reported as the person's own abandoning."""
    team.on("2026-07-20")
    done = actions("done", "cancelled").replace('    evidence: "Checklist v3 in use."\n', "", 1)
    edit(team, team.author, CAPA_FILE, "A1 evidence moved to the batch file", actions=done)
    full = CHECKED + '  checked_on: "2026-07-20"\n  checked_by: m.okafor\n'
    edit(team, team.officer, CAPA_FILE, "effectiveness checked", effectiveness=full)
    team.on("2026-08-04")
    refused = qms_as(team, "advance", CAPA, "--to", "closed", "--no-edit")
    assert refused.code == 1 and "evidence" in refused.flat, refused.text  # the real reason

    editor = ScriptedEditor(tmp_path / "editor")  # a person who finds nothing to fill in
    before = state(team)
    screen = qms_as(team, "advance", CAPA, "--to", "closed", "--edit", editor=editor.command)
    assert state(team) == before
    assert editor.runs == 0 or "# error:" in editor.forms[0], editor.forms[0]
    assert "evidence" in screen.flat, screen.text
    assert "abandoned" not in screen.flat, screen.text


# ---- the form as the editor saved it --------------------------------------------------------


def test_a_form_saved_in_another_encoding_is_an_error_in_the_form_not_an_internal_error(
    team: Team, tmp_path: Path
) -> None:
    """An editor set to Latin-1 (common on hospital desktops) saves 'Prüfung' as one byte
    0xFC: the form is read as UTF-8 without a guard, and `qms advance` stops with 'internal
    error' (exit 3) and a crash log, losing the round. It must reopen the form with an
    `# error:` line (or refuse clearly), as for any other form that cannot be read."""
    latin = (
        f"effectiveness:\n  result: 'Prüfung: {RESULT}'\n  verdict: effective\n"
        f"  checked_on: '2026-08-04'\n  checked_by: {team.admin.id}\n"
    )
    body = (
        f"answer = {latin!r}\n"
        "form.write_bytes(answer.encode('latin-1') if n == 1 else answer.encode('utf-8'))\n"
    )
    editor = program(tmp_path / "editor", body)
    team.on("2026-08-04")
    screen = qms_as(team, "advance", CAPA, "--to", "closed", "--edit", editor=editor)
    assert screen.code != 3 and "internal error" not in screen.flat, screen.text
    assert screen.code == 0, screen.text
    second = (tmp_path / "editor" / "form-2.txt").read_text()
    assert "# error:" in second and "UTF-8" in second, second
    assert capa(team)["state"] == "closed"


# ---- the editor's command line --------------------------------------------------------------


def test_the_editor_is_given_the_form_path_as_is_whatever_the_folder_is_called(
    built: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git runs its editor as `sh -c '<editor> "$@"' <editor> <file>`: the file is an argument,
    never shell text. `click.edit` pastes the path into the shell line inside double quotes,
    so a folder named with `$(...)`, backquotes, `$VAR` or `"` runs that text or breaks the
    path (the editor gets another file, the move fails as 'Editing failed'). `qms revise`
    opens its editor the same way."""
    team = built.copy(tmp_path / "qa$(touch INJECTED)", monkeypatch)
    answer = closing(team)
    editor = ScriptedEditor(tmp_path / "editor", answer)
    team.on("2026-08-04")
    screen = qms_as(team, "advance", CAPA, "--to", "closed", "--edit", editor=editor.command)
    assert not list(tmp_path.rglob("INJECTED")), "the folder's name ran as a command"
    git_dir = Path(team.world.git("rev-parse", "--absolute-git-dir"))
    assert [call["path"] for call in editor.calls] == [str(git_dir / FORM)], screen.text
    assert screen.code == 0, screen.text
    assert capa(team)["state"] == "closed"


# ---- the repository while the form is open --------------------------------------------------


def test_switching_branch_while_the_form_is_open_leaves_the_new_branch_clean(
    team: Team, tmp_path: Path
) -> None:
    """The form may stay open for minutes. When the person switches branch meanwhile (another
    terminal, the IDE), `qms advance` still moves the branch it started on (correct), but then
    writes the closed CAPA into the work tree and index of the branch now checked out: that
    branch shows a staged change no one made, which the next `git commit -a` records there.
    The move must refuse when HEAD is no longer on its branch (nothing changed), or leave the
    checked-out branch's work tree and index as they were."""
    answer = closing(team)
    body = (
        "subprocess.run(['git', 'switch', '-q', '-c', 'elsewhere'], check=True)\n"
        f"form.write_text({answer!r})\n"
    )
    editor = program(tmp_path / "editor", body)
    team.on("2026-08-04")
    start = team.world.head()
    screen = qms_as(team, "advance", CAPA, "--to", "closed", "--edit", editor=editor)
    world = team.world
    assert world.git("symbolic-ref", "--short", "HEAD") == "elsewhere"
    assert world.git("rev-parse", "HEAD") == start
    staged = world.git("status", "--porcelain", "--untracked-files=no")
    assert not staged, f"the checked-out branch got a change no one made:\n{staged}\n{screen.text}"
    assert capa(team)["state"] == "effectiveness-check"


# ---- leaving the editor without saving -------------------------------------------------------


def test_a_form_closed_unchanged_abandons_the_move(team: Team, tmp_path: Path) -> None:
    """The closing form comes with the checker and the day written in (the schema's defaults).
    A person who quits the editor without saving (`:q`, closing the window) leaves it exactly
    as written: it is read as giving `checked_by` and `checked_on`, so it is 'not ready' and
    reopens, and again, for ever; the only ways out are deleting the written-in values by hand
    or making the editor fail. As with `git commit`, a form saved unchanged must abandon the
    move, changing nothing."""
    editor = program(tmp_path / "editor", "pass  # quits without saving\n")
    team.on("2026-08-04")
    before = state(team)
    screen = qms_as(team, "advance", CAPA, "--to", "closed", "--edit", editor=editor)
    runs = len(list((tmp_path / "editor").glob("run-*")))
    assert runs == 1, f"the unchanged form was opened {runs} times\n{screen.text}"
    assert screen.code == 1 and "abandoned" in screen.flat, screen.text
    assert state(team) == before


# ---- the default and separation of duties ----------------------------------------------------


def test_a_default_never_makes_the_closer_an_author_the_policy_then_refuses(team: Team) -> None:
    """A hospital's policy makes closing independent (`closed: {…, independent: true}`). The
    officer records the check, naming themself as checker, and forgets the day. The manager's
    `qms advance --to closed` writes the day by default in a commit of the manager's own, so
    the manager is now an author of the version and the move is refused with 'a.weber changed
    this version and cannot sign it': the manager changed nothing, and the refusal never says
    which field is missing (someone other than the closer must write it). When the signer's
    own default would void the signature it must not be written: refuse naming the field."""
    text = (team.world.repo / "qms.yaml").read_text()
    closing_rule = "qa-officer]}\n    closed: {roles: [qa-manager]}\n"
    assert text.count(closing_rule) == 1, "the template's CAPA signatures moved"
    team.on("2026-07-19")
    independent = "qa-officer]}\n    closed: {roles: [qa-manager], independent: true}\n"
    team.sign_config(text.replace(closing_rule, independent))
    team.on("2026-07-20")
    checked = CHECKED + f"  checked_by: {team.officer.id}\n"
    edit(team, team.officer, CAPA_FILE, "effectiveness checked", effectiveness=checked)
    team.on("2026-08-04")
    before = state(team)
    screen = qms_as(team, "advance", CAPA, "--to", "closed", "--no-edit")
    assert screen.code == 1 and state(team) == before, screen.text
    assert "effectiveness.checked_on" in screen.flat, screen.text
    assert f"{team.admin.id} changed this version" not in screen.flat, screen.text


# ---- qms revise at a desk -------------------------------------------------------------------


@pytest.fixture(scope="module")
def released_built(tmp_path_factory: pytest.TempPathFactory) -> Team:
    from test_acknowledge import released

    return build_team(tmp_path_factory, released)


def test_revise_at_a_desk_asks_again_for_a_change_control_no_record_holds(
    released_built: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the prompt the person picks from the open change controls listed (here: none) and
    mistypes one: `CC-2026-0099`, an ID of the change-control kind that no record holds. It is
    written into the revision without a word; the version is then written, reviewed and only
    at its approval does the gate say `change-control.not-approved`. A paper number (not of the
    kind's form) stays allowed, as the threat model says; an ID of the kind that names no
    record (or a closed one) must be asked again (or refused) at the desk."""
    team = released_built.copy(tmp_path / "team", monkeypatch)
    team.on("2026-03-01")
    with team.world.acting(team.author):
        env = environment()
    env["TERM"] = "xterm-256color"
    screen = on_terminal(
        [QMS, "-C", team.world.repo, "revise", "SOP-0001", "--no-edit"],
        cwd=team.world.repo,
        env=env,
        typed="the logger is read before opening\nCC-2026-0099\n\n",
    )
    assert screen.code in (0, 1, 2), screen.text
    front = (team.world.repo / SOP).read_text().split("\n---\n", 1)[0]
    assert "CC-2026-0099" not in front, screen.text
