"""One base exception and the exit codes every command shares."""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    OK = 0
    FINDINGS = 1  # findings, rule violations, failed signatures
    USAGE = 2  # bad options or input the user must correct
    INTERNAL = 3  # a defect in gitqms; a crash log is written


class QmsError(Exception):
    """A failure the user can act on: the message says what failed and what to do."""

    exit_code: Exit = Exit.USAGE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  fix: {self.hint}" if self.hint else self.message


class Refused(QmsError):
    """A rule forbids what was asked (a signature that would not count, a key reuse)."""

    exit_code = Exit.FINDINGS


class RepositoryNotFound(QmsError):
    """No qms.yaml in the directory or any parent."""


class GitError(QmsError):
    """A git command failed; the message carries git's own words."""
