"""The in-process SSHSIG verifier and key parser, checked against OpenSSH itself.

Every key is made by `ssh-keygen` and every verdict of `sshsig.verify` is compared with what
`ssh-keygen -Y check-novalidate` (or `-Y verify`, for FIDO keys) says about the same bytes.
FIDO signatures come from `sshsig.sign_sk_ed25519`, which stands in for a hardware key.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import random
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from gitqms.crypto import sshkeys, sshsig
from gitqms.crypto.sshsig import Checked, SignatureError
from toolkit.people import ssh_fingerprint
from toolkit.process import run, run_bytes

# Key type id -> the `ssh-keygen -t/-b` arguments that make it.
KEYGEN_ARGS: dict[str, list[str]] = {
    "ed25519": ["-t", "ed25519"],
    "ecdsa-256": ["-t", "ecdsa", "-b", "256"],
    "ecdsa-384": ["-t", "ecdsa", "-b", "384"],
    "ecdsa-521": ["-t", "ecdsa", "-b", "521"],
    "rsa-3072": ["-t", "rsa", "-b", "3072"],
}

MESSAGE = (
    b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
    b"author Dr. Anna Weber <a.weber@st-aurelia.example> 1700000000 +0100\n"
    b"committer Dr. Anna Weber <a.weber@st-aurelia.example> 1700000000 +0100\n"
    b"\n"
    b"Approve SOP-001 rev 3\n"
)
SIGNER = "someone@example"
_unique = itertools.count()


# --- helpers ------------------------------------------------------------------------------


def fresh(workdir: Path, suffix: str = "") -> Path:
    """A path in `workdir` no other call has used (ssh-keygen will not overwrite a .sig)."""
    return workdir / f"f{next(_unique)}{suffix}"


@dataclass(frozen=True)
class KeyPair:
    path: Path  # the private key; its public half is path + ".pub"
    pub_line: str
    fingerprint: str  # as `ssh-keygen -lf` prints it


def make_key(workdir: Path, keygen_args: list[str]) -> KeyPair:
    path = workdir / "id"
    run(["ssh-keygen", "-q", *keygen_args, "-N", "", "-C", SIGNER, "-f", path])
    return KeyPair(path, Path(f"{path}.pub").read_text(), openssh_fingerprint(Path(f"{path}.pub")))


def openssh_fingerprint(pub_file: Path) -> str:
    fingerprint = ssh_fingerprint(pub_file)
    assert fingerprint.startswith("SHA256:")
    return fingerprint


def openssh_sign(key: KeyPair, message: bytes, workdir: Path, namespace: str = "git") -> str:
    """`ssh-keygen -Y sign` over a message file; returns the armored signature it wrote."""
    msgfile = fresh(workdir, ".msg")
    msgfile.write_bytes(message)
    run(["ssh-keygen", "-Y", "sign", "-n", namespace, "-f", key.path, msgfile])
    return Path(f"{msgfile}.sig").read_text()


def write_sig(sig_text: str, workdir: Path) -> Path:
    sigfile = fresh(workdir, ".sig")
    sigfile.write_text(sig_text, encoding="utf-8")
    return sigfile


def openssh_accepts(sig_text: str, message: bytes, workdir: Path, namespace: str = "git") -> bool:
    """Does `ssh-keygen -Y check-novalidate` accept this signature over this message?"""
    sigfile = write_sig(sig_text, workdir)
    check: list[str | Path] = [
        "ssh-keygen",
        "-Y",
        "check-novalidate",
        "-n",
        namespace,
        "-s",
        sigfile,
    ]
    return run_bytes(check, input=message, check=False).returncode == 0


@dataclass(frozen=True)
class OpenSshVerdict:
    ok: bool
    sk_details: tuple[int, int] | None  # (flags, counter) of a FIDO signature, as OpenSSH read them


def openssh_verify(allowed: str, sig_text: str, message: bytes, workdir: Path) -> OpenSshVerdict:
    """`ssh-keygen -Y verify` against a one-line allowed-signers file, with its debug output."""
    signers = fresh(workdir, ".allowed")
    signers.write_text(allowed + "\n")
    sigfile = write_sig(sig_text, workdir)
    verify: list[str | Path] = ["ssh-keygen", "-vv", "-Y", "verify", "-f", signers, "-I", SIGNER]
    verify += ["-n", "git", "-s", sigfile]  # -vv: log the FIDO flags it read
    result = run_bytes(verify, input=message, check=False)
    details = re.search(
        rb"signature details: counter = (\d+), flags = 0x([0-9a-f]{2})", result.stderr
    )
    sk = (int(details[2], 16), int(details[1])) if details else None
    return OpenSshVerdict(result.returncode == 0, sk)


def our_verify(sig_text: str, message: bytes, namespace: str = "git") -> Checked:
    return sshsig.verify(sshsig.parse_armored(sig_text), message, namespace=namespace)


def assert_both_reject(sig_text: str, message: bytes, workdir: Path) -> None:
    with pytest.raises(SignatureError):
        our_verify(sig_text, message)
    assert not openssh_accepts(sig_text, message, workdir), "OpenSSH accepted it"


def armor_lines(sig_text: str) -> list[str]:
    return sig_text.strip().splitlines()


def blob_of(sig_text: str) -> bytes:
    return base64.b64decode("".join(armor_lines(sig_text)[1:-1]))


def rearmor(blob: bytes) -> str:
    """Armor a raw SSHSIG blob the way ssh-keygen does: base64 in lines of 70."""
    body = base64.b64encode(blob).decode()
    lines = [body[i : i + 70] for i in range(0, len(body), 70)]
    return "\n".join([sshsig.BEGIN, *lines, sshsig.END]) + "\n"


def flip_char(sig_text: str, index: int, replacement: str | None = None) -> str:
    """The armor with body character `index` replaced (by default with another base64 char)."""
    lines = armor_lines(sig_text)
    body = list("".join(lines[1:-1]))
    if replacement is None:
        replacement = "B" if body[index] == "A" else "A"
    body[index] = replacement
    text = "".join(body)
    return "\n".join([lines[0], *(text[i : i + 70] for i in range(0, len(text), 70)), lines[-1]])


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module", params=list(KEYGEN_ARGS))
def key(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    """One ssh-keygen key per type, shared by the module (RSA 3072 is slow to generate)."""
    return make_key(tmp_path_factory.mktemp(request.param), KEYGEN_ARGS[request.param])


@pytest.fixture(scope="module")
def good_sig(key: KeyPair, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An ssh-keygen signature over MESSAGE in namespace git, by `key`."""
    return openssh_sign(key, MESSAGE, tmp_path_factory.mktemp("sig"))


