"""Audit trails of many records from one verified walk: every commit that changed or signed
each record, oldest first, in one pass over the history."""

from __future__ import annotations

from collections.abc import Sequence

from .record_log import LogEntry, _verdict_text, summarise
from .signatures.claims import CONFIG_RECORD, record_data
from .signatures.verify import Verdict, Walk


def record_trails(walk: Walk, record_ids: Sequence[str]) -> dict[str, list[LogEntry]]:
    wanted = set(record_ids)
    history = walk.history
    verdicts: dict[tuple[str, str], list[Verdict]] = {}
    signed_in: dict[str, set[str]] = {}
    for verdict in walk.report.verdicts:
        if verdict.record in wanted:
            verdicts.setdefault((verdict.commit, verdict.record), []).append(verdict)
            signed_in.setdefault(verdict.commit, set()).add(verdict.record)
    touched = []
    for step in history.steps:
        records = set(step.records) & wanted
        if CONFIG_RECORD in wanted and step.config is not None:
            records.add(CONFIG_RECORD)
        records |= signed_in.get(step.commit.id, set())
        if records:
            touched.append((step, sorted(records)))
    blobs = history.blobs(
        blob
        for step, records in touched
        for record in records
        for change in [step.config if record == CONFIG_RECORD else step.records.get(record)]
        if change is not None
        for blob in (change.old_blob, change.new_blob)
        if blob
    )
    registry = walk.registry_at(history.steps[-1].commit.id) if history.steps else None
    trails: dict[str, list[LogEntry]] = {record: [] for record in record_ids}
    for step, names in touched:
        commit = step.commit
        for record in names:
            change = step.config if record == CONFIG_RECORD else step.records.get(record)
            summary = ""
            if change is not None:
                old = blobs.get(change.old_blob or "")
                new = blobs.get(change.new_blob or "")
                summary = summarise(
                    record_data(old, record), record_data(new, record), change.status
                )
                if len(commit.parents) > 1:
                    summary = f"merged: {summary}"
            signed = verdicts.get((commit.id, record), [])
            entries = trails[record]
            for verdict in signed:
                entries.append(
                    LogEntry(
                        commit.id,
                        verdict.when,
                        verdict.signer,
                        verdict.email,
                        verdict.meaning,
                        verdict.reason,
                        _verdict_text(verdict),
                        summary or "signature only, no change",
                    )
                )
            if not signed:
                person = registry.config.person_by_email(commit.author.email) if registry else None
                reasons = commit.trailer_values("Reason")
                entries.append(
                    LogEntry(
                        commit.id,
                        commit.author.utc,
                        person.name if person else commit.author.name,
                        commit.author.email,
                        "created" if change is not None and change.status == "A" else "changed",
                        reasons[-1] if reasons else None,
                        "not a signature",
                        summary,
                    )
                )
    return trails
