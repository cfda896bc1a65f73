"""Review of cli/main.py main(): `qms` started with its standard output or error closed
(`qms ... >&-`, as cron or a daemon may start it) ends as it did before os._exit: the exit
code of the command, and no traceback (Python sets sys.stdout or sys.stderr to None then)."""

from __future__ import annotations

import subprocess

import pytest

from toolkit.cli import QMS
from toolkit.process import environment

CLOSED = {"stdout": ">&-", "stderr": "2>&-", "both": ">&- 2>&-"}


def closed(args: list[str], which: str) -> subprocess.CompletedProcess[str]:
    """`qms ARGS` with `which` of its standard files closed; stderr captured unless closed."""
    script = f'exec "$0" "$@" {CLOSED[which]}'
    return subprocess.run(
        ["sh", "-c", script, str(QMS), *args],
        env=environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("which", ["stdout", "stderr", "both"])
def test_version_with_a_standard_file_closed_exits_0(which: str) -> None:
    result = closed(["--version"], which)
    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.parametrize("which", ["stdout", "both"])
def test_a_usage_error_with_a_standard_file_closed_exits_2(which: str) -> None:
    result = closed(["no-such-command"], which)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
