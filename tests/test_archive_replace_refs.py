"""Replace refs stay out of archives, and a restore is immune to them.

`git replace` makes plain git show another object in place of one that was committed: an
approved SOP's text, say. gitqms reads history as committed, so its verdicts never changed; but
an archive that bundled refs/replace/* gave whoever restores it as its README says the forged
text, while `qms archive verify` said OK. An archive now leaves them out, its README restores
with replace refs turned off, and `archive verify` names any a bundle carries.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from gitqms.archive import ARCHIVE_JSON, manifest, render_archive_json, seal
from toolkit.cli import QMS
from toolkit.process import clean_env, git, run
from toolkit.world import SOP, World

FORGED = "Store the product at room temperature."


def approved_then_replaced(world: World) -> tuple[str, str]:
    """SOP-0001 reviewed and approved; then an insider points refs/replace/<its blob> at a
    forged text. Returns (the approved text, the approved blob)."""
    admin, reviewer = world.people["a.weber"], world.people["m.okafor"]
    world.qms(reviewer, "review", "SOP-0001", "--reason", "content checked")
    world.qms(admin, "approve", "SOP-0001", "--reason", "released")
    true_text = world.content(SOP).decode()
    blob = world.git("rev-parse", f"HEAD:{SOP}")
    forged = world.git("hash-object", "-w", "--stdin", input=true_text + f"\n{FORGED}\n")
    world.git("replace", blob, forged)
    assert FORGED in world.git("show", f"HEAD:{SOP}")  # plain git is fooled in the repository
    return true_text, blob


def heads(bundle: Path) -> dict[str, str]:
    listed = run(["git", "bundle", "list-heads", bundle]).stdout
    return {ref: oid for oid, ref in (line.split(" ", 1) for line in listed.splitlines())}


def restore_as_the_readme_says(archive: Path, scratch: Path) -> None:
    """Every git command of step 2 of README.txt, run as written (/tmp moved to `scratch`)."""
    readme = (archive / "README.txt").read_text()
    step = readme.split("2. Check and restore the history")[1].split("3. Check the signatures")[0]
    commands = [
        line.strip().split("   ")[0].strip()
        for line in step.splitlines()
        if line.startswith("    git ")
    ]
    assert len(commands) >= 6, commands
    for command in commands:
        command = command.replace("/tmp/", f"{scratch}/")
        result = subprocess.run(
            ["bash", "-c", command],
            cwd=archive,
            env=clean_env(PWD=str(archive)),
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, (command, result.stderr)


def shown(repo: Path, name: str) -> str:
    """What plain git shows for `name` in a restored repository (no gitqms in between)."""
    return run(["git", "-C", repo, "show", name], env=clean_env()).stdout


def verify(folder: Path) -> subprocess.CompletedProcess[str]:
    return run([QMS, "archive", "verify", folder], check=False)


def test_an_archive_leaves_replace_refs_out_and_restores_the_true_text(
    world: World, tmp_path: Path
) -> None:
    true_text, blob = approved_then_replaced(world)
    out = tmp_path / "archive"
    run([QMS, "-C", world.repo, "archive", out, "--date", "2026-06-01"])

    refs = heads(out / "repository.bundle")
    assert not [ref for ref in refs if ref.startswith("refs/replace/")], refs
    meta = json.loads((out / ARCHIVE_JSON).read_text())
    assert not [ref for ref in meta["refs"] if ref.startswith("refs/replace/")]

    restore_as_the_readme_says(out, tmp_path)
    for restored in (tmp_path / "restored", tmp_path / "restored.git"):
        assert shown(restored, f"HEAD:{SOP}") == true_text
    assert (tmp_path / "restored" / SOP).read_text() == true_text
    checked = verify(out)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert run(["git", "-C", tmp_path / "restored.git", "cat-file", "-e", blob]).returncode == 0


def test_a_bundle_carrying_replace_refs_fails_verify_and_a_restore_ignores_them(
    world: World, tmp_path: Path
) -> None:
    """The strongest attacker without the manifest's anchor: the bundle swapped for one that
    carries the replace ref, manifest and archive.json recomputed and resealed to match."""
    true_text, blob = approved_then_replaced(world)
    out = tmp_path / "archive"
    run([QMS, "-C", world.repo, "archive", out, "--date", "2026-06-01"])

    bundle = out / "repository.bundle"
    bundle.unlink()
    git(world.repo, "bundle", "create", "--quiet", str(bundle), "--all")
    refs = heads(bundle)
    assert f"refs/replace/{blob}" in refs
    manifest.write(out)
    value = json.loads((out / ARCHIVE_JSON).read_text())
    value["refs"] = refs
    value["manifest_sha256"] = manifest.file_sha256(out / "manifest.sha256")
    value["seal_sha256"] = seal(value)
    (out / ARCHIVE_JSON).write_bytes(render_archive_json(value))

    checked = verify(out)
    output = checked.stdout + checked.stderr
    assert checked.returncode == 1, output
    assert f"refs/replace/{blob}" in output and "replace" in output

    restore_as_the_readme_says(out, tmp_path)
    for restored in (tmp_path / "restored", tmp_path / "restored.git"):
        assert shown(restored, f"HEAD:{SOP}") == true_text
    assert FORGED not in (tmp_path / "restored" / SOP).read_text()
