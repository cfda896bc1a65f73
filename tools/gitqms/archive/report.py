"""The verification report an archive keeps: `qms verify --format json` of the archived tip, and
the same report as text for people. Both are functions of the history alone, so a restored
copy of the history must give them again byte for byte."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..audit.verification import verification_lines, verify_revisions


def verification_report(root: Path, tip: str, trust_root: str | None) -> dict[str, Any]:
    """`qms verify --format json` of `tip`'s whole history, with the server's receipts where
    the repository holds them. The trust root is the one given, else as `qms verify` finds it."""
    return verify_revisions(root, [tip], trust_root)


def render_json(report: dict[str, Any]) -> bytes:
    """The bytes `qms verify --format json` prints (ASCII only: record text arrives escaped)."""
    return (json.dumps(report, indent=2, ensure_ascii=True) + "\n").encode("ascii")


def render_text(report: dict[str, Any], tip: str) -> bytes:
    """The report as `qms verify` prints it (without colour), under a heading naming the
    archived tip and the trust root."""
    lines = [
        f"Signature verification (qms verify) of the history of {tip}",
        f"from the trust root {report['trust_root']}",
        "",
    ]
    lines += [line.lead + line.text for line in verification_lines(report)]
    return ("\n".join(lines) + "\n").encode("utf-8")
