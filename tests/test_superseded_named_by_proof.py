"""A superseded mark names who changed the record only as proven.

"The record changed after this signature in C by NAME" tells an auditor who made the change
that voided an approval. NAME must be the registered person whose valid signature on C makes
them its author, never the author name C states, which anyone with push rights writes: an
unsigned change that gives itself the QA officer's name is marked as a change whose author is
not proven, with that name shown as what the commit says; a signed change whose stated author
is someone else is named by its signer. Cold, warm, carried-on walks and the narrow gate
(`GITQMS_GATE=compare` in the suite) all say the same.

The history is SOP-0001 v1 approved by the lifecycle team (tests/toolkit/team.py), with real
keys; the clock is fixed.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime

from test_acknowledge import released
from toolkit.team import Team, cold_copies
from toolkit.world import SOP

CHANGED = "the record changed after this signature in "


built, team = cold_copies(released, datetime(2026, 9, 1, 12, tzinfo=UTC))


def change_as(team: Team, *, signer: Team | None, name: str, email: str) -> str:
    """A change of SOP-0001 committed by the team's author, stating `name <email>` as its
    author and committer; signed by the author's key when `signer` is given."""
    world = team.world
    path = world.repo / SOP
    path.write_text(path.read_text().replace("logger first", "logger and seal first"))
    team.on("2026-03-02")
    identity = {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        **(
            {} if signer is not None else {"GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
        ),
    }
    with world.acting(team.author):
        world.git("add", SOP)
        world.git(
            "commit",
            "-q",
            *world.sign_args(team.author, signer is not None),
            *("-m", "Edit the SOP", "-m", "Reason: seal the shipper"),
            env={**(team.author.signing_env() if signer is not None else {}), **identity},
        )
    return world.head()


def approval_marks(team: Team, *, ok: bool = True) -> list[str]:
    """The superseded marks of SOP-0001's approvals, as `qms verify --format json` gives them
    (`ok=False`: verify finds an invalid signature, such as the unsigned change's)."""
    report = json.loads(team.qms(team.admin, "verify", "--format", "json", ok=ok))
    return [
        v["superseded"]
        for v in report["signatures"]
        if v["record"] == "SOP-0001" and v["meaning"] == "approved"
    ]


def log_verdicts(team: Team) -> list[str]:
    entries = json.loads(team.qms(team.admin, "log", "SOP-0001", "--format", "json"))
    return [e["verdict"] for e in entries["entries"] if CHANGED in (e["verdict"] or "")]


def test_an_unsigned_change_in_the_officers_name_is_not_said_to_be_by_the_officer(
    team: Team,
) -> None:
    officer = team.officer
    change = change_as(team, signer=None, name=officer.name, email=officer.email)
    marks = approval_marks(team, ok=False)  # cold: the walk is made and stored
    expected = (
        f"{CHANGED}{change[:12]}, whose author is not proven (the commit names "
        f"{officer.name}); it covers earlier content"
    )
    assert marks == [expected]
    assert f"by {officer.name}" not in marks[0]
    assert approval_marks(team, ok=False) == marks  # warm: read back from the history index
    assert log_verdicts(team) and all(expected in v for v in log_verdicts(team))


def test_a_signed_change_is_named_by_its_signer_not_by_the_author_it_states(
    team: Team,
) -> None:
    officer = team.officer
    change = change_as(team, signer=team, name=officer.name, email=officer.email)
    expected = f"{CHANGED}{change[:12]} by {team.author.name}; it covers earlier content"
    assert approval_marks(team) == [expected]
    shutil.rmtree(team.world.repo / ".git" / "qms")
    assert approval_marks(team) == [expected]
    assert log_verdicts(team) and all(expected in v for v in log_verdicts(team))
