"""Record lifecycles for synthetic repositories: the commits a QA team makes for each record.

Each record is a generator of steps. An edit is an unsigned commit by an author, with a Reason
trailer; a signature is a signed commit with the QMS trailers; a state change of a CAPA or a
deviation is a signed commit that writes the new state, with the meaning the lifecycle in
qms.yaml names for it (as `qms advance` makes them). Signers are chosen the way the verifier
judges them: a role the policy names for the meaning, never someone who changed the version
for an independent meaning (separation of duties), one signature per person, meaning and
content. Dates in the records follow the commit dates, so every date rule holds.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from synth_text import (
    CAPA_OBJECTS,
    CAPA_REMEDIES,
    CONTEXTS,
    DEVIATION_EVENTS,
    DEVIATION_OBJECTS,
    PROGRAMMES,
    SOP_ACTIONS,
    SOP_CONTEXTS,
    SOP_OBJECTS,
    Archetype,
    Writer,
    render_sop,
    render_yaml,
    title,
)

from gitqms.records.config import QmsConfig

RELEASE = "approved"  # a valid approval starts the next version's authorship afresh
FIELD_ORDER = {
    "sop": [
        "id",
        "title",
        "version",
        "owner",
        "area",
        "effective_date",
        "review_period_months",
        "supersedes",
        "change_reason",
        "change_control",
        "training",
        "retention_years",
        "tags",
        "references",
        "related_sops",
    ],
    "capa": [
        "id",
        "title",
        "state",
        "owner",
        "opened",
        "due",
        "source",
        "problem",
        "risk",
        "root_cause",
        "actions",
        "effectiveness",
        "closed",
        "cancel_reason",
        "related_sops",
        "change_control",
    ],
    "deviation": [
        "id",
        "title",
        "type",
        "state",
        "occurred_at",
        "discovered_at",
        "reported_at",
        "reported_by",
        "owner",
        "area",
        "product",
        "patient_involved",
        "description",
        "immediate_actions",
        "classification",
        "investigation",
        "excursion",
        "oos",
        "adverse_reaction",
        "external_reporting",
        "capa_decision",
        "capa",
        "sops",
        "change_control",
        "closed",
        "cancel_reason",
    ],
}

SOP_EDIT_REASONS = (
    "review comments from the technical reviewer",
    "wording aligned with the pharmacy manual",
    "steps reordered as done on the ward",
    "clarified who signs the form",
    "typographical corrections",
)
REVISION_REASONS = (
    "CAPA action",
    "change of supplier or product",
    "finding of the periodic review",
    "new regulatory guidance",
    "process change after a deviation",
    "equipment replaced",
)
NO_CAPA = (
    "Isolated event with a known, non-systemic cause; the correction in the deviation is "
    "sufficient and the trend is watched in the quarterly deviation review.",
    "No product or patient impact and no recurrence in the last twelve months; the existing "
    "controls detected the event as designed, so no CAPA is raised.",
    "The cause is already addressed by an open CAPA on the same process; this deviation is "
    "added to its effectiveness check instead of opening a new CAPA.",
)


@dataclass(frozen=True)
class Step:
    """One commit: an edit of the record, a signature, or both (a signed state change)."""

    record: str
    path: str
    person: str  # author and committer
    subject: str
    reason: str | None
    content: bytes | None  # the record's new bytes; None when the commit only signs
    meaning: str | None = None
    version: str | None = None  # QMS-Version: an SOP's version, else the state


@dataclass(frozen=True)
class Spawn:
    """The deviation needs a linked CAPA opened now; the generator sets its `capa_id`."""

    source: Deviation


class Team:
    """Who may do what under the registry in force."""

    def __init__(self, config: QmsConfig) -> None:
        self.config = config

    def holding(self, roles: set[str] | frozenset[str]) -> list[str]:
        return [p.id for p in self.config.people if p.roles & roles]

    def signers(self, kind: str, meaning: str, exclude: set[str]) -> list[str]:
        rule = self.config.signatures[kind][meaning]
        return [
            p.id
            for p in self.config.people
            if p.keys and p.roles & rule.roles and p.id not in exclude
        ]

    def independent(self, kind: str, meaning: str) -> bool:
        rule = self.config.signatures[kind][meaning]
        return rule.independent and self.config.separation_of_duties

    def transition(self, kind: str, source: str, target: str) -> str:
        machine = self.config.lifecycles.machines[kind]
        found = machine.transition(source, target)
        if found is None:
            raise ValueError(f"qms.yaml has no {kind} transition {source} -> {target}")
        return found.meaning


@dataclass
class Context:
    """What every lifecycle shares; the generator moves `now` before each step."""

    rng: random.Random
    writer: Writer
    archetypes: dict[str, list[Archetype]]
    team: Team
    now: datetime
    pick_id: Callable[[str], str | None]
    change_control: Callable[[int], str]

    @property
    def today(self) -> date:
        return self.now.date()

    def stamp(self, hours_before: float = 0.0) -> str:
        """A date-time with the zone, as people write them in records."""
        moment = self.now - timedelta(hours=hours_before)
        return moment.replace(microsecond=0).isoformat()


@dataclass(eq=False)  # compared by identity: the generator removes finished ones from a list
class Life:
    """A record's state as the generator writes it, and who may still sign it."""

    ctx: Context
    id: str
    path: str
    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    content: bytes = b""
    pending: set[str] = field(default_factory=set)  # changed it since its last approval
    signed: set[tuple[bytes, str, str]] = field(default_factory=set)  # content, meaning, person
    source: dict[str, Any] = field(default_factory=dict)  # fields of its example, varied
    capa_id: str | None = None  # a deviation's linked CAPA
    source_deviation: str | None = None  # a CAPA's originating deviation
    needs_capa: bool = False  # a deviation that will raise a CAPA
    body: str = ""  # an SOP's Markdown
    steps: Iterator[Step | Spawn] = field(init=False)

    def __post_init__(self) -> None:
        self.steps = self.run()

    def run(self) -> Iterator[Step | Spawn]:
        raise NotImplementedError

    def fields(self) -> dict[str, Any]:
        """The data in the examples' field order; empty lists left out."""
        order = FIELD_ORDER[self.kind]
        return {k: self.data[k] for k in order if k in self.data and self.data[k] != []}

    def render(self) -> bytes:
        return render_yaml(self.fields()).encode()

    def version(self) -> str:
        return str(self.data["state"])

    def edit(self, person: str, subject: str, reason: str) -> Step:
        self.content = self.render()
        self.pending.add(person)
        return Step(self.id, self.path, person, subject, reason, self.content)

    def signer(self, meaning: str) -> str | None:
        team = self.ctx.team
        exclude = set(self.pending) if team.independent(self.kind, meaning) else set()
        digest = hashlib.sha256(self.content).digest()
        exclude |= {p for c, m, p in self.signed if c == digest and m == meaning}
        candidates = team.signers(self.kind, meaning, exclude)
        return self.ctx.rng.choice(candidates) if candidates else None

    def sign(self, meaning: str, reason: str | None = None, *, changes: bool = False) -> Step:
        """A signature on the current content; `changes` when the commit also writes it."""
        person = self.signer(meaning)
        if person is None:
            raise RuntimeError(f"nobody may sign {self.id} '{meaning}' now")
        self.signed.add((hashlib.sha256(self.content).digest(), meaning, person))
        if meaning == RELEASE:
            self.pending.clear()
        subject = f"{meaning.capitalize()}: {self.id}"
        content = self.content if changes else None
        return Step(self.id, self.path, person, subject, reason, content, meaning, self.version())

    def advance(self, target: str, reason: str | None = None, **fields: Any) -> Step:
        """A signed state change; fields other than the state count as the signer's edit."""
        source = self.data["state"]
        meaning = self.ctx.team.transition(self.kind, source, target)
        self.data["state"] = target
        self.data.update(fields)
        self.content = self.render()
        # A change to the record needs a Reason trailer; `qms advance` writes this one.
        reason = reason or f"{meaning}: moved from {source} to {target}"
        step = self.sign(meaning, reason, changes=True)
        if fields:
            self.pending.add(step.person)
        return step

    def template(self, name: str) -> Any:
        """A field from the record's own example, else from another example that has it."""
        if name in self.source:
            return self.source[name]
        donors = [a for a in self.ctx.archetypes[self.kind] if name in a.data]
        donor = self.ctx.rng.choice(donors).data[name]
        value = self.ctx.writer.vary_tree(donor, self.ctx.today, self.ctx.pick_id, name)
        self.source[name] = value
        return value

    def someone(self, *roles: str) -> str:
        return self.ctx.rng.choice(self.ctx.team.holding(set(roles)))


