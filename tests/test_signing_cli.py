"""`qms init --key`, `qms people`, `qms keys`, `qms sign`: what they write, and what they refuse
with the repository left exactly as it was."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from toolkit.people import Person
from toolkit.process import run
from toolkit.world import SOP, World, refused


def test_init_with_a_key_makes_a_signed_trust_root(world: World, tmp_path: Path) -> None:
    admin = world.people["a.weber"]
    root = world.git("rev-list", "--max-parents=0", "HEAD")
    allowed = tmp_path / "allowed"
    allowed.write_text(f"{admin.email} {admin.public_line()}\n")
    world.git("-c", f"gpg.ssh.allowedSignersFile={allowed}", "verify-commit", root)
    message = world.git("log", "-1", "--format=%B", root)
    assert "QMS-Record: qms.yaml" in message and "QMS-Meaning: changed" in message
    report = json.loads(world.qms(admin, "verify", "--format", "json"))
    assert report["trust_root"] == root and report["failures"] == 0
    assert len(report["signatures"]) == 5  # init, then two people and their two keys


def test_sign_records_the_exact_content_and_verifies(world: World) -> None:
    reviewer, admin = world.people["m.okafor"], world.people["a.weber"]
    out = world.qms(reviewer, "review", "SOP-0001", "--reason", "checked against practice")
    commit = world.head()
    assert commit[:12] in out
    body = world.git("log", "-1", "--format=%B")
    digest = run(["sha256sum", world.repo / SOP]).stdout.split()[0]
    assert f"QMS-Content: sha256:{digest}" in body
    assert "QMS-Record: SOP-0001\nQMS-Version: 1\n" in body
    assert "Reason: checked against practice" in body
    assert world.git("diff", "HEAD~1", "HEAD", "--stat") == ""  # a signature changes no file
    world.qms(admin, "approve", "SOP-0001")
    assert world.git("status", "--porcelain") == ""
    assert json.loads(world.qms(admin, "verify", "--format", "json"))["failures"] == 0


def test_sign_refuses_without_a_signing_setup(world: World) -> None:
    reviewer = world.people["m.okafor"]
    reviewer.config.write_text(reviewer.config.read_text().replace("\tsigningkey", "\t#"))
    out = refused(world, reviewer, "review", "SOP-0001")
    assert "git has no signing key configured" in out
    assert "git config --global user.signingkey" in out


def test_sign_refuses_an_unregistered_person_and_key(world: World) -> None:
    stranger = world.person("x.new", "New Starter")
    out = refused(world, stranger, "review", "SOP-0001")
    assert "x.new@st-aurelia.example is not a registered person" in out
    assert "qms people add" in out
    admin = world.people["a.weber"]
    world.qms(
        admin,
        "people",
        "add",
        "x.new",
        "--name",
        "New Starter",
        "--email",
        stranger.email,
        "--role",
        "sop-reviewer",
        "--reason",
        "registry change",
    )
    out = refused(world, stranger, "review", "SOP-0001")
    assert "is not registered in qms.yaml" in out and "qms keys add x.new" in out


def test_sign_refuses_a_key_of_someone_else(world: World) -> None:
    reviewer, author = world.people["m.okafor"], world.people["l.santos"]
    reviewer.config.write_text(
        reviewer.config.read_text().replace(str(reviewer.key), str(author.key))
    )
    out = refused(world, reviewer, "review", "SOP-0001")
    assert "is registered to l.santos, not to m.okafor" in out


def test_sign_refuses_without_the_role_and_the_authors_approval(world: World) -> None:
    reviewer, author = world.people["m.okafor"], world.people["l.santos"]
    out = refused(world, reviewer, "approve", "SOP-0001")
    assert "'approved' needs one of the roles qa-manager; m.okafor holds sop-reviewer" in out
    world.qms(
        world.people["a.weber"],
        "people",
        "add",
        "q.two",
        "--name",
        "Quentin Two",
        "--email",
        "q.two@st-aurelia.example",
        "--role",
        "sop-reviewer",
        "--reason",
        "registry change",
    )
    out = refused(world, author, "review", "SOP-0001")
    assert "needs one of the roles" in out  # l.santos is an author, not a reviewer
    admin = world.people["a.weber"]
    text = (world.repo / SOP).read_text() + "\nA clarification by QA.\n"
    world.commit_file(admin, SOP, text, "clarify")
    out = refused(world, admin, "approve", "SOP-0001")
    assert "a.weber changed this version and cannot sign it 'approved'" in out


def test_sign_refuses_the_same_signature_twice(world: World) -> None:
    reviewer = world.people["m.okafor"]
    world.qms(reviewer, "review", "SOP-0001")
    out = refused(world, reviewer, "review", "SOP-0001")
    assert "already signed 'reviewed' for this content" in out


def test_sign_refuses_uncommitted_invalid_or_unknown_records(world: World) -> None:
    reviewer = world.people["m.okafor"]
    (world.repo / SOP).write_text((world.repo / SOP).read_text() + "\nunsaved\n")
    out = refused(world, reviewer, "review", "SOP-0001")
    assert "SOP-0001 has uncommitted changes" in out
    world.git("checkout", "--", SOP)
    broken = (world.repo / SOP).read_text().replace("version: 1", "version: one")
    world.commit_file(world.people["l.santos"], SOP, broken, "break it")
    out = refused(world, reviewer, "review", "SOP-0001")
    assert "validation error(s) in what you are signing" in out
    out = refused(world, reviewer, "review", "SOP-0099")
    assert "SOP-0099 is not committed" in out
    out = refused(world, reviewer, "review", "NOT-A-RECORD")
    assert "'NOT-A-RECORD' is not a record ID" in out


def test_registry_changes_need_an_admin(world: World) -> None:
    reviewer = world.people["m.okafor"]
    out = refused(
        world,
        reviewer,
        "people",
        "add",
        "z.z",
        "--name",
        "Z",
        "--email",
        "z@st-aurelia.example",
        "--role",
        "sop-author",
        "--reason",
        "registry change",
    )
    assert "changes to qms.yaml are signed by admin; m.okafor holds sop-reviewer" in out


def test_a_key_is_never_registered_twice(world: World) -> None:
    admin, reviewer = world.people["a.weber"], world.people["m.okafor"]
    out = refused(world, admin, "keys", "add", "l.santos", str(reviewer.pub), "--reason", "r")
    assert "is already registered to m.okafor" in out
    out = refused(world, admin, "keys", "add", "m.okafor", str(reviewer.pub), "--reason", "r")
    assert "is already registered to this person" in out
    out = refused(world, admin, "keys", "add", "m.okafor", str(reviewer.key), "--reason", "r")
    assert "is a private key" in out


def test_people_add_checks_roles_ids_and_emails(world: World) -> None:
    admin = world.people["a.weber"]
    out = refused(
        world,
        admin,
        "people",
        "add",
        "m.okafor",
        "--name",
        "Dup",
        "--email",
        "dup@st-aurelia.example",
        "--role",
        "sop-author",
        "--reason",
        "registry change",
    )
    assert "m.okafor is already registered" in out
    out = refused(
        world,
        admin,
        "people",
        "add",
        "n.new",
        "--name",
        "N",
        "--email",
        "n@st-aurelia.example",
        "--role",
        "wizard",
        "--reason",
        "registry change",
    )
    assert "unknown role(s): wizard" in out


def test_registry_edits_keep_comments_and_list_people_and_keys(world: World) -> None:
    admin = world.people["a.weber"]
    text = (world.repo / "qms.yaml").read_text()
    assert text.startswith("# ")  # the template's header comment survived every edit
    assert 'name: "Michael Okafor"' in text
    listing = json.loads(world.qms(admin, "people", "list", "--format", "json"))
    assert [p["id"] for p in listing["people"]] == ["a.weber", "m.okafor", "l.santos"]
    keys = json.loads(world.qms(admin, "keys", "list", "--format", "json"))["keys"]
    assert {k["person"] for k in keys} == {"a.weber", "m.okafor", "l.santos"}
    assert all(k["status"] == "usable" for k in keys)


def test_revoked_key_cannot_sign_any_more(world: World) -> None:
    admin, reviewer = world.people["a.weber"], world.people["m.okafor"]
    keys = json.loads(world.qms(admin, "keys", "list", "--format", "json"))["keys"]
    fingerprint = next(k["fingerprint"] for k in keys if k["person"] == "m.okafor")
    world.qms(admin, "keys", "revoke", "m.okafor", fingerprint, "--reason", "laptop stolen")
    out = refused(world, reviewer, "review", "SOP-0001")
    assert "was revoked on" in out and "laptop stolen" in out
    keys = json.loads(world.qms(admin, "keys", "list", "--format", "json"))["keys"]
    assert next(k for k in keys if k["person"] == "m.okafor")["revoked_reason"] == "laptop stolen"


def sk_signed_commit(world: World, person: Person, private: object, flags: int) -> str:
    """A signature commit signed by a FIDO sk-ed25519 key, as a security key would sign it."""
    from gitqms.crypto.sshsig import sign_sk_ed25519

    head, tree = world.head(), world.git("rev-parse", "HEAD^{tree}")
    who = f"{person.name} <{person.email}> {int(time.time())} +0000"
    trailers = world.trailers("SOP-0001", SOP, "reviewed", version="1")
    payload = f"tree {tree}\nparent {head}\nauthor {who}\ncommitter {who}\n\nReview\n\n{trailers}\n"
    _, armored = sign_sk_ed25519(private, payload.encode(), flags=flags)  # type: ignore[arg-type]
    header = "gpgsig " + "\n ".join(armored.rstrip("\n").split("\n"))
    signed = payload.replace(f"committer {who}\n", f"committer {who}\n{header}\n", 1)
    commit = world.git("hash-object", "-t", "commit", "-w", "--stdin", input=signed)
    world.git("update-ref", "refs/heads/main", commit)
    return commit


@pytest.mark.parametrize(
    ("verify_required", "flags", "problem"),
    [
        (False, 0x01, None),
        (False, 0x00, "did not confirm user presence"),
        (True, 0x01, "did not verify the user (PIN)"),
        (True, 0x05, None),
    ],
)
def test_security_key_flags_follow_the_registry(
    world: World, tmp_path: Path, verify_required: bool, flags: int, problem: str | None
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from gitqms.crypto.sshsig import sign_sk_ed25519

    admin = world.people["a.weber"]
    fido = world.person("f.ido", "Fiona Ido")
    private = Ed25519PrivateKey.generate()
    public_line, _ = sign_sk_ed25519(private, b"")
    pub = tmp_path / "fido.pub"
    pub.write_text(public_line + " fido\n")
    world.qms(
        admin,
        "people",
        "add",
        fido.id,
        "--name",
        fido.name,
        "--email",
        fido.email,
        "--role",
        "sop-reviewer",
        "--reason",
        "registry change",
    )
    world.qms(
        *(admin, "keys", "add", fido.id, str(pub), "--reason", "security key"),
        *(["--verify-required"] if verify_required else []),
    )
    commit = sk_signed_commit(world, fido, private, flags)
    report = json.loads(world.qms(admin, "verify", "--format", "json", ok=False))
    verdict = next(v for v in report["signatures"] if v["commit"] == commit)
    if problem is None:
        assert verdict["status"] == "valid", verdict
    else:
        assert verdict["status"] == "invalid" and problem in verdict["problems"][0]
