"""Synthetic QMS repositories for the benchmarks, at sizes S, M and L (and T, for the smoke test).

    .venv/bin/python benchmarks/synth_repo.py --size S --out .bench/S --check

What is in one: this project's qms.yaml with an Ed25519 key for every person, introduced with the
packaged schemas by a root commit that the admin signed (the trust root); two later registry
changes, each an admin-signed commit adding people with their keys; then, interleaved as a QA
team works, the lifecycles of SOPs (30 %), deviations (45 %) and CAPAs (25 %; most raised by a
deviation, linked both ways): edits signed by their authors with a `Reason:` trailer, signatures
(SOP review and approval, periodic review) and signed state changes of CAPAs and deviations
(see synth_records.py). Records are shaped like the shipped examples (synth_text.py). Keys,
dates and choices come from fixed seeds, so a size gives the same repository, commit ids
included, on every run. Every signature is a real SSHSIG made in-process
(gitqms.signatures.sshsig.sign_ed25519) with the trailers gitqms itself writes (claims.py,
commits.py, signing.subject_for).

How the objects are written, and why: record folders are flat, so each edit makes a new folder
tree of up to ~200 KB at L (4,500 deviations), some 80,000 of them. Written as loose objects
that is gigabytes. `git fast-import` deltas trees but cannot write the gpgsig header in git
2.39, so it could only write the blobs and trees under placeholder commits, followed by a second
pass writing the real, signed commit chain and a repack to drop the placeholders. Measured on
this 2-core machine, fast-import alone, fed the same file updates already rendered, took 9.6 s
at M and 113 s at L, against about 13 s and 105 s for this whole generator, which also renders
every record version, makes every signature, indexes the pack and checks out the work tree (the
second pass and the repack would come on top). fast-import re-serialises each folder tree and
searches a delta for it; here the delta is known. So this process writes everything
straight into one packfile (synth_pack.py): blobs and commits whole, each folder tree as a
small OFS_DELTA against its previous version (copy, insert one entry, copy), a full tree every
50 versions as git's own pack.depth would, then `git index-pack` checks and indexes it. A
commit-graph is written, as `git gc` would, and the work tree is checked out for
`qms validate`. Generation: S about 1.5 s, M about 13 s, L under 2 minutes (the manifest's
`seconds` has the split).
"""

from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from synth_pack import FILE_MODE, TREE_MODE, FlatTree, PackWriter, tree_body
from synth_records import Capa, Context, Deviation, Life, Sop, Spawn, Step, Team
from synth_text import Writer, load_archetypes

from gitqms.records.config import QmsConfig
from gitqms.signatures.claims import Claim, content_hash, trailer_lines
from gitqms.history.commits import format_trailers
from gitqms.actions.sign import config_claim, subject_for
from gitqms.crypto.sshsig import sign_ed25519
from gitqms.validation.run import parse_config
from gitqms.validation.schemas import SCHEMA_NAMES, packaged_schema_text

PROJECT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
SEED = 20_200_106
START = datetime(2020, 1, 6, 7, 0, tzinfo=UTC)  # keys are valid from 2020-01-01
END = datetime(2026, 6, 30, 17, 0, tzinfo=UTC)  # every date stays in the past
ADMIN = "a.weber"
MIX = (("sop", 0.30), ("deviation", 0.45))  # the rest are CAPAs
LINKED = 2 / 3  # share of CAPAs raised by a deviation
FOLDERS = {"sop": ("sops", "SOP", ".md"), "capa": ("capa", "CAPA", ".yaml")}
FOLDERS["deviation"] = ("deviations", "DEV", ".yaml")
NEW_PEOPLE = (  # (share of the history, people added by one admin-signed registry change)
    (
        1 / 3,
        (
            ("k.osei", "Dr. Kwame Osei", "Deputy Head of Quality Assurance", "qa-manager"),
            (
                "t.brandt",
                "Tobias Brandt, MSc",
                "Quality Assurance Officer",
                "qa-officer, sop-reviewer",
            ),
        ),
    ),
    (
        2 / 3,
        (
            (
                "e.moreau",
                "Dr. Elise Moreau, PharmD",
                "Pharmacist, ATMP Dispensing",
                "pharmacist, sop-author, sop-reviewer",
            ),
            (
                "n.kowalski",
                "Natalia Kowalski, RN",
                "Charge Nurse, Cellular Therapy Ward",
                "nurse-lead, sop-author",
            ),
        ),
    ),
)


