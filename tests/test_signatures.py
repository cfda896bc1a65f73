"""Signatures end to end: real keys, real signed commits, every attack of the issue, and git's
own verdict on each signature it can judge."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gitqms.crypto import sshsig
from gitqms.signatures.verify import walk_history
from toolkit.cli import qms
from toolkit.people import Person, ssh_fingerprint
from toolkit.process import environment, run
from toolkit.world import SOP, World, isolated


def fill_placeholders(path: Path, extra: str = "") -> str:
    text = re.sub(r"FILL IN[^\n]*", "Described in full.", path.read_text())
    return text + extra


@dataclass
class Story:
    world: World
    people: dict[str, Person]
    expected: dict[str, tuple[str, str]] = field(default_factory=dict)  # commit -> status, words

    def expect(self, commit: str, status: str, words: str = "") -> None:
        self.expected[commit] = (status, words)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    """One history holding a clean life cycle and every attack the verifier must catch."""
    base = tmp_path_factory.mktemp("signatures")
    with isolated(tmp_path_factory) as mp:
        world = World(base, mp)
        admin = world.person("a.weber", "Dr. Anna Weber")
        okafor = world.person("m.okafor", "Michael Okafor", "rsa")
        santos = world.person("l.santos", "Lucia Santos", "ecdsa")
        dubois = world.person("r.dubois", "Raphael Dubois")
        lindqvist = world.person("j.lindqvist", "Johan Lindqvist")
        mallory = world.person("mallory", "Mallory Intruder")
        people = {p.id: p for p in (admin, okafor, santos, dubois, lindqvist, mallory)}
        s = Story(world, people)

        world.init(admin)
        s.expect(world.head(), "valid")  # the trust root, signed by the first admin
        for person, roles in (
            (okafor, ["qa-officer", "sop-reviewer"]),
            (santos, ["sop-author", "sop-reviewer"]),
            (dubois, ["sop-reviewer"]),
            (lindqvist, ["sop-reviewer"]),
        ):
            world.add_person(admin, person, *roles)
            s.expect(world.head(), "valid")
            window = ["--valid-from", "2020-01-01", "--valid-until", "2021-12-31"]
            world.qms(
                admin,
                "keys",
                "add",
                person.id,
                str(person.pub),
                *(window if person is dubois else []),
                *("--reason", "new signer"),
            )
            s.expect(world.head(), "valid")

        # A clean life cycle: authored by l.santos, reviewed, approved ...
        world.qms(santos, "new", "sop", "--title", "Receipt of ATMPs")
        world.commit_file(santos, SOP, fill_placeholders(world.repo / SOP), "new procedure")
        world.qms(okafor, "review", "SOP-0001", "--reason", "content checked")
        s.expect(world.head(), "superseded", "the record changed after this signature")
        world.qms(admin, "approve", "SOP-0001", "--reason", "release")
        s.expect(world.head(), "superseded", "the record changed after this signature")
        # ... then edited after its approval: both signatures stop covering the record.
        world.commit_file(santos, SOP, (world.repo / SOP).read_text() + "\nRevised.\n", "typo")

        trailers = world.trailers("SOP-0001", SOP, "approved", version="1")
        s.expect(world.raw_commit(admin, trailers, sign=False), "invalid", "is not signed")
        reviewed = world.trailers("SOP-0001", SOP, "reviewed", version="1")
        s.expect(world.raw_commit(okafor, reviewed, key=mallory), "invalid", "is not registered")
        s.expect(
            world.raw_commit(okafor, trailers, committer=admin),
            "invalid",
            "is registered to m.okafor <m.okafor@st-aurelia.example>, but the committer is",
        )
        s.expect(world.raw_commit(okafor, trailers), "invalid", "needs one of qa-manager")
        s.expect(world.raw_commit(dubois, reviewed), "invalid", "the key expired on 2021-12-31")
        fingerprint = ssh_fingerprint(lindqvist.pub)
        world.qms(admin, "keys", "revoke", lindqvist.id, fingerprint, "--reason", "laptop lost")
        s.expect(world.head(), "valid")
        s.expect(world.raw_commit(lindqvist, reviewed), "invalid", "the key was revoked on")
        wrong_version = world.trailers("SOP-0001", SOP, "reviewed", version="9")
        s.expect(world.raw_commit(okafor, wrong_version), "invalid", "claims version 9")
        wrong_content = world.trailers(
            "SOP-0001", SOP, "reviewed", version="1", content="sha256:" + "0" * 64
        )
        s.expect(world.raw_commit(okafor, wrong_content), "invalid", "claims content sha256:000")

        # A registry change that authorises its own signer is judged by the parent's registry,
        # and is not adopted: the intruder's next signature fails the same way.
        config = world.repo / "qms.yaml"
        original = config.read_text()
        config.write_text(
            original.replace(
                "roles:\n",
                f'  - id: mallory\n    name: "Mallory Intruder"\n    email: "{mallory.email}"\n'
                f'    roles: [admin, qa-manager]\n    keys:\n      - public_key: "{mallory.public_line()}"\n'
                '        valid_from: "2020-01-01"\nroles:\n',
                1,
            )
        )
        digest = "sha256:" + hashlib.sha256(config.read_bytes()).hexdigest()
        message = f"Add admin\n\nQMS-Record: qms.yaml\nQMS-Content: {digest}\nQMS-Meaning: changed"
        with world.acting(mallory):
            world.git("add", "qms.yaml")
            world.git("commit", "-q", f"--gpg-sign={mallory.key}", "-m", message)
        s.expect(world.head(), "invalid", "is not registered in qms.yaml at the parent commit")
        s.expect(world.raw_commit(mallory, trailers), "invalid", "is not registered")
        with world.acting(admin):  # restoring the trusted registry needs no signature
            world.git("revert", "--no-edit", "--no-gpg-sign", "HEAD~1")

        # A self-approval: the approver authored this version.
        world.commit_file(admin, SOP, (world.repo / SOP).read_text() + "\nMore.\n", "clarify")
        self_approval = world.trailers("SOP-0001", SOP, "approved", version="1")
        s.expect(world.raw_commit(admin, self_approval), "invalid", "separation of duties")

        # A valid review, then the same review made twice.
        world.qms(okafor, "review", "SOP-0001")
        good = world.head()
        s.expect(good, "valid")
        twice = world.trailers("SOP-0001", SOP, "reviewed", version="1")
        s.expect(world.raw_commit(okafor, twice), "invalid", "already signed 'reviewed'")

        # A tampered commit object: the good review with its Reason changed afterwards, and a
        # copy of its signature on another commit: the same message on another parent.
        raw = world.git("cat-file", "commit", good) + "\n"
        good_parent = f"parent {world.git('rev-parse', f'{good}^')}"
        tampered_body = raw.replace(good_parent, f"parent {world.head()}").replace(
            "QMS-Meaning: reviewed", "QMS-Meaning: reviewed\nReason: forged"
        )
        tampered = world.git("hash-object", "-t", "commit", "-w", "--stdin", input=tampered_body)
        s.expect(tampered, "invalid", "the signature does not verify")
        copy_body = raw.replace(good_parent, f"parent {tampered}")
        copy = world.git("hash-object", "-t", "commit", "-w", "--stdin", input=copy_body)
        s.expect(copy, "invalid", "the signature does not verify")
        world.git("update-ref", "refs/heads/main", copy)
        world.git("reset", "-q", "--hard")
        yield s


def test_every_attack_gets_exactly_its_verdict(story: Story) -> None:
    result = qms("verify", "--format", "json", repo=story.world.repo)
    assert result.exit_code == 1, result.stderr
    report = json.loads(result.output)
    got = {(s["commit"]): s for s in report["signatures"]}
    assert set(got) == set(story.expected), "signatures reported differ from the story"
    for commit, (status, words) in story.expected.items():
        verdict = got[commit]
        assert verdict["status"] == status, (commit, verdict)
        said = " ".join(verdict["problems"]) + (verdict["superseded"] or "")
        assert words in said, (words, verdict)
        if status == "invalid":
            assert len(verdict["problems"]) == 1, verdict["problems"]
    assert report["failures"] == sum(1 for s, _ in story.expected.values() if s == "invalid")


def test_checking_ahead_in_a_worker_process_gives_the_same_verdicts(
    story: Story, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large histories check SSH signatures in a second process; the verdicts must not change,
    whichever of the worker and the walk gets to each signature first."""
    from gitqms.crypto import ahead
    from gitqms.signatures import walk_index

    # Walk afresh each time, not from the history index.
    monkeypatch.setattr(walk_index, "cached_walk", lambda *args: args[3]())
    inline = walk_history(story.world.repo).report.verdicts
    monkeypatch.setattr(ahead, "PARALLEL_FROM", 1)
    monkeypatch.setattr(ahead, "_BATCH", 2)
    used = []
    original = ahead.SshChecks.outcome

    def outcome(self: ahead.SshChecks, commit: str, armored: str, payload: bytes) -> ahead.Outcome:
        used.append(self._process is not None)
        return original(self, commit, armored, payload)

    monkeypatch.setattr(ahead.SshChecks, "outcome", outcome)
    assert walk_history(story.world.repo).report.verdicts == inline
    assert used and all(used), "the worker process was not started"


