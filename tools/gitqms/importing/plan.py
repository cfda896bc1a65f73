"""`qms import`, planned: every legacy row or document built, validated and reported before
anything is written (write.py then writes all of it, or nothing)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .. import __version__
from ..actions.new import next_id
from ..errors import QmsError
from ..records.config import QmsConfig
from ..records.document import parse_document, read_text
from ..records.kinds import BY_NAME, KINDS, PLACEHOLDER, Kind
from ..records.migration import MIGRATION_FIELD
from ..records.repository import RecordFile, Repository
from ..safeyaml import LoadError
from ..validation.record_checks import Context
from ..validation.run import check_record_text
from ..validation.schemas import schema_problems
from .docx import read_docx
from .emit import record_yaml
from .fields import field_for, normalise
from .gaps import Column, FileReport, Gap, ImportReport, Outcome, render_markdown
from .request import ImportRequest, check_request
from .rows import PLACEHOLDER_TEXT, TEXT_FIELDS, RowContext, build_row, identifier_kind, set_path
from .sops import build_sop
from .sources import read_source
from .tables import Cell, Row, is_blank, read_table
from .values import text_of

TOOL = f"gitqms {__version__}"
REPORT_FOLDER = "imports"


@dataclass
class ImportPlan:
    report: ImportReport
    files: dict[str, str] = field(default_factory=dict)  # repository path -> text
    records: dict[str, str] = field(default_factory=dict)  # record ID -> repository path


SourceKey = tuple[str, str | None, int | None]  # the source file's SHA-256, sheet, row


def _existing_migrations(
    repo: Repository,
) -> tuple[dict[str, dict[str, str]], dict[SourceKey, str]]:
    """Legacy ID -> record ID of every record migrated before, per kind; and the source row
    (or document) -> record ID, so that a re-run of a log without legacy IDs is refused too."""
    found: dict[str, dict[str, str]] = {kind.name: {} for kind in KINDS}
    rows: dict[SourceKey, str] = {}
    for file in repo.layout().records:
        try:
            text = read_text(repo.root, file.path)
            data = parse_document(file.path, text, markdown=file.kind.suffix == ".md").data
        except LoadError:
            continue
        block = data.get(MIGRATION_FIELD) if isinstance(data, dict) else None
        if not isinstance(block, dict):
            continue
        legacy = block.get("legacy_id")
        if isinstance(legacy, str):
            found.setdefault(file.kind.name, {}).setdefault(legacy, file.id)
        if isinstance(block.get("sha256"), str):
            key = (str(block["sha256"]), block.get("sheet"), block.get("row"))
            rows.setdefault(key, file.id)
    return found, rows


class Allocator:
    """New IDs from the same allocator as `qms new`, counted on in memory for one import."""

    def __init__(self, repo: Repository, kind: Kind) -> None:
        self.repo, self.kind = repo, kind
        self.next: dict[int, int] = {}

    def peek(self, year: int) -> str:
        if year not in self.next:
            first = next_id(self.repo, self.kind, year)
            match = self.kind.id_pattern.fullmatch(first)
            assert match is not None
            self.next[year] = int(match["number"])
        if self.next[year] > 9999:
            raise QmsError(f"all {self.kind.label} numbers for {year} are used")
        return self.kind.format_id(self.next[year], year)

    def take(self, year: int) -> None:
        self.next[year] += 1


def plan_import(
    repo: Repository, config: QmsConfig, request: ImportRequest, now: datetime
) -> ImportPlan:
    """Read, build and validate every row or document; nothing is written."""
    check_request(request)
    kind = BY_NAME[request.kind]
    today = now.date().isoformat()
    report = ImportReport(kind=request.kind, imported_on=today, tool=TOOL, dry_run=True)
    plan = ImportPlan(report)
    migrated, migrated_rows = _existing_migrations(repo)
    layout_ids = {record.id for record in repo.layout().records}
    allocator = Allocator(repo, kind)
    sources = [
        read_source(path, (".docx",) if kind.is_document else (".xlsx", ".csv"))
        for path in request.files
    ]
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise QmsError("two of the files have the same name; the migration record names files")
    for number, name in enumerate(names, start=1):
        found = identifier_kind(name, config)
        if found is not None:  # the name is not repeated: it may itself be the identifier
            raise QmsError(
                f"the name of file {number} of {len(names)} looks like it holds a patient "
                f"identifier ({found}); every migrated record and the report would store it",
                hint="rename the file (a copy) without the identifier, then import it",
            )
    state = _PlanState(
        repo=repo,
        config=config,
        request=request,
        now=now,
        plan=plan,
        migrated=migrated,
        ids=layout_ids,
        allocator=allocator,
        rows=migrated_rows,
    )
    for source in sources:
        if kind.is_document:
            state.sop(source)
        else:
            state.log(source)
    report.report_path = report_path(repo, request.kind, sources[0].path.stem, today)
    plan.files[report.report_path] = render_markdown(report)
    return plan


def report_path(repo: Repository, kind: str, stem: str, today: str) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:60] or "source"
    base = f"{REPORT_FOLDER}/gap-analysis-{today}-{kind}-{name}"
    path, number = f"{base}.md", 1
    while (repo.root / path).exists():
        number += 1
        path = f"{base}-{number}.md"
    return path


@dataclass(kw_only=True)
class _PlanState:
    repo: Repository
    config: QmsConfig
    request: ImportRequest
    now: datetime
    plan: ImportPlan
    migrated: dict[str, dict[str, str]]
    ids: set[str]
    allocator: Allocator
    seen: dict[str, str] = field(default_factory=dict)  # legacy ID -> where first seen
    rows: dict[SourceKey, str] = field(default_factory=dict)  # migrated before -> record ID

    @property
    def kind(self) -> Kind:
        return BY_NAME[self.request.kind]

    def _migration(self, source: Any, **where: Any) -> dict[str, Any]:
        block: dict[str, Any] = {"source": source.name, "sha256": source.sha256}
        block.update({k: v for k, v in where.items() if v is not None})
        block["imported"] = self.now.date().isoformat()
        block["tool"] = TOOL
        return block

    def _duplicate(
        self, outcome: Outcome, legacy: str | None, where: str, key: SourceKey | None = None
    ) -> bool:
        again = self.rows.get(key) if key is not None else None
        if legacy is None and again is not None:  # a log without legacy IDs, imported again
            outcome.refused.append(f"already migrated as {again} from this very source")
            outcome.gaps.append(Gap("duplicate", None, None, f"already {again}"))
            return True
        if legacy is None:
            return False
        earlier = self.migrated[self.kind.name].get(legacy)
        if earlier is not None:
            outcome.refused.append(f"legacy ID already migrated as {earlier}")
            outcome.gaps.append(Gap("duplicate", "legacy_id", None, f"already {earlier}"))
            return True
        if legacy in self.seen:
            outcome.refused.append(f"duplicate legacy ID: first seen at {self.seen[legacy]}")
            outcome.gaps.append(Gap("duplicate", "legacy_id", None, f"also at {self.seen[legacy]}"))
            return True
        self.seen[legacy] = where
        return False

    # -- SOP documents ------------------------------------------------------------------

    def sop(self, source: Any) -> None:
        file = FileReport(source=source.name, sha256=source.sha256)
        self.plan.report.files.append(file)
        legacy = read_docx(source)
        private = sorted(k for k, v in legacy.fields.items() if identifier_kind(v, self.config))
        if private:  # never repeated, not even as the legacy ID in the report
            file.outcomes.append(
                Outcome(
                    None,
                    None,
                    refused=[
                        f"the document's {', '.join(private)} looks like it holds a patient "
                        "identifier; it is not stored, so the document is not imported"
                    ],
                    gaps=[Gap("privacy", None, None, "patient identifier; not repeated")],
                )
            )
            return
        built = build_sop(legacy, self.config, dict(self.request.defaults), self.request.order)
        outcome = Outcome(None, built.legacy_id, refused=built.refused, gaps=built.gaps)
        file.outcomes.append(outcome)
        key = (source.sha256, None, None)
        if self._duplicate(outcome, built.legacy_id, source.name, key) or outcome.refused:
            return
        record_id = self.allocator.peek(0)
        data = {"id": record_id, **built.data}
        version = data.get("version")
        if isinstance(version, int) and version >= 2:
            data["supersedes"] = f"{record_id} v{version - 1}"
        migration = self._migration(source, legacy_id=built.legacy_id)
        if built.approvals:
            migration["legacy_approval"] = built.approvals
        data[MIGRATION_FIELD] = migration
        front = record_yaml(self.kind.name, data)
        title = str(data["title"])
        body = f"# {title}\n\n{built.body}" if title != PLACEHOLDER_TEXT else built.body
        self._accept(outcome, record_id, 0, f"---\n{front}---\n\n{body}")

    # -- CAPA and deviation logs -----------------------------------------------------------

    def _field(self, header: str) -> str | None:
        override = self.request.columns.get(normalise(header))
        if override is not None:
            return None if override == "-" else override
        spec = field_for(self.kind.name, header)
        return spec.path if spec else None

    def log(self, source: Any) -> None:
        kind = self.kind.name
        table = read_table(source, self.request.sheet, lambda h: self._field(h) is not None)
        file = FileReport(
            source=source.name,
            sha256=source.sha256,
            sheet=table.sheet,
            encoding=table.encoding,
            delimiter=table.delimiter,
            header_row=table.header_row,
        )
        if table.sheet is not None and identifier_kind(table.sheet, self.config) is not None:
            raise QmsError(
                f"{source.path}: the name of the sheet to import looks like it holds a patient "
                "identifier; every migrated record and the report would store it",
                hint="rename the sheet (in a copy of the file), then import it",
            )
        file.other_sheets = [
            "(a sheet whose name looks like a patient identifier)"
            if identifier_kind(name, self.config)
            else name
            for name in table.other_sheets
        ]
        self.plan.report.files.append(file)
        mapping: dict[int, str] = {}
        for index, header in enumerate(table.headers):
            path = self._field(header) if header else None
            shown = header if identifier_kind(header, self.config) is None else "(header hidden)"
            column = Column(shown, path)
            if path is not None and path in mapping.values():
                column.field, column.note = None, f"a second column for {path}; not imported"
            elif path is not None:
                mapping[index] = path
            column.filled = sum(
                1 for r in table.rows if index < len(r.cells) and not is_blank(r.cells[index])
            )
            if column.field is None:
                hits = {
                    identifier_kind(text_of(r.cells[index]), self.config)
                    for r in table.rows
                    if index < len(r.cells)
                } - {None}
                column.note = column.note or (
                    "holds what look like patient identifiers; never imported"
                    if hits
                    else "no field of the record; its values are not imported"
                )
            file.columns.append(column)
        ctx = RowContext(
            kind,
            self.config,
            frozenset(self.ids),
            self._linked_legacy(),
            self.request.order,
            dict(self.request.defaults),
        )
        for row in table.rows:
            if row.blank:
                file.blank_rows.append(row.number)
                continue
            if self._unreadable_row(file, table.headers, row, mapping):
                continue
            cells: dict[str, tuple[str, Cell]] = {
                path: (table.headers[index], row.cells[index])
                for index, path in mapping.items()
                if index < len(row.cells)
            }
            self._row(file, row.number, cells, ctx, source, table.sheet)

    def _linked_legacy(self) -> dict[str, str]:
        """Legacy ID -> record ID of the records migrated before whose kinds this kind links
        to both ways (a CAPA's deviations, a deviation's CAPA): what a legacy reference means."""
        linked = dict.fromkeys(
            name for link in self.kind.declared.links if link.back for name in link.to
        )
        return {
            legacy: record
            for name in linked
            for legacy, record in self.migrated.get(name, {}).items()
        }

    def _unreadable_row(
        self, file: FileReport, headers: list[str], row: Row, mapping: dict[int, str]
    ) -> bool:
        """A row whose values cannot be trusted to sit under their headers, or cannot be read."""
        why = []
        beyond = [i + 1 for i in range(len(headers), len(row.cells)) if not is_blank(row.cells[i])]
        if beyond:
            why.append(
                f"a value in column {beyond[0]}, right of the last header column: the values "
                "may be shifted (a separator inside an unquoted value?); correct the file"
            )
        mapped = any(index in mapping for index in row.uncomputed)
        if mapped or (row.uncomputed and all(is_blank(cell) for cell in row.cells)):
            named = ", ".join(f"'{headers[i] or f'column {i + 1}'}'" for i in row.uncomputed)
            why.append(
                f"{named}: a formula whose value was never calculated (the file was not last "
                "saved by a spreadsheet program); open it in Excel or LibreOffice, save it, and "
                "import it again"
            )
        if why:
            file.outcomes.append(Outcome(row.number, None, refused=why))
        return bool(why)

    def _row(
        self,
        file: FileReport,
        number: int,
        cells: dict[str, tuple[str, Cell]],
        ctx: RowContext,
        source: Any,
        sheet: str | None,
    ) -> None:
        built = build_row(cells, ctx)
        outcome = Outcome(number, built.legacy_id, refused=built.refused, gaps=built.gaps)
        file.outcomes.append(outcome)
        key = (source.sha256, sheet, number)
        if self._duplicate(outcome, built.legacy_id, f"row {number}", key) or outcome.refused:
            return
        year = built.year or self.now.year
        record_id = self.allocator.peek(year)
        data: dict[str, Any] = {"id": record_id, **built.data}
        data[MIGRATION_FIELD] = self._migration(
            source, sheet=sheet, row=number, legacy_id=built.legacy_id
        )
        self._fill_placeholders(data, outcome)
        machine = self.config.lifecycles.machines[self.kind.name]
        text = record_yaml(self.kind.name, data)
        if data.get("state") in machine.closed and PLACEHOLDER in text:
            missing = sorted({g.field or "?" for g in outcome.gaps if g.kind == "placeholder"})
            outcome.refused.append(
                f"a {data['state']} record is not edited after migration, so it cannot be "
                f"completed later; the source lacks: {', '.join(missing) or 'text fields'}"
            )
            return
        self._accept(outcome, record_id, year, text)

    def _fill_placeholders(self, data: dict[str, Any], outcome: Outcome) -> None:
        """Required text the source lacks: visible template text that validation flags."""
        for _ in range(5):
            filled = False
            for problem in schema_problems(self.kind.name, data):
                match = re.match(r"missing field '([^']+)'", problem.message)
                if problem.code != "schema.required" or not match:
                    continue
                path = match.group(1)
                parent = path.rpartition(".")[0]
                if path in TEXT_FIELDS and (not parent or isinstance(data.get(parent), dict)):
                    set_path(data, path, PLACEHOLDER_TEXT)
                    outcome.gaps.append(
                        Gap("placeholder", path, None, "required; not in the source")
                    )
                    filled = True
            if not filled:
                return

    def _accept(self, outcome: Outcome, record_id: str, year: int, text: str) -> None:
        kind = self.kind
        path = f"{kind.folder}/{record_id}{kind.suffix}"
        ids = {i: i for i in (*self.ids, record_id)}
        _, _, findings = check_record_text(
            RecordFile(kind, path, record_id), text, Context(self.config, ids, self.now)
        )
        errors = [f for f in findings if f.severity == "error"]
        private = [f for f in errors if f.code == "privacy.patient-identifier"]
        if private:
            outcome.refused.append(
                "the record would store what looks like a patient identifier "
                f"({private[0].message.rpartition('(')[2].rstrip(')')}); it is not imported"
            )
            outcome.gaps.append(Gap("privacy", None, None, "patient identifier; not repeated"))
            return
        if errors:
            outcome.refused += [f"{f.message} [{f.code}]" for f in errors]
            return
        for finding in findings:
            if finding.code not in ("placeholder",):
                outcome.gaps.append(Gap("note", None, None, f"{finding.message} [{finding.code}]"))
        self.allocator.take(year)
        self.ids.add(record_id)
        outcome.record_id, outcome.path = record_id, path
        self.plan.files[path] = text
        self.plan.records[record_id] = path