class Sop(Life):
    def run(self) -> Iterator[Step | Spawn]:
        rng = self.ctx.rng
        author = self.someone("sop-author")
        self.draft(author)
        yield self.edit(author, f"Draft {self.id} v1", "new procedure: " + self.data["title"])
        while True:
            for _ in range(rng.choice((0, 1, 1, 2))):
                self.body = self.ctx.writer.revise_body(self.body, self.ctx.today, self.ctx.pick_id)
                editor = rng.choice([author, self.someone("sop-author")])
                subject = f"{self.id} v{self.data['version']}: revise steps"
                yield self.edit(editor, subject, rng.choice(SOP_EDIT_REASONS))
            yield self.sign("reviewed")
            yield self.sign("approved", rng.choice([None, "released for use"]))
            for _ in range(rng.choice((0, 0, 1, 2))):
                if self.signer("periodic-review") is not None:
                    yield self.sign("periodic-review", "periodic review: remains valid")
            author = self.someone("sop-author")
            yield self.revision(author)

    def draft(self, author: str) -> None:
        """Version 1: an example's front matter and body, varied, with a new title."""
        ctx, rng = self.ctx, self.ctx.rng
        archetype = rng.choice(ctx.archetypes["sop"])
        front = {k: v for k, v in archetype.data.items() if k != "references"}
        front = ctx.writer.vary_tree(front, ctx.today, ctx.pick_id)
        config = ctx.team.config
        related = {x for x in (ctx.pick_id("SOP") for _ in range(rng.randint(0, 3))) if x}
        front.update(
            id=self.id,
            title=title(rng, SOP_ACTIONS, SOP_OBJECTS, SOP_CONTEXTS, PROGRAMMES),
            version=1,
            owner=author,
            area=rng.choice(list(config.areas)),
            effective_date=(ctx.today + timedelta(days=rng.randint(20, 45))).isoformat(),
            supersedes=None,
            change_control=ctx.change_control(ctx.today.year),
            training={
                "audience": rng.sample(list(config.audiences), rng.randint(1, 4)),
                "window_days": rng.choice([7, 14, 21, 28]),
            },
            references=archetype.data.get("references", []),
            related_sops=sorted(related - {self.id}),
        )
        self.data = front
        body = archetype.body.replace(archetype.data["title"], front["title"], 1)
        self.body = ctx.writer.revise_body(body, ctx.today, ctx.pick_id)

    def revision(self, author: str) -> Step:
        ctx, rng = self.ctx, self.ctx.rng
        version = int(self.data["version"])
        self.data.update(
            version=version + 1,
            owner=author,
            supersedes=f"{self.id} v{version}",
            change_control=ctx.change_control(ctx.today.year),
            change_reason=ctx.writer.paragraph("change_reason", ctx.today, ctx.pick_id),
            effective_date=(ctx.today + timedelta(days=rng.randint(20, 45))).isoformat(),
        )
        self.body = ctx.writer.revise_body(self.body, ctx.today, ctx.pick_id)
        reason = f"{self.data['change_control']}: {rng.choice(REVISION_REASONS)}"
        return self.edit(author, f"Revise {self.id} to v{version + 1}", reason)

    def render(self) -> bytes:
        return render_sop(self.fields(), self.body).encode()

    def version(self) -> str:
        return str(self.data["version"])