def test_verdicts_agree_with_git_verify_commit(story: Story, tmp_path: Path) -> None:
    """Where git can judge (signature, key known, window, revocation), it agrees with us."""
    repo = story.world.repo
    walk = walk_history(repo)
    git_judges = (
        "not signed",
        "does not verify",
        "not registered",
        "expired",
        "valid only",
        "revoked",
    )
    checked = 0
    for verdict in walk.report.verdicts:
        commit = walk.history.steps[
            [s.commit.id for s in walk.history.steps].index(verdict.commit)
        ].commit
        parent = commit.parents[0] if commit.parents else commit.id
        registry = walk.registry_at(parent)
        assert registry is not None
        allowed, revoked = tmp_path / f"{checked}.allowed", tmp_path / f"{checked}.revoked"
        allowed.write_text(allowed_signers(registry))
        revoked.write_text(
            "".join(k.key.public_key + "\n" for k in registry.all_keys() if k.key.revoked_on)
        )
        verified = run(
            [
                "git",
                "-c",
                f"gpg.ssh.allowedSignersFile={allowed}",
                "-c",
                f"gpg.ssh.revocationFile={revoked}",
                "verify-commit",
                verdict.commit,
            ],
            cwd=repo,
            env=environment(),
            check=False,
        )
        git_ok = verified.returncode == 0
        ours = not any(words in p for p in verdict.problems for words in git_judges)
        assert git_ok == ours, (verdict.commit, verdict.problems)
        checked += 1
    assert checked == len(story.expected)