# --- ssh-keygen keys and signatures -------------------------------------------------------


def test_public_key_fingerprint_matches_openssh(key: KeyPair) -> None:
    parsed = sshkeys.parse_openssh(key.pub_line)
    assert parsed.fingerprint == key.fingerprint
    assert parsed.type == key.pub_line.split()[0]
    assert parsed.openssh == " ".join(key.pub_line.split()[:2])


def test_openssh_signature_verifies(key: KeyPair, good_sig: str, tmp_path: Path) -> None:
    checked = our_verify(good_sig, MESSAGE)
    assert checked.key.fingerprint == key.fingerprint
    assert (checked.user_present, checked.user_verified) == (True, False)
    # Control for the negative tests: the OpenSSH harness accepts a good signature.
    assert openssh_accepts(good_sig, MESSAGE, tmp_path)


def test_changed_message_is_rejected(good_sig: str, tmp_path: Path) -> None:
    tampered = bytearray(MESSAGE)
    tampered[len(tampered) // 2] ^= 0x01
    assert_both_reject(good_sig, bytes(tampered), tmp_path)


def test_other_namespace_is_rejected(key: KeyPair, tmp_path: Path) -> None:
    sig_text = openssh_sign(key, MESSAGE, tmp_path, namespace="file")
    assert_both_reject(sig_text, MESSAGE, tmp_path)
    # ...but it is a good signature in the namespace it was made for.
    assert our_verify(sig_text, MESSAGE, namespace="file").key.fingerprint == key.fingerprint
    assert openssh_accepts(sig_text, MESSAGE, tmp_path, namespace="file")


@pytest.mark.parametrize("where", [0.05, 0.3, 0.5, 0.7, 0.95])
@pytest.mark.parametrize("replacement", [None, "!"], ids=["base64-char", "non-base64"])
def test_flipped_base64_character_is_rejected(
    good_sig: str, tmp_path: Path, where: float, replacement: str | None
) -> None:
    body_length = len("".join(armor_lines(good_sig)[1:-1]))
    # Stay clear of the last quantum, where a flip may only touch unused padding bits.
    index = min(int(body_length * where), body_length - 5)
    assert_both_reject(flip_char(good_sig, index, replacement), MESSAGE, tmp_path)


def test_non_ascii_in_armor_is_a_signature_error(good_sig: str, tmp_path: Path) -> None:
    # commits.py decodes gpgsig with errors="replace", so a stray byte arrives as U+FFFD.
    assert_both_reject(flip_char(good_sig, 10, "\ufffd"), MESSAGE, tmp_path)


# Ways to cut a signature short, from the armor down to the SSHSIG blob inside it.
TRUNCATIONS: dict[str, Callable[[str], str]] = {
    "no END line": lambda s: "\n".join(armor_lines(s)[:-1]),
    "last body line gone": lambda s: "\n".join([*armor_lines(s)[:-2], armor_lines(s)[-1]]),
    "cut mid-armor": lambda s: s[: len(s) // 2],
    "armor lines only": lambda s: "\n".join([armor_lines(s)[0], armor_lines(s)[-1]]),
    "blob minus 1 byte": lambda s: rearmor(blob_of(s)[:-1]),
    "blob minus half": lambda s: rearmor(blob_of(s)[: len(blob_of(s)) // 2]),
}


@pytest.mark.parametrize("how", list(TRUNCATIONS))
def test_truncated_armor_is_rejected(good_sig: str, tmp_path: Path, how: str) -> None:
    assert_both_reject(TRUNCATIONS[how](good_sig), MESSAGE, tmp_path)


# --- FIDO (sk-ssh-ed25519) without hardware -----------------------------------------------
#
# `ssh-keygen -Y verify` does not enforce the authenticator flags, and allowed-signers files have
# no no-touch-required / verify-required options (those exist only in sshd's authorized_keys);
# gitqms applies that policy itself from Checked.user_present / user_verified. So OpenSSH is the
# oracle for the signature and for the flags it read, not for the policy.

COUNTER = 42


def sk_sign(message: bytes, flags: int) -> tuple[str, str]:
    """(public key line, armored signature) as an sk-ssh-ed25519 authenticator would make them."""
    private = ed25519.Ed25519PrivateKey.generate()
    return sshsig.sign_sk_ed25519(private, message, flags=flags, counter=COUNTER)


@pytest.mark.parametrize(
    ("flags", "present", "verified"),
    [(0x00, False, False), (0x01, True, False), (0x04, False, True), (0x05, True, True)],
    ids=["untouched", "touched", "pin-only", "touched+pin"],
)
def test_sk_signature_and_flags_match_openssh(
    tmp_path: Path, flags: int, present: bool, verified: bool
) -> None:
    pub_line, sig_text = sk_sign(MESSAGE, flags)
    assert pub_line.startswith(sshkeys.SK_ED25519 + " ")

    checked = our_verify(sig_text, MESSAGE)  # a good signature whatever the flags
    assert (checked.user_present, checked.user_verified) == (present, verified)
    verdict = openssh_verify(f"{SIGNER} {pub_line}", sig_text, MESSAGE, tmp_path)
    assert verdict == OpenSshVerdict(True, (flags, COUNTER))

    # Same key, same fingerprint, as OpenSSH sees it.
    pub_file = tmp_path / "sk.pub"
    pub_file.write_text(pub_line + "\n")
    assert checked.key.fingerprint == openssh_fingerprint(pub_file)
    assert sshkeys.parse_openssh(pub_line).fingerprint == checked.key.fingerprint
    assert checked.key.application == b"ssh:"


def test_sk_signature_over_tampered_message_is_rejected(tmp_path: Path) -> None:
    pub_line, sig_text = sk_sign(MESSAGE, 0x05)
    tampered = MESSAGE.replace(b"rev 3", b"rev 4")
    assert_both_reject(sig_text, tampered, tmp_path)
    assert not openssh_verify(f"{SIGNER} {pub_line}", sig_text, tampered, tmp_path).ok


@pytest.mark.parametrize(
    ("offset", "value"),
    [(-5, 0x01), (-5, 0x05), (-1, COUNTER + 1)],
    ids=["flags-to-touched", "flags-to-touched+pin", "counter"],
)
def test_sk_flags_and_counter_are_signed(tmp_path: Path, offset: int, value: int) -> None:
    """Editing the flags (to claim a touch or PIN) or the counter breaks the signature."""
    _, sig_text = sk_sign(MESSAGE, 0x00)
    blob = bytearray(blob_of(sig_text))  # the inner signature ends with flags ‖ uint32 counter
    blob[offset] = value
    assert_both_reject(rearmor(bytes(blob)), MESSAGE, tmp_path)


# --- robustness against damaged blobs -----------------------------------------------------


@pytest.mark.parametrize("seed", [20240611])
def test_random_byte_mutations_agree_with_openssh(good_sig: str, tmp_path: Path, seed: int) -> None:
    """200 single-byte mutations: each verifies or raises SignatureError, as OpenSSH decides."""
    blob = blob_of(good_sig)
    rng = random.Random(seed)
    problems: list[str] = []
    for _ in range(200):
        at = rng.randrange(len(blob))
        value = rng.choice([b for b in range(256) if b != blob[at]])
        mutant = rearmor(blob[:at] + bytes([value]) + blob[at + 1 :])
        where = f"byte {at} {blob[at]:#04x}->{value:#04x}"
        try:
            our_verify(mutant, MESSAGE)
            ours = True
        except SignatureError:
            ours = False
        except Exception as error:  # what this test is for: any other exception type
            problems.append(f"{where}: {type(error).__name__}: {error}")
            continue
        if ours != openssh_accepts(mutant, MESSAGE, tmp_path):
            problems.append(f"{where}: we {'accept' if ours else 'reject'}, OpenSSH does not")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("bits", [256, 384, 521])
@pytest.mark.parametrize("negative", ["r", "s"])
def test_negative_ecdsa_mpint_is_a_signature_error(
    tmp_path: Path, bits: int, negative: str
) -> None:
    """An ECDSA signature whose r or s is a negative mpint, which OpenSSH refuses to parse."""
    key = make_key(tmp_path, ["-t", "ecdsa", "-b", str(bits)])
    sig = sshsig.parse_armored(openssh_sign(key, MESSAGE, tmp_path))
    outer = sshkeys.Reader(sig.signature)
    sig_type, numbers = outer.string(), sshkeys.Reader(outer.string())
    values = {"r": numbers.string(), "s": numbers.string()}
    values[negative] = b"\xff" + values[negative].lstrip(b"\x00")  # top bit set: negative
    inner = sshkeys.string(sig_type) + sshkeys.string(
        sshkeys.string(values["r"]) + sshkeys.string(values["s"])
    )
    damaged = sshsig.armor(sig.key.blob, sig.namespace, sig.hash_algorithm, inner)
    assert_both_reject(damaged, MESSAGE, tmp_path)


def test_checks_made_ahead_in_a_worker_process_match_checks_made_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from gitqms.crypto import ahead, sshsig

    monkeypatch.setattr(ahead, "PARALLEL_FROM", 1)
    monkeypatch.setattr(ahead, "_BATCH", 3)
    key = ed25519.Ed25519PrivateKey.generate()
    items = []
    for n in range(10):
        payload = b"commit %d\n" % n
        signature = sshsig.sign_ed25519(key, payload)
        # every third payload is altered after signing, and one signature is FIDO-flagged
        if n % 3 == 0:
            payload += b"tampered"
        if n == 4:
            signature = sshsig.sign_sk_ed25519(key, payload, flags=0)[1]
        items.append((f"c{n}", signature, payload))
    checks = ahead.SshChecks()
    for item in items:
        checks.offer(*item)
    checks.flush()
    try:
        for batch, _ in list(checks._where.values()):
            batch.future.result(timeout=60)  # let the worker answer everything first
        for commit, signature, payload in items:
            got = checks.outcome(commit, signature, payload)
            assert got == ahead.check(signature, payload)
        assert [checks.outcome(*item).fingerprint is None for item in items] == [
            n % 3 == 0 for n in range(10)
        ]
        assert checks.outcome(*items[4]).is_sk and not checks.outcome(*items[4]).user_present
    finally:
        checks.close()


def test_a_worker_that_dies_costs_time_not_verdicts(monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from gitqms.crypto import ahead, sshsig

    monkeypatch.setattr(ahead, "PARALLEL_FROM", 1)
    monkeypatch.setattr(ahead, "_BATCH", 2)
    key = ed25519.Ed25519PrivateKey.generate()
    items = [(f"c{n}", sshsig.sign_ed25519(key, b"%d" % n), b"%d" % n) for n in range(12)]
    checks = ahead.SshChecks()
    for item in items:
        checks.offer(*item)
    checks.flush()
    assert checks._process is not None
    checks._process.kill()
    try:
        assert all(checks.outcome(*item).fingerprint for item in items)
    finally:
        checks.close()
    assert checks._process is None


def test_the_worker_imports_gitqms_not_a_package_in_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`python -m` puts the working directory first on sys.path; a repository under verification
    that holds a `gitqms` folder must not get its code run, nor answer for the worker."""
    from gitqms.crypto import ahead

    fake = tmp_path / "gitqms" / "crypto"
    fake.mkdir(parents=True)
    (tmp_path / "gitqms" / "__init__.py").write_text("")
    (fake / "__init__.py").write_text("")
    (fake / "ahead.py").write_text(
        "import pickle, sys\n"
        "while len(h := sys.stdin.buffer.read(8)) == 8:\n"
        "    items = pickle.loads(sys.stdin.buffer.read(int.from_bytes(h, 'big')))\n"
        "    d = pickle.dumps([('SHA256:forged', False, True, False, None)] * len(items))\n"
        "    sys.stdout.buffer.write(len(d).to_bytes(8, 'big') + d)\n"
        "    sys.stdout.buffer.flush()\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(ahead, "PARALLEL_FROM", 1)
    checks = ahead.SshChecks()
    checks._off = False  # a worker even on one core
    checks.offer("c1", "not a signature", b"payload")
    checks.flush()
    try:
        for batch, _ in list(checks._where.values()):
            with contextlib.suppress(Exception):
                batch.future.result(timeout=60)  # answered by the worker, whichever it is
        assert checks.outcome("c1", "not a signature", b"payload").fingerprint is None
    finally:
        checks.close()


def test_a_worker_that_hangs_or_garbles_costs_time_not_verdicts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stand-in worker that answers garbage and then hangs: every outcome is still right,
    and close() returns."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from gitqms.crypto import ahead, sshsig

    monkeypatch.setattr(ahead, "PARALLEL_FROM", 1)
    monkeypatch.setattr(ahead, "_WAIT", 0.5)
    key = ed25519.Ed25519PrivateKey.generate()
    items = [(f"c{n}", sshsig.sign_ed25519(key, b"%d" % n), b"%d" % n) for n in range(3)]
    bogus = "import sys, time; sys.stdout.write('hello from sitecustomize\\n'); sys.stdout.flush(); time.sleep(30)"
    real_popen = subprocess.Popen

    def popen(args: list[str], **options: object) -> subprocess.Popen[bytes]:
        return real_popen([sys.executable, "-c", bogus], **options)  # type: ignore[call-overload,no-any-return]

    monkeypatch.setattr(ahead.subprocess, "Popen", popen)
    checks = ahead.SshChecks()
    for item in items:
        checks.offer(*item)
    checks.flush()
    try:
        assert [checks.outcome(*item).fingerprint is not None for item in items] == [True] * 3
    finally:
        checks.close()
    assert checks._process is None
