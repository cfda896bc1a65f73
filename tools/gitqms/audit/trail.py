"""Audit trails of many records from one verified walk: every commit that changed or signed
each record, oldest first, in one pass over the history."""

from __future__ import annotations

from collections.abc import Sequence

from ..history.read import Step
from ..signatures.claims import CONFIG_RECORD
from ..signatures.verify import Walk
from .record_log import LogEntry, change_of, trail_entries


def record_trails(walk: Walk, record_ids: Sequence[str]) -> dict[str, list[LogEntry]]:
    wanted = set(record_ids)
    signed_in: dict[str, set[str]] = {}
    for verdict in walk.report.verdicts:
        if verdict.record in wanted:
            signed_in.setdefault(verdict.commit, set()).add(verdict.record)
    touched: list[tuple[Step, str]] = []
    for step in walk.history.steps:
        records = {record for record in step.records if record in wanted}
        if CONFIG_RECORD in wanted and change_of(step, CONFIG_RECORD) is not None:
            records.add(CONFIG_RECORD)
        records |= signed_in.get(step.commit.id, set())
        touched.extend((step, record) for record in sorted(records))
    trails: dict[str, list[LogEntry]] = {record: [] for record in record_ids}
    for _, record, entries in trail_entries(walk, touched):
        trails[record].extend(entries)
    return trails
