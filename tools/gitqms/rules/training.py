"""The gate's training-session rules (the kind whose `special` is "training-session"):

- `training.trainer`, `training.held-after-recording`, `training.attendee`,
  `training.not-in-audience`, `training.not-approved`, `training.invalid`: a session signed
  `recorded` in the range breaks a rule of the kind (lifecycle/session_rules.py), so it trains
  no one;
- `training.changed-after-recording`: a recorded session was changed (special.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from ..history.read import Step
from ..lifecycle.change_control import reader
from ..lifecycle.session_rules import session_kind, session_problems
from ..lifecycle.sessions import document_standing, recording_meanings
from ..lifecycle.signed import signed_contents
from ..records.kinds import kind_of_id
from ..signatures.claims import record_data
from ..signatures.verify import Verdict, Walk
from .change_control import ConfigAt, Found
from .violations import Breach


def training_rules(
    walk: Walk,
    steps: Sequence[Step],
    verdicts: Mapping[str, Sequence[Verdict]],
    config_at: ConfigAt,
) -> Iterator[Found]:
    """The training-session breaches of the recordings signed in the commits `steps`."""
    kind = session_kind()
    if kind is None:
        return
    recordings = [
        verdict
        for step in steps
        for verdict in verdicts.get(step.commit.id, ())
        if verdict.ok and kind_of_id(verdict.record) is kind and _recording(verdict, config_at)
    ]
    if not recordings:
        return
    read = reader(walk)
    sessions = {v.commit: record_data(read(v.commit, v.record), v.record) for v in recordings}
    signed = signed_contents(walk)  # the documents and the change controls they are released under
    for verdict in recordings:
        data, config = sessions[verdict.commit], config_at(verdict.commit)
        if not isinstance(data, dict) or config is None or verdict.person is None:
            continue  # the schema and the signature rules report these
        standing = document_standing(walk, signed, config)
        day = verdict.when.date()
        for problem in session_problems(
            verdict.record, data, verdict.person, config, day, standing
        ):
            yield Found(
                verdict.commit,
                verdict.record,
                Breach(
                    problem.code,
                    f"the session {verdict.record} recorded by {verdict.signer} trains no one: "
                    f"{problem.message}",
                    problem.fix,
                ),
            )


def _recording(verdict: Verdict, config_at: ConfigAt) -> bool:
    config = config_at(verdict.commit)
    return config is not None and verdict.meaning in recording_meanings(config)
