"""The MkDocs configuration builds, strictly, with nothing loaded from the internet."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from toolkit.cli import ROOT
from toolkit.process import run


def test_mkdocs_builds_strict_and_offline(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", site],
        cwd=ROOT,
        env=dict(os.environ),
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    index = (site / "index.html").read_text()
    assert "gitqms" in index
    assert (site / "cli" / "index.html").is_file()
    for page in site.rglob("*.html"):
        remote = re.findall(r'(?:src|href)="(https?://[^"]+\.(?:js|css|woff2?))"', page.read_text())
        assert not remote, f"{page} loads {remote} from the internet"
    assert "fonts.googleapis" not in index
