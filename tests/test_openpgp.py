"""OpenPGP signatures: real gpg keys, commits signed by git through gpg, every verdict exact, and
git's own cryptographic verdict on each; the armored-key parser; the gpg status lines."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gitqms.crypto import openpgp
from gitqms.crypto.openpgp import OpenPgpFormatError, armor, packets, parse_public_key
from gitqms.signatures.registry import Registry
from gitqms.signatures.verify import walk_history
from toolkit.cli import qms
from toolkit.people import Person, gpg, gpg_home, stop_gpg
from toolkit.process import environment, run
from toolkit.world import SOP, World, isolated, refused


def utc_day(world: World, commit: str) -> str:
    """The UTC day of a commit's committer date: what the verifier judges it by (a run that
    crosses midnight must not expect the day the test started)."""
    seconds = int(world.git("log", "-1", "--format=%ct", commit))
    return datetime.fromtimestamp(seconds, UTC).date().isoformat()


@dataclass
class Story:
    world: World
    people: dict[str, Person]
    expected: dict[str, tuple[str, str | None, str | None]] = field(default_factory=dict)

    def expect(
        self, commit: str, status: str, problem: str | None = None, key: str | None = None
    ) -> None:
        """`commit` must get this status and exactly this problem; `key`: its fingerprint."""
        self.expected[commit] = (status, problem, key)


def bad_signature() -> str:
    return "the signature does not verify: gpg reports a bad signature (altered or copied commit)"


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    """A history mixing SSH and OpenPGP signers, with every attack on an OpenPGP signature."""
    base = tmp_path_factory.mktemp("openpgp")
    with isolated(tmp_path_factory) as mp:
        world = World(base, mp)
        try:
            yield build_story(world)
        finally:
            world.close()


def build_story(world: World) -> Story:
    admin = world.person("a.weber", "Dr. Anna Weber")  # SSH
    olga = world.person("o.pereira", "Olga Pereira", "gpg-ed25519")
    ravi = world.person("r.rao", "Ravi Rao", "gpg-rsa")
    sven = world.person("s.berg", "Sven Berg", "gpg-subkey")
    kim = world.person("k.ito", "Kim Ito")  # SSH
    dora = world.person("d.alt", "Dora Alt", "gpg-ed25519")
    vera = world.person("v.lost", "Vera Lost", "gpg-ed25519")
    santos = world.person("l.santos", "Lucia Santos")  # SSH
    mallory = world.person("mallory", "Mallory Intruder", "gpg-ed25519")  # never registered
    s = Story(world, {p.id: p for p in (admin, olga, ravi, sven, kim, dora, vera, santos)})

    world.init(admin)
    s.expect(world.head(), "valid")
    for person, role in (
        (olga, "qa-manager"),
        (ravi, "sop-reviewer"),
        (sven, "sop-reviewer"),
        (kim, "sop-reviewer"),
        (dora, "sop-reviewer"),
        (vera, "sop-reviewer"),
        (santos, "sop-author"),
    ):
        world.add_person(admin, person, role)
        s.expect(world.head(), "valid")
        window = ["--valid-from", "2020-01-01", "--valid-until", "2021-12-31"]
        key = ("keys", "add", person.id, str(person.pub), "--reason", "new signer")
        world.qms(admin, *key, *(window * (person is dora)))
        s.expect(world.head(), "valid")
    text = (world.repo / "qms.yaml").read_text()
    assert "public_key: |\n          -----BEGIN PGP PUBLIC KEY BLOCK-----\n" in text

    world.qms(santos, "new", "sop", "--title", "Receipt of ATMPs")
    body = re.sub(r"FILL IN[^\n]*", "Described in full.", (world.repo / SOP).read_text())
    world.commit_file(santos, SOP, body, "new procedure")
    # Valid signatures through `qms`: gpg (rsa), gpg by a signing subkey, SSH, gpg (ed25519).
    world.qms(ravi, "review", "SOP-0001", "--reason", "checked")
    s.expect(world.head(), "valid", key=ravi.fingerprint)
    world.qms(sven, "review", "SOP-0001")
    s.expect(world.head(), "valid", key=sven.fingerprint)
    signed_by = world.git("log", "-1", "--format=%GF %GP", env={"GNUPGHOME": str(sven.gnupghome)})
    subkey, primary = signed_by.split()
    assert primary == sven.fingerprint and subkey != primary  # made by the subkey
    world.qms(kim, "review", "SOP-0001")
    s.expect(world.head(), "valid")
    world.qms(olga, "approve", "SOP-0001", "--reason", "release")
    approval = world.head()
    s.expect(approval, "valid", key=olga.fingerprint)

    reviewed = world.trailers("SOP-0001", SOP, "reviewed", version="1")
    s.expect(
        world.raw_commit(ravi, reviewed, key=mallory),
        "invalid",
        f"key {mallory.fingerprint} is not registered in qms.yaml at the parent commit",
    )
    s.expect(
        world.raw_commit(kim, reviewed, key=olga),
        "invalid",
        f"key {olga.fingerprint} is registered to o.pereira <{olga.email}>, but the committer "
        f"is <{kim.email}>",
    )
    expired = world.raw_commit(dora, reviewed)
    s.expect(
        expired,
        "invalid",
        f"the key expired on 2021-12-31, and the commit is dated {utc_day(world, expired)}",
    )
    world.qms(admin, "keys", "revoke", vera.id, vera.fingerprint.lower(), "--reason", "lost")
    revoked_on = utc_day(world, world.head())
    s.expect(world.head(), "valid")
    s.expect(
        world.raw_commit(vera, reviewed), "invalid", f"the key was revoked on {revoked_on} (lost)"
    )

    # The approval with its Reason changed afterwards, and its signature copied onto a commit
    # with another parent.
    raw = world.git("cat-file", "commit", approval) + "\n"
    tree = f"tree {world.git('rev-parse', f'{approval}^{{tree}}')}"
    raw = raw.replace(tree, f"tree {world.git('rev-parse', 'HEAD^{tree}')}")  # no registry edit
    parent = f"parent {world.git('rev-parse', f'{approval}^')}"
    tampered_body = raw.replace(parent, f"parent {world.head()}").replace(
        "Reason: release", "Reason: forged"
    )
    tampered = world.git("hash-object", "-t", "commit", "-w", "--stdin", input=tampered_body)
    s.expect(tampered, "invalid", bad_signature())
    copy_body = raw.replace(parent, f"parent {tampered}")
    copy = world.git("hash-object", "-t", "commit", "-w", "--stdin", input=copy_body)
    s.expect(copy, "invalid", bad_signature())
    world.git("update-ref", "refs/heads/main", copy)
    world.git("reset", "-q", "--hard")
    return s


def test_every_openpgp_verdict_is_exact(story: Story) -> None:
    result = qms("verify", "--format", "json", repo=story.world.repo)
    assert result.exit_code == 1, result.stderr
    report = json.loads(result.output)
    got = {s["commit"]: s for s in report["signatures"]}
    assert set(got) == set(story.expected)
    for commit, (status, problem, key) in story.expected.items():
        verdict = got[commit]
        assert verdict["status"] == status, (commit, verdict)
        assert verdict["problems"] == ([problem] if problem else []), verdict
        if key is not None:
            assert verdict["key"] == key
    assert report["failures"] == sum(1 for s, _, _ in story.expected.values() if s == "invalid")


def test_verdicts_agree_with_git_verify_commit(story: Story, tmp_path: Path) -> None:
    """git judges the cryptography only (good or bad signature, key known); so do we, first."""
    repo = story.world.repo
    walk = walk_history(repo)
    commits = {step.commit.id: step.commit for step in walk.history.steps}
    homes: dict[tuple[str, ...], Path] = {}
    crypto = ("not signed", "does not verify", "not registered")
    try:
        for index, verdict in enumerate(walk.report.verdicts):
            commit = commits[verdict.commit]
            registry = walk.registry_at(commit.parents[0] if commit.parents else commit.id)
            assert registry is not None
            if registry.openpgp_blocks not in homes:
                home = homes[registry.openpgp_blocks] = gpg_home()
                if registry.openpgp_blocks:
                    keys = "".join(registry.openpgp_blocks).encode()
                    gpg(home, "--no-autostart", "--import", input=keys)
            allowed = tmp_path / f"{index}.allowed"
            allowed.write_text(allowed_signers(registry))
            git_ok = git_verifies(repo, verdict.commit, allowed, homes[registry.openpgp_blocks])
            ours = not any(words in p for p in verdict.problems for words in crypto)
            assert git_ok == ours, (verdict.commit, verdict.problems)
    finally:
        for home in homes.values():
            stop_gpg(home)


def git_verifies(repo: Path, commit: str, allowed: Path, home: Path) -> bool:
    result = run(
        ["git", "-c", f"gpg.ssh.allowedSignersFile={allowed}", "verify-commit", commit],
        cwd=repo,
        env=environment(GNUPGHOME=str(home)),
        check=False,
    )
    return result.returncode == 0


def allowed_signers(registry: Registry) -> str:
    """Every registered SSH key, for git's cryptographic check (windows are ours to judge)."""
    return "".join(
        f"{entry.person.email} {entry.key.public_key}\n"
        for entry in registry.all_keys()
        if entry.key.public_key.startswith("ssh-")
    )