class Capa(Life):
    def run(self) -> Iterator[Step | Spawn]:
        ctx, rng = self.ctx, self.ctx.rng
        owner = self.someone("sop-author", "qa-officer")
        origin = self.open(owner)
        yield self.edit(self.someone("qa-officer"), f"Open {self.id}", f"raised from {origin}")
        self.data["risk"] = {**self.template("risk"), **_risk(rng)}
        yield self.edit(owner, f"{self.id}: risk assessment", "risk assessed with process owners")
        if rng.random() < 0.03:
            yield self.advance("cancelled", "duplicate", cancel_reason="Duplicate of another CAPA.")
            return
        yield self.advance("root-cause")
        self.plan(owner)
        method = self.data["root_cause"]["method"]
        yield self.edit(owner, f"{self.id}: root cause and action plan", f"{method} analysis done")
        yield self.advance("action-plan")
        if rng.random() < 0.1:
            yield self.advance("root-cause", "root cause not evidenced")
            description = ctx.writer.paragraph("root_cause.description", ctx.today, ctx.pick_id)
            self.data["root_cause"] = {**self.template("root_cause"), "description": description}
            yield self.edit(owner, f"{self.id}: root cause revised", "returned by QA")
            yield self.advance("action-plan")
        yield self.advance("implementation")
        for action in self.data["actions"]:
            action.update(
                status="done",
                completed=ctx.today.isoformat(),
                evidence=ctx.writer.paragraph("actions.evidence", ctx.today, ctx.pick_id),
            )
            reason = f"{action['id']} completed; evidence attached"
            yield self.edit(action["owner"], f"{self.id}: {action['id']} done", reason)
        yield self.advance("effectiveness-check")
        checker = self.someone("qa-officer")
        self.data["effectiveness"].update(
            result=ctx.writer.paragraph("effectiveness.result", ctx.today, ctx.pick_id),
            verdict="effective",
            checked_on=ctx.today.isoformat(),
            checked_by=checker,
        )
        yield self.edit(checker, f"{self.id}: effectiveness checked", "predefined criteria met")
        yield self.advance("closed", closed=ctx.today.isoformat())

    def open(self, owner: str) -> str:
        """The initiated CAPA's fields; returns what raised it."""
        ctx, rng = self.ctx, self.ctx.rng
        archetype = rng.choice(ctx.archetypes["capa"])
        self.source.update(ctx.writer.vary_tree(archetype.data, ctx.today, ctx.pick_id))
        origin = (
            {"type": "deviation", "references": [self.source_deviation]}
            if self.source_deviation
            else self.external_source()
        )
        self.data = {
            "id": self.id,
            "title": title(rng, CAPA_REMEDIES, CAPA_OBJECTS, CONTEXTS, PROGRAMMES),
            "state": "initiated",
            "owner": owner,
            "opened": ctx.today.isoformat(),
            "due": (ctx.today + timedelta(days=rng.randint(150, 300))).isoformat(),
            "source": origin,
            "problem": ctx.writer.paragraph("problem", ctx.today, ctx.pick_id),
            "related_sops": sorted({x for x in (ctx.pick_id("SOP"), ctx.pick_id("SOP")) if x}),
        }
        return self.source_deviation or str(origin.get("external_ref"))

    def external_source(self) -> dict[str, Any]:
        """A source outside the repository, named as QA files it."""
        kind, label = self.ctx.rng.choice(
            [
                ("audit", "Internal audit IA-{}-{:02d}, finding {}"),
                ("inspection", "Inspection report INS-{}-{:02d}, observation {}"),
                ("trend", "Quarterly deviation trend report {}-Q{}, item {}"),
                ("management-review", "Management review {}-{:02d}, action {}"),
            ]
        )
        rng = self.ctx.rng
        ref = label.format(self.ctx.today.year, rng.randint(1, 4), rng.randint(1, 9))
        return {"type": kind, "external_ref": ref}

    def plan(self, owner: str) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        actions = []
        for number in range(1, rng.randint(2, 4) + 1):
            actions.append(
                {
                    "id": f"A{number}",
                    "type": rng.choice(["corrective", "preventive"]),
                    "description": ctx.writer.paragraph(
                        "actions.description", ctx.today, ctx.pick_id
                    ),
                    "owner": rng.choice([owner, self.someone("sop-author", "qa-officer")]),
                    "due": (ctx.today + timedelta(days=rng.randint(20, 120))).isoformat(),
                    "status": "open",
                }
            )
        self.data["root_cause"] = dict(self.template("root_cause"))
        self.data["actions"] = actions
        last_due = max(date.fromisoformat(a["due"]) for a in actions)
        self.data["effectiveness"] = {
            "criteria": ctx.writer.paragraph("effectiveness.criteria", ctx.today, ctx.pick_id),
            "due": (last_due + timedelta(days=rng.randint(60, 90))).isoformat(),
        }


