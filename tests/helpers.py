"""Helpers the tests import: the CLI runner and file writers."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from gitqms.cli.main import cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_PARTS = ("qms.yaml", "sops", "capa", "deviations")


def qms(*args: str | Path, repo: Path | None = None) -> Result:
    """Run the CLI in-process, as a user would call it; stderr kept apart from stdout."""
    argv = [str(arg) for arg in args]
    if repo is not None:
        argv = ["--repo", str(repo), *argv]
    return CliRunner(mix_stderr=False).invoke(cli, argv, catch_exceptions=False)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
