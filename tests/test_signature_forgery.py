"""Forgeries that go through git's history structure: merges, extra roots, parents, dates."""

from __future__ import annotations

import json
import re

from toolkit.world import SOP, World


def verdict_of(world: World, commit: str) -> dict[str, object]:
    report = json.loads(world.qms(world.people["a.weber"], "verify", "--format", "json", ok=False))
    return next(v for v in report["signatures"] if v["commit"] == commit)


def fingerprint_of(world: World, person_id: str) -> str:
    keys = json.loads(world.qms(world.people["a.weber"], "keys", "list", "--format", "json"))
    return next(k["fingerprint"] for k in keys["keys"] if k["person"] == person_id)


def test_a_merge_cannot_bring_back_a_registry_from_before_a_revocation(world: World) -> None:
    admin, reviewer = world.people["a.weber"], world.people["m.okafor"]
    before = world.head()
    world.qms(
        admin, "keys", "revoke", "m.okafor", fingerprint_of(world, "m.okafor"), "--reason", "stolen"
    )
    old_tree = world.git("rev-parse", f"{before}^{{tree}}")
    merge = world.git("commit-tree", old_tree, "-p", "HEAD", "-p", before, "-m", "merge")
    world.git("update-ref", "refs/heads/main", merge)
    world.git("reset", "-q", "--hard")
    trailers = world.trailers("SOP-0001", SOP, "reviewed", version="1")
    signed = world.raw_commit(reviewer, trailers)
    assert "the key was revoked on" in str(verdict_of(world, signed)["problems"])
    unsigned_change = verdict_of(world, merge)
    assert "without an admin's signature" in str(unsigned_change["problems"])


def test_a_second_history_introducing_qms_yaml_makes_the_root_ambiguous(world: World) -> None:
    admin = world.people["a.weber"]
    root = world.git("rev-list", "--max-parents=0", "HEAD")
    orphan = world.git("commit-tree", world.git("rev-parse", "HEAD^{tree}"), "-m", "other root")
    merge = world.git("commit-tree", "HEAD^{tree}", "-p", orphan, "-p", "HEAD", "-m", "merge")
    world.git("update-ref", "refs/heads/main", merge)
    out = world.qms(admin, "verify", ok=False)
    assert "the trust root is ambiguous" in out and "qms.trustRoot" in out
    world.git("config", "qms.trustRoot", root)
    report = json.loads(world.qms(admin, "verify", "--format", "json", ok=False))
    assert report["trust_root"] == root


def test_registry_edits_refuse_to_sign_an_unauthorised_change(world: World) -> None:
    admin = world.people["a.weber"]
    config = world.repo / "qms.yaml"
    world.commit_file(
        world.people["m.okafor"],
        "qms.yaml",
        config.read_text().replace("roles: [sop-reviewer]", "roles: [sop-reviewer, admin]"),
        "promote myself",
    )
    head = world.head()
    out = world.qms(
        admin,
        "people",
        "add",
        "d.d",
        "--name",
        "D D",
        "--email",
        "d.d@st-aurelia.example",
        "--role",
        "sop-author",
        "--reason",
        "registry change",
        ok=False,
    )
    assert "holds changes that are not in force" in out
    assert world.head() == head


def test_a_parent_line_git_does_not_read_is_no_merge(world: World) -> None:
    """An extra `parent` header after `committer` would make the edit look like a merge,
    whose changes are not authored; git reads one parent, and so does the verifier."""
    admin = world.people["a.weber"]
    change = world.commit_file(admin, SOP, (world.repo / SOP).read_text() + "\nx\n", "edit")
    raw = world.git("cat-file", "commit", change)
    root = world.git("rev-list", "--max-parents=0", "HEAD")
    smuggled = re.sub(r"(committer [^\n]*\n)", rf"\1parent {root}\n", raw, count=1)
    commit = world.git(
        "hash-object", "-t", "commit", "-w", "--stdin", "--literally", input=smuggled + "\n"
    )
    world.git("update-ref", "refs/heads/main", commit)
    world.git("reset", "-q", "--hard")
    assert len(world.git("log", "-1", "--format=%P").split()) == 1  # git sees one parent
    trailers = world.trailers("SOP-0001", SOP, "approved", version="1")
    signed = world.raw_commit(admin, trailers)
    assert "separation of duties" in str(verdict_of(world, signed)["problems"])


def test_a_back_dated_signature_is_refused(world: World) -> None:
    admin, old = world.people["a.weber"], world.person("o.old", "Olga Old")
    world.add_person(admin, old, "sop-reviewer")
    world.qms(
        admin, "keys", "add", old.id, str(old.pub), "--valid-from", "2020-01-01", "--reason", "r"
    )
    trailers = world.trailers("SOP-0001", SOP, "reviewed", version="1")
    signed = world.raw_commit(old, trailers, date="2025-01-01T00:00:00Z")
    assert "a back-dated signature" in str(verdict_of(world, signed)["problems"])


def test_an_edit_made_while_merging_counts_as_authoring(world: World) -> None:
    admin, author = world.people["a.weber"], world.people["l.santos"]
    base = world.head()
    world.git("checkout", "-q", "-b", "side")
    world.commit_file(author, SOP, (world.repo / SOP).read_text() + "\nside\n", "side edit")
    world.git("checkout", "-q", "main")
    world.commit_file(author, "docs/index.md", "x\n", "unrelated")
    with world.acting(admin):
        world.git("merge", "-q", "--no-commit", "--no-ff", "side")
        (world.repo / SOP).write_text((world.repo / SOP).read_text() + "\nDose doubled.\n")
        world.git("add", SOP)
        world.git("commit", "-q", "--no-gpg-sign", "-m", "Merge side")
    assert world.head() != base
    trailers = world.trailers("SOP-0001", SOP, "approved", version="1")
    signed = world.raw_commit(admin, trailers)
    assert "separation of duties" in str(verdict_of(world, signed)["problems"])


def test_replace_refs_do_not_change_history(world: World) -> None:
    """`git replace` rewrites what git shows; the verifier reads objects as committed."""
    stranger = world.person("x.x", "Xavier X")
    root = world.git("rev-list", "--max-parents=0", "HEAD")
    config = world.git("rev-parse", f"{root}:qms.yaml")
    forged = (
        world.content("qms.yaml", root)
        .decode()
        .replace(
            "roles: [admin, qa-manager]\n",
            f'roles: [admin, qa-manager]\n  - id: x.x\n    name: "X"\n    email: "{stranger.email}"\n'
            f'    roles: [qa-manager]\n    keys:\n      - public_key: "{stranger.public_line()}"\n'
            '        valid_from: "2020-01-01"\n',
            1,
        )
    )
    fake = world.git("hash-object", "-w", "--stdin", input=forged)
    world.git("replace", config, fake)
    trailers = world.trailers("SOP-0001", SOP, "approved", version="1")
    signed = world.raw_commit(stranger, trailers)
    assert "is not registered" in str(verdict_of(world, signed)["problems"])