def test_gpg_missing_is_a_problem_in_words(story: Story, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(openpgp, "GPG", "gitqms-no-such-gpg")
    walk = walk_history(story.world.repo)
    by_commit = {v.commit: v for v in walk.report.verdicts}
    gpg_valid = [c for c, (status, _, key) in story.expected.items() if key and status == "valid"]
    assert len(gpg_valid) == 3
    for commit in gpg_valid:
        assert by_commit[commit].problems == (openpgp.GPG_MISSING,)
    ssh_valid = [
        c for c, (status, _, key) in story.expected.items() if not key and status == "valid"
    ]
    assert all(by_commit[c].ok for c in ssh_valid)


def test_an_x509_signature_is_unsupported(story: Story) -> None:
    world = story.world
    head = world.head()
    raw = world.git("cat-file", "commit", head) + "\n"
    start = raw.index("gpgsig ")
    end = raw.index("\n\n", start)
    forged = (
        raw[:start]
        + "gpgsig -----BEGIN SIGNED MESSAGE-----\n MIIB\n -----END SIGNED MESSAGE-----"
        + raw[end:]
    )
    commit = world.git("hash-object", "-t", "commit", "-w", "--stdin", input=forged)
    walk = walk_history(world.repo, [commit])
    verdict = next(v for v in walk.report.verdicts if v.commit == commit)
    assert verdict.problems == (
        "unsupported signature format (BEGIN SIGNED MESSAGE); gitqms accepts SSH and OpenPGP "
        "signatures",
    )


# -- the armored-key parser -------------------------------------------------------------------


@pytest.fixture(scope="module")
def keyring() -> Iterator[Path]:
    """One keyring holding two ed25519 keys (one with a signing subkey) and an rsa key."""
    home = gpg_home()
    try:
        for name, algorithm in (("Ann", "ed25519"), ("Bob", "ed25519"), ("Cy", "rsa3072")):
            spec = f"{name} <{name.lower()}@example.org>"
            gpg(home, "--passphrase", "", "--quick-gen-key", spec, algorithm, "sign", "never")
        ann = fingerprints(home, "ann@example.org")[0]
        gpg(home, "--passphrase", "", "--quick-add-key", ann, "ed25519", "sign", "never")
        yield home
    finally:
        stop_gpg(home)


def fingerprints(home: Path, spec: str) -> list[str]:
    """Primary fingerprints as `gpg --with-colons` prints them in each key's first fpr record."""
    out = gpg(home, "--with-colons", "--list-keys", "--fingerprint", "--", spec).decode()
    lines = out.splitlines()
    return [
        lines[i + 1].split(":")[9]
        for i, line in enumerate(lines)
        if line.startswith("pub:") and lines[i + 1].startswith("fpr:")
    ]


def exported(home: Path, *specs: str) -> str:
    return gpg(home, "--armor", "--export", *specs).decode()


@pytest.mark.parametrize("email", ["ann@example.org", "bob@example.org", "cy@example.org"])
def test_fingerprint_is_the_one_gpg_prints(keyring: Path, email: str) -> None:
    key = parse_public_key(exported(keyring, email))
    assert key.fingerprint == fingerprints(keyring, email)[0]
    assert key.type == ("openpgp-rsa3072" if email.startswith("cy") else "openpgp-ed25519")
    again = parse_public_key(key.armored)  # the canonical re-armoring keeps the key
    assert again == key
    assert gpg(keyring, "--dearmor", input=key.armored.encode()) == gpg(keyring, "--export", email)


def test_new_packet_headers_give_the_same_key(keyring: Path) -> None:
    data = openpgp.dearmor(exported(keyring, "ann@example.org"))
    rewritten = b""
    for index, (tag, body) in enumerate(packets(data)):
        size = len(body)
        if index % 2 and size < 8383:  # the two-octet form where it fits, the five-octet else
            first = size - 192
            length = bytes([192 + (first >> 8), first & 0xFF]) if size >= 192 else bytes([size])
        else:
            length = b"\xff" + size.to_bytes(4, "big")
        rewritten += bytes([0xC0 | tag]) + length + body
    assert rewritten != data
    assert parse_public_key(armor(rewritten)).fingerprint == fingerprints(keyring, "ann")[0]


def key_error(text: str) -> str:
    with pytest.raises(OpenPgpFormatError) as caught:
        parse_public_key(text)
    return str(caught.value)


def test_a_damaged_checksum_or_body_is_refused(keyring: Path) -> None:
    text = exported(keyring, "bob@example.org")
    lines = text.splitlines()
    crc = next(i for i, line in enumerate(lines) if line.startswith("="))
    lines[crc] = "=" + ("AAAA" if lines[crc][1:] != "AAAA" else "BBBB")
    assert key_error("\n".join(lines)) == (
        "the block's checksum does not match: it was altered or damaged when copied"
    )
    lines = text.splitlines()
    lines[3] = lines[3][:10] + ("A" if lines[3][10] != "A" else "B") + lines[3][11:]
    assert "checksum does not match" in key_error("\n".join(lines))
    assert key_error(text.replace("-----END PGP PUBLIC KEY BLOCK-----", "")) == (
        "the block has no '-----END PGP PUBLIC KEY BLOCK-----' line; copy the whole block"
    )


def test_a_secret_key_block_is_refused(keyring: Path) -> None:
    secret = gpg(
        keyring,
        *("--pinentry-mode", "loopback", "--passphrase", ""),
        *("--armor", "--export-secret-keys", "bob@example.org"),
    ).decode()
    assert secret.startswith(openpgp.SECRET_BEGIN)
    assert "private (secret) key" in key_error(secret)
    disguised = secret.replace("PRIVATE KEY BLOCK", "PUBLIC KEY BLOCK")
    assert key_error(disguised) == (
        "the block holds a private (secret) key; register the public key only: "
        "gpg --armor --export you@hospital > you.asc"
    )


def test_two_keys_in_one_block_are_refused(keyring: Path) -> None:
    both = exported(keyring, "ann@example.org", "bob@example.org")
    assert key_error(both) == (
        "the block holds 2 primary keys; export exactly one: "
        "gpg --armor --export FINGERPRINT > you.asc"
    )


def test_garbage_and_other_versions_are_refused(keyring: Path) -> None:
    assert key_error("hello") == "there is no '-----BEGIN PGP PUBLIC KEY BLOCK-----' line"
    assert key_error(armor(b"hello")) == "this is not OpenPGP data (a packet header is invalid)"
    assert key_error(armor(b"\x99\x00\x40abc")) == "the key data is truncated"
    assert key_error(armor(b"\xc6\xe1abc")) == "a key block may not use partial packet lengths"
    body = openpgp.dearmor(exported(keyring, "bob@example.org"))
    primary = next(b for tag, b in packets(body) if tag == 6)
    for version in (3, 5):
        packet = bytes([version]) + primary[1:]
        block = armor(b"\x99" + len(packet).to_bytes(2, "big") + packet)
        assert key_error(block) == (
            f"this is a version {version} OpenPGP key; gitqms accepts version 4 keys, as gpg "
            "2.2 and later make them"
        )
    assert key_error(armor(b"\xcd\x01A")) == "the block holds 0 primary keys; export " + (
        "exactly one: gpg --armor --export FINGERPRINT > you.asc"
    )


# -- gpg's status lines -----------------------------------------------------------------------

FPR = "248FD0F56231B299BD89C8CD17ADF61EB649172D"
SUB = "3C7756E619F88FD91499FBE4F821C8196507CCCB"
VALID = f"[GNUPG:] VALIDSIG {SUB} 2026-11-22 1795306683 0 4 0 22 8 00 {FPR}"


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["NEWSIG", "GOODSIG F821C8196507CCCB Olga", VALID], openpgp.GpgCheck(FPR)),
        (["NEWSIG", "EXPKEYSIG F821C8196507CCCB Olga", VALID], openpgp.GpgCheck(FPR)),
        (
            ["NEWSIG", "REVKEYSIG F821C8196507CCCB Olga", VALID],
            openpgp.GpgCheck(problem="the OpenPGP key carries a revocation"),
        ),
        (
            ["NEWSIG", "BADSIG F821C8196507CCCB Olga"],
            openpgp.GpgCheck(problem=bad_signature()),
        ),
        (
            ["NEWSIG", f"ERRSIG F821C8196507CCCB 22 8 00 1795306683 9 {SUB}", "NO_PUBKEY F8"],
            openpgp.GpgCheck(unknown_key=SUB),
        ),
        (
            ["NEWSIG", "ERRSIG F821C8196507CCCB 22 8 00 1795306683 9 -"],
            openpgp.GpgCheck(unknown_key="F821C8196507CCCB"),
        ),
        (
            ["NEWSIG", "ERRSIG F821C8196507CCCB 99 8 00 1795306683 4 -"],
            openpgp.GpgCheck(problem="gpg cannot check the signature: unsupported algorithm"),
        ),
        (
            ["NEWSIG", "GOODSIG X Olga", VALID, "NEWSIG", "GOODSIG X Olga", VALID],
            openpgp.GpgCheck(problem="gpg found 2 signatures in the signature block, not one"),
        ),
        (
            ["NEWSIG", "GOODSIG X Olga", VALID.replace(" 22 8 00 ", " 22 2 00 ")],
            openpgp.GpgCheck(problem="the signature uses the broken hash SHA-1"),
        ),
        (
            ["NEWSIG", "GOODSIG X Olga"],
            openpgp.GpgCheck(problem="gpg did not confirm a good signature"),
        ),
        (
            ["NEWSIG", "GOODSIG X Olga", VALID.replace(" 00 ", " 1f ")],
            openpgp.GpgCheck(problem="the signature is not a signature over data (class 1f)"),
        ),
    ],
)
def test_status_lines(lines: list[str], expected: openpgp.GpgCheck) -> None:
    text = "".join(line + "\n" if line.startswith("[") else f"[GNUPG:] {line}\n" for line in lines)
    assert openpgp.read_status(text) == expected