@dataclass(frozen=True)
class Size:
    name: str
    records: int
    commits: int


SIZES = {
    "T": Size("T", 20, 100),  # the smoke test's
    "S": Size("S", 200, 2_000),
    "M": Size("M", 2_000, 20_000),
    "L": Size("L", 10_000, 100_000),
}


# --- people and keys -------------------------------------------------------------------------


@functools.cache
def private_key(person_id: str) -> Ed25519PrivateKey:
    seed = hashlib.sha256(f"gitqms synthetic repository {person_id}".encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_line(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes_raw()
    blob = b"".join(len(part).to_bytes(4, "big") + part for part in (b"ssh-ed25519", raw))
    return "ssh-ed25519 " + base64.b64encode(blob).decode()


def _key_entry(person_id: str, valid_from: str) -> str:
    line = public_line(private_key(person_id))
    return f'    keys:\n      - public_key: "{line}"\n        valid_from: "{valid_from}"\n'


def initial_registry(text: str) -> str:
    """qms.yaml with a key for every person who has an email (readers have none), after their
    roles line."""
    ids = re.findall(r"^  - id: (\S+)\n(?:    (?!email:).*\n)*?    email: ", text, re.M)
    for person_id in ids:
        pattern = re.compile(
            rf"(^  - id: {re.escape(person_id)}\n(?:    .*\n)*?    roles: .*\n)", re.M
        )
        entry = _key_entry(person_id, "2020-01-01").replace("\\", "\\\\")
        text, count = pattern.subn(r"\g<1>" + entry, text, count=1)
        if count != 1:
            raise SystemExit(f"cannot find the roles line of {person_id} in qms.yaml")
    return text


def add_people(text: str, people: tuple[tuple[str, str, str, str], ...], day: str) -> str:
    """qms.yaml with these people (and their keys) appended to `people:`."""
    blocks = "".join(
        f'  - id: {pid}\n    name: "{name}"\n    title: "{role_title}"\n'
        f'    email: "{pid}@st-aurelia.example"\n    roles: [{roles}]\n{_key_entry(pid, day)}\n'
        for pid, name, role_title, roles in people
    )
    head, sep, tail = text.partition("\nroles:\n")
    if not sep:
        raise SystemExit("qms.yaml has no top-level 'roles:' after 'people:'")
    return head.rstrip("\n") + "\n\n" + blocks + "roles:\n" + tail


def config_of(text: str) -> QmsConfig:
    config, findings = parse_config(text)
    if config is None:
        raise SystemExit(f"the generated qms.yaml does not validate: {findings!r}")
    return config


# --- the generator ---------------------------------------------------------------------------


def moment(index: int, commits: int, rng: random.Random) -> datetime:
    """Commit `index`'s date: spread evenly from START to END, jittered, always increasing."""
    step = (END - START) / commits
    utc = START + step * index + step * rng.uniform(0, 0.5)
    summer = 4 <= utc.month <= 10
    zone = timezone(timedelta(hours=2 if summer else 1))
    return utc.astimezone(zone).replace(microsecond=0)


def git_date(when: datetime) -> str:
    offset = when.utcoffset() or timedelta()
    minutes = int(offset.total_seconds()) // 60
    return f"{int(when.timestamp())} {'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


class Generator:
    """Writes one repository: the trust root, then one commit per step of the lifecycles."""

    def __init__(self, repo: Path, size: Size, seed: int = SEED) -> None:
        self.repo = repo
        self.size = size
        self.rng = random.Random(seed)
        subprocess.run(["git", "init", "--quiet", "--initial-branch=main", str(repo)], check=True)
        self.pack = PackWriter(repo / ".git")
        self.folders = {kind: FlatTree() for kind in FOLDERS}
        self.root: dict[str, tuple[bytes, str]] = {}
        self.files: dict[str, bytes] = {}
        self.registry = initial_registry((PROJECT / "qms.yaml").read_text(encoding="utf-8"))
        config = config_of(self.registry)
        self.people = {p.id: p for p in config.people}
        archetypes = load_archetypes(PROJECT)
        self.ids: dict[str, list[str]] = {"SOP": [], "CAPA": [], "DEV": []}
        self.numbers: Counter[tuple[str, int]] = Counter()
        self.ctx = Context(
            rng=self.rng,
            writer=Writer(archetypes, self.rng),
            archetypes=archetypes,
            team=Team(config),
            now=START,
            pick_id=self.pick_id,
            change_control=self.change_control,
        )
        self.tip: str | None = None
        self.index = 0
        self.signatures = 0
        self.touches: Counter[str] = Counter()
        self.active: list[Life] = []
        self.queue = self.creation_queue()
        self.linked_budget = sum(1 for _, linked in self.queue if linked)

    # -- ids and references ------------------------------------------------------------------

    def pick_id(self, prefix: str) -> str | None:
        found = self.ids.get(prefix)
        return self.rng.choice(found) if found else None

    def change_control(self, year: int) -> str:
        self.numbers["CC", year] += 1
        return f"CC-{year}-{self.numbers['CC', year]:03d}"

    def new_id(self, kind: str) -> str:
        _, prefix, _ = FOLDERS[kind]
        year = self.ctx.now.year
        if kind == "sop":
            self.numbers[prefix, 0] += 1
            return f"{prefix}-{self.numbers[prefix, 0]:04d}"
        self.numbers[prefix, year] += 1
        if self.numbers[prefix, year] > 9999:
            raise SystemExit(f"more than 9,999 {prefix} records in {year}")
        return f"{prefix}-{year}-{self.numbers[prefix, year]:04d}"

    def creation_queue(self) -> list[tuple[str, bool]]:
        """Kinds to create, in order; (deviation, True) for a deviation that raises a CAPA."""
        total = self.size.records
        counts = {kind: round(total * share) for kind, share in MIX}
        capas = total - sum(counts.values())
        linked = min(round(capas * LINKED), counts["deviation"] // 2)
        queue = [("sop", False)] * counts["sop"] + [("capa", False)] * (capas - linked)
        deviations = [("deviation", i < linked) for i in range(counts["deviation"])]
        queue += deviations
        self.rng.shuffle(queue)
        return queue

    # -- writing objects ---------------------------------------------------------------------

    def write_file(self, path: str, content: bytes) -> str:
        """Store the file and the trees above it; returns the new root tree."""
        self.files[path] = content
        blob = self.pack.add(b"blob", content)
        folder, name = path.split("/", 1) if "/" in path else ("", path)
        if folder:
            kind = next(k for k, (f, _, _) in FOLDERS.items() if f == folder)
            self.root[folder] = (TREE_MODE, self.folders[kind].set(self.pack, name, blob))
        else:
            self.root[name] = (FILE_MODE, blob)
        return self.pack.add(b"tree", tree_body(self.root))

    def commit(self, person_id: str, message: str, *, sign: bool, claims: bool = True) -> None:
        person = self.people[person_id]
        tree = self.pack.add(b"tree", tree_body(self.root))
        ident = f"{person.name} <{person.email}> {git_date(self.ctx.now)}"
        head = f"tree {tree}\n" + (f"parent {self.tip}\n" if self.tip else "")
        head += f"author {ident}\ncommitter {ident}\n"
        body = message.encode()
        if sign:
            armored = sign_ed25519(private_key(person_id), head.encode() + b"\n" + body)
            head += "gpgsig " + armored.rstrip("\n").replace("\n", "\n ") + "\n"
            self.signatures += claims  # a signed edit proves its author; no verdict of its own
        self.tip = self.pack.add(b"commit", head.encode() + b"\n" + body)
        self.index += 1

    def registry_commit(self, subject: str, reason: str) -> None:
        content = self.registry.encode()
        self.write_file("qms.yaml", content)
        trailers = format_trailers(trailer_lines([config_claim(content)], reason))
        self.commit(ADMIN, f"{subject}\n\n{trailers}\n", sign=True)
        config = config_of(self.registry)
        self.people = {p.id: p for p in config.people}
        self.ctx.team = Team(config)

    def apply(self, step: Step) -> None:
        if step.content is not None:
            self.write_file(step.path, step.content)
        self.touches[step.record] += 1
        if step.meaning is None:
            reason = format_trailers([("Reason", step.reason or "")])
            self.commit(step.person, f"{step.subject}\n\n{reason}\n", sign=True, claims=False)
            return
        content = content_hash(self.files[step.path])
        claims = [Claim(step.record, step.version, content, step.meaning)]
        trailers = format_trailers(trailer_lines(claims, step.reason))
        self.commit(step.person, f"{subject_for(step.meaning, claims)}\n\n{trailers}\n", sign=True)

    # -- the history -------------------------------------------------------------------------

    def create(self, kind: str, *, needs_capa: bool = False, source: str | None = None) -> Life:
        record_id = self.new_id(kind)
        folder, _, suffix = FOLDERS[kind]
        cls = {"sop": Sop, "capa": Capa, "deviation": Deviation}[kind]
        life = cls(self.ctx, record_id, f"{folder}/{record_id}{suffix}", kind)
        life.needs_capa = needs_capa
        life.source_deviation = source
        self.ids[record_id.split("-")[0]].append(record_id)
        self.active.append(life)
        return life

    def next_step(self) -> Step:
        """The next commit: a new record when due, else the next step of an active one."""
        while True:
            left = self.size.commits - self.index
            pending = len(self.queue) + self.linked_budget
            if pending and (
                pending >= left or not self.active or self.rng.random() < pending / left
            ):
                if self.queue:
                    kind, linked = self.queue.pop()
                else:  # the history ends before the deviation gets there: the CAPA stands alone
                    kind, linked = "capa", False
                    self.linked_budget -= 1
                return self.first_step(self.create(kind, needs_capa=linked))
            if not self.active:
                raise SystemExit("every record has finished its lifecycle; ask for fewer commits")
            recent = self.rng.random() < 0.85
            life = self.rng.choice(self.active[-24:] if recent else self.active)
            step = next(life.steps, None)
            if isinstance(step, Spawn):
                step = self.spawn(step)
            if step is not None:
                return step
            self.active.remove(life)

    def first_step(self, life: Life) -> Step:
        step = next(life.steps)
        assert isinstance(step, Step)
        return step

    def spawn(self, request: Spawn) -> Step:
        """A deviation's CAPA, opened now if the budget allows; else the deviation goes on."""
        deviation = request.source
        if self.linked_budget > 0:
            self.linked_budget -= 1
            capa = self.create("capa", source=deviation.id)
            deviation.capa_id = capa.id
            return self.first_step(capa)
        step = next(deviation.steps)
        assert isinstance(step, Step)
        return step

    def run(self) -> str:
        self.root["schemas"] = (TREE_MODE, self.schemas_tree())
        self.site_inputs()
        self.registry_commit(
            "Initialise the QMS",
            "Initialise the quality management system; the first admin and keys are the trust root",
        )
        changes = {max(1, int(self.size.commits * share)): people for share, people in NEW_PEOPLE}
        while self.index < self.size.commits:
            self.ctx.now = moment(self.index, self.size.commits, self.rng)
            if self.index in changes:
                people = changes[self.index]
                self.registry = add_people(self.registry, people, self.ctx.today.isoformat())
                names = ", ".join(p[0] for p in people)
                self.registry_commit(f"Add people: {names}", "new staff enrolled to sign")
                continue
            self.apply(self.next_step())
        assert self.tip is not None
        return self.tip

    def site_inputs(self) -> None:
        """The mkdocs.yml and docs/index.md `qms init` writes, in the trust root: the site is
        built from what is committed."""
        templates = PROJECT / "tools" / "gitqms" / "templates"
        config = (templates / "mkdocs.yml").read_text().replace("{{site_name}}", "Bench QMS")
        index = (templates / "index.md").read_text().replace("{{organisation}}", "Bench QMS")
        self.root["mkdocs.yml"] = (FILE_MODE, self.pack.add(b"blob", config.encode()))
        docs = {"index.md": (FILE_MODE, self.pack.add(b"blob", index.encode()))}
        self.root["docs"] = (TREE_MODE, self.pack.add(b"tree", tree_body(docs)))

    def schemas_tree(self) -> str:
        entries = {
            f"{name}.schema.json": (
                FILE_MODE,
                self.pack.add(b"blob", packaged_schema_text(name).encode()),
            )
            for name in SCHEMA_NAMES
        }
        return self.pack.add(b"tree", tree_body(entries))


# --- the repository on disk ------------------------------------------------------------------


def source_digest() -> str:
    """What the repository depends on: this generator's code, qms.yaml and the examples."""
    digest = hashlib.sha256()
    inputs = [*sorted(HERE.glob("synth_*.py")), PROJECT / "qms.yaml"]
    inputs += sorted(p for d in ("sops", "capa", "deviations") for p in (PROJECT / d).iterdir())
    for path in inputs:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def generate(out: Path, size: Size, seed: int = SEED) -> dict[str, Any]:
    """A fresh repository at out/repo with out/allowed_signers; returns (and writes) its manifest."""
    out.mkdir(parents=True, exist_ok=True)
    repo = out / "repo"
    if repo.exists():
        raise SystemExit(f"{repo} exists; remove it first")
    digest = source_digest()  # before generating: the code may change while it runs
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    generator = Generator(repo, size, seed)
    head = generator.run()
    seconds["write objects"] = time.perf_counter() - t
    t = time.perf_counter()
    pack = generator.pack.finish()
    seconds["git index-pack"] = time.perf_counter() - t
    t = time.perf_counter()
    git(repo, "update-ref", "refs/heads/main", head)
    git(repo, "commit-graph", "write", "--reachable")
    git(repo, "reset", "--hard", "--quiet")
    seconds["commit-graph and checkout"] = time.perf_counter() - t
    keyed = [p for p in generator.people.values() if p.keys]
    allowed = out / "allowed_signers"
    allowed.write_text("".join(f"{p.email} {public_line(private_key(p.id))}\n" for p in keyed))
    kinds = Counter(record.split("-")[0] for record in generator.touches)
    busiest, touches = generator.touches.most_common(1)[0]
    manifest = {
        "size": size.name,
        "records": len(generator.touches),
        "records_by_kind": dict(sorted(kinds.items())),
        "commits": generator.index,
        "signatures": generator.signatures,
        "head": head,
        "repo": "repo",
        "allowed_signers": allowed.name,
        "log_record": {
            "id": busiest,
            "path": next(p for p in generator.files if f"/{busiest}." in p),
            "commits": touches,
        },
        "pack_bytes": pack.stat().st_size,
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
        "seed": seed,
        "digest": digest,
        "size_spec": asdict(size),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def qms_command() -> list[str]:
    """The `qms` beside this Python, as users run it; else the module."""
    script = Path(sys.executable).with_name("qms")
    return [str(script)] if script.exists() else [sys.executable, "-m", "gitqms.cli"]


def check(out: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """`qms verify` must find every signature valid and `qms validate` no error; else exit."""
    repo = out / manifest["repo"]
    verify = subprocess.run(
        [*qms_command(), "--repo", str(repo), "verify", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(verify.stdout or "{}")
    statuses = Counter(v["status"] for v in report.get("signatures", ()))
    if (
        verify.returncode != 0
        or report.get("failures")
        or len(report["signatures"]) != manifest["signatures"]
        or report["commits"] != manifest["commits"]
    ):
        bad = [v for v in report.get("signatures", ()) if v["problems"]][:3]
        raise SystemExit(
            f"qms verify on {repo}: exit {verify.returncode}, {dict(statuses)} of "
            f"{manifest['signatures']} expected; e.g. {bad} {verify.stderr[-2000:]}"
        )
    validate = subprocess.run(
        [*qms_command(), "--repo", str(repo), "validate", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    result = json.loads(validate.stdout or "{}")
    if (
        validate.returncode != 0
        or result.get("errors")
        or result.get("files") != manifest["records"] + 1
    ):
        errors = [f for f in result.get("findings", ()) if f.get("severity") == "error"][:5]
        raise SystemExit(
            f"qms validate on {repo}: exit {validate.returncode}, {result.get('errors')} "
            f"error(s) in {result.get('files')} files, e.g. {errors} {validate.stderr[-2000:]}"
        )
    return {"signatures": dict(statuses), "validate_warnings": result["warnings"]}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=sorted(SIZES), default="S")
    parser.add_argument(
        "--out", type=Path, required=True, help="folder for repo/ and manifest.json"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--check", action="store_true", help="then run qms verify and qms validate")
    options = parser.parse_args()
    os.environ.update({"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"})
    manifest = generate(options.out, SIZES[options.size], options.seed)
    print(json.dumps(manifest, indent=2))
    if options.check:
        print(json.dumps(check(options.out, manifest), indent=2))


if __name__ == "__main__":
    main()
