"""The QA team of a walkthrough (tests/test_guided_walkthrough.py): people with real SSH keys
and git configs of their own, in one repository made by `qms init`, running the real `qms`
command in its own process as they type it, on the test's calendar.

`Walk` records findings instead of stopping at the first: a `qms check` violation after a step,
an inbox that lists other than expected, a move refused although the person gave what it needs
(then the fields are written into the YAML by hand, the way left, and the walk goes on).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .cli import qms_command
from .people import ORG, Person, ssh_person
from .process import git

# id -> (printed name, roles besides those `qms init` gives the first admin, audiences)
TEAM = {
    "a.weber": ("Dr. Anna Weber", (), ()),  # admin and qa-manager: the QA lead who approves
    "m.okafor": ("Michael Okafor", ("qa-officer",), ()),  # owns change controls, investigates
    "l.santos": ("Lucia Santos", ("sop-author",), ("pharmacists",)),  # writes SOPs, reports
    "j.lindqvist": ("Dr. Johan Lindqvist", ("pharmacist", "sop-reviewer"), ("pharmacists",)),
}
Waiting = set[tuple[str, str, str]]  # (record, branch, target state or meaning)


class Walk:
    """The QA team at their desks in one repository, on the test's calendar."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.repo = base / "qms"
        self.stamp = "2026-01-05T09:00:00Z"
        self.findings: list[str] = []
        self.seen: set[tuple[str, str, str]] = set()  # check violations already reported
        self.people: dict[str, Person] = {
            pid: ssh_person(
                pid,
                name,
                f"{pid}@{ORG}",
                key=base / "keys" / pid,
                config=base / f"{pid}.gitconfig",
                home=base / f"{pid}-home",
            )
            for pid, (name, _, _) in TEAM.items()
        }
        self.root = ""

    # -- acting -----------------------------------------------------------------------------------

    def on(self, day: str, time: str = "09:00") -> None:
        self.stamp = f"{day}T{time}:00Z"

    def qms(
        self, who: str, *args: str, ok: bool = True, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`qms ARGS` typed by `who` in the repository (or `cwd`), on the walk's day."""
        env = self.people[who].env(self.stamp)
        result = qms_command(*args, cwd=cwd or self.repo, env=env, check=False)
        if ok:
            assert result.returncode == 0, (who, args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def git(self, who: str, *args: str) -> str:
        return git(self.repo, *args, base=self.people[who].env(self.stamp))

    def head(self) -> str:
        return git(self.repo, "rev-parse", "HEAD")

    def finding(self, text: str) -> None:
        self.findings.append(text)

    def type_text(self, path: str, typed: Mapping[str, str]) -> None:
        """A person replaces template placeholders (or their own earlier words) with text."""
        file = self.repo / path
        text = file.read_text(encoding="utf-8")
        for old, new in typed.items():
            assert old in text, f"{path} has no {old!r} to replace:\n{text}"
            text = text.replace(old, new, 1)
        file.write_text(text, encoding="utf-8")

    def new(self, who: str, *args: str) -> str:
        """`qms new …`: the path of the file it wrote."""
        out = self.qms(who, "new", *args).stdout
        found = re.search(r"\S+\.(?:yaml|md)", out)
        assert found, out
        return found.group(0)

    def commit(self, who: str, message: str, reason: str, *paths: str) -> None:
        self.qms(who, "commit", "-m", message, "--reason", reason, *paths)

    # -- checking -------------------------------------------------------------------------------

    def check(self, step: str) -> None:
        """`qms check ROOT..HEAD`, as CI runs it; a new violation is a finding."""
        result = self.qms("a.weber", "check", f"{self.root}..HEAD", "--format", "json", ok=False)
        report = json.loads(result.stdout)
        new = []
        for v in report["violations"]:
            key = (v["commit"], v.get("record") or "", v["rule"])
            if key not in self.seen:
                self.seen.add(key)
                new.append(f"[{v['rule']}] {v.get('record')}: {v['message']}")
        if new or (result.returncode != 0 and not report["violations"]):
            self.finding(
                f"after {step}: `qms check {self.root[:12]}..HEAD` exited {result.returncode}: "
                + " | ".join(new or [result.stderr.strip()])
            )

    def inbox(self, who: str, day: str) -> dict[str, Any]:
        """`qms inbox --person WHO` at a desk with main checked out (the QA lead's): main and
        the branches not merged into it. The team shares one work tree, so it is switched to
        main for the question and back after."""
        args = ("inbox", "--person", who, "--date", day, "--format", "json")
        current = git(self.repo, "branch", "--show-current")
        if current != "main":
            self.git(who, "switch", "-q", "main")
        try:
            result = self.qms("a.weber", *args, ok=False)
        finally:
            if current != "main":
                self.git(who, "switch", "-q", current)
        assert result.returncode in (0, 1), result.stderr
        return dict(json.loads(result.stdout))

    def waiting(self, who: str, day: str) -> Waiting:
        return {
            (s["record"], s["branch"], s.get("target") or s["meaning"])
            for s in self.inbox(who, day)["signatures"]
        }

    def expect_waiting(self, step: str, day: str, expected: Mapping[str, Waiting]) -> None:
        """Every person's inbox lists exactly the signatures `expected` gives them (none if
        not named)."""
        for who in TEAM:
            listed, wanted = self.waiting(who, day), set(expected.get(who, set()))
            if listed != wanted:
                self.finding(
                    f"after {step}: `qms inbox --person {who} --date {day}` lists "
                    f"{sorted(listed)}; expected {sorted(wanted)} "
                    f"(extra {sorted(listed - wanted)}, missing {sorted(wanted - listed)})"
                )

    def status(self, day: str, record: str) -> dict[str, Any]:
        out = self.qms("a.weber", "status", record, "--date", day, "--format", "json").stdout
        return dict(next(r for r in json.loads(out)["records"] if r["id"] == record))

    # -- moving records -------------------------------------------------------------------------

    def advance(
        self,
        who: str,
        record: str,
        to: str,
        sets: Mapping[str, object] | None = None,
        *,
        filled_by: str | None = None,
    ) -> None:
        """`qms advance RECORD --to STATE --set FIELD=VALUE…` by `who`, then `qms check`. With
        `filled_by`, the move is one whose signer must not write what it signs: that person
        gives the fields with `qms fill RECORD --for STATE --set …` first, and `who` moves it
        without --set. A refusal is a finding."""
        step = f"{record} -> {to}"
        args = [
            f"--set={k}={v if isinstance(v, str) else json.dumps(v)}"
            for k, v in (sets or {}).items()
        ]
        if filled_by is not None:
            result = self.qms(filled_by, "fill", record, "--for", to, *args, ok=False)
            if result.returncode != 0:
                self.finding(
                    f"{step}: `qms fill {record} --for {to}` as {filled_by} was refused "
                    f"(exit {result.returncode}): {result.stderr.strip()}"
                )
                return
            self.check(f"{step} (fields given by {filled_by})")
            args = []
        result = self.qms(who, "advance", record, "--to", to, *args, ok=False)
        if result.returncode != 0:
            self.finding(
                f"{step}: `qms advance {record} --to {to}` as {who} was refused "
                f"(exit {result.returncode}): {result.stderr.strip()}"
            )
            return
        self.check(step)

    def assert_no_findings(self) -> None:
        assert not self.findings, "findings:\n- " + "\n- ".join(self.findings)


def team(base: Path) -> Walk:
    """`qms init` by the QA lead with her key, then the team with roles, audiences and keys."""
    walk = Walk(base)
    admin = walk.people["a.weber"]
    walk.qms(
        "a.weber",
        *("init", "qms", "--admin", admin.id, "--name", admin.name, "--email", admin.email),
        *("--key", str(admin.pub), "--organisation", "St. Aurelia University Hospital"),
        cwd=base,
    )
    walk.root = walk.head()
    for pid, (name, roles, audiences) in TEAM.items():
        if pid == "a.weber":
            continue
        person = walk.people[pid]
        walk.qms(
            "a.weber",
            *("people", "add", pid, "--name", name, "--email", person.email),
            *(arg for role in roles for arg in ("--role", role)),
            *(arg for audience in audiences for arg in ("--audience", audience)),
            *("--reason", f"{name} joins the ATMP team"),
        )
        walk.qms("a.weber", "keys", "add", pid, str(person.pub), "--reason", "signing key")
    walk.check("the team is registered")
    return walk