def allowed_signers(registry: object) -> str:
    from gitqms.signatures.registry import Registry

    assert isinstance(registry, Registry)
    lines = []
    for entry in registry.all_keys():
        options = [f'valid-after="{entry.key.valid_from.replace("-", "")}"']
        if entry.key.valid_until:
            options.append(f'valid-before="{entry.key.valid_until.replace("-", "")}235959"')
        lines.append(f"{entry.person.email} {','.join(options)} {entry.key.public_key}\n")
    return "".join(lines)


def test_text_report_names_each_failure(story: Story) -> None:
    result = qms("verify", repo=story.world.repo)
    assert result.exit_code == 1
    invalid = sum(1 for s, _ in story.expected.values() if s == "invalid")
    assert f"{len(story.expected)} signatures, {invalid} invalid" in result.output
    assert "separation of duties" in result.output


def test_a_range_verifies_only_its_commits(story: Story) -> None:
    repo = story.world.repo
    first_sop_commit = story.world.git("log", "--format=%H", "--reverse", "--", SOP).splitlines()[0]
    result = qms(
        "verify", "--format", "json", f"{first_sop_commit}~1..{first_sop_commit}~0", repo=repo
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["commits"] == 1


def test_log_shows_the_audit_trail(story: Story) -> None:
    result = qms("log", "SOP-0001", repo=story.world.repo)
    assert result.exit_code == 0, result.stderr
    assert "Lucia Santos: created — new procedure" in result.output
    assert "Michael Okafor: reviewed — content checked" in result.output
    assert "Dr. Anna Weber: approved — release" in result.output
    assert "valid for earlier content" in result.output
    assert "invalid: the commit carries signature trailers but is not signed" in result.output
    csv_out = qms("log", "SOP-0001", "--format", "csv", repo=story.world.repo).output
    header, first = csv_out.splitlines()[:2]
    assert header == "commit,date,name,email,action,reason,verdict,summary"
    assert "+00:00,Lucia Santos,l.santos@st-aurelia.example,created,new procedure" in first


def test_verify_by_a_pinned_trust_root_refuses_older_signatures(story: Story) -> None:
    repo = story.world.repo
    sop_commit = story.world.git("log", "--format=%H", "--reverse", "--", SOP).splitlines()[0]
    result = qms("verify", "--format", "json", "--trust-root", sop_commit, repo=repo)
    report = json.loads(result.output)
    assert report["trust_root"] == sop_commit
    before = [s for s in report["signatures"] if "before the trust root" in " ".join(s["problems"])]
    assert len(before) == 9  # the init commit and the eight registry changes before it


@pytest.mark.parametrize(
    ("header", "replacement"),
    [
        ("gpgsig -----BEGIN", "gpgsig\n -----BEGIN"),  # no value: git sees no signature
        ("committer", "gpgsig2 x\ncommitter"),  # git leaves any gpgsig* header out of the payload
        ("committer", "gpgsig-sha256 x\ncommitter"),
    ],
)
def test_a_header_git_reads_as_another_signature_is_refused(header: str, replacement: str) -> None:
    """git takes the signature from `gpgsig <value>` lines only, and cuts every line starting
    with 'gpgsig' from the payload; a commit where that differs from our reading is refused."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from gitqms.history.commits import parse_commit

    who = "A <a@example.org> 1700000000 +0000"
    payload = f"tree {'0' * 40}\nauthor {who}\ncommitter {who}\n\nsign\n"
    armored = sshsig.sign_ed25519(ed25519.Ed25519PrivateKey.generate(), payload.encode())
    header_text = "gpgsig " + "\n ".join(armored.rstrip("\n").split("\n"))
    raw = payload.replace("\n\n", f"\n{header_text}\n\n", 1).replace(header, replacement, 1)
    commit = parse_commit("c", raw.encode())
    assert commit.problem == (
        "the commit has a signature header git reads differently (gpgsig with no value, "
        "gpgsig-sha256, …) or an encoding header, which gitqms does not accept"
    )
