"""The verification report as data: what `qms verify --format json` prints and an archive keeps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .. import git
from ..history.receipts import DatedReceipt, dated_receipts
from ..signatures.claims import is_document
from ..signatures.verify import Report, Verdict, verify_history
from ..text import plural, printable


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    """One signature's verdict."""
    return {
        "commit": verdict.commit,
        "date": verdict.when.isoformat(),
        "record": verdict.record,
        "version": verdict.version,
        "meaning": verdict.meaning,
        "reason": verdict.reason,
        "signer": verdict.signer,
        "email": verdict.email,
        "person": verdict.person,
        "role": verdict.role,
        "key": verdict.fingerprint,
        "status": verdict.status,
        "problems": list(verdict.problems),
        "superseded": verdict.superseded,
    }


def verification_json(
    report: Report, receipts: Mapping[str, DatedReceipt] | None
) -> dict[str, Any]:
    """Every verdict, with the server's receipt and its date flag where receipts were fetched
    (`receipts` None: they were not, and the keys are left out)."""
    signatures = [verdict_json(v) for v in report.verdicts]
    if receipts is not None:
        for verdict, entry in zip(report.verdicts, signatures, strict=True):
            dated = receipts.get(verdict.commit)
            entry["receipt"] = dated.receipt.to_json() if dated else None
            entry["date_flag"] = dated.flag if dated else None
    value: dict[str, Any] = {
        "commits": report.commits,
        "trust_root": report.trust_root,
        "signatures": signatures,
        "failures": len(report.failures),
        "notes": report.notes,
    }
    if receipts is not None:
        value["date_flags"] = sum(1 for d in receipts.values() if d.flag)
    return value


def verify_revisions(
    root: Path, revisions: Sequence[str], trust_root: str | None
) -> dict[str, Any]:
    """`qms verify --format json` of `revisions` (revisions or ranges, checked first): every
    signature judged, with the server's receipt and its date flag where the repository holds
    the receipts. The trust root is the one given, else as `qms verify` finds it."""
    report = verify_history(root, git.expand_range(root, revisions), trust_root=trust_root)
    return verification_json(report, dated_receipts(root, [v.commit for v in report.verdicts]))


@dataclass(frozen=True)
class Line:
    """One line of the report for people: `lead` (a signature's status, padded) is what a
    terminal colours by `kind`; `text` is the rest, with control characters made visible."""

    lead: str
    text: str
    kind: str  # valid, superseded, invalid (a signature), detail, flag, note, ok, failed


def verification_lines(value: Mapping[str, Any]) -> list[Line]:
    """The report of `verification_json` as `qms verify` prints it."""
    lines = []
    for signature in value["signatures"]:
        when = datetime.fromisoformat(signature["date"])
        version = signature["version"]
        if version:  # a document's version (an SOP's); a record's state (a CAPA's)
            version = f" v{version}" if is_document(signature["record"]) else f" [{version}]"
        head = (
            f" {signature['commit'][:12]} {when:%Y-%m-%d %H:%M}Z "
            f"{signature['record']}{version or ''} {signature['meaning']} by {signature['signer']}"
        )
        lines.append(Line(f"{signature['status']:<10}", printable(head), signature["status"]))
        details = [*signature["problems"], signature["superseded"]]
        lines += [Line("", printable(f"    {d}"), "detail") for d in details if d]
        receipt = signature.get("receipt")
        if receipt:
            lines.append(Line("", printable(receipt_line(receipt)), "detail"))
            if signature.get("date_flag"):
                lines.append(Line("", printable(f"    {signature['date_flag']}"), "flag"))
    lines += [Line("", printable(f"note: {note}"), "note") for note in value["notes"]]
    summary = (
        f"{plural(value['commits'], 'commit')}, "
        f"{plural(len(value['signatures']), 'signature')}, {value['failures']} invalid"
    )
    if value.get("date_flags"):
        summary += f", {value['date_flags']} with a date far from its receipt"
    if value["trust_root"]:
        summary += f"; trust root {value['trust_root'][:12]}"
    lines.append(Line("", summary, "failed" if value["failures"] else "ok"))
    return lines


def receipt_line(receipt: Mapping[str, Any]) -> str:
    """A server receipt as shown under a signature or change."""
    received = datetime.fromisoformat(receipt["received"])
    where = [w for w in (receipt["ref"], receipt["pusher"] and f"by {receipt['pusher']}") if w]
    where += [f"from {receipt['address']}"] if receipt["address"] else []
    return f"    received {received:%Y-%m-%d %H:%M:%S}Z" + (
        f" ({', '.join(where)})" if where else ""
    )
