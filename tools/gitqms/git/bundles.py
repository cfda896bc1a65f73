"""Archives: bundles of every ref, checked and restored elsewhere with no hook run."""

from __future__ import annotations

from pathlib import Path

from .runner import run

REPLACE_REFS = "refs/replace/"  # each makes plain git show another object for the one named

# A restore runs no hook of the user's config or template folder (reference-transaction runs
# on every ref a clone writes): no program but git itself acts on an archive.
_NO_HOOKS = ("-c", "core.hooksPath=/dev/null")


def bundle_create(cwd: Path, bundle: Path) -> None:
    """A bundle of every ref of the repository (notes and tags too) and HEAD, at `bundle`;
    never a replace ref, with which a restored copy would show objects other than committed."""
    args = ["bundle", "create", "--quiet", str(bundle), f"--exclude={REPLACE_REFS}*", "--all"]
    run(cwd, args)


def bundle_heads(cwd: Path, bundle: Path) -> dict[str, str]:
    """The refs a bundle holds -> their object ids, as its header lists them."""
    output = run(cwd, ["bundle", "list-heads", str(bundle)]).stdout
    return {ref: oid for oid, _, ref in (line.partition(" ") for line in output.splitlines())}


def bundle_problem(bundle: Path, empty_repository: Path) -> str | None:
    """git's words when `bundle verify` rejects it, else None. It needs a repository to run in
    (an empty one suits a complete bundle); it checks the header, not the pack."""
    result = run(empty_repository, ["bundle", "verify", "--quiet", str(bundle)], check=False)
    return None if result.returncode == 0 else result.stderr.strip() or "bundle verify failed"


def init_bare(path: Path) -> None:
    run(path.parent, [*_NO_HOOKS, "init", "--quiet", "--template=", "--bare", str(path)])


def clone_mirror_problem(source: Path, target: Path) -> str | None:
    """Clone every ref of `source` (a bundle or repository) into a new bare `target`; git's
    words if it fails. index-pack recomputes every object id from its content on the way."""
    args = [*_NO_HOOKS, "clone", "--quiet", "--template=", "--mirror", "--no-hardlinks"]
    result = run(target.parent, [*args, str(source), str(target)], check=False)
    return None if result.returncode == 0 else result.stderr.strip() or "clone failed"


def fsck_problem(cwd: Path) -> str | None:
    """git's words when `fsck --full` finds a broken or missing object, else None."""
    args = ["fsck", "--full", "--no-dangling", "--no-progress"]
    result = run(cwd, args, check=False)
    return None if result.returncode == 0 else result.stderr.strip() or "fsck failed"


def checkout_from_bundle(bundle: Path, tip: str, target: Path) -> None:
    """A new repository at `target` (an empty folder) holding every ref of `bundle`, with `tip`
    checked out detached and no hook run: exactly the committed files, nothing untracked."""
    run(target, [*_NO_HOOKS, "init", "--quiet", "--template="])
    fetch = ["fetch", "--quiet", "--update-head-ok", str(bundle), "refs/*:refs/*"]
    run(target, [*_NO_HOOKS, *fetch])
    run(target, [*_NO_HOOKS, "checkout", "--quiet", "--detach", tip])
