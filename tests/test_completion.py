"""Shell completion as the shells drive it, and `qms --help` grouped by who uses the commands.

Completion is asked for the way bash's script asks: the installed `qms` in its own process,
with `_QMS_COMPLETE=bash_complete`, the words typed so far in `COMP_WORDS` and the index of the
word being completed in `COMP_CWORD`; it answers one `type,value` line per suggestion.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from gitqms.cli.main import COMMANDS, GROUPS, cli
from toolkit.cli import QMS, qms, qms_command
from toolkit.process import environment


def complete(words: str, *, cwd: Path, shell: str = "bash") -> list[str]:
    """The values offered for the last word of `words` (a trailing space: a new empty word)."""
    split = words.split(" ")
    env = environment(
        _QMS_COMPLETE=f"{shell}_complete", COMP_WORDS=words, COMP_CWORD=str(len(split) - 1)
    )
    done = qms_command(cwd=cwd, env=env, timeout=60)
    assert done.stderr == "", done.stderr
    lines = [line for line in done.stdout.splitlines() if line]
    assert all(line.startswith(("plain,", "file,", "dir,")) for line in lines), lines
    return [line.split(",", 1)[1] for line in lines]


def test_record_ids_are_offered_for_commands_that_take_records(example: Path) -> None:
    everything = complete("qms status ", cwd=example)
    assert {"SOP-0001", "CAPA-2026-0002", "DEV-2026-0003"} <= set(everything)
    assert complete("qms sign SOP-000", cwd=example) == [f"SOP-000{n}" for n in range(1, 10)]
    assert "SOP-0001" not in complete("qms approve SOP-0001 SOP-000", cwd=example)
    assert complete("qms log CAPA-2026-000", cwd=example)[:2] == [
        "CAPA-2026-0001",
        "CAPA-2026-0002",
    ]
    assert "qms.yaml" in complete("qms log ", cwd=example)
    # acknowledge and training --document: documents only; advance: records with states
    documents = complete("qms acknowledge ", cwd=example)
    assert "SOP-0003" in documents and not any(d.startswith(("CAPA", "DEV")) for d in documents)
    assert complete("qms training --document SOP-001", cwd=example) == ["SOP-0010", "SOP-0011"]
    stateful = complete("qms advance ", cwd=example)
    assert "CAPA-2026-0004" in stateful and not any(s.startswith("SOP") for s in stateful)
    assert complete("qms new capa --ref DEV-2026-000", cwd=example)[0] == "DEV-2026-0001"


def test_advance_offers_the_states_the_record_may_move_to(example: Path) -> None:
    # CAPA-2026-0002 is in implementation: on to the effectiveness check, or cancelled
    assert complete("qms advance CAPA-2026-0002 --to ", cwd=example) == [
        "effectiveness-check",
        "cancelled",
    ]
    assert complete("qms advance CAPA-2026-0001 --to ", cwd=example) == ["action-plan"]  # reopen
    every = complete("qms advance --to ", cwd=example)  # no record yet: every state
    assert {"initiated", "root-cause", "investigation", "closed"} <= set(every)


def test_meanings_people_audiences_and_kinds_are_offered(example: Path) -> None:
    meanings = complete("qms sign --meaning ", cwd=example)
    assert {"reviewed", "approved", "analysis-started", "read-and-understood"} <= set(meanings)
    for_sop = complete("qms sign SOP-0001 --meaning ", cwd=example)
    assert "approved" in for_sop and "analysis-started" not in for_sop
    people = complete("qms training --person ", cwd=example)
    assert {"a.weber", "m.okafor", "k.otieno"} <= set(people)
    assert complete("qms people set a.", cwd=example) == ["a.weber"]
    assert complete("qms keys add m", cwd=example) == ["m.okafor"]
    assert complete("qms new sop --owner l.", cwd=example) == ["l.santos"]
    assert "nurses" in complete("qms training --audience ", cwd=example)
    assert complete("qms people add x --audience pharmacy", cwd=example) == ["pharmacy-technicians"]
    kinds = complete("qms new ", cwd=example)
    assert {"sop", "capa", "deviation"} <= set(kinds) and "audit-review" not in kinds
    assert complete("qms list --kind dev", cwd=example) == ["deviation"]


def test_commands_and_the_repo_option(example: Path, tmp_path: Path) -> None:
    assert complete("qms si", cwd=example) == ["sign"]
    assert set(complete("qms ", cwd=example)) == set(COMMANDS)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert complete(f"qms -C {example} sign SOP-001", cwd=elsewhere) == ["SOP-0010", "SOP-0011"]


def test_completion_never_fails_loudly(example: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    assert complete("qms sign ", cwd=outside) == []  # no repository: nothing, and no error
    assert complete("qms training --person ", cwd=outside) == []
    assert "sop" in complete("qms new ", cwd=outside)  # the packaged kinds
    (example / "qms.yaml").write_text("people: [unclosed\n", encoding="utf-8")
    assert complete("qms training --person ", cwd=example) == []
    assert complete("qms advance CAPA-2026-0002 --to ", cwd=example) != []  # the kind's own
    (example / "capa" / "CAPA-2026-0002.yaml").write_bytes(b"\xff\xfe not text")
    assert complete("qms advance CAPA-2026-0002 --to ", cwd=example) == []


def test_zsh_and_fish_answers(example: Path) -> None:
    env = environment(
        _QMS_COMPLETE="zsh_complete", COMP_WORDS="qms advance CAPA-2026-0002 --to ", COMP_CWORD="4"
    )
    zsh = qms_command(cwd=example, env=env).stdout.splitlines()
    assert zsh[:3] == ["plain", "effectiveness-check", "signed 'reviewed'"]
    env = environment(
        _QMS_COMPLETE="fish_complete", COMP_WORDS="qms people set a.", COMP_CWORD="a."
    )
    fish = qms_command(cwd=example, env=env).stdout.splitlines()
    assert fish == ["plain,a.weber\tDr. Anna Weber"]


def test_completing_a_command_loads_only_that_command(example: Path) -> None:
    """Completion stays within the lazy loading: no site, and no other command's module."""
    probe = (
        # main() ends the process when the command is done: the group itself, as main calls it
        "import sys\nfrom gitqms.cli.main import cli\ntry:\n    cli(prog_name='qms')\n"
        "except SystemExit:\n    pass\nprint(sorted(m for m in sys.modules if m.startswith(('gitqms.cli.', "
        "'gitqms.site', 'mkdocs'))))"
    )
    for words, own in (
        ("qms status ", "status"),
        ("qms sign --meaning ", "signing"),
        ("qms advance CAPA-2026-0002 --to ", "advance"),
        ("qms ", None),
    ):
        env = environment(
            _QMS_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD=str(words.count(" "))
        )
        done = subprocess.run(
            [sys.executable, "-c", probe], cwd=example, env=env, capture_output=True, text=True
        )
        loaded = ast.literal_eval(done.stdout.splitlines()[-1])
        assert not [m for m in loaded if m.startswith(("gitqms.site", "mkdocs"))], loaded
        commands = {m.rsplit(".", 1)[1] for m in loaded} & {
            t.split(":")[0] for t in COMMANDS.values()
        }
        assert commands == ({own} if own else set()), (words, loaded)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_completion_command_prints_the_shell_script(shell: str) -> None:
    result = qms("completion", shell)
    assert result.exit_code == 0
    assert "_QMS_COMPLETE" in result.stdout and f"{shell}_complete" in result.stdout
    assert "qms" in result.stdout


