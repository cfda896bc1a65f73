"""Histories made by the benchmark generator (benchmarks/synth_repo.py), for tests that need
many commits of every kind: edits, reviews, approvals and signed state changes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from .process import run

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def generated_history(factory: pytest.TempPathFactory, name: str, size: str = "T") -> Path:
    """The repository of a generated history of `size` (T: 20 records, 100 commits)."""
    out = factory.mktemp(name) / size
    generate = [sys.executable, str(BENCH / "synth_repo.py"), "--size", size, "--out", str(out)]
    run(generate, env=dict(os.environ), timeout=300)
    return out / "repo"
