from __future__ import annotations
import os, sys, json
from pathlib import Path
import pytest
import yaml
from toolkit.team import Team, build_team
from test_advance_fields import reported, DEV, PATH

@pytest.fixture
def team(tmp_path_factory, tmp_path, monkeypatch):
    return build_team(tmp_path_factory, reported).copy(tmp_path, monkeypatch)

def test_show(team: Team, tmp_path: Path, monkeypatch) -> None:
    ed = tmp_path / "ed.py"
    ed.write_text(f"""import sys, shutil, pathlib
d = pathlib.Path({str(tmp_path)!r})
n = len(list(d.glob('form-*.txt')))
shutil.copy(sys.argv[1], d / f'form-{{n}}.txt')
t = pathlib.Path(sys.argv[1]).read_text()
if n == 0:
    t = t.replace('level:', 'level: huge').replace('immediate_actions:', 'immediate_actions: Quarantined the product.')
else:
    t = t.replace('level: huge', 'level: minor').replace('severity:', 'severity: 2').replace('occurrence:', 'occurrence: 2').replace('detectability:', 'detectability: 1').replace('rationale:', 'rationale: No product affected at all.')
pathlib.Path(sys.argv[1]).write_text(t)
""")
    monkeypatch.setenv("GIT_EDITOR", f"{sys.executable} {ed}")
    team.on("2026-02-03")
    out = team.qms(team.officer, "advance", DEV, "--to", "classified", "--edit")
    print(out)
    for f in sorted(tmp_path.glob("form-*.txt")):
        print("=====", f.name); print(f.read_text())
    print((team.world.repo / PATH).read_text())
    assert 0
