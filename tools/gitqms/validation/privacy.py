"""The privacy scan: lines of a record's text that look like they hold a patient identifier.

Built-in patterns (a date of birth, a medical record number) always apply; qms.yaml can add its
own under privacy.forbidden_patterns, never remove these.
"""

from __future__ import annotations

import re

from ..records.config import QmsConfig
from .findings import Finding

Patterns = tuple[tuple[str, re.Pattern[str]], ...]  # (what it finds, pattern)
# Used when qms.yaml cannot be read, so privacy is never checked by nothing.
DEFAULT_FORBIDDEN: Patterns = (
    ("date of birth", re.compile(r"(?i)\b(d\.?o\.?b\.?|date of birth|born on)\s*[:=]?\s*\d")),
    (
        "medical record number",
        re.compile(
            r"(?i)\b(mrn|medical record (no|number)|patient (id|number|no)\.?|hospital number)"
            r"\s*[:#=]?\s*[A-Z]*[0-9][A-Z0-9-]{3,}"
        ),
    ),
)


def lines_matching(text: str, first_line: int, pattern: re.Pattern[str]) -> list[int]:
    """Lines of `text` where `pattern` matches; one search over the whole text."""
    return [first_line + text.count("\n", 0, match.start()) for match in pattern.finditer(text)]


def forbidden_patterns(config: QmsConfig | None) -> Patterns:
    """The built-in patterns always apply; qms.yaml can add to them, never remove them."""
    extra = config.forbidden_patterns if config is not None else ()
    builtin = {pattern.pattern for _, pattern in DEFAULT_FORBIDDEN}
    return DEFAULT_FORBIDDEN + tuple(item for item in extra if item[1].pattern not in builtin)


def scan_privacy(path: str, text: str, patterns: Patterns, record_id: str | None) -> list[Finding]:
    """The lines of `text` that any of `patterns` matches, one finding per line.

    The matching text is never repeated in a finding: it may itself be the identifier.
    """
    flagged: dict[int, str] = {}
    for name, pattern in patterns:
        for line in lines_matching(text, 1, pattern):
            flagged.setdefault(line, name)
    return [
        Finding(
            path=path,
            line=line,
            severity="error",
            code="privacy.patient-identifier",
            message=f"this line looks like it holds a patient identifier ({name})",
            fix="remove it; name a patient only by the chain-of-identity pseudonym (COI)",
            record=record_id,
        )
        for line, name in sorted(flagged.items())
    ]