def _risk(rng: random.Random) -> dict[str, int]:
    return {k: rng.randint(1, 5) for k in ("severity", "occurrence", "detectability")}


class Deviation(Life):
    def run(self) -> Iterator[Step | Spawn]:
        ctx, rng = self.ctx, self.ctx.rng
        archetype = rng.choice(ctx.archetypes["deviation"])
        self.source.update(ctx.writer.vary_tree(archetype.data, ctx.today, ctx.pick_id))
        owner = self.someone("sop-author", "pharmacist", "lab-manager")
        self.report(archetype, owner)
        yield self.edit(owner, f"Report {self.id}", f"reported by {self.data['reported_by']}")
        if rng.random() < 0.03:
            yield self.advance("cancelled", "duplicate", cancel_reason="Duplicate report.")
            return
        self.classify()
        yield self.edit(self.someone("qa-officer"), f"{self.id}: classification", "risk assessed")
        yield self.advance("classified")
        discovered = date.fromisoformat(self.data["discovered_at"][:10])
        self.data["investigation"] = {
            "due": (discovered + timedelta(days=rng.randint(14, 30))).isoformat(),
            "method": rng.choice(["5-whys", "fishbone", "is-is-not", "fault-tree"]),
        }
        yield self.edit(owner, f"{self.id}: investigation planned", "investigation opened")
        yield self.advance("investigation")
        self.findings()
        yield self.edit(owner, f"{self.id}: investigation findings", "investigation complete")
        if self.needs_capa:
            yield Spawn(self)
        self.decide()
        yield self.edit(owner, f"{self.id}: CAPA decision", "decision recorded")
        yield self.advance("capa-decided")
        yield self.advance("closed", closed=ctx.today.isoformat())

    def classify(self) -> None:
        rng = self.ctx.rng
        critical = self.needs_capa and rng.random() < 0.3
        self.data["classification"] = {
            **self.template("classification"),
            **_risk(rng),
            "level": "critical" if critical else rng.choice(["minor", "major"]),
            "classified_on": self.ctx.today.isoformat(),
        }

    def findings(self) -> None:
        ctx = self.ctx
        for name in ("root_cause", "product_impact", "patient_impact"):
            path = f"investigation.{name}"
            self.data["investigation"][name] = ctx.writer.paragraph(path, ctx.today, ctx.pick_id)
        if "external_reporting" in self.source:
            self.data["external_reporting"] = [
                {**item, "deadline": ctx.stamp(-24), "done_at": ctx.stamp(ctx.rng.uniform(0, 2))}
                for item in self.source["external_reporting"]
            ]

    def decide(self) -> None:
        """The CAPA decision: the linked CAPA when one was opened, else why none is needed."""
        ctx = self.ctx
        if self.capa_id is None:
            if self.data["classification"]["level"] == "critical":
                self.data["classification"]["level"] = "major"  # critical needs a CAPA
            rationale = ctx.rng.choice(NO_CAPA)
        else:
            rationale = ctx.writer.paragraph("capa_decision.rationale", ctx.today, ctx.pick_id)
            self.data["capa"] = [self.capa_id]
        self.data["capa_decision"] = {"required": self.capa_id is not None, "rationale": rationale}

    def report(self, archetype: Archetype, owner: str) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        kind = archetype.data["type"]
        found = rng.uniform(0.5, 20)
        events = DEVIATION_EVENTS.get(kind, ("Deviation affecting",))
        self.data = {
            "id": self.id,
            "title": title(rng, events, DEVIATION_OBJECTS, CONTEXTS),
            "type": kind,
            "state": "reported",
            "occurred_at": ctx.stamp(found + rng.uniform(0, 48)),
            "discovered_at": ctx.stamp(found),
            "reported_at": ctx.stamp(),
            "reported_by": self.source.get("reported_by", "QA officer"),
            "owner": owner,
            "area": rng.choice(list(ctx.team.config.areas)),
            "patient_involved": bool(archetype.data.get("patient_involved")),
            "description": self.source["description"],
            "immediate_actions": self.source["immediate_actions"],
            "sops": sorted({x for x in (ctx.pick_id("SOP"), ctx.pick_id("SOP")) if x}),
        }
        if "product" in self.source:
            product = dict(self.source["product"])
            prefix = rng.choice(["AUR19", "CV", "GTX", "ALG"])
            product["batch"] = f"{prefix}-{rng.randrange(10**6):06d}"
            if "coi" in product:
                product["coi"] = f"COI-SAU-{rng.randrange(10**6):06d}"
            self.data["product"] = product
            self.data["title"] += f", batch {product['batch']}"
        for block in ("excursion", "adverse_reaction", "oos"):
            if block in self.source:
                self.data[block] = self.dated(dict(self.source[block]))

    def dated(self, block: dict[str, Any]) -> dict[str, Any]:
        """Date-times of a type block set around the discovery, in order."""
        for name in ("onset_at", "physician_accepted_at", "sponsor_notified_at"):
            if name in block:
                block[name] = self.ctx.stamp(self.ctx.rng.uniform(0, 0.4))
        return block
