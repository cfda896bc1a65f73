"""The `qms` command line as the tests call it: in-process through click's runner, or as the
installed command in its own process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from click.testing import CliRunner, Result

from gitqms.cli.main import cli

from .process import run

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_PARTS = ("qms.yaml", "sops", "capa", "deviations")
QMS = Path(sys.executable).with_name("qms")


def qms(*args: str | Path, repo: Path | None = None) -> Result:
    """Run the CLI in-process, as a user would call it; stderr kept apart from stdout."""
    argv = [str(arg) for arg in args]
    if repo is not None:
        argv = ["--repo", str(repo), *argv]
    return CliRunner(mix_stderr=False).invoke(cli, argv, catch_exceptions=False)


def qms_command(
    *args: str | Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """The real `qms` command in its own process, started in `cwd` as a user types it: its
    exit code, stdout and stderr as a terminal receives them."""
    assert QMS.is_file(), f"the qms command is not installed beside {sys.executable}"
    return run([QMS, *args], cwd=cwd, env=env, timeout=timeout, check=check)


def qms_cli(
    repo: Path, *args: str | Path, env: Mapping[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """The real `qms` command, in a subprocess, on `repo`."""
    return qms_command("-C", repo, *args, env=env, check=check)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