def test_the_verifier_leaves_no_keyring_and_ignores_the_users(
    keyring: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user's GNUPGHOME holds the key, but the verifier sees only the keys it is given."""
    monkeypatch.setenv("GNUPGHOME", str(keyring))
    payload = b"tree 0\n\nhello\n"
    signature = gpg(keyring, "--armor", "--detach-sign", "-u", "bob@example.org", input=payload)
    with openpgp.Verifier() as verifier:
        unknown = verifier.verify(signature.decode(), payload, [])
        assert unknown.unknown_key == fingerprints(keyring, "bob@example.org")[0]
        good = verifier.verify(signature.decode(), payload, [exported(keyring, "bob@")])
        assert good == openpgp.GpgCheck(fingerprints(keyring, "bob@example.org")[0])
        assert verifier.verify(signature.decode(), payload + b"x", [exported(keyring, "bob@")]) == (
            openpgp.GpgCheck(problem=bad_signature())
        )
        home = verifier._root
        assert home is not None and Path(home).stat().st_mode & 0o777 == 0o700
    assert not Path(home).exists()


# -- the commands -----------------------------------------------------------------------------


def add_gpg_person(world: World, person_id: str, role: str = "qa-manager") -> Person:
    person = world.person(person_id, person_id.title(), "gpg-ed25519")
    world.add_person(world.people["a.weber"], person, role)
    return person


def test_an_openpgp_key_is_registered_and_approves(world: World) -> None:
    admin = world.people["a.weber"]
    quinn = add_gpg_person(world, "q.gpg")
    out = world.qms(admin, "keys", "add", quinn.id, str(quinn.pub), "--reason", "r")
    assert f"Register key {quinn.fingerprint} for q.gpg" in out
    config = (world.repo / "qms.yaml").read_text()
    assert parse_public_key(config[config.index("-----BEGIN PGP") :]).fingerprint == (
        quinn.fingerprint
    )
    keys = json.loads(world.qms(admin, "keys", "list", "--format", "json"))["keys"]
    listed = next(k for k in keys if k["person"] == "q.gpg")
    assert (listed["type"], listed["fingerprint"]) == ("openpgp-ed25519", quinn.fingerprint)
    world.qms(quinn, "approve", "SOP-0001", "--reason", "release")
    report = json.loads(world.qms(admin, "verify", "--format", "json"))
    assert report["failures"] == 0
    approval = next(s for s in report["signatures"] if s["commit"] == world.head())
    assert (approval["status"], approval["key"], approval["signer"]) == (
        "valid",
        quinn.fingerprint,
        quinn.name,
    )
    home = {"GNUPGHOME": str(quinn.gnupghome)}
    assert world.git("log", "-1", "--format=%G? %GP", env=home) == f"G {quinn.fingerprint}"


def test_an_unregistered_openpgp_key_is_refused_with_the_fix(world: World) -> None:
    quinn = add_gpg_person(world, "q.gpg")
    out = refused(world, quinn, "approve", "SOP-0001")
    assert f"your signing key {quinn.fingerprint} is not registered in qms.yaml" in out
    assert f"gpg --armor --export {quinn.fingerprint} > q.gpg.asc" in out
    assert "qms keys add q.gpg q.gpg.asc" in out


def test_key_files_that_are_refused(world: World, tmp_path: Path) -> None:
    admin = world.people["a.weber"]
    quinn = add_gpg_person(world, "q.gpg")
    assert quinn.gnupghome is not None
    secret = tmp_path / "secret.asc"
    secret.write_bytes(
        gpg(
            quinn.gnupghome,
            *("--pinentry-mode", "loopback", "--passphrase", ""),
            *("--armor", "--export-secret-keys", quinn.fingerprint),
        )
    )
    out = refused(world, admin, "keys", "add", quinn.id, str(secret), "--reason", "r")
    assert "is an OpenPGP private (secret) key; register the public key only" in out
    assert "gpg --armor --export you@hospital > you.asc" in out
    damaged = tmp_path / "damaged.asc"
    damaged.write_text(quinn.pub.read_text().replace("=", "=A", 1)[:-40])
    out = refused(world, admin, "keys", "add", quinn.id, str(damaged), "--reason", "r")
    assert "is not a usable OpenPGP public key" in out
    world.qms(admin, "keys", "add", quinn.id, str(quinn.pub), "--reason", "r")
    out = refused(world, admin, "keys", "add", "m.okafor", str(quinn.pub), "--reason", "r")
    assert f"key {quinn.fingerprint} is already registered to q.gpg" in out


def test_a_revoked_openpgp_key_cannot_sign(world: World) -> None:
    admin = world.people["a.weber"]
    quinn = add_gpg_person(world, "q.gpg")
    world.qms(admin, "keys", "add", quinn.id, str(quinn.pub), "--reason", "r")
    spaced = " ".join(quinn.fingerprint[i : i + 4] for i in range(0, 40, 4)).lower()
    out = world.qms(admin, "keys", "revoke", quinn.id, spaced, "--reason", "token lost")
    assert f"Revoke key {quinn.fingerprint} of q.gpg" in out
    out = refused(world, quinn, "approve", "SOP-0001")
    assert "was revoked on" in out and "token lost" in out


def test_the_signing_setup_is_checked_before_signing(world: World) -> None:
    quinn = add_gpg_person(world, "q.gpg")
    world.qms(world.people["a.weber"], "keys", "add", quinn.id, str(quinn.pub), "--reason", "r")
    config = quinn.config.read_text()
    quinn.config.write_text(config.replace(quinn.fingerprint, "0" * 40))
    out = refused(world, quinn, "approve", "SOP-0001")
    assert f"gpg has no secret key for '{'0' * 40}'" in out
    quinn.config.write_text(config.replace("\tsigningkey", "\t#"))  # git's default: the identity
    world.qms(quinn, "approve", "SOP-0001")
    quinn.config.write_text(config.replace("format = openpgp", "format = x509"))
    out = refused(world, quinn, "review", "SOP-0001")
    assert "git signs with x509 (gpg.format), and gitqms accepts SSH and OpenPGP" in out
    quinn.config.write_text(config + "[gpg]\n\tprogram = gitqms-no-such-gpg\n")
    out = refused(world, quinn, "review", "SOP-0001")
    assert "gitqms-no-such-gpg is not installed, and git signs OpenPGP signatures with it" in out
    quinn.config.write_text(config.replace("format = openpgp", "#"))  # git's default: openpgp
    out = refused(world, quinn, "review", "SOP-0001")
    assert "'reviewed' needs one of the roles" in out  # the key passed; the role did not
    reviewer = world.people["m.okafor"]
    reviewer.config.write_text(reviewer.config.read_text().replace("format = ssh", "#"))
    out = refused(world, reviewer, "review", "SOP-0001")
    assert "user.signingkey names an SSH key, but git signs with OpenPGP" in out
    assert "git config --global gpg.format ssh" in out


def test_a_gpg_key_of_someone_else_is_refused(world: World) -> None:
    admin = world.people["a.weber"]
    quinn, pia = add_gpg_person(world, "q.gpg"), add_gpg_person(world, "p.gpg")
    assert quinn.gnupghome is not None and pia.gnupghome is not None
    world.qms(admin, "keys", "add", pia.id, str(pia.pub), "--reason", "r")
    secret = gpg(
        pia.gnupghome,
        *("--pinentry-mode", "loopback", "--passphrase", ""),
        *("--export-secret-keys", pia.fingerprint),
    )
    gpg(
        quinn.gnupghome, "--pinentry-mode", "loopback", "--passphrase", "", "--import", input=secret
    )
    quinn.config.write_text(quinn.config.read_text().replace(quinn.fingerprint, pia.fingerprint))
    out = refused(world, quinn, "approve", "SOP-0001")
    assert f"your signing key {pia.fingerprint} is registered to p.gpg, not to q.gpg" in out
    assert "git config user.signingkey YOUR-FINGERPRINT" in out


def test_init_with_an_openpgp_admin_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    world = World(tmp_path, monkeypatch)
    try:
        admin = world.person("a.weber", "Dr. Anna Weber", "gpg-ed25519")
        admin.config.write_text(
            admin.config.read_text().replace("format = openpgp", "format = ssh")
        )
        world.act(admin)
        result = qms(
            *("init", str(world.repo), "--admin", admin.id, "--name", admin.name),
            *("--email", admin.email, "--key", str(admin.pub)),
        )
        assert result.exit_code == 0, result.output + result.stderr
        assert world.git("config", "--local", "gpg.format") == "openpgp"
        assert world.git("config", "--local", "user.signingkey") == admin.fingerprint
        report = json.loads(world.qms(admin, "verify", "--format", "json"))
        assert report["failures"] == 0 and report["trust_root"] == world.head()
        assert report["signatures"][0]["key"] == admin.fingerprint
        reviewer = world.person("m.okafor", "Michael Okafor")
        world.add_person(admin, reviewer, "sop-reviewer")
        world.qms(admin, "keys", "add", reviewer.id, str(reviewer.pub), "--reason", "r")
        assert json.loads(world.qms(admin, "verify", "--format", "json"))["failures"] == 0
        assert "0 errors" in world.qms(admin, "validate")
    finally:
        world.close()


# -- qms.yaml validation ----------------------------------------------------------------------


def findings(repo: Path, code: str) -> list[dict[str, object]]:
    result = qms("validate", "--format", "json", repo=repo)
    return [f for f in json.loads(result.stdout)["findings"] if f["code"] == code]


def with_keys(example: Path, blocks: list[str]) -> list[int]:
    """Give the first people of qms.yaml these OpenPGP keys; the line of each `public_key`."""
    path = example / "qms.yaml"
    lines = path.read_text(encoding="utf-8").split("\n")
    roles = [i for i, line in enumerate(lines) if line.startswith("    roles: [")]
    for index, block in reversed(list(zip(roles, blocks, strict=False))):
        body = ["          " + line if line else "" for line in block.strip().split("\n")]
        lines[index + 1 : index + 1] = [
            "    keys:",
            "      - public_key: |",
            *body,
            '        valid_from: "2026-01-01"',
        ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return [i + 1 for i, line in enumerate(lines) if line == "      - public_key: |"]


def test_qms_yaml_accepts_openpgp_keys(example: Path, keyring: Path) -> None:
    with_keys(example, [exported(keyring, "ann@example.org")])
    assert qms("validate", repo=example).exit_code == 0


def test_a_broken_openpgp_key_in_qms_yaml_is_reported(example: Path, keyring: Path) -> None:
    broken = exported(keyring, "ann@example.org").replace("\n=", "\n=AB", 1)
    [line] = with_keys(example, [broken])
    found = findings(example, "config.openpgp-key")
    assert [(f["line"], f["message"]) for f in found] == [
        (line, "the OpenPGP key cannot be read: the block's base64 text is damaged")
    ]
    assert "gpg --armor --export you@hospital" in str(found[0]["fix"])


def test_one_openpgp_key_for_two_people_is_reported(example: Path, keyring: Path) -> None:
    ann = exported(keyring, "ann@example.org")
    again = ann.replace("-----\n\n", "-----\nComment: exported again\n\n", 1)  # same key
    assert parse_public_key(again).fingerprint == parse_public_key(ann).fingerprint
    with_keys(example, [ann, again])
    found = findings(example, "config.key-reuse")
    assert len(found) == 1 and "this key is already registered to" in str(found[0]["message"])


def test_gpg_is_given_only_the_key_the_parser_read(example: Path, keyring: Path) -> None:
    """A public_key with a second block after the first: the registry, validation and `qms keys`
    know only the first key, so gpg's keyring must not hold the second either."""
    from gitqms.validation.run import parse_config

    ann, bob = exported(keyring, "ann@example.org"), exported(keyring, "bob@example.org")
    with_keys(example, [ann + bob])
    config, _ = parse_config((example / "qms.yaml").read_text(encoding="utf-8"))
    assert config is not None
    registry = Registry(config, "blob")
    assert [k.fingerprint for k in registry.all_keys()] == fingerprints(keyring, "ann@")
    payload = b"tree 0\n\nhello\n"
    signature = gpg(keyring, "--armor", "--detach-sign", "-u", "bob@example.org", input=payload)
    with openpgp.Verifier() as verifier:
        check = verifier.verify(signature.decode(), payload, registry.openpgp_blocks)
    assert check.fingerprint is None
    assert check.unknown_key == fingerprints(keyring, "bob@example.org")[0]