def test_click_prints_the_same_script_itself(tmp_path: Path) -> None:
    env = environment(_QMS_COMPLETE="bash_source")
    native = qms_command(cwd=tmp_path, env=env).stdout
    assert native.strip() == qms("completion", "bash").stdout.strip()


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_sources_the_script_and_completes(example: Path) -> None:
    script = qms("completion", "bash").stdout
    (example.parent / "qms.bash").write_text(script, encoding="utf-8")
    env = environment(PATH=f"{QMS.parent}:{environment().get('PATH', '')}")
    registered = subprocess.run(
        ["bash", "-c", "source ../qms.bash && complete -p qms"],
        cwd=example,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert registered.returncode == 0, registered.stderr
    assert "_qms_completion" in registered.stdout and registered.stdout.rstrip().endswith("qms")
    # the function itself, as bash calls it on TAB: with the command's name
    asked = (
        "source ../qms.bash; COMP_WORDS=(qms advance CAPA-2026-0002 --to ''); COMP_CWORD=4; "
        "_qms_completion qms; printf '%s\\n' \"${COMPREPLY[@]}\""
    )
    offered = subprocess.run(
        ["bash", "-c", asked], cwd=example, env=env, capture_output=True, text=True, timeout=60
    )
    assert offered.stdout.split() == ["effectiveness-check", "cancelled"], offered.stderr


def test_help_lists_every_command_once_under_a_group() -> None:
    grouped = [name for names in GROUPS.values() for name in names]
    assert sorted(grouped) == sorted(COMMANDS), "every command in exactly one group"
    text = qms("--help").stdout
    sections = text.split("\n\n")
    seen: list[str] = []
    for group in GROUPS:
        (section,) = [s for s in sections if s.startswith(f"{group} commands:")]
        names = [line.split()[0] for line in section.splitlines()[1:]]
        assert names == list(GROUPS[group])
        seen += names
    assert sorted(seen) == sorted(COMMANDS)
    assert "\nCommands:" not in text  # click's own ungrouped list is gone
    assert set(cli.list_commands(click.Context(cli))) == set(COMMANDS)
